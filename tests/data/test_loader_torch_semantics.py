"""Data-loading details found by the differential review against PyTorch 2.13."""
import collections

import numpy as np
import pytest

import minicv as mc
import minicv.data as md
from minicv.data.collate import default_collate


def test_random_split_reads_mixed_lengths_summing_to_one_as_fractions():
    assert [len(s) for s in md.random_split(range(10), [1, 0.0])] == [10, 0]
    assert [len(s) for s in md.random_split(range(10), [0.5, 0.5])] == [5, 5]


def test_batch_size_none_and_drop_last_exclude_each_other():
    with pytest.raises(ValueError, match="mutually exclusive with drop_last"):
        md.DataLoader(list(range(10)), batch_size=None, drop_last=True)


def test_strings_in_tuples_collate_to_tuples_as_in_pytorch():
    point = collections.namedtuple("point", "name value")
    assert default_collate([[("a",)], [("b",)]]) == [[("a", "b")]]
    batch = default_collate([point("x", 1), point("y", 2)])
    assert batch.name == ("x", "y") and batch.value.tolist() == [1, 2]
    assert default_collate(["a", "b"]) == ["a", "b"]


def test_numpy_scalars_keep_their_type_through_save_and_load(tmp_path):
    obj = {"f64": np.float64(0.5), "f32": np.float32(0.25), "i64": np.int64(3), "py": 1.5}
    mc.save(obj, tmp_path / "s.mc")
    back = mc.load(tmp_path / "s.mc")
    assert {k: type(v) for k, v in back.items()} == {k: type(v) for k, v in obj.items()}
    assert back == obj


def test_a_script_without_main_guard_gets_a_clear_error(tmp_path):
    # PyTorch forks on Linux, so its scripts often lack the guard; minicv's forkserver
    # workers import the script, whose top-level loop then tries to start workers again
    import os
    import subprocess
    import sys
    script = tmp_path / "unguarded.py"
    script.write_text("import minicv as mc\n"
                      "from minicv.data import DataLoader, TensorDataset\n"
                      "ds = TensorDataset(mc.arange(8.))\n"
                      "for batch in DataLoader(ds, batch_size=4, num_workers=1):\n"
                      "    pass\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120, env=env, cwd=tmp_path)
    assert run.returncode != 0
    assert 'no `if __name__ == "__main__":` guard' in run.stderr
