"""Inverse and hyperbolic trigonometry (asin ... atanh), degrees/radians, hypot and sinc.

Most of these are ``y = f(x)`` with a derivative that reads only x (or only y). Such an
op is a :class:`OfInput` (or :class:`OfOutput`) subclass that names ``f`` and ``df`` side
by side; the base class saves the one array ``df`` needs and multiplies the incoming
gradient by it. Integer and bool inputs give the default float dtype, as in PyTorch.
"""
import math

import numpy as np

from ..autograd import Function
from ..backend import get_default_dtype
from ..tensor import Tensor, as_tensor_arg
from .elementwise import promote, _float_unary, _binary, atan2


class OfInput(Function):
    """y = f(x) with dy/dx = df(x), for subclasses that define ``f`` and ``df``; saved: x."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return ctx.f(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return gy * ctx.df(x)


class OfOutput(Function):
    """y = f(x) with dy/dx = df(y), for subclasses that define ``f`` and ``df``; saved: y."""
    @staticmethod
    def forward(ctx, x):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            y = ctx.f(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return gy * ctx.df(y)


class Asin(OfInput):
    """d/dx asin(x) = 1 / √(1 - x²) (inf at ±1, NaN outside [-1, 1])."""
    f = staticmethod(np.arcsin)

    @staticmethod
    def df(x):
        return 1 / np.sqrt(1 - x * x)


class Acos(OfInput):
    """d/dx acos(x) = -1 / √(1 - x²)."""
    f = staticmethod(np.arccos)

    @staticmethod
    def df(x):
        return -1 / np.sqrt(1 - x * x)


class Atan(OfInput):
    """d/dx atan(x) = 1 / (1 + x²)."""
    f = staticmethod(np.arctan)

    @staticmethod
    def df(x):
        return 1 / (1 + x * x)


class Sinh(OfInput):
    """d/dx sinh(x) = cosh(x)."""
    f = staticmethod(np.sinh)
    df = staticmethod(np.cosh)


class Cosh(OfInput):
    """d/dx cosh(x) = sinh(x)."""
    f = staticmethod(np.cosh)
    df = staticmethod(np.sinh)


class Asinh(OfInput):
    """d/dx asinh(x) = 1 / √(x² + 1)."""
    f = staticmethod(np.arcsinh)

    @staticmethod
    def df(x):
        return 1 / np.sqrt(x * x + 1)


class Acosh(OfInput):
    """d/dx acosh(x) = 1 / √(x² - 1) (inf at 1, NaN below)."""
    f = staticmethod(np.arccosh)

    @staticmethod
    def df(x):
        return 1 / np.sqrt(x * x - 1)


class Atanh(OfInput):
    """d/dx atanh(x) = 1 / (1 - x²)."""
    f = staticmethod(np.arctanh)

    @staticmethod
    def df(x):
        return 1 / (1 - x * x)


class Sinc(OfInput):
    """sinc(x) = sin(πx) / (πx), 1 at 0; d/dx = (πx·cos(πx) - sin(πx)) / (πx²), 0 at 0."""
    @staticmethod
    def f(x):
        px = x * math.pi
        return np.where(x == 0, x.dtype.type(1), np.sin(px) / px)

    @staticmethod
    def df(x):
        px = x * math.pi
        # 0 at 0, and where px·x underflows (|x| < 2e-23 in float32): the limit there
        return np.where(px * x == 0, x.dtype.type(0), (px * np.cos(px) - np.sin(px)) / (px * x))


class Scale(Function):
    """y = c·x for a constant c (deg2rad, rad2deg); d/dx = c."""
    @staticmethod
    def forward(ctx, x, c):
        ctx.c = c
        return x * c

    @staticmethod
    def backward(ctx, gy):
        return gy * ctx.c, None


class Hypot(Function):
    """y = √(a² + b²); d/da = a / y, d/db = b / y (NaN at the origin, as PyTorch).
    Saved: a, b, y."""
    @staticmethod
    def forward(ctx, a, b):
        y = np.hypot(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        a, b, y = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            ga = gy * a / y if ctx.needs_input_grad[0] else None
            gb = gy * b / y if ctx.needs_input_grad[1] else None
        return ga, gb


# ----------------------------------------------------------------------------- wrappers

def asin(input):
    """Arcsine, in [-π/2, π/2]; NaN outside [-1, 1]. Integers give the default float dtype.

    Example::

        mc.asin(mc.tensor([0., 1.]))              # tensor([0.0000, 1.5708])
    """
    return _float_unary(Asin, input)


def acos(input):
    """Arccosine, in [0, π]; NaN outside [-1, 1].

    Example::

        mc.acos(mc.tensor([1., 0.]))              # tensor([0.0000, 1.5708])
    """
    return _float_unary(Acos, input)


def atan(input):
    """Arctangent, in (-π/2, π/2).

    Example::

        mc.atan(mc.tensor([1.]))                  # tensor([0.7854])
    """
    return _float_unary(Atan, input)


def sinh(input):
    """Hyperbolic sine, (eˣ - e⁻ˣ) / 2.

    Example::

        mc.sinh(mc.tensor([1.]))                  # tensor([1.1752])
    """
    return _float_unary(Sinh, input)


def cosh(input):
    """Hyperbolic cosine, (eˣ + e⁻ˣ) / 2.

    Example::

        mc.cosh(mc.tensor([1.]))                  # tensor([1.5431])
    """
    return _float_unary(Cosh, input)


def asinh(input):
    """Inverse hyperbolic sine, log(x + √(x² + 1)).

    Example::

        mc.asinh(mc.tensor([1.]))                 # tensor([0.8814])
    """
    return _float_unary(Asinh, input)


def acosh(input):
    """Inverse hyperbolic cosine, log(x + √(x² - 1)); NaN below 1.

    Example::

        mc.acosh(mc.tensor([2.]))                 # tensor([1.3170])
    """
    return _float_unary(Acosh, input)


def atanh(input):
    """Inverse hyperbolic tangent, log((1 + x) / (1 - x)) / 2; ±inf at ±1, NaN beyond.

    Example::

        mc.atanh(mc.tensor([0.5]))                # tensor([0.5493])
    """
    return _float_unary(Atanh, input)


def sinc(input):
    """The normalized sinc, sin(πx) / (πx), and 1 at x = 0.

    Example::

        mc.sinc(mc.tensor([0., 0.5]))             # tensor([1.0000, 0.6366])
    """
    return _float_unary(Sinc, input)


def deg2rad(input):
    """Degrees to radians, x·π/180.

    Example::

        mc.deg2rad(mc.tensor([180.]))             # tensor([3.1416])
    """
    return Scale.apply(floating(input), math.pi / 180)


def rad2deg(input):
    """Radians to degrees, x·180/π.

    Example::

        mc.rad2deg(mc.tensor([3.1416]))           # tensor([180.0004])
    """
    return Scale.apply(floating(input), 180 / math.pi)


def hypot(input, other):
    """√(input² + other²), elementwise and broadcasting, without overflow for large
    values. Both operands must be tensors and the result floating (as PyTorch).

    Shape: the broadcast shape of ``input`` and ``other``.

    Example::

        mc.hypot(mc.tensor([3.]), mc.tensor([4.]))   # tensor([5.])
    """
    return _binary(Hypot, *float_pair("hypot", input, other))


def floating(input):
    """``input`` as a tensor, converted to the default float dtype unless it is floating."""
    x = as_tensor_arg(input)
    return x if x.dtype.kind == "f" else x.to(get_default_dtype())


def need_tensor(name, **operands):
    """Raise PyTorch's TypeError for an operand (given by keyword) that is not a tensor."""
    for arg, value in operands.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not "
                            f"{type(value).__name__}; wrap numbers with mc.tensor(...)")


def float_pair(name, input, other):
    """Both operands of a floating-only binary op (hypot, logaddexp...): they must be
    tensors, and promote to a floating dtype (an int64 tensor with a float32 one is fine,
    two integer tensors are not). Deliberate difference: TypeError where PyTorch raises
    NotImplementedError for an integer dtype."""
    need_tensor(name, input=input, other=other)
    a, b = promote(input, other)
    if a.dtype.kind != "f":
        raise TypeError(f"{name}: expected floating-point tensors, got {input.dtype} and "
                        f"{other.dtype}; convert one with .float()")
    return a, b


arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh
arctan2 = atan2
