"""Tensor factories: ``tensor``, ``zeros``, ``ones``, ``full``, ``arange``, ``eye``,
``rand``, ``randn``, ``randint``, ``empty``, ``linspace`` and the ``*_like`` forms.

Floating results default to float32 (``backend.get_default_dtype``); random ones draw
from minicv's generator, so ``manual_seed`` makes them reproducible, or from
``generator=`` (a :class:`~minicv.Generator`) when given.

``device="cuda"`` (or "cuda:N") builds the values on the host, then copies them to the
GPU: slower than creating them there, but the same seed gives the same values on every
device, which the CPU/GPU parity tests rely on.
"""
import numpy as np

from .backend import as_generator, get_default_dtype, get_rng, is_cupy_array, to_device
from .tensor import Tensor, Device, _infer_array


def _size(args, size=None, name="zeros"):
    """The shape given as ``zeros(2, 3)``, ``zeros((2, 3))``, ``zeros([2, 3])`` or by
    keyword, ``zeros(size=(2, 3))``: PyTorch accepts all four."""
    if size is not None:
        if args:
            raise TypeError(f"{name}() got a size both positionally {args} and as "
                            f"size={size}: give it once")
        args = (size,)
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    return tuple(int(s) for s in args)


def _make(arr, requires_grad, device):
    if device is not None and Device(device).type != "cpu":
        arr = to_device(arr, device)
    return Tensor(arr, requires_grad=requires_grad)


def _rng(generator):
    """The NumPy generator to draw from: ``generator``'s, else minicv's global one."""
    return as_generator(generator) or get_rng()


def _float_dtype(dtype):
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new tensor holding a copy of ``data`` (numbers, nested lists, ndarray, Tensor).

    Python floats give float32 and ints int64; a NumPy array keeps its dtype.
    """
    return _make(_infer_array(data, dtype), requires_grad, device)


def as_tensor(data, dtype=None, device=None):
    """Like :func:`tensor` but shares memory with an ndarray of the right dtype."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    if ((isinstance(data, np.ndarray) or is_cupy_array(data))
            and (dtype is None or data.dtype == np.dtype(dtype)) and device is None):
        return Tensor(data)
    return tensor(data, dtype=dtype, device=device)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=None):
    """``obj`` as a tensor, sharing memory when it can (``copy=None``), always copying
    (``copy=True``) or refusing to copy (``copy=False`` raises if a copy is needed).

    A tensor stays in the graph: a copy or a dtype change of a tensor that requires grad
    is recorded (as ``clone``/``to``), and ``requires_grad=None`` (the default, as in
    PyTorch 2.13) follows ``obj``; ``requires_grad=False`` gives a detached result.
    """
    if isinstance(obj, Tensor):
        t = obj
        if dtype is not None and t.dtype != np.dtype(dtype):
            t = t.to(dtype)
        if device is not None and t.device != Device(device):
            t = t.to(device)
        if t is obj and copy:
            t = obj.clone()
        elif t is not obj and copy is False:
            raise ValueError(f"asarray(copy=False): the tensor ({obj.dtype}, {obj.device}) "
                             f"cannot become {t.dtype} on {t.device} without a copy")
    else:
        t = as_tensor(obj, dtype=dtype, device=device)
        shares = (isinstance(obj, np.ndarray) or is_cupy_array(obj)) and t.data is obj
        if copy and shares:
            t = Tensor(t.data.copy())
        elif copy is False and not shares:
            raise ValueError(f"asarray(copy=False): a {type(obj).__name__} cannot become a "
                             f"tensor of dtype {t.dtype} without a copy; pass copy=None")
    if requires_grad is False and t.requires_grad:
        return t.detach()
    if requires_grad and not t.requires_grad:
        t = t.detach() if t is obj else t
        t.requires_grad_(True)
    return t


def scalar_tensor(s, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor holding the number ``s``, of the default float dtype unless given."""
    return _make(np.asarray(s, dtype=_float_dtype(dtype)), requires_grad, device)


def from_numpy(array):
    """Wrap an ndarray without copying (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects an np.ndarray, got {type(array).__name__}")
    return Tensor(array)


def zeros(*args, size=None, dtype=None, requires_grad=False, device=None):
    shape = _size(args, size, "zeros")
    return _make(np.zeros(shape, _float_dtype(dtype)), requires_grad, device)


def ones(*args, size=None, dtype=None, requires_grad=False, device=None):
    shape = _size(args, size, "ones")
    return _make(np.ones(shape, _float_dtype(dtype)), requires_grad, device)


def empty(*args, size=None, dtype=None, requires_grad=False, device=None):
    shape = _size(args, size, "empty")
    return _make(np.empty(shape, _float_dtype(dtype)), requires_grad, device)


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    """A tensor of ``size`` filled with ``fill_value``. Without ``dtype``, a Python or NumPy
    bool gives bool... except that PyTorch counts a NumPy scalar as a Python number: an
    ``np.int32`` gives int64, an ``np.float64`` or ``np.bool_`` the default float dtype.

    Example::

        mc.full((2, 3), 1.5)          # float32, every element 1.5
    """
    if dtype is None:
        dtype = (np.bool_ if type(fill_value) is bool else
                 np.int64 if isinstance(fill_value, (int, np.integer)) else
                 get_default_dtype() if isinstance(fill_value, (float, np.number, np.bool_))
                 else _infer_array(fill_value).dtype)
    return _make(np.full(_size((size,)), fill_value, np.dtype(dtype)), requires_grad, device)


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    return _make(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad, device)


def arange(start=None, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """Values in [start, end) with ``step``: int64 when start, end and step are all
    integers, else the default float dtype (float32).

    Called as PyTorch allows: ``arange(end)``, ``arange(end=end)``, ``arange(start, end)``
    or ``arange(start, end, step)``; start defaults to 0. The bounds may be numbers or 0-d
    tensors (an integer tensor counts as an integer). The length is
    ceil((end - start) / step); a step that points away from end is an error, as in
    PyTorch (NumPy would return an empty array), while start == end gives an empty tensor.

    Example::

        mc.arange(5)              # tensor([0, 1, 2, 3, 4])
        mc.arange(0, 1, 0.25)     # tensor([0.0, 0.25, 0.5, 0.75])
    """
    if end is None:
        if start is None:
            raise TypeError("arange() needs an end: call arange(end), arange(start, end) "
                            "or arange(start, end, step)")
        start, end = 0, start
    elif start is None:
        start = 0
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if not all(np.isfinite(float(v)) for v in (start, end, step)):
        raise ValueError(f"arange: start={start}, end={end} and step={step} must be finite")
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise ValueError(f"arange: upper bound and lower bound inconsistent with step sign: "
                         f"start={start}, end={end}, step={step}; use a step of sign "
                         f"{'+' if end > start else '-'} or swap start and end")
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else get_default_dtype()
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        return _make(_integer_arange(start, end, step, dtype), requires_grad, device)
    # start + i * step in float64, rounded once to dtype: PyTorch's scalar formula (its SIMD
    # path may still differ by an ulp). np.arange accumulates in dtype and drifts further.
    n = int(np.ceil((float(end) - float(start)) / float(step)))
    values = float(start) + np.arange(n, dtype=np.float64) * float(step)
    return _make(values.astype(dtype), requires_grad, device)


def _integer_arange(start, end, step, dtype):
    """PyTorch's arange into an integer dtype: the bounds and step are truncated to integers
    first (``arange(2.5, dtype=int64)`` is [0, 1]); the length comes from the truncated
    values for int64 and from the float ones for the other integer dtypes
    (``arange(5, 0, -0.5, dtype=int32)`` is ten 5s: the step truncates to 0)."""
    xstart, xend, xstep = (int(v) for v in (start, end, step))
    if dtype == np.int64:
        if xstep == 0:
            raise ValueError("arange: step must be nonzero (after truncation to int64: "
                             f"step={step}); use a float dtype")
        if (xend - xstart) * xstep < 0:
            raise ValueError(f"arange: upper bound and lower bound inconsistent with step "
                             f"sign after truncation to int64: start={xstart}, "
                             f"end={xend}, step={xstep}")
        sign = 1 if xstep > 0 else -1
        n = abs(xend - xstart + xstep - sign) // abs(xstep)        # C's truncating /
    else:
        n = int(np.ceil((float(end) - float(start)) / float(step)))
    return (xstart + np.arange(n, dtype=np.int64) * xstep).astype(dtype)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    """``steps`` evenly spaced values from start to end, both included, computed as
    PyTorch: the first half as start + i·step, the second as end - (steps-1-i)·step, in
    the dtype. For an integer dtype start and end are truncated to integers first, and the
    values computed in float64, then truncated (``linspace(-1, 1, 7, dtype=int64)`` is
    [-1, 0, 0, 0, 0, 0, 1]).

    Example::

        mc.linspace(0, 1, 5)             # tensor([0.0, 0.25, 0.5, 0.75, 1.0])
    """
    dtype = _float_dtype(dtype)
    calc = np.dtype(np.float64) if dtype.kind in "biu" else dtype
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be non-negative, got {steps}")
    i = np.arange(steps, dtype=calc)
    if dtype.kind in "biu":
        start, end = int(start), int(end)
    first, last = calc.type(start), calc.type(end)
    step = (last - first) / calc.type(max(steps - 1, 1))
    with np.errstate(over="ignore", invalid="ignore"):
        values = np.where(i < max(steps // 2, 1), first + step * i,
                          last - step * (steps - 1 - i))
    return _make(values.astype(dtype), requires_grad, device)


def logspace(start, end, steps, base=10.0, dtype=None, requires_grad=False, device=None):
    """``steps`` numbers base**v for v evenly spaced from start to end (both included).

    Example::

        mc.logspace(0, 2, 3)                   # tensor([1., 10., 100.])
    """
    arr = np.logspace(start, end, steps, base=base).astype(_float_dtype(dtype))
    return _make(arr, requires_grad, device)


def rand(*args, size=None, generator=None, dtype=None, requires_grad=False, device=None):
    arr = _rng(generator).random(_size(args, size, "rand")).astype(_float_dtype(dtype))
    return _make(arr, requires_grad, device)


def randn(*args, size=None, generator=None, dtype=None, requires_grad=False, device=None):
    arr = _rng(generator).standard_normal(_size(args, size, "randn")).astype(_float_dtype(dtype))
    return _make(arr, requires_grad, device)


def randint(low=0, high=None, size=(), *, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Integers drawn uniformly from [low, high), int64 unless ``dtype`` says otherwise.

    Called as PyTorch allows: ``randint(high, size)`` or ``randint(low, high, size)``;
    ``requires_grad=True`` needs a floating ``dtype`` (integer tensors never require grad).

    Example::

        mc.randint(10, (3,))          # three integers in [0, 10)
        mc.randint(5, 10, size=(2, 2))
    """
    if isinstance(high, (tuple, list)):         # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if low >= high:
        raise ValueError(f"randint: need low < high, got low={low} and high={high}")
    dtype = np.dtype(dtype or np.int64)
    if requires_grad and dtype.kind != "f":
        raise RuntimeError(f"Only Tensors of floating point and complex dtype can require "
                           f"gradients: randint(..., dtype={dtype}) needs a float dtype "
                           f"for requires_grad=True")
    arr = _rng(generator).integers(low, high, size=_size((size,)))
    return _make(arr.astype(dtype), requires_grad, device)


def randperm(n, dtype=None, device=None, generator=None):
    perm = _rng(generator).permutation(n)
    return _make(perm.astype(np.dtype(dtype or np.int64)), False, device)


def _like(fn, random=False):
    """``fn_like(t, ...)``: ``fn`` with ``t``'s shape (and dtype, device unless given); the
    random ones also take ``generator=``, keyword-only as in PyTorch."""
    def like(t, dtype=None, requires_grad=False, device=None):
        return fn(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad,
                  device=t.device if device is None else device)

    def random_like(t, *, generator=None, dtype=None, requires_grad=False, device=None):
        return fn(t.shape, generator=generator, dtype=dtype or t.dtype,
                  requires_grad=requires_grad, device=t.device if device is None else device)
    out = random_like if random else like
    out.__name__ = fn.__name__ + "_like"
    out.__doc__ = f"``{fn.__name__}`` with the shape (and dtype, unless given) of ``t``."
    return out


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)
rand_like = _like(rand, random=True)
randn_like = _like(randn, random=True)


def randint_like(input, low=0, high=None, *, dtype=None, requires_grad=False, device=None,
                 generator=None):
    """``randint`` with the shape (and dtype, unless given) of ``input``:
    ``randint_like(x, high)`` or ``randint_like(x, low, high)``."""
    if high is None:
        low, high = 0, low
    t = randint(low, high, input.shape, dtype=dtype or input.dtype,
                device=input.device if device is None else device, generator=generator)
    return t.requires_grad_(True) if requires_grad else t


def full_like(t, fill_value, dtype=None, requires_grad=False, device=None):
    return full(t.shape, fill_value, dtype=dtype or t.dtype, requires_grad=requires_grad,
                device=t.device if device is None else device)
