"""Logical and bitwise operators on bool and integer tensors: ``~ & | ^``.

On bool tensors they are logical not/and/or/xor (how masks combine, ``(x > 0) & (x < 1)``);
on integer tensors they act bit by bit, as in PyTorch. They are not differentiable and
refuse floating tensors, as PyTorch does.
"""
import numpy as np

from ..backend import get_array_module
from ..tensor import Tensor

_OPS = {"invert": np.invert, "and": np.bitwise_and, "or": np.bitwise_or,
        "xor": np.bitwise_xor}


def _array(x):
    a = x.data if isinstance(x, Tensor) else x
    return a if hasattr(a, "dtype") else np.asarray(a)


def logical_op(name, a, b=None):
    """``~a``, ``a & b``, ``a | b`` or ``a ^ b`` on bool/integer tensors (no gradient)."""
    arrays = [_array(a)] if b is None else [_array(a), _array(b)]
    for arr in arrays:
        if arr.dtype.kind not in "biu":
            symbol = {"invert": "~", "and": "&", "or": "|", "xor": "^"}[name]
            raise TypeError(f"'{symbol}' needs bool or integer tensors, got {arr.dtype}; "
                            f"compare first (e.g. (x > 0) {symbol} (x < 1)) or use .bool()")
    xp = get_array_module(*arrays)
    return Tensor(xp.asarray(_OPS[name](*arrays)))
