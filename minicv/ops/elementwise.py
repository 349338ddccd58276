"""Elementwise arithmetic: + - * / pow, exp, log, sqrt, abs, clamp, maximum, minimum, where.

Binary ops broadcast like NumPy; their backward returns gradients in the broadcast
shape and the engine (``autograd.unbroadcast``) sums them back to each input's shape.
Dtype promotion (PyTorch's rule, ``backend.result_dtype``) happens in :func:`promote`
before the op runs, so every ``forward`` sees operands of one dtype.
"""
import numpy as np

from ..autograd import Function
from ..backend import (result_dtype, scalar_dtype, get_default_dtype, get_array_module,
                       device_of, to_device)
from ..tensor import Tensor, as_tensor_arg


_SCALARS = (int, float, bool, np.number, np.bool_)


def promote(a, b):
    """Bring two operands (tensors, arrays or Python numbers) to the dtype of ``a op b``."""
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        if a.data.dtype == b.data.dtype:
            return a, b
        dt = result_dtype(a.dtype, a.ndim, b.dtype, b.ndim)
        return (a if a.dtype == dt else a.to(dt)), (b if b.dtype == dt else b.to(dt))
    if ta and isinstance(b, _SCALARS):
        dt = scalar_dtype(b, a.dtype)
        return (a if a.dtype == dt else a.to(dt)), dt.type(b)
    if tb and isinstance(a, _SCALARS):
        dt = scalar_dtype(a, b.dtype)
        return dt.type(a), (b if b.dtype == dt else b.to(dt))
    return promote(as_tensor_arg(a), as_tensor_arg(b))


def _float_operands(a, b):
    """Like :func:`promote`, but integer results become the default float (true division)."""
    a, b = promote(a, b)
    dt = a.dtype if isinstance(a, Tensor) else np.asarray(a).dtype
    if dt.kind != "f":
        f = get_default_dtype()
        a = a.to(f) if isinstance(a, Tensor) else f.type(a)
        b = b.to(f) if isinstance(b, Tensor) else f.type(b)
    return a, b


class Cast(Function):
    """Change dtype; the gradient is cast back by the engine."""
    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, gy):
        return gy, None


class ToDevice(Function):
    """Copy to another device (``Tensor.to``); the gradient is copied back to the source."""
    @staticmethod
    def forward(ctx, x, device):
        ctx.source = device_of(x)
        return to_device(x, device)

    @staticmethod
    def backward(ctx, gy):
        return to_device(gy, ctx.source), None


class Add(Function):
    """d(a+b)/da = 1, d(a+b)/db = 1."""
    @staticmethod
    def forward(ctx, a, b):
        if (type(a) is np.ndarray and type(b) is np.ndarray and a.shape == b.shape
                and a.size >= 1 << 16):                 # small: skip the Numba import
            from ..kernels.cpu.activation import fast_ok, add
            if fast_ok(a, b):                           # NumPy, contiguous: Numba loops
                return add(a, b)
        return a + b

    @staticmethod
    def backward(ctx, gy):
        return gy, gy


class Sub(Function):
    """d(a-b)/da = 1, d(a-b)/db = -1."""
    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, gy):
        return gy, (-gy if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """d(ab)/da = b, d(ab)/db = a; saved: a, b."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        ga = gy * b if ctx.needs_input_grad[0] else None
        gb = gy * a if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    """d(a/b)/da = 1/b, d(a/b)/db = -a/b²; saved: a, b."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        ga = gy / b if ctx.needs_input_grad[0] else None
        gb = -gy * a / (b * b) if ctx.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, gy):
        return -gy


class Pow(Function):
    """d(a^b)/da = b·a^(b-1), d(a^b)/db = a^b·log a (a > 0); saved: a, b, output."""
    @staticmethod
    def forward(ctx, a, b):
        y = a ** b
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        a, b, y = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = gy * b * a ** (b - 1)
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = gy * np.where(a > 0, y * np.log(np.where(a > 0, a, 1)), 0)
        return ga, gb


class Exp(Function):
    """d/dx exp(x) = exp(x); saved: output."""
    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * y


class Log(Function):
    """d/dx log(x) = 1/x; saved: x."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / x


class Sqrt(Function):
    """d/dx sqrt(x) = 1 / (2 sqrt(x)); saved: output."""
    @staticmethod
    def forward(ctx, x):
        y = np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy / (2 * y)


class Abs(Function):
    """d/dx |x| = sign(x) (0 at 0, as PyTorch); saved: x."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * np.sign(x)


class Clamp(Function):
    """Gradient passes where min <= x <= max (PyTorch includes the bounds); saved: x."""
    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        y = x
        if lo is not None:
            y = np.maximum(y, lo)
        if hi is not None:
            y = np.minimum(y, hi)
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        mask = get_array_module(x).ones(x.shape, dtype=bool)
        if ctx.lo is not None:
            mask &= x >= ctx.lo
        if ctx.hi is not None:
            mask &= x <= ctx.hi
        return gy * mask, None, None


class ClampTensor(Function):
    """min(max(x, lo), hi) with tensor bounds (either may be None), broadcasting all three.

    Gradients follow PyTorch: x where lo <= x <= hi; lo where x < lo and lo < hi; hi where
    x > hi or hi < lo (when the bounds cross, the output is hi). Saved: x, lo, hi.
    """
    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, lo, hi)
        y = x if lo is None else np.maximum(x, lo)
        return y if hi is None else np.minimum(y, hi)

    @staticmethod
    def backward(ctx, gy):
        x, lo, hi = ctx.saved_tensors
        zero = gy.dtype.type(0)
        keep_x = True
        if lo is not None:
            keep_x = keep_x & (x >= lo)
        if hi is not None:
            keep_x = keep_x & (x <= hi)
        gx = np.where(keep_x, gy, zero) if ctx.needs_input_grad[0] else None
        glo = ghi = None
        if lo is not None and ctx.needs_input_grad[1]:
            to_lo = (x < lo) if hi is None else (x < lo) & (lo < hi)
            glo = np.where(to_lo, gy, zero)
        if hi is not None and ctx.needs_input_grad[2]:
            to_hi = (x > hi) if lo is None else (x > hi) | (hi < lo)
            ghi = np.where(to_hi, gy, zero)
        return gx, glo, ghi


class ZeroGrad(Function):
    """A piecewise-constant elementwise op (floor, ceil, round, trunc, sign): its gradient
    is zero almost everywhere, as PyTorch returns."""
    @staticmethod
    def forward(ctx, x, ufunc):
        return ufunc(x)

    @staticmethod
    def backward(ctx, gy):
        return get_array_module(gy).zeros_like(gy), None


class Sin(Function):
    """d/dx sin(x) = cos(x); saved: x."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * np.cos(x)


class Cos(Function):
    """d/dx cos(x) = -sin(x); saved: x."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return -gy * np.sin(x)


class Log1p(Function):
    """d/dx log(1 + x) = 1 / (1 + x); saved: x."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / (1 + x)


class Expm1(Function):
    """d/dx (exp(x) - 1) = exp(x) = y + 1; saved: output."""
    @staticmethod
    def forward(ctx, x):
        y = np.expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * (y + 1)


class Maximum(Function):
    """Gradient to the larger input; ties split it half and half (PyTorch); saved: a, b."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        w = (a > b) + 0.5 * (a == b)
        return gy * w, gy * (1 - w)


class Minimum(Function):
    """Gradient to the smaller input; ties split it half and half (PyTorch); saved: a, b."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        w = (a < b) + 0.5 * (a == b)
        return gy * w, gy * (1 - w)


class Where(Function):
    """out = a where cond else b; gradient flows to the chosen side."""
    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond = cond
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, gy):
        zero = gy.dtype.type(0)
        return None, np.where(ctx.cond, gy, zero), np.where(ctx.cond, zero, gy)


class Remainder(Function):
    """a mod b with the divisor's sign (Python's %); d/da = 1, d/db = -floor(a/b)."""
    @staticmethod
    def forward(ctx, a, b):
        xp = get_array_module(a, b)
        ctx.save_for_backward(a, b)
        return xp.remainder(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        xp = get_array_module(a, b)
        gb = -gy * xp.floor(a / b) if ctx.needs_input_grad[1] else None
        return gy, gb


# ----------------------------------------------------------------------------- wrappers

def _binary(fn, a, b):
    """Apply a broadcasting binary Function; operands whose shapes do not broadcast get a
    message naming the op and both shapes instead of NumPy's."""
    try:
        return fn.apply(a, b)
    except ValueError as e:
        if "broadcast" not in str(e):
            raise
        sa, sb = (list(getattr(v, "shape", ())) for v in (a, b))
        raise ValueError(f"{fn.__name__.lower()}: shapes {sa} and {sb} do not broadcast: "
                         f"trailing dimensions must be equal or 1 (add size-1 axes with "
                         f"unsqueeze, or reshape)") from None


def remainder(a, b):
    """Elementwise a mod b, with the sign of b (PyTorch's ``remainder`` and ``%``)."""
    a, b = promote(a, b)
    return _binary(Remainder, a, b)


def add(a, b, alpha=1):
    if alpha != 1:
        b = mul(b, alpha)
    a, b = promote(a, b)
    return _binary(Add, a, b)


def sub(a, b, alpha=1):
    if alpha != 1:
        b = mul(b, alpha)
    a, b = promote(a, b)
    return _binary(Sub, a, b)


def mul(a, b):
    a, b = promote(a, b)
    return _binary(Mul, a, b)


def div(a, b, rounding_mode=None):
    if rounding_mode is not None:
        if rounding_mode not in ("floor", "trunc"):
            raise ValueError(f"rounding_mode must be None, 'floor' or 'trunc', got "
                             f"{rounding_mode!r}")
        a, b = promote(a, b)
        xa, xb = _arr(a), _arr(b)
        xp = get_array_module(xa, xb)
        xa, xb = xp.asarray(xa), xp.asarray(xb)
        q = xp.floor_divide(xa, xb) if rounding_mode == "floor" else xp.trunc(xa / xb)
        return Tensor(xp.asarray(q).astype(xp.result_type(xa, xb), copy=False))
    a, b = _float_operands(a, b)
    return _binary(Div, a, b)


def _arr(x):
    return x.data if isinstance(x, Tensor) else x


def neg(x):
    return Neg.apply(x)


def pow(a, b):
    a, b = promote(a, b)
    return _binary(Pow, a, b)


def _float_unary(fn, x):
    x = as_tensor_arg(x)
    if x.dtype.kind != "f":
        x = x.to(get_default_dtype())
    return fn.apply(x)


def exp(x):
    return _float_unary(Exp, x)


def log(x):
    return _float_unary(Log, x)


def sqrt(x):
    return _float_unary(Sqrt, x)


def abs(x):
    return Abs.apply(as_tensor_arg(x))


def clamp(input, min=None, max=None):
    """Clamp every element into [min, max]; either bound may be None, a number, or a tensor
    that broadcasts with ``input`` (then it receives a gradient too, as in PyTorch).

    Example::

        mc.clamp(mc.randn(4), min=-1.0, max=1.0)
        x.clamp(min=lower_bounds)            # elementwise lower bounds
    """
    if min is None and max is None:
        raise ValueError("clamp: at least one of 'min' and 'max' must not be None")
    x = as_tensor_arg(input)
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return _clamp_tensor(x, min, max)
    for bound in (min, max):            # an integer tensor clamped to a float bound
        if isinstance(bound, float) and x.dtype.kind != "f":
            x = x.to(get_default_dtype())
    return Clamp.apply(x, _scalar(min, x), _scalar(max, x))


def _clamp_tensor(x, lo, hi):
    """clamp with at least one tensor bound: promote the dtypes, then broadcast."""
    for bound in (lo, hi):                # the result dtype of x op lo op hi
        if bound is not None:
            x, _ = promote(x, bound)
    lo, hi = (None if b is None else as_tensor_arg(promote(x, b)[1]) for b in (lo, hi))
    shapes = [t.shape for t in (x, lo, hi) if t is not None]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"clamp: input of shape {list(x.shape)} and bounds of shapes "
                         f"{[list(s) for s in shapes[1:]]} do not broadcast") from None
    return ClampTensor.apply(x, lo, hi)


def clamp_min(input, min):
    """clamp(input, min=min)."""
    return clamp(input, min=min)


def clamp_max(input, max):
    """clamp(input, max=max)."""
    return clamp(input, max=max)


def _scalar(v, x):
    if v is None:
        return None
    return x.dtype.type(v)


def _zero_grad_op(ufunc):
    def op(input):
        x = as_tensor_arg(input)
        if x.dtype.kind != "f":                   # integers: exact, keep their dtype
            return Tensor(ufunc(x.data).astype(x.dtype, copy=False))
        return ZeroGrad.apply(x, ufunc)
    op.__name__ = ufunc.__name__
    op.__doc__ = (f"Elementwise {ufunc.__name__}; its gradient is zero (PyTorch's "
                  f"convention for piecewise-constant functions).")
    return op


floor = _zero_grad_op(np.floor)
ceil = _zero_grad_op(np.ceil)
trunc = _zero_grad_op(np.trunc)
sign = _zero_grad_op(np.sign)


def round(input, decimals=0):
    """Round half to even (as PyTorch and NumPy) to ``decimals`` places; zero gradient."""
    x = as_tensor_arg(input)
    if decimals == 0:
        return _zero_grad_op(np.round)(x)
    return _zero_grad_op(lambda a: np.round(a, decimals))(x)


def sin(input):
    return _float_unary(Sin, input)


def cos(input):
    return _float_unary(Cos, input)


def log1p(input):
    """log(1 + x), accurate for small x."""
    return _float_unary(Log1p, input)


def expm1(input):
    """exp(x) - 1, accurate for small x."""
    return _float_unary(Expm1, input)


def _predicate(ufunc):
    def op(input):
        d = as_tensor_arg(input).data
        return Tensor(get_array_module(d).asarray(ufunc(d)))
    op.__name__ = ufunc.__name__
    op.__doc__ = f"Elementwise {ufunc.__name__} as a bool tensor (no gradient)."
    return op


isnan = _predicate(np.isnan)
isinf = _predicate(np.isinf)
isfinite = _predicate(np.isfinite)


def maximum(a, b):
    a, b = promote(as_tensor_arg(a), b)
    return _binary(Maximum, a, b)


def minimum(a, b):
    a, b = promote(as_tensor_arg(a), b)
    return _binary(Minimum, a, b)


def where(condition, input=None, other=None):
    """Pick ``input`` where ``condition`` is true, else ``other`` (broadcasting all three).

    ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``, as in PyTorch.
    """
    if input is None and other is None:
        from .index import nonzero
        return nonzero(condition, as_tuple=True)
    if input is None or other is None:
        raise TypeError("where() takes a condition and both input and other (or only the "
                        "condition, for the indices of its true elements)")
    cond = _arr(condition)
    cond = get_array_module(cond).asarray(cond)
    if cond.dtype != np.bool_:
        raise TypeError(f"where expected a bool condition, got {cond.dtype}: compare first, "
                        f"e.g. mc.where(x > 0, x, y)")
    a, b = promote(input, other)
    a, b = as_tensor_arg(a), as_tensor_arg(b)
    return Where.apply(cond, a, b)


# ----------------------------------------------------------------------------- comparisons

def _compare(op, a, b):
    xa, xb = _arr(a), _arr(b)
    return Tensor(get_array_module(xa, xb).asarray(op(xa, xb)))


def eq(a, b):
    return _compare(np.equal, a, b)


def ne(a, b):
    return _compare(np.not_equal, a, b)


def lt(a, b):
    return _compare(np.less, a, b)


def le(a, b):
    return _compare(np.less_equal, a, b)


def gt(a, b):
    return _compare(np.greater, a, b)


def ge(a, b):
    return _compare(np.greater_equal, a, b)
