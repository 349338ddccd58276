"""Random sampling beyond the factories: ``mc.bernoulli``, ``mc.multinomial``,
``mc.normal``, ``mc.poisson``, the in-place fills ``Tensor.bernoulli_``, ``random_``,
``exponential_``, ``geometric_``, ``cauchy_``, ``log_normal_``, and the global stream's
state (``mc.get_rng_state`` / ``mc.set_rng_state`` / ``mc.seed``).

Every draw comes from minicv's global generator (``mc.manual_seed``) or from
``generator=`` (a :class:`~minicv.Generator`), on the host, as the factories do: a tensor on
a GPU gets a copy of host draws, so one seed gives the same values on every device.
:func:`multinomial` reads its weights on the host too (a GPU input is copied there).

The samples are not differentiable: as in PyTorch, a sample of a tensor that requires grad
requires grad too, and its gradient is zero (``bernoulli``, ``normal``, ``poisson``).
"""
import math

import numpy as np

from .backend import as_generator, get_rng, to_device, to_numpy, Generator
from .tensor import Tensor, Device, as_tensor_arg

__all__ = ["bernoulli", "multinomial", "normal", "poisson", "get_rng_state",
           "set_rng_state", "seed"]


def _rng(generator):
    return as_generator(generator) or get_rng()


def _like(x, draws):
    """Host ``draws`` as an array on ``x``'s device, in ``x``'s dtype."""
    return to_device(np.asarray(draws).astype(x.dtype, copy=False), x.device)


def _sample(x, draws):
    """A sample shaped like ``x`` from host ``draws``: in the graph with a zero gradient
    when ``x`` requires grad (PyTorch's convention), else a plain tensor."""
    from .ops.elementwise import ZeroGrad
    values = _like(x, draws)
    if x.requires_grad:
        return ZeroGrad.apply(x, lambda _: values)
    return Tensor(values)


def _check_probabilities(name, p):
    """p (a number or a host array) within [0, 1]; PyTorch's message."""
    if not np.all((np.asarray(p) >= 0) & (np.asarray(p) <= 1)):
        raise RuntimeError(f"{name}: expected every probability p to satisfy 0 <= p <= 1")


def bernoulli(input, p=None, *, generator=None):
    """0/1 samples: element i is 1 with probability ``input[i]`` (or with probability ``p``
    for every element when ``p`` is given). The result has ``input``'s shape and dtype;
    with ``p`` given, ``input`` may be an integer or bool tensor (only its shape is read).

    Example::

        mc.bernoulli(mc.full((2, 3), 0.5))       # fair coin flips
    """
    x = as_tensor_arg(input)
    if x.dtype.kind != "f" and p is None:
        raise TypeError(f"bernoulli: input must hold floating-point probabilities, got "
                        f"{x.dtype}; use x.float() (or x.bernoulli_(p) to fill an integer "
                        f"tensor)")
    u = _rng(generator).random(x.shape)
    if p is None:
        probs = to_numpy(x.data)
        _check_probabilities("bernoulli", probs)
    else:
        _check_probabilities("bernoulli", p)
        probs = p
    return _sample(x, u < probs)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices drawn from the categories of each row of ``input`` (non-negative weights,
    not necessarily normalised), int64. Without replacement every index appears once per
    row, so ``num_samples`` may not exceed the number of categories with non-zero weight.

    Shape: input (C,) -> (num_samples,); input (N, C) -> (N, num_samples).

    Example::

        mc.multinomial(mc.tensor([0.1, 0.0, 0.9]), 4, replacement=True)  # e.g. [2, 2, 0, 2]
    """
    x = as_tensor_arg(input)
    if x.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape "
                           f"{list(x.shape)}")
    if x.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, "
                           f"got {x.dtype}: use x.float()")
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples "
                           f"(num_samples={num_samples})")
    w = np.atleast_2d(to_numpy(x.data)).astype(np.float64)          # (N, C)
    if not np.all(np.isfinite(w) & (w >= 0)):
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` "
                           "or element < 0")
    if not replacement and num_samples > w.shape[1]:
        raise RuntimeError(f"multinomial: cannot sample n_sample ({num_samples}) > "
                           f"prob_dist.size(-1) ({w.shape[1]}) samples without replacement")
    total = w.sum(axis=1)
    if np.any(total <= 0):
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of "
                           "probabilities <= 0)")
    if not replacement and np.any((w > 0).sum(axis=1) < num_samples):
        raise RuntimeError(f"multinomial: invalid multinomial distribution (with "
                           f"replacement=False, fewer than num_samples={num_samples} "
                           f"categories have a non-zero probability)")
    rng = _rng(generator)
    if w.shape[0] == 0:                                  # (0, C) input: (0, num_samples)
        return Tensor(to_device(np.empty((0, num_samples), np.int64), x.device))
    rows = [rng.choice(w.shape[1], num_samples, replace=replacement, p=row / t)
            for row, t in zip(w, total)]
    out = np.stack(rows).astype(np.int64)
    return Tensor(to_device(out if x.ndim == 2 else out[0], x.device))


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False):
    """Samples of N(mean, std²). ``mean`` and ``std`` are tensors that broadcast together,
    or numbers; with two numbers ``size`` gives the shape (PyTorch's four overloads).

    Example::

        mc.normal(mc.zeros(3), 0.1)              # three draws of N(0, 0.01)
        mc.normal(2.0, 3.0, size=(2, 2))
    """
    rng = _rng(generator)
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError("normal(mean, std) with two numbers needs size=, e.g. "
                            "mc.normal(0.0, 1.0, size=(2, 3))")
        _check_std(std)
        from .factories import _float_dtype, _make, _size
        draws = rng.normal(mean, std, _size((size,))).astype(_float_dtype(dtype))
        return _make(draws, requires_grad, device)
    m = mean if isinstance(mean, Tensor) else None
    s = std if isinstance(std, Tensor) else None
    ref = m if m is not None else s
    dtype = np.result_type(*(t.dtype for t in (m, s) if t is not None))
    mu = to_numpy(m.data) if m is not None else mean
    sigma = to_numpy(s.data) if s is not None else std
    shape = np.broadcast_shapes(np.shape(mu), np.shape(sigma))
    if dtype.kind != "f":
        if math.prod(shape) == 0:                 # PyTorch returns an empty tensor here
            return Tensor(to_device(np.empty(shape, dtype), ref.device))
        raise TypeError(f"normal: mean and std tensors must be floating, got {dtype}")
    _check_std(sigma)
    draws = mu + sigma * rng.standard_normal(shape)
    out = _like(ref, draws)
    grads = [t for t in (m, s) if t is not None and t.requires_grad]
    if not grads:
        return Tensor(out)
    from .ops.elementwise import ZeroGrad, add
    from .ops.shape import broadcast_to
    anchor = grads[0] if len(grads) == 1 else add(*grads)      # both get a zero gradient
    return ZeroGrad.apply(broadcast_to(anchor, shape), lambda _: out)


def _check_std(std):
    if np.any(np.asarray(std) < 0):
        raise RuntimeError("normal expects std >= 0.0, but found a negative std")


def poisson(input, generator=None):
    """Samples of Poisson(rate) for every rate in ``input`` (floating, non-negative), in
    ``input``'s dtype.

    Example::

        mc.poisson(mc.tensor([1.0, 5.0]))        # e.g. tensor([0., 6.])
    """
    x = as_tensor_arg(input)
    if x.dtype.kind != "f":
        raise TypeError(f"poisson: rates must be floating, got {x.dtype}")
    rates = to_numpy(x.data)
    if np.any(rates < 0):
        raise RuntimeError("poisson: invalid Poisson rate, expected rate to be non-negative")
    return _sample(x, _rng(generator).poisson(rates))


# ----------------------------------------------------------------------------- in-place fills

def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 0/1 samples, 1 with probability ``p`` (a number or a tensor that
    broadcasts to self); works for any dtype."""
    probs = to_numpy(p.data) if isinstance(p, Tensor) else p
    _check_probabilities("bernoulli_", probs)
    u = _rng(generator).random(self.shape)
    return self._fill("bernoulli_", u < probs)


def _integer_range(dtype):
    """random_()'s default range [0, top]: the integers the dtype holds exactly."""
    if dtype == np.bool_:
        return 1
    if dtype.kind == "f":
        return 2 ** (np.finfo(dtype).nmant + 1)
    return int(np.iinfo(dtype).max)


def random_(self, *args, generator=None, **kwargs):
    """Fill with integers drawn uniformly from [from, to - 1]: ``x.random_()`` uses every
    integer the dtype holds exactly from 0 up, ``x.random_(to)`` [0, to - 1],
    ``x.random_(from, to)`` [from, to - 1]."""
    bounds = dict(zip(("from", "to") if len(args) != 1 else ("to",), args))
    bounds.update(kwargs)
    low, high = int(bounds.get("from", 0)), bounds.get("to")
    top = _integer_range(self.dtype)
    high = top + 1 if high is None else int(high)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")
    if self.dtype.kind in "iub" and (high - 1 > top or low < _lowest(self.dtype)):
        raise RuntimeError(f"random_: [from, to - 1] = [{low}, {high - 1}] is out of bounds "
                           f"for {self.dtype}")
    draws = _rng(generator).integers(low, high, self.shape, dtype=np.int64, endpoint=False)
    return self._fill("random_", draws)


def _lowest(dtype):
    return 0 if dtype == np.bool_ else int(np.iinfo(dtype).min)


def _continuous(name, self):
    if self.dtype.kind != "f":
        raise RuntimeError(f"{name}: a continuous distribution needs a floating dtype, but "
                           f"the tensor is {self.dtype}")


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with samples of Exponential(rate ``lambd``), density λ·exp(-λx)."""
    _continuous("exponential_", self)
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return self._fill("exponential_", _rng(generator).exponential(1.0 / lambd, self.shape))


def geometric_(self, p, *, generator=None):
    """Fill with the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    return self._fill("geometric_", _rng(generator).geometric(p, self.shape))


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with samples of Cauchy(median, sigma): median + sigma·tan(π(u - 1/2))."""
    _continuous("cauchy_", self)
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    draws = median + sigma * _rng(generator).standard_cauchy(self.shape)
    return self._fill("cauchy_", draws)


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with exp(N(mean, std²)) samples (``mean`` and ``std`` of the logarithm)."""
    _continuous("log_normal_", self)
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    return self._fill("log_normal_", _rng(generator).lognormal(mean, std, self.shape))


FILLS = ("bernoulli_", "random_", "exponential_", "geometric_", "cauchy_", "log_normal_")


# ----------------------------------------------------------------------------- global state

def get_rng_state():
    """A uint8 tensor snapshot of minicv's global stream, for :func:`set_rng_state`
    (opaque, like PyTorch's; the layout differs)."""
    return _global_generator().get_state()


def set_rng_state(new_state):
    """Restore the global stream from a :func:`get_rng_state` snapshot."""
    _global_generator().set_state(new_state)


def seed():
    """Seed the global stream from the operating system's entropy; returns the seed."""
    import secrets
    from .backend import manual_seed
    s = secrets.randbits(63)
    manual_seed(s)
    return s


def _global_generator():
    """A :class:`Generator` view of the global stream (sharing its NumPy generator)."""
    from .backend import initial_seed
    g = Generator.__new__(Generator)
    g.device, g._initial_seed, g._rng = Device("cpu"), initial_seed(), get_rng()
    return g
