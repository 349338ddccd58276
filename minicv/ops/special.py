"""Elementwise math beyond the basics: C-style remainder (fmod), copysign, NaN-ignoring
fmax/fmin, float_power, log-sum-exp of two (logaddexp), xlogy, logit, ldexp, nextafter,
and the special functions erfc, erfinv, lgamma and digamma; plus PyTorch's aliases
(subtract, greater...).

The special functions are written in plain ``xp`` code (NumPy or CuPy) from their series
and approximations, named in each docstring; ``erfc`` alone calls the C library's
(``math.erfc`` through Numba on the CPU, ``cupyx.scipy.special.erfc`` on a GPU), as
``erf`` does.
"""
import math

import numpy as np

from ..autograd import Function
from ..backend import get_array_module, is_cupy_array
from ..tensor import Tensor, as_tensor_arg, _inplace_method
from . import elementwise as E
from .elementwise import promote, _float_operands, _binary, _predicate, same_module, _arr
from .trig import OfInput, OfOutput, floating, float_pair, need_tensor

_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


# ----------------------------------------------------------------------------- Functions

class Fmod(Function):
    """a - trunc(a / b)·b, with the dividend's sign (C's fmod); d/da = 1,
    d/db = -trunc(a / b). Saved: a, b."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.fmod(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            gb = -gy * np.trunc(a / b) if ctx.needs_input_grad[1] else None
        return gy, gb


class Frac(Function):
    """x - trunc(x); d/dx = 1."""
    @staticmethod
    def forward(ctx, x):
        with np.errstate(invalid="ignore"):
            return x - np.trunc(x)

    @staticmethod
    def backward(ctx, gy):
        return gy


class Copysign(Function):
    """|a| with the sign of b; d/da = ±1 (0 where a = 0, as PyTorch), d/db = 0.
    Saved: a and the output."""
    @staticmethod
    def forward(ctx, a, b):
        y = np.copysign(a, b)
        ctx.save_for_backward(a, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        a, y = ctx.saved_tensors
        zero = gy.dtype.type(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ga = np.where(a == 0, zero, gy * (y / a)) if ctx.needs_input_grad[0] else None
        gb = get_array_module(gy).zeros_like(gy) if ctx.needs_input_grad[1] else None
        return ga, gb


class Fmax(Function):
    """max(a, b) ignoring a NaN operand. The gradient goes to a where a >= b or b is NaN,
    else to b (a tie sends it all to a, as PyTorch). Saved: a, b."""
    pick = staticmethod(np.fmax)
    a_wins = staticmethod(np.greater_equal)

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.pick(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        return _route(gy, ctx.a_wins(a, b) | np.isnan(b))


class Fmin(Fmax):
    """min(a, b) ignoring a NaN operand; gradient as :class:`Fmax`, to a where a <= b or
    b is NaN. Saved: a, b."""
    pick = staticmethod(np.fmin)
    a_wins = staticmethod(np.less_equal)


def _route(gy, to_a):
    """gy to the first operand where ``to_a``, to the second elsewhere."""
    zero = gy.dtype.type(0)
    return np.where(to_a, gy, zero), np.where(to_a, zero, gy)


class Logaddexp(Function):
    """log(eᵃ + eᵇ) without overflow; d/da = 1 / (1 + e^(b-a)), d/db = 1 / (1 + e^(a-b)).
    Saved: a, b."""
    combine, power = staticmethod(np.logaddexp), staticmethod(np.exp)

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with np.errstate(invalid="ignore"):                   # NaN operands
            return ctx.combine(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        with np.errstate(over="ignore", invalid="ignore"):
            return gy / (1 + ctx.power(b - a)), gy / (1 + ctx.power(a - b))


class Logaddexp2(Logaddexp):
    """log2(2ᵃ + 2ᵇ); d/da = 1 / (1 + 2^(b-a)), d/db = 1 / (1 + 2^(a-b)). Saved: a, b."""
    combine, power = staticmethod(np.logaddexp2), staticmethod(np.exp2)


class Xlogy(Function):
    """a·log(b), 0 where a = 0 (unless b is NaN); d/da = log(b), but 0 where a = 0 and
    b <= 0 (PyTorch's rule); d/db = a / b. Saved: a, b.

    ``log`` and its ``pole`` (log(pole) = -inf) are class attributes, for Xlog1py."""
    log, pole = staticmethod(np.log), 0

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _xlogy(a, b, ctx.log)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            ga = np.where((a == 0) & (b <= ctx.pole), gy.dtype.type(0),
                          _xlogy(gy, b, ctx.log)) if ctx.needs_input_grad[0] else None
            gb = gy * a / (b - ctx.pole) if ctx.needs_input_grad[1] else None
        return ga, gb


def _xlogy(a, b, log=np.log):
    """a·log(b), 0 where a = 0, NaN where b is NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(a == 0, a.dtype.type(0), a * log(b))
    return np.where(np.isnan(b), b, y).astype(a.dtype, copy=False)


class Exp2(OfOutput):
    """d/dx 2ˣ = 2ˣ·ln 2."""
    f = staticmethod(np.exp2)

    @staticmethod
    def df(y):
        return y * math.log(2)


class Logit(Function):
    """log(z / (1 - z)) with z = x clamped into [eps, 1 - eps] when eps >= 0;
    d/dx = 1 / (x(1 - x)) inside, 0 outside the clamp (NaN outside [0, 1] without it).
    Saved: x."""
    @staticmethod
    def forward(ctx, x, eps):
        ctx.save_for_backward(x)
        ctx.eps = eps
        z = x if eps < 0 else np.clip(x, eps, 1 - eps).astype(x.dtype, copy=False)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(z / (1 - z))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        eps = ctx.eps
        lo, hi, outside = (0, 1, math.nan) if eps < 0 else (eps, 1 - eps, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            g = gy / (x * (1 - x))
        return np.where((x < lo) | (x > hi), gy.dtype.type(outside), g), None


class Erfc(OfInput):
    """erfc(x) = 1 - erf(x), accurate where erf(x) is near 1; d/dx = -2/√π·exp(-x²)."""
    @staticmethod
    def f(x):
        return _erfc(x)

    @staticmethod
    def df(x):
        return -_TWO_OVER_SQRT_PI * np.exp(-x * x)


class Erfinv(OfOutput):
    """The inverse of erf on (-1, 1), ±inf at ±1; d/dx = √π/2·exp(erfinv(x)²)."""
    @staticmethod
    def f(x):
        return _erfinv(x)

    @staticmethod
    def df(y):
        return np.exp(y * y) / _TWO_OVER_SQRT_PI


class Lgamma(OfInput):
    """log|Γ(x)|; d/dx = ψ(x), the digamma function."""
    @staticmethod
    def f(x):
        return _in_float64(_lgamma, x)

    @staticmethod
    def df(x):
        return _in_float64(_digamma, x)


class Digamma(OfInput):
    """ψ(x) = Γ'(x) / Γ(x); d/dx = ψ'(x), the trigamma function."""
    @staticmethod
    def f(x):
        return _in_float64(_digamma, x)

    @staticmethod
    def df(x):
        return _in_float64(_trigamma, x)


# ----------------------------------------------------------------------------- special functions

def _in_float64(fn, x):
    """``fn`` (written for float64) applied to x, the result in x's dtype (a value past
    the dtype's range rounds to inf, silently as in PyTorch)."""
    with np.errstate(over="ignore"):
        return fn(x.astype(np.float64, copy=False)).astype(x.dtype, copy=False)


def _horner(x, coefficients):
    """The polynomial c[0]·xⁿ + c[1]·xⁿ⁻¹ + ... + c[n] at x."""
    p = coefficients[0]
    for c in coefficients[1:]:
        p = p * x + c
    return p


_erfc_ufunc = None


def _erfc(x):
    """The C library's erfc elementwise: a Numba ufunc over ``math.erfc`` on the CPU
    (compiled on first use, cached on disk), ``cupyx.scipy.special.erfc`` on a GPU."""
    global _erfc_ufunc
    if type(x) is not np.ndarray and is_cupy_array(x):
        from cupyx.scipy.special import erfc as gpu_erfc
        return gpu_erfc(x)
    if _erfc_ufunc is None:
        from ..backend import import_numba

        @import_numba().vectorize(cache=True)
        def erfc(v):
            return math.erfc(v)
        _erfc_ufunc = erfc
    wide = x if x.dtype.itemsize >= 4 else x.astype(np.float32)    # Numba has no float16
    return _erfc_ufunc(wide).astype(x.dtype, copy=False)


# Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011): single-precision
# polynomials in w = -log((1 - x)(1 + x)), central (w < 5) and tail.
_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                  0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
               0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def _erfinv(x):
    """erfinv in float64. A first guess good to ~1e-3: Giles' polynomials (made for
    float32, so valid while w = -log(1 - x²) < 16) or, beyond, the asymptotic inverse
    of erfc(t) ~ exp(-t²) / (t√π). Then three Newton steps, each squaring the error: on
    erf(t) = |x| for |x| <= 1/2; on log erfc(t) = log(1 - |x|) above, where erf(t) would
    round to 1 and lose the digits that decide t. ±1 gives ±inf, |x| > 1 NaN."""
    from .activation import _erf
    x64 = x.astype(np.float64, copy=False)
    ax = np.abs(x64)
    q = 1 - ax                                          # exact for |x| >= 1/2
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w = -np.log(q * (1 + ax))
        central = _horner(w - 2.5, _GILES_CENTRAL)
        tail = _horner(np.sqrt(w) - 3, _GILES_TAIL)
        giles = np.where(w < 5, central, tail) * ax
        big = -np.log(q)                                # t² + log(t√π) = big
        far = np.sqrt(big - np.log(math.sqrt(math.pi) * np.sqrt(big)))
        far = np.sqrt(big - np.log(math.sqrt(math.pi) * far))
        t = np.where(w < 16, giles, far)                # erfinv(|x|) >= 0
        for _ in range(3):
            slope = _TWO_OVER_SQRT_PI * np.exp(-t * t)  # erf'(t)
            c = _erfc(t)
            t = np.where(ax > 0.5, t + np.log(c / q) * c / slope, t - (_erf(t) - ax) / slope)
    t = np.where(ax == 1, math.inf, t)
    return np.copysign(t, x64).astype(x.dtype, copy=False)


# Lanczos' approximation with g = 7 and 9 terms (Numerical Recipes; Godfrey's
# coefficients): Γ(z + 1) = √(2π)·t^(z + 1/2)·e^(-t)·A(z), t = z + g + 1/2.
_LANCZOS_G = 7
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028,
            771.32342877765313, -176.61502916214059, 12.507343278686905,
            -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7)


def _lgamma(x):
    """log|Γ(x)| (float64): Lanczos for x >= 1/2, else Euler's reflection
    Γ(x)Γ(1 - x) = π / sin(πx), with sin(πx) taken from x's distance to the nearest
    integer so that large negative x keep their accuracy. +inf at the poles."""
    reflect = x < 0.5
    z = np.where(reflect, 1 - x, x) - 1                       # Lanczos at z + 1 >= 1/2
    a = _LANCZOS[0]
    for i, c in enumerate(_LANCZOS[1:], start=1):
        a = a + c / (z + i)
    t = z + (_LANCZOS_G + 0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        lg = 0.5 * math.log(2 * math.pi) + (z + 0.5) * np.log(t) - t + np.log(a)
        r = x - np.round(x)                                   # exact, |r| <= 1/2
        y = np.where(reflect, np.log(math.pi / np.abs(np.sin(math.pi * r))) - lg, lg)
    y = np.where((x == 1) | (x == 2), 0.0, y)                # Γ(1) = Γ(2) = 1 exactly
    return np.where(np.isinf(x), math.inf, y)


_PSI_10 = 2.25175258906672110764                              # ψ(10)
# ψ(z) ~ log z - 1/(2z) - Σ B₂ₖ / (2k·z²ᵏ): the coefficients of 1/z¹⁴ ... 1/z², so that
# the sum is u·_horner(u, _DIGAMMA_SERIES) with u = 1/z².
_DIGAMMA_SERIES = (1 / 12, -691 / 32760, 1 / 132, -1 / 240, 1 / 252, -1 / 120, 1 / 12)


def _digamma(x):
    """ψ(x) (float64), by Cephes' method as PyTorch: the reflection
    ψ(x) = ψ(1 - x) - π/tan(πx) for x < 0, the recurrence ψ(z) = ψ(z + 1) - 1/z up to
    z >= 10, then the asymptotic series. ±inf at ∓0, NaN at the negative integers."""
    neg = x < 0
    z = np.where(neg, 1 - x, x)
    acc = np.zeros_like(z)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _ in range(10):                                   # z > 0, so 10 steps suffice
            small = z < 10
            acc = acc - np.where(small, 1 / z, 0.0)
            z = np.where(small, z + 1, z)
        u = 1 / (z * z)
        psi = acc + np.log(z) - 0.5 / z - u * _horner(u, _DIGAMMA_SERIES)
        psi = np.where(z == 10, acc + _PSI_10, psi)
        reflection = math.pi / np.tan(math.pi * (x - np.trunc(x)))
        psi = np.where(neg, psi - reflection, psi)
    psi = np.where(x == 0, np.copysign(math.inf, -x), psi)
    return np.where(neg & (x == np.trunc(x)), math.nan, psi)


def _trigamma(x):
    """ψ'(x) (float64), as PyTorch: the reflection ψ'(x) = π²/sin²(πx) - ψ'(1 - x) for
    x < 1/2, six steps of ψ'(z) = ψ'(z + 1) + 1/z², then the asymptotic series
    1/z + 1/(2z²) + 1/(6z³) - 1/(30z⁵) + 1/(42z⁷)."""
    reflect = x < 0.5
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s = np.sin(math.pi * x)
        acc = np.where(reflect, -math.pi ** 2 / (s * s), 0.0)
        z = np.where(reflect, 1 - x, x)
        for _ in range(6):
            acc = acc + 1 / (z * z)
            z = z + 1
        u = 1 / (z * z)
        acc = acc + (1 + 1 / (2 * z) + u * (1 / 6 - u * (1 / 30 - u / 42))) / z
    return np.where(reflect, -acc, acc)


# ----------------------------------------------------------------------------- wrappers

def fmod(input, other):
    """C-style remainder input - trunc(input / other)·other: the result has the sign of
    ``input`` (``remainder`` takes the sign of ``other``). Integer dtypes are kept;
    integer division by zero raises. d/d input = 1, d/d other = -trunc(input / other).

    Shape: the broadcast shape of ``input`` and ``other`` (a tensor or a number).

    Example::

        mc.fmod(mc.tensor([5, -5]), 3)            # tensor([2, -2])
    """
    need_tensor("fmod", input=input)
    a, b = promote(input, other)
    E._check_int_divisor("fmod", a, b)
    return _binary(Fmod, a, b)


def frac(input):
    """The fractional part, input - trunc(input), with input's sign; floating only.

    Example::

        mc.frac(mc.tensor([2.5, -2.5]))           # tensor([0.5, -0.5])
    """
    x = as_tensor_arg(input)
    if x.dtype.kind != "f":
        raise TypeError(f"frac: expected a floating-point tensor, got {x.dtype}; an "
                        f"integer has no fractional part (convert with .float())")
    return Frac.apply(x)


def copysign(input, other):
    """|input| with the sign of ``other`` (a tensor or a number; -0.0 counts as
    negative). Integers give the default float dtype.

    Example::

        mc.copysign(mc.tensor([1., -2.]), -1.)    # tensor([-1., -2.])
    """
    need_tensor("copysign", input=input)
    return _binary(Copysign, *_float_operands(input, other))


def heaviside(input, values):
    """The step function: 0 where input < 0, ``values`` where input == 0, 1 where
    input > 0 (0 for NaN). Both are tensors of one dtype; they broadcast.
    Deliberate difference: the result never requires grad (PyTorch raises when a backward
    reaches it).

    Example::

        mc.heaviside(mc.tensor([-1., 0., 2.]), mc.tensor([0.5]))   # tensor([0., 0.5, 1.])
    """
    need_tensor("heaviside", input=input, values=values)
    if input.dtype != values.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different "
                           f"dtypes ({input.dtype} and {values.dtype}): convert values "
                           f"with .to({input.dtype})")
    _check_broadcast("heaviside", input, values)
    xp, (x, v) = same_module(_arr(input), _arr(values))
    return Tensor(xp.where(x == 0, v, x > 0).astype(x.dtype, copy=False))


def _check_broadcast(name, a, b):
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{name}: shapes {list(a.shape)} and {list(b.shape)} do not broadcast: "
                         f"trailing dimensions must be equal or 1") from None


def fmax(input, other):
    """Elementwise maximum that ignores NaN: where one operand is NaN the other is taken
    (``maximum`` propagates NaN). Both must be tensors.

    Example::

        mc.fmax(mc.tensor([1., nan]), mc.tensor([nan, 2.]))   # tensor([1., 2.])
    """
    need_tensor("fmax", input=input, other=other)
    return _binary(Fmax, *promote(input, other))


def fmin(input, other):
    """Elementwise minimum that ignores NaN (``minimum`` propagates NaN).

    Example::

        mc.fmin(mc.tensor([1., nan]), mc.tensor([nan, 2.]))   # tensor([1., 2.])
    """
    need_tensor("fmin", input=input, other=other)
    return _binary(Fmin, *promote(input, other))


def float_power(input, exponent):
    """input ** exponent computed in float64, whatever the dtypes (the result is always
    float64). Either may be a number, not both. Gradients as :func:`pow`.

    Example::

        mc.float_power(mc.tensor([2]), 3)         # tensor([8.], dtype=float64)
    """
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError(f"float_power(): expected a Tensor input or exponent, got "
                        f"{type(input).__name__} and {type(exponent).__name__}")
    base = input.to(np.float64) if isinstance(input, Tensor) else float(input)
    exp = exponent.to(np.float64) if isinstance(exponent, Tensor) else float(exponent)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):   # NaN, inf: quiet
        return E.pow(base, exp)


_float_power_into_self = _inplace_method(float_power, "float_power_")


def float_power_(self, exponent):
    """In-place float_power: only a float64 tensor can hold the result (as PyTorch)."""
    if self.dtype != np.float64:
        raise RuntimeError(f"the base given to float_power_ has dtype {self.dtype} but the "
                           f"operation's result requires dtype float64: use "
                           f"x = x.double() first, or the out-of-place float_power")
    return _float_power_into_self(self, exponent)


signbit = _predicate(np.signbit)
signbit.__doc__ = """Whether each element's sign bit is set (True for -0.0 and negative
values, False for integers >= 0), as a bool tensor."""


def sgn(input):
    """The sign of each element (-1, 0 or 1); for real tensors the same as ``sign``."""
    return E.sign(input)


def positive(input):
    """``input`` itself (``+input``); refused for bool tensors, as in PyTorch."""
    if as_tensor_arg(input).dtype == np.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def logaddexp(input, other):
    """log(exp(input) + exp(other)), without overflow: a two-term logsumexp. Floating
    tensors only.

    Example::

        mc.logaddexp(mc.tensor([0.]), mc.tensor([0.]))   # tensor([0.6931])
    """
    return _binary(Logaddexp, *float_pair("logaddexp", input, other))


def logaddexp2(input, other):
    """log2(2 ** input + 2 ** other), without overflow. Floating tensors only.

    Example::

        mc.logaddexp2(mc.tensor([1.]), mc.tensor([1.]))  # tensor([2.])
    """
    return _binary(Logaddexp2, *float_pair("logaddexp2", input, other))


def exp2(input):
    """2 ** input; integers give the default float dtype.

    Example::

        mc.exp2(mc.tensor([3]))                   # tensor([8.])
    """
    return Exp2.apply(floating(input))


def xlogy(input, other):
    """input · log(other), and 0 where input == 0 (so 0·log 0 = 0), NaN where other is
    NaN. Either may be a number, not both; integers give the default float dtype.

    Example::

        mc.xlogy(mc.tensor([0., 2.]), mc.tensor([0., 1.]))   # tensor([0., 0.])
    """
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"xlogy(): expected a Tensor input or other, got "
                        f"{type(input).__name__} and {type(other).__name__}")
    return _binary(Xlogy, *_float_operands(input, other))


def logit(input, eps=None):
    """log(p / (1 - p)), the inverse of sigmoid. With ``eps``, p is first clamped into
    [eps, 1 - eps] (and the gradient is 0 outside); a negative eps means none.

    Example::

        mc.logit(mc.tensor([0.5, 0.75]))          # tensor([0.0000, 1.0986])
    """
    return Logit.apply(floating(input), -1.0 if eps is None else float(eps))


def erfc(input):
    """The complementary error function 1 - erf(x), accurate where erf(x) is near 1.

    Example::

        mc.erfc(mc.tensor([0., 1.]))              # tensor([1.0000, 0.1573])
    """
    return Erfc.apply(floating(input))


def erfinv(input):
    """The inverse error function on [-1, 1] (±inf at ±1, NaN beyond):
    ``erfinv(erf(x)) == x``.

    Example::

        mc.erfinv(mc.tensor([0., 0.5]))           # tensor([0.0000, 0.4769])
    """
    return Erfinv.apply(floating(input))


def lgamma(input):
    """log|Γ(input)|, +inf at 0 and the negative integers.

    Example::

        mc.lgamma(mc.tensor([0.5, 3.]))           # tensor([0.5724, 0.6931])
    """
    return Lgamma.apply(floating(input))


def digamma(input):
    """ψ(x) = d/dx log Γ(x): -inf at +0, +inf at -0, NaN at the negative integers.

    Example::

        mc.digamma(mc.tensor([1.]))               # tensor([-0.5772])
    """
    return Digamma.apply(floating(input))


def ldexp(input, other):
    """input · 2^other, elementwise (they broadcast). Integer operands give the default
    float dtype; otherwise the promoted float dtype, as PyTorch. Differentiable in both:
    d/dinput = 2^other, d/dother = input · 2^other · ln 2 (it is ``input * 2 ** other``).

    Example::

        mc.ldexp(mc.tensor([1., 3.]), mc.tensor([2, -1]))     # tensor([4., 1.5])
    """
    need_tensor("ldexp", input=input, other=other)
    _check_broadcast("ldexp", input, other)
    a, b = _float_operands(input, other)
    return E.mul(a, E.pow(2.0, b))


def ldexp_(self, other):
    """In-place :func:`ldexp`; the result must fit ``self``'s dtype (so a float tensor)."""
    if self.dtype.kind != "f":
        raise RuntimeError(f"ldexp_: the result is floating and can't be cast to the "
                           f"{self.dtype} tensor in place: use mc.ldexp(x, other)")
    return self._update("ldexp_", lambda t: ldexp(t, other).to(self.dtype), other)


def nextafter(input, other):
    """The next representable floating value after ``input`` towards ``other``
    (C's nextafter). Both floating tensors; they promote and broadcast.
    Deliberate difference: the result never requires grad (PyTorch raises when a backward
    reaches it).

    Example::

        mc.nextafter(mc.tensor([1.]), mc.tensor([2.]))       # tensor([1.0000001])
    """
    need_tensor("nextafter", input=input, other=other)
    for name, t in (("input", input), ("other", other)):
        if t.dtype.kind != "f":
            raise TypeError(f"nextafter: {name} must be a floating tensor, got {t.dtype}: "
                            f"convert it with .float()")
    _check_broadcast("nextafter", input, other)
    a, b = promote(input, other)
    xp, (x, y) = same_module(_arr(a), _arr(b))
    return Tensor(xp.nextafter(x, y))


def nextafter_(self, other):
    """In-place :func:`nextafter` (``other`` is cast to ``self``'s dtype)."""
    return self._update("nextafter_", lambda t: nextafter(t, other).to(self.dtype), other)


# ----------------------------------------------------------------------------- aliases

def subtract(input, other, *, alpha=1):
    """Alias of :func:`sub`: input - alpha·other."""
    return E.sub(input, other, alpha=alpha)


def rsub(input, other, *, alpha=1):
    """other - alpha·input (subtraction with the operands swapped)."""
    need_tensor("rsub", input=input)
    return E.sub(other, input, alpha=alpha)


def divide(input, other, *, rounding_mode=None):
    """Alias of :func:`div`."""
    return E.div(input, other, rounding_mode=rounding_mode)


def true_divide(dividend, divisor):
    """Alias of :func:`div` with ``rounding_mode=None``."""
    return E.div(dividend, divisor)


negative, multiply, absolute, fix = E.neg, E.mul, E.abs, E.trunc
greater, greater_equal, less, less_equal, not_equal = E.gt, E.ge, E.lt, E.le, E.ne
