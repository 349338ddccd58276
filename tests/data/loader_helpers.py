"""Datasets used by the loader tests. They live in a plain module (not a test file) so
that worker processes can import them quickly by name."""
import os
import random
import signal
import time

import numpy as np

from minicv.data import Dataset, IterableDataset, get_worker_info


class Range(Dataset):
    """Sample i is (i as int64 array of shape (2,), i)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.array([i, -i], np.int64), i


class FailAt(Range):
    def __init__(self, n, bad):
        super().__init__(n)
        self.bad = bad

    def __getitem__(self, i):
        if i == self.bad:
            raise ValueError(f"sample {i} is broken on purpose")
        return super().__getitem__(i)


class KillAt(Range):
    """The worker that loads ``bad`` SIGKILLs itself (what the OOM killer does)."""

    def __init__(self, n, bad):
        super().__init__(n)
        self.bad = bad

    def __getitem__(self, i):
        if i == self.bad and get_worker_info() is not None:
            os.kill(os.getpid(), signal.SIGKILL)
        return super().__getitem__(i)


class Slow(Range):
    def __init__(self, n, seconds):
        super().__init__(n)
        self.seconds = seconds

    def __getitem__(self, i):
        time.sleep(self.seconds)
        return super().__getitem__(i)


class Draws(Dataset):
    """Each sample: worker id and one draw from np.random, random and minicv's RNG."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        from minicv import backend
        info = get_worker_info()
        return np.array([-1 if info is None else info.id, np.random.random(),
                         random.random(), backend.get_rng().random()])


class Stream(IterableDataset):
    """0..n-1 split across workers by get_worker_info."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))


class Ragged(Dataset):
    """Detection-like samples: image, a variable number of boxes, and a string."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return {"image": np.full((3, 4, 4), i, np.uint8),
                "boxes": np.full((i % 3, 4), i, np.float32), "name": f"img{i}"}


def init_marker(worker_id):
    np.random.seed(1000 + worker_id)        # overrides the loader's seed on purpose


class Threads(Dataset):
    """What a worker sees of its thread limits."""

    def __len__(self):
        return 2

    def __getitem__(self, i):
        import sys
        from minicv import backend
        numba = sys.modules.get("numba")
        numba_threads = numba.config.NUMBA_NUM_THREADS if numba else 1
        return np.array([int(os.environ.get("OMP_NUM_THREADS", "0")),
                         int(os.environ.get("OPENBLAS_NUM_THREADS", "0")),
                         backend.get_num_threads(), numba_threads])
