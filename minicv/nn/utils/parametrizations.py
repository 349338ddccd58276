"""``nn.utils.parametrizations``: ``weight_norm``, ``spectral_norm`` and ``orthogonal``,
built on :func:`~minicv.nn.utils.parametrize.register_parametrization` (PyTorch 2's
versions; the hook-based legacy ones are ``nn.utils.weight_norm``/``spectral_norm``).

* ``weight_norm``: ``weight = g · v / ‖v‖`` (norm over every dim but ``dim``); g and v are
  ``parametrizations.weight.original0`` and ``original1``.
* ``spectral_norm``: ``weight = W / σ``, σ ≈ uᵀ W v from power iteration on the buffers
  ``parametrizations.weight.0._u`` and ``_v`` (one step per training forward).
* ``orthogonal``: Q with orthonormal columns (rows if wide) from the unconstrained
  ``original`` by the matrix exponential or the Cayley map of a skew-symmetric matrix, or a
  product of Householder reflectors; with ``use_trivialization`` Q = base · Q(original).

The state-dict keys are PyTorch's; loading a PyTorch state dict gives the same weights.
"""
import numpy as np

from ...autograd import no_grad
from ...backend import get_array_module
from ...factories import eye
from ...ops.decomp import linalg_matrix_exp, linalg_qr
from ...ops.elementwise import div
from ...ops.linalg import matmul, mv, solve, vdot
from ...ops.shape import cat
from ...tensor import Tensor
from ..module import Module
from ..reparam import _norm_except_dim, _unit, _weight_as_matrix
from . import parametrize

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


# ----------------------------------------------------------------------------- weight_norm

class _WeightNorm(Module):
    """weight = g · v / ‖v‖, the norm over every dim but ``dim`` (the whole tensor for
    ``dim=-1``, PyTorch's spelling of None)."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def _axis(self, v):
        return None if self.dim == -1 else self.dim % max(v.ndim, 1)

    def forward(self, weight_g, weight_v):
        return weight_v * div(weight_g, _norm_except_dim(weight_v, self._axis(weight_v)))

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self._axis(weight)), weight


def weight_norm(module, name="weight", dim=0):
    """Reparametrise ``module.<name>`` as ``g · v / ‖v‖`` (Salimans & Kingma, 2016):
    length and direction are learnt separately; returns the module.

    ``g = original0`` has size 1 on every dim but ``dim``, ``v = original1`` the weight's
    shape. A state dict of the legacy ``nn.utils.weight_norm`` (``weight_g``/``weight_v``)
    loads too.

    Args:
        dim: the dim that keeps its own norm (0: per output channel); None normalises the
            whole tensor.

    Example::

        m = parametrizations.weight_norm(nn.Linear(20, 40))
        m.parametrizations.weight.original0.shape     # (40, 1)
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def compat_hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
                    unexpected_keys, error_msgs):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module.register_load_state_dict_pre_hook(compat_hook)
    return module


# --------------------------------------------------------------------------- spectral_norm

class _SpectralNorm(Module):
    """weight / σ with σ = uᵀ W v, W the weight as a matrix (``dim`` first, the rest
    flattened) and u, v refined by power iteration in training mode; a 1-D weight is
    simply normalised."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            with no_grad():
                w = _weight_as_matrix(weight, self.dim)                 # (h, w)
                h, wd = w.shape
                self.register_buffer("_u", _unit(w.new_empty(h).normal_(0, 1), eps))
                self.register_buffer("_v", _unit(w.new_empty(wd).normal_(0, 1), eps))
            self._power_method(w, 15)

    def _power_method(self, weight_mat, n_power_iterations):
        """u ← W v / ‖W v‖, v ← Wᵀ u / ‖Wᵀ u‖, written into the buffers in place."""
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(_unit(mv(weight_mat, self._v), self.eps))
                self._v.copy_(_unit(mv(weight_mat.mT, self._u), self.eps))

    def forward(self, weight):
        if weight.ndim == 1:
            return _unit(weight, self.eps)
        weight_mat = _weight_as_matrix(weight, self.dim)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()       # the buffers change in place later
        sigma = vdot(u, mv(weight_mat, v))
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its largest singular value σ (Miyato et al., 2018),
    estimated by power iteration: 15 steps at registration, ``n_power_iterations`` at
    every read in training mode; returns the module.

    The buffers ``_u``, ``_v`` start from minicv's RNG (so not PyTorch's numbers; load a
    PyTorch state dict to get its). Removing it in training mode does one more step.

    Args:
        dim: the dim of output channels: 0, or 1 for the transposed convolutions, when
            None.

    Example::

        d = parametrizations.spectral_norm(nn.Linear(20, 40))
        mc.linalg.matrix_norm(d.weight, 2)            # ≈ 1
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        base = parametrize.type_before_parametrizations(module).__name__
        dim = 1 if base in ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d") else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


# ------------------------------------------------------------------------------ orthogonal

def _householder_product(a, tau):
    """The first k columns of H_0 H_1 ... H_{k-1}, H_i = I - tau_i v_i v_iᵀ with
    v_i = (0, ..., 0, 1, a[i+1:, i]) (``torch.linalg.householder_product``), as
    differentiable ops. a: (..., n, k), tau: (..., k)."""
    n, k = a.shape[-2], a.shape[-1]
    a = a.tril(-1)
    q = eye(n, k, dtype=a.dtype, device=a.device).expand(*a.shape)          # (..., n, k)
    for i in reversed(range(k)):
        e = Tensor(get_array_module(a.data).eye(n, 1, -i, dtype=a.dtype)[:, 0])  # (n,)
        v = (a[..., :, i] + e).unsqueeze(-1)                                # (..., n, 1)
        q = q - v * (tau[..., i:i + 1].unsqueeze(-1) * matmul(v.mT, q))     # (..., n, k)
    return q


def _geqrf(a):
    """LAPACK's geqrf on an array (..., m, n): R on and above the diagonal, the
    Householder vectors below it, and their tau (``torch.geqrf``; no gradient)."""
    xp = get_array_module(a)
    a = a.copy()
    m, n = a.shape[-2:]
    tau = xp.zeros(a.shape[:-2] + (min(m, n),), a.dtype)
    for j in range(min(m, n)):
        alpha = a[..., j, j]
        x = a[..., j + 1:, j]
        xnorm = xp.sqrt((x * x).sum(-1))
        none = xnorm == 0                        # nothing to eliminate: H = I, tau = 0
        beta = -xp.copysign(xp.hypot(alpha, xnorm), alpha)
        scale = 1 / xp.where(none, 1, alpha - beta)
        t = xp.where(none, 0, (beta - alpha) / xp.where(none, 1, beta))
        a[..., j + 1:, j] = xp.where(none[..., None], x, x * scale[..., None])
        a[..., j, j] = xp.where(none, alpha, beta)
        tau[..., j] = t
        v = xp.concatenate([xp.ones_like(alpha)[..., None], a[..., j + 1:, j]], -1)
        w = (v[..., :, None] * a[..., j:, j + 1:]).sum(-2)                  # (..., n-j-1)
        a[..., j:, j + 1:] -= t[..., None, None] * v[..., :, None] * w[..., None, :]
    return a, tau


def _is_orthogonal(q):
    n, k = q.shape[-2], q.shape[-1]
    xp = get_array_module(q.data)
    eps = 10.0 * n * np.finfo(q.dtype).eps
    return bool(xp.allclose((q.mT @ q).data, xp.eye(k, dtype=q.dtype), atol=eps))


def _make_orthogonal(a):
    """Q of a = QR (a tall), with the signs that make R's diagonal non-negative."""
    q, r = linalg_qr(a)
    return q * r.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


class _Orthogonal(Module):
    """Q = map(original), optionally Q = base · map(original) (dynamic trivialization):
    'matrix_exp' Q = exp(A), 'cayley' Q = (I - A/2)⁻¹(I + A/2), A = X - Xᵀ from the lower
    triangle X of the (tall-oriented) original, or 'householder' reflectors from the
    strictly lower triangle, their signs from the diagonal."""

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = X.tril()
            if n != k:
                X = cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mT                                                    # (..., n, n)
            if self.orthogonal_map == "matrix_exp":
                Q = linalg_matrix_exp(A)
            else:
                Id = eye(n, dtype=A.dtype, device=A.device)
                Q = solve(Id - 0.5 * A, Id + 0.5 * A)
            Q = Q[..., :k]
        else:
            A = X.tril(-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = _householder_product(A, tau)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).detach().int().unsqueeze(-2)
        if hasattr(self, "base"):
            Q = matmul(self.base, Q)
        return Q.mT if transposed else Q

    def right_inverse(self, Q):
        with no_grad():
            return self._right_inverse(Q)

    def _right_inverse(self, Q):
        if Q.shape != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape "
                             f"{self.shape}. Got a tensor of shape {Q.shape}.")
        Q_init = Q
        n, k = Q.shape[-2], Q.shape[-1]
        transpose = n < k
        if transpose:
            Q = Q.mT
            n, k = k, n
        if not hasattr(self, "base"):
            if self.orthogonal_map != "householder":
                raise NotImplementedError("It is not possible to assign to the matrix "
                                          "exponential or the Cayley parametrizations when "
                                          "use_trivialization=False.")
            a, tau = _geqrf(Q.data)
            xp = get_array_module(a)
            d = xp.sign(xp.diagonal(a, 0, -2, -1))
            d = xp.where(tau == 0, -d, d)
            idx = xp.arange(k)
            a[..., idx, idx] = d
            A = Tensor(a)
            return A.mT if transpose else A
        if n == k:
            Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
        else:
            N = Q.new_empty(*Q.shape[:-2], n, n - k).normal_(0, 1)
            Q = _make_orthogonal(cat([Q, N], dim=-1))
        self.base = Q
        xp = get_array_module(Q_init.data)
        neg_id = xp.zeros(Q_init.shape, Q_init.dtype)
        idx = xp.arange(min(Q_init.shape[-2:]))
        neg_id[..., idx, idx] = -1
        return Tensor(neg_id)


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Constrain the matrix (or batch of matrices) ``module.<name>`` to be orthogonal:
    QᵀQ = I when it is tall, QQᵀ = I when it is wide; returns the module.

    Args:
        orthogonal_map: ``"matrix_exp"``, ``"cayley"`` or ``"householder"``; default
            ``"matrix_exp"`` for a square matrix, ``"householder"`` otherwise.
        use_trivialization: keep a buffer ``base`` (n x n, ``parametrizations.<name>.0.
            base``) and return base · map(original) (Lezcano-Casado, 2019). Registration
            then starts from the weight itself if it is orthogonal, otherwise from the Q
            of its QR decomposition (a wide/tall weight is first completed with random
            columns from minicv's RNG, so not PyTorch's numbers).

    Example::

        m = parametrizations.orthogonal(nn.Linear(20, 40))
        (m.weight.mT @ m.weight - mc.eye(20)).abs().max()     # ~1e-7
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of "
                         f"{weight.ndim} dimensions.")
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square else "householder"
    if orthogonal_map not in ("matrix_exp", "cayley", "householder"):
        raise ValueError(f'orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
