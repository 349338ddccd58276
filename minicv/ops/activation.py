"""Activations: relu, hardtanh, leaky_relu, elu, gelu, sigmoid, tanh, softplus, softmax,
log_softmax.

Each saves the cheaper of input and output: sigmoid and tanh differentiate through their
output, relu through a mask. Softmax and log-softmax subtract the row maximum first so
large logits never overflow (reference.md §9).

Integer input follows PyTorch: relu and hardtanh keep the integer dtype (they are exact on
integers), sigmoid and tanh return the default float dtype, and the others raise TypeError.
"""
import math

import numpy as np

from ..autograd import Function
from ..backend import get_default_dtype, is_cupy_array
from ..tensor import as_tensor_arg
from .reduce import _floating


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


class ReLU(Function):
    """relu(x) = max(x, 0); the gradient passes where x > 0 and is 0 elsewhere (a select,
    as PyTorch: a NaN gradient does not leak through a zero output); saved: output."""
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
        if (type(gy) is not np.ndarray and is_cupy_array(gy) and gy.dtype == y.dtype
                and gy.shape == y.shape and gy.dtype in (np.float32, np.float64)):
            from ..kernels.gpu.activation import relu_backward     # one launch, not two
            return relu_backward(gy, y)
        return np.where(y > 0, gy, 0)     # a select: a NaN gradient stays out where y = 0


class Hardtanh(Function):
    """min(max(x, lo), hi); d/dx = 1 where lo < x < hi, else 0; saved: x.

    Unlike clamp, whose gradient passes at the bounds, no gradient passes at x = lo or
    x = hi (PyTorch's hardtanh_backward); a select, so a NaN gradient stays out there.
    """
    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        # integers clamped to float bounds come back truncated (PyTorch: [1, -2, 3] for
        # [1, -2, 7] in [-2.5, 3.5])
        return np.minimum(np.maximum(x, lo), hi).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        g = np.where((x <= ctx.lo) | (x >= ctx.hi), 0, gy).astype(gy.dtype, copy=False)
        return g, None, None


class LeakyReLU(Function):
    """x if x > 0 else slope·x; saved: x."""
    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        return np.where(x > 0, x, x * x.dtype.type(slope))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * np.where(x > 0, 1, x.dtype.type(ctx.slope)).astype(gy.dtype), None


class ELU(Function):
    """x if x > 0 else alpha·(exp(x) - 1); d/dx = 1 or y + alpha; saved: x, output."""
    @staticmethod
    def forward(ctx, x, alpha):
        y = np.where(x > 0, x, x.dtype.type(alpha) * np.expm1(np.minimum(x, 0)))
        ctx.save_for_backward(x, y)
        ctx.alpha = alpha
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        return gy * np.where(x > 0, 1, y + x.dtype.type(ctx.alpha)).astype(gy.dtype), None


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


class GELU(Function):
    """Exact: x·Φ(x), d/dx = Φ(x) + x·φ(x).
    tanh: 0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))."""
    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3))
            return (0.5 * x * (1 + t)).astype(x.dtype, copy=False)
        return (x * _normal_cdf(x)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            u = _SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)
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
        e = np.exp(-np.abs(x))
        y = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * y * (1 - y)


class Tanh(Function):
    """d/dx tanh(x) = 1 - tanh(x)²; saved: output."""
    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * (1 - y * y)


class Softplus(Function):
    """(1/β)·log(1 + exp(βx)), linear above ``threshold``; d/dx = sigmoid(βx); saved: x."""
    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        bx = x * beta
        soft = (np.logaddexp(0, bx) / beta).astype(x.dtype, copy=False)
        return np.where(bx > threshold, x, soft)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        bx = x * ctx.beta
        s = 0.5 * (1 + np.tanh(0.5 * bx))      # sigmoid(bx), overflow-free
        return gy * np.where(bx > ctx.threshold, 1, s).astype(gy.dtype), None, None


class Softmax(Function):
    """y = exp(x - max) / sum; dx = y·(gy - sum(gy·y)); saved: output."""
    @staticmethod
    def forward(ctx, x, dim):
        e = np.exp(x - x.max(axis=dim, keepdims=True))
        y = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return y * (gy - (gy * y).sum(axis=ctx.dim, keepdims=True)), None


class LogSoftmax(Function):
    """y = x - max - log(sum(exp(x - max))); dx = gy - softmax·sum(gy); saved: output."""
    @staticmethod
    def forward(ctx, x, dim):
        shifted = x - x.max(axis=dim, keepdims=True)
        y = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy - np.exp(y) * gy.sum(axis=ctx.dim, keepdims=True), None


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
    return ELU.apply(_floating_only(input, "elu"), alpha)


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
