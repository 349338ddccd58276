"""Logical and bitwise operators on bool and integer tensors: ``~ & | ^ << >>`` and the
``logical_*`` functions.

On bool tensors the operators are logical not/and/or/xor (how masks combine,
``(x > 0) & (x < 1)``); on integer tensors they act bit by bit, as in PyTorch. Operands
are promoted like arithmetic (``elementwise.promote``): an int32 tensor ``& 1`` stays
int32, and a uint8 tensor ``|`` a 0-d int64 tensor stays uint8. They are not
differentiable and refuse floating tensors, as PyTorch does.

``logical_and/or/xor/not`` instead take any dtype, read non-zero as true, and return
bool tensors.
"""
import numpy as np

from ..tensor import Tensor
from .elementwise import promote, same_module

_OPS = {"invert": np.invert, "and": np.bitwise_and, "or": np.bitwise_or,
        "xor": np.bitwise_xor}
_SYMBOLS = {"invert": "~", "and": "&", "or": "|", "xor": "^", "lshift": "<<", "rshift": ">>"}


def _array(x):
    a = x.data if isinstance(x, Tensor) else x
    return a if hasattr(a, "dtype") else np.asarray(a)


def logical_op(name, a, b=None):
    """``~a``, ``a & b``, ``a | b`` or ``a ^ b`` on bool/integer tensors (no gradient)."""
    for arr in [_array(a)] if b is None else [_array(a), _array(b)]:
        if arr.dtype.kind not in "biu":
            symbol = _SYMBOLS[name]
            raise TypeError(f"'{symbol}' needs bool or integer tensors, got {arr.dtype}; "
                            f"compare first (e.g. (x > 0) {symbol} (x < 1)) or use .bool()")
    arrays = [_array(a)] if b is None else [_array(v) for v in promote(a, b)]
    xp, arrays = same_module(*arrays)
    if name in ("lshift", "rshift"):
        if arrays[0].dtype == np.bool_:
            raise TypeError(f"'{_SYMBOLS[name]}' is not implemented for bool tensors: "
                            f"convert one operand to an integer dtype first (.long())")
        return Tensor(_shift(xp, *(xp.asarray(v) for v in arrays), left=name == "lshift"))
    return Tensor(xp.asarray(_OPS[name](*arrays)))


def _shift(xp, a, b, left):
    """a << b or a >> b, with PyTorch's rule for a count outside [0, bits): a left shift
    gives 0 and a right shift the sign fill (-1 for negative a, else 0). C leaves those
    counts undefined (a GPU would shift by count % bits), so they are replaced first."""
    bits = a.dtype.itemsize * 8
    ok = (b >= 0) & (b < bits)
    count = xp.where(ok, b, 0).astype(b.dtype, copy=False)
    if left:
        return xp.where(ok, xp.left_shift(a, count), 0).astype(a.dtype, copy=False)
    fill = xp.right_shift(a, bits - 1) if a.dtype.kind == "i" else 0
    return xp.where(ok, xp.right_shift(a, count), fill).astype(a.dtype, copy=False)


def bitwise_not(input):
    """~input, bit by bit (logical not for bool)."""
    return logical_op("invert", input)


def bitwise_and(input, other):
    """input & other, bit by bit (logical and for bool)."""
    return logical_op("and", input, other)


def bitwise_or(input, other):
    """input | other, bit by bit (logical or for bool)."""
    return logical_op("or", input, other)


def bitwise_xor(input, other):
    """input ^ other, bit by bit (logical xor for bool)."""
    return logical_op("xor", input, other)


def bitwise_left_shift(input, other):
    """input << other: input·2^other on integer tensors, wrapping in the dtype as C does;
    a count outside [0, bits) gives 0, as in PyTorch.

    Example::

        mc.tensor([1, 3]) << 2                       # tensor([4, 12])
    """
    return logical_op("lshift", input, other)


def bitwise_right_shift(input, other):
    """input >> other: floor(input / 2^other) on integer tensors (arithmetic shift, the
    sign kept); a count outside [0, bits) gives -1 for negative input, else 0."""
    return logical_op("rshift", input, other)


def _truth(x):
    a = _array(x)
    return a if a.dtype == np.bool_ else a != 0


def _logical(ufunc, *operands):
    xp, arrays = same_module(*(_truth(v) for v in operands))
    return Tensor(xp.asarray(ufunc(*arrays)))


def logical_not(input):
    """True where input is zero (or False), as a bool tensor.

    Example::

        mc.logical_not(mc.tensor([0., 2.]))          # tensor([True, False])
    """
    return _logical(np.logical_not, input)


def logical_and(input, other):
    """True where both are non-zero, as a bool tensor (any dtypes, broadcasting)."""
    return _logical(np.logical_and, input, other)


def logical_or(input, other):
    """True where either is non-zero, as a bool tensor (any dtypes, broadcasting)."""
    return _logical(np.logical_or, input, other)


def logical_xor(input, other):
    """True where exactly one is non-zero, as a bool tensor (any dtypes, broadcasting)."""
    return _logical(np.logical_xor, input, other)
