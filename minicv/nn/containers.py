"""Containers: ``Sequential`` (a pipeline), ``ModuleList`` and ``ModuleDict`` (registries
of modules), ``ParameterList`` and ``ParameterDict`` (registries of parameters).

Modules or parameters kept in a plain Python list are invisible to ``parameters()`` and
``state_dict()``; these containers register them, with their position or key as the name
(``"0"``, ``"1"``, ... so a Sequential's weights are ``"0.weight"``, ``"2.bias"``...).
"""
import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from ..tensor import Tensor
from .module import Module, _addindent
from .parameter import Parameter


class Sequential(Module):
    """Call modules in order, each on the previous one's output.

    Args:
        *modules: modules, or one OrderedDict of name -> module.

    Example::

        net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        y = net(mc.randn(3, 4))          # (3, 2); net[0] is the first Linear
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for key, module in args[0].items():
                self.add_module(key, module)
        else:
            for idx, module in enumerate(args):
                self.add_module(str(idx), module)

    def _index(self, idx):
        n = len(self)
        idx = operator.index(idx)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for {type(self).__name__} of "
                             f"length {n}")
        return idx % n

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[self._index(idx)]

    def __setitem__(self, idx, module):
        key = list(self._modules.keys())[self._index(idx)]
        setattr(self, key, module)

    def __delitem__(self, idx):
        keys = list(self._modules.keys())
        for key in (keys[idx] if isinstance(idx, slice) else [keys[self._index(idx)]]):
            del self._modules[key]
        # keep the names 0..n-1 (what PyTorch does, so indexing and state_dict agree)
        items = list(self._modules.values())
        self._modules.clear()
        for i, m in enumerate(items):
            self._modules[str(i)] = m

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only Sequential, got "
                             f"{type(other).__name__}")
        return Sequential(*self, *other)

    def __iadd__(self, other):
        """``seq += other``: append ``other``'s modules to this Sequential (in place)."""
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only Sequential, got "
                             f"{type(other).__name__}")
        return self.extend(list(other))

    def _repeat_check(self, times):
        if not isinstance(times, int) or isinstance(times, bool):
            raise TypeError(f"unsupported operand type(s) for *: {type(self).__name__} and "
                            f"{type(times).__name__} (multiply by an int)")
        if times <= 0:
            raise ValueError(f"non-positive multiplication factor {times} for "
                             f"{type(self).__name__}")

    def __mul__(self, times):
        """``seq * n``: a new Sequential that runs these modules n times over. The modules
        are the same objects repeated (their parameters are shared), as in PyTorch."""
        self._repeat_check(times)
        return Sequential(*(list(self) * times))

    __rmul__ = __mul__

    def __imul__(self, times):
        self._repeat_check(times)
        return self.extend(list(self) * (times - 1))

    def pop(self, index):
        """Remove and return the module at ``index`` (the names are renumbered 0..n-1)."""
        module = self[index]
        del self[index]
        return module

    def append(self, module):
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index`` (as ``list.insert``); returns self."""
        n = len(self)
        if not -n <= index <= n:
            raise IndexError(f"index {index} is out of range for insert into length {n}")
        if not isinstance(module, Module):
            raise TypeError(f"Sequential.insert expects a Module, got {type(module).__name__}")
        index = index + n if index < 0 else index
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)
        return self

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input


class ModuleList(Module):
    """A list of modules, registered so their parameters are found. Indexing, slicing,
    ``len``, ``append``, ``extend``, ``insert`` and iteration work like a list.

    Example::

        self.blocks = nn.ModuleList([nn.Linear(8, 8) for _ in range(3)])
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _index(self, idx):
        n = len(self)
        idx = operator.index(idx)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for ModuleList of length {n}")
        return idx % n

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[str(self._index(idx))]

    def __setitem__(self, idx, module):
        self.add_module(str(self._index(idx)), module)

    def __delitem__(self, idx):
        items = list(self._modules.values())
        del items[idx if isinstance(idx, slice) else self._index(idx)]
        self._modules.clear()
        for i, m in enumerate(items):
            self._modules[str(i)] = m

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(list(self) + list(other))

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        if isinstance(modules, Module) and not isinstance(modules, (ModuleList, Sequential)):
            raise TypeError("ModuleList.extend should be called with an iterable of modules, "
                            f"got a single {type(modules).__name__}")
        for m in list(modules):
            self.append(m)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index`` (as ``list.insert``)."""
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)

    def __repr__(self):
        """Runs of equal children print once, as PyTorch's: ``(0-5): 6 x Block(...)``."""
        if not self._modules:
            return self._get_name() + "()"
        runs = []                                        # [first, last, repr]
        for i, m in enumerate(self):
            text = repr(m)
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        lines = [_addindent(f"({a}): {t}" if a == b else f"({a}-{b}): {b - a + 1} x {t}", 2)
                 for a, b, t in runs]
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def pop(self, index=-1):
        """Remove and return the module at ``index`` (the last one by default); the names
        of the following ones shift down by one."""
        module = self[index]
        del self[index]
        return module

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward: iterate over it in your "
                                  "module's forward (for block in self.blocks: x = block(x))")


class ModuleDict(Module):
    """A dict of modules, registered under their keys (insertion order kept).

    Example::

        self.heads = nn.ModuleDict({"cls": nn.Linear(8, 10), "box": nn.Linear(8, 4)})
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        self._modules.clear()

    def pop(self, key):
        v = self[key]
        del self[key]
        return v

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules):
        """Add (or replace) the modules of a mapping, or of an iterable of (key, module)
        pairs, in their order."""
        _update_pairs(self, modules)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward: index it in your module's "
                                  "forward (self.heads['cls'](x))")


class ParameterList(Module):
    """A list of Parameters, registered as ``"0"``, ``"1"``, ... so that ``parameters()``,
    optimizers and ``state_dict()`` find them. A plain Tensor put in it is wrapped in a
    Parameter (sharing its memory, requiring grad), as in PyTorch. Indexing (negative
    too), slicing, ``len``, iteration, ``append``, ``extend`` and ``+=`` work like a list.
    Unlike PyTorch's, it holds only Tensors (PyTorch also stores any other object).

    Example::

        self.scales = nn.ParameterList([nn.Parameter(mc.ones(c)) for c in (16, 32)])
        y = x * self.scales[-1]          # state_dict keys: "scales.0", "scales.1"
    """

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def _index(self, idx):
        n = len(self)
        idx = operator.index(idx)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for ParameterList of length {n}")
        return idx % n

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self)[idx])
        return self._parameters[str(self._index(idx))]

    def __setitem__(self, idx, param):
        self.register_parameter(str(self._index(idx)), _as_parameter(param, self))

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __iadd__(self, params):
        return self.extend(params)

    def append(self, value):
        """Add ``value`` (a Parameter, or a Tensor to wrap) at the end; returns self."""
        self.register_parameter(str(len(self)), _as_parameter(value, self))
        return self

    def extend(self, values):
        """Append every Tensor of the iterable ``values``; returns self."""
        if isinstance(values, Tensor) or not isinstance(values, Iterable):
            raise TypeError(f"ParameterList.extend should be called with an iterable of "
                            f"Tensors, but got {type(values).__name__} (wrap a single one "
                            f"in a list)")
        for value in list(values):
            self.append(value)
        return self

    def extra_repr(self):
        return "\n".join(_parameter_line(k, p, str(p.dtype)) for k, p in enumerate(self))

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ParameterList has no forward: index it in your module's "
                                  "forward (x * self.scales[0])")


class ParameterDict(Module):
    """A dict of Parameters, registered under their (string) keys, so that
    ``parameters()``, optimizers and ``state_dict()`` find them. A plain Tensor put in it
    is wrapped in a Parameter (sharing its memory, requiring grad). It has the methods of
    a dict: ``keys``, ``items``, ``values``, ``get``, ``pop``, ``popitem``, ``setdefault``,
    ``update``, ``clear``, ``copy``, ``fromkeys``, ``in``, ``|`` and ``|=``.

    Order: insertion order, except that, as in PyTorch, the items of a plain ``dict``
    given to the constructor or to ``update`` are added sorted by key (an ``OrderedDict``
    or a list of pairs keeps its order). A missing key raises KeyError (PyTorch:
    AttributeError). It holds only Tensors.

    Example::

        self.scale = nn.ParameterDict({"cls": nn.Parameter(mc.ones(1)),
                                       "box": nn.Parameter(mc.ones(1))})
        loss = self.scale["cls"] * cls_loss + self.scale["box"] * box_loss
    """

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _key(key):
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict keys must be strings (they become state_dict "
                            f"names), got {type(key).__name__}: use str(key)")
        return key

    def __getitem__(self, key):
        if self._key(key) not in self._parameters:
            raise KeyError(key)
        return self._parameters[key]

    def __setitem__(self, key, value):
        self.register_parameter(self._key(key), _as_parameter(value, self))

    def __delitem__(self, key):
        del self._parameters[self._key(key)]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __reversed__(self):
        return reversed(list(self._parameters))

    def __contains__(self, key):
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def items(self):
        return self._parameters.items()

    def values(self):
        return self._parameters.values()

    def get(self, key, default=None):
        return self[key] if key in self else default

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        """Remove and return the last (key, Parameter) pair."""
        if not self._parameters:
            raise KeyError("popitem(): ParameterDict is empty")
        key = next(reversed(self._parameters))
        return key, self.pop(key)

    def setdefault(self, key, default):
        """``self[key]``, after setting it to ``default`` (a Tensor) if it is missing."""
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self):
        self._parameters.clear()

    def copy(self):
        """A new ParameterDict holding the same Parameter objects."""
        return ParameterDict(OrderedDict(self.items()))

    def fromkeys(self, keys, default):
        """A new ParameterDict with every key of ``keys`` mapped to ``default``."""
        return ParameterDict([(k, default) for k in keys])

    def update(self, parameters):
        """Add (or replace) the Tensors of a mapping, or of an iterable of (key, Tensor)
        pairs (a plain dict's items sorted by key, see the class docstring)."""
        _update_pairs(self, parameters, sort_dicts=True)

    def __or__(self, other):
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other):
        merged = ParameterDict(OrderedDict(other))
        merged.update(self)
        return merged

    def __ior__(self, other):
        self.update(other)
        return self

    def extra_repr(self):
        return "\n".join(_parameter_line(k, p, p.type()) for k, p in self.items())

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ParameterDict has no forward: index it in your module's "
                                  "forward (self.scale['cls'])")


def _as_parameter(value, container):
    """``value`` as a Parameter: a Parameter as is, a Tensor wrapped (memory shared)."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"{type(container).__name__} holds Tensors (wrapped into Parameters), "
                    f"got {type(value).__name__}: keep other values in a plain attribute")


def _parameter_line(key, p, type_name):
    """One line of a ParameterList/ParameterDict repr, PyTorch's layout."""
    size = "x".join(str(n) for n in p.shape)
    device = f" ({p.device})" if p.device.type == "cuda" else ""
    kind = "Parameter" if isinstance(p, Parameter) else "Tensor"
    return f"  ({key}): {kind} containing: [{type_name} of size {size}{device}]"


def _update_pairs(container, pairs, sort_dicts=False):
    """``container[key] = value`` for every pair of ``pairs``: a mapping (or a ModuleDict or
    ParameterDict), or an iterable of (key, value) pairs, in order. ``sort_dicts``: take
    a plain dict's items sorted by key (what PyTorch's ParameterDict does)."""
    name = type(container).__name__
    if isinstance(pairs, (Mapping, ModuleDict, ParameterDict)):
        items = list(pairs.items())
        if sort_dicts and not isinstance(pairs, (OrderedDict, ParameterDict)):
            items.sort(key=lambda kv: kv[0])
        for key, value in items:
            container[key] = value
        return
    if not isinstance(pairs, Iterable):
        raise TypeError(f"{name}.update should be called with a mapping or an iterable of "
                        f"(key, value) pairs, but got {type(pairs).__name__}")
    for j, pair in enumerate(pairs):
        if not isinstance(pair, Iterable):
            raise TypeError(f"{name} update sequence element #{j} should be a (key, value) "
                            f"pair; is {type(pair).__name__}")
        pair = tuple(pair)
        if len(pair) != 2:
            raise ValueError(f"{name} update sequence element #{j} has length {len(pair)}; "
                             f"2 is required (key, value)")
        container[pair[0]] = pair[1]
