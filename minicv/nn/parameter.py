"""``Parameter``: a tensor that a :class:`~minicv.nn.Module` registers as learnable.

Assigning a Parameter to a module attribute (``self.weight = Parameter(...)``) adds it to
``module.parameters()``, which optimizers consume, and to ``state_dict()``. A Parameter
requires grad by default and shares memory with the array or tensor it wraps.
"""
import numpy as np

from ..backend import is_cupy_array
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
