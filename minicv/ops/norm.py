"""Normalisation ops: ``batch_norm``, ``layer_norm``, ``group_norm`` (one fused node each),
``instance_norm`` (group norm with one group per channel), ``rms_norm`` and
``local_response_norm``.

All three compute x̂ = (x - μ) / √(σ² + ε) over some axes and y = γ·x̂ + β per channel;
they differ only in the axes of μ and σ² (reference.md §9):

    batch_norm   per channel, over (N, *spatial)      m = N·H·W values per statistic
    layer_norm   per sample, over the last k dims     m = prod(normalized_shape)
    group_norm   per (sample, group), over (C/G, *)   m = (C/G)·H·W

so they share one backward formula for the normalisation (with g = dy·γ):

    dx = (1/σ̂) · (g - mean(g) - x̂ · mean(g·x̂)),   means over the statistic's axes,
    dγ = Σ dy·x̂,  dβ = Σ dy   (sums over every axis but the channel's).

σ² is the biased variance (divide by m); BatchNorm's *running* variance is the unbiased
one (m/(m-1) times larger), as in PyTorch.
"""
import math

import numpy as np

from ..autograd import Function
from ..backend import get_array_module, get_default_dtype, is_cupy_array
from ..tensor import as_tensor_arg
from .shape import pad
from .nn_basic import check_float, check_same_dtype


def _norm_backward(g, xhat, invstd, axes):
    """dx of x̂ = (x - mean)·invstd given g = dL/dx̂ (means over ``axes``)."""
    mg = g.mean(axis=axes, keepdims=True)
    mgx = (g * xhat).mean(axis=axes, keepdims=True)
    return invstd * (g - mg - xhat * mgx)


class BatchNorm(Function):
    """Batch normalisation of (N, C, *) per channel; one node for the whole layer.

    training: statistics from the batch (written into ``stats`` for the running update);
    eval: the given ``mean`` and ``invstd`` are constants, so dx = dy·γ·invstd.
    Saved: x̂ and invstd (and γ).
    """
    @staticmethod
    def forward(ctx, x, w, b, mean=None, var=None, eps=1e-5, training=True, stats=None):
        axes = (0,) + tuple(range(2, x.ndim))
        bshape = (1, -1) + (1,) * (x.ndim - 2)           # (1, C, 1, 1)
        if training:
            mean = x.mean(axis=axes, keepdims=True)        # (1, C, 1, 1)
            xc = x - mean
            var = np.mean(np.square(xc), axis=axes, keepdims=True)   # biased
            stats.extend((mean.reshape(-1), var.reshape(-1)))
        else:
            mean, var = mean.reshape(bshape), var.reshape(bshape)
            xc = x - mean
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        xhat = xc * invstd
        y = xhat if w is None else xhat * w.reshape(bshape)
        if b is not None:
            y = y + b.reshape(bshape)
        ctx.save_for_backward(xhat, invstd, w)
        ctx.axes, ctx.bshape, ctx.training = axes, bshape, training
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        xhat, invstd, w = ctx.saved_tensors
        axes, bshape = ctx.axes, ctx.bshape
        g = gy if w is None else gy * w.reshape(bshape)
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = _norm_backward(g, xhat, invstd, axes) if ctx.training else g * invstd
        if ctx.needs_input_grad[1]:
            gw = (gy * xhat).sum(axis=axes)
        if ctx.needs_input_grad[2]:
            gb = gy.sum(axis=axes)
        return gx, gw, gb


class BatchNormCPU(Function):
    """The same op with the Numba kernels of ``kernels/cpu/norm.py`` (NumPy arrays only):
    two passes instead of NumPy's dozen (the second one channel by channel from L2),
    x̂ recomputed from x in backward instead of being stored, and dγ, dβ read off the
    sums the input gradient needs anyway.  The kernels run on minicv's threads, one
    range of channels per thread
    (``kernels.conv_algo.run_split``; the results do not depend on the thread count).
    Saved: x, μ, invstd, γ."""
    @staticmethod
    def forward(ctx, x, w, b, mean=None, var=None, eps=1e-5, training=True, stats=None):
        from ..kernels.conv_algo import run_split
        from ..kernels.cpu import buffers, norm as K, parallel as P
        n, c = x.shape[:2]
        x3 = np.ascontiguousarray(x).reshape(n, c, -1)            # (N, C, M)
        gamma = np.ones(c) if w is None else w.astype(np.float64)
        y = buffers.empty_like(x3)
        if training:                                               # one fused kernel
            beta = np.zeros(c) if b is None else b.astype(np.float64)
            mean, var = np.empty(c), np.empty(c)                   # float64 (C,)
            run_split(lambda c0, c1: K.forward_train(x3, gamma, beta, float(eps), c0, c1,
                                                     mean, var, y), c, 2 * x3.nbytes,
                      lambda t: P.bn_forward_train(x3, gamma, beta, float(eps), mean, var,
                                                   y, t))
            stats.extend((mean, var))
            invstd = 1.0 / np.sqrt(var + eps)
        else:
            mean = np.asarray(mean, np.float64)
            invstd = 1.0 / np.sqrt(np.asarray(var, np.float64) + eps)
            a64 = invstd * gamma
            a = a64.astype(x.dtype)
            shift = ((0.0 if b is None else b.astype(np.float64)) - mean * a64).astype(x.dtype)
            run_split(lambda c0, c1: K.scale_shift(x3, a, shift, c0, c1, y), c,
                      2 * x3.nbytes, lambda t: P.bn_scale_shift(x3, a, shift, y, t))
        ctx.save_for_backward(x, w)
        ctx.mean, ctx.invstd, ctx.gamma, ctx.training = mean, invstd, gamma, training
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, gy):
        from ..kernels.conv_algo import run_split
        from ..kernels.cpu import buffers, norm as K, parallel as P
        x, w = ctx.saved_tensors
        n, c = x.shape[:2]
        x3 = np.ascontiguousarray(x).reshape(n, c, -1)
        dy3 = np.ascontiguousarray(gy, dtype=x.dtype).reshape(n, c, -1)
        mean, invstd, gamma = ctx.mean, ctx.invstd, ctx.gamma
        train_dx = ctx.needs_input_grad[0] and ctx.training
        sdy, sdyx = np.empty(c), np.empty(c)                       # Σdy, Σdy·x̂
        gx = buffers.empty_like(x3) if train_dx else None

        def task(c0, c1):
            if train_dx:
                K.backward_train(dy3, x3, mean, invstd, gamma, c0, c1, sdy, sdyx, gx)
            else:
                K.backward_sums(dy3, x3, mean, invstd, c0, c1, sdy, sdyx)
        out = gx if train_dx else np.empty((0, 0, 0), x3.dtype)
        run_split(task, c, (5 if train_dx else 2) * x3.nbytes,
                  lambda t: P.bn_backward(dy3, x3, mean, invstd, gamma, sdy, sdyx, out, t))
        if ctx.needs_input_grad[0] and not ctx.training:    # constants: dx = dy·γ·invstd
            gx = dy3 * (gamma * invstd).astype(x.dtype)[None, :, None]
        gx = None if gx is None else gx.reshape(x.shape)
        gw = sdyx.astype(x.dtype) if ctx.needs_input_grad[1] else None
        gb = sdy.astype(x.dtype) if ctx.needs_input_grad[2] else None
        return gx, gw, gb


class BatchNormGPU(Function):
    """The same op with the CUDA kernels of ``kernels/gpu/norm.py`` (CuPy float arrays):
    six launches per layer and step instead of about thirty, the running statistics
    updated by the statistics kernel itself (``running``: (mean, var, momentum) arrays and
    number, or None). Saved: x, γ, μ, invstd."""
    @staticmethod
    def forward(ctx, x, w, b, mean=None, var=None, eps=1e-5, training=True, stats=None,
                running=None):
        from ..kernels.gpu import norm as K
        xp = get_array_module(x)
        x3 = xp.ascontiguousarray(x).reshape(x.shape[0], x.shape[1], -1)   # (N, C, M)
        w, b = _contiguous_like(xp, w, x), _contiguous_like(xp, b, x)
        if training:
            rm, rv, momentum = running or (None, None, 0.0)
            y, mean, invstd, var = K.forward_train(x3, w, b, eps, momentum, rm, rv)
            stats.extend((mean, var))
        else:
            mean = mean.astype(np.float64)
            invstd = 1.0 / xp.sqrt(var.astype(np.float64) + eps)
            y = K.apply(x3, mean, invstd, w, b)
        ctx.save_for_backward(x3, w)
        ctx.mean, ctx.invstd, ctx.training, ctx.shape = mean, invstd, training, x.shape
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, gy):
        from ..kernels.gpu import norm as K
        x3, w = ctx.saved_tensors
        gy3 = get_array_module(gy).ascontiguousarray(gy, dtype=x3.dtype).reshape(x3.shape)
        need = ctx.needs_input_grad
        gx, gw, gb = K.backward(gy3, x3, ctx.mean, ctx.invstd, w, ctx.training, need[0],
                                need[1], need[2])
        return (None if gx is None else gx.reshape(ctx.shape)), gw, gb


def _contiguous_like(xp, a, x):
    return None if a is None else xp.ascontiguousarray(a, dtype=x.dtype)


def _batch_norm_fn(x):
    """The Numba path for CPU float arrays, the CUDA kernels for CuPy float arrays, the
    array-generic op otherwise."""
    if x.data.ndim < 2 or x.dtype not in (np.float32, np.float64):
        return BatchNorm
    if type(x.data) is np.ndarray:
        return BatchNormCPU
    return BatchNormGPU if is_cupy_array(x.data) else BatchNorm


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalisation (Ioffe & Szegedy 2015) over the channel dimension 1.

    Training uses the batch statistics and, when running buffers are given, updates them
    in place: ``r ← (1 - momentum)·r + momentum·stat`` with the *unbiased* variance
    (n = N·H·W). Eval (``training=False``) normalises with the running statistics.

    Args:
        input: (N, C) or (N, C, *) floating tensor.
        running_mean, running_var: (C,) tensors or None (required when not training).
        weight, bias: (C,) affine parameters or None. momentum: update factor.

    Shape: output has the input's shape.

    Example::

        rm, rv = mc.zeros(3), mc.ones(3)
        y = F.batch_norm(mc.randn(8, 3, 4, 4), rm, rv, training=True)
    """
    x = as_tensor_arg(input)
    check_float(x, "batch_norm")
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of at least 2 dimensions (N, C, *), "
                         f"got shape {list(x.shape)}")
    c = x.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if t is not None and t.shape != (c,):
            raise ValueError(f"batch_norm: {name} should contain {c} elements (one per "
                             f"channel of input {list(x.shape)}), not {list(t.shape)}; "
                             f"is the input NHWC? minicv expects NCHW")
    if _half_with_float_params(x, weight, bias, running_mean, running_var):
        return batch_norm(x.float(), running_mean, running_var, weight, bias, training,
                          momentum, eps).to(x.dtype)
    if weight is not None:
        check_same_dtype(x, weight, "batch_norm")
    if x.data.size == 0:              # an empty batch normalises to an empty batch; γ and β
        shape = (c,) + (1,) * (x.ndim - 2)              # get zero gradients, as in PyTorch
        y = x * 1.0 if weight is None else x * weight.reshape(shape)
        return y if bias is None else y + bias.reshape(shape)
    if training:
        size = x.data.size // c
        if size == 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size "
                f"{list(x.shape)}: a batch of one sample cannot be normalised by its own "
                f"statistics; use a larger batch, drop the last incomplete batch "
                f"(DataLoader(..., drop_last=True)) or call model.eval()")
        stats = []
        fn = _batch_norm_fn(x)
        buffers = [r for r in (running_mean, running_var) if r is not None]
        if fn is BatchNormGPU and all(_kernel_ready(r.data, x.dtype) for r in buffers):
            # the statistics kernel updates the running statistics itself
            running = tuple(None if r is None else r.data for r in (running_mean, running_var))
            y = fn.apply(x, weight, bias, eps=eps, training=True, stats=stats,
                         running=running + (momentum,))
            for r in buffers:
                r._vc[0] += 1
            return y
        y = fn.apply(x, weight, bias, eps=eps, training=True, stats=stats)
        if running_mean is not None or running_var is not None:
            mean, var = stats
            _update_running(running_mean, mean, momentum)
            _update_running(running_var, var * (size / (size - 1)), momentum)
        return y
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: running_mean and running_var are required when "
                         "training=False (or pass training=True to use batch statistics)")
    return _batch_norm_fn(x).apply(x, weight, bias, mean=running_mean.data,
                                   var=running_var.data, eps=eps, training=False)


def _half_with_float_params(x, *params):
    """PyTorch's mixed-dtype CPU rule: a float16 input with float32 parameters and buffers
    is normalised in float32 and the result given back in float16."""
    given = [t for t in params if t is not None]
    return x.dtype == np.float16 and bool(given) and all(t.dtype == np.float32 for t in given)


def _kernel_ready(a, dtype):
    """A running-statistics array that the GPU kernel may update in place."""
    return is_cupy_array(a) and a.dtype == dtype and a.flags.c_contiguous


def _update_running(buf, stat, momentum):
    """r ← (1 - momentum)·r + momentum·stat, in place on the buffer's array."""
    if buf is None:
        return
    d = buf.data
    d *= 1 - momentum
    d += (momentum * stat).astype(d.dtype, copy=False)
    buf._vc[0] += 1


# ----------------------------------------------------------------------------- layer norm

class AffineNorm(Function):
    """x̂ over ``axes`` (kept dims are statistics), then y = x̂·γ + β with γ, β broadcast.

    Shared by layer_norm (axes: last k, γ shape: normalized_shape) and group_norm
    (x viewed as (N, G, C/G·H·W), γ per channel); ``sum_axes`` are the axes that dγ and dβ
    sum over. Saved: x̂, invstd, γ.
    """
    @staticmethod
    def forward(ctx, x, w, b, axes=(), eps=1e-5, view=(), wshape=(), sum_axes=()):
        xv = x.reshape(view)                                  # statistics layout
        mean = xv.mean(axis=axes, keepdims=True)
        xc = xv - mean
        var = np.mean(np.square(xc), axis=axes, keepdims=True)
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        xhat = (xc * invstd).reshape(x.shape)                 # back to the input layout
        y = xhat if w is None else xhat * w.reshape(wshape)
        if b is not None:
            y = y + b.reshape(wshape)
        ctx.save_for_backward(xhat, invstd, w)
        ctx.axes, ctx.view, ctx.wshape, ctx.sum_axes = axes, view, wshape, sum_axes
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        xhat, invstd, w = ctx.saved_tensors
        g = gy if w is None else gy * w.reshape(ctx.wshape)
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gv = _norm_backward(g.reshape(ctx.view), xhat.reshape(ctx.view), invstd,
                                ctx.axes)
            gx = gv.reshape(gy.shape)
        if ctx.needs_input_grad[1]:                  # sums over the non-parameter axes
            gw = (gy * xhat).sum(axis=ctx.sum_axes)
        if ctx.needs_input_grad[2]:
            gb = gy.sum(axis=ctx.sum_axes)
        return gx, gw, gb


class AffineNormCPU(Function):
    """The same op with the Numba kernels of ``kernels/cpu/rownorm.py`` (NumPy float32 /
    float64 arrays, γ and β of the input's dtype or None): x viewed as rows
    ``view`` = (R, M), ``groups`` rows per sample, ``spatial`` values per γ entry
    (LayerNorm: 1 group, 1 value, one γ per element; GroupNorm: G groups, S = H·W values
    per channel).  One reading pass per direction instead of NumPy's dozen; statistics
    and parameter sums in float64 in a fixed order, so the result does not depend on the
    thread count.  ``stats``: a list that receives the float64 (R,) mean and biased
    variance of the rows (instance_norm's running statistics).
    Saved: x, γ; mean and rstd per row."""
    @staticmethod
    def forward(ctx, x, w, b, view=(), groups=1, spatial=1, eps=1e-5, stats=None):
        from ..kernels.cpu import rownorm
        x2 = np.ascontiguousarray(x).reshape(view)                      # (R, M)
        params = view[1] // spatial * groups                            # γ entries
        gamma = np.ones(params, x.dtype) if w is None else np.ascontiguousarray(w).ravel()
        beta = np.zeros(params, x.dtype) if b is None else np.ascontiguousarray(b).ravel()
        y, mean, var = rownorm.forward(x2, gamma, beta, groups, spatial, eps)
        if stats is not None:
            stats.extend((mean, var))
        ctx.save_for_backward(x, w, b)
        ctx.mean, ctx.rstd, ctx.gamma = mean, 1.0 / np.sqrt(var + eps), gamma
        ctx.view, ctx.groups, ctx.spatial = view, groups, spatial
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, gy):
        from ..kernels.cpu import rownorm
        x, w, b = ctx.saved_tensors
        x2 = np.ascontiguousarray(x).reshape(ctx.view)                  # (R, M)
        dy2 = np.ascontiguousarray(gy, dtype=x.dtype).reshape(ctx.view)
        dx, gw, gb = rownorm.backward(dy2, x2, ctx.gamma, ctx.groups, ctx.spatial, ctx.mean,
                                      ctx.rstd, ctx.needs_input_grad[0])
        need = ctx.needs_input_grad
        return (None if dx is None else dx.reshape(x.shape),
                gw.astype(x.dtype).reshape(w.shape) if need[1] else None,
                gb.astype(x.dtype).reshape(b.shape) if need[2] else None)


def _affine_norm_fn(x, w, b):
    """The Numba path for NumPy float32/float64 input with parameters of its dtype (or
    none), the array-generic op otherwise (CuPy, float16, mixed dtypes, empty input)."""
    fast = (type(x.data) is np.ndarray and x.dtype in (np.float32, np.float64)
            and x.data.size > 0
            and all(t is None or (type(t.data) is np.ndarray and t.dtype == x.dtype)
                    for t in (w, b)))
    return AffineNormCPU if fast else AffineNorm


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation (Ba et al. 2016) over the last ``len(normalized_shape)`` dims.

    Args:
        input: (*, *normalized_shape) floating tensor.
        normalized_shape: int or tuple, the trailing shape normalised together.
        weight, bias: tensors of shape ``normalized_shape`` or None.

    Shape: output has the input's shape.

    Example::

        y = F.layer_norm(mc.randn(2, 5, 8), (8,))
    """
    x = as_tensor_arg(input)
    check_float(x, "layer_norm")
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else \
        tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(x.shape[x.ndim - k:]) != shape or x.ndim < k:
        raise ValueError(f"layer_norm: normalized_shape {list(shape)} must match the last "
                         f"dimensions of the input, got input of shape {list(x.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise ValueError(f"layer_norm: {name} must have shape {list(shape)}, got "
                             f"{list(t.shape)}")
        if t is not None and t.dtype != x.dtype and not _half_with_float_params(
                x, weight, bias):           # PyTorch refuses other mixed dtypes too
            raise TypeError(f"layer_norm: input dtype {x.dtype} does not match the {name} "
                            f"dtype {t.dtype}: convert the input (x.to({t.dtype.name})) or "
                            f"the module (.double() / .float())")
    if _half_with_float_params(x, weight, bias):
        return layer_norm(x.float(), shape, weight, bias, eps).to(x.dtype)
    lead = x.shape[:x.ndim - k]
    view = lead + (math.prod(shape),)                          # (*, M)
    if _affine_norm_fn(x, weight, bias) is AffineNormCPU:
        return AffineNormCPU.apply(x, weight, bias, view=(math.prod(lead), view[-1]), eps=eps)
    wshape = (1,) * len(lead) + shape
    return AffineNorm.apply(x, weight, bias, axes=(len(lead),), eps=eps, view=view,
                            wshape=wshape, sum_axes=tuple(range(len(lead))))


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation (Wu & He 2018): channels split into ``num_groups`` groups, each
    normalised per sample over its channels and all spatial positions.

    Args:
        input: (N, C, *) floating tensor with C divisible by ``num_groups``.
        weight, bias: (C,) per-channel affine parameters or None.

    Shape: output has the input's shape.

    Example::

        y = F.group_norm(mc.randn(2, 6, 4, 4), 3)
    """
    x = as_tensor_arg(input)
    check_float(x, "group_norm")
    if x.ndim < 2:
        raise ValueError(f"group_norm: expected an input (N, C, *), got shape {list(x.shape)}")
    n, c = x.shape[:2]
    if num_groups <= 0 or c % num_groups:
        raise ValueError(f"group_norm: the number of channels ({c}) must be divisible by "
                         f"num_groups ({num_groups})")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (c,):
            raise ValueError(f"group_norm: {name} must have shape [{c}], got {list(t.shape)}")
    size = [n * c // num_groups, num_groups, *x.shape[2:]]     # PyTorch's check
    if math.prod(size) // num_groups == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {size}: each group needs at least 2 values (more channels "
                         f"per group, spatial positions, or samples)")
    return _group_norm(x, num_groups, weight, bias, eps)


def _group_norm(x, num_groups, weight, bias, eps, stats=None):
    """group_norm of a checked input; ``stats`` (fast path only, see AffineNormCPU) gets
    the float64 mean and biased variance of each (sample, group)."""
    n, c = x.shape[:2]
    spatial = math.prod(x.shape[2:])
    view = (n, num_groups, c // num_groups * spatial)          # (N, G, C/G·H·W)
    if _affine_norm_fn(x, weight, bias) is AffineNormCPU:
        return AffineNormCPU.apply(x, weight, bias, view=(n * num_groups, view[2]),
                                   groups=num_groups, spatial=spatial, eps=eps, stats=stats)
    wshape = (1, c) + (1,) * (x.ndim - 2)
    sum_axes = (0,) + tuple(range(2, x.ndim))
    return AffineNorm.apply(x, weight, bias, axes=(2,), eps=eps, view=view, wshape=wshape,
                            sum_axes=sum_axes)


# ----------------------------------------------------------------------------- instance norm

def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Instance normalisation (Ulyanov et al. 2016): every (sample, channel) map normalised
    by its own mean and variance, then y = γ·x̂ + β per channel.

    With ``use_input_stats`` (the default) it is ``group_norm`` with one group per channel,
    and running buffers, when given, move towards the batch average of the per-instance
    statistics (unbiased variance): ``r ← (1 - momentum)·r + momentum·mean_n(stat)``.
    Otherwise the running statistics normalise, as ``batch_norm`` in eval mode.

    Args:
        input: (N, C, *) floating tensor with more than one spatial element.
        running_mean, running_var: (C,) tensors, both or neither.
        weight, bias: (C,) or None. use_input_stats: normalise by the input's statistics.

    Shape: output has the input's shape.

    Example::

        y = F.instance_norm(mc.randn(2, 3, 8, 8))     # every y[n, c] has mean 0, var 1
    """
    x = as_tensor_arg(input)
    check_float(x, "instance_norm")
    if (running_mean is None) != (running_var is None):
        raise ValueError("instance_norm: running_mean and running_var must either both be "
                         "None or neither be None")
    if x.ndim < 2:
        raise ValueError(f"instance_norm: expected an input (N, C, *), got shape "
                         f"{list(x.shape)}")
    c = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(f"instance_norm: {name} should contain {c} elements (one per "
                             f"channel of input {list(x.shape)}), not {list(t.shape)}")
    if not use_input_stats:
        if running_mean is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when "
                               "use_input_stats is false")
        return batch_norm(x, running_mean, running_var, weight, bias, False, momentum, eps)
    if math.prod(x.shape[2:]) <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input "
                         f"size {list(x.shape)}: instance norm needs a map per channel")
    if running_mean is not None and _affine_norm_fn(x, weight, bias) is AffineNormCPU:
        stats = []                  # the kernel's per-instance statistics, float64 (N·C,)
        y = _group_norm(x, c, weight, bias, eps, stats)
        m = math.prod(x.shape[2:])
        mean, var = (s.reshape(x.shape[0], c) for s in stats)             # (N, C)
        _update_running(running_mean, mean.mean(axis=0), momentum)
        _update_running(running_var, (var * (m / (m - 1))).mean(axis=0), momentum)
        return y
    if running_mean is not None:
        xv = x.data.reshape(x.shape[0], c, math.prod(x.shape[2:]))   # (N, C, M)
        if xv.shape[0]:
            mean, var = xv.mean(axis=2).mean(axis=0), xv.var(axis=2, ddof=1).mean(axis=0)
        else:                       # no instances: PyTorch's buffers become NaN
            mean = var = get_array_module(xv).full((c,), np.nan, dtype=xv.dtype)
        _update_running(running_mean, mean, momentum)
        _update_running(running_var, var, momentum)
    return group_norm(x, c, weight, bias, eps)


# ----------------------------------------------------------------------------- RMS norm

class RMSNorm(Function):
    """y = x̂·γ with x̂ = x·r, r = 1/√(mean(x²) + ε) over the last axis of the (*, M) view;
    dx = r·(g - x̂·mean(g·x̂)) with g = dy·γ; dγ = dy·x̂ (summed by the engine).
    Saved: x̂, r, γ."""
    @staticmethod
    def forward(ctx, x, w, eps, view):
        xv = x.reshape(view)                                    # (*, M)
        r = 1.0 / np.sqrt(np.mean(np.square(xv), axis=-1, keepdims=True) + eps)
        xhat = (xv * r.astype(x.dtype, copy=False)).reshape(x.shape)
        ctx.save_for_backward(xhat, r, w)
        ctx.view = view
        return xhat if w is None else (xhat * w).astype(x.dtype, copy=False)  # x's dtype

    @staticmethod
    def backward(ctx, gy):
        xhat, r, w = ctx.saved_tensors
        gx = gw = None
        if ctx.needs_input_grad[0]:
            g = (gy if w is None else gy * w).reshape(ctx.view)
            xh = xhat.reshape(ctx.view)
            gx = (r * (g - xh * np.mean(g * xh, axis=-1, keepdims=True))).reshape(gy.shape)
            gx = gx.astype(xhat.dtype, copy=False)
        if ctx.needs_input_grad[1]:
            gw = (gy * xhat).astype(w.dtype, copy=False)
        return gx, gw, None, None


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root-mean-square normalisation (Zhang & Sennrich 2019): x / √(mean(x²) + eps) over
    the last ``len(normalized_shape)`` dims, times ``weight``; no centring, no bias.

    Args:
        normalized_shape: tuple or list of ints, the trailing shape normalised together.
        weight: tensor of shape ``normalized_shape`` or None.
        eps: added to the mean square; None means ``finfo(input.dtype).eps``.

    Shape: output has the input's shape and dtype (a float64 weight on float32 input gives
    float32, as PyTorch).

    Example::

        y = F.rms_norm(mc.randn(2, 5, 8), (8,))      # each y[i, j] has mean square ~1
    """
    x = as_tensor_arg(input)
    check_float(x, "rms_norm")
    if not isinstance(normalized_shape, (tuple, list)):
        raise TypeError(f"rms_norm(): argument 'normalized_shape' must be tuple of ints, "
                        f"not {type(normalized_shape).__name__}")
    shape = tuple(int(s) for s in normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != shape:
        raise ValueError(f"rms_norm: Given normalized_shape={list(shape)}, expected input "
                         f"with shape [*, {', '.join(map(str, shape))}], but got input of "
                         f"size {list(x.shape)}")
    if weight is not None and tuple(weight.shape) != shape:
        raise ValueError(f"rms_norm: Expected weight to be of same shape as normalized_shape,"
                         f" but got weight of shape {list(weight.shape)} and normalized_shape "
                         f"= {list(shape)}")
    eps = float(np.finfo(x.dtype).eps) if eps is None else eps
    view = x.shape[:x.ndim - k] + (math.prod(shape),)             # (*, M)
    return RMSNorm.apply(x, weight, eps, view)


# ----------------------------------------------------------------------------- LRN

def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalisation (Krizhevsky et al. 2012) across channels:
    b_c = a_c / (k + alpha/size · Σ a_c'²)^beta, the sum over the ``size`` channels
    c' in [c - size//2, c + (size-1)//2] that exist (missing ones count as 0).

    Shape: (N, C, *) -> same shape (at least 3 dimensions). Integer input gives the
    default float dtype (as PyTorch).

    Example::

        y = F.local_response_norm(mc.randn(2, 8, 4, 4), size=5)
    """
    x = as_tensor_arg(input)
    if x.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {x.ndim} "
                         f"dimensions)")
    if x.data.size == 0:
        return x
    if x.dtype.kind != "f":
        x = x.to(get_default_dtype())
    c = x.shape[1]
    sq = x * x                                                  # (N, C, *)
    before, after = size // 2, (size - 1) // 2
    sq = pad(sq, (0, 0) * (x.ndim - 2) + (before, after))       # (N, C + size - 1, *)
    window = sq[:, 0:c]
    for i in range(1, size):                                    # Σ over the channel window
        window = window + sq[:, i:i + c]
    div = (window * (alpha / size) + k) ** beta
    return x / div
