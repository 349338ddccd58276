"""Bitwise operators and logical_* functions (minicv/ops/logical.py): PyTorch's dtypes."""
import numpy as np
import pytest

import minicv as mc
from minicv.ops import logical as G


def test_bitwise_operators_promote_like_arithmetic():
    i32, u8 = mc.tensor([3], dtype=mc.int32), mc.tensor([3], dtype=mc.uint8)
    assert (i32 & 1).dtype == np.int32 and (1 & i32).dtype == np.int32     # torch: int32
    assert (u8 | mc.tensor(1)).dtype == np.uint8                          # torch: uint8
    assert (u8 ^ mc.tensor([1])).dtype == np.int64                        # both dimensioned
    assert (mc.tensor([True]) & True).dtype == np.bool_
    assert (mc.tensor([True]) | 2).dtype == np.int64
    assert (u8 | 256).tolist() == [3]                                     # 256 wraps to 0
    assert (~u8).tolist() == [252] and (~mc.tensor([True, False])).tolist() == [False, True]
    with pytest.raises(TypeError, match="bool or integer"):
        mc.tensor([1]) & 1.5


def test_bitwise_functions():
    assert G.bitwise_and(mc.tensor([6]), mc.tensor([3])).tolist() == [2]
    assert G.bitwise_or(mc.tensor([6]), 1).tolist() == [7]
    assert G.bitwise_xor(mc.tensor([6]), mc.tensor([3])).tolist() == [5]
    assert G.bitwise_not(mc.tensor([0], dtype=mc.int32)).tolist() == [-1]


def test_logical_functions_read_nonzero_as_true():
    a, b = mc.tensor([0.0, 2.0, float("nan")]), mc.tensor([1, 1, 0])
    assert G.logical_and(a, b).tolist() == [False, True, False]
    assert G.logical_or(a, b).tolist() == [True, True, True]
    assert G.logical_xor(a, b).tolist() == [True, False, True]
    assert G.logical_not(a).tolist() == [True, False, False]               # NaN is true
    assert G.logical_xor(mc.tensor([True, False]), 1).tolist() == [False, True]
    assert G.logical_and(a, b).dtype == np.bool_
