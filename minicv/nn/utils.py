"""Gradient clipping and state-dict helpers: ``get_total_norm``, ``clip_grads_with_norm_``,
``clip_grad_norm_``, ``clip_grad_value_``, ``parameters_to_vector``, ``vector_to_parameters``,
``consume_prefix_in_state_dict_if_present``.
"""
import math

import numpy as np

from ..backend import get_array_module
from ..ops.shape import cat
from ..tensor import Tensor


def _as_list(tensors):
    """A single Tensor as a one-element list; any other iterable (a generator too) as a list."""
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _grads(parameters):
    return [p.grad for p in _as_list(parameters) if p.grad is not None]


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The p-norm of all of ``tensors`` together, as if they were one concatenated vector.

    total = ‖(‖t_1‖_p, ..., ‖t_k‖_p)‖_p, p = ``norm_type``: ``inf`` is the largest |t|,
    ``-inf`` the smallest, 0 counts non-zeros. Each tensor's norm is taken in its own
    dtype; the total in the dtypes' promotion (float32 and float64 give float64).

    Args:
        tensors: a Tensor or an iterable of Tensors (usually gradients).
        error_if_nonfinite: raise RuntimeError if the total is nan or ±inf.
        foreach: PyTorch's implementation switch; ignored.

    Returns:
        a 0-d tensor (float32 zero for no tensors).

    Example::

        norm = nn.utils.get_total_norm([p.grad for p in model.parameters()])
    """
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return Tensor(np.zeros((), np.float32))
    dtype = np.result_type(*[t.dtype for t in tensors])
    xp = get_array_module(tensors[0].data)     # the norms stay on the tensors' device
    norms = [xp.asarray(_vector_norm(t.data, norm_type), dtype) for t in tensors]
    total = xp.asarray(_vector_norm(xp.stack(norms), norm_type), dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           f"`parameters` is non-finite, so it cannot be clipped. To disable "
                           f"this error and scale the gradients by the non-finite norm "
                           f"anyway, set `error_if_nonfinite=False`")
    return Tensor(total)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Multiply every gradient, in place, by min(1, max_norm / (total_norm + 1e-6)).

    The factor is computed in ``total_norm``'s dtype and applied in each gradient's own
    dtype. With ``total_norm`` from :func:`get_total_norm` this is ``clip_grad_norm_`` in
    two steps, so the norm can be inspected (or all-reduced) before clipping.

    Example::

        total = nn.utils.get_total_norm([p.grad for p in model.parameters()])
        nn.utils.clip_grads_with_norm_(model.parameters(), 1.0, total)
    """
    grads = _grads(parameters)
    if not grads:
        return
    total = total_norm.data if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    coef = np.minimum(float(max_norm) / (total + 1e-6), 1.0)
    with np.errstate(invalid="ignore"):        # inf gradient · coef 0: NaN, as in PyTorch
        for g in grads:
            g.data *= coef.astype(g.data.dtype)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    total = ‖(‖g_1‖, ..., ‖g_k‖)‖_p (:func:`get_total_norm`, p = ``norm_type``); every
    gradient is multiplied by min(1, max_norm / (total + 1e-6)), in place
    (:func:`clip_grads_with_norm_`).

    Returns:
        the total norm before clipping, as a 0-d tensor.

    Example::

        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    """
    parameters = _as_list(parameters)           # used twice: a generator would run dry
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def _vector_norm(a, p):
    """‖a‖_p over all elements, in a's dtype, as ``torch.linalg.vector_norm``. An empty
    array gives the value that leaves a norm of norms unchanged (∞ for p = -inf)."""
    a = a.reshape(-1)
    if p == math.inf:
        return np.max(np.abs(a)) if a.size else 0.0
    if p == -math.inf:
        return np.min(np.abs(a)) if a.size else math.inf
    if p == 2:
        return np.sqrt(np.dot(a, a))
    if p == 1:
        return np.sum(np.abs(a))
    if p == 0:
        return get_array_module(a).asarray(np.count_nonzero(a), a.dtype)
    with np.errstate(divide="ignore"):          # p < 0: a zero element gives |0|^p = inf
        return np.sum(np.abs(a) ** p) ** (1.0 / p)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value], in place.

    Example::

        nn.utils.clip_grad_value_(model.parameters(), 0.5)
    """
    c = float(clip_value)
    for g in _grads(parameters):
        np.clip(g.data, -c, c, out=g.data)


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one 1-D tensor.

    It is part of the graph (a ``cat`` of the flattened parameters), so a loss computed
    from the vector back-propagates into the parameters.

    Example::

        vec = nn.utils.parameters_to_vector(model.parameters())    # (number of weights,)
    """
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D tensor ``vec`` into ``parameters``, in place.

    Like PyTorch, elements of ``vec`` past the last parameter are ignored. PyTorch makes
    each parameter a view of ``vec``; minicv copies into the parameter's own array (its
    dtype is kept).

    Example::

        nn.utils.vector_to_parameters(vec, model.parameters())
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected minicv.Tensor, but got: {type(vec).__name__}")
    v = vec.data
    i = 0
    for p in parameters:
        n = p.data.size
        if i + n > v.shape[0]:
            raise ValueError(f"vector_to_parameters: the vector has {v.shape[0]} values but "
                             f"the parameters need at least {i + n}")
        p.data[...] = v[i:i + n].reshape(p.shape)
        p._vc[0] += 1
        i += n


def consume_prefix_in_state_dict_if_present(state_dict, prefix):
    """Strip ``prefix`` (e.g. ``"module."`` from a data-parallel checkpoint) from every key
    that has it, in place.

    Example::

        consume_prefix_in_state_dict_if_present(sd, "module."); model.load_state_dict(sd)
    """
    for key in list(state_dict.keys()):
        if key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
