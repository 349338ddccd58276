"""``Identity``, ``Linear`` (y = x Wᵀ + b) and ``Bilinear`` (y = x1ᵀ W x2 + b)."""
import math

import numpy as np

from ..backend import get_default_dtype
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to remove a classifier head).

    Example::

        model.fc = nn.Identity()        # model now outputs features
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """Fully connected layer: ``y = x Wᵀ + b``.

    Args:
        in_features: size of each input sample's last dimension.
        out_features: size of each output sample's last dimension.
        bias: learn an additive bias (default True).
        dtype: parameter dtype (float32 by default).

    Shape: (*, in_features) -> (*, out_features).

    Weights start as PyTorch's: W ~ U(-1/√in, 1/√in) (``kaiming_uniform_(a=√5)``), and
    b ~ U(-1/√in, 1/√in).

    Example::

        fc = nn.Linear(20, 30)
        y = fc(mc.randn(128, 20))        # (128, 30)
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        dtype = np.dtype(dtype or get_default_dtype())
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype))
        if bias:
            self.bias = Parameter(np.empty((self.out_features,), dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        self._place(device)

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        p = self._parameters        # direct lookup: skips Module.__getattr__ on a hot path
        # a reparametrised weight (nn.utils.weight_norm...) is an attribute, not a parameter
        weight = p["weight"] if "weight" in p else self.weight
        return F.linear(input, weight, p["bias"])

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under PyTorch's other name for it: the type of
    ``MultiheadAttention.out_proj`` (PyTorch keeps dynamic quantization off it). Same
    parameters, same state_dict keys, same repr apart from the name."""


class Bilinear(Module):
    """Bilinear layer: ``y[o] = x1ᵀ W[o] x2 + b[o]``.

    Args:
        in1_features, in2_features: sizes of the two inputs' last dimension.
        out_features: output size. bias: learn b (default True).

    Shape: (*, in1_features), (*, in2_features) -> (*, out_features).

    W and b start as PyTorch's: U(-1/√in1_features, 1/√in1_features).

    Example::

        layer = nn.Bilinear(20, 30, 40)
        y = layer(mc.randn(128, 20), mc.randn(128, 30))     # (128, 40)
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        self.in1_features, self.in2_features = int(in1_features), int(in2_features)
        self.out_features = int(out_features)
        dtype = np.dtype(dtype or get_default_dtype())
        shape = (self.out_features, self.in1_features, self.in2_features)
        self.weight = Parameter(np.empty(shape, dtype))
        if bias:
            self.bias = Parameter(np.empty((self.out_features,), dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        self._place(device)

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.in1_features) if self.in1_features > 0 else 0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
