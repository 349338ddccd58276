"""`minicv bench modules` runs every case (batch 1, one repeat; with PyTorch when installed)."""
from minicv.bench.modules import CASES, LOSS_CASES, bench_losses, bench_modules, case_name


def test_modules_bench_gives_a_row_per_case():
    rows = bench_modules(repeats=1, batch=1)
    assert len(rows) == len(CASES)
    assert all(r["minicv_ms"] > 0 for r in rows)
    assert all((r["ratio"] is None) == (r["torch_ms"] is None) for r in rows)


def test_case_names_read_as_python_calls():
    assert case_name("LeakyReLU", (0.1,), {}, (2, 3)) == "LeakyReLU(0.1) (2, 3)"
    assert (case_name("Conv2d", (4, 8, 3), {"stride": 2}, [1, 4, 5, 5])
            == "Conv2d(4, 8, 3, stride=2) (1, 4, 5, 5)")


def test_cases_can_be_picked_by_class():
    rows = bench_modules(repeats=1, batch=1, cases=("Tanh",))
    assert [r["case"] for r in rows] == ["Tanh() (1, 64, 32, 32)"]


def test_losses_bench_gives_a_row_per_case():
    rows = bench_losses(repeats=1, batch=2)
    assert len(rows) == len(LOSS_CASES)
    assert all(r["minicv_ms"] > 0 for r in rows)
