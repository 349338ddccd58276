"""Gradient clipping and state-dict helpers: ``clip_grad_norm_``, ``clip_grad_value_``,
``parameters_to_vector``, ``vector_to_parameters``, ``consume_prefix_in_state_dict_if_present``.
"""
import math

import numpy as np

from ..backend import get_array_module
from ..tensor import Tensor


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    total = ‖(‖g_1‖, ..., ‖g_k‖)‖_p (p = ``norm_type``, ``inf`` for the max abs value);
    every gradient is multiplied by min(1, max_norm / (total + 1e-6)), in place.

    Returns:
        the total norm before clipping, as a 0-d tensor.

    Example::

        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    """
    grads = _grads(parameters)
    norm_type = float(norm_type)
    if not grads:
        return Tensor(np.zeros((), np.float32))
    dtype = grads[0].dtype
    xp = get_array_module(grads[0].data)     # the norms stay on the gradients' device
    if norm_type == math.inf:
        norms = [np.max(np.abs(g.data)) if g.data.size else 0.0 for g in grads]
        total = np.max(_stack(xp, norms, dtype))
    else:
        norms = [_vector_norm(g.data, norm_type) for g in grads]
        total = _vector_norm(_stack(xp, norms, dtype), norm_type)
    total = xp.asarray(total, dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           f"`parameters` is non-finite, so it cannot be clipped. To disable "
                           f"this error and scale the gradients by the non-finite norm "
                           f"anyway, set `error_if_nonfinite=False`")
    coef = min(float(max_norm) / (float(total) + 1e-6), 1.0)
    for g in grads:
        g.data *= g.data.dtype.type(coef)
    return Tensor(total)


def _stack(xp, norms, dtype):
    """The per-gradient norms (0-d arrays or floats) as one 1-D array on ``xp``."""
    return xp.stack([xp.asarray(n, dtype) for n in norms])


def _vector_norm(a, p):
    a = a.reshape(-1)
    if p == 2:
        return np.sqrt(np.dot(a, a))
    if p == 1:
        return np.sum(np.abs(a))
    if p == 0:
        return get_array_module(a).asarray(np.count_nonzero(a), a.dtype)
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
    """All parameters flattened and concatenated into one 1-D tensor (a copy)."""
    return Tensor(np.concatenate([p.data.reshape(-1) for p in parameters]))


def vector_to_parameters(vec, parameters):
    """Copy slices of the 1-D ``vec`` back into ``parameters`` (in place)."""
    v = vec.data if isinstance(vec, Tensor) else np.asarray(vec)
    i = 0
    for p in parameters:
        n = p.data.size
        p.data[...] = v[i:i + n].reshape(p.shape)
        p._vc[0] += 1
        i += n
    if i != v.size:
        raise ValueError(f"vector_to_parameters: vector has {v.size} values but the "
                         f"parameters hold {i}")


def consume_prefix_in_state_dict_if_present(state_dict, prefix):
    """Strip ``prefix`` (e.g. ``"module."`` from a data-parallel checkpoint) from every key
    that has it, in place.

    Example::

        consume_prefix_in_state_dict_if_present(sd, "module."); model.load_state_dict(sd)
    """
    for key in list(state_dict.keys()):
        if key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
