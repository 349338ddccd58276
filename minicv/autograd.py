"""Reverse-mode automatic differentiation: ``Function``, grad mode, and the backward pass.

Every differentiable op is a :class:`Function` subclass with two static methods side by
side: ``forward(ctx, *arrays)`` computes the result on plain arrays and saves what the
derivative needs; ``backward(ctx, *grad_outputs)`` returns one gradient per input::

    class Exp(Function):
        '''d/dx exp(x) = exp(x); saved: the output.'''
        @staticmethod
        def forward(ctx, x):
            y = np.exp(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, gy):
            (y,) = ctx.saved_tensors
            return gy * y

``Exp.apply(t)`` unwraps tensors to arrays, runs ``forward`` and, when a gradient is
needed, records the call as a node of the graph (the ``ctx`` object *is* the node).
``Tensor.backward`` then walks the nodes in reverse topological order, iteratively, so
depth is limited only by memory. Gradients come back in the broadcast shape; the engine
sums them to each input's shape once, here, for every op.
"""
import functools
import heapq
import itertools
import sys

import numpy as np

from .backend import get_array_module, is_cupy_array, device_of, quiet

Tensor = None            # set by minicv.tensor (which imports this module first)
# Argument types that are never GPU arrays: skipped by Function.apply's device check.
_PLAIN_ARGS = frozenset((np.ndarray, int, float, bool, str, tuple, list, type(None),
                         np.float32, np.float64, np.int64, np.bool_, np.dtype))
_sequence = itertools.count()     # creation order of graph nodes
_grad_enabled = True


def is_grad_enabled():
    return _grad_enabled


class _GradMode:
    """Base of ``no_grad``/``enable_grad``: a context manager and a decorator."""
    mode = True

    def __enter__(self):
        global _grad_enabled
        self._prev = _grad_enabled
        _grad_enabled = self.mode

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Run without recording a graph: results never require grad (inference, updates)."""
    mode = False


class enable_grad(_GradMode):
    """Turn recording back on inside a ``no_grad`` block."""
    mode = True


class set_grad_enabled(_GradMode):
    def __init__(self, mode):
        self.mode = bool(mode)

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


class inference_mode(set_grad_enabled):
    """PyTorch's ``inference_mode``: here the same as ``no_grad`` (``inference_mode(False)``
    leaves recording on). minicv has no separate inference tensors to make it faster.
    Works as ``with inference_mode():``, ``@inference_mode()`` and bare ``@inference_mode``.
    """
    def __new__(cls, mode=True):
        if callable(mode):                          # bare decorator: mode is the function
            return cls(True)(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        super().__init__(not mode)


# ----------------------------------------------------------------------------- Function

class Function:
    """Base class of differentiable ops; an instance is both the ``ctx`` and the graph node.

    Attributes set by :meth:`apply`:
        edges: one per positional argument: where its gradient goes (``None`` if nowhere).
        needs_input_grad: one bool per positional argument.
    """
    is_view = False   # set True on ops whose output may share memory with input 0
    hooks = None      # {output index: [fn]} from Tensor.register_hook
    n_outputs = 1
    _saved = ()
    _versions = ()

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define backward")

    def save_for_backward(self, *arrays):
        """Keep arrays for ``backward``; in-place changes to them are detected."""
        self._saved = arrays

    @property
    def saved_tensors(self):
        if self._saved is None:
            raise RuntimeError(
                f"Trying to backward through the graph of {self.name()} a second time (or "
                "directly access saved tensors after they have already been freed). Saved "
                "intermediate values of the graph are freed when you call .backward(). "
                "Specify retain_graph=True if you need to backward through the graph a "
                "second time.")
        return self._saved

    def name(self):
        return type(self).__name__ + "Backward"

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = cls.__new__(cls)
        # One edge per positional argument: where its gradient goes. A leaf is kept
        # itself (its .grad accumulates); an intermediate only as (its node, output
        # index), so the graph keeps no activation alive unless an op saved it.
        arrays, edges, needs, requires, foreign = [], [], [], False, False
        for a in args:
            if isinstance(a, Tensor):
                if a._base is not None and a._base.grad_fn is not a._base_fn:
                    _stale_view(a)
                d = a.data
                arrays.append(d)
                if type(d) is not np.ndarray:
                    foreign = True
                if a.requires_grad:
                    requires = True
                    fn = a.grad_fn
                    edges.append((fn, a._out_index, a if fn is None else None,
                                  d.shape, d.dtype))
                    needs.append(True)
                    continue
            else:
                arrays.append(a)
                if type(a) not in _PLAIN_ARGS and is_cupy_array(a):
                    foreign = True
            edges.append(None)
            needs.append(False)
        if foreign:                  # some argument is not a NumPy array: check devices
            arrays = _same_device_arrays(cls, arrays)
        # known in forward already, so an op saves only what the needed gradients read
        # (Mul saves b only for a's gradient): an in-place change of an operand whose
        # gradient nobody needs is then no error, as in PyTorch
        ctx.needs_input_grad = tuple(needs)
        out = cls.forward(ctx, *arrays, **kwargs)
        multi = type(out) is tuple
        if not (requires and _grad_enabled):
            if multi:
                return tuple(map(Tensor, out))
            out = Tensor(out)
            if cls.is_view and isinstance(args[0], Tensor):
                _mark_view(out, args[0])
            return out
        ctx.edges = tuple(edges)
        ctx._seq = next(_sequence)
        if multi:
            ctx.n_outputs = len(out)
            ctx.out_meta = tuple((o.shape, o.dtype) for o in out)
            results = tuple(_output_tensor(o, ctx, i) for i, o in enumerate(out))
        else:
            results = (_output_tensor(out, ctx, 0),)
        if cls.is_view and isinstance(args[0], Tensor):
            _mark_view(results[0], args[0])
        if ctx._saved:
            ctx._versions = ctx._record_versions(args + results)
        return results if multi else results[0]

    def _record_versions(self, owners):
        """The version of every tensor (among ``owners``) whose array was saved."""
        versions = []
        for arr in self._saved:
            for t in owners:
                if isinstance(t, Tensor) and t.data is arr:
                    versions.append((t._vc, t._vc[0], t.data.dtype, t.data.shape))
                    break
        return tuple(versions)

    def _check_versions(self):
        for vc, v, dtype, shape in self._versions:
            if vc[0] != v:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been "
                    f"modified by an inplace operation: [{dtype} tensor of shape "
                    f"{list(shape)}], which is saved by {self.name()}, is at version "
                    f"{vc[0]}; expected version {v} instead. Compute on a copy (.clone()) "
                    f"or make the in-place change after backward().")


def _mark_view(view, base):
    """Link a view to the tensor whose memory it shares. They share one version counter, so
    an in-place change through either is caught by the ops that saved the other; and the
    view remembers its base and the base's history, because an in-place op recorded on the
    base later (``Tensor._rebind``) gives the base a new history that the view's own
    ``grad_fn`` does not know (see :func:`_stale_view`)."""
    view._vc = base._vc
    view._base = base if base._base is None else base._base
    view._base_fn = view._base.grad_fn


def _stale_view(view):
    raise RuntimeError(
        f"this view (shape {list(view.shape)}) was taken from a tensor that an in-place "
        f"operation has changed since, with autograd recording the change: the view's "
        f"history no longer matches its values. Take the view again after the in-place "
        f"operation (PyTorch regenerates it; minicv asks you to).")


def _same_device_arrays(fn, arrays):
    """Check that the array arguments of ``fn`` live on one device, else raise naming both.

    As in PyTorch, a 0-d CPU array (a scalar tensor) may join a GPU op: it is copied to
    the GPU. Runs only when some argument is not a NumPy array, so the CPU path never
    pays for it; on the GPU path it runs for every op, so it compares device ids and
    names devices only to raise.
    """
    gpu, gpu_ids, cpu, scalars = None, set(), None, False
    for a in arrays:
        if type(a) is np.ndarray:
            if a.ndim:
                cpu = a
            else:
                scalars = True
        elif is_cupy_array(a):
            gpu = a
            gpu_ids.add(a.device.id)
    if len(gpu_ids) + (cpu is not None and gpu is not None) > 1:
        names = sorted({str(device_of(a)) for a in arrays
                        if is_cupy_array(a) or (type(a) is np.ndarray and a.ndim)})
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at "
                           f"least two devices, {names[0]} and {names[1]} (in "
                           f"{fn.__name__}); move them with .to(device) first")
    if gpu is None or not scalars:
        return arrays
    xp = get_array_module(gpu)
    return [xp.asarray(a) if type(a) is np.ndarray else a for a in arrays]


# ----------------------------------------------------------------------------- backward

def _output_tensor(array, node, index):
    """Output ``index`` of ``node`` as a tensor (the fast path of ``Tensor(array)``):
    floating outputs require grad and point at the node; integer ones (indices) do not."""
    t = Tensor.__new__(Tensor)
    if type(array) is not np.ndarray and not is_cupy_array(array):
        array = np.asarray(array)
    t.data = array
    t._vc = [0]
    if array.dtype.kind == "f":
        t.requires_grad = True
        t.grad_fn = node
        t._out_index = index
    else:
        t.requires_grad = False
    return t


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched to reach ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0:
        raise ValueError(f"gradient of shape {grad.shape} cannot reduce to {shape}")
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1)
    grad = grad.sum(axis=axes, keepdims=True) if axes else grad
    if extra:
        grad = grad.reshape(grad.shape[extra:])
    if grad.shape != shape:
        raise ValueError(f"gradient of shape {grad.shape} does not match input {shape}")
    return grad


def run_backward(roots, retain_graph=False, inputs=None):
    """Propagate each root's gradient, ``roots`` a list of (tensor, gradient array shaped
    like it), to every leaf that needs it, or, with ``inputs``, only into the ``.grad`` of
    those tensors (leaves or not). Gradients from several roots add up."""
    if inputs is None:
        _propagate(roots, retain_graph)
        return
    for t, g in zip(inputs, _propagate(roots, retain_graph, inputs)):
        # (a retain_grad() tensor's own hook has already stored its gradient)
        if g is not None and not (t.grad_fn is not None and t._retains_grad):
            t._accumulate(g)


@quiet
def _propagate(roots, retain_graph, targets=None):
    """The backward pass from ``roots``, a list of (tensor, gradient array).

    Without ``targets`` every leaf gets its gradient accumulated into ``.grad``. With
    ``targets`` (a list of tensors) nothing is accumulated: the gradient arriving at each
    target is returned instead, one array (or None when it got none) per target, before
    any leaf hook. Only the nodes on a path to a target then run (and free what they
    saved); the rest of the graph stays untouched, as in PyTorch.

    Nodes are visited in decreasing creation order (a max-heap on ``_seq``, as PyTorch
    orders by sequence number): a node is created after the nodes of its inputs, so by
    the time it is popped every consumer has already sent it its gradient. No recursion,
    one pass, and each node's gradient buffer is dropped as soon as it is used.
    """
    pending = {}                                   # node -> one gradient per output
    leaf_grads = {}                                # id(leaf) -> [leaf, summed gradient]
    heap = []
    for tensor, grad in roots:
        node = tensor.grad_fn
        if node is None:
            _add_leaf_grad(leaf_grads, tensor, grad)
            continue
        if node not in pending:
            pending[node] = [None] * node.n_outputs
            heapq.heappush(heap, (-node._seq, node))
        slot = pending[node]
        i = tensor._out_index
        slot[i] = grad if slot[i] is None else _sum(slot[i], grad)
    captured, at_node, runs = None, {}, None
    if targets is not None:
        captured = [None] * len(targets)
        at_node = {(t.grad_fn, t._out_index): k for k, t in enumerate(targets)
                   if t.grad_fn is not None}
        runs = _leading_to(heap, targets)
    while heap:
        node = heapq.heappop(heap)[1]
        outs = pending.pop(node)
        if runs is not None and node not in runs:     # a target's node, nothing below
            if node.hooks:
                outs = node._run_hooks(outs)
            for index, g in enumerate(outs):
                if (node, index) in at_node:
                    captured[at_node[node, index]] = g
            continue
        if node._saved is None:
            node.saved_tensors   # raises the "backward a second time" error
        if node.hooks:
            outs = node._run_hooks(outs)
        if at_node:
            for index, g in enumerate(outs):
                k = at_node.get((node, index))
                if k is not None:
                    captured[k] = g
        if node.n_outputs > 1 and any(g is None for g in outs):
            xp = get_array_module(*(g for g in outs if g is not None))
            outs = [xp.zeros(s, d) if g is None else g
                    for g, (s, d) in zip(outs, node.out_meta)]
        if node._versions:
            node._check_versions()
        in_grads = node.backward(node, *outs)
        if type(in_grads) is not tuple:
            in_grads = (in_grads,)
        if len(in_grads) != len(node.edges):
            raise RuntimeError(f"{node.name()} returned {len(in_grads)} gradients for "
                               f"{len(node.edges)} inputs")
        if not retain_graph and node._saved:
            node._saved = None   # free what it saved; nodes that saved nothing stay usable
        for edge, g in zip(node.edges, in_grads):
            if edge is None or g is None:
                continue
            fn, index, leaf, shape, dtype = edge
            if type(g) is not np.ndarray or g.shape != shape or g.dtype != dtype:
                g = _check_grad(node, g, shape, dtype)
            if fn is None:
                _add_leaf_grad(leaf_grads, leaf, g)
                continue
            slot = pending.get(fn)
            if slot is None:
                if runs is not None and fn not in runs and (fn, index) not in at_node:
                    continue                                # leads to no target
                pending[fn] = slot = [None] * fn.n_outputs
                heapq.heappush(heap, (-fn._seq, fn))
            slot[index] = g if slot[index] is None else _sum(slot[index], g)
    outs = in_grads = g = None      # the loop's last gradients: keep no extra reference
    if targets is not None:
        for k, t in enumerate(targets):
            entry = leaf_grads.get(id(t)) if t.grad_fn is None else None
            if entry is not None:
                captured[k] = entry[1]
        return captured
    for entry in leaf_grads.values():
        leaf, g = entry
        entry[1] = None
        # A GPU gradient that nothing else references (2: ``g`` and getrefcount's argument)
        # becomes ``.grad`` itself, as PyTorch's AccumulateGrad steals it: one copy kernel
        # less per parameter and step. Views and shared arrays are copied, as before.
        owned = (_COUNTS_LOCALS and type(g) is not np.ndarray
                 and sys.getrefcount(g) == 2)        # in its own statement, before the call
        leaf._accumulate(g, owned)


# Python 3.14 may load a local without a new reference (borrowed references, as NumPy's
# temporary elision found): a reference count is then no proof of sole ownership, and no
# gradient is stolen there.
_COUNTS_LOCALS = sys.version_info < (3, 14)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned rather than
    accumulated into ``.grad`` (no tensor's ``.grad`` changes), as ``torch.autograd.grad``.

    Args:
        outputs: a tensor or a sequence of tensors to differentiate.
        inputs: a tensor or a sequence of tensors (leaves or not) that require grad.
        grad_outputs: one gradient per output (None: ones, for one-element outputs).
        retain_graph: keep the graph for another backward (default: False).
        allow_unused: return None for an input the outputs do not depend on, instead of
            raising; ``materialize_grads=True`` returns zeros there.

    Returns a tuple with one tensor per input. Only first-order gradients:
    ``create_graph=True`` raises.

    Example (an FGSM step)::

        x = images.clone().requires_grad_(True)
        (gx,) = mc.autograd.grad(F.cross_entropy(model(x), labels), x)
        x_adv = (x + eps * gx.sign()).detach()
    """
    if is_grads_batched:
        raise NotImplementedError("grad: is_grads_batched=True is not supported")
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for k, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {k} does not require grad; set "
                               f"requires_grad=True on it before computing the outputs")
    roots = _roots("grad", outputs, grad_outputs, create_graph)
    captured = _propagate(roots, bool(retain_graph), inputs)
    result = []
    for k, (t, g) in enumerate(zip(inputs, captured)):
        if g is not None and t.grad_fn is None:
            g = t._hooked(g)                        # a leaf's hooks see its total gradient
        if g is None:
            if materialize_grads:
                g = get_array_module(t.data).zeros(t.shape, t.dtype)
            elif not allow_unused:
                raise RuntimeError(f"grad: input {k} (shape {list(t.shape)}) was not used to "
                                   f"compute the outputs; pass allow_unused=True to get None "
                                   f"for it")
        result.append(None if g is None else Tensor(g.astype(t.dtype, copy=False)))
    return tuple(result)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate into the leaves' ``.grad`` the gradient of the sum of ``tensors``, each
    weighted by its entry of ``grad_tensors``, in one pass (``torch.autograd.backward``):
    ``backward([loss_a, loss_b])`` is ``(loss_a + loss_b).backward()``.

    ``grad_tensors``: one gradient per tensor (None: ones, for one-element tensors);
    ``retain_graph`` defaults to ``create_graph``; ``inputs`` as in ``Tensor.backward``.

    Example::

        mc.autograd.backward([loss_cls, loss_box], [None, mc.tensor(0.5)])
    """
    roots = _roots("backward", tensors, grad_tensors, create_graph)
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        if not inputs:
            raise RuntimeError("backward: inputs= must not be empty")
    run_backward(roots, bool(create_graph if retain_graph is None else retain_graph), inputs)


def _roots(name, outputs, grad_outputs, create_graph):
    """The (tensor, seed gradient) pairs that start a backward pass from ``outputs``."""
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    if not outputs:
        raise RuntimeError(f"{name}: no tensors to differentiate were given")
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None \
            else [grad_outputs]
    grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"{name}: got {len(grad_outputs)} gradients for {len(outputs)} "
                           f"tensors; give one per tensor")
    return [(out, out._seed(go, create_graph, k))
            for k, (out, go) in enumerate(zip(outputs, grad_outputs))]


def _leading_to(heap, targets):
    """The nodes reachable from the roots in ``heap`` that have a path down to a target
    (a target leaf among their edges, or a target's node below them): the only nodes
    whose backward a targeted pass needs to run. Iterative, so any depth works."""
    leaves = {id(t) for t in targets if t.grad_fn is None}
    target_nodes = {t.grad_fn for t in targets if t.grad_fn is not None}
    leads = {}                                      # node -> whether it leads to a target
    stack = [(node, False) for _, node in heap]
    while stack:
        node, children_done = stack.pop()
        if node in leads and not children_done:
            continue
        children = [e[0] for e in node.edges if e is not None and e[0] is not None]
        if not children_done:
            leads[node] = False                     # provisional: the graph is acyclic
            stack.append((node, True))
            stack.extend((c, False) for c in children if c not in leads)
            continue
        leads[node] = any(e is not None and e[0] is None and id(e[2]) in leaves
                          for e in node.edges) or \
            any(leads[c] or c in target_nodes for c in children)
    return {node for node, ok in leads.items() if ok}


def _add_leaf_grad(leaf_grads, leaf, g):
    entry = leaf_grads.get(id(leaf))
    if entry is None:
        leaf_grads[id(leaf)] = [leaf, g]
    else:
        entry[1] = entry[1] + g


def _sum(a, b):
    """a + b for two gradients of one output (a fresh array: either may be shared).  Large
    NumPy float gradients (a ResNet block's input gets two) add on minicv's threads."""
    if type(a) is np.ndarray and a.size >= 1 << 16 and type(b) is np.ndarray:
        from .kernels.cpu.activation import add, fast_ok
        if fast_ok(a, b):
            return add(a, b)
    return a + b


def _check_grad(node, g, shape, dtype):
    """Un-broadcast a returned gradient and check it matches its input's shape and dtype."""
    if not isinstance(g, np.ndarray) and not is_cupy_array(g):
        g = np.asarray(g)
    if g.shape != shape:
        try:
            g = unbroadcast(g, shape)
        except ValueError:
            raise RuntimeError(f"{node.name()} returned a gradient of shape {g.shape} for an "
                               f"input of shape {shape}") from None
    if g.dtype != dtype:
        if g.dtype.kind != "f":
            raise RuntimeError(f"{node.name()} returned a {g.dtype} gradient for a "
                               f"{dtype} input")
        g = g.astype(dtype)
    return g


def _run_hooks(node, outs):
    """Call hooks registered on this node's outputs; a hook may replace the gradient."""
    outs = list(outs)
    for index, fns in node.hooks.items():
        if outs[index] is None:
            continue
        for fn in fns:
            r = fn(Tensor(outs[index]))
            if r is not None:
                if isinstance(r, Tensor):
                    r = r.data
                elif not is_cupy_array(r):
                    r = get_array_module(outs[index]).asarray(r)
                outs[index] = r
    return outs


Function._run_hooks = _run_hooks
