"""Activations: relu, hardtanh, leaky_relu, elu, gelu, sigmoid, tanh, softplus, silu, mish,
softmax, log_softmax; selu, celu, hardswish, hardsigmoid, logsigmoid, softsign, softshrink,
hardshrink, tanhshrink, threshold, glu, prelu, rrelu, softmin, gumbel_softmax, and the
in-place forms relu_, elu_, leaky_relu_, hardtanh_, threshold_, celu_, selu_, rrelu_.

Large NumPy float32/float64 inputs take one-pass Numba kernels: ``kernels/cpu/piecewise.py``
(the piecewise-linear ones and the ELU family) and ``kernels/cpu/smooth.py`` (gelu,
sigmoid, tanh, softplus, silu, mish, logsigmoid, softsign). They give the NumPy form's
values bit for bit, except float32 exact GELU (its erf within 1.25 ulp) and PReLU's weight
gradient (summed in another, fixed order); CuPy arrays and other dtypes run the NumPy form.

Each saves the cheaper of input and output: sigmoid and tanh differentiate through their
output, relu through a mask. Softmax and log-softmax subtract the row maximum first so
large logits never overflow (reference.md §9).

Integer input follows PyTorch: relu, relu6, hardtanh and threshold keep the integer dtype
(they are exact on integers); sigmoid, tanh, softsign and tanhshrink return the default
float dtype; the others raise TypeError (PyTorch: NotImplementedError).
"""
import math
import warnings

import numpy as np

from ..autograd import Function
from ..backend import (get_array_module, get_default_dtype, get_rng, is_cupy_array,
                       put_along_axis, quiet)
from ..tensor import Tensor, as_tensor_arg, _inplace_method
from .elementwise import _sign, abs as _abs, add as _add, div as _div, sub as _sub
from .nn_basic import MaskMul
from .reduce import _floating
from .shape import _dim


def _float(x):
    """``x`` as a floating tensor: integers and bools become the default float dtype."""
    x = as_tensor_arg(x)
    return x if x.dtype.kind == "f" else x.to(get_default_dtype())


def _floating_only(x, name):
    """``x`` unchanged if floating; a TypeError otherwise (PyTorch has no integer kernel)."""
    return _floating(x, name)


def _not_bool(x, name):
    """``x`` unchanged if numeric; bool input raises as in PyTorch."""
    x = as_tensor_arg(x)
    if x.dtype.kind == "b":
        raise TypeError(f"{name}: bool input is not supported: convert it first with "
                        f"x.float() or x.long()")
    return x


def _piecewise_ok(x):
    """Whether ``x`` takes the one-pass kernels of ``kernels/cpu/piecewise.py`` (NumPy
    float32/float64, C-contiguous, large enough); small arrays skip the Numba import."""
    if type(x) is not np.ndarray or x.size < 1 << 12:
        return False
    from ..kernels.cpu.piecewise import fast_ok
    return fast_ok(x)


def _piecewise_grad(gy, like):
    """dY for the piecewise kernels (see ``piecewise.grad_arg``), or None."""
    if not _piecewise_ok(like):
        return None
    from ..kernels.cpu.piecewise import grad_arg
    return grad_arg(gy, like)


def _piecewise_backward(name, gy, x, params=(), y=None):
    """dx of the piecewise op ``name`` (``piecewise.HARDTANH`` ...) by its kernel, or None
    where the arrays do not fit it (then the NumPy form runs)."""
    g = _piecewise_grad(gy, x)
    if g is None:
        return None
    from ..kernels.cpu import piecewise
    return piecewise.backward(getattr(piecewise, name), g, x, params, y)


class ReLU(Function):
    """relu(x) = max(x, 0); the gradient passes where x > 0 or x is NaN and is 0 elsewhere
    (a select, as PyTorch: a NaN gradient does not leak through a zero output); saved:
    output."""
    @staticmethod
    def forward(ctx, x):
        if type(x) is np.ndarray and x.size >= 1 << 12:   # small: skip the Numba import
            from ..kernels.cpu.activation import fast_ok, relu
            if fast_ok(x):                              # NumPy, contiguous: Numba loops
                y = relu(x)
                ctx.save_for_backward(y)
                return y
        y = np.maximum(x, 0).astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        if (type(gy) is np.ndarray and type(y) is np.ndarray and gy.dtype == y.dtype
                and gy.dtype in (np.float32, np.float64) and gy.shape == y.shape
                and gy.size >= 4096 and gy.flags.c_contiguous and y.flags.c_contiguous):
            from ..kernels.cpu.activation import relu_backward  # one pass, no temporaries
            return relu_backward(gy, y)
        g = _piecewise_grad(gy, y)     # a broadcast (y.sum().backward()) or strided dY
        if g is not None:
            from ..kernels.cpu import piecewise
            return piecewise.backward(piecewise.THRESHOLD, g, y, (0, 0))
        if (type(gy) is not np.ndarray and is_cupy_array(gy) and gy.dtype == y.dtype
                and gy.shape == y.shape and gy.dtype in (np.float32, np.float64)):
            from ..kernels.gpu.activation import relu_backward     # one launch, not two
            return relu_backward(gy, y)
        # a select: a NaN gradient stays out where y = 0; where y is NaN it passes (y <= 0
        # is False there), as PyTorch's threshold_backward
        return np.where(y <= 0, 0, gy)


class Hardtanh(Function):
    """min(max(x, lo), hi); d/dx = 1 where lo < x < hi, else 0; saved: x.

    Unlike clamp, whose gradient passes at the bounds, no gradient passes at x = lo or
    x = hi (PyTorch's hardtanh_backward); a select, so a NaN gradient stays out there.
    """
    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        if _piecewise_ok(x):
            from ..kernels.cpu import piecewise
            return piecewise.forward(piecewise.HARDTANH, x, (lo, hi))
        # integers clamped to float bounds come back truncated (PyTorch: [1, -2, 3] for
        # [1, -2, 7] in [-2.5, 3.5])
        return np.minimum(np.maximum(x, lo), hi).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        g = _piecewise_backward("HARDTANH", gy, x, (ctx.lo, ctx.hi))
        if g is None:
            g = np.where((x <= ctx.lo) | (x >= ctx.hi), 0, gy).astype(gy.dtype, copy=False)
        return g, None, None


class LeakyReLU(Function):
    """x if x > 0 else slope·x; saved: x."""
    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        if _piecewise_ok(x):
            from ..kernels.cpu import piecewise
            return piecewise.forward(piecewise.LEAKY_RELU, x, (slope,))
        return np.where(x > 0, x, x * x.dtype.type(slope))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        g = _piecewise_backward("LEAKY_RELU", gy, x, (ctx.slope,))
        if g is not None:
            return g, None
        return gy * np.where(x > 0, 1, x.dtype.type(ctx.slope)).astype(gy.dtype), None


class ELU(Function):
    """scale·(x if x > 0 else alpha·(exp(input_scale·x) - 1)): elu, selu and celu.

    d/dx = input_scale·(y + scale·alpha) for x <= 0 (at x = 0 too, as PyTorch's
    elu_backward), else scale (NaN included); saved: x, output.
    """
    @staticmethod
    def forward(ctx, x, alpha, scale=1.0, input_scale=1.0):
        ctx.coef = (alpha, scale, input_scale)
        if _piecewise_ok(x):
            from ..kernels.cpu import piecewise
            y = piecewise.forward(piecewise.ELU, x, ctx.coef)
            ctx.save_for_backward(x, y)
            return y
        t = x.dtype.type
        neg = t(alpha) * np.expm1(np.minimum(x, 0) * t(input_scale))
        y = np.where(x > 0, x, neg)
        if scale != 1.0:
            y = y * t(scale)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        alpha, scale, input_scale = ctx.coef
        g = _piecewise_backward("ELU", gy, x, ctx.coef + (scale * alpha,), y)
        if g is not None:
            return g, None, None, None
        t = x.dtype.type
        # x <= 0 picks the exponential branch, so a NaN x takes scale (PyTorch's rule)
        d = np.where(x <= 0, t(input_scale) * (y + t(scale * alpha)), t(scale))
        return gy * d.astype(gy.dtype, copy=False), None, None, None


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def _fast(op, x, gy=None, beta=1.0, threshold=20.0):
    """``op`` (a name of ``kernels/cpu/smooth.py``) by its fused kernel where x (and gy)
    are NumPy float32/float64, C-contiguous and large; None otherwise (the caller then
    runs its NumPy/CuPy expression, which the kernel matches bit for bit; float32 GELU:
    its erf within 2^-23 of the reference's, see ``smooth._erf``)."""
    if type(x) is not np.ndarray or x.size < 1 << 12:     # small: skip the Numba import
        return None
    from ..kernels.cpu import smooth
    if not smooth.fast_ok(*((x,) if gy is None else (x, gy))):
        return None
    return smooth.apply(getattr(smooth, op), x, gy, beta, threshold)


def _neg_abs_exp(x):
    """exp(-|x|), never overflowing: the sigmoid family's one transcendental."""
    xp = get_array_module(x)
    return xp.exp(-xp.abs(x))


def _sigmoid_of(x, e):
    """sigmoid(x) from e = exp(-|x|): 1/(1 + e) for x >= 0, e/(1 + e) below."""
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


class GELU(Function):
    """Exact: x·Φ(x), d/dx = Φ(x) + x·φ(x).
    tanh: 0.5x(1 + tanh(u)), u = √(2/π)(x + 0.044715x³) (x³ as x·x·x, as PyTorch);
    d/dx = 0.5(1 + tanh u) + 0.5x(1 - tanh² u)·√(2/π)(1 + 3·0.044715x²). Saved: x."""
    @staticmethod
    @quiet              # inf inputs: PyTorch is silent, NumPy warns
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        y = _fast("GELU_TANH" if approximate == "tanh" else "GELU", x)
        if y is not None:
            return y
        if approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x)))
            return (0.5 * x * (1 + t)).astype(x.dtype, copy=False)
        return (x * _normal_cdf(x)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        g = _fast("GELU_TANH_BACKWARD" if ctx.approximate == "tanh" else "GELU_BACKWARD",
                  x, gy)
        if g is not None:
            return g, None
        if ctx.approximate == "tanh":
            u = _SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x))
            t = np.tanh(u)
            du = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du
        else:
            d = _normal_cdf(x) + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return (gy * d).astype(gy.dtype, copy=False), None


_erf_ufunc = None


def _erf(x):
    """erf as a Numba ufunc over ``math.erf`` (exact to double precision; NumPy has none).

    Compiled on first use and cached on disk, never at import. On the GPU,
    ``cupyx.scipy.special.erf`` (CUDA's erf) takes its place.
    """
    global _erf_ufunc
    if type(x) is not np.ndarray and is_cupy_array(x):
        from cupyx.scipy.special import erf as gpu_erf
        return gpu_erf(x)
    if _erf_ufunc is None:
        from ..backend import import_numba
        numba = import_numba()

        @numba.vectorize(cache=True)
        def erf(v):
            return math.erf(v)
        _erf_ufunc = erf
    return _erf_ufunc(x)


def _normal_cdf(x):
    return 0.5 * (1 + _erf(x / math.sqrt(2)))


class Sigmoid(Function):
    """s(x) = 1 / (1 + exp(-x)), computed without overflow; d/dx = s(1 - s); saved: output."""
    @staticmethod
    def forward(ctx, x):
        y = _fast("SIGMOID", x)
        if y is None:
            y = _sigmoid_of(x, _neg_abs_exp(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        g = _fast("SIGMOID_BACKWARD", y, gy)
        return gy * y * (1 - y) if g is None else g


class Tanh(Function):
    """d/dx tanh(x) = 1 - tanh(x)²; saved: output."""
    @staticmethod
    def forward(ctx, x):
        y = _fast("TANH", x)
        if y is None:
            y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        g = _fast("TANH_BACKWARD", y, gy)
        return gy * (1 - y * y) if g is None else g


class SiLU(Function):
    """silu(x) = x·s(x), s = sigmoid; d/dx = s(1 + x(1 - s)) (PyTorch's silu_backward);
    saved: x."""
    @staticmethod
    @quiet              # inf inputs: PyTorch is silent, NumPy warns
    def forward(ctx, x):
        ctx.save_for_backward(x)
        y = _fast("SILU", x)
        return x * _sigmoid_of(x, _neg_abs_exp(x)) if y is None else y

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        g = _fast("SILU_BACKWARD", x, gy)
        if g is not None:
            return g
        s = _sigmoid_of(x, _neg_abs_exp(x))
        return gy * s * (1 + x * (1 - s))


def _mish_terms(x):
    """(tanh(softplus(x)), sigmoid(x)) in float64 from e = exp(-|x|) (the identity of
    ``kernels/cpu/smooth.py``'s ``mish_terms``: no log1p, no tanh, no overflow)."""
    xp = get_array_module(x)
    e = _neg_abs_exp(x).astype(xp.float64)
    pos = x >= 0
    n = e * (e + 2)
    tsp = xp.where(pos, (1 + 2 * e) / (1 + 2 * e + 2 * e * e), n / (n + 2))
    return tsp, xp.where(pos, 1 / (1 + e), e / (1 + e))


class Mish(Function):
    """mish(x) = x·tanh(softplus(x)) (Misra 2019); d/dx = t + x·s(x)(1 - t²) with
    t = tanh(softplus(x)), s = sigmoid (PyTorch's mish_backward). Computed in float64 and
    rounded once; saved: x."""
    @staticmethod
    @quiet              # inf inputs: PyTorch is silent, NumPy warns
    def forward(ctx, x):
        ctx.save_for_backward(x)
        y = _fast("MISH", x)
        if y is not None:
            return y
        tsp, _ = _mish_terms(x)
        return (x * tsp).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        g = _fast("MISH_BACKWARD", x, gy)
        if g is not None:
            return g
        tsp, s = _mish_terms(x)
        return (gy * (tsp + x * s * (1 - tsp * tsp))).astype(gy.dtype, copy=False)


class Softplus(Function):
    """(1/β)·log(1 + exp(βx)), computed as (max(βx, 0) + log1p(exp(-|βx|)))/β (no
    overflow), and x where βx > ``threshold``; d/dx = sigmoid(βx) (from exp(-|βx|): no
    cancellation in the left tail), 1 above the threshold; saved: x."""
    @staticmethod
    @quiet              # inf inputs: PyTorch is silent, NumPy warns
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        y = _fast("SOFTPLUS", x, None, beta, threshold)
        if y is not None:
            return y
        bx = x * beta
        soft = ((np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / beta)
        return np.where(bx > threshold, x, soft.astype(x.dtype, copy=False))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        g = _fast("SOFTPLUS_BACKWARD", x, gy, ctx.beta, ctx.threshold)
        if g is not None:
            return g, None, None
        bx = x * ctx.beta
        s = _sigmoid_of(bx, _neg_abs_exp(bx))
        return gy * np.where(bx > ctx.threshold, 1, s).astype(gy.dtype), None, None


def _softmax_fast(*arrays):
    """Whether Softmax/LogSoftmax run ``kernels/cpu/softmax.py`` (NumPy float32/float64,
    C-contiguous, one shape, 4096+ elements); small arrays skip the Numba import."""
    a = arrays[0]
    if type(a) is not np.ndarray or a.size < 1 << 12:
        return False
    from ..kernels.cpu.softmax import fast_ok
    return fast_ok(*arrays)


def softmax_array(x, dim, log=False):
    """softmax (or, with ``log``, log_softmax) of the array ``x`` along ``dim`` (>= 0,
    x.shape[dim] > 0), max-shifted; also cross_entropy's log-probabilities."""
    if _softmax_fast(x):
        from ..kernels.cpu.softmax import forward    # one pass a step, no temporaries
        return forward(x, dim, log)
    shifted = x - x.max(axis=dim, keepdims=True)
    if log:
        return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
    e = np.exp(shifted)
    return e / e.sum(axis=dim, keepdims=True)


class Softmax(Function):
    """y = exp(x - max) / sum; dx = y·(gy - sum(gy·y)); saved: output."""
    _log = False

    @staticmethod
    def forward(ctx, x, dim):
        if x.shape[dim] == 0:            # nothing to normalise over: an empty result
            y = x.copy()
        else:
            y = softmax_array(x, dim, ctx._log)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        if _softmax_fast(gy, y):
            from ..kernels.cpu.softmax import backward
            return backward(gy, y, ctx.dim, ctx._log), None
        if ctx._log:
            return gy - np.exp(y) * gy.sum(axis=ctx.dim, keepdims=True), None
        return y * (gy - (gy * y).sum(axis=ctx.dim, keepdims=True)), None


class LogSoftmax(Softmax):
    """y = x - max - log(sum(exp(x - max))); dx = gy - softmax·sum(gy); saved: output.
    (Softmax's code with ``_log`` set.)"""
    _log = True


class Hardswish(Function):
    """x·relu6(x + 3)/6 (Howard et al. 2019); d/dx = 0 for x <= -3, x/3 + 1/2 for
    -3 < x < 3, 1 for x >= 3 (PyTorch's values at the kinks); saved: x."""
    @staticmethod
    @quiet              # inf inputs: PyTorch is silent, NumPy warns
    def forward(ctx, x):
        ctx.save_for_backward(x)
        if _piecewise_ok(x):
            from ..kernels.cpu import piecewise
            return piecewise.forward(piecewise.HARDSWISH, x)
        return x * np.minimum(np.maximum(x + 3, 0), 6) / 6

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        g = _piecewise_backward("HARDSWISH", gy, x)
        if g is not None:
            return g
        d = np.where(x <= -3, 0, np.where(x < 3, x / 3 + 0.5, 1))
        return gy * d.astype(gy.dtype, copy=False)


class Hardsigmoid(Function):
    """relu6(x + 3)/6; d/dx = 1/6 strictly inside (-3, 3), 0 elsewhere; saved: x."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        if _piecewise_ok(x):
            from ..kernels.cpu import piecewise
            return piecewise.forward(piecewise.HARDSIGMOID, x)
        return np.minimum(np.maximum(x + 3, 0), 6) / 6

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        g = _piecewise_backward("HARDSIGMOID", gy, x)
        if g is not None:
            return g
        inside = (x > -3) & (x < 3)
        return np.where(inside, gy / 6, 0).astype(gy.dtype, copy=False)


class LogSigmoid(Function):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)) (no overflow);
    d/dx = sigmoid(-x); saved: x."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        y = _fast("LOGSIGMOID", x)
        return np.minimum(x, 0) - np.log1p(_neg_abs_exp(x)) if y is None else y

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        g = _fast("LOGSIGMOID_BACKWARD", x, gy)
        if g is not None:
            return g
        e = _neg_abs_exp(x)
        s = np.where(x >= 0, e / (1 + e), 1 / (1 + e))        # sigmoid(-x)
        return gy * s.astype(gy.dtype, copy=False)


class Softsign(Function):
    """x / (1 + |x|), differentiated as the composite x / (|x| + 1) is (as in PyTorch,
    where softsign is that expression): d/dx = 1/b - x/b²·sign(x) with b = |x| + 1, so
    ±inf gets a NaN gradient and x = 0 the gradient 1. Saved: x."""
    @staticmethod
    @quiet              # inf inputs: PyTorch is silent, NumPy warns
    def forward(ctx, x):
        ctx.save_for_backward(x)
        y = _fast("SOFTSIGN", x)
        return x / (np.abs(x) + 1) if y is None else y

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        g = _fast("SOFTSIGN_BACKWARD", x, gy)
        if g is not None:
            return g
        b = np.abs(x) + 1
        return gy / b + -gy * x / (b * b) * _sign(x)


class Shrink(Function):
    """hardshrink: 0 where -λ <= x <= λ, else x; softshrink: 0 there, else x - λ·sign(x).
    d/dx = 0 where -λ <= x <= λ (ends included), else 1. The test is the one for zeroing,
    so a NaN passes through with its gradient (PyTorch's scalar kernel; its vectorised
    kernel gives a NaN a zero gradient). Saved: the mask."""
    @staticmethod
    def forward(ctx, x, lambd, soft):
        lam = x.dtype.type(lambd)
        zero = (x >= -lam) & (x <= lam)
        ctx.zero = zero
        y = np.where(x > 0, x - lam, x + lam) if soft else x
        return np.where(zero, 0, y).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        return np.where(ctx.zero, 0, gy).astype(gy.dtype, copy=False), None, None


class Threshold(Function):
    """value where x <= threshold, else x; d/dx = 0 where x <= threshold, else 1. A NaN
    fails the test, so it passes through with its gradient (as PyTorch). Saved: the mask
    (on the fast path: x)."""
    @staticmethod
    def forward(ctx, x, threshold, value):
        if _piecewise_ok(x):
            from ..kernels.cpu import piecewise
            ctx.save_for_backward(x)
            ctx.drop, ctx.threshold = None, threshold
            return piecewise.forward(piecewise.THRESHOLD, x, (threshold, value))
        drop = x <= threshold
        ctx.drop = drop
        return np.where(drop, value, x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        drop = ctx.drop
        if drop is None:
            (x,) = ctx.saved_tensors
            g = _piecewise_backward("THRESHOLD", gy, x, (ctx.threshold, 0))
            if g is not None:
                return g, None, None
            drop = x <= ctx.threshold
        return np.where(drop, 0, gy).astype(gy.dtype, copy=False), None, None


class GLU(Function):
    """a·sigmoid(b), where a and b are the two halves of x along ``dim`` (Dauphin et al.
    2017); da = dy·s, db = dy·a·s·(1 - s) with s = sigmoid(b); saved: a, s."""
    @staticmethod
    def forward(ctx, x, dim):
        a, b = np.split(x, 2, axis=dim)
        s = 0.5 * (1 + np.tanh(0.5 * b))                        # sigmoid, overflow-free
        ctx.save_for_backward(a, s)
        ctx.dim = dim
        return a * s

    @staticmethod
    def backward(ctx, gy):
        a, s = ctx.saved_tensors
        xp = get_array_module(gy)
        return xp.concatenate((gy * s, gy * a * s * (1 - s)), axis=ctx.dim), None


class PReLU(Function):
    """x if x > 0 else w·x, with w broadcast against x (one slope per channel);
    dx = dy where x > 0, else w·dy; dw = x·dy where x <= 0 (summed by the engine); saved:
    x, w."""
    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        if _piecewise_ok(x) and type(w) is np.ndarray and w.dtype == x.dtype:
            from ..kernels.cpu import piecewise          # w: (C, 1, ..., 1) or one slope
            return piecewise.prelu_forward(x, np.ascontiguousarray(w))
        return np.where(x > 0, x, w * x)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        g = (_piecewise_grad(gy, x) if _piecewise_ok(x) and type(w) is np.ndarray
             and w.dtype == x.dtype else None)
        if g is not None:               # dw summed here, per (sample, channel) plane
            from ..kernels.cpu import piecewise
            return piecewise.prelu_backward(g, x, np.ascontiguousarray(w),
                                            ctx.needs_input_grad[0], ctx.needs_input_grad[1])
        pos = x > 0
        gx = np.where(pos, gy, w * gy) if ctx.needs_input_grad[0] else None
        gw = np.where(pos, 0, x * gy) if ctx.needs_input_grad[1] else None
        return gx, gw


# ----------------------------------------------------------------------------- wrappers

def relu(input, inplace=False):
    """max(x, 0); integer input keeps its dtype (``inplace`` is accepted and ignored: minicv
    always returns a new tensor)."""
    return ReLU.apply(_not_bool(input, "relu"))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clamped to [min_val, max_val]; the gradient is 1 strictly inside, 0 elsewhere.

    Integer input keeps its dtype (float bounds truncate the result, as in PyTorch);
    ``inplace`` is accepted and ignored. ``relu6(x)`` is ``hardtanh(x, 0, 6)``.

    Example::

        F.hardtanh(mc.tensor([-2.0, 0.5, 3.0]))     # [-1.0, 0.5, 1.0]
    """
    x = _not_bool(input, "hardtanh")
    if max_val <= min_val:
        raise ValueError(f"hardtanh: max_val ({max_val}) must be larger than min_val "
                         f"({min_val})")
    if x.dtype.kind == "u" and min_val < 0:
        raise TypeError(f"hardtanh: an unsigned input ({x.dtype}) cannot take the negative "
                        f"bound min_val={min_val}: use min_val >= 0 or convert with x.long()")
    return Hardtanh.apply(x, min_val, max_val)


def relu6(input, inplace=False):
    """min(max(x, 0), 6) = hardtanh(x, 0, 6): no gradient at 0 or 6."""
    return hardtanh(input, 0.0, 6.0)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return LeakyReLU.apply(_floating_only(input, "leaky_relu"), negative_slope)


def elu(input, alpha=1.0, inplace=False):
    return ELU.apply(_floating_only(input, "elu"), alpha, 1.0, 1.0)


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(_floating_only(input, "gelu"), approximate)


def sigmoid(input):
    return Sigmoid.apply(_float(input))


def tanh(input):
    return Tanh.apply(_float(input))


def softplus(input, beta=1.0, threshold=20.0):
    return Softplus.apply(_floating_only(input, "softplus"), beta, threshold)


def silu(input, inplace=False):
    """x·sigmoid(x) (a.k.a. swish); ``inplace`` is accepted and ignored.

    Example::

        F.silu(mc.tensor([-1.0, 2.0]))             # [-0.2689, 1.7616]
    """
    return SiLU.apply(_floating_only(input, "silu"))


def mish(input, inplace=False):
    """x·tanh(softplus(x)); ``inplace`` is accepted and ignored.

    Example::

        F.mish(mc.tensor([-1.0, 2.0]))             # [-0.3034, 1.9440]
    """
    return Mish.apply(_floating_only(input, "mish"))


def _softmax_dim(x, dim, name):
    if dim is None:
        # PyTorch's legacy implicit choice: dim 0 for 0-, 1- and 3-D input, else 1.
        dim = 0 if x.ndim in (0, 1, 3) else 1
    if x.ndim == 0:
        return None
    if not -x.ndim <= dim < x.ndim:
        raise IndexError(f"{name}: dim {dim} is out of range for a {x.ndim}-D tensor")
    return dim % x.ndim


def softmax(input, dim=None, dtype=None):
    x = _floating_only(input, "softmax") if dtype is None else as_tensor_arg(input).to(dtype)
    d = _softmax_dim(x, dim, "softmax")
    if d is None:
        return Softmax.apply(x.reshape(1), 0).reshape(())
    return Softmax.apply(x, d)


def log_softmax(input, dim=None, dtype=None):
    x = (_floating_only(input, "log_softmax") if dtype is None
         else as_tensor_arg(input).to(dtype))
    d = _softmax_dim(x, dim, "log_softmax")
    if d is None:
        return LogSoftmax.apply(x.reshape(1), 0).reshape(())
    return LogSoftmax.apply(x, d)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """scale·elu(x, alpha) with alpha ≈ 1.6733, scale ≈ 1.0507 (Klambauer et al. 2017), the
    constants that keep activations near zero mean and unit variance.

    Example::

        F.selu(mc.tensor([-1.0, 1.0]))            # [-1.1113, 1.0507]
    """
    return ELU.apply(_floating_only(input, "selu"), _SELU_ALPHA, _SELU_SCALE, 1.0)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha·(exp(x/alpha) - 1)) (Barron 2017): elu with a slope of 1 at
    0 for every alpha.

    Example::

        F.celu(mc.tensor([-1.0, 2.0]), alpha=0.5)   # [-0.4323, 2.0]
    """
    x = _floating_only(input, "celu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU (it divides x)")
    return ELU.apply(x, alpha, 1.0, 1.0 / alpha)


def hardswish(input, inplace=False):
    """x·relu6(x + 3)/6, the cheap swish of MobileNetV3.

    Example::

        F.hardswish(mc.tensor([-4.0, 1.0, 4.0]))  # [0.0, 0.6667, 4.0]
    """
    return Hardswish.apply(_floating_only(input, "hardswish"))


def hardsigmoid(input, inplace=False):
    """relu6(x + 3)/6: 0 below -3, 1 above 3, linear in between.

    Example::

        F.hardsigmoid(mc.tensor([-4.0, 0.0, 1.0]))  # [0.0, 0.5, 0.6667]
    """
    return Hardsigmoid.apply(_floating_only(input, "hardsigmoid"))


def logsigmoid(input):
    """log(1 / (1 + exp(-x))), computed without overflow.

    Example::

        F.logsigmoid(mc.tensor([0.0]))             # [-0.6931]
    """
    return LogSigmoid.apply(_floating_only(input, "logsigmoid"))


def softsign(input):
    """x / (1 + |x|); integer input gives the default float dtype (as PyTorch).

    Example::

        F.softsign(mc.tensor([-3.0, 1.0]))         # [-0.75, 0.5]
    """
    x = as_tensor_arg(input)
    if x.dtype.kind == "f":
        return Softsign.apply(x)
    return _div(x, _add(_abs(x), 1))


def tanhshrink(input):
    """x - tanh(x); integer input gives the default float dtype (as PyTorch).

    Example::

        F.tanhshrink(mc.tensor([1.0]))             # [0.2384]
    """
    x = as_tensor_arg(input)
    return _sub(x, tanh(x))


def softshrink(input, lambd=0.5):
    """x - lambd where x > lambd, x + lambd where x < -lambd, 0 in between.

    Example::

        F.softshrink(mc.tensor([-2.0, 0.3, 1.0]))  # [-1.5, 0.0, 0.5]
    """
    x = _floating_only(input, "softshrink")
    if not lambd >= 0:
        raise RuntimeError(f"softshrink: lambda must be in range [0, inf) for input dtype "
                           f"{x.dtype}, but found {lambd}")
    return Shrink.apply(x, lambd, True)


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, 0 elsewhere.

    Example::

        F.hardshrink(mc.tensor([-2.0, 0.3, 1.0]))  # [-2.0, 0.0, 1.0]
    """
    return Shrink.apply(_floating_only(input, "hardshrink"), lambd, False)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else ``value``; integer input keeps its dtype.

    Example::

        F.threshold(mc.tensor([-1.0, 0.5, 2.0]), 1.0, -5.0)   # [-5.0, -5.0, 2.0]
    """
    return Threshold.apply(_not_bool(input, "threshold"), threshold, value)


def glu(input, dim=-1):
    """Gated linear unit: a·sigmoid(b), with a, b the first and second half along ``dim``.

    Shape: (*, 2n, *) -> (*, n, *).

    Example::

        F.glu(mc.randn(4, 6)).shape               # (4, 3)
    """
    x = _floating_only(input, "glu")
    if x.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = _dim(dim, x.ndim)
    if x.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size "
                           f"{x.shape[d]}")
    return GLU.apply(x, d)


def prelu(input, weight):
    """x if x > 0 else weight·x, with one learnt slope per channel (dim 1) or one shared.

    Args:
        input: (N, C, *) floating tensor, or (N,) / 0-d with a single slope.
        weight: (C,) or (1,) (or 0-d) tensor of input's dtype.

    Shape: output has the input's shape.

    Example::

        F.prelu(mc.tensor([[-1.0, 2.0]]), mc.tensor([0.25, 0.5]))   # [[-0.25, 2.0]]
    """
    x, w = _floating_only(input, "prelu"), as_tensor_arg(weight)
    if w.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {w.ndim}")
    if x.dtype != w.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {x.dtype} input and "
                           f"{w.dtype} weight: convert one of them (x.to(weight.dtype))")
    n = w.data.size
    if n != 1:
        if x.ndim == 0:
            raise RuntimeError("prelu: Not allow zero-dim input tensor.")
        channels = x.shape[1] if x.ndim >= 2 else 1
        if n != channels:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {n} and channel size = {channels}.")
        w = w.reshape((n,) + (1,) * (x.ndim - 2))           # (C, 1, ..., 1)
    elif w.ndim and x.ndim == 0:
        w = w.reshape(())
    return PReLU.apply(x, w)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU (Xu et al. 2015): in training every x <= 0 is multiplied by
    its own slope a ~ U(lower, upper) (drawn from minicv's generator, so ``mc.manual_seed``
    repeats it); in eval the slope is the mean, (lower + upper)/2.

    Example::

        F.rrelu(mc.tensor([-1.0, 2.0]))           # eval: [-0.2292, 2.0]
    """
    x = _floating_only(input, "rrelu")
    if lower > upper:
        raise RuntimeError(f"rrelu: Lower bound should be less than or equal to the upper "
                           f"bound, got lower={lower} and upper={upper}")
    if not training:
        return leaky_relu(x, (lower + upper) / 2)
    xp = get_array_module(x.data)
    slopes = get_rng().uniform(lower, upper, x.shape).astype(x.dtype)
    slopes = slopes if xp is np else xp.asarray(slopes)
    return MaskMul.apply(x, xp.where(x.data <= 0, slopes, x.dtype.type(1)), None)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``: the smallest entries get the largest weights.

    Example::

        F.softmin(mc.tensor([1.0, 2.0]), dim=0)   # [0.7311, 0.2689]
    """
    return softmax(-as_tensor_arg(input), dim, dtype)


def _inplace_fn(fn):
    """The in-place form ``F.<fn>_`` of an activation: writes fn(input) into input (and
    records it for autograd as ``Tensor`` in-place methods do)."""
    name = fn.__name__ + "_"
    method = _inplace_method(fn, name)

    def inplace(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be a Tensor, not "
                            f"{type(input).__name__}")
        return method(input, *args, **kwargs)
    inplace.__name__ = name
    inplace.__doc__ = f"In-place ``{fn.__name__}``: writes the result into ``input``."
    return inplace


relu_ = _inplace_fn(relu)
elu_ = _inplace_fn(elu)
leaky_relu_ = _inplace_fn(leaky_relu)
hardtanh_ = _inplace_fn(hardtanh)
threshold_ = _inplace_fn(threshold)
celu_ = _inplace_fn(celu)
selu_ = _inplace_fn(selu)
rrelu_ = _inplace_fn(rrelu)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """A differentiable sample from the categorical distribution softmax(logits) (Jang et
    al. 2016): softmax((logits + g)/tau) along ``dim``, g ~ Gumbel(0, 1) drawn from minicv's
    generator. ``hard=True`` returns the one-hot of the argmax in the forward pass and the
    soft sample's gradient in the backward pass (straight-through: y_hard - sg(y) + y).

    Args:
        tau: temperature (> 0; small values approach one-hot). eps: deprecated, unused.

    Shape: output has the logits' shape.

    Example::

        y = F.gumbel_softmax(mc.randn(4, 10), tau=0.5, hard=True)   # rows are one-hot
    """
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    x = _floating_only(logits, "gumbel_softmax")
    xp = get_array_module(x.data)
    gumbels = (-np.log(get_rng().exponential(size=x.shape))).astype(x.dtype)   # (*)
    gumbels = gumbels if xp is np else xp.asarray(gumbels)
    y_soft = softmax((x + Tensor(gumbels)) / tau, dim)
    if not hard:
        return y_soft
    d = dim % max(x.ndim, 1)
    index = y_soft.data.argmax(axis=d if x.ndim else None, keepdims=True)
    y_hard = xp.zeros_like(y_soft.data)
    if x.ndim:
        put_along_axis(xp, y_hard, index, 1, d)
    else:
        y_hard[...] = 1
    return Tensor(y_hard) - y_soft.detach() + y_soft
