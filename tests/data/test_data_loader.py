"""DataLoader: coverage and order, workers, seeding, faults and clean shutdown."""
import multiprocessing
import os
import pickle
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import minicv as mc
from minicv.data import DataLoader, TensorDataset
from minicv.tensor import Tensor

from loader_helpers import (Draws, FailAt, KillAt, Ragged, Range, Slow, Stream, Threads,
                            init_marker)


def _indices(loader):
    out = []
    for x, y in loader:
        assert isinstance(x, Tensor) and x.dtype == np.int64
        assert np.array_equal(x.data[:, 0], y.data)
        out.extend(y.data.tolist())
    return out


def _no_shm_left():
    return [n for n in os.listdir("/dev/shm") if n.startswith(f"mcv{os.getpid():x}")]


# ----------------------------------------------------------------------------- single process

def test_sequential_batches_cover_every_index_in_order():
    loader = DataLoader(Range(10), batch_size=3)
    batches = [y.data.tolist() for _, y in loader]
    assert batches == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert len(loader) == 4
    assert [y.data.tolist() for _, y in DataLoader(Range(10), 3, drop_last=True)] == \
        [[0, 1, 2], [3, 4, 5], [6, 7, 8]]


def test_shuffle_is_a_permutation_that_changes_per_epoch_and_repeats_under_seed():
    loader = DataLoader(Range(50), batch_size=7, shuffle=True, seed=3)
    e1, e2 = _indices(loader), _indices(loader)
    assert sorted(e1) == list(range(50)) and sorted(e2) == list(range(50))
    assert e1 != list(range(50)) and e1 != e2
    again = DataLoader(Range(50), batch_size=7, shuffle=True, seed=3)
    assert _indices(again) == e1 and _indices(again) == e2


def test_global_seed_controls_shuffle():
    mc.manual_seed(11)
    a = _indices(DataLoader(Range(30), batch_size=4, shuffle=True))
    mc.manual_seed(11)
    b = _indices(DataLoader(Range(30), batch_size=4, shuffle=True))
    assert a == b and sorted(a) == list(range(30))


def test_batch_size_none_converts_without_stacking():
    x, y = next(iter(DataLoader(Range(3), batch_size=None)))
    assert isinstance(x, Tensor) and x.shape == (2,) and y == 0


def test_default_collate_dtypes_and_ragged_targets():
    ds = TensorDataset(np.zeros((4, 2), np.float32), np.arange(4))
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert x.dtype == np.float32 and x.shape == (4, 2) and y.dtype == np.int64
    batch = next(iter(DataLoader(Ragged(), batch_size=3)))
    assert batch["image"].shape == (3, 3, 4, 4)
    assert [b.shape for b in batch["boxes"]] == [(0, 4), (1, 4), (2, 4)]
    assert batch["name"] == ["img0", "img1", "img2"]


@pytest.mark.parametrize("kwargs, words", [
    ({"batch_size": 0}, "batch_size"),
    ({"num_workers": -1}, "num_workers"),
    ({"shuffle": True, "sampler": [0, 1]}, "mutually exclusive"),
    ({"persistent_workers": True}, "num_workers > 0"),
    ({"timeout": -1}, "timeout"),
    ({"prefetch_factor": 0}, "prefetch_factor"),
])
def test_bad_arguments_raise_naming_them(kwargs, words):
    with pytest.raises(ValueError, match=words):
        DataLoader(Range(4), **kwargs)


def test_empty_dataset_raises_naming_it():
    with pytest.raises(ValueError, match=r"empty dataset: Range has length 0"):
        DataLoader(Range(0), batch_size=2)
    with pytest.raises(ValueError, match=r"TensorDataset\(\(0, 3\)\)"):
        DataLoader(TensorDataset(np.zeros((0, 3))))


def test_fork_is_refused():
    with pytest.raises(ValueError, match="fork"):
        iter(DataLoader(Range(4), num_workers=1, multiprocessing_context="fork"))


def test_unpicklable_transform_is_reported_before_workers_start():
    ds = Range(8)
    ds.transform = [lambda x: x]
    before = set(multiprocessing.active_children())
    with pytest.raises(TypeError) as info:
        iter(DataLoader(ds, batch_size=2, num_workers=2))
    msg = str(info.value)
    assert "dataset.transform[0]" in msg and "<lambda>" in msg and "module level" in msg
    assert set(multiprocessing.active_children()) == before        # nothing was started


# ----------------------------------------------------------------------------- workers

def test_workers_preserve_order_and_match_single_process_shuffle():
    ref = _indices(DataLoader(Range(37), batch_size=4, shuffle=True, seed=5))
    got = _indices(DataLoader(Range(37), batch_size=4, shuffle=True, seed=5, num_workers=2,
                              prefetch_factor=3))
    assert got == ref
    seq = _indices(DataLoader(Range(23), batch_size=5, num_workers=2))
    assert seq == list(range(23))
    assert not _no_shm_left()


def test_iterable_dataset_split_by_worker_info_and_ragged_collate():
    got = sorted(y for b in DataLoader(Stream(11), batch_size=2, num_workers=2)
                 for y in b.data.tolist())
    assert got == list(range(11))
    batches = list(DataLoader(Ragged(), batch_size=3, num_workers=2))
    assert [len(b["boxes"]) for b in batches] == [3, 3]
    assert batches[1]["name"] == ["img3", "img4", "img5"]
    assert batches[1]["image"].data[:, 0, 0, 0].tolist() == [3, 4, 5]


def test_workers_run_with_one_thread_each():
    rows = next(iter(DataLoader(Threads(), batch_size=2, num_workers=1))).data
    assert rows.tolist() == [[1, 1, 1, 1], [1, 1, 1, 1]]


def test_persistent_workers_restart_an_iterable_dataset_each_epoch():
    loader = DataLoader(Stream(7), batch_size=2, num_workers=2, persistent_workers=True)
    for _ in range(2):
        assert sorted(v for b in loader for v in b.data.tolist()) == list(range(7))
    loader._pool.shutdown()


def _draws(loader):
    return np.concatenate([b.data for b in loader])           # rows: wid, np, random, mc


def test_worker_random_numbers_differ_across_workers_and_epochs_and_repeat():
    loader = DataLoader(Draws(8), batch_size=2, num_workers=2, seed=7,
                        persistent_workers=True)
    e1, e2 = _draws(loader), _draws(loader)
    assert sorted(set(e1[:, 0])) == [0, 1]
    for col in (1, 2, 3):                                     # NumPy, random, minicv
        values = np.concatenate([e1[:, col], e2[:, col]])
        assert len(np.unique(values)) == 16, col              # all 16 draws distinct
    again = DataLoader(Draws(8), batch_size=2, num_workers=2, seed=7)
    assert np.array_equal(_draws(again), e1) and np.array_equal(_draws(again), e2)
    loader._pool.shutdown()


def test_manual_seed_makes_worker_draws_repeat():
    mc.manual_seed(123)
    a = _draws(DataLoader(Draws(4), batch_size=2, num_workers=2))
    mc.manual_seed(123)
    b = _draws(DataLoader(Draws(4), batch_size=2, num_workers=2))
    assert np.array_equal(a, b)


def test_worker_init_fn_runs_after_seeding():
    rows = _draws(DataLoader(Draws(2), batch_size=1, num_workers=2, worker_init_fn=init_marker))
    for wid, value in rows[:, :2]:
        assert value == np.random.RandomState(1000 + int(wid)).random_sample()


def test_worker_exception_is_reraised_with_index_and_traceback():
    loader = DataLoader(FailAt(20, 7), batch_size=4, num_workers=2)
    with pytest.raises(ValueError) as info:
        list(loader)
    msg = str(info.value)
    assert "DataLoader worker" in msg and "sample index 7" in msg
    assert "broken on purpose" in msg and "loader_helpers.py" in msg
    assert "Traceback" in msg


def test_sigkilled_worker_is_detected_within_seconds():
    loader = DataLoader(KillAt(64, 9), batch_size=2, num_workers=2)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"killed by signal SIGKILL"):
        list(loader)
    assert time.monotonic() - start < 5.0
    assert not multiprocessing.active_children()
    assert not _no_shm_left()


def test_timeout_raises_saying_how_long_it_waited():
    loader = DataLoader(Slow(4, 3.0), batch_size=1, num_workers=1, timeout=0.5)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"timed out after 0\.\d+ s \(timeout=0.5\)"):
        next(iter(loader))
    assert time.monotonic() - start < 3.0


def test_persistent_workers_survive_an_abandoned_epoch():
    loader = DataLoader(Range(30), batch_size=3, num_workers=2, persistent_workers=True)
    it = iter(loader)
    next(it)
    del it                                           # abandoned mid-epoch
    assert _indices(loader) == list(range(30))       # stale batches were discarded
    pool = loader._pool
    pids = [p.pid for p in pool.processes]
    assert _indices(loader) == list(range(30))
    assert [p.pid for p in loader._pool.processes] == pids       # same workers reused
    pool.shutdown()
    assert not any(p.is_alive() for p in pool.processes)
    assert not _no_shm_left()


_ABANDON = textwrap.dedent("""
    import gc, os, sys
    sys.path.insert(0, {here!r})
    import numpy as np
    from minicv.data import DataLoader
    from loader_helpers import Range
    if __name__ == "__main__":
        it = iter(DataLoader(Range(400), batch_size=8, num_workers=2, prefetch_factor=4))
        next(it)
        pool = it.pool
        del it
        gc.collect()
        prefix = "mcv%x" % os.getpid()
        print("alive", sum(p.is_alive() for p in pool.processes))
        print("shm", len([n for n in os.listdir("/dev/shm") if n.startswith(prefix)]))
""")


def test_abandoned_iterator_shuts_down_cleanly(tmp_path):
    script = tmp_path / "abandon.py"
    script.write_text(_ABANDON.format(here=os.path.dirname(os.path.abspath(__file__))))
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    assert "alive 0" in res.stdout and "shm 0" in res.stdout
    assert "leaked" not in res.stderr and "resource_tracker" not in res.stderr, res.stderr


def test_worker_batches_travel_through_reused_shared_memory():
    from minicv.data import worker
    batch = {"x": Tensor(np.arange(6, dtype=np.float32).reshape(2, 3)), "s": ["a", "b"],
             "y": np.array([1, 2])}
    ring = worker.SegmentRing(f"mcv{os.getpid():x}test", 0)
    reader = worker.SegmentReader()
    skeleton, seg, nbytes, retired = worker.pack(batch, ring)
    assert seg.startswith(f"mcv{os.getpid():x}test_0_") and nbytes >= 6 * 4 + 2 * 8
    assert len(pickle.dumps(skeleton)) < 400                  # arrays are not pickled
    out = reader.unpack(skeleton, seg, nbytes)
    assert isinstance(out["x"], Tensor) and np.array_equal(out["x"].data, batch["x"].data)
    assert np.array_equal(out["y"], [1, 2]) and out["s"] == ["a", "b"] and retired == []
    ring.release([seg])                                       # the parent handed it back
    assert worker.pack(batch, ring)[1] == seg                 # ... so it is reused
    big = {"x": np.zeros(100_000, np.uint8)}
    ring.release([seg])
    _, seg2, _, retired = worker.pack(big, ring)
    assert seg2 != seg and retired == [seg]                   # too small: retired
    reader.drop(retired + [seg2])
    ring.close()
    reader.close()
    assert not _no_shm_left()
