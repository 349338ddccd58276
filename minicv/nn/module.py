"""``Module``: the base class of layers and models.

A module owns three registries, filled by plain attribute assignment in ``__init__``::

    self.fc = nn.Linear(4, 2)            # -> _modules["fc"]      (a submodule)
    self.scale = nn.Parameter(...)       # -> _parameters["scale"] (trained)
    self.register_buffer("count", t)     # -> _buffers["count"]   (state, not trained)

Everything else is a walk over these registries: ``parameters()`` for the optimizer,
``state_dict()`` for checkpoints (keys are dotted paths such as ``"layer1.0.conv1.weight"``),
``train()``/``eval()`` to switch dropout and batch-norm behaviour, ``to(dtype)`` to cast.
Calling a module runs its forward pre-hooks, ``forward`` and its forward hooks; backward
hooks run when gradients pass through the module (see :class:`_BackwardHook`).
"""
import itertools
import warnings
from collections import OrderedDict, namedtuple

import numpy as np

from ..autograd import Function, is_grad_enabled, no_grad
from ..backend import get_array_module, is_cupy_array, to_device, to_numpy
from ..tensor import Tensor, Device
from .parameter import Parameter, Buffer


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it could not match."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class RemovableHandle:
    """Returned by ``register_*_hook``; ``handle.remove()`` (or ``with handle:``) removes it.

    ``flags`` are the sets that mark a hook's options (``with_kwargs``, ``always_call``):
    removing the hook takes its id out of them too. Removing twice does nothing.
    """
    _next_id = itertools.count()

    def __init__(self, hooks, *flags):
        self.id = next(RemovableHandle._next_id)
        self._hooks, self._flags = hooks, flags

    def remove(self):
        self._hooks.pop(self.id, None)
        for flag in self._flags:
            flag.discard(self.id)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _addindent(text, n):
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * n + line for line in lines[1:])


def _shape_str(shape):
    return "[" + ", ".join(str(int(s)) for s in shape) + "]"


class Module:
    """Base class of every layer and model; subclass it and define ``forward``.

    Example::

        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1, self.fc2 = nn.Linear(4, 8), nn.Linear(8, 2)

            def forward(self, x):
                return self.fc2(F.relu(self.fc1(x)))
    """

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments; "
                            f"Module.__init__ takes none")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = {}
        d.update(_fresh_hook_registries())

    def __setstate__(self, state):
        # a module pickled before a hook registry existed gets an empty one
        self.__dict__.update(state)
        for name, value in _fresh_hook_registries().items():
            self.__dict__.setdefault(name, value)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  f'"forward" function')

    # ------------------------------------------------------------------ calling
    def __call__(self, *args, **kwargs):
        if (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks
                or self._backward_pre_hooks):
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args, kwargs):
        """PyTorch's order: forward pre-hooks, backward-hook wrapping of the inputs,
        ``forward``, forward hooks, backward-hook wrapping of the outputs. If anything
        raises, the ``always_call`` forward hooks not yet run are called with output None
        (their own errors only warn) and the error goes on."""
        result, called = None, set()
        try:
            for hid, hook in list(self._forward_pre_hooks.items()):
                if hid in self._forward_pre_hooks_with_kwargs:
                    r = hook(self, args, kwargs)
                    if r is not None:
                        if not (isinstance(r, tuple) and len(r) == 2):
                            raise RuntimeError("forward pre-hook registered with "
                                               "with_kwargs=True must return None or a "
                                               f"tuple (args, kwargs), got {r!r}")
                        args, kwargs = r
                else:
                    r = hook(self, args)
                    if r is not None:
                        args = r if isinstance(r, tuple) else (r,)
            bw_hook = None
            if self._backward_hooks or self._backward_pre_hooks:
                bw_hook = _BackwardHook(self)
                args = bw_hook.setup_input(args)
            result = self.forward(*args, **kwargs)
            for hid, hook in list(self._forward_hooks.items()):
                if hid in self._forward_hooks_always_called:
                    called.add(hid)
                if hid in self._forward_hooks_with_kwargs:
                    r = hook(self, args, kwargs, result)
                else:
                    r = hook(self, args, result)
                if r is not None:
                    result = r
            if bw_hook is not None:
                result = bw_hook.setup_output(result)
            return result
        except Exception:
            for hid, hook in list(self._forward_hooks.items()):
                if hid not in self._forward_hooks_always_called or hid in called:
                    continue
                try:
                    if hid in self._forward_hooks_with_kwargs:
                        r = hook(self, args, kwargs, result)
                    else:
                        r = hook(self, args, result)
                    result = result if r is None else r
                except Exception as e:
                    warnings.warn(f"forward hook with always_call=True raised an exception "
                                  f"that was silenced because forward raised first: {e!r}")
            raise

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Call ``hook(module, args)`` before ``forward``; it may return replacement args
        (a tuple, or a single value that becomes the only positional argument).

        With ``with_kwargs=True`` the hook is ``hook(module, args, kwargs)`` and may return
        ``(args, kwargs)``. ``prepend=True`` runs it before the hooks already registered.
        Returns a handle whose ``remove()`` unregisters the hook.
        """
        handle = RemovableHandle(self._forward_pre_hooks, self._forward_pre_hooks_with_kwargs)
        _insert_hook(self._forward_pre_hooks, handle.id, hook, prepend)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs.add(handle.id)
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False,
                              always_call=False):
        """Call ``hook(module, args, output)`` after ``forward``; it may return a new output.

        With ``with_kwargs=True`` the hook is ``hook(module, args, kwargs, output)``.
        ``always_call=True`` calls it (with output None) even when ``forward`` raises.
        Handy to capture activations: ``h = layer.register_forward_hook(lambda m, i, o:
        feats.append(o))``, later ``h.remove()``.
        """
        handle = RemovableHandle(self._forward_hooks, self._forward_hooks_with_kwargs,
                                 self._forward_hooks_always_called)
        _insert_hook(self._forward_hooks, handle.id, hook, prepend)
        if with_kwargs:
            self._forward_hooks_with_kwargs.add(handle.id)
        if always_call:
            self._forward_hooks_always_called.add(handle.id)
        return handle

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_output)`` when the gradients of the module's outputs
        are known, before those of its inputs are computed.

        ``grad_output`` is a tuple with one entry per output (None for an output that is
        not a Tensor or got no gradient). The hook may return a tuple of the same length
        that replaces it. Returns a handle whose ``remove()`` unregisters the hook.

        Example (clip the gradient that reaches a layer)::

            layer.register_full_backward_pre_hook(lambda m, go: (go[0].clamp(-1, 1),))
        """
        handle = RemovableHandle(self._backward_pre_hooks)
        _insert_hook(self._backward_pre_hooks, handle.id, hook, prepend)
        return handle

    def register_full_backward_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect
        to the module's inputs have been computed.

        ``grad_input`` has one entry per positional argument of ``forward``: the gradient
        for a Tensor argument (zeros for one that does not require grad, as in PyTorch),
        None for anything else. ``grad_output`` is as for
        :meth:`register_full_backward_pre_hook`. The hook may return a tuple like
        ``grad_input`` that replaces the gradients sent on to the inputs. When no input
        requires grad the hook runs with ``grad_input`` all None, as soon as
        ``grad_output`` is known. Returns a handle whose ``remove()`` unregisters it.

        Example (log the gradient norm that leaves each layer)::

            h = layer.register_full_backward_hook(
                lambda m, gi, go: print(type(m).__name__, go[0].norm().item()))
        """
        handle = RemovableHandle(self._backward_hooks)
        _insert_hook(self._backward_hooks, handle.id, hook, prepend)
        return handle

    # ------------------------------------------------------------------ registration
    def __getattr__(self, name):
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            reg = d.get(registry)
            if reg is not None and name in reg:
                return reg[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call "
                                     "(call super().__init__() first)")
            self._forget(name, keep="_parameters")  # re-binding keeps its place
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter "
                                f"'{name}' (nn.Parameter or None expected)")
            params[name] = None
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call "
                                     "(call super().__init__() first)")
            self._forget(name, keep="_modules")    # a replaced child keeps its slot
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (nn.Module or None expected)")
            modules[name] = None
            return
        buffers = d.get("_buffers")
        if isinstance(value, Buffer):
            self.register_buffer(name, Tensor(value.data), value.persistent)
            return
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                f"(Tensor or None expected)")
            buffers[name] = value
            return
        object.__setattr__(self, name, value)

    def _forget(self, name, keep):
        """Remove ``name`` from the instance dict and every registry but ``keep`` (before
        re-binding it there: a replaced entry keeps its place in the order, as in PyTorch)."""
        d = self.__dict__
        d.pop(name, None)
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep:
                d[registry].pop(name, None)
        d["_non_persistent_buffers_set"].discard(name)

    def __delattr__(self, name):
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__[registry]:
                del self.__dict__[registry][name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def _check_name(self, name, kind):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if "." in name or name == "":
            raise KeyError(f"{kind} name can't contain \".\" or be empty, got {name!r}")

    def register_parameter(self, name, param):
        """Add a parameter (or None) under ``name``; same as ``self.name = param``."""
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'; wrap a "
                             f"detached copy: nn.Parameter(t.detach())")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a tensor that is state but not trained (e.g. running mean); ``persistent``
        buffers are saved in ``state_dict``."""
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer "
                            f"'{name}' (Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add a child module (or None) under ``name``; same as ``self.name = module``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        """The submodule at dotted path ``target`` (e.g. ``"layer1.0.conv1"``)."""
        mod = self
        for item in target.split(".") if target else ():
            if not isinstance(mod, Module) or item not in mod._modules:
                raise AttributeError(f"{type(mod).__name__} has no submodule `{item}` "
                                     f"(looking up '{target}')")
            mod = mod._modules[item]
        return mod

    def set_submodule(self, target, module, strict=False):
        """Put ``module`` at dotted path ``target``, replacing what is there (e.g. swap a
        classifier head: ``model.set_submodule("fc", nn.Linear(512, 10))``). With
        ``strict=True`` the submodule must already exist."""
        if target == "":
            raise ValueError("set_submodule: cannot set the submodule without a target "
                             "name (use the module itself)")
        if not isinstance(module, Module):
            raise ValueError(f"set_submodule: `module` is not an nn.Module, found "
                             f"{type(module).__name__}")
        parent_path, _, name = target.rpartition(".")
        parent = self.get_submodule(parent_path)
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{parent._get_name()} has no attribute `{name}` "
                                 f"(strict=True replaces only existing submodules)")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"set_submodule: `{name}` is not an nn.Module")
        setattr(parent, name, module)

    def get_parameter(self, target):
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._parameters:
            raise AttributeError(f"{type(mod).__name__} has no parameter `{name}`")
        return mod._parameters[name]

    def get_buffer(self, target):
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._buffers:
            raise AttributeError(f"{type(mod).__name__} has no buffer `{name}`")
        return mod._buffers[name]

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for this module and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for mod_prefix, mod in mods:
            for name, t in mod.__dict__[registry].items():
                if t is None or (remove_duplicate and id(t) in seen):
                    continue
                seen.add(id(t))
                yield mod_prefix + ("." if mod_prefix else "") + name, t

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, Parameter) pairs, e.g. ``("fc.weight", ...)``; shared ones once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Every Parameter of this module and its descendants (what optimizers take)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode=True):
        """Training mode (dropout active, batch norm uses batch statistics); returns self."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for m in self.children():
            m.train(mode)
        return self

    def eval(self):
        """Evaluation mode: same as ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Drop (or zero) the ``.grad`` of every parameter."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.data[...] = 0

    def apply(self, fn):
        """Call ``fn(module)`` on every submodule (children first) and self; returns self.

        Example: ``model.apply(init_weights)`` with a function that checks
        ``isinstance(m, nn.Conv2d)``.
        """
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ dtype / device
    def _apply_arrays(self, fn):
        """Replace every parameter's and buffer's array by ``fn(array)`` (same objects)."""
        for m in self.modules():
            for t in itertools.chain(m._parameters.values(), m._buffers.values()):
                if t is None:
                    continue
                new = fn(t.data)
                if new is not t.data:
                    t.data = new
                    t._vc[0] += 1
                    if t.grad is not None:
                        t.grad.data = fn(t.grad.data)
        return self

    def _place(self, device):
        """Move a freshly built layer to ``device`` (the ``device=`` of its constructor)."""
        if device is not None:
            self.to(device)

    def to(self, *args, **kwargs):
        """``to(dtype)``, ``to(device)`` or ``to(device, dtype)``: move and/or cast the
        parameters and buffers in place. The Parameter objects stay the same (only their
        ``.data``, and ``.grad``, are replaced), so an optimizer built before keeps working;
        its state follows on the next step (see ``optim.Optimizer``). Returns self."""
        device = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, (str, Device)):
                device = a
            elif isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, bool):
                continue
            else:
                dtype = a
        if device is not None:
            device = Device(device)
            self._apply_arrays(lambda a: to_device(a, device))
        if dtype is None:
            return self
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got "
                            f"desired dtype={dtype}")
        return self._apply_arrays(
            lambda a: a.astype(dtype) if a.dtype.kind == "f" and a.dtype != dtype else a)

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def half(self):
        return self.to(np.float16)

    def type(self, dst_type):
        """Cast *every* parameter and buffer to ``dst_type`` (a dtype or a name such as
        ``'minicv.DoubleTensor'``), integer buffers such as BatchNorm's
        ``num_batches_tracked`` included: unlike ``to``/``float``/``double``, which leave
        those alone, as in PyTorch. Returns self."""
        dtype = Tensor(np.empty(0, np.float32)).type(dst_type).dtype   # parses the names
        if dtype.kind != "f":
            for name, p in self.named_parameters():
                if p.requires_grad:
                    raise RuntimeError(f"cannot cast parameter '{name}' to {dtype}: only "
                                       f"floating point tensors can require gradients "
                                       f"(call requires_grad_(False) first)")
        return self._apply_arrays(lambda a: a if a.dtype == dtype else a.astype(dtype))

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else f"cuda:{device}")

    # ------------------------------------------------------------------ state dict
    def get_extra_state(self):
        """Override (with :meth:`set_extra_state`) to save non-tensor state in the state
        dict under ``<prefix>_extra_state``: any value ``mc.save`` can write (numbers,
        strings, lists, dicts, arrays)."""
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should "
                           "never be called: override both get_extra_state and "
                           "set_extra_state")

    def set_extra_state(self, state):
        """Receives what :meth:`get_extra_state` returned, on ``load_state_dict``."""
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should "
                           "never be called: override both get_extra_state and "
                           "set_extra_state")

    def _saves_extra_state(self):
        return type(self).get_extra_state is not Module.get_extra_state

    def _loads_extra_state(self):
        return type(self).set_extra_state is not Module.set_extra_state

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()
        if self._saves_extra_state():
            destination[prefix + _EXTRA_STATE] = self.get_extra_state()

    def register_state_dict_pre_hook(self, hook):
        """Call ``hook(module, prefix, keep_vars)`` before this module's ``state_dict``
        entries are written. Returns a handle with ``remove()``."""
        return _add_hook(self._state_dict_pre_hooks, hook)

    def register_state_dict_post_hook(self, hook):
        """Call ``hook(module, state_dict, prefix, local_metadata)`` after this module and
        its children wrote their entries; it may edit ``state_dict`` in place."""
        return _add_hook(self._state_dict_hooks, hook)

    def register_load_state_dict_pre_hook(self, hook):
        """Call ``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` before this module loads its entries; it may edit
        ``state_dict`` (rename old keys, convert values) in place."""
        return _add_hook(self._load_state_dict_pre_hooks, hook)

    def register_load_state_dict_post_hook(self, hook):
        """Call ``hook(module, incompatible_keys)`` after ``load_state_dict`` matched the
        keys; it may remove entries from ``incompatible_keys.missing_keys`` /
        ``unexpected_keys`` (in place) before strict mode judges them."""
        return _add_hook(self._load_state_dict_post_hooks, hook)

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """An ordered dict of every parameter and persistent buffer by dotted name.

        The tensors share memory with the module (copy them to snapshot). Save it with
        ``mc.save(model.state_dict(), path)``.
        """
        if args:                                    # legacy positional (destination, prefix)
            destination = args[0]
            prefix = args[1] if len(args) > 1 else prefix
        if destination is None:
            destination = OrderedDict()
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination=destination, prefix=prefix + name + ".",
                             keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            if hook(self, destination, prefix, {}) is not None:
                raise RuntimeError("a state_dict post hook must return None (it edits the "
                                   "state dict in place)")
        return destination

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs):
        persistent = {k: v for k, v in self._buffers.items()
                      if k not in self._non_persistent_buffers_set}
        local = {k: v for k, v in itertools.chain(self._parameters.items(),
                                                  persistent.items()) if v is not None}
        assign = local_metadata.get("assign_to_params_buffers", False)
        for name, param in local.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = state_dict[key]
            arr = value.data if isinstance(value, Tensor) else value
            if not (is_cupy_array(arr) or
                    isinstance(arr, (np.ndarray, np.generic, int, float, bool))):
                error_msgs.append(f'While copying the parameter named "{key}", expected a '
                                  f'Tensor or ndarray from checkpoint but received '
                                  f'{type(value).__name__}')
                continue
            if tuple(np.shape(arr)) != param.shape:
                error_msgs.append(f"size mismatch for {key}: copying a param with shape "
                                  f"{_shape_str(np.shape(arr))} from checkpoint, the shape "
                                  f"in current model is {_shape_str(param.shape)}.")
                continue
            if assign:
                self._assign_loaded(name, param, value)
                continue
            arr = to_numpy(arr) if is_cupy_array(arr) else np.asarray(arr)
            if type(param.data) is not np.ndarray:       # the model lives on a GPU
                arr = to_device(arr, param.device)
            with no_grad():
                param.data[...] = arr
                param._vc[0] += 1
        if self._loads_extra_state():
            if prefix + _EXTRA_STATE in state_dict:
                self.set_extra_state(state_dict[prefix + _EXTRA_STATE])
            elif strict:
                missing_keys.append(prefix + _EXTRA_STATE)
        if strict:
            for key in state_dict:
                if key.startswith(prefix):
                    head = key[len(prefix):].split(".", 1)[0]
                    if head not in self._modules and head not in local and not (
                            head == _EXTRA_STATE and self._loads_extra_state()):
                        unexpected_keys.append(key)

    def _assign_loaded(self, name, old, value):
        """``load_state_dict(assign=True)``: make ``value`` itself (not a copy) the parameter
        or buffer ``name``, keeping its dtype and device; a parameter is wrapped in a
        Parameter that keeps the old one's ``requires_grad``, as in PyTorch."""
        if not isinstance(value, Tensor):
            value = Tensor(value if is_cupy_array(value) else np.asarray(value))
        if name in self._buffers:
            self._buffers[name] = value
        elif isinstance(value, Parameter):
            value.requires_grad_(old.requires_grad)
            self._parameters[name] = value
        else:
            self._parameters[name] = Parameter(value, requires_grad=old.requires_grad)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy parameters and buffers from ``state_dict`` (values: Tensors or ndarrays).

        With ``strict=True`` every key must match; shape mismatches always raise. The error
        lists missing keys, unexpected keys and every size mismatch with both shapes, and
        says so when the keys carry a data-parallel ``module.`` prefix.

        With ``assign=True`` the module takes the state dict's tensors themselves (their
        dtype and device, shared memory) instead of copying into its own; parameters keep
        their ``requires_grad``. Build the optimizer after such a load: it must see the
        new parameters.

        Returns:
            a named tuple ``(missing_keys, unexpected_keys)``.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got "
                            f"{type(state_dict).__name__}")
        state_dict = OrderedDict(state_dict)
        missing, unexpected, errors = [], [], []

        metadata = {"assign_to_params_buffers": True} if assign else {}

        def load(module, prefix):
            for hook in module._load_state_dict_pre_hooks.values():
                hook(module, state_dict, prefix, dict(metadata), True, missing, unexpected,
                     errors)
            module._load_from_state_dict(state_dict, prefix, dict(metadata), True, missing,
                                         unexpected, errors)
            for name, child in module._modules.items():
                if child is not None:
                    load(child, prefix + name + ".")
            for hook in module._load_state_dict_post_hooks.values():     # children first
                if hook(module, keys) is not None:
                    raise RuntimeError("a load_state_dict post hook must return None (it "
                                       "edits incompatible_keys in place)")

        keys = _IncompatibleKeys(missing, unexpected)     # the lists fill in as load runs
        load(self, "")
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing)))
            hint = _prefix_hint(missing, unexpected)
            if hint and errors:
                errors.append(hint)
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(errors)))
        return keys

    # ------------------------------------------------------------------ printing
    def extra_repr(self):
        """The text inside the parentheses of this module's repr (override in layers)."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): " + _addindent(repr(m), 2)
                       for key, m in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"

    def __dir__(self):
        keys = list(super().__dir__())
        keys += list(self._parameters) + list(self._buffers) + list(self._modules)
        return sorted(set(k for k in keys if not k[0].isdigit()))


class _BackwardHookFunction(Function):
    """Identity on a few tensors: the graph node where a module's backward hooks run.

    ``Module.__call__`` routes the module's inputs through one such node and its outputs
    through another, so that backward meets all the gradients of a call at one place.
    ``forward`` returns the arrays themselves (no copy); ``backward`` passes the gradients
    on, after the hooks set on the node by :class:`_BackwardHook`.
    """
    on_grad_output = None       # set on the outputs' node: records grad_output
    on_grad_input = None        # set on the inputs' node: runs the full backward hooks

    @staticmethod
    def forward(ctx, *arrays):
        return arrays

    @staticmethod
    def backward(ctx, *grads):
        if ctx.on_grad_input is not None:
            return ctx.on_grad_input(grads)
        return grads

    def _run_hooks(self, outs):
        # The engine runs a node's output hooks before it fills the missing gradients of a
        # multi-output node with zeros: the last point where an output that got no
        # gradient (None, as PyTorch shows it to the hooks) differs from a zero gradient.
        outs = Function._run_hooks(self, outs)       # hooks put on the outputs by the user
        if self.on_grad_output is not None:
            outs = self.on_grad_output(outs)
        return outs


def _through_hook_node(tensors):
    """``tensors`` passed through a new ``_BackwardHookFunction`` node: (new tensors, node)."""
    outs = _BackwardHookFunction.apply(*tensors)
    for t, o in zip(tensors, outs):
        o._vc = t._vc          # same memory: an in-place change through one bumps both
    return outs, outs[0].grad_fn


class _BackwardHook:
    """The backward hooks of one call of a module (PyTorch's ``BackwardHook``).

    ``setup_input`` routes the Tensor arguments that require grad through one
    ``_BackwardHookFunction`` node and ``setup_output`` the Tensor outputs through another.
    The outputs' node is newer, so backward reaches it first: it builds ``grad_output``
    (one entry per output) and runs the pre-hooks, which may replace it. Backward then
    reaches the inputs' node, which builds ``grad_input`` (one entry per positional
    argument), runs the full hooks, which may replace it, and sends it on to the inputs.
    The hooks are those registered when the module was called.
    """

    def __init__(self, module):
        self.module = module
        self.hooks = list(module._backward_hooks.values())
        self.pre_hooks = list(module._backward_pre_hooks.values())
        self.n_inputs = self.n_outputs = 0
        self.input_index = None         # positions of the arguments routed through the node
        self.input_shapes = []
        self.zero_like = {}             # argument position -> (shape, dtype) of a zero grad
        self.output_index = None        # positions of the outputs routed through the node
        self.output_shapes = []
        self.grad_output = None

    def setup_input(self, args):
        self.n_inputs = len(args)
        if not (self.hooks and is_grad_enabled()):
            return args
        index = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        if not index:
            return args
        # Tensor arguments that need no gradient get zeros in grad_input, as in PyTorch
        self.zero_like = {i: (a.shape, a.dtype) for i, a in enumerate(args)
                          if isinstance(a, Tensor) and not a.requires_grad}
        self.input_index = index
        self.input_shapes = [args[i].shape for i in index]
        routed, node = _through_hook_node([args[i] for i in index])
        node.on_grad_input = self._on_grad_input
        args = list(args)
        for i, t in zip(index, routed):
            args[i] = t
        return tuple(args)

    def setup_output(self, result):
        outputs = result if isinstance(result, tuple) else (result,)
        self.n_outputs = len(outputs)
        index = [i for i, o in enumerate(outputs) if isinstance(o, Tensor) and o.requires_grad]
        if not (index and is_grad_enabled()):
            return result
        self.output_index = index
        self.output_shapes = [outputs[i].shape for i in index]
        routed, node = _through_hook_node([outputs[i] for i in index])
        node.on_grad_output = self._on_grad_output
        node.hooks = {0: []}           # non-empty: makes the engine call node._run_hooks
        outputs = list(outputs)
        for i, t in zip(index, routed):
            outputs[i] = t
        if not isinstance(result, tuple):
            return outputs[0]
        return type(result)(*outputs) if hasattr(result, "_fields") else tuple(outputs)

    def _on_grad_output(self, grads):
        grad_output = [None] * self.n_outputs
        for i, g in zip(self.output_index, grads):
            grad_output[i] = None if g is None else Tensor(g)
        grad_output = tuple(grad_output)
        for hook in self.pre_hooks:
            r = hook(self.module, grad_output)
            if r is not None:
                grad_output = _hook_result(r, len(grad_output), "pre hook", "grad_output")
        if self.input_index is None:
            # no input requires grad: the full hooks run now, with grad_input all None
            grad_input = (None,) * self.n_inputs
            for hook in self.hooks:
                r = hook(self.module, grad_input, grad_output)
                if r is not None and any(g is not None for g in r):
                    raise RuntimeError(
                        f"the backward hook of {type(self.module).__name__} returned "
                        f"gradients, but no input of the module requires grad: there is "
                        f"nothing to replace, return None")
        else:
            self.grad_output = grad_output
        return _hook_arrays(grad_output, self.output_index, self.output_shapes,
                            "backward pre hook", self.module)

    def _on_grad_input(self, grads):
        grad_output, self.grad_output = self.grad_output, None
        if grad_output is None:      # the outputs' node was not reached: no hook to run
            return grads
        xp = get_array_module(grads[0])
        grad_input = [None] * self.n_inputs
        for i, (shape, dtype) in self.zero_like.items():
            grad_input[i] = Tensor(xp.zeros(shape, dtype))
        for i, g in zip(self.input_index, grads):
            grad_input[i] = Tensor(g)
        grad_input = tuple(grad_input)
        for hook in self.hooks:
            r = hook(self.module, grad_input, grad_output)
            if r is not None:
                grad_input = _hook_result(r, len(grad_input), "hook", "grad_input")
        return _hook_arrays(grad_input, self.input_index, self.input_shapes,
                            "backward hook", self.module)


def _hook_result(r, n, kind, name):
    """A backward hook's replacement tuple, checked to have ``n`` entries."""
    if not isinstance(r, (tuple, list)) or len(r) != n:
        got = len(r) if isinstance(r, (tuple, list)) else f"a {type(r).__name__}"
        raise RuntimeError(f"Backward {kind} returned an invalid number of {name}, got "
                           f"{got}, but expected {n}: return None or a tuple with one entry "
                           f"(a Tensor or None) per entry of {name}")
    return tuple(r)


def _hook_arrays(grads, index, shapes, kind, module):
    """The arrays of ``grads`` at ``index`` (None stays None), checked against ``shapes``."""
    arrays = []
    for i, shape in zip(index, shapes):
        g = grads[i]
        arr = g.data if isinstance(g, Tensor) else g
        if arr is not None and getattr(arr, "shape", None) != shape:
            raise RuntimeError(f"the {kind} of {type(module).__name__} returned, for entry "
                               f"{i}, a gradient of shape {list(np.shape(arr))} where "
                               f"{list(shape)} was expected: keep each gradient's shape")
        arrays.append(arr)
    return tuple(arrays)


def _fresh_hook_registries():
    """The hook registries of a new module: id -> hook dicts and the ids' option sets."""
    return {"_forward_hooks": {}, "_forward_hooks_with_kwargs": set(),
            "_forward_hooks_always_called": set(), "_forward_pre_hooks": {},
            "_forward_pre_hooks_with_kwargs": set(), "_backward_hooks": {},
            "_backward_pre_hooks": {}, "_state_dict_pre_hooks": {}, "_state_dict_hooks": {},
            "_load_state_dict_pre_hooks": {}, "_load_state_dict_post_hooks": {}}


_EXTRA_STATE = "_extra_state"           # the state-dict key of get_extra_state's value


def _add_hook(hooks, hook):
    """Register ``hook`` at the end of ``hooks``; its handle removes it."""
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


def _insert_hook(hooks, hid, hook, prepend):
    if prepend:
        items = [(hid, hook)] + list(hooks.items())
        hooks.clear()
        hooks.update(items)
    else:
        hooks[hid] = hook


def _prefix_hint(missing, unexpected):
    """A sentence explaining a data-parallel ``module.`` prefix mismatch, or ''."""
    p = "module."
    if unexpected and all(k.startswith(p) for k in unexpected) and \
            {k[len(p):] for k in unexpected} & set(missing):
        return ('The checkpoint\'s keys start with "module." (it was saved from a '
                'DataParallel/DistributedDataParallel wrapper): strip the prefix first with '
                'nn.utils.consume_prefix_in_state_dict_if_present(state_dict, "module.").')
    if missing and all(k.startswith(p) for k in missing) and \
            {k[len(p):] for k in missing} & set(unexpected):
        return ('The model\'s keys start with "module." (it is wrapped for data-parallel '
                'training) but the checkpoint\'s do not: load into model.module instead.')
    return ""
