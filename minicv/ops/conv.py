"""Convolutions as differentiable ops: ``conv1d``, ``conv2d``, ``conv3d``,
``conv_transpose1d``, ``conv_transpose2d``, ``conv_transpose3d``, with PyTorch's arguments.

The arithmetic lives in ``minicv.kernels.conv_algo`` (im2col + GEMM, Winograd, direct
depthwise loops, chosen per layer), or in ``minicv.kernels.gpu.conv`` for CuPy arrays;
the ops here validate arguments, resolve ``padding="same"``/``"valid"``, and pair each
forward with its backward.
"""
import numpy as np

from ..autograd import Function
from ..backend import get_array_module
from ..kernels import conv_algo as K
from ..kernels.dispatch import kernels_for
from ..tensor import as_tensor_arg
from .shape import pad as _pad


def _zero_if_missing(grads, arrays, needs):
    """``grads`` with zeros for a needed (dx, dw) a kernel left None: the GPU kernels loop
    over batch chunks, so an empty batch (N = 0) gives no chunk and no dw."""
    grads = tuple(grads)
    fixed = tuple(get_array_module(a).zeros(a.shape, a.dtype) if need and g is None else g
                  for g, a, need in zip(grads, arrays, needs))
    return fixed + grads[len(fixed):]


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
        return _zero_if_missing(g, (x, w), needs) + (None,) * 6


class ConvTransposeNd(Function):
    """y = col2im(Wᵀx) + b (2-D; col2vol in 3-D); dx = conv(dy, w); saved: x, w."""
    @staticmethod
    def forward(ctx, x, w, b, nd, stride, padding, output_padding, groups, dilation):
        ctx.save_for_backward(x, w)
        ctx.nd, ctx.args = nd, (stride, padding, output_padding, groups, dilation)
        return getattr(kernels_for(x), f"conv_transpose{nd}d_forward")(x, w, b, *ctx.args)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        bwd = getattr(kernels_for(x), f"conv_transpose{ctx.nd}d_backward")
        g = bwd(x, w, gy, *ctx.args, needs=ctx.needs_input_grad[:3])
        return _zero_if_missing(g, (x, w), ctx.needs_input_grad[:3]) + (None,) * 6


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
    return _conv_transpose(2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """Transposed 3-D convolution (the adjoint of conv3d) over (N, C_in, D, H, W) or
    unbatched (C_in, D, H, W); weight (C_in, C_out/groups, kD, kH, kW), bias (C_out,).

    Shape: each of D, H, W: (L - 1)·stride - 2·padding + dilation·(k - 1)
        + output_padding + 1.

    Example::

        y = F.conv_transpose3d(mc.randn(1, 4, 3, 3, 3), mc.randn(4, 2, 2, 2, 2), stride=2)
        # (1, 2, 6, 6, 6)
    """
    return _conv_transpose(3, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """Transposed 1-D convolution over (N, C_in, L) or unbatched (C_in, L); weight
    (C_in, C_out/groups, k). Computed as a 2-D one on rows of height 1.

    Shape: L_out = (L - 1)·stride - 2·padding + dilation·(k - 1) + output_padding + 1.

    Example::

        y = F.conv_transpose1d(mc.randn(1, 4, 5), mc.randn(4, 2, 3), stride=2)  # (1, 2, 11)
    """
    x, w = _check_tensors("conv_transpose1d", input, weight, bias)
    if x.ndim not in (2, 3) or w.ndim != 3:
        raise ValueError(f"conv_transpose1d expects a 3-D input (N, C, L) or an unbatched "
                         f"2-D one (C, L) and a 3-D weight, got input of shape "
                         f"{list(x.shape)} and weight of shape {list(w.shape)}")
    batched = x.shape if x.ndim == 3 else (1,) + tuple(x.shape)
    (s,), (p,), (d,) = K.check_conv_args(                  # errors name the 1-D shapes
        batched, w.shape, None if bias is None else bias.shape, stride, padding, dilation,
        groups, nd=1, transposed=True, output_padding=output_padding,
        output_padding_below_dilation=True)
    (op,) = _ntuple(output_padding, 1)
    y = _conv_transpose(2, x.unsqueeze(-2), w.unsqueeze(-2), bias, (1, s), (0, p), (0, op),
                        groups, (1, d), name="conv_transpose1d")
    return y.squeeze(-2)


def _conv_transpose(nd, input, weight, bias, stride, padding, output_padding, groups,
                    dilation, name=None):
    name = name or f"conv_transpose{nd}d"
    x, w = _check_tensors(name, input, weight, bias)
    if x.ndim == nd + 1:            # unbatched (C, *spatial), as PyTorch accepts
        return _conv_transpose(nd, x.unsqueeze(0), w, bias, stride, padding, output_padding,
                               groups, dilation, name).squeeze(0)
    if x.ndim != nd + 2:
        raise ValueError(f"{name} expects a {nd + 2}-D input (N, C, {nd} spatial dims) or an "
                         f"unbatched {nd + 1}-D one, got shape {list(x.shape)}")
    stride, padding, dilation = K.check_conv_args(
        x.shape, w.shape, None if bias is None else bias.shape, stride, padding, dilation,
        groups, nd=nd, transposed=True, output_padding=output_padding,
        output_padding_below_dilation=True)
    op = _ntuple(output_padding, nd)
    if any(o >= s for o, s in zip(op, stride)):
        return _conv_transpose_cropped(nd, x, w, bias, stride, padding, op, int(groups),
                                       dilation)
    return ConvTransposeNd.apply(x, w, bias, nd, stride, padding, op, int(groups), dilation)


def _conv_transpose_cropped(nd, x, w, b, stride, padding, output_padding, groups, dilation):
    """A transposed conv whose output_padding reaches stride (PyTorch allows it below
    dilation). No conv of that stride maps so tall an output back to H rows, so col2im
    cannot write it directly. Instead take the uncropped result (padding 0, output_padding
    0: full = (H - 1)·s + d·(k - 1) + 1 rows) and keep its rows [p, p + H_out), with
    H_out = full - 2p + output_padding: F.pad crops p rows at the top and adds
    output_padding - p at the bottom, zeros that no tap reaches (only the bias)."""
    zero = (0,) * nd
    full = ConvTransposeNd.apply(x, w, None, nd, stride, zero, zero, groups, dilation)
    out = [full.shape[2 + a] - 2 * padding[a] + output_padding[a] for a in range(nd)]
    if min(out) < 1:
        raise ValueError(f"conv_transpose{nd}d: output size {tuple(out)} is too small for "
                         f"input{list(x.shape)} and padding {padding}")
    widths = []
    for a in reversed(range(nd)):               # F.pad lists the last dimension first
        widths += [-padding[a], output_padding[a] - padding[a]]
    y = _pad(full, tuple(widths))               # (N, C_out, *out)
    return y if b is None else y + b.reshape(1, -1, *(1,) * nd)


__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d"]
