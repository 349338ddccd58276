"""Elementwise arithmetic: + - * / pow, exp, log, sqrt, abs, clamp, maximum, minimum, where,
the other unary functions (log2, log10, sin, cos, tan, erf, ...) and comparisons.

Binary ops broadcast like NumPy; their backward returns gradients in the broadcast
shape and the engine (``autograd.unbroadcast``) sums them back to each input's shape.
Dtype promotion (PyTorch's rule, ``backend.result_dtype``) happens in :func:`promote`
before the op runs, so every ``forward`` sees operands of one dtype.
"""
import numpy as np

from ..autograd import Function
from ..backend import (result_dtype, scalar_dtype, get_default_dtype, get_array_module,
                       device_of, to_device, is_cupy_array, quiet)
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
        return (a if a.dtype == dt else a.to(dt)), _scalar_as(b, dt)
    if tb and isinstance(a, _SCALARS):
        dt = scalar_dtype(a, b.dtype)
        return _scalar_as(a, dt), (b if b.dtype == dt else b.to(dt))
    return promote(as_tensor_arg(a), as_tensor_arg(b))


def _scalar_as(value, dtype):
    """A Python number as a NumPy scalar of ``dtype``. An integer too large for an integer
    dtype wraps around as in C and PyTorch (``uint8 tensor + 300`` adds 300 mod 256 = 44)
    instead of raising."""
    if dtype.kind in "iu" and isinstance(value, (int, np.integer)) \
            and not isinstance(value, bool):
        return np.asarray(value, np.int64).astype(dtype)[()]
    return dtype.type(value)


def _float_operands(a, b):
    """Like :func:`promote`, but integer results become the default float (true division).

    Integer operands are converted to float from their own values, not from the promoted
    integer type: ``uint8 tensor / -2`` divides by -2.0, as in PyTorch (promoting first
    would wrap -2 to 254)."""
    pa, pb = promote(a, b)
    dt = pa.dtype if isinstance(pa, Tensor) else np.asarray(pa).dtype
    if dt.kind == "f":
        return pa, pb
    f = get_default_dtype()
    return tuple(x.to(f) if isinstance(x, Tensor) else
                 f.type(x) if isinstance(x, _SCALARS) else as_tensor_arg(x).to(f)
                 for x in (a, b))


class Cast(Function):
    """Change dtype; the gradient is cast back by the engine."""
    @staticmethod
    @quiet
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
    """d(ab)/da = b, d(ab)/db = a; saved: b if a needs its gradient, a if b does."""
    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        return a * b

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        ga = gy * b if ctx.needs_input_grad[0] else None
        gb = gy * a if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    """d(a/b)/da = 1/b, d(a/b)/db = -a/b²; saved: b, and a only if b needs its gradient."""
    @staticmethod
    @quiet
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
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
    """d(a^b)/da = b·a^(b-1), d(a^b)/db = a^b·log a; saved: a, b, output.

    The edge cases follow PyTorch's derivatives.yaml: d/da is 0 wherever b == 0 (a^0 is
    constant, even at a = 0, where b·a^(b-1) would be 0·inf); d/db is 0 where a == 0 and
    b >= 0 (0^b is 0 or 1 there), and NaN for negative a, where log a is undefined.
    """
    @staticmethod
    @quiet
    def forward(ctx, a, b):
        kind = b.dtype.kind if hasattr(b, "dtype") else np.asarray(b).dtype.kind
        y = _int_pow(a, b) if kind in "iu" else a ** b
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        a, b, y = ctx.saved_tensors
        zero = gy.dtype.type(0)
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.needs_input_grad[0] and isinstance(b, (np.generic, int, float)) \
                    and b != 0:
                ga = gy * b * a ** (b - 1)              # x ** 2 and the like: no select
            elif ctx.needs_input_grad[0]:
                ga = np.where(b == 0, zero, gy * b * a ** (b - 1))
            if ctx.needs_input_grad[1]:
                gb = np.where((a == 0) & (b >= 0), zero, gy * y * np.log(a))
        return ga, gb


class Exp(Function):
    """d/dx exp(x) = exp(x); saved: output."""
    @staticmethod
    @quiet
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
    @quiet
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
    @quiet
    def forward(ctx, x):
        y = np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy / (2 * y)


def _sign(x):
    """PyTorch's sign: -1, 0 or 1, and 0 for NaN (NumPy's ``sign`` gives NaN there).

    Computed as (x > 0) - (x < 0), in x's dtype; a NaN compares false both ways.
    """
    return (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)


class Abs(Function):
    """d/dx |x| = sign(x) (0 at 0 and at NaN, as PyTorch); saved: x."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * _sign(x)


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
    @quiet
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
    @quiet
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
    @quiet
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
    @quiet
    def forward(ctx, x):
        y = np.expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * (y + 1)


class Log2(Function):
    """d/dx log2(x) = 1 / (x ln 2); saved: x."""
    @staticmethod
    @quiet
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log2(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / (x * x.dtype.type(np.log(2)))


class Log10(Function):
    """d/dx log10(x) = 1 / (x ln 10); saved: x."""
    @staticmethod
    @quiet
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log10(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / (x * x.dtype.type(np.log(10)))


class Tan(Function):
    """d/dx tan(x) = 1 + tan²(x); saved: output."""
    @staticmethod
    @quiet
    def forward(ctx, x):
        y = np.tan(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * (1 + y * y)


class Atan2(Function):
    """Angle of the point (x=b, y=a): d/da = b / (a² + b²), d/db = -a / (a² + b²); both
    are 0 at the origin, where PyTorch masks the infinite 1/(a² + b²). Saved: a, b."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.arctan2(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        r2 = a * a + b * b
        with np.errstate(divide="ignore"):
            inv = np.where(r2 == 0, r2.dtype.type(0), 1 / r2)
        return gy * b * inv, -gy * a * inv


class Erf(Function):
    """erf(x) = 2/√π ∫₀ˣ exp(-t²) dt; d/dx = 2/√π · exp(-x²); saved: x."""
    @staticmethod
    def forward(ctx, x):
        from .activation import _erf
        ctx.save_for_backward(x)
        return get_array_module(x).asarray(_erf(x)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * (x.dtype.type(2 / np.sqrt(np.pi)) * np.exp(-x * x))


class NanToNum(Function):
    """NaN, +inf and -inf replaced by numbers; the gradient passes where x was finite
    and is 0 at the replaced entries (PyTorch); saved: the finite mask."""
    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        xp = get_array_module(x)
        ctx.save_for_backward(xp.isfinite(x))
        return xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, gy):
        (finite,) = ctx.saved_tensors
        return np.where(finite, gy, gy.dtype.type(0)), None, None, None


def _pick_grads(gy, a_loses, b_loses, tie):
    """Gradients of maximum/minimum: each input gets gy except where it lost; a tie
    splits gy half and half. Where a NaN makes both comparisons false, both inputs get
    the whole gy (PyTorch's rule)."""
    zero = gy.dtype.type(0)
    g = np.where(tie, gy / 2, gy)
    return np.where(a_loses, zero, g), np.where(b_loses, zero, g)


class Maximum(Function):
    """Gradient to the larger input; ties split it half and half (PyTorch); saved: a, b."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        return _pick_grads(gy, a < b, a > b, a == b)


class Minimum(Function):
    """Gradient to the smaller input; ties split it half and half (PyTorch); saved: a, b."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        return _pick_grads(gy, a > b, a < b, a == b)


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
    @quiet
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

def _binary(fn, a, b, *args):
    """Apply a broadcasting binary Function (``args``: its other, non-tensor arguments);
    operands whose shapes do not broadcast get a message naming the op and both shapes
    instead of NumPy's."""
    try:
        return fn.apply(a, b, *args)
    except ValueError as e:
        if "broadcast" not in str(e):
            raise
        sa, sb = (list(getattr(v, "shape", ())) for v in (a, b))
        raise ValueError(f"{fn.__name__.lower()}: shapes {sa} and {sb} do not broadcast: "
                         f"trailing dimensions must be equal or 1 (add size-1 axes with "
                         f"unsqueeze, or reshape)") from None


def _check_int_divisor(name, a, b):
    """Integer division by zero has no value to return: raise, as PyTorch does on the CPU
    (on a GPU it does not check, and neither does minicv: the check would synchronise).
    ``a`` and ``b`` are promoted operands; bool ones raise (PyTorch has no bool kernel)."""
    if getattr(_arr(a), "dtype", None) == np.bool_:
        raise TypeError(f"{name} is not implemented for bool operands (PyTorch raises "
                        f"too): convert them with .int() or .float() first")
    xb = _arr(b)
    if type(xb) is not np.ndarray and is_cupy_array(xb):
        return
    try:
        if 0 in np.broadcast_shapes(np.shape(_arr(a)), np.shape(xb)):
            return                       # an empty result divides nothing
    except ValueError:
        return                           # the op itself reports the shapes
    if np.dtype(getattr(xb, "dtype", type(xb))).kind in "biu" and bool((xb == 0).any()):
        raise RuntimeError(f"ZeroDivisionError: integer {name} by zero; convert to float "
                           f"(.float()) to get inf/nan instead")


def remainder(input, other):
    """Elementwise input mod other, with the sign of other (PyTorch's ``remainder``, ``%``).

    d/d input = 1, d/d other = -floor(input / other). Integer division by zero raises.

    Example::

        mc.remainder(mc.tensor([5, -5]), 3)      # tensor([2, 1])
    """
    a, b = promote(input, other)
    _check_int_divisor("remainder", a, b)
    return _binary(Remainder, a, b)


def add(input, other, alpha=1):
    """input + alpha * other, broadcasting, with PyTorch's dtype promotion (``alpha`` takes
    no part in it: it is converted to the result dtype, and a float ``alpha`` with an
    integer or bool result raises)."""
    a, b = promote(input, other)
    return _binary(Add, a, _times_alpha(a, b, alpha))


def _times_alpha(a, b, alpha):
    """``alpha * b`` in the dtype of the promoted operands ``a``, ``b`` of add/sub."""
    floating = isinstance(alpha, (float, np.floating))
    if alpha == 1 and not floating:
        return b
    dt = a.dtype if isinstance(a, Tensor) else b.dtype
    if dt.kind in "biu" and floating:
        raise RuntimeError(f"For integral input tensors, argument alpha must not be a "
                           f"floating point number (got alpha={alpha} for {dt} inputs): "
                           f"convert the inputs with .float() first")
    alpha = _scalar_as(alpha, dt)
    if isinstance(b, Tensor):
        return mul(b, alpha)
    with np.errstate(over="ignore"):            # integers wrap silently, as in PyTorch
        return b * alpha


def _is_bool(x):
    dt = getattr(x, "dtype", None)
    return isinstance(x, bool) if dt is None else dt.kind == "b"


def sub(input, other, alpha=1):
    """input - alpha * other, broadcasting, with PyTorch's dtype promotion. Bool operands
    are refused, as in PyTorch: use ``^`` or ``logical_xor`` for masks."""
    if (input.data.dtype.kind == "b" if type(input) is Tensor else _is_bool(input)) or \
            (other.data.dtype.kind == "b" if type(other) is Tensor else _is_bool(other)):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                           "supported: use `^` or logical_xor() to combine masks, or "
                           "convert with .int() / .float() first")
    a, b = promote(input, other)
    return _binary(Sub, a, _times_alpha(a, b, alpha))


def mul(input, other):
    """input * other, broadcasting, with PyTorch's dtype promotion."""
    a, b = promote(input, other)
    return _binary(Mul, a, b)


class RoundedDiv(Function):
    """input / other rounded down ('floor') or toward zero ('trunc'). Piecewise constant,
    so both gradients are zero, as PyTorch returns."""
    @staticmethod
    @quiet
    def forward(ctx, a, b, rounding_mode):
        xp = get_array_module(a, b)
        q = xp.floor_divide(a, b) if rounding_mode == "floor" else xp.trunc(a / b)
        return xp.asarray(q).astype(xp.result_type(a, b), copy=False)

    @staticmethod
    def backward(ctx, gy):
        zeros = get_array_module(gy).zeros_like(gy)
        return zeros, zeros, None


def div(input, other, *, rounding_mode=None):
    """input / other. Integers give the default float dtype (true division) unless
    ``rounding_mode`` is 'floor' (round down, like ``//``) or 'trunc' (toward zero); the
    rounded forms keep integer dtypes, have zero gradient, and raise on integer division
    by zero.

    Example::

        mc.div(mc.tensor([7, -7]), 2)                          # tensor([3.5, -3.5])
        mc.div(mc.tensor([7, -7]), 2, rounding_mode="floor")   # tensor([3, -4])
    """
    if rounding_mode is None:
        a, b = _float_operands(input, other)
        return _binary(Div, a, b)
    if rounding_mode not in ("floor", "trunc"):
        raise ValueError(f"rounding_mode must be None, 'floor' or 'trunc', got "
                         f"{rounding_mode!r}")
    a, b = promote(input, other)
    _check_int_divisor("division", a, b)
    return _binary(RoundedDiv, a, b, rounding_mode)


def _arr(x):
    return x.data if isinstance(x, Tensor) else x


def same_module(*arrays):
    """``(xp, arrays)`` for ops outside ``Function.apply`` (comparisons, bitwise): as in
    PyTorch, a 0-d CPU array (a scalar tensor) may join a GPU op, so it is copied there;
    CuPy would refuse it."""
    xp = get_array_module(*arrays)
    if xp is not np:
        arrays = [xp.asarray(a) if type(a) is np.ndarray and a.ndim == 0 else a
                  for a in arrays]
    return xp, arrays


def neg(input):
    """-input. A bool tensor is refused, as in PyTorch: invert it with ``~``."""
    if _is_bool(input):
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported: "
                           "use `~` or logical_not() to invert a mask")
    return Neg.apply(input)


def _int_pow(a, b):
    """Integer a ** b. A negative exponent gives the truncated 1 / a^|b|, as PyTorch: 1
    for a = 1, ±1 for a = -1, else 0 (NumPy refuses negative integer powers)."""
    xp = get_array_module(a, b)
    if xp is np and not (b < 0).any():          # (on a GPU the test would synchronise)
        return a ** b
    one = xp.ones((), a.dtype)
    inverse = xp.where(a == 1, one, xp.where(a == -1, xp.where(b % 2 == 0, one, -one), 0))
    return xp.where(b < 0, inverse, a ** xp.maximum(b, 0)).astype(a.dtype, copy=False)


def pow(input, exponent):
    """input ** exponent, elementwise; either may be a number. See :class:`Pow` for the
    gradient at the edges (0 ** b, negative bases). An integer tensor to a negative
    integer *number* raises, as in PyTorch; to a tensor of negative integers it gives the
    truncated result (0, or ±1 for a base of ±1)."""
    if isinstance(input, Tensor) and input.dtype.kind in "iub" and \
            isinstance(exponent, (int, np.integer)) and not isinstance(exponent, bool) \
            and exponent < 0:
        raise RuntimeError(f"Integers to negative integer powers are not allowed "
                           f"(exponent {exponent}): convert the base with .float() first")
    a, b = promote(input, exponent)
    if getattr(_arr(a), "dtype", None) == np.bool_:
        if isinstance(exponent, (bool, np.bool_)) and isinstance(input, Tensor):
            xp = get_array_module(a.data)              # mask ** True, mask ** False
            return Tensor(a.data.copy() if exponent else xp.ones_like(a.data))
        raise TypeError("pow is not implemented for a bool base and a bool exponent tensor "
                        "(PyTorch raises too): convert with .int() or .float() first")
    return _binary(Pow, a, b)


def _float_unary(fn, x):
    x = as_tensor_arg(x)
    if x.dtype.kind != "f":
        x = x.to(get_default_dtype())
    return fn.apply(x)


def exp(input):
    """e ** input; integers give the default float dtype."""
    return _float_unary(Exp, input)


def log(input):
    """Natural logarithm; integers give the default float dtype."""
    return _float_unary(Log, input)


def sqrt(input):
    """Square root; integers give the default float dtype."""
    return _float_unary(Sqrt, input)


def abs(input):
    """|input|; its gradient is sign(input), 0 at 0 and at NaN (as PyTorch)."""
    return Abs.apply(as_tensor_arg(input))


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
    dtype = x.dtype                     # promoted with the number bounds, as x + bound
    if dtype.kind != "f" or not all(type(b) in (int, float, type(None)) for b in (min, max)):
        for bound in (min, max):        # (a float tensor keeps its dtype for Python numbers)
            if bound is not None:
                dtype = scalar_dtype(bound, dtype)
    if dtype == np.bool_:
        raise TypeError("clamp of a bool tensor to bool bounds is not implemented (PyTorch "
                        "raises too): convert with .int() first")
    x = x if dtype == x.dtype else x.to(dtype)
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


def sign(input):
    """-1, 0 or 1 by the sign of each element; 0 for NaN (as PyTorch; NumPy gives NaN).
    Its gradient is zero; a bool tensor is returned unchanged."""
    x = as_tensor_arg(input)
    if x.dtype == np.bool_:
        return Tensor(x.data.copy())
    return _zero_grad_op(_sign)(x)


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


def log2(input):
    """Base-2 logarithm; integers give the default float dtype."""
    return _float_unary(Log2, input)


def log10(input):
    """Base-10 logarithm; integers give the default float dtype."""
    return _float_unary(Log10, input)


def tan(input):
    """Tangent (radians); integers give the default float dtype."""
    return _float_unary(Tan, input)


def erf(input):
    """The error function, erf(x) = 2/√π ∫₀ˣ exp(-t²) dt (the normal CDF is
    (1 + erf(x/√2)) / 2).

    Example::

        mc.erf(mc.tensor([0., 1.]))               # tensor([0.0000, 0.8427])
    """
    return _float_unary(Erf, input)


def atan2(input, other):
    """Elementwise angle, in (-π, π], of the point (x=other, y=input): the quadrant-aware
    arctan(input / other).

    Example::

        mc.atan2(mc.tensor([1., -1.]), mc.tensor([-1., -1.]))   # [2.3562, -2.3562]
    """
    a, b = _float_operands(input, other)
    return _binary(Atan2, a, b)


def floor_divide(input, other):
    """input // other, rounded down: ``div(input, other, rounding_mode="floor")``."""
    return div(input, other, rounding_mode="floor")


def lerp(input, end, weight):
    """Linear interpolation input + weight·(end - input); ``weight`` is a number or a
    tensor that broadcasts. Differentiable in all three.

    Example::

        mc.lerp(mc.tensor([0., 10.]), mc.tensor([1., 20.]), 0.5)   # tensor([0.5, 15.])
    """
    x, e = as_tensor_arg(input), as_tensor_arg(end)
    w = weight if isinstance(weight, _SCALARS) else as_tensor_arg(weight)
    if isinstance(w, Tensor) and w.ndim == 0 and w.dtype != x.dtype:
        w = w.to(x.dtype)                       # a 0-d weight acts as a number
    for name, t in (("end", e), ("weight", w)):
        if isinstance(t, Tensor) and t.dtype != x.dtype:
            raise TypeError(f"lerp: expected dtype {x.dtype} for `{name}` but got dtype "
                            f"{t.dtype}; convert it with .to({x.dtype})")
    if x.dtype.kind != "f":
        raise TypeError(f"lerp: input must be a floating tensor, got {x.dtype}")
    return Lerp.apply(x, e, w)


class Lerp(Function):
    """PyTorch's two-sided formula: a + w·(b - a) for |w| < 0.5, else b - (b - a)·(1 - w),
    so that w = 1 gives b exactly. d/da = 1 - w, d/db = w, d/dw = b - a. Saved: a, b, w."""
    @staticmethod
    def forward(ctx, a, b, w):
        ctx.save_for_backward(a, b, w)
        with np.errstate(invalid="ignore"):        # inf - inf in the unused branch
            d = b - a
            y = np.where(np.abs(w) < 0.5, a + w * d, b - d * (1 - w))
        return y.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        a, b, w = ctx.saved_tensors
        need_a, need_b, need_w = ctx.needs_input_grad
        return (gy * (1 - w) if need_a else None, gy * w if need_b else None,
                gy * (b - a) if need_w else None)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """``input`` with NaN replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf``
    (by default the largest and lowest finite values of the dtype). Integer tensors are
    returned unchanged. The gradient is 0 at the replaced entries.

    Example::

        mc.nan_to_num(mc.tensor([float("nan"), 1.0]))   # tensor([0., 1.])
    """
    x = as_tensor_arg(input)
    if x.dtype.kind != "f":
        return Tensor(x.data.copy())
    return NanToNum.apply(x, nan, posinf, neginf)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Where |input - other| <= atol + rtol·|other|, elementwise, as a bool tensor
    (NaNs are equal only with ``equal_nan``); ``allclose`` is ``isclose(...).all()``."""
    xp, (xa, xb) = same_module(_arr(input), _arr(other))
    return Tensor(xp.asarray(xp.isclose(xa, xb, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def _predicate(ufunc, name=None, doc=None):
    """A bool-valued elementwise function without gradient: ``ufunc`` on the array, named
    ``name`` (the ufunc's name by default), documented by ``doc``."""
    name = name or ufunc.__name__

    def op(input):
        d = as_tensor_arg(input).data
        return Tensor(get_array_module(d).asarray(ufunc(d)))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc or f"Elementwise {name} as a bool tensor (no gradient)."
    return op


isnan = _predicate(np.isnan)
isinf = _predicate(np.isinf)
isfinite = _predicate(np.isfinite)
isposinf = _predicate(lambda d: d == np.inf, "isposinf", "Where ``input`` is +inf, as a bool "
                      "tensor (all False for integers; no gradient).")
isneginf = _predicate(lambda d: d == -np.inf, "isneginf", "Where ``input`` is -inf, as a bool "
                      "tensor (all False for integers; no gradient).")


def maximum(input, other):
    """Elementwise max of two broadcasting tensors; NaN wins (as PyTorch)."""
    a, b = promote(as_tensor_arg(input), other)
    return _binary(Maximum, a, b)


def minimum(input, other):
    """Elementwise min of two broadcasting tensors; NaN wins (as PyTorch)."""
    a, b = promote(as_tensor_arg(input), other)
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
    xp, (xa, xb) = same_module(_arr(a), _arr(b))
    return Tensor(xp.asarray(op(xa, xb)))


def eq(input, other):
    """input == other, elementwise, as a bool tensor (no gradient)."""
    return _compare(np.equal, input, other)


def ne(input, other):
    """input != other, elementwise, as a bool tensor (no gradient)."""
    return _compare(np.not_equal, input, other)


def lt(input, other):
    """input < other, elementwise, as a bool tensor (no gradient)."""
    return _compare(np.less, input, other)


def le(input, other):
    """input <= other, elementwise, as a bool tensor (no gradient)."""
    return _compare(np.less_equal, input, other)


def gt(input, other):
    """input > other, elementwise, as a bool tensor (no gradient)."""
    return _compare(np.greater, input, other)


def ge(input, other):
    """input >= other, elementwise, as a bool tensor (no gradient)."""
    return _compare(np.greater_equal, input, other)
