"""Samplers, dataset helpers and default_collate."""
from collections import Counter, namedtuple

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minicv.data import (BatchSampler, ClassBalancedSampler, ConcatDataset,
                         DistributedSampler, RandomSampler, SequentialSampler, Subset,
                         SubsetRandomSampler, TensorDataset, WeightedRandomSampler,
                         default_collate, random_split)
from minicv.tensor import Tensor


def test_sequential_and_random_sampler():
    data = range(10)
    assert list(SequentialSampler(data)) == list(range(10))
    s = RandomSampler(data, generator=0)
    a, b = list(s), list(s)
    assert sorted(a) == list(range(10)) and a != b           # new permutation per epoch
    assert list(RandomSampler(data, generator=0)) == a        # int seed repeats
    rep = list(RandomSampler(data, replacement=True, num_samples=50, generator=1))
    assert len(rep) == 50 and max(rep) < 10 and len(set(rep)) < 50
    long = list(RandomSampler(data, num_samples=25, generator=2))
    assert Counter(long[:20]) == Counter(list(range(10)) * 2)
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(data, num_samples=0)


def test_subset_and_weighted_samplers():
    sub = list(SubsetRandomSampler([3, 5, 7], generator=0))
    assert sorted(sub) == [3, 5, 7]
    w = WeightedRandomSampler([0.0, 1.0, 3.0], num_samples=4000, generator=0)
    counts = Counter(w)
    assert counts[0] == 0 and 0.7 < counts[2] / 4000 < 0.8
    no_rep = list(WeightedRandomSampler([1, 1, 0, 1], 3, replacement=False, generator=0))
    assert sorted(no_rep) == [0, 1, 3]
    with pytest.raises(ValueError, match="without replacement"):
        WeightedRandomSampler([1, 0], 2, replacement=False)
    with pytest.raises(ValueError, match="non-negative"):
        WeightedRandomSampler([1, -1], 2)


def test_batch_sampler_lengths():
    bs = BatchSampler(SequentialSampler(range(10)), 4, drop_last=False)
    assert list(bs) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] and len(bs) == 3
    bs = BatchSampler(SequentialSampler(range(10)), 4, drop_last=True)
    assert len(list(bs)) == len(bs) == 2


def test_class_balanced_sampler_over_and_under():
    labels = np.array([0] * 10 + [1] * 3 + [2] * 5)
    over = list(ClassBalancedSampler(labels, mode="over", generator=0))
    assert len(over) == 30
    assert Counter(labels[over]) == {0: 10, 1: 10, 2: 10}
    assert set(np.flatnonzero(labels == 1)) <= set(over)      # every sample kept
    under = list(ClassBalancedSampler(labels, mode="under", generator=0))
    assert Counter(labels[under]) == {0: 3, 1: 3, 2: 3} and len(set(under)) == 9


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 60), world=st.integers(1, 5), drop_last=st.booleans(),
       shuffle=st.booleans(), epoch=st.integers(0, 3))
def test_distributed_sampler_shards(n, world, drop_last, shuffle, epoch):
    samplers = [DistributedSampler(range(n), num_replicas=world, rank=r, shuffle=shuffle,
                                   seed=4, drop_last=drop_last) for r in range(world)]
    for s in samplers:
        s.set_epoch(epoch)
    shards = [list(s) for s in samplers]
    assert len({len(sh) for sh in shards}) == 1              # equal length on every rank
    assert all(len(sh) == len(s) for sh, s in zip(shards, samplers))
    flat = [i for sh in shards for i in sh]
    if n % world == 0 or drop_last:
        assert len(flat) == len(set(flat))                    # disjoint
    if not drop_last:
        assert set(flat) == set(range(n))                     # covering (padding repeats)
    else:
        assert len(flat) == (n // world) * world


def test_distributed_sampler_reshuffles_each_epoch_even_without_set_epoch():
    s = DistributedSampler(range(40), world_size=2, rank=0, seed=1)
    e0, e1 = list(s), list(s)
    assert e0 != e1
    t = DistributedSampler(range(40), world_size=2, rank=0, seed=1)
    t.set_epoch(1)
    assert list(t) == e1 and list(t) == e1                    # pinned epoch repeats
    with pytest.raises(ValueError, match="rank"):
        DistributedSampler(range(4), num_replicas=2, rank=2)


def test_dataset_helpers():
    ds = TensorDataset(np.arange(10).reshape(5, 2), np.arange(5))
    x, y = ds[2]
    assert x.tolist() == [4, 5] and y == 2
    with pytest.raises(ValueError, match="differ in length"):
        TensorDataset(np.zeros(3), np.zeros(4))
    cat = ConcatDataset([ds, ds])
    assert len(cat) == 10 and cat[7][1] == 2 and cat[-1][1] == 4
    with pytest.raises(IndexError):
        cat[10]
    sub = Subset(ds, [4, 0])
    assert len(sub) == 2 and sub[0][1] == 4
    a, b = random_split(ds, [3, 2], generator=0)
    assert sorted(a.indices + b.indices) == list(range(5))
    a, b = random_split(range(10), [0.7, 0.3], generator=0)
    assert (len(a), len(b)) == (7, 3)
    with pytest.raises(ValueError, match="does not equal"):
        random_split(ds, [3, 3])


def test_default_collate_rules():
    Pair = namedtuple("Pair", "a b")
    out = default_collate([Pair(1, 0.5), Pair(2, 1.5)])
    assert isinstance(out, Pair) and out.a.dtype == np.int64
    assert out.b.dtype == np.float32                      # minicv: float32, not float64
    d = default_collate([{"x": np.ones((2, 2), np.uint8), "s": "a"},
                         {"x": np.zeros((2, 2), np.uint8), "s": "b"}])
    assert isinstance(d["x"], Tensor) and d["x"].shape == (2, 2, 2) and d["s"] == ["a", "b"]
    assert default_collate([np.float64(1), np.float64(2)]).dtype == np.float64
    assert default_collate([True, False]).dtype == np.bool_
    ragged = default_collate([np.zeros((1, 4)), np.zeros((3, 4))])
    assert [t.shape for t in ragged] == [(1, 4), (3, 4)]
    with pytest.raises(TypeError, match="ToTensor"):
        default_collate([object(), object()])
