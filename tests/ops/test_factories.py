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


def test_arange_signatures_and_step_sign_follow_pytorch():
    # PyTorch 2.13: arange(end=3) == [0, 1, 2]; arange(1, end=4) == [1, 2, 3]; an empty range
    # is fine, a step pointing away from end or a zero step raises
    assert mc.arange(end=3).tolist() == [0, 1, 2]
    assert mc.arange(1, end=4).tolist() == [1, 2, 3]
    assert mc.arange(start=1, end=4).dtype == np.int64
    assert mc.arange(5, 5, -1).shape == (0,) and mc.arange(0).shape == (0,)
    assert mc.arange(9, 2, -2).tolist() == [9, 7, 5, 3]
    with pytest.raises(ValueError, match="inconsistent with step sign"):
        mc.arange(0, 5, -1)
    with pytest.raises(ValueError, match="inconsistent with step sign"):
        mc.arange(5.0, 0.0)
    with pytest.raises(ValueError, match="step must be nonzero"):
        mc.arange(0, 5, 0)
    with pytest.raises(ValueError, match="must be finite"):
        mc.arange(0, float("inf"))
    with pytest.raises(TypeError, match="needs an end"):
        mc.arange()


def test_arange_float_length_and_values_follow_pytorch():
    # torch.arange(0, 1, 0.1) and (1.0, 2.2, 0.3): float32, lengths ceil((end - start) / step)
    # = 10 and 5 (2.2 - 1.0 is a hair above 1.2), values start + i * step rounded once
    x = mc.arange(0, 1, 0.1)
    assert x.dtype == np.float32 and x.shape == (10,)
    np.testing.assert_array_equal(x.data, np.float32([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7,
                                                      0.8, 0.9]))
    y = mc.arange(1.0, 2.2, 0.3)
    np.testing.assert_array_equal(y.data, np.float32([1.0, 1.3, 1.6, 1.9, 2.2]))
    assert mc.arange(5, 0, -1.5).tolist() == [5.0, 3.5, 2.0, 0.5]
    assert mc.arange(3, dtype=mc.float64).dtype == np.float64
    assert mc.arange(np.int32(3)).dtype == np.int64             # any integers -> int64


def test_arange_takes_zero_dim_tensors():
    assert mc.arange(mc.tensor(3)).dtype == np.int64           # torch: int64
    assert mc.arange(mc.tensor(3)).tolist() == [0, 1, 2]
    assert mc.arange(mc.tensor(1.0), 3).dtype == np.float32
    assert mc.arange(0, mc.tensor(6), mc.tensor(2)).tolist() == [0, 2, 4]
