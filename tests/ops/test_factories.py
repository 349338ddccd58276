"""Tensor factories (minicv/factories.py): PyTorch's calling forms and dtypes."""
import numpy as np
import pytest

import minicv as mc


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_size_can_be_positional_a_sequence_or_a_keyword(name):
    fn = getattr(mc, name)
    for t in (fn(2, 3), fn((2, 3)), fn([2, 3]), fn(size=(2, 3))):
        assert t.shape == (2, 3) and t.dtype == np.float32
    assert fn(size=()).shape == ()
    with pytest.raises(TypeError, match="once"):
        fn(2, size=(2,))


def test_randint_forms():
    mc.manual_seed(0)
    for t in (mc.randint(10, (3,)), mc.randint(0, 10, (3,)), mc.randint(10, size=(3,)),
              mc.randint(low=0, high=10, size=(3,)), mc.randint(high=10, size=(3,))):
        assert t.shape == (3,) and t.dtype == np.int64
        assert ((t.data >= 0) & (t.data < 10)).all()
    t = mc.randint(5, 8, (200,), dtype=mc.int32)
    assert t.dtype == np.int32 and set(t.tolist()) == {5, 6, 7}
    with pytest.raises(ValueError, match="low < high"):
        mc.randint(3, 3, (2,))


def test_arange_takes_zero_dim_tensors():
    assert mc.arange(mc.tensor(3)).dtype == np.int64           # torch: int64
    assert mc.arange(mc.tensor(3)).tolist() == [0, 1, 2]
    assert mc.arange(mc.tensor(1.0), 3).dtype == np.float32
    assert mc.arange(0, mc.tensor(6), mc.tensor(2)).tolist() == [0, 2, 4]
