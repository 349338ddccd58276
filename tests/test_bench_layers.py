"""`minicv bench layers` runs (minicv alone without PyTorch; with it, the same weights)."""
from minicv.bench.layers import CASES, bench_layers


def test_layers_bench_gives_a_row_per_case():
    rows = bench_layers(repeats=1)
    assert [r["case"] for r in rows] == list(CASES)
    assert all(r["minicv_ms"] > 0 for r in rows)
    assert all((r["ratio"] is None) == (r["torch_ms"] is None) for r in rows)
