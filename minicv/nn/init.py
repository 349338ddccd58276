"""Weight initialisation, in place, with PyTorch's names and formulas.

Every function fills ``tensor`` under ``no_grad`` from minicv's generator (so
``mc.manual_seed`` makes it reproducible), or from ``generator=`` (a ``minicv.Generator``
or a ``numpy.random.Generator``), and returns it. Fans follow PyTorch: for a
weight of shape (out, in, *kernel), ``fan_in = in·prod(kernel)`` and
``fan_out = out·prod(kernel)``.

    xavier_uniform_   U(-a, a),  a = gain·√(6 / (fan_in + fan_out))      (Glorot 2010)
    xavier_normal_    N(0, σ²),  σ = gain·√(2 / (fan_in + fan_out))
    kaiming_uniform_  U(-b, b),  b = gain·√(3 / fan)                       (He 2015)
    kaiming_normal_   N(0, σ²),  σ = gain / √fan
    gains             linear/conv/sigmoid 1, tanh 5/3, relu √2,
                      leaky_relu √(2 / (1 + a²)), selu 3/4

PyTorch's default for Linear and Conv weights is ``kaiming_uniform_(w, a=√5)``, i.e.
U(-1/√fan_in, 1/√fan_in), and the same bound for the bias.
"""
import math

import numpy as np

from ..backend import as_generator, get_rng, get_array_module, is_cupy_array
from ..tensor import Tensor


def _rng(generator):
    # generator: a minicv.Generator, a numpy.random.Generator, or None (the global stream)
    return as_generator(generator) or get_rng()


def _fill(tensor, values):
    """Write ``values`` into ``tensor`` in place (bumping its version) and return it."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"init functions fill a Tensor in place, got {type(tensor).__name__}")
    # values are computed on the host (minicv's generator); a GPU tensor gets a copy
    values = np.asarray(values, dtype=tensor.dtype) if not is_cupy_array(values) else values
    tensor.data[...] = get_array_module(tensor.data).asarray(values)
    tensor._vc[0] += 1
    return tensor


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (multiplies the init's standard deviation).

    Example: ``calculate_gain("leaky_relu", 0.2)`` = √(2 / 1.04).
    """
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
              "conv_transpose2d", "conv_transpose3d")
    if nonlinearity in linear or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         f"dimensions (got shape {list(tensor.shape)})")
    receptive = math.prod(tensor.shape[2:]) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b)."""
    return _fill(tensor, _rng(generator).uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std²)."""
    return _fill(tensor, _rng(generator).normal(mean, std, tensor.shape))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std²) truncated to [a, b] (redrawing values outside the bounds)."""
    if a >= b:
        raise ValueError(f"trunc_normal_: need a < b, got a={a}, b={b}")
    rng = _rng(generator)
    out = np.empty(tensor.shape, np.float64).reshape(-1)
    todo = np.arange(out.size)
    while todo.size:
        draw = rng.normal(mean, std, todo.size)
        ok = (draw >= a) & (draw <= b)
        out[todo[ok]] = draw[ok]
        todo = todo[~ok]
    return _fill(tensor, out.reshape(tensor.shape))


def constant_(tensor, val):
    return _fill(tensor, np.full(tensor.shape, val))


def ones_(tensor):
    return constant_(tensor, 1.0)


def zeros_(tensor):
    return constant_(tensor, 0.0)


def eye_(tensor):
    """Identity matrix into a 2-D tensor."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor, groups=1):
    """Identity convolution kernel: a 1 at the centre of channel i -> i."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    out_per_group = tensor.shape[0] // groups
    n = min(out_per_group, tensor.shape[1])
    w = np.zeros(tensor.shape)
    centre = tuple(k // 2 for k in tensor.shape[2:])
    for g in range(groups):
        for d in range(n):
            w[(g * out_per_group + d, d) + centre] = 1
    return _fill(tensor, w)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform: U(-a, a) with a = gain·√(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal: N(0, σ²) with σ = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform: U(-b, b) with b = gain·√(3 / fan), gain = calculate_gain(nonlinearity, a).

    Example: ``kaiming_uniform_(conv.weight, mode="fan_out", nonlinearity="relu")``.
    """
    if 0 in tensor.shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    bound = math.sqrt(3.0) * gain / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, σ²) with σ = gain / √fan."""
    if 0 in tensor.shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix (Saxe et al. 2013), from the QR decomposition of a
    Gaussian matrix with the signs of R's diagonal folded in; dims after the first are
    flattened."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.data.size == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.data.size // rows
    flat = _rng(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """A sparse 2-D matrix (Martens 2010): N(0, std²) entries with ``ceil(sparsity·rows)``
    of them, at random rows, set to zero in every column. The zero rows are drawn from
    ``generator`` too (PyTorch draws them from its global stream whatever ``generator``).

    Example: ``nn.init.sparse_(mc.empty(5, 3), sparsity=0.4)`` (2 zeros per column).
    """
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    rng = _rng(generator)
    values = rng.normal(0.0, std, (rows, cols))
    order = np.argsort(rng.random((rows, cols)), axis=0)   # a random permutation per column
    np.put_along_axis(values, order[:num_zeros], 0.0, axis=0)
    return _fill(tensor, values)


# PyTorch's deprecated names without the trailing underscore
uniform, normal, constant = uniform_, normal_, constant_
xavier_uniform, xavier_normal = xavier_uniform_, xavier_normal_
kaiming_uniform, kaiming_normal, orthogonal = kaiming_uniform_, kaiming_normal_, orthogonal_
sparse = sparse_
