"""Matrix decompositions and the functions built on them, each with its gradient: svd,
qr, cholesky, eigh, solve_triangular, pinv and matrix_exp (``numpy.linalg`` / ``cupy.linalg``
for the factorizations, scaling-and-squaring with a Padé approximant for the exponential).

The backward formulas are PyTorch's (``torch/csrc/autograd/FunctionsManual.cpp``:
``svd_backward``, ``linalg_eig_backward``, ``linalg_qr_backward``, ``cholesky_backward``,
``linalg_solve_triangular_backward``, ``pinv_backward``,
``differential_analytic_matrix_function``), for real matrices. Every op takes batches
(..., m, n). The public wrappers carry ``torch.linalg``'s names with a ``linalg_`` prefix
(``minicv.linalg`` gives them their short names) and the deprecated ``torch.`` forms
(``svd``, ``qr``, ``cholesky``, ``pinverse``, ``triangular_solve``...).
"""
from collections import namedtuple

import numpy as np

from ..autograd import Function
from ..backend import get_array_module
from .linalg import LinAlgError, _check_batch, _check_matrix, _lapack, _mT
from ..tensor import as_tensor_arg


# ----------------------------------------------------------------------------- helpers

def _div0(num, den):
    """num / den, with 0 where num is 0: the terms of a gradient whose cotangent was never
    given (PyTorch skips them) stay 0 even where den is 0 (repeated singular values)."""
    xp = get_array_module(num, den)
    with np.errstate(divide="ignore", invalid="ignore"):
        return xp.where(num == 0, num.dtype.type(0), num / den)


def _eye_like(a):
    """The identity of a's matrix size and dtype (broadcasts against a's batch)."""
    return get_array_module(a).eye(a.shape[-1], dtype=a.dtype)


def _fill_diagonal(x, value):
    """Copy of x (..., n, n) with ``value`` on the diagonal."""
    xp = get_array_module(x)
    eye = xp.eye(x.shape[-1], dtype=bool)
    return xp.where(eye, x.dtype.type(value), x)


def _embed_diag(d):
    """diag_embed: (..., k) -> (..., k, k)."""
    return d[..., :, None] * _eye_like(d[..., None, :])


def _solve(a, b):
    """a⁻¹b for batch-broadcast a (..., n, n) and b (..., n, k) (``xp.linalg.solve``)."""
    xp = get_array_module(a, b)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return xp.linalg.solve(xp.broadcast_to(a, batch + a.shape[-2:]),
                           xp.broadcast_to(b, batch + b.shape[-2:]))


def _tril(x, k=0):
    return get_array_module(x).tril(x, k)


def _triu(x, k=0):
    return get_array_module(x).triu(x, k)


# ----------------------------------------------------------------------------- SVD

def _svd_backward(gu, gs, gvh, u, s, vh):
    """PyTorch's ``svd_backward`` (real): A = U diag(S) Vh, reduced (U (m, k), Vh (k, n)).
    With E_ij = s_j² - s_i² (1 on the diagonal), skew(X) = X - Xᵀ:
    gA = U [(skew(UᵀgU) S + S skew(Vhgvᵀ)) / E + diag(gS)] Vh, plus the terms for the
    complement of U's (m > n) or V's (m < n) columns. Defined for distinct singular values
    (and nonzero ones when m != n); elsewhere inf/NaN, as PyTorch's."""
    xp = get_array_module(u)
    m, n = u.shape[-2], vh.shape[-1]
    v, gv = _mT(vh), _mT(gvh)
    skew_u = _mT(u) @ gu
    skew_u = skew_u - _mT(skew_u)                                 # (..., k, k)
    skew_v = vh @ gv
    skew_v = skew_v - _mT(skew_v)                                 # (..., k, k)
    s2 = s * s
    e = _fill_diagonal(s2[..., None, :] - s2[..., :, None], 1)    # (..., k, k)
    ga = _div0(skew_u * s[..., None, :] + s[..., :, None] * skew_v, e)
    ga = ga + _embed_diag(gs)
    if m > n:
        gu_sinv = _div0(gu, xp.broadcast_to(s[..., None, :], gu.shape))     # (..., m, k)
        ga = u @ ga + gu_sinv - u @ (_mT(u) @ gu_sinv)
        return ga @ vh
    if m < n:
        gv_sinv = _div0(gv, xp.broadcast_to(s[..., None, :], gv.shape))     # (..., n, k)
        ga = ga @ vh + _mT(gv_sinv) - (_mT(gv_sinv) @ v) @ vh
        return u @ ga
    return u @ ga @ vh


class SVD(Function):
    """(U, S, Vh) = svd(A); gradient :func:`_svd_backward` on the leading k = min(m, n)
    columns of U and rows of Vh (with ``full_matrices`` the others get none, as in
    PyTorch). Saved: U, S, Vh."""
    @staticmethod
    def forward(ctx, a, full_matrices):
        u, s, vh = get_array_module(a).linalg.svd(a, full_matrices=full_matrices)
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, gu, gs, gvh):
        u, s, vh = ctx.saved_tensors
        k = s.shape[-1]
        return _svd_backward(gu[..., :k], gs, gvh[..., :k, :], u[..., :k], s,
                             vh[..., :k, :])


SVDResult = namedtuple("linalg_svd", ["U", "S", "Vh"])
TorchSVDResult = namedtuple("svd", ["U", "S", "V"])


def linalg_svd(A, full_matrices=True, *, driver=None):
    """The singular value decomposition A = U diag(S) Vh, a named tuple (U, S, Vh); S is
    descending. The gradient through U and Vh exists for distinct singular values only
    (and nonzero ones when A is not square), and U, Vh carry a sign freedom: differentiate
    gauge-invariant functions of them. ``driver`` is accepted for CUDA's cuSOLVER choice and
    ignored.

    Shape: A (..., m, n) -> U (..., m, m), S (..., k), Vh (..., n, n) with k = min(m, n);
    with ``full_matrices=False`` U (..., m, k), Vh (..., k, n).

    Example::

        U, S, Vh = mc.linalg.svd(mc.tensor([[3., 0.], [0., 4.]]))
        S                                            # tensor([4., 3.])
    """
    a = as_tensor_arg(A)
    _check_matrix("linalg.svd", a)
    return SVDResult(*SVD.apply(a, full_matrices=bool(full_matrices)))


def linalg_svdvals(A, *, driver=None):
    """The singular values of A, descending; their gradient is U diag(gS) Vh.

    Shape: (..., m, n) -> (..., min(m, n)).

    Example::

        mc.linalg.svdvals(mc.tensor([[3., 0.], [0., -4.]]))     # tensor([4., 3.])
    """
    a = as_tensor_arg(A)
    _check_matrix("linalg.svdvals", a)
    return SVD.apply(a, full_matrices=False)[1]


def svd(input, some=True, compute_uv=True):
    """``torch.svd``: (U, S, V) with V = Vhᵀ (not Vh); ``some=False`` gives square U and V.
    With ``compute_uv=False`` U and V are zero-filled, full-size and without gradient.

    Example::

        U, S, V = mc.svd(mc.tensor([[1., 0.], [0., 2.]]))     # S = [2., 1.]
    """
    a = as_tensor_arg(input)
    _check_matrix("svd", a)
    u, s, vh = SVD.apply(a, full_matrices=not some and compute_uv)
    if not compute_uv:
        from ..factories import zeros
        m, n = a.shape[-2:]
        batch = tuple(a.shape[:-2])
        return TorchSVDResult(zeros(batch + (m, m), dtype=a.dtype, device=a.device), s,
                              zeros(batch + (n, n), dtype=a.dtype, device=a.device))
    return TorchSVDResult(u, s, vh.transpose(-2, -1))


# ----------------------------------------------------------------------------- QR

class QR(Function):
    """(Q, R) = qr(A). PyTorch's ``linalg_qr_backward`` (real), with M = gR Rᵀ - Qᵀ gQ:
    m >= n: gA = (gQ + Q copyltu(M)) R⁻ᵀ, copyltu(M) = triu(M) + triu(M)ᵀ with the diagonal
    halved; m < n: gA = [Q tril(-M + Mᵀ) R₁⁻ᵀ, 0] + Q gR, R₁ the leading m x m block.
    Undefined (raises) for mode='r' and for mode='complete' with m > n. Saved: Q, R."""
    @staticmethod
    def forward(ctx, a, mode):
        xp = get_array_module(a)
        ctx.mode = mode
        if mode == "r":
            r = xp.linalg.qr(a, mode="r")
            return xp.empty((0,), dtype=a.dtype), r
        q, r = xp.linalg.qr(a, mode=mode)
        ctx.save_for_backward(q, r)
        return q, r

    @staticmethod
    def backward(ctx, gq, gr):
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not "
                               "computed when mode='r'. Please use linalg.qr(A, "
                               "mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        q, r = ctx.saved_tensors
        m, n = q.shape[-2], r.shape[-1]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when "
                               "mode='complete' and nrows > ncols.")
        mh = gr @ _mT(r) - _mT(q) @ gq                                # (..., k, k)
        if m >= n:
            up = _triu(mh)
            sym = up + _mT(_triu(mh, 1))                              # diagonal counted once
            b = q @ sym + gq                                          # (..., m, n)
            return _mT(_solve(r, _mT(b)))                             # b R⁻ᵀ
        low = _tril(-mh + _mT(mh))                                    # (..., m, m)
        b = q @ low
        ga = _mT(_solve(r[..., :m], _mT(b)))                          # (..., m, m)
        xp = get_array_module(ga)
        pad = xp.zeros(ga.shape[:-1] + (n - m,), dtype=ga.dtype)
        return xp.concatenate([ga, pad], axis=-1) + q @ gr


QRResult = namedtuple("linalg_qr", ["Q", "R"])
TorchQRResult = namedtuple("qr", ["Q", "R"])
_QR_MODES = ("reduced", "complete", "r")


def linalg_qr(A, mode="reduced"):
    """The QR decomposition A = QR, Q with orthonormal columns and R upper triangular (from
    LAPACK's Householder geqrf, as PyTorch's, so the signs agree). ``mode``: 'reduced'
    (Q (m, k), R (k, n)), 'complete' (Q (m, m), R (m, n)) or 'r' (R (k, n) only; Q is empty
    and no gradient flows). Differentiable except for mode='r' and for 'complete' with
    m > n.

    Shape: A (..., m, n), k = min(m, n).

    Example::

        Q, R = mc.linalg.qr(mc.tensor([[3., 1.], [4., 2.]]))    # R[0, 0] = -5.
    """
    a = as_tensor_arg(A)
    _check_matrix("linalg.qr", a)
    if mode not in _QR_MODES:
        raise ValueError(f"qr received unrecognized mode {mode!r} but expected one of "
                         f"'reduced' (default), 'r', or 'complete'")
    return QRResult(*QR.apply(a, mode=mode))


def qr(input, some=True):
    """``torch.qr`` (deprecated): ``linalg.qr(input, 'reduced' if some else 'complete')``.

    Example::

        Q, R = mc.qr(mc.tensor([[1., 0.], [0., 2.]]))    # Q = I, R = diag(1, 2)
    """
    a = as_tensor_arg(input)
    _check_matrix("qr", a)
    return TorchQRResult(*QR.apply(a, mode="reduced" if some else "complete"))


# ----------------------------------------------------------------------------- Cholesky

def _not_pd_message(op, info):
    """PyTorch's message for the first batch element whose factorization failed."""
    flat = info.reshape(-1)
    i = int(np.flatnonzero(flat)[0])
    where = f"(Batch element {i}): " if info.ndim else ""
    return (f"{op}: {where}The factorization could not be completed because the input is "
            f"not positive-definite (the leading minor of order {flat[i]} is not "
            f"positive-definite).")


def _potf2(a):
    """LAPACK's unblocked Cholesky (dpotf2, lower) on a batch (B, n, n), column by column:
    d = a_jj - L[j, :j]·L[j, :j]; if d > 0, L_jj = √d and
    L[j+1:, j] = (a[j+1:, j] - L[j+1:, :j] L[j, :j]) / L_jj; else info = j + 1, L_jj = d and
    that matrix stops, keeping A's lower triangle in the columns not reached (the partial
    factor PyTorch's CPU returns for n <= 128; its blocked factorization of larger matrices
    leaves other values below the failing row)."""
    low, info = np.tril(a), np.zeros(len(a), np.int32)
    going = np.arange(len(a))                                         # not failed yet
    for j in range(a.shape[-1]):
        if not len(going):
            break
        row = low[going, j, :j]                                       # (b, j)
        d = low[going, j, j] - np.einsum("bi,bi->b", row, row)
        with np.errstate(invalid="ignore"):
            ok = d > 0                                                # False for NaN too
        low[going, j, j] = np.where(ok, np.sqrt(np.where(ok, d, 1)), d)
        info[going[~ok]] = j + 1
        going, row = going[ok], row[ok]
        below = low[going, j + 1:, :j] @ row[..., None]               # (b, n-j-1, 1)
        low[going, j + 1:, j] = ((low[going, j + 1:, j] - below[..., 0])
                                 / low[going, j, j][:, None])
    return low, info


def _cholesky_host(a):
    """(L, info) on the CPU, as LAPACK's potrf leaves them: NumPy's Cholesky where it
    succeeds with a positive diagonal, :func:`_potf2` for the other matrices (info = the
    order of the first leading minor that is not positive-definite; NaN fails too)."""
    flat = a.reshape((-1,) + a.shape[-2:])                           # (B, n, n)
    try:
        low = np.linalg.cholesky(flat)
    except np.linalg.LinAlgError:
        low = np.empty_like(flat)
        for i, m in enumerate(flat):
            try:
                low[i] = np.linalg.cholesky(m)
            except np.linalg.LinAlgError:
                low[i] = np.nan                                       # redone below
    info = np.zeros(len(flat), np.int32)
    failed = np.flatnonzero(~(np.diagonal(low, axis1=-2, axis2=-1) > 0).all(axis=-1))
    if failed.size:
        low[failed], info[failed] = _potf2(flat[failed])
    return low.reshape(a.shape), info.reshape(a.shape[:-2])


def _cholesky_device(a):
    """(L, info) on a GPU without synchronising: info is read off L's diagonal (the first
    pivot that is not positive, counted from 1; 0 if none)."""
    xp = get_array_module(a)
    low = xp.linalg.cholesky(a)
    bad = ~(xp.diagonal(low, axis1=-2, axis2=-1) > 0)                # (..., n)
    first = xp.argmax(bad, axis=-1) + 1
    return low, xp.where(bad.any(axis=-1), first, 0).astype(np.int32)


class Cholesky(Function):
    """L = cholesky(A) (A = L Lᵀ, read from A's lower triangle; ``upper``: A = UᵀU from the
    upper one). PyTorch's ``cholesky_backward`` (Murray 2016): with Φ(X) = tril(X) with the
    diagonal halved, gA = sym(L⁻ᵀ Φ(Lᵀ gL) L⁻¹), sym(X) = (X + Xᵀ)/2. Also returns LAPACK's
    info (0, or the order of the first leading minor that is not positive-definite);
    ``check`` raises :class:`LinAlgError` on it (CPU only: a GPU check would synchronise).
    Saved: L."""
    @staticmethod
    def forward(ctx, a, upper, check):
        if upper:
            a = _mT(a)                                   # A's upper triangle as a lower one
        if type(a) is np.ndarray:
            low, info = _cholesky_host(a)
            if check and info.any():
                raise LinAlgError(_not_pd_message(check, info))
        else:
            low, info = _cholesky_device(a)
        ctx.upper = upper
        ctx.save_for_backward(low)
        return (_mT(low) if upper else low), info

    @staticmethod
    def backward(ctx, gl, ginfo):
        (low,) = ctx.saved_tensors
        if ctx.upper:
            gl = _mT(gl)
        low_inv = _solve(low, _eye_like(low))                         # (..., n, n)
        phi = _tril(_mT(low) @ gl)
        phi = phi - 0.5 * _embed_diag(get_array_module(phi).diagonal(phi, 0, -2, -1))
        ga = _mT(low_inv) @ phi @ low_inv
        return 0.5 * (ga + _mT(ga))


CholeskyExResult = namedtuple("linalg_cholesky_ex", ["L", "info"])


def linalg_cholesky(A, *, upper=False):
    """The Cholesky factor of symmetric positive-definite matrices: lower-triangular L with
    A = L Lᵀ (read from A's lower triangle), or with ``upper=True`` upper-triangular U with
    A = UᵀU (read from the upper one). A matrix that is not positive-definite raises
    :class:`LinAlgError` naming the failing leading minor (on the CPU; on a GPU the result
    is undefined, as with :func:`linalg_cholesky_ex`). The gradient is symmetric.

    Shape: (..., n, n) -> (..., n, n).

    Example::

        mc.linalg.cholesky(mc.tensor([[4., 2.], [2., 5.]]))    # [[2., 0.], [1., 2.]]
    """
    a = as_tensor_arg(A)
    _check_matrix("linalg.cholesky", a, square=True)
    return Cholesky.apply(a, upper=bool(upper), check="linalg.cholesky")[0]


def linalg_cholesky_ex(A, *, upper=False, check_errors=False):
    """:func:`linalg_cholesky` that reports failures in ``info`` (int32, shape A.shape[:-2]:
    0, or the order of the first leading minor that is not positive-definite) instead of
    raising, unless ``check_errors``. On a GPU, info is read off L's diagonal without
    synchronising (PyTorch reads cuSOLVER's info).

    Example::

        L, info = mc.linalg.cholesky_ex(mc.tensor([[1., 2.], [2., 1.]]))   # info = 2
    """
    a = as_tensor_arg(A)
    _check_matrix("linalg.cholesky_ex", a, square=True)
    check = "linalg.cholesky_ex" if check_errors else None
    return CholeskyExResult(*Cholesky.apply(a, upper=bool(upper), check=check))


def cholesky(input, upper=False):
    """``torch.cholesky`` (deprecated): :func:`linalg_cholesky` with a positional ``upper``.

    Example::

        mc.cholesky(mc.tensor([[4., 0.], [0., 9.]]))    # [[2., 0.], [0., 3.]]
    """
    a = as_tensor_arg(input)
    _check_matrix("cholesky", a, square=True)
    return Cholesky.apply(a, upper=bool(upper), check="cholesky")[0]


# ----------------------------------------------------------------------------- eigh

class Eigh(Function):
    """(L, V) = eigh(A) for symmetric A (read from the ``UPLO`` triangle), L ascending.
    PyTorch's ``linalg_eig_backward`` (hermitian case): with E_ij = L_j - L_i (1 on the
    diagonal) and K = skew(VᵀgV)/2, gA = V (K / E + diag(gL)) Vᵀ; defined for distinct
    eigenvalues. Saved: L, V."""
    @staticmethod
    def forward(ctx, a, uplo):
        w, v = get_array_module(a).linalg.eigh(a, UPLO=uplo)
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, gw, gv):
        w, v = ctx.saved_tensors
        vhgv = _mT(v) @ gv
        vhgv = 0.5 * (vhgv - _mT(vhgv))                               # (..., n, n)
        e = _fill_diagonal(w[..., None, :] - w[..., :, None], 1)
        ga = _div0(vhgv, e) + _embed_diag(gw)
        return v @ ga @ _mT(v)


EighResult = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])


def _uplo(op, UPLO):
    """'L' or 'U' (either case, as PyTorch) as NumPy's UPLO."""
    if not isinstance(UPLO, str) or UPLO.upper() not in ("L", "U"):
        raise ValueError(f"{op}: Expected UPLO argument to be 'L' or 'U', but got {UPLO!r}")
    return UPLO.upper()


def linalg_eigh(A, UPLO="L"):
    """Eigenvalues (ascending) and orthonormal eigenvectors of symmetric matrices, a named
    tuple (eigenvalues, eigenvectors); only the ``UPLO`` ('L' or 'U', either case) triangle
    of A is read. The eigenvectors' gradient needs distinct eigenvalues, and each has a sign
    freedom: differentiate gauge-invariant functions of them.

    Shape: (..., n, n) -> (..., n), (..., n, n).

    Example::

        L, V = mc.linalg.eigh(mc.tensor([[2., 1.], [1., 2.]]))    # L = [1., 3.]
    """
    a = as_tensor_arg(A)
    _check_matrix("linalg.eigh", a, square=True)
    return EighResult(*Eigh.apply(a, uplo=_uplo("linalg.eigh", UPLO)))


def linalg_eigvalsh(A, UPLO="L"):
    """The eigenvalues of symmetric matrices, ascending; their gradient is V diag(gL) Vᵀ.

    Shape: (..., n, n) -> (..., n).

    Example::

        mc.linalg.eigvalsh(mc.tensor([[2., 1.], [1., 2.]]))    # tensor([1., 3.])
    """
    a = as_tensor_arg(A)
    _check_matrix("linalg.eigvalsh", a, square=True)
    return Eigh.apply(a, uplo=_uplo("linalg.eigvalsh", UPLO))[0]


# ----------------------------------------------------------------------------- triangular

def _triangle(a, upper, unitriangular):
    """The triangle of a that a triangular solve reads, with a unit diagonal if asked."""
    t = _triu(a) if upper else _tril(a)
    return _fill_diagonal(t, 1) if unitriangular else t


def _solve_side(t, b, left):
    """t⁻¹b (left) or b t⁻¹ (right), batch dims broadcasting."""
    if left:
        return _solve(t, b)
    return _mT(_solve(_mT(t), _mT(b)))


class SolveTriangular(Function):
    """X = T⁻¹B (left) or B T⁻¹, T the ``upper``/lower triangle of A (unit diagonal if
    ``unitriangular``). PyTorch's ``linalg_solve_triangular_backward``: gB = T⁻ᵀg (left)
    or g T⁻ᵀ; gA = -gB Xᵀ (left) or -Xᵀ gB, restricted to the triangle read (the strict
    one when unitriangular). Saved: T and X."""
    @staticmethod
    def forward(ctx, a, b, upper, left, unitriangular):
        t = _triangle(a, upper, unitriangular)
        x = _lapack("linalg.solve_triangular", _solve_side, t, b, left)
        ctx.flags = upper, left, unitriangular
        ctx.save_for_backward(t, x)
        return x

    @staticmethod
    def backward(ctx, gx):
        t, x = ctx.saved_tensors
        upper, left, unit = ctx.flags
        gb = _solve_side(_mT(t), gx, left)
        ga = None
        if ctx.needs_input_grad[0]:
            ga = -(gb @ _mT(x)) if left else -(_mT(x) @ gb)
            ga = _triu(ga, int(unit)) if upper else _tril(ga, -int(unit))
        return ga, gb


def linalg_solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """The solution X of A X = B (``left=False``: X A = B) for triangular A: only the
    ``upper`` (or lower) triangle of A is read, its diagonal taken as ones when
    ``unitriangular``. Batch dims broadcast; B is converted to A's dtype (as PyTorch does).
    A zero on the diagonal raises :class:`LinAlgError` on the CPU (PyTorch returns inf/NaN).

    Shape: A (..., n, n), B (..., n, k) (left) or (..., k, n) -> the shape of B,
    batch-broadcast.

    Example::

        mc.linalg.solve_triangular(mc.tensor([[2., 1.], [0., 4.]]), mc.tensor([[3.], [4.]]),
                                   upper=True)                       # [[1.], [1.]]
    """
    a, b = as_tensor_arg(A), as_tensor_arg(B)
    _check_matrix("linalg.solve_triangular", a, square=True)
    b = b if b.dtype == a.dtype else b.to(a.dtype)
    if b.ndim < 2:
        raise ValueError(f"linalg.solve_triangular: The input tensor B must have at least 2 "
                         f"dimensions, got shape {list(b.shape)}")
    n, side = a.shape[-1], (b.shape[-2] if left else b.shape[-1])
    if n != side:
        raise ValueError(f"linalg.solve_triangular: Incompatible shapes of A and B for the "
                         f"equation {'AX = B' if left else 'XA = B'} ({list(a.shape)} and "
                         f"{list(b.shape)})")
    _check_batch("linalg.solve_triangular", a, b)
    return SolveTriangular.apply(a, b, upper=bool(upper), left=bool(left),
                                 unitriangular=bool(unitriangular))


TriangularSolveResult = namedtuple("triangular_solve", ["solution", "cloned_coefficient"])


def _same_dtype(b, a):
    """``torch.triangular_solve``'s and ``cholesky_solve``'s check: b and A of one dtype."""
    if b.dtype != a.dtype:
        raise TypeError(f"Expected b and A to have the same dtype, but found b of type "
                        f"{b.dtype} and A of type {a.dtype} instead: convert one with "
                        f".to(dtype)")


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    """``torch.triangular_solve`` (deprecated): X with op(A) X = b, op(A) = Aᵀ if
    ``transpose``; returns (solution, a copy of A broadcast to the batch shape). b and A
    must have the same dtype.

    Example::

        mc.triangular_solve(mc.tensor([[2.], [4.]]), mc.tensor([[2., 0.], [0., 4.]])).solution
    """
    b, a = as_tensor_arg(b), as_tensor_arg(A)
    _same_dtype(b, a)
    x = linalg_solve_triangular(a.transpose(-2, -1) if transpose else a, b,
                                upper=upper != bool(transpose), unitriangular=unitriangular)
    batch = tuple(x.shape[:-2])
    return TriangularSolveResult(x, a.expand(batch + tuple(a.shape[-2:])).clone())


def _cholesky_matrix(low, upper):
    """A = L Lᵀ (or UᵀU) from the triangle of the factor that LAPACK's potrs reads."""
    return _mT(_triu(low)) @ _triu(low) if upper else _tril(low) @ _mT(_tril(low))


def _check_factor(op, low):
    """On the CPU, raise :class:`LinAlgError` where a Cholesky factor has a zero on its
    diagonal (A = L Lᵀ is then singular, though rounding may hide it from the solver)."""
    if type(low) is not np.ndarray:
        return                                                        # would synchronise
    zero = np.diagonal(low, axis1=-2, axis2=-1) == 0                  # (..., n)
    if zero.any():
        i = int(np.flatnonzero(zero.any(axis=tuple(range(zero.ndim - 1))))[0]) + 1
        raise LinAlgError(f"{op}: The diagonal element {i} is zero, the inversion could not "
                          f"be completed because the input matrix is singular.")


class CholeskySolve(Function):
    """X = A⁻¹B with A = L Lᵀ (``upper``: UᵀU). PyTorch's ``cholesky_solve_backward``:
    gB = A⁻¹g, gL = -(gB Xᵀ + X gBᵀ) L (``upper``: -U(...)), not restricted to the
    triangle. Saved: L, A, X."""
    @staticmethod
    def forward(ctx, b, low, upper):
        _check_factor("cholesky_solve", low)
        a = _cholesky_matrix(low, upper)
        x = _lapack("cholesky_solve", _solve, a, b)
        ctx.upper = upper
        ctx.save_for_backward(low, a, x)
        return x

    @staticmethod
    def backward(ctx, gx):
        low, a, x = ctx.saved_tensors
        gb = _solve(a, gx)
        common = gb @ _mT(x)
        common = common + _mT(common)
        gl = -(low @ common) if ctx.upper else -(common @ low)
        return gb, (gl if ctx.needs_input_grad[1] else None)


def cholesky_solve(B, L, upper=False):
    """The solution X of A X = B given A's Cholesky factor L (A = L Lᵀ, read from L's lower
    triangle; ``upper``: A = UᵀU). The gradient with respect to L is PyTorch's, which is
    not restricted to the triangle. B and L must have the same dtype. A zero on L's
    diagonal raises :class:`LinAlgError` on the CPU (PyTorch returns inf/NaN).

    Shape: B (..., n, k), L (..., n, n) -> (..., n, k), batch-broadcast.

    Example::

        mc.cholesky_solve(mc.tensor([[4.], [2.]]), mc.tensor([[2., 0.], [0., 1.]]))  # [[1.], [2.]]
    """
    b, low = as_tensor_arg(B), as_tensor_arg(L)
    _same_dtype(b, low)
    _check_matrix("cholesky_solve", low, square=True)
    if b.ndim < 2 or b.shape[-2] != low.shape[-1]:
        raise ValueError(f"cholesky_solve: Incompatible matrix sizes for B {list(b.shape)} "
                         f"and L {list(low.shape)}: B must be (..., n, k) for L (..., n, n)")
    _check_batch("cholesky_solve", b, low)
    return CholeskySolve.apply(b, low, upper=bool(upper))


class CholeskyInverse(Function):
    """Y = A⁻¹ with A = L Lᵀ (``upper``: UᵀU). PyTorch's ``cholesky_inverse_backward``:
    with C = Y (g + gᵀ) Y, gL = -C L (``upper``: -U C). Saved: L, Y."""
    @staticmethod
    def forward(ctx, low, upper):
        _check_factor("cholesky_inverse", low)
        a = _cholesky_matrix(low, upper)
        y = _lapack("cholesky_inverse", get_array_module(a).linalg.inv, a)
        ctx.upper = upper
        ctx.save_for_backward(low, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        low, y = ctx.saved_tensors
        common = y @ (gy + _mT(gy)) @ y
        return -(low @ common) if ctx.upper else -(common @ low)


def cholesky_inverse(L, upper=False):
    """A⁻¹ from A's Cholesky factor L (A = L Lᵀ; ``upper``: A = UᵀU), with PyTorch's
    gradient (not restricted to the triangle).

    Shape: (..., n, n) -> (..., n, n).

    Example::

        mc.cholesky_inverse(mc.tensor([[2., 0.], [0., 1.]]))    # [[0.25, 0.], [0., 1.]]
    """
    low = as_tensor_arg(L)
    _check_matrix("cholesky_inverse", low, square=True)
    return CholeskyInverse.apply(low, upper=bool(upper))


# ----------------------------------------------------------------------------- pinv

def _pinv_backward(g, p, a):
    """PyTorch's ``pinv_backward`` for P = pinv(A) (real), arranged so that the products
    have the smaller of A's dims."""
    m, n = a.shape[-2:]
    pt, gt = _mT(p), _mT(g)
    if m <= n:
        k = gt @ p                                                    # (..., m, m)
        kpt = k @ pt
        return -_mT(p @ k) + kpt - (a @ p) @ kpt + (pt @ p) @ (gt - k @ a)
    k = p @ gt                                                        # (..., n, n)
    ptk = pt @ k
    return -_mT(k @ p) + (gt - a @ k) @ p @ pt + ptk - ptk @ p @ a


def _singular_values(a, hermitian):
    """The singular values of the array ``a`` (..., m, n): (..., min(m, n)), descending;
    with ``hermitian``, |eigenvalues| of the symmetric a (its lower triangle), unsorted."""
    xp = get_array_module(a)
    if hermitian:
        return xp.abs(xp.linalg.eigvalsh(a))
    return xp.linalg.svd(a, compute_uv=False)


def _above_tol(s, atol, rtol):
    """Which singular values s (..., k) count, those above max(atol, rtol·s_max), as a
    bool mask (..., k) (atol and rtol broadcast over the batch)."""
    xp = get_array_module(s)
    if s.shape[-1] == 0:
        return xp.zeros(s.shape, dtype=bool)
    return s > xp.maximum(atol, rtol * s.max(axis=-1))[..., None]


def _pinv(a, atol, rtol, hermitian=False):
    """V diag(1/s) Uᵀ over the singular values s > max(atol, rtol·s_max) (with
    ``hermitian``, from eigh: |eigenvalues| and their signs); (..., m, n) -> (..., n, m)."""
    xp = get_array_module(a)
    m, n = a.shape[-2:]
    if min(m, n) == 0:
        return xp.zeros(a.shape[:-2] + (n, m), dtype=a.dtype)
    if hermitian:
        w, v = xp.linalg.eigh(a)
        keep = _above_tol(xp.abs(w), atol, rtol)                      # (..., n)
        inv_w = xp.where(keep, 1 / xp.where(keep, w, 1), 0).astype(a.dtype)
        return (v * inv_w[..., None, :]) @ _mT(v)
    u, s, vh = xp.linalg.svd(a, full_matrices=False)
    keep = _above_tol(s, atol, rtol)                                  # (..., k)
    inv_s = xp.where(keep, 1 / xp.where(keep, s, 1), 0).astype(a.dtype)
    return (_mT(vh) * inv_s[..., None, :]) @ _mT(u)                  # (..., n, m)


class Pinv(Function):
    """P = pinv(A) (:func:`_pinv`). Gradient :func:`_pinv_backward`, defined where the rank
    does not change. Saved: A, P."""
    @staticmethod
    def forward(ctx, a, atol, rtol, hermitian):
        p = _pinv(a, atol, rtol, hermitian)
        ctx.save_for_backward(a, p)
        return p

    @staticmethod
    def backward(ctx, gp):
        a, p = ctx.saved_tensors
        return _pinv_backward(gp, p, a)


def _tolerances(a, atol, rtol):
    """PyTorch's (atol, rtol) for pinv and matrix_rank as arrays on a's device: rtol defaults
    to eps·max(m, n), or to 0 where atol > 0 is given."""
    xp = get_array_module(a.data)
    default = np.finfo(a.dtype).eps * max(a.shape[-2:])

    def arr(x):
        x = x.data if hasattr(x, "data") else x
        return xp.asarray(x, dtype=a.dtype)
    if rtol is not None:
        return arr(0 if atol is None else atol), arr(rtol)
    if atol is None:
        return arr(0), arr(default)
    atol = arr(atol)
    return atol, xp.where(atol > 0, a.dtype.type(0), a.dtype.type(default))


def linalg_pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None):
    """The Moore-Penrose pseudo-inverse, from the SVD (``hermitian=True``: from eigh, for
    symmetric A, reading its lower triangle): singular values at most
    max(atol, rtol·σ_max) count as zero. ``rtol`` defaults to eps·max(m, n), or to 0 when
    an ``atol`` > 0 is given; both may be floats or tensors broadcasting over the batch.
    ``rcond`` is PyTorch's deprecated form of ``rtol`` (with atol = 0), and the only way to
    pass ``hermitian`` by position, as in ``pinv(A, 1e-5, True)``.

    Shape: (..., m, n) -> (..., n, m).

    Example::

        mc.linalg.pinv(mc.tensor([[2., 0.], [0., 0.]]))     # [[0.5, 0.], [0., 0.]]
    """
    a = as_tensor_arg(A)
    if rcond is not None:
        if atol is not None or rtol is not None:
            raise TypeError("linalg.pinv: give either rcond (deprecated) or atol/rtol, "
                            "not both")
        atol, rtol = 0, rcond
    _check_matrix("linalg.pinv", a, square=hermitian)
    atol, rtol = _tolerances(a, atol, rtol)
    return Pinv.apply(a, atol=atol, rtol=rtol, hermitian=bool(hermitian))


class LstsqSolve(Function):
    """X = pinv(A, rtol=rcond) B, the minimum-norm least-squares solution of A X = B. The
    gradient is PyTorch's (``linalg_lstsq_backward``), which goes through the untruncated
    P = pinv(A) (default tolerance) whatever ``rcond`` cut: gB = Pᵀ gX,
    gA = pinv_backward(gX Bᵀ, P, A). Saved: A, B."""
    @staticmethod
    def forward(ctx, a, b, rcond):
        ctx.save_for_backward(a, b)
        return _pinv(a, 0, rcond) @ b                                 # (..., n, k)

    @staticmethod
    def backward(ctx, gx):
        a, b = ctx.saved_tensors
        p = _pinv(a, 0, np.finfo(a.dtype).eps * max(a.shape[-2:]))   # (..., n, m)
        ga = _pinv_backward(gx @ _mT(b), p, a) if ctx.needs_input_grad[0] else None
        gb = _mT(p) @ gx if ctx.needs_input_grad[1] else None
        return ga, gb


def pinverse(input, rcond=1e-15):
    """``torch.pinverse``: :func:`linalg_pinv` with ``rtol=rcond``.

    Example::

        mc.pinverse(mc.tensor([[1., 2.]]))      # [[0.2], [0.4]]
    """
    return linalg_pinv(input, rtol=rcond)


# ----------------------------------------------------------------------------- matrix_exp

# Higham (2005), "The scaling and squaring method for the matrix exponential revisited":
# the [13/13] Padé coefficients b_0..b_13 and the largest 1-norm θ₁₃ it serves in float64.
_PADE13 = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
           129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
           40840800., 960960., 16380., 182., 1.)
_THETA13 = 5.371920351148152
_MAX_SQUARINGS = 64     # a bound known without reading the norms (no GPU synchronisation)


def _expm(a):
    """exp(A) for a batch (..., n, n): scale A by 2^-s so that ‖A‖₁ ≤ θ₁₃ (s per matrix),
    take the [13/13] Padé approximant r = (V - U)⁻¹(V + U), square it s times."""
    xp = get_array_module(a)
    if a.shape[-1] == 0:
        return a.copy()
    norm1 = xp.abs(a).sum(axis=-2).max(axis=-1)                       # (...,)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = xp.ceil(xp.log2(norm1 / _THETA13))
    s = xp.clip(xp.where(xp.isfinite(s), s, 0), 0, _MAX_SQUARINGS)   # (...,)
    a = a / (2.0 ** s).astype(a.dtype)[..., None, None]
    b = _PADE13
    eye = _eye_like(a)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2)
             + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 \
        + b[0] * eye
    r = xp.linalg.solve(v - u, v + u)
    steps = int(s.max(initial=0)) if xp is np else _MAX_SQUARINGS     # host value on CPU
    for i in range(steps):
        r = xp.where((i < s)[..., None, None], r @ r, r)
    return r


class MatrixExp(Function):
    """Y = exp(A). Its gradient is the upper-right block of the exponential of a block
    matrix (Mathias 1996; PyTorch's ``differential_analytic_matrix_function``):
    exp([[Aᵀ, G], [0, Aᵀ]]) = [[exp(Aᵀ), gA], [0, exp(Aᵀ)]]. Saved: A."""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _expm(a)

    @staticmethod
    def backward(ctx, gy):
        (a,) = ctx.saved_tensors
        xp = get_array_module(a, gy)
        n = a.shape[-1]
        at = xp.broadcast_to(_mT(a), gy.shape)                        # (..., n, n)
        top = xp.concatenate([at, gy], axis=-1)
        bottom = xp.concatenate([xp.zeros_like(at), at], axis=-1)
        block = xp.concatenate([top, bottom], axis=-2)                # (..., 2n, 2n)
        return _expm(block)[..., :n, n:]


def linalg_matrix_exp(A):
    """The matrix exponential Σ Aᵏ/k! (scaling and squaring with a [13/13] Padé
    approximant, Higham 2005).

    Shape: (..., n, n) -> (..., n, n).

    Example::

        mc.linalg.matrix_exp(mc.tensor([[0., 1.], [0., 0.]]))     # [[1., 1.], [0., 1.]]
    """
    a = as_tensor_arg(A)
    _check_matrix("linalg.matrix_exp", a, square=True)
    return MatrixExp.apply(a)
