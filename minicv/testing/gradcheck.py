"""``gradcheck``: compare autograd's gradients with central finite differences.

The check runs in float64, where a central difference with eps = 1e-6 has a truncation
error around 1e-12 and a rounding error around 1e-10, far below the tolerances; float32
would drown the comparison in noise (pitfalls.md §2), so float32 inputs are refused.
Inputs may live on a GPU: the function runs there, the comparison on the host.

Two modes, chosen by size:

* **full Jacobian** (inputs and outputs of at most ``full_jacobian_limit`` elements): each
  entry dy_i/dx_j, analytic from one backward per output element, numeric from two
  evaluations per input element;
* **random directions** (larger): for random unit directions u (inputs) and v (outputs)
  compare vᵀ J u from one backward pass, ``<vᵀJ, u>``, with the directional difference
  (vᵀf(x + eps·u) - vᵀf(x - eps·u)) / 2eps. One direction per input isolates which
  input is wrong.
"""
import numpy as np

from ..autograd import no_grad
from ..backend import to_device, to_numpy
from ..tensor import Tensor


class GradcheckError(AssertionError):
    """Raised when analytic and numeric gradients disagree."""


def _as_tuple(x):
    return x if isinstance(x, (tuple, list)) else (x,)


def _float_outputs(out):
    return [o for o in _as_tuple(out) if isinstance(o, Tensor) and o.dtype.kind == "f"]


def _evaluate(fn, inputs, cotangents):
    """vᵀ f(inputs) as a Python float, without recording a graph."""
    with no_grad():
        outs = _float_outputs(fn(*inputs))
    return float(sum(np.sum(to_numpy(o.data) * v) for o, v in zip(outs, cotangents)))


def _analytic(fn, inputs, cotangents):
    """vᵀ J for every input (arrays; zeros where an input got no gradient)."""
    for t in inputs:
        t.grad = None
    outs = _float_outputs(fn(*inputs))
    if not outs:
        raise ValueError("gradcheck: fn returned no floating-point tensor to differentiate")
    total = None
    for o, v in zip(outs, cotangents):
        if not o.requires_grad:
            continue
        term = (o * Tensor(to_device(v, o.device))).sum()
        total = term if total is None else total + term
    if total is not None:
        total.backward()
    return [np.zeros(t.shape) if t.grad is None else to_numpy(t.grad.data).copy()
            for t in inputs]


def _check_inputs(inputs):
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"gradcheck: input {i} is a {type(t).__name__}; pass tensors "
                            f"(mc.tensor(x, dtype=mc.float64, requires_grad=True))")
        if t.requires_grad and t.dtype != np.float64:
            raise ValueError(f"gradcheck: input {i} has dtype {t.dtype}; finite differences "
                             f"need float64 inputs: use .double()")
        if not (t.data.flags.c_contiguous and getattr(t.data.flags, "writeable", True)):
            t.data = t.data.copy()       # perturbations below write through a flat view


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, full_jacobian_limit=64,
              n_directions=2, seed=0, raise_exception=True):
    """Check ``fn``'s gradients with respect to every input that requires grad.

    Args:
        fn: function of the input tensors returning a tensor or a tuple of tensors
            (non-floating outputs, such as indices, are ignored).
        inputs: a tensor or a tuple of tensors; those with ``requires_grad`` are checked.
        eps, atol, rtol: step and tolerances; a value passes when
            ``|analytic - numeric| <= atol + rtol * |numeric|``.

    Returns True, or raises :class:`GradcheckError` naming the input, the worst index and
    both values. Example::

        x = mc.randn(3, 4, dtype=mc.float64, requires_grad=True)
        gradcheck(lambda t: (t * t).sum(dim=1), (x,))
    """
    inputs = list(_as_tuple(inputs))
    _check_inputs(inputs)
    rng = np.random.default_rng(seed)
    with no_grad():
        outs = _float_outputs(fn(*inputs))
    n_in = sum(t.data.size for t in inputs if t.requires_grad)
    n_out = sum(o.data.size for o in outs)
    try:
        if n_in <= full_jacobian_limit and n_out <= full_jacobian_limit:
            _full_jacobian(fn, inputs, outs, eps, atol, rtol)
        else:
            _directional(fn, inputs, outs, eps, atol, rtol, rng, n_directions)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _full_jacobian(fn, inputs, outs, eps, atol, rtol):
    """Compare every entry of the Jacobian: columns numerically, rows through backward."""
    sizes = [o.data.size for o in outs]
    offsets = np.cumsum([0] + sizes)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            continue
        numeric = _numeric_jacobian(fn, inputs, t, eps)          # (n_out, t.size)
        analytic = np.zeros_like(numeric)
        for row in range(offsets[-1]):
            k = int(np.searchsorted(offsets, row, side="right") - 1)
            cot = [np.zeros(o.shape) for o in outs]
            cot[k].reshape(-1)[row - offsets[k]] = 1.0
            analytic[row] = _analytic(fn, inputs, cot)[i].reshape(-1)
        _compare(analytic, numeric, atol, rtol,
                 f"input {i} (shape {list(t.shape)}); Jacobian index (output element, "
                 f"input element)")


def _numeric_jacobian(fn, inputs, t, eps):
    """d(all outputs, flattened)/d(t) by central differences, one input element a time."""
    flat_x = t.data.reshape(-1)          # a view: we perturb in place and restore
    cols = []
    for j in range(flat_x.size):
        orig = flat_x[j].copy()          # on a GPU flat_x[j] is a 0-d view, not a value
        flat_x[j] = orig + eps
        plus = _flat_outputs(fn, inputs)
        flat_x[j] = orig - eps
        minus = _flat_outputs(fn, inputs)
        flat_x[j] = orig
        cols.append((plus - minus) / (2 * eps))
    return np.stack(cols, axis=1) if cols else np.zeros((0, 0))


def _flat_outputs(fn, inputs):
    with no_grad():
        outs = _float_outputs(fn(*inputs))
    return np.concatenate([to_numpy(o.data).reshape(-1).astype(np.float64) for o in outs])


def _directional(fn, inputs, outs, eps, atol, rtol, rng, n_directions):
    """vᵀ J u for random directions, one input at a time."""
    for _ in range(n_directions):
        cot = [rng.standard_normal(o.shape) for o in outs]
        analytic = _analytic(fn, inputs, cot)
        for i, t in enumerate(inputs):
            if not t.requires_grad:
                continue
            u = rng.standard_normal(t.shape)
            u /= max(np.linalg.norm(u), 1e-12)
            base = t.data.copy()
            step = to_device(eps * u, t.device)
            t.data[...] = base + step
            plus = _evaluate(fn, inputs, cot)
            t.data[...] = base - step
            minus = _evaluate(fn, inputs, cot)
            t.data[...] = base
            numeric = (plus - minus) / (2 * eps)
            _compare(np.array([np.sum(analytic[i] * u)]), np.array([numeric]), atol, rtol,
                     f"input {i} (shape {list(t.shape)}), random direction vᵀJu")


def _compare(analytic, numeric, atol, rtol, where):
    err = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    if not np.all(np.isfinite(analytic)) or np.any(err > 0):
        bad = np.nan_to_num(err, nan=np.inf)
        idx = np.unravel_index(int(np.argmax(bad)), bad.shape) if bad.ndim else ()
        raise GradcheckError(
            f"gradcheck failed for {where}: at index {tuple(int(i) for i in idx)} the "
            f"analytic gradient is {float(analytic[idx]):.10g} but the numeric one is "
            f"{float(numeric[idx]):.10g} (atol={atol}, rtol={rtol})")
