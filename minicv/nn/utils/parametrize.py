"""``nn.utils.parametrize``: PyTorch's API to compute a parameter from other tensors.

``register_parametrization(module, "weight", P())`` moves ``module.weight`` into
``module.parametrizations.weight.original`` and swaps the module's class for a subclass
(``ParametrizedLinear`` for a Linear: ``isinstance`` checks still hold) in which ``weight``
is a property::

    module.weight            ->  P(original)                        (recomputed on every read)
    module.weight = X        ->  original = P.right_inverse(X)      (under no_grad)

The optimizer trains ``original`` and backward differentiates through ``P``. Registering
again on the same name chains: ``weight = P2(P1(original))``. A ``right_inverse`` that
returns a tuple stores ``original0, original1, ...`` and ``forward`` receives them all
(this is how :func:`~minicv.nn.utils.parametrizations.weight_norm` keeps g and v).
State-dict keys, parameter order and the class name are PyTorch's, so checkpoints carry
over. ``cached()`` computes each parametrized tensor once inside its block.
"""
import collections.abc
import copy
from contextlib import contextmanager

from ...autograd import no_grad
from ...tensor import Tensor
from ..containers import ModuleDict, ModuleList
from ..parameter import Parameter

__all__ = ["cached", "ParametrizationList", "register_parametrization", "is_parametrized",
           "remove_parametrizations", "type_before_parametrizations",
           "transfer_parametrizations_and_params"]

_cache_enabled = 0
_cache = {}                 # (id(module), tensor_name) -> the tensor computed inside cached()


@contextmanager
def cached():
    """Inside the block each parametrized tensor is computed once, on first use, and then
    reused (a weight read at every step of an RNN loop, tied weights); leaving the
    outermost block drops the values.

    Example::

        with parametrize.cached():
            out = model(x)
    """
    global _cache, _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache = {}


def _register_parameter_or_buffer(module, name, x):
    if isinstance(x, Parameter):
        module.register_parameter(name, x)
    else:
        module.register_buffer(name, x)


def _set_(dest, src):
    """``dest.set_(src)``: the same tensor object (so an optimizer holding it still trains
    it) now holds ``src``'s array; its version is bumped as for an in-place change."""
    dest.data = src.data
    dest._vc[0] += 1


def _check_same(what, got, want, note="", labels=("unparametrized {}", "parametrized {}")):
    """Raise unless the parametrized tensor's ``what`` (dtype or shape) is unchanged; the
    message names both values by ``labels`` (formatted with ``what``), then the ``note``."""
    if got != want:
        want_label, got_label = (label.format(what) for label in labels)
        raise ValueError(f"Registering a parametrization may not change the {what} of the "
                         f"tensor, unless the `unsafe` flag is enabled.\n"
                         f"{want_label}: {want}\n{got_label}: {got}"
                         + (f" ({note})" if note else ""))


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, in order, and the unconstrained tensor(s) they
    are applied to: ``original`` (or ``original0, original1, ...`` when the first
    parametrization's ``right_inverse`` returns a sequence). It is
    ``module.parametrizations[tensor_name]``; :func:`register_parametrization` builds it.

    Args:
        modules: the parametrizations (at least one).
        original: the Parameter or buffer being parametrized.
        unsafe: skip the check that the parametrization keeps the dtype and shape.
    """

    def __init__(self, modules, original, unsafe=False):
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        shape, dtype = original.shape, original.dtype
        with no_grad():
            new = original
            for module in reversed(self):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass
        if not isinstance(new, (Tensor, collections.abc.Sequence)):
            raise ValueError(f"'right_inverse' must return a Tensor or a Sequence of tensors "
                             f"(list, tuple...). Got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if new.dtype != original.dtype:
                raise ValueError(f"When `right_inverse` outputs one tensor, it may not change "
                                 f"the dtype.\noriginal.dtype: {original.dtype}\n"
                                 f"right_inverse(original).dtype: {new.dtype}")
            if new.device != original.device:
                raise ValueError(f"When `right_inverse` outputs one tensor, it may not change "
                                 f"the device.\noriginal.device: {original.device}\n"
                                 f"right_inverse(original).device: {new.device}")
            if new is not original:
                with no_grad():
                    _set_(original, new)
            _register_parameter_or_buffer(self, "original", original)
        else:
            for i, t in enumerate(new):
                if not isinstance(t, Tensor):
                    raise ValueError(f"'right_inverse' must return a Tensor or a Sequence of "
                                     f"tensors (list, tuple...). Got element {i} of the "
                                     f"sequence with type {type(t).__name__}.")
                if isinstance(original, Parameter):
                    t = Parameter(t, original.requires_grad)
                else:
                    t = t.detach().requires_grad_(original.requires_grad)
                _register_parameter_or_buffer(self, f"original{i}", t)
        if not self.unsafe:
            z = self()
            if not isinstance(z, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got "
                                 f"{type(z).__name__}.")
            _check_same("dtype", z.dtype, dtype, "pass unsafe=True to allow it")
            _check_same("shape", z.shape, shape, "pass unsafe=True to allow it")

    def right_inverse(self, value):
        """Store ``value`` as the parametrized tensor: run the parametrizations'
        ``right_inverse`` in reverse order (each must have one) into ``original*``."""
        with no_grad():
            for module in reversed(self):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not "
                                       f"implement right_inverse.")
                value = module.right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(f"`right_inverse` should return a tensor. Got "
                                     f"{type(value).__name__}")
                if value.dtype != self.original.dtype:
                    raise ValueError(f"The tensor returned by `right_inverse` has dtype "
                                     f"{value.dtype} while `original` has dtype "
                                     f"{self.original.dtype}")
                _set_(self.original, value)
                return
            if not isinstance(value, collections.abc.Sequence):
                raise ValueError(f"'right_inverse' must return a sequence of tensors. Got "
                                 f"{type(value).__name__}.")
            if len(value) != self.ntensors:
                raise ValueError(f"'right_inverse' must return a sequence of tensors of "
                                 f"length {self.ntensors}. Got a sequence of length "
                                 f"{len(value)}.")
            for i, t in enumerate(value):
                original = getattr(self, f"original{i}")
                if not isinstance(t, Tensor):
                    raise ValueError(f"'right_inverse' must return a sequence of tensors. "
                                     f"Got element {i} of type {type(t).__name__}.")
                if t.dtype != original.dtype:
                    raise ValueError(f"Tensor {i} returned by `right_inverse` has dtype "
                                     f"{t.dtype} while `original{i}` has dtype "
                                     f"{original.dtype}")
                _set_(original, t)

    def forward(self):
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in list(self)[1:]:
            x = module(x)
        return x


def _deepcopy(self, memo):
    """``copy.deepcopy`` of a parametrized module: a new instance of the same class."""
    if id(self) in memo:
        return memo[id(self)]
    replica = self.__new__(type(self))
    memo[id(self)] = replica
    replica.__dict__ = copy.deepcopy(self.__dict__, memo)
    return replica


def _getstate(self):
    raise RuntimeError("Serialization of parametrized modules is only supported through "
                       "state_dict(): save module.state_dict() and load it into a module "
                       "parametrized the same way")


def _inject_new_class(module):
    """Give ``module`` its own subclass ``Parametrized<Class>`` to hold the properties."""
    cls = type(module)
    namespace = {"__getstate__": _getstate}
    if not hasattr(cls, "__deepcopy__"):
        namespace["__deepcopy__"] = _deepcopy
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), namespace)


def _inject_property(module, tensor_name):
    """Make ``tensor_name`` a property of the module's (own) class: read computes the
    parametrization, assignment stores through its ``right_inverse``."""
    if hasattr(module, tensor_name):
        raise RuntimeError(f"Module already has an attribute named '{tensor_name}'")

    def get_parametrized(self):
        parametrization = self.parametrizations[tensor_name]
        if not _cache_enabled:
            return parametrization()
        key = (id(self), tensor_name)
        if _cache.get(key) is None:
            _cache[key] = parametrization()
        return _cache[key]

    def set_original(self, value):
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(type(module), tensor_name, property(get_parametrized, set_original))


def _check_registered(tensor_name, y, x, z):
    """The checks of a parametrization added to an already parametrized tensor:
    ``x = P(y)`` and ``z = P.right_inverse(x)`` (None if it has none) keep y's dtype and
    shape."""
    if not isinstance(x, Tensor):
        raise ValueError(f"A parametrization must return a tensor. Got {type(x).__name__}.")
    labels = (f"module.{tensor_name}.{{}}", f"parametrization(module.{tensor_name}).{{}}")
    for what in ("dtype", "shape"):
        _check_same(what, getattr(x, what), getattr(y, what), labels=labels)
    if z is None:
        return
    if not isinstance(z, Tensor):
        raise ValueError(f"parametrization.right_inverse must return a tensor. Got: "
                         f"{type(z).__name__}")
    for what in ("dtype", "shape"):
        if getattr(z, what) != getattr(y, what):
            raise ValueError(f"The tensor returned by parametrization.right_inverse must "
                             f"have the same {what} as module.{tensor_name}, unless the "
                             f"`unsafe` flag is enabled.\nmodule.{tensor_name}.{what}: "
                             f"{getattr(y, what)}\nreturned {what}: {getattr(z, what)}")


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make ``module.<tensor_name>`` the output of ``parametrization`` (an ``nn.Module``)
    applied to an unconstrained tensor (see the module docstring); returns the module.

    The first registration on a name calls ``parametrization.right_inverse(tensor)`` (if it
    exists) to get the initial ``original``; later ones chain onto the previous output.
    The parametrization's training mode is set to the module's.

    Args:
        module: the module owning the parameter or buffer ``tensor_name``.
        parametrization: a Module whose ``forward`` maps ``original`` (or ``original0,
            original1, ...``) to the tensor; optionally with ``right_inverse``.
        unsafe: allow a parametrization that changes the tensor's dtype or shape (its
            output is then not checked).

    Example::

        class Symmetric(nn.Module):
            def forward(self, X): return X.triu() + X.triu(1).mT
        parametrize.register_parametrization(nn.Linear(3, 3), "weight", Symmetric())
    """
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            y = getattr(module, tensor_name)
            x = parametrization(y)
            z = None
            if hasattr(parametrization, "right_inverse") and isinstance(x, Tensor):
                try:
                    z = parametrization.right_inverse(x)
                except NotImplementedError:
                    z = None
            _check_registered(tensor_name, y, x, z)
        module.parametrizations[tensor_name].append(parametrization)
        module.parametrizations[tensor_name].unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        if original is None:
            raise ValueError(f"{type(module).__name__}.{tensor_name} is None: there is no "
                             f"tensor to parametrize")
        parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = parametrizations
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    return module


def is_parametrized(module, tensor_name=None):
    """Whether ``module`` has a parametrization on ``tensor_name`` (on any tensor when
    None)."""
    parametrizations = getattr(module, "parametrizations", None)
    if not isinstance(parametrizations, ModuleDict):
        return False
    if tensor_name is None:
        return len(parametrizations) > 0
    return tensor_name in parametrizations


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Make ``module.<tensor_name>`` a plain parameter (or buffer) again; returns the module.

    Args:
        leave_parametrized: keep the current parametrized value (True), or go back to the
            unconstrained ``original`` (False; impossible when there are several
            ``original*``). The tensor object is ``original`` itself (its value replaced
            in the first case), so an optimizer that holds it keeps training it.

    Example::

        parametrize.remove_parametrizations(layer, "weight")   # layer.weight: a Parameter
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                _set_(original, getattr(module, tensor_name))
    elif leave_parametrized:
        t = getattr(module, tensor_name)
        original = Parameter(t.detach()) if t.requires_grad else t
    else:
        raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                         "that is parametrized in terms of a sequence of tensors.")
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = type(module).__bases__[0]
    return module


def type_before_parametrizations(module):
    """The module's class before parametrizations were registered (``nn.Linear`` for a
    ``ParametrizedLinear``); its own class when it has none."""
    if is_parametrized(module):
        return type(module).__bases__[0]
    return type(module)


def transfer_parametrizations_and_params(from_module, to_module, tensor_name=None):
    """Register ``from_module``'s parametrizations (the same parametrization modules) on
    ``to_module`` and make its ``original*`` tensors the very ones of ``from_module``
    (shared, not copied). Only ``tensor_name`` when given, else every parametrized name;
    a name ``to_module`` lacks is first created as a Parameter. Returns ``to_module``.

    Example::

        parametrize.transfer_parametrizations_and_params(layer, fresh_layer)
    """
    if not is_parametrized(from_module):
        return to_module
    names = list(from_module.parametrizations) if tensor_name is None else [tensor_name]
    for name in names:
        source = from_module.parametrizations[name]
        if not hasattr(to_module, name):
            with no_grad():
                setattr(to_module, name, Parameter(getattr(from_module, name).detach()))
        for parametrization in source:
            register_parametrization(to_module, name, parametrization)
        target = to_module.parametrizations[name]
        originals = ["original"] if source.is_tensor else \
            [f"original{i}" for i in range(source.ntensors)]
        for key in originals:
            setattr(target, key, getattr(source, key))
    return to_module
