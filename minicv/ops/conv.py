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
    if x.ndim == nd + 1:            # unbatched (C, *spatial), as PyTorch accepts
        return _conv(name, nd, x.unsqueeze(0), w, b, stride, padding, dilation, groups,
                     algo).squeeze(0)
    if x.ndim != nd + 2:
        raise ValueError(f"{name} expects a {nd + 2}-D input (batch, channels, {nd} spatial "
                         f"dims) or an unbatched {nd + 1}-D one, got input of shape "
                         f"{list(x.shape)}")
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
        input: (N, C_in, H, W), or unbatched (C_in, H, W) (as in every conv here).
        weight: (C_out, C_in/groups, kH, kW). bias: (C_out,).
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
        input: (N, C_in, H, W) or unbatched (C_in, H, W). weight: (C_in, C_out/groups, kH,
            kW). bias: (C_out,). output_padding: rows/cols added at the bottom/right,
            smaller than stride or dilation.

    Shape: H_out = (H - 1)·stride - 2·padding + dilation·(kH - 1) + output_padding + 1.

    Example::

        y = F.conv_transpose2d(mc.randn(1, 4, 5, 5), mc.randn(4, 2, 2, 2), stride=2)  # (1,2,10,10)
    """
    x, w = _check_tensors("conv_transpose2d", input, weight, bias)
    if x.ndim == 3:                 # unbatched (C, H, W), as PyTorch accepts
        return conv_transpose2d(x.unsqueeze(0), w, bias, stride, padding, output_padding,
                                groups, dilation).squeeze(0)
    if x.ndim != 4:
        raise ValueError(f"conv_transpose2d expects a 4-D input (N, C, H, W) or an unbatched "
                         f"3-D one (C, H, W), got shape {list(x.shape)}")
    stride, padding, dilation = K.check_conv_args(
        x.shape, w.shape, None if bias is None else bias.shape, stride, padding, dilation,
        groups, transposed=True, output_padding=output_padding,
        output_padding_below_dilation=True)
    op = _ntuple(output_padding, 2)
    if any(o >= s for o, s in zip(op, stride)):
        return _conv_transpose2d_cropped(x, w, bias, stride, padding, op, int(groups),
                                         dilation)
    return ConvTranspose2d.apply(x, w, bias, stride, padding, op, int(groups), dilation)


def _conv_transpose2d_cropped(x, w, b, stride, padding, output_padding, groups, dilation):
    """A transposed conv whose output_padding reaches stride (PyTorch allows it below
    dilation). No conv2d of that stride maps so tall an output back to H rows, so col2im
    cannot write it directly. Instead take the uncropped result (padding 0, output_padding
    0: full = (H - 1)·s + d·(k - 1) + 1 rows) and keep its rows [p, p + H_out), with
    H_out = full - 2p + output_padding: F.pad crops p rows at the top and adds
    output_padding - p at the bottom, zeros that no tap reaches (only the bias)."""
    full = ConvTranspose2d.apply(x, w, None, stride, (0, 0), (0, 0), groups, dilation)
    out = [full.shape[2 + a] - 2 * padding[a] + output_padding[a] for a in range(2)]
    if min(out) < 1:
        raise ValueError(f"conv_transpose2d: output size {tuple(out)} is too small for "
                         f"input{list(x.shape)} and padding {padding}")
    (ph, pw), (oph, opw) = padding, output_padding
    y = _pad(full, (-pw, opw - pw, -ph, oph - ph))        # (N, C_out, H_out, W_out)
    return y if b is None else y + b.reshape(1, -1, 1, 1)


__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose2d"]
