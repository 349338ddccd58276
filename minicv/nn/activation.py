"""Activation layers: thin Module wrappers around ``minicv.nn.functional``.

Shape: every layer here maps (*) -> (*) (same shape); Softmax/LogSoftmax act along ``dim``.
"""
from . import functional as F
from .module import Module


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
