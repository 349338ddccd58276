"""Convolution layers: ``Conv1d``, ``Conv2d``, ``Conv3d``, ``ConvTranspose1d/2d/3d``.

They hold the weight and bias and call ``F.conv{1,2,3}d`` / ``F.conv_transpose{1,2,3}d``
(``minicv.ops.conv``). Output size per spatial dim, for input size L:

    Conv:            floor((L + 2·padding - dilation·(k - 1) - 1) / stride) + 1
    ConvTranspose:   (L - 1)·stride - 2·padding + dilation·(k - 1) + output_padding + 1
"""
import math

import numpy as np

from ..backend import get_default_dtype
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


def _ntuple(value, n, name):
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value}")
        return tuple(int(v) for v in value)
    return (int(value),) * n


def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):
    """floor((L + 2p - d(k - 1) - 1) / s) + 1: the shared output-size formula."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


class _ConvNd(Module):
    _nd = 2
    transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", output_padding=0,
                 device=None, dtype=None):
        super().__init__()
        n, name = self._nd, type(self).__name__
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by "
                             f"groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by "
                             f"groups ({groups})")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"{name}: padding_mode must be one of 'zeros', 'reflect', "
                             f"'replicate' or 'circular', got {padding_mode!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _ntuple(kernel_size, n, "kernel_size")
        self.stride = _ntuple(stride, n, "stride")
        self.dilation = _ntuple(dilation, n, "dilation")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding string must be 'same' or 'valid', got "
                                 f"{padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _ntuple(padding, n, "padding")
        self.output_padding = _ntuple(output_padding, n, "output_padding")
        self.groups, self.padding_mode = int(groups), padding_mode
        dtype = np.dtype(dtype or get_default_dtype())
        if self.transposed:
            shape = (self.in_channels, self.out_channels // groups) + self.kernel_size
        else:
            shape = (self.out_channels, self.in_channels // groups) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype))
        if bias:
            self.bias = Parameter(np.empty((self.out_channels,), dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        self._place(device)

    def reset_parameters(self):
        # PyTorch's default: kaiming_uniform_(a=√5) = U(-1/√fan_in, 1/√fan_in), same bias
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _check_input(self, x):
        n, name = self._nd, type(self).__name__
        if x.ndim not in (n + 1, n + 2):
            raise ValueError(f"{name}: expected a {n + 2}-D input (N, C, *spatial) or an "
                             f"unbatched {n + 1}-D input, got shape {list(x.shape)}")
        c = x.shape[-n - 1]
        if c != self.in_channels:
            hint = " (is the input channels-last? minicv expects N, C, H, W: use " \
                "x.permute(0, 3, 1, 2))" if x.shape[-1] == self.in_channels else ""
            raise ValueError(f"{name}: expected input{list(x.shape)} to have "
                             f"{self.in_channels} channels (dim {x.ndim - n - 1}), but got "
                             f"{c} channels instead{hint}")

    def _explicit_padding(self, x):
        """Pad with ``padding_mode`` in Python (non-zero modes); returns (x, conv padding)."""
        if self.padding_mode == "zeros":
            return x, self.padding
        if self.padding == "valid":
            return x, 0
        pads = []
        for i in reversed(range(self._nd)):          # F.pad wants the last dim first
            if self.padding == "same":
                total = self.dilation[i] * (self.kernel_size[i] - 1)
                pads += [total // 2, total - total // 2]
            else:
                pads += [self.padding[i], self.padding[i]]
        return F.pad(x, pads, mode=self.padding_mode), 0

    def extra_repr(self):
        n = self._nd
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    """Conv1d/2d/3d: PyTorch's constructor (no output_padding) and one forward that calls
    ``F.conv{_nd}d``."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                 dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device=device, dtype=dtype)

    def forward(self, input):
        self._check_input(input)
        x, pad = self._explicit_padding(input)
        conv = getattr(F, f"conv{self._nd}d")
        return conv(x, self.weight, self.bias, self.stride, pad, self.dilation, self.groups)


class Conv1d(_Conv):
    """1-D convolution over (N, C_in, L).

    Args:
        in_channels, out_channels, kernel_size: as in Conv2d.
        stride, padding ('same', 'valid' or int), dilation, groups, bias, padding_mode.

    Shape: (N, C_in, L) -> (N, C_out, floor((L + 2p - d(k-1) - 1)/s) + 1).

    Example::

        y = nn.Conv1d(16, 33, 3, stride=2)(mc.randn(20, 16, 50))   # (20, 33, 24)
    """
    _nd = 1


class Conv2d(_Conv):
    """2-D convolution (cross-correlation) over NCHW images.

    Args:
        in_channels, out_channels: channels of the input and the output.
        kernel_size: int or (kh, kw). stride, dilation: int or pair.
        padding: int, pair, 'same' (output size = input size, stride 1) or 'valid' (0).
        groups: split channels into groups (groups = in_channels: depthwise).
        bias: learn a bias per output channel. padding_mode: 'zeros', 'reflect',
            'replicate' or 'circular'.

    Shape: (N, C_in, H, W) -> (N, C_out, H_out, W_out) (unbatched: (C_in, H, W) ->
        (C_out, H_out, W_out)) with
        H_out = floor((H + 2·padding[0] - dilation[0]·(kh - 1) - 1) / stride[0]) + 1
        (same for W).

    Example::

        conv = nn.Conv2d(3, 16, 3, padding=1)
        y = conv(mc.randn(8, 3, 32, 32))       # (8, 16, 32, 32)
    """
    _nd = 2


class Conv3d(_Conv):
    """3-D convolution over (N, C_in, D, H, W).

    Shape: each of D, H, W follows floor((L + 2p - d(k-1) - 1)/s) + 1.

    Example::

        y = nn.Conv3d(4, 8, 3, padding=1)(mc.randn(2, 4, 6, 8, 8))   # (2, 8, 6, 8, 8)
    """
    _nd = 3


class _ConvTransposeNd(_ConvNd):
    """ConvTranspose1d/2d/3d: PyTorch's constructor (output_padding, groups before bias,
    dilation last) and a forward that accepts ``output_size`` to pick output_padding."""
    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}, got '
                             f'{padding_mode!r}')
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an int or a tuple, not a string")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device=device,
                         dtype=dtype)
        # output_padding < max(stride, dilation) is checked in forward, as in PyTorch: it
        # is unused when forward gets output_size

    def _output_padding(self, x, output_size):
        if output_size is None:
            return self.output_padding
        n = self._nd
        size = list(output_size)
        if len(size) == x.ndim:
            size = size[x.ndim - n:]
        if len(size) != n:
            raise ValueError(f"{type(self).__name__}: output_size must have {n} or {x.ndim} "
                             f"elements (got {len(size)})")
        lo = [(x.shape[x.ndim - n + d] - 1) * self.stride[d] - 2 * self.padding[d]
              + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(n)]
        hi = [lo[d] + self.stride[d] - 1 for d in range(n)]
        for d in range(n):
            if not lo[d] <= size[d] <= hi[d]:
                raise ValueError(f"requested an output size of {list(size)}, but valid sizes "
                                 f"range from {lo} to {hi} (for an input of "
                                 f"{list(x.shape[x.ndim - n:])})")
        return tuple(size[d] - lo[d] for d in range(n))

    def forward(self, input, output_size=None):
        self._check_input(input)
        op = self._output_padding(input, output_size)
        conv = getattr(F, f"conv_transpose{self._nd}d")
        return conv(input, self.weight, self.bias, self.stride, self.padding, op, self.groups,
                    self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution over (N, C_in, L): upsampling of sequences.

    Args: as ConvTranspose2d, with ints or 1-tuples.

    Shape: (N, C_in, L) -> (N, C_out, L_out),
        L_out = (L - 1)·stride - 2·padding + dilation·(k - 1) + output_padding + 1.

    Weight shape: (in_channels, out_channels / groups, k).

    Example::

        y = nn.ConvTranspose1d(16, 8, 3, stride=2)(mc.randn(4, 16, 10))   # (4, 8, 21)
    """
    _nd = 1


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution (the gradient of Conv2d w.r.t. its input): upsampling.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias:
            as in Conv2d. output_padding: extra size added to one side of the output
            (< stride, to pick among the sizes that a strided Conv2d maps to one size; or
            < dilation, as PyTorch allows: the extra rows then get only what the taps
            reach, and the bias).

    Shape: (N, C_in, H, W) -> (N, C_out, H_out, W_out) (or unbatched (C_in, H, W) ->
        (C_out, H_out, W_out)) with
        H_out = (H - 1)·stride - 2·padding + dilation·(kh - 1) + output_padding + 1.
        ``forward(x, output_size=(H_out, W_out))`` picks output_padding for you.

    Weight shape: (in_channels, out_channels / groups, kh, kw).

    Example::

        up = nn.ConvTranspose2d(16, 8, 2, stride=2)
        y = up(mc.randn(1, 16, 10, 10))        # (1, 8, 20, 20)
    """
    _nd = 2


class ConvTranspose3d(_ConvTransposeNd):
    """Transposed 3-D convolution over (N, C_in, D, H, W): upsampling of volumes.

    Shape: each of D, H, W: (L - 1)·stride - 2·padding + dilation·(k - 1)
        + output_padding + 1.

    Weight shape: (in_channels, out_channels / groups, kd, kh, kw).

    Example::

        y = nn.ConvTranspose3d(4, 2, 2, stride=2)(mc.randn(1, 4, 3, 3, 3))  # (1, 2, 6, 6, 6)
    """
    _nd = 3
