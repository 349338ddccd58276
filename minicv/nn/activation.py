"""Activation layers: thin Module wrappers around ``minicv.nn.functional``.

Shape: every layer here maps (*) -> (*) (same shape); Softmax/LogSoftmax act along ``dim``.
"""
import numpy as np

from ..backend import get_default_dtype
from . import functional as F
from . import init as nn_init
from .module import Module
from .parameter import Parameter


def _inplace(inplace):
    return "inplace=True" if inplace else ""


class ReLU(Module):
    """max(x, 0).

    Example::

        y = nn.ReLU()(mc.randn(4))
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input)

    def extra_repr(self):
        return _inplace(self.inplace)


class ReLU6(ReLU):
    """min(max(x, 0), 6)."""

    def forward(self, input):
        return F.relu6(input)


class Hardtanh(Module):
    """x clamped to [min_val, max_val].

    Example::

        y = nn.Hardtanh(-2.0, 2.0)(mc.randn(4))
    """

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if max_val <= min_val:
            raise ValueError(f"Hardtanh: max_val ({max_val}) must be larger than min_val "
                             f"({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + (
            ", inplace=True" if self.inplace else "")


class LeakyReLU(Module):
    """x if x > 0 else negative_slope·x.

    Example::

        y = nn.LeakyReLU(0.1)(mc.randn(4))
    """

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace
                                                          else "")


class ELU(Module):
    """x if x > 0 else alpha·(exp(x) - 1) (Clevert et al. 2015).

    Example::

        y = nn.ELU()(mc.randn(4))
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.elu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """x·Φ(x) (Hendrycks & Gimpel 2016); approximate='tanh' uses the tanh formula.

    Example::

        y = nn.GELU()(mc.randn(4))
    """

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x·sigmoid(x)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.silu(input)

    def extra_repr(self):
        return _inplace(self.inplace)


class Mish(Module):
    """x·tanh(softplus(x)) (Misra 2019).

    Example::

        y = nn.Mish()(mc.randn(4))
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.mish(input)

    def extra_repr(self):
        return _inplace(self.inplace)


class Sigmoid(Module):
    """1 / (1 + exp(-x)).

    Example::

        y = nn.Sigmoid()(mc.randn(4))
    """

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(x).

    Example::

        y = nn.Tanh()(mc.randn(4))
    """

    def forward(self, input):
        return F.tanh(input)


class Softplus(Module):
    """(1/β)·log(1 + exp(βx)), linear where βx > threshold."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """exp(x_i) / Σ_j exp(x_j) along ``dim`` (rows sum to 1).

    Example::

        p = nn.Softmax(dim=1)(mc.randn(2, 3))
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably.

    Example::

        logp = nn.LogSoftmax(dim=1)(mc.randn(2, 3))
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class _Elementwise(Module):
    """An activation without arguments (but PyTorch's optional ``inplace``)."""
    _fn = None
    _repr_inplace = True            # PyTorch's Hardswish/Hardsigmoid do not print it

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self)._fn(input)

    def extra_repr(self):
        return _inplace(self.inplace) if self._repr_inplace else ""


class Hardswish(_Elementwise):
    """x·relu6(x + 3)/6 (MobileNetV3). Example: ``y = nn.Hardswish()(mc.randn(4))``."""
    _fn = staticmethod(F.hardswish)
    _repr_inplace = False


class Hardsigmoid(_Elementwise):
    """relu6(x + 3)/6. Example: ``y = nn.Hardsigmoid()(mc.randn(4))``."""
    _fn = staticmethod(F.hardsigmoid)
    _repr_inplace = False


class SELU(_Elementwise):
    """scale·elu(x, alpha), alpha ≈ 1.6733, scale ≈ 1.0507 (self-normalising networks).

    Example::

        y = nn.SELU()(mc.randn(4))
    """
    _fn = staticmethod(F.selu)


class CELU(Module):
    """max(0, x) + min(0, alpha·(exp(x/alpha) - 1)).

    Example::

        y = nn.CELU(alpha=0.5)(mc.randn(4))
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.celu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class _NoArgs(Module):
    _fn = None

    def forward(self, input):
        return type(self)._fn(input)


class LogSigmoid(_NoArgs):
    """log(sigmoid(x)). Example: ``y = nn.LogSigmoid()(mc.randn(4))``."""
    _fn = staticmethod(F.logsigmoid)


class Softsign(_NoArgs):
    """x / (1 + |x|). Example: ``y = nn.Softsign()(mc.randn(4))``."""
    _fn = staticmethod(F.softsign)


class Tanhshrink(_NoArgs):
    """x - tanh(x). Example: ``y = nn.Tanhshrink()(mc.randn(4))``."""
    _fn = staticmethod(F.tanhshrink)


class Softshrink(Module):
    """x ∓ lambd outside [-lambd, lambd], 0 inside.

    Example::

        y = nn.Softshrink(0.5)(mc.randn(4))
    """

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.softshrink(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(Softshrink):
    """x outside [-lambd, lambd], 0 inside. Example: ``y = nn.Hardshrink()(mc.randn(4))``."""

    def forward(self, input):
        return F.hardshrink(input, self.lambd)


class Threshold(Module):
    """x where x > threshold, else value.

    Example::

        y = nn.Threshold(0.1, 20.0)(mc.randn(4))
    """

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}" + (
            ", inplace=True" if self.inplace else "")


class GLU(Module):
    """a·sigmoid(b) for the two halves a, b of the input along ``dim``.

    Shape: (*, 2n, *) -> (*, n, *).

    Example::

        y = nn.GLU()(mc.randn(4, 6))        # (4, 3)
    """

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class PReLU(Module):
    """x if x > 0 else a·x with a learnt slope a: one shared (``num_parameters=1``) or one
    per channel (``num_parameters=C``, channels in dim 1), all starting at ``init``.

    Shape: (N, C, *) or any shape with one shared slope -> same shape.

    Example::

        act = nn.PReLU(16)
        y = act(mc.randn(2, 16, 8, 8))
    """

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = int(num_parameters), init
        dtype = np.dtype(dtype or get_default_dtype())
        self.weight = Parameter(np.empty(self.num_parameters, dtype))
        self.reset_parameters()
        self._place(device)

    def reset_parameters(self):
        nn_init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """Randomized leaky ReLU: slopes ~ U(lower, upper) for x <= 0 in training (minicv's
    generator), the mean slope (lower + upper)/2 in eval.

    Example::

        y = nn.RReLU(0.1, 0.3)(mc.randn(4))
    """

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}" + (
            ", inplace=True" if self.inplace else "")


class Softmin(Softmax):
    """softmax(-x) along ``dim``. Example: ``p = nn.Softmin(dim=1)(mc.randn(2, 3))``."""

    def forward(self, input):
        return F.softmin(input, self.dim)


class Softmax2d(Module):
    """Softmax over the channels of every pixel: dim -3 of (N, C, H, W) or (C, H, W).

    Example::

        p = nn.Softmax2d()(mc.randn(2, 3, 4, 4))    # p.sum(1) is all ones
    """

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D "
                             f"instead")
        return F.softmax(input, -3)
