"""Convolutions as differentiable ops: ``conv1d``, ``conv2d``, ``conv3d``,
``conv_transpose2d``, with PyTorch's arguments.

The arithmetic lives in ``minicv.kernels.conv_algo`` (im2col + GEMM, Winograd, direct
depthwise loops, chosen per layer), or in ``minicv.kernels.gpu.conv`` for CuPy arrays;
the ops here validate arguments, resolve ``padding="same"``/``"valid"``, and pair each
forward with its backward.
"""
import numpy as np

from ..autograd import Function
from ..kernels import conv_algo as K
from ..kernels.dispatch import kernels_for
from ..tensor import as_tensor_arg
from .shape import pad as _pad


class ConvNd(Function):
    """y = conv(x, w) + b; dx = conv_transpose(dy, w), dw = dy ⋆ x, db = Σdy; saved: x, w."""
    @staticmethod
    def forward(ctx, x, w, b, nd, stride, padding, dilation, groups, algo):
        ctx.save_for_backward(x, w)
        ctx.args = (nd, stride, padding, dilation, groups, algo)
        K = kernels_for(x)             # conv_algo on the CPU, kernels.gpu.conv on a GPU
        if nd == 1:
            return K.conv1d_forward(x, w, b, stride, padding, dilation, groups, algo)
        if nd == 3:
            return K.conv3d_forward(x, w, b, stride, padding, dilation, groups)
        return K.conv2d_forward(x, w, b, stride, padding, dilation, groups, algo)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        nd, stride, padding, dilation, groups, algo = ctx.args
        needs = ctx.needs_input_grad[:3]
        K = kernels_for(x)
        if nd == 1:
            g = K.conv1d_backward(x, w, gy, stride, padding, dilation, groups, algo, needs)
        elif nd == 3:
            g = K.conv3d_backward(x, w, gy, stride, padding, dilation, groups, needs)
        else:
            g = K.conv2d_backward(x, w, gy, stride, padding, dilation, groups, algo, needs)
        return tuple(g) + (None,) * 6


class ConvTranspose2d(Function):
    """y = col2im(Wᵀx) + b; dx = conv2d(dy, w); saved: x, w."""
    @staticmethod
    def forward(ctx, x, w, b, stride, padding, output_padding, groups, dilation):
        ctx.save_for_backward(x, w)
        ctx.args = (stride, padding, output_padding, groups, dilation)
        return kernels_for(x).conv_transpose2d_forward(x, w, b, *ctx.args)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        g = kernels_for(x).conv_transpose2d_backward(x, w, gy, *ctx.args,
                                                     needs=ctx.needs_input_grad[:3])
        return tuple(g) + (None,) * 5


def _ntuple(v, nd):
    return (int(v),) * nd if isinstance(v, (int, np.integer)) else tuple(int(a) for a in v)


def _check_tensors(name, x, w, b):
    x, w = as_tensor_arg(x), as_tensor_arg(w)
    for what, t in (("input", x), ("weight", w), ("bias", b)):
        if t is not None and t.dtype.kind != "f":
            raise TypeError(f"{name}: {what} has dtype {t.dtype}; convolutions need floating "
                            f"tensors: convert with .float()")
    if x.dtype != w.dtype or (b is not None and b.dtype != w.dtype):
        raise TypeError(f"{name}: input type ({x.dtype}) and weight type ({w.dtype})"
                        f"{'' if b is None else f' and bias type ({b.dtype})'} should be the "
                        f"same: convert the input with .to({w.dtype}) or the model with "
                        f"{'.float()' if w.dtype == np.float32 else '.double()'}")
    return x, w


def _same_padding(name, x, w, nd, stride, dilation):
    """Resolve padding="same": the total d*(k-1) split evenly, the odd pixel on the right."""
    if any(s != 1 for s in _ntuple(stride, nd)):
        raise ValueError(f"{name}: padding='same' is not supported for strided "
                         f"convolutions (stride={stride}); give explicit padding")
    dil = _ntuple(dilation, nd)
    total = [d * (k - 1) for d, k in zip(dil, w.shape[2:])]
    sym = tuple(t // 2 for t in total)
    extra = [t - 2 * s for t, s in zip(total, sym)]
    if any(extra):
        widths = []
        for e in reversed(extra):               # F.pad lists the last dimension first
            widths += [0, e]
        x = _pad(x, tuple(widths))
    return x, sym


def _conv(name, nd, x, w, b, stride, padding, dilation, groups, algo):
    x, w = _check_tensors(name, x, w, b)
    if x.ndim != nd + 2:
        raise ValueError(f"{name} expects a {nd + 2}-D input (batch, channels, {nd} spatial "
                         f"dims), got input of shape {list(x.shape)}"
                         + ("; add a batch dimension with x.unsqueeze(0)"
                            if x.ndim == nd + 1 else ""))
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        elif padding == "same":
            x, padding = _same_padding(name, x, w, nd, stride, dilation)
        else:
            raise ValueError(f"{name}: padding must be an int, a tuple, 'same' or 'valid', "
                             f"got {padding!r}")
    K.check_conv_args(x.shape, w.shape, None if b is None else b.shape, stride, padding,
                      dilation, groups, nd=nd)
    return ConvNd.apply(x, w, b, nd, _ntuple(stride, nd), _ntuple(padding, nd),
                        _ntuple(dilation, nd), int(groups), algo)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, algo="auto"):
    """2-D convolution (cross-correlation) over NCHW input.

    Args:
        input: (N, C_in, H, W). weight: (C_out, C_in/groups, kH, kW). bias: (C_out,).
        stride, padding, dilation: int or pair; padding may be "same" (stride 1) or "valid".
        groups: split channels into groups (groups = C_in: depthwise).
        algo: "auto" (measured heuristic, see ``minicv.kernels.conv_plan``), "im2col",
            "winograd" (3x3, stride 1, float32), or "reference" (slow NumPy oracle).

    Shape: H_out = floor((H + 2·padding - dilation·(kH - 1) - 1) / stride) + 1.

    Example::

        y = F.conv2d(mc.randn(8, 3, 32, 32), mc.randn(16, 3, 3, 3), padding=1)  # (8,16,32,32)
    """
    if algo not in K.ALGOS:
        raise ValueError(f"conv2d: algo must be one of {K.ALGOS}, got {algo!r}")
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups, algo)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution: input (N, C_in, L), weight (C_out, C_in/groups, k) -> (N, C_out, L_out).

    Shape: L_out = floor((L + 2·padding - dilation·(k - 1) - 1) / stride) + 1.
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups, "auto")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution over (N, C_in, D, H, W) volumes; weight (C_out, C_in/groups, kD, kH, kW).

    Shape: each of D, H, W as in :func:`conv2d`.
    """
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups, "auto")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """Transposed 2-D convolution (the adjoint of conv2d), used to upsample.

    Args:
        input: (N, C_in, H, W). weight: (C_in, C_out/groups, kH, kW). bias: (C_out,).

    Shape: H_out = (H - 1)·stride - 2·padding + dilation·(kH - 1) + output_padding + 1.
    """
    x, w = _check_tensors("conv_transpose2d", input, weight, bias)
    if x.ndim != 4:
        raise ValueError(f"conv_transpose2d expects a 4-D input (N, C, H, W), got shape "
                         f"{list(x.shape)}")
    K.check_conv_args(x.shape, w.shape, None if bias is None else bias.shape, stride,
                      padding, dilation, groups, transposed=True,
                      output_padding=output_padding)
    return ConvTranspose2d.apply(x, w, bias, _ntuple(stride, 2), _ntuple(padding, 2),
                                 _ntuple(output_padding, 2), int(groups),
                                 _ntuple(dilation, 2))


__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose2d"]
