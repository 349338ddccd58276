"""minicv: a deep-learning engine for computer vision, written from scratch on NumPy.

``import minicv as mc`` gives PyTorch's names: ``mc.tensor``, ``mc.randn``, ``mc.no_grad``,
``mc.cat``, ``mc.manual_seed``... See README.md for a tour and docs/ for the design.
"""
import numpy as np

from .backend import (manual_seed, set_num_threads, get_num_threads, get_default_dtype,
                      set_default_dtype, initial_seed, get_array_module, Generator,
                      result_type, promote_types, can_cast, finfo, iinfo)
from .autograd import (Function, no_grad, enable_grad, set_grad_enabled, is_grad_enabled,
                       inference_mode)
from .tensor import Tensor, Device as device
from .factories import (tensor, as_tensor, from_numpy, zeros, ones, empty, full, eye,
                        arange, linspace, rand, randn, randint, randperm, zeros_like,
                        ones_like, empty_like, full_like, rand_like, randn_like, asarray,
                        scalar_tensor, logspace, randint_like)
from .random import (bernoulli, multinomial, normal, poisson, get_rng_state, set_rng_state,
                     seed)
from .ops.elementwise import (add, sub, mul, div, neg, pow, exp, log, sqrt, abs, clamp,
                              clamp_min, clamp_max, maximum, minimum, where, eq, ne, lt, le,
                              gt, ge, remainder, floor, ceil, round, trunc, sign, sin, cos,
                              log1p, expm1, isnan, isinf, isfinite, log2, log10, tan, erf,
                              atan2, floor_divide, lerp, nan_to_num, isclose)
from .ops.activation import relu, sigmoid, tanh, softmax, log_softmax
from .ops.reduce import (sum, mean, var, std, max, min, amax, amin, argmax, argmin,
                         logsumexp, prod, cumsum, norm, cumprod, median, var_mean,
                         std_mean, count_nonzero, any, all)
from .ops.shape import (reshape, permute, transpose, flatten, squeeze, unsqueeze, cat,
                        stack, split, chunk, flip, tile, unbind, narrow, movedim, t, roll,
                        broadcast_to, meshgrid, repeat_interleave)
from .ops.index import (gather, scatter, scatter_add, index_select, masked_fill, nonzero,
                        sort, argsort, topk, masked_select, take_along_dim, argwhere,
                        unique, bincount, index_put, index_put_)
from .ops.linalg import matmul, mm, bmm, dot, outer, addmm, einsum, tril, triu, diag
from .ops.logical import (logical_and, logical_or, logical_xor, logical_not, bitwise_and,
                          bitwise_or, bitwise_xor, bitwise_not, bitwise_left_shift,
                          bitwise_right_shift)
from .serialization import save, load
from .ops.trig import (asin, acos, atan, sinh, cosh, asinh, acosh, atanh, arcsin, arccos,
                       arctan, arcsinh, arccosh, arctanh, arctan2, deg2rad, rad2deg, hypot,
                       sinc)
from .ops.special import (fmod, frac, copysign, heaviside, fmax, fmin, float_power, signbit,
                          sgn, positive, negative, subtract, multiply, divide, true_divide,
                          greater, greater_equal, less, less_equal, not_equal, absolute, fix,
                          rsub, logaddexp, logaddexp2, exp2, xlogy, logit, erfc, erfinv,
                          lgamma, digamma)
from .ops.stats import (nansum, nanmean, nanmedian, aminmax, msort, cummax, cummin,
                        logcumsumexp, quantile, nanquantile, kthvalue, mode, diff, bucketize,
                        searchsorted, isin, histc, cov, corrcoef)
from .ops.linalg import (trace, diagonal, diag_embed, diagflat, block_diag, kron, tensordot,
                         inner, vdot, mv, addmv, addr, baddbmm, addbmm, addcmul, addcdiv,
                         cross, cartesian_prod, combinations, tril_indices, triu_indices,
                         vander, chain_matmul, matrix_power, cdist, det, logdet, slogdet,
                         inverse)
from . import linalg
from .ops.shape import (rot90, fliplr, flipud, hstack, vstack, row_stack, dstack,
                        column_stack, atleast_1d, atleast_2d, atleast_3d, tensor_split,
                        hsplit, vsplit, dsplit, split_with_sizes, unflatten, moveaxis,
                        swapdims, ravel, select, narrow_copy, broadcast_tensors,
                        broadcast_shapes, unravel_index)
from .ops.index import (take, index_add, index_copy, index_fill, scatter_reduce,
                        masked_scatter, select_scatter, slice_scatter, diagonal_scatter,
                        unique_consecutive)
from .ops.decomp import (svd, qr, cholesky, cholesky_solve, cholesky_inverse, pinverse,
                         triangular_solve, linalg_matrix_exp as matrix_exp)
from .ops.elementwise import isposinf, isneginf
from .ops.reduce import dist
from .ops.linalg import pdist
from . import _functional_aliases
for _name in _functional_aliases.NAMES:        # mc.conv2d, mc.batch_norm, mc.kl_div, ...
    globals()[_name] = getattr(_functional_aliases, _name)
detach, detach_ = Tensor.detach, Tensor.detach_
# torch.X_(t, ...) is t.X_(...): every in-place function PyTorch has at top level
for _name in ("abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_",
              "arcsinh_", "arctan_", "arctanh_", "asin_", "asinh_", "atan_", "atanh_", "ceil_",
              "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_",
              "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_",
              "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_",
              "negative_", "rad2deg_", "reciprocal_", "relu_", "round_", "rsqrt_",
              "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_", "tanh_",
              "trunc_", "xlogy_", "zero_"):
    globals()[_name] = _functional_aliases.method_as_function(_name)
del _name
from .ops.special import ldexp, nextafter
from .ops.special2 import polygamma, i0, histogram, multigammaln as mvlgamma
from .tensor import _install_methods

_install_methods()
del _install_methods

__version__ = "0.1.0"

float32 = np.float32
float64 = np.float64
float16 = np.float16
int64 = np.int64
int32 = np.int32
long = np.int64
uint8 = np.uint8
bool = np.bool_
# PyTorch's short names. They shadow Python's float/int/bool inside this file only (not in
# the other modules): write builtins.int here if one is needed.
float = np.float32
double = np.float64
half = np.float16
int = np.int32
short = int16 = np.int16
int8 = np.int8
clip = clamp
concat = cat
concatenate = cat
swapaxes = transpose


def is_tensor(obj):
    """Whether ``obj`` is a minicv Tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input):
    """Whether ``input``'s dtype is a floating one (float16/32/64)."""
    return input.is_floating_point()


def numel(input):
    """Number of elements of ``input``."""
    return input.numel()


def clone(input):
    """A copy of ``input`` that stays in the graph (gradients flow back to ``input``)."""
    return input.clone()


def square(input):
    return input.square()


def rsqrt(input):
    return input.rsqrt()


def reciprocal(input):
    """1 / ``input``; integer inputs give the default float dtype."""
    return input.reciprocal()


def is_nonzero(input):
    """Whether the single element of ``input`` is non-zero."""
    return input.is_nonzero()


def is_same_size(input, other):
    return input.shape == other.shape


def equal(input, other):
    """Whether both tensors have the same shape and elements (a Python bool)."""
    return input.equal(other)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether |input - other| <= atol + rtol·|other| everywhere (a Python bool)."""
    return input.allclose(other, rtol, atol, equal_nan)

_SUBMODULES = ("nn", "optim", "data", "models", "train", "testing", "kernels", "bench",
               "backends", "special")


def __getattr__(name):
    """``mc.nn``, ``mc.optim``... imported on first use, so ``import minicv`` stays fast."""
    if name in _SUBMODULES:
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'minicv' has no attribute {name!r}")
