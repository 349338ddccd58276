"""mc.Generator: PyTorch's private random stream, and every ``generator=`` that takes it."""
import os
import pickle
import sys

import numpy as np
import pytest

import minicv as mc
from minicv.data import (DataLoader, RandomSampler, SubsetRandomSampler, TensorDataset,
                         WeightedRandomSampler, random_split)
from minicv.nn import init

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "data"))


def _g(seed=0):
    return mc.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------- the object

def test_manual_seed_returns_self_and_sets_initial_seed():
    g = mc.Generator()
    assert g.initial_seed() == 67280421310721                 # PyTorch's default
    assert g.manual_seed(5) is g and g.initial_seed() == 5
    assert g.device == mc.device("cpu")
    assert mc.Generator(device="cuda").device.type == "cuda"
    with pytest.raises(ValueError, match="non-negative"):
        g.manual_seed(-1)


def test_seed_draws_a_fresh_seed_and_returns_it():
    g = mc.Generator()
    s1, s2 = g.seed(), g.seed()
    assert isinstance(s1, int) and s1 != s2 and g.initial_seed() == s2
    assert np.array_equal(mc.rand(3, generator=g).numpy(), mc.rand(3, generator=_g(s2)).numpy())


def test_state_round_trips():
    g = _g(3)
    mc.randn(4, generator=g)
    state = g.get_state()
    assert isinstance(state, mc.Tensor) and state.dtype == np.uint8
    a = mc.randn(5, generator=g).numpy()
    g.manual_seed(99)
    assert g.set_state(state) is g and g.initial_seed() == 3
    assert np.array_equal(mc.randn(5, generator=g).numpy(), a)
    other = mc.Generator().set_state(pickle.loads(pickle.dumps(state)))
    assert np.array_equal(mc.randn(5, generator=other).numpy(), a)
    with pytest.raises(RuntimeError, match="get_state"):
        g.set_state(mc.tensor([1, 2, 3], dtype=np.uint8))


def test_pickles():
    g = _g(4)
    mc.rand(2, generator=g)
    h = pickle.loads(pickle.dumps(g))
    assert np.array_equal(mc.rand(3, generator=g).numpy(), mc.rand(3, generator=h).numpy())


# ----------------------------------------------------------------------------- factories

_DRAWS = {
    "rand": lambda g: mc.rand(2, 3, generator=g),
    "randn": lambda g: mc.randn((4,), generator=g, dtype=np.float64),
    "randint": lambda g: mc.randint(0, 10, (6,), generator=g),
    "randperm": lambda g: mc.randperm(9, generator=g),
    "uniform_": lambda g: mc.zeros(5).uniform_(-1, 2, generator=g),
    "normal_": lambda g: mc.zeros(5).normal_(1.0, 3.0, generator=g),
}


@pytest.mark.parametrize("name", sorted(_DRAWS))
def test_same_seed_same_values_independent_of_global_stream(name):
    draw = _DRAWS[name]
    mc.manual_seed(0)
    expected_global = mc.rand(3).numpy()
    mc.manual_seed(0)
    a = draw(_g(1)).numpy()
    mc.manual_seed(123)                       # the global stream does not reach g
    g = _g(1)
    b = draw(g).numpy()
    assert np.array_equal(a, b)
    assert not np.array_equal(draw(g).numpy(), b)             # g's stream moves on
    mc.manual_seed(0)
    draw(_g(1))                               # drawing from g does not touch the global
    assert np.array_equal(mc.rand(3).numpy(), expected_global)


def test_factory_values_match_numpy_generator_with_the_same_seed():
    assert np.array_equal(mc.randperm(10, generator=_g(7)).numpy(),
                          np.random.default_rng(7).permutation(10))


def test_uniform_range_and_bad_generator():
    x = mc.zeros(1000).uniform_(2, 3, generator=_g())
    assert x.numpy().min() >= 2 and x.numpy().max() < 3
    with pytest.raises(TypeError, match="minicv.Generator"):
        mc.rand(2, generator="0")


# ----------------------------------------------------------------------------- nn.init

@pytest.mark.parametrize("fn", [init.uniform_, init.normal_, init.trunc_normal_,
                                init.xavier_uniform_, init.xavier_normal_,
                                init.kaiming_uniform_, init.kaiming_normal_,
                                init.orthogonal_])
def test_init_takes_minicv_and_numpy_generators(fn):
    a = fn(mc.zeros(4, 6), generator=_g(2)).numpy()
    b = fn(mc.zeros(4, 6), generator=np.random.default_rng(2)).numpy()
    assert np.array_equal(a, b)
    assert not np.array_equal(a, fn(mc.zeros(4, 6), generator=_g(3)).numpy())


# ----------------------------------------------------------------------------- data

def test_random_split_with_generator():
    ds = TensorDataset(mc.arange(20))
    a = random_split(ds, [0.7, 0.3], generator=_g(0))
    b = random_split(ds, [0.7, 0.3], generator=_g(0))
    c = random_split(ds, [0.7, 0.3], generator=0)             # an int seed: the same stream
    assert a[0].indices == b[0].indices == c[0].indices
    assert a[1].indices == b[1].indices
    assert a[0].indices != random_split(ds, [0.7, 0.3], generator=_g(1))[0].indices


@pytest.mark.parametrize("make", [
    lambda g: RandomSampler(range(12), generator=g),
    lambda g: RandomSampler(range(12), replacement=True, num_samples=30, generator=g),
    lambda g: SubsetRandomSampler([3, 5, 7, 9, 11], generator=g),
    lambda g: WeightedRandomSampler([1.0, 2.0, 0.5, 4.0], num_samples=10, generator=g),
])
def test_samplers_with_generator(make):
    s1, s2 = make(_g(4)), make(_g(4))
    e1 = list(s1)
    assert e1 == list(s2) and list(s1) == list(s2)            # epochs repeat, in step
    g = _g(4)
    s3 = make(g)
    g.manual_seed(4)                          # reseeding after construction reaches it
    assert list(s3) == e1


def test_loader_generator_is_the_same_as_seed():
    ds = TensorDataset(mc.arange(30))

    def epochs(loader):
        return [[int(v) for b in loader for v in b[0].numpy()] for _ in range(2)]

    by_seed = epochs(DataLoader(ds, batch_size=4, shuffle=True, seed=6))
    by_gen = epochs(DataLoader(ds, batch_size=4, shuffle=True, generator=_g(6)))
    assert by_seed == by_gen and by_gen[0] != by_gen[1]


def test_loader_draws_one_base_seed_per_iteration_from_the_generator():
    g = _g(0)
    loader = DataLoader(TensorDataset(mc.arange(4)), batch_size=2, generator=g)
    assert loader.generator is g
    iter(loader)
    iter(loader)
    ref = np.random.default_rng(0)
    ref.integers(0, 2**63 - 1)
    ref.integers(0, 2**63 - 1)
    assert np.array_equal(mc.rand(3, dtype=np.float64, generator=g).numpy(), ref.random(3))


def test_loader_rejects_seed_and_generator_together():
    with pytest.raises(ValueError, match="both seed= and generator="):
        DataLoader(TensorDataset(mc.arange(4)), seed=0, generator=_g(0))


def test_loader_workers_seeded_from_generator_repeat():
    from loader_helpers import Draws
    by_gen = DataLoader(Draws(4), batch_size=2, num_workers=2, generator=_g(7))
    by_seed = DataLoader(Draws(4), batch_size=2, num_workers=2, seed=7)
    a = np.concatenate([b.data for b in by_gen])
    assert np.array_equal(a, np.concatenate([b.data for b in by_seed]))
    assert sorted(set(a[:, 0])) == [0, 1]


# ----------------------------------------------------------------------------- PyTorch

def test_api_matches_torch_generator():
    torch = pytest.importorskip("torch")
    for name in ("manual_seed", "initial_seed", "seed", "get_state", "set_state", "device"):
        assert hasattr(torch.Generator(), name) and hasattr(mc.Generator(), name)
    assert isinstance(torch.Generator().manual_seed(0), torch.Generator)
    assert isinstance(mc.Generator().manual_seed(0), mc.Generator)
    assert str(mc.Generator().device) == str(torch.Generator().device) == "cpu"
