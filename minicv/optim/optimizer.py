"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad``, ``state_dict``.

An optimizer holds ``param_groups`` (a list of dicts: ``{"params": [...], "lr": ...}``;
each group may override the defaults) and ``state`` (a dict from parameter to its buffers,
e.g. ``{"momentum_buffer": Tensor}``). ``step()`` updates ``p.data`` in place, under
``no_grad``, with NumPy's in-place ufuncs (no graph, no temporary tensors) and bumps each
parameter's version counter, so a graph that saved the old values refuses to backward.

``state_dict()`` has PyTorch's layout: ``{"state": {index: {name: Tensor | number}},
"param_groups": [{..., "params": [indices]}]}``; parameters are numbered in group order.

``register_step_pre_hook``/``register_step_post_hook`` run functions around every ``step``.
"""
import copy
import functools
import types
import warnings
from collections import OrderedDict, defaultdict

import numpy as np

from ..autograd import enable_grad
from ..backend import device_of, get_array_module, get_default_dtype, is_cupy_array, to_device
from ..tensor import Tensor


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


class Optimizer:
    """Base class: subclasses define ``step`` using ``self.param_groups`` and ``self.state``.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs (``named_parameters()``:
            the groups then keep ``"param_names"``), or of dicts (parameter groups) with a
            "params" key.
        defaults: default hyper-parameters for groups that do not set them.
    """

    def __init_subclass__(cls, **kwargs):
        """Make every subclass's ``step`` (a user's own included) record that it ran, in
        ``_opt_called``: the LR schedulers warn if their first ``step()`` comes before
        any ``optimizer.step()``, as PyTorch does (which wraps ``step`` for the same
        reason, per instance, when a scheduler is created)."""
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if isinstance(step, types.FunctionType) and not hasattr(step, "_records_call"):
            cls.step = _recording_call(step)

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got a Tensor: wrap it in a list")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list (did the model register "
                             "its layers? Modules in a plain Python list are not registered: "
                             "use nn.ModuleList)")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self):
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}"
            for key in sorted(group):
                if key != "params":
                    text += f"\n    {key}: {group[key]}"
        return text + "\n)"

    def add_param_group(self, param_group):
        """Add a group of parameters with its own hyper-parameters (e.g. a lower lr for a
        pretrained backbone). Missing options take the optimizer's defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got "
                            f"{type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections,"
                            " but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        param_group = dict(param_group)
        names = [p[0] for p in params if isinstance(p, tuple)]    # model.named_parameters()
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some "
                                 "param names are missing")
            params = [p[1] for p in params]
            param_group["param_names"] = names
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params "
                                f"is {type(p).__name__}")
            if p.grad_fn is not None:
                raise ValueError("can't optimize a non-leaf Tensor")
        param_group = dict(param_group, params=params)
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                raise ValueError("all optimizer param groups should be with/without names. "
                                 "cannot add param group "
                                 + ("with names" if "param_names" in param_group
                                    else "without names")
                                 + " to the optimizer")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        if len({id(p) for p in params}) != len(params):
            # PyTorch keeps the duplicate (it is then updated once per listing) and warns
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information "
                          "(pass each parameter once: shared weights are yielded once by "
                          "model.parameters())", UserWarning, stacklevel=3)
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Drop every parameter's gradient (``set_to_none``) or fill it with zeros in place
        (then, as PyTorch, the gradient leaves any graph: ``detach_``)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        p.grad.detach_()
                        p.grad.data[...] = 0

    def register_step_pre_hook(self, hook):
        """Call ``hook(optimizer, args, kwargs)`` before every ``step``; it may return
        ``(new_args, new_kwargs)`` to replace ``step``'s arguments (``args`` starts with the
        optimizer itself). Returns a handle whose ``remove()`` unregisters it."""
        from ..nn.module import RemovableHandle
        handle = RemovableHandle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook):
        """Call ``hook(optimizer, args, kwargs)`` after every ``step``. Returns a handle whose
        ``remove()`` unregisters it."""
        from ..nn.module import RemovableHandle
        handle = RemovableHandle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[handle.id] = hook
        return handle

    def step(self, closure=None):
        raise NotImplementedError(f"{type(self).__name__} must define step(): Optimizer is "
                                  f"the base class; use SGD, Adam or another optimizer of "
                                  f"minicv.optim")

    def _step_by_parameter(self, closure):
        """``step`` for optimizers with a per-parameter rule ``_update(p, group)`` and a
        multi-tensor GPU version ``_update_on_gpu(params, group)``: GPU parameters that a
        kernel can update go there together (one launch per device and dtype), the others
        one by one."""
        loss = self._closure(closure)
        has_kernel = hasattr(self, "_update_on_gpu")
        for group in self.param_groups:
            on_gpu = []
            for p in group["params"]:
                if p.grad is None:
                    continue
                if has_kernel and fusable(p):
                    on_gpu.append(p)
                else:
                    self._update(p, group)
            if on_gpu:
                self._update_on_gpu(on_gpu, group)
        return loss

    def _closure(self, closure):
        """Start of every ``step``: move state to its parameters' device, run ``closure``."""
        self._state_follows_params()
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ------------------------------------------------------------------ state dict
    def state_dict(self):
        """``{"state": {i: {...}}, "param_groups": [{..., "params": [i, ...]}]}``.

        The buffers are the optimizer's own tensors (not copies), as in PyTorch.
        """
        index, groups, start = {}, [], 0
        for group in self.param_groups:
            ids = range(start, start + len(group["params"]))
            # a parameter listed twice in a group takes its last index (as PyTorch)
            index.update({id(p): i for p, i in zip(group["params"], ids)})
            groups.append(dict({k: v for k, v in group.items() if k != "params"},
                               params=[index[id(p)] for p in group["params"]]))
            start += len(ids)
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and buffers saved by :meth:`state_dict` (floating buffers
        are cast to their parameter's dtype).

        A group option missing from the checkpoint (one saved before the option existed,
        e.g. ``maximize``) takes this optimizer's default. PyTorch takes the class's
        constructor default instead; the two differ only if this optimizer was built with
        a non-default value of that option.
        """
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)}) than the optimizer "
                             f"({len(self.param_groups)})")
        for i, (g, s) in enumerate(zip(self.param_groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(f"loaded state dict contains a parameter group that doesn't "
                                 f"match the size of optimizer's group: group {i} has "
                                 f"{len(s['params'])} parameters in the checkpoint and "
                                 f"{len(g['params'])} in the optimizer")
        id_map, old_groups = {}, self.param_groups
        for g, s in zip(self.param_groups, saved_groups):
            id_map.update({int(i): p for i, p in zip(s["params"], g["params"])})
        self.state = defaultdict(dict)
        for key, values in state_dict["state"].items():
            p = id_map.get(int(key))
            if p is None:
                continue
            self.state[p] = {name: _cast_state(name, v, p, self._state_like_params)
                             for name, v in values.items()}
        self.param_groups = [dict(copy.deepcopy({k: v for k, v in s.items() if k != "params"}),
                                  params=g["params"])
                             for g, s in zip(self.param_groups, saved_groups)]
        for group, old in zip(self.param_groups, old_groups):
            if "param_names" in old:         # the checkpoint's names win, as PyTorch
                group.setdefault("param_names", old["param_names"])
        for group in self.param_groups:
            for name, default in self.defaults.items():
                if default is not required:
                    group.setdefault(name, default)

    # whether every array in a parameter's state has the parameter's shape (not LBFGS's)
    _state_like_params = True

    def _state_follows_params(self):
        """Copy state buffers to the device of their parameter if it moved (``model.to``
        after some steps, or a CPU checkpoint loaded for a GPU model). A type comparison
        per buffer: nothing moves, and almost nothing is spent, when devices agree."""
        for p, st in self.state.items():
            kind = type(p.data)
            for v in st.values():
                if isinstance(v, Tensor) and type(v.data) is not kind:
                    v.data = to_device(v.data, device_of(p.data))

    def _gpu_state(self, p, name, zeros=False):
        """State buffer ``name`` of GPU parameter ``p`` as a C-contiguous array, created
        when missing (zero-filled, or uninitialised when the kernel's first step writes
        it); and whether it was created."""
        st = self.state[p]
        buf = st.get(name)
        d = p.data
        if buf is None:
            xp = get_array_module(d)
            st[name] = Tensor(xp.zeros_like(d) if zeros else xp.empty_like(d))
            return st[name].data, True
        a = buf.data
        if not (is_cupy_array(a) and a.device.id == d.device.id and a.dtype == d.dtype
                and a.shape == d.shape and a.flags.c_contiguous):
            # the kernel reads it as the parameter's dtype and layout, on its device (after
            # model.double(), a loaded checkpoint's view...): convert it once
            if a.shape != d.shape:
                raise ValueError(f"optimizer state '{name}' has shape {list(a.shape)} but "
                                 f"its parameter has shape {list(d.shape)}")
            a = to_device(a, device_of(d))
            buf.data = a = get_array_module(d).ascontiguousarray(a, dtype=d.dtype)
        return a, False

    def _init_group_state(self, p, names):
        """Zero-filled buffers ``names`` shaped like ``p`` (first step of a parameter), on
        the parameter's device."""
        st = self.state[p]
        xp = get_array_module(p.data)
        for name in names:
            st[name] = Tensor(xp.zeros_like(p.data))
        st["step"] = 0.0
        return st


def _recording_call(step):
    """``step`` that first sets ``optimizer._opt_called`` (see ``__init_subclass__``) and
    runs the step hooks around it, once per outermost call (a subclass's ``step`` calling
    ``super().step()`` runs them once, as PyTorch)."""
    @functools.wraps(step)
    def recorded_step(self, *args, **kwargs):
        self._opt_called = True
        if getattr(self, "_in_step", False):
            return step(self, *args, **kwargs)
        args = (self,) + args
        for hook in list(getattr(self, "_optimizer_step_pre_hooks", {}).values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{step} must return None or a tuple of (new_args, "
                                       f"new_kwargs), but got {result}.")
                args, kwargs = result
        self._in_step = True
        try:
            out = step(*args, **kwargs)
        finally:
            self._in_step = False
        for hook in list(getattr(self, "_optimizer_step_post_hooks", {}).values()):
            hook(self, args, kwargs)
        return out
    recorded_step._records_call = True
    return recorded_step


# Elements one multi-tensor launch updates at most (its kernels index with 32-bit ints).
FUSED_MAX = 1 << 30


def fusable(p):
    """True for a parameter that a multi-tensor GPU kernel can update in place: a
    C-contiguous float32/float64 CuPy array of at most ``FUSED_MAX`` elements."""
    d = p.data
    return (type(d) is not np.ndarray and is_cupy_array(d) and d.flags.c_contiguous
            and d.dtype in (np.float32, np.float64) and d.size <= FUSED_MAX)


def gpu_batches(params):
    """``(device context, [params])`` pairs, one kernel launch each: parameters of one
    device and dtype, in order, at most ``FUSED_MAX`` elements a batch."""
    import cupy
    groups = {}
    for p in params:
        groups.setdefault((p.data.device.id, p.data.dtype), []).append(p)
    for (device, _), ps in groups.items():
        batch, size = [], 0
        for p in ps:
            if batch and size + p.data.size > FUSED_MAX:
                yield cupy.cuda.Device(device), batch
                batch, size = [], 0
            batch.append(p)
            size += p.data.size
        yield cupy.cuda.Device(device), batch


def gpu_grads(params):
    """Each parameter's gradient as a C-contiguous array of the parameter's dtype (a copy
    only where it is not one already)."""
    import cupy
    return [cupy.ascontiguousarray(p.grad.data, dtype=p.data.dtype) for p in params]


# State that minicv keeps as a Python number and PyTorch as a 0-d tensor (a PyTorch
# checkpoint's value is converted): the step count, NAdam's mu_product, ASGD's eta and mu.
_SCALAR_STATE = ("step", "mu_product", "eta", "mu")


def _cast_state(name, value, p, like_param=True):
    if name in _SCALAR_STATE:
        return float(value.item() if hasattr(value, "item") else value)
    arr = value.data if isinstance(value, Tensor) else value
    if isinstance(arr, np.ndarray) or is_cupy_array(arr):
        arr = to_device(arr, device_of(p.data))        # state follows its parameter
        if arr.dtype.kind == "f":
            arr = arr.astype(p.dtype)
        else:
            arr = arr.copy()
        if like_param and arr.shape != p.shape:
            raise ValueError(f"optimizer state '{name}' has shape {list(arr.shape)} but its "
                             f"parameter has shape {list(p.shape)}: the checkpoint belongs "
                             f"to another model")
        return Tensor(arr)
    return copy.deepcopy(value)


def check_hyper(name, value, text=None, nan_ok=False):
    """Raise PyTorch's ValueError for a negative hyper-parameter, or a NaN one.

    PyTorch's own tests differ for NaN, so ``nan_ok`` chooses: its SGD tests ``value < 0``,
    which NaN passes (``nan_ok=True``); Adam, AdamW and RMSprop test ``not 0.0 <= value``,
    which NaN fails.
    """
    if (value < 0.0) if nan_ok else not 0.0 <= value:
        raise ValueError(f"Invalid {text or name} value: {value}" if text != "lr" else
                         f"Invalid learning rate: {value}")


def check_adam_hypers(lr, eps, betas, weight_decay):
    """PyTorch's checks of the Adam family (Adam, AdamW, Adamax, NAdam, RAdam), in its
    order: lr, eps and weight_decay ≥ 0, each of ``betas`` in [0, 1) (NaN fails all)."""
    check_hyper("lr", lr, "lr")
    check_hyper("eps", eps, "epsilon")
    for i, b in enumerate(betas):
        if not 0.0 <= b < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {b}")
    check_hyper("weight_decay", weight_decay)


def grad_of(p, maximize=False, weight_decay=0):
    """``p``'s gradient as an array of ``p``'s dtype, negated to ``maximize``, with the L2
    term ``weight_decay·p`` added (a new array whenever it differs from ``p.grad``)."""
    g = p.grad.data
    if g.dtype != p.data.dtype:
        g = g.astype(p.data.dtype)
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * p.data
    return g


def decayed_grad(p, group):
    """``grad_of(p)`` with the group's ``weight_decay``: added to the gradient (L2), or, with
    ``decoupled_weight_decay``, applied to the parameter itself: p ← p·(1 - lr·wd)."""
    wd = group["weight_decay"]
    if group.get("decoupled_weight_decay") and wd != 0:
        p.data *= 1 - group["lr"] * wd
        return grad_of(p, group["maximize"])
    return grad_of(p, group["maximize"], wd)


def scalar_state(value):
    """A Python number rounded as PyTorch's 0-d state tensors round it (they have the default
    float dtype: ``mu_product`` of NAdam, ``eta``/``mu`` of ASGD)."""
    return float(np.asarray(value, dtype=get_default_dtype()))
