"""``Parameter``: a tensor that a :class:`~minicv.nn.Module` registers as learnable.

Assigning a Parameter to a module attribute (``self.weight = Parameter(...)``) adds it to
``module.parameters()``, which optimizers consume, and to ``state_dict()``. A Parameter
requires grad by default and shares memory with the array or tensor it wraps.

``UninitializedParameter`` / ``UninitializedBuffer`` are the placeholders of the lazy
modules (``nn.LazyLinear``...): no shape yet, only a dtype and a device, until
``materialize(shape)`` turns them into a Parameter / Tensor in place.
"""
import numpy as np

from ..backend import get_array_module, get_default_dtype, is_cupy_array, to_device
from ..tensor import Tensor


def _array(data):
    """The array a Parameter or Buffer wraps: a tensor's own, a CuPy array as it is (on
    its GPU), anything else through ``np.asarray``."""
    if isinstance(data, Tensor):
        return data.data
    return data if is_cupy_array(data) else np.asarray(data)


class Parameter(Tensor):
    """A learnable tensor (requires_grad=True unless told otherwise).

    Args:
        data: a Tensor or ndarray to wrap (not copied); None gives an empty float32 tensor.
        requires_grad: whether the optimizer should train it.

    Example::

        w = nn.Parameter(mc.randn(3, 4))     # w.requires_grad is True
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty((0,), np.float32)
        arr = _array(data)
        super().__init__(arr)
        if isinstance(data, Tensor):
            self._vc = data._vc               # same memory, same version counter
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        """A Parameter holding a copy of the data, with the same ``requires_grad``. As in
        PyTorch, ``.grad`` (and any hook) is not copied: ``copy.deepcopy(model)`` gives a
        model with fresh parameters and no gradients (e.g. the EMA copy of a model)."""
        if id(self) in memo:                # a parameter tied in two places stays tied
            return memo[id(self)]
        result = type(self)(self.data.copy(), self.requires_grad)
        memo[id(self)] = result
        return result


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a module attribute
    (``self.running = nn.Buffer(mc.zeros(3))``), like ``torch.nn.Buffer``."""

    def __init__(self, data, persistent=True):
        arr = _array(data)
        super().__init__(arr)
        self.persistent = persistent


class UninitializedTensorMixin:
    """What the uninitialised placeholders share: an empty array that carries the dtype and
    the device (so ``module.to(...)`` before the first call works), no shape, and
    ``materialize``, which gives them one and turns them into ``cls_to_become`` in place:
    an optimizer built before the first call holds the same objects and keeps working."""
    cls_to_become = None

    def materialize(self, shape, device=None, dtype=None):
        """Become a ``cls_to_become`` of ``shape`` (uninitialised values) on ``device`` with
        ``dtype`` (by default the placeholder's own)."""
        shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
        dtype = self.data.dtype if dtype is None else np.dtype(dtype)
        data = get_array_module(self.data).empty(shape, dtype)
        self.data = data if device is None else to_device(data, device)
        self._vc[0] += 1
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error "
            "usually happens in `load_state_dict` when trying to load an uninitialized "
            "parameter into an initialized one. Call `forward` to initialize the "
            "parameters before accessing their attributes.")

    def __repr__(self):
        return f"<{type(self).__name__}>"


def _placeholder_array(device, dtype):
    """The empty array an uninitialised tensor holds (default dtype, on ``device``)."""
    data = np.empty((0,), np.dtype(dtype or get_default_dtype()))
    return data if device is None else to_device(data, device)


def is_lazy(param):
    """Whether ``param`` is an UninitializedParameter or UninitializedBuffer."""
    return isinstance(param, UninitializedTensorMixin)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter whose shape is not known yet (a lazy module's weight before its first
    call). It holds no values: ``.shape`` raises; ``.dtype``, ``.device`` and
    ``requires_grad`` work, and ``module.to(...)`` casts and moves it.

    Example::

        w = nn.UninitializedParameter()
        w.materialize((3, 4))                # now an nn.Parameter of shape (3, 4)
    """
    cls_to_become = Parameter

    def __init__(self, requires_grad=True, device=None, dtype=None):
        super().__init__(_placeholder_array(device, dtype), requires_grad)

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, self.device, self.dtype)
        return memo[id(self)]


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (a lazy BatchNorm's running statistics);
    ``materialize(shape)`` turns it into a Tensor.

    Example::

        b = nn.UninitializedBuffer()
        b.materialize((3,))                  # now a Tensor of shape (3,)
    """
    cls_to_become = Tensor

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        super().__init__(_placeholder_array(device, dtype), requires_grad=requires_grad)
        self.persistent = persistent
