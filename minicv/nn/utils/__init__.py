"""Gradient clipping and state-dict helpers: ``get_total_norm``, ``clip_grads_with_norm_``,
``clip_grad_norm_``, ``clip_grad_value_``, ``parameters_to_vector``, ``vector_to_parameters``,
``consume_prefix_in_state_dict_if_present``, and BatchNorm folding for inference
(``fuse_conv_bn_eval``, ``fuse_linear_bn_eval`` and their ``*_weights`` forms); the weight
reparametrisations ``weight_norm`` and ``spectral_norm`` live in :mod:`.reparam`.
"""
import math

import numpy as np

from ...backend import get_array_module
from ...ops.shape import cat
from ...tensor import Tensor
from ..reparam import weight_norm, remove_weight_norm, spectral_norm, remove_spectral_norm


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


# ----------------------------------------------------------------------------- BN folding

def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """Fold an eval-mode BatchNorm into the convolution before it.

    BN computes ``(y - mean) / sqrt(var + eps) * w + b`` per output channel of ``y = conv(x)``,
    so with ``s = w / sqrt(var + eps)`` the pair equals one convolution with weight
    ``conv_w * s`` (scaled along the output-channel axis: 0, or 1 for a transposed conv) and
    bias ``(conv_b - mean) * s + b``. Missing ``conv_b``/``bn_w``/``bn_b`` count as 0/1/0.

    Returns:
        ``(weight, bias)`` as new Parameters, in the conv weight's dtype.
    """
    from ...autograd import no_grad
    from ..parameter import Parameter
    bias_dtype = conv_w.dtype if conv_b is None else conv_b.dtype
    with no_grad():
        zeros = bn_rm.new_zeros(bn_rm.shape)
        conv_b = zeros if conv_b is None else conv_b
        bn_w = zeros + 1 if bn_w is None else bn_w
        bn_b = zeros if bn_b is None else bn_b
        scale = bn_w * (bn_rv + bn_eps).rsqrt()                      # (C_out,)
        shape = [1, -1] if transpose else [-1, 1]
        w = (conv_w * scale.reshape(shape + [1] * (conv_w.ndim - 2))).to(conv_w.dtype)
        b = ((conv_b - bn_rm) * scale + bn_b).to(bias_dtype)
    return Parameter(w, conv_w.requires_grad), Parameter(b, conv_b.requires_grad)


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A new convolution equal to ``bn(conv(x))`` for eval-mode ``conv`` and ``bn``
    (neither is changed): the BatchNorm is folded into the copy's weight and bias.

    Example::

        model.eval()
        fused = nn.utils.fuse_conv_bn_eval(model.conv1, model.bn1)   # then bn1 -> Identity
    """
    import copy
    if conv.training or bn.training:
        raise RuntimeError("fuse_conv_bn_eval: fusion is only for eval mode; call "
                           "conv.eval() and bn.eval() first")
    if bn.running_mean is None or bn.running_var is None:
        raise RuntimeError("fuse_conv_bn_eval: bn has no running statistics "
                           "(track_running_stats=False): there is nothing to fold")
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight,
        bn.bias, transpose)
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """:func:`fuse_conv_bn_weights` for a Linear layer followed by BatchNorm1d: weight
    ``linear_w * s[:, None]``, bias ``(linear_b - mean) * s + b``."""
    return fuse_conv_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b)


def fuse_linear_bn_eval(linear, bn):
    """A new Linear equal to ``bn(linear(x))`` for eval-mode modules (see
    :func:`fuse_conv_bn_eval`); ``bn.num_features`` must equal ``linear.out_features``
    or be 1."""
    if bn.num_features not in (linear.out_features, 1):
        raise RuntimeError(f"fuse_linear_bn_eval: to fuse, linear.out_features == "
                           f"bn.num_features or bn.num_features == 1, got "
                           f"linear.out_features={linear.out_features} and "
                           f"bn.num_features={bn.num_features}")
    return fuse_conv_bn_eval(linear, bn)


from . import rnn                      # noqa: E402  (nn.utils.rnn, as in PyTorch)
from . import parametrize, parametrizations      # noqa: E402  (as in PyTorch)
