"""``minicv.linalg``, the counterpart of ``torch.linalg``: norms, det, slogdet, inv, solve,
cross, diagonal, matmul, multi_dot, vecdot and matrix_power; the decompositions svd,
svdvals, qr, cholesky, cholesky_ex, eigh, eigvalsh; solve_triangular, pinv, lstsq,
matrix_rank, matrix_exp and cond, with PyTorch's names, keyword-only arguments, named
tuples and gradients. The ops live in :mod:`minicv.ops.linalg`, :mod:`minicv.ops.decomp`
(and the vector norm in :mod:`minicv.ops.reduce`); this module gives them their
``torch.linalg`` signatures.
"""
from collections import namedtuple

import numpy as np

from .ops import decomp as _D
from .ops import linalg as _L
from .ops import reduce as _R
from .ops.linalg import (LinAlgError, det, slogdet, inv, solve, multi_dot, matmul,
                         matrix_power)
from .tensor import Tensor, as_tensor_arg

__all__ = ["LinAlgError", "vector_norm", "matrix_norm", "norm", "det", "slogdet", "inv",
           "solve", "cross", "diagonal", "matmul", "multi_dot", "vecdot", "matrix_power",
           "svd", "svdvals", "qr", "cholesky", "cholesky_ex", "eigh", "eigvalsh",
           "solve_triangular", "pinv", "lstsq", "matrix_rank", "matrix_exp", "cond"]

svd, svdvals, qr = _D.linalg_svd, _D.linalg_svdvals, _D.linalg_qr
cholesky, cholesky_ex = _D.linalg_cholesky, _D.linalg_cholesky_ex
eigh, eigvalsh = _D.linalg_eigh, _D.linalg_eigvalsh
solve_triangular, pinv, matrix_exp = (_D.linalg_solve_triangular, _D.linalg_pinv,
                                      _D.linalg_matrix_exp)


def _floating(op, x, dtype):
    """x as a float tensor, converted to ``dtype`` if given; an integer x raises, even with
    a float ``dtype``, and so does a ``dtype`` that would narrow x (as PyTorch)."""
    x = as_tensor_arg(x)
    if x.dtype.kind != "f":
        raise TypeError(f"linalg.{op}: Expected a floating point tensor as input. Got "
                        f"{x.dtype}: convert it with .float() first")
    if dtype is None:
        return x
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"linalg.{op}: dtype should be floating point, but got {dtype}")
    if np.promote_types(x.dtype, dtype) != dtype:
        raise TypeError(f"linalg.{op}: the dtype of the input ({x.dtype}) should be "
                        f"convertible without narrowing to the specified dtype ({dtype}): "
                        f"convert the input with .to({dtype}) first if that is meant")
    return x.to(dtype)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The vector ``ord``-norm (Σ|x|^ord)^(1/ord) over ``dim`` (every element when None):
    ord may be any number, inf (max |x|), -inf (min |x|) or 0 (the count of non-zeros).
    ``dtype`` converts x first.

    Example::

        mc.linalg.vector_norm(mc.tensor([3., 4.]))           # tensor(5.)
    """
    x = _floating("vector_norm", x, dtype)
    if isinstance(ord, str):
        raise ValueError(f"linalg.vector_norm: ord must be a number, got {ord!r}; use "
                         f"matrix_norm for 'fro'")
    if isinstance(dim, int):
        dim = (dim,)
    return _R.norm(x, p=ord, dim=dim, keepdim=keepdim)


_MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf)


def _spectral_norm(A, ord, d0, d1, keepdim):
    """'nuc' (Σσ), 2 (σ_max) or -2 (σ_min) over the dims (d0, d1), from svdvals; 'nuc' and
    2 are 0 for matrices with a zero dim, -2 raises there (as PyTorch)."""
    s = svdvals(A.movedim((d0, d1), (-2, -1)))                        # (..., k)
    if ord == -2 and s.shape[-1] == 0:
        raise IndexError(f"linalg.matrix_norm: ord=-2 (the smallest singular value) is "
                         f"undefined for matrices with a zero dimension, got shape "
                         f"{list(A.shape)} with dim=({d0}, {d1})")
    if ord == "nuc" or s.shape[-1] == 0:
        out = _R.sum(s, dim=-1)
    else:
        out = (_R.amax if ord == 2 else _R.amin)(s, dim=-1)
    if keepdim:
        for d in sorted((d0, d1)):
            out = out.unsqueeze(d)
    return out


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """A matrix norm over the two dims ``dim``: 'fro' (√Σa²), 'nuc' (the sum of the
    singular values), 2 / -2 (the largest / smallest singular value), 1 / -1 (the largest /
    smallest column sum of |a|), inf / -inf (the largest / smallest row sum).

    Example::

        mc.linalg.matrix_norm(mc.tensor([[1., -2.], [3., 4.]]), ord=1)    # tensor(6.)
    """
    A = _floating("matrix_norm", A, dtype)
    if A.ndim < 2:
        raise ValueError(f"linalg.matrix_norm: The input tensor A must have at least 2 "
                         f"dimensions, got shape {list(A.shape)}")
    if ord not in _MATRIX_ORDS or isinstance(ord, bool):
        raise ValueError(f"linalg.matrix_norm: Order {ord!r} not supported; use 'fro', "
                         f"'nuc', 1, -1, 2, -2, inf or -inf")
    d0, d1 = (_L._dim(d, A.ndim) for d in dim)
    if d0 == d1:
        raise ValueError(f"linalg.matrix_norm: dims must be different, got ({d0}, {d1})")
    if ord == "fro":
        return _R.norm(A, p=2, dim=(d0, d1), keepdim=keepdim)
    if ord in ("nuc", 2, -2):
        return _spectral_norm(A, ord, d0, d1, keepdim)
    summed, reduced = (d0, d1) if ord in (1, -1) else (d1, d0)     # columns for ±1
    sums = _R.sum(A.abs(), dim=summed, keepdim=True)
    pick = _R.amax if ord > 0 else _R.amin
    out = pick(sums, dim=reduced, keepdim=True)
    return out if keepdim else out.squeeze((d0, d1))


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """A vector norm when ``dim`` is an int (or A is 1-D), a matrix norm when ``dim`` is
    a pair (or A is 2-D and ``ord`` is given); ``ord=None`` with ``dim=None`` is the
    2-norm of every element.

    Example::

        mc.linalg.norm(mc.tensor([[1., 2.], [2., 4.]]))           # tensor(5.)
    """
    A = as_tensor_arg(A)
    if isinstance(dim, int) or (isinstance(dim, (tuple, list)) and len(dim) == 1):
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if dim is not None:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise ValueError(f"linalg.norm: If dim is not specified but ord is, the input must be "
                     f"1D or 2D. Got {A.ndim}D")


def cross(input, other, *, dim=-1):
    """Cross product of 3-vectors along ``dim``, batch dims broadcasting.

    Example::

        mc.linalg.cross(mc.tensor([1., 0., 0.]), mc.tensor([0., 1., 0.]))   # [0., 0., 1.]
    """
    return _L.linalg_cross(input, other, dim=dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonal of the matrices over the last two dims (a view), as
    :func:`minicv.diagonal` with other defaults.

    Example::

        mc.linalg.diagonal(mc.eye(3).expand(2, 3, 3)).shape        # (2, 3)
    """
    return _L.diagonal(A, offset, dim1, dim2)


def vecdot(x, y, *, dim=-1):
    """Σ x·y over ``dim`` (the dot product of vectors along ``dim``), broadcasting.

    Example::

        mc.linalg.vecdot(mc.tensor([[1., 2.], [3., 4.]]), mc.tensor([1., 1.]))   # [3., 7.]
    """
    from .ops.elementwise import mul
    return _R.sum(mul(x, y), dim=dim)


# ----------------------------------------------------------------------------- lstsq, rank

LstsqResult = namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def _empty(dtype, device):
    from .factories import zeros
    return zeros(0, dtype=dtype, device=device)


def _lstsq_rhs(a, b):
    """(B as a matrix (..., m, k), whether it was a vector), by PyTorch's rule: B is a
    vector when it is 1-D or has A's shape without its last dim."""
    if b.ndim < 1 or not 0 <= a.ndim - b.ndim <= 1:
        raise ValueError(f"linalg.lstsq: input.dim() must be greater or equal to "
                         f"other.dim() and (input.dim() - other.dim()) <= 1, got shapes "
                         f"{list(a.shape)} and {list(b.shape)}")
    vector = b.ndim == 1 or tuple(b.shape) == tuple(a.shape[:-1])
    if vector:
        b = b.unsqueeze(-1)                                           # (..., m, 1)
    if b.shape[-2] != a.shape[-2]:
        raise ValueError(f"linalg.lstsq: input.size(-2) should match other.size(-2), "
                         f"got shapes {list(a.shape)} and {list(b.shape)}")
    return b, vector


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution X of min ‖A X - B‖ (the minimum-norm one for rank-deficient
    A), computed as pinv(A, rtol=rcond) B, with PyTorch's gradient (which goes through
    pinv(A) with the default tolerance, whatever ``rcond`` cut). ``rcond`` defaults to
    eps·max(m, n); the driver 'gels' ignores it (as PyTorch's). The other fields follow
    PyTorch's CPU drivers: ``rank`` for 'gelsy' (the default on the CPU), 'gelsd' and
    'gelss'; ``singular_values`` for 'gelsd' and 'gelss'; ``residuals`` (the squared
    residual norm of each column) when m > n, for 'gels', and for 'gelsd'/'gelss' when
    every matrix has full rank; empty tensors otherwise. On a GPU only 'gels' exists (as in
    PyTorch). Deliberate differences: 'gelsy' also gives the minimum-norm solution
    (LAPACK's is a basic one), and ``residuals`` carry their true gradient (PyTorch's
    backward ignores theirs).

    Shape: A (..., m, n), B (..., m, k) or (..., m) -> solution (..., n, k) or (..., n),
    residuals (..., k), rank (...), singular_values (..., min(m, n)). B is a vector when
    it is 1-D or of shape A.shape[:-1]. As in PyTorch, a matrix B with one dim less than A
    gives a solution whose batch is broadcast(A.shape[:-2], B.shape[:-1]).

    Example::

        mc.linalg.lstsq(mc.tensor([[1., 0.], [0., 1.], [0., 0.]]), mc.tensor([1., 2., 3.]))
    """
    a, b = as_tensor_arg(A), as_tensor_arg(B)
    _L._check_matrix("linalg.lstsq", a)
    if a.dtype != b.dtype:
        raise TypeError(f"linalg.lstsq: Expected input and other to have the same "
                        f"dtype, but got input's dtype {a.dtype} and other's dtype {b.dtype}")
    on_cpu = a.device.type == "cpu"
    driver = driver or ("gelsy" if on_cpu else "gels")
    if driver not in _DRIVERS:
        raise ValueError(f"linalg.lstsq: parameter `driver` should be one of "
                         f"(gels, gelsy, gelsd, gelss), got {driver!r}")
    if not on_cpu and driver != "gels":
        raise ValueError("linalg.lstsq: `driver` other than `gels` is not supported "
                         "on CUDA")
    b, vector = _lstsq_rhs(a, b)
    m, n = a.shape[-2:]
    if rcond is None or driver == "gels":
        rcond = np.finfo(a.dtype).eps * max(m, n)
    x = _D.LstsqSolve.apply(a, b, rcond=float(rcond))                 # (..., n, k)
    if b.ndim < a.ndim:
        # PyTorch takes the solution's batch from A's batch and B's leading dims
        batch = np.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-1]))
        x = x.expand(batch + tuple(x.shape[-2:]))
    s = svdvals(a.detach())
    rank = _empty(np.int64, a.device)
    if driver != "gels":                        # rcond alone sets the cut: no atol floor
        rank = Tensor(_D._above_tol(s.data, -np.inf, rcond).sum(axis=-1).astype(np.int64))
    residuals = _empty(a.dtype, a.device)
    if m > n and (driver == "gels" or (driver != "gelsy" and bool((rank == n).all()))):
        residuals = _R.sum((matmul(a, x) - b) ** 2, dim=-2)           # (..., k)
    singular = s if driver in ("gelsd", "gelss") else _empty(a.dtype, a.device)
    return LstsqResult(x.squeeze(-1) if vector else x, residuals, rank, singular)


def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None):
    """The number of singular values (|eigenvalues| when ``hermitian``) above
    max(atol, rtol·σ_max); ``rtol`` defaults to eps·max(m, n), or to 0 when an ``atol`` > 0
    is given. ``tol`` is PyTorch's deprecated form of ``atol`` (with rtol = 0), and the only
    way to pass ``hermitian`` by position, as in ``matrix_rank(A, 1e-5, True)``. An int64
    tensor, without gradient.

    Shape: (..., m, n) -> (...).

    Example::

        mc.linalg.matrix_rank(mc.tensor([[1., 2.], [2., 4.]]))     # tensor(1)
    """
    a = as_tensor_arg(A)
    if tol is not None:
        if atol is not None or rtol is not None:
            raise TypeError("linalg.matrix_rank: give either tol (deprecated) or atol/rtol, "
                            "not both")
        atol, rtol = tol, 0
    _L._check_matrix("linalg.matrix_rank", a, square=hermitian)
    s = _D._singular_values(a.data, hermitian)                        # (..., k)
    atol, rtol = _D._tolerances(a, atol, rtol)
    return Tensor(_D._above_tol(s, atol, rtol).sum(axis=-1).astype(np.int64))


_COND_ORDS = ("fro", "nuc", np.inf, -np.inf, 1, -1)


def cond(A, p=None):
    """The condition number of A in the norm ``p``: σ_max/σ_min for p = None or 2, σ_min/σ_max
    for -2 (any m x n); ‖A‖_p ‖A⁻¹‖_p for 'fro', 'nuc', inf, -inf, 1, -1 (square A, inf
    where A is singular, as PyTorch); 0 for matrices with a zero dim (as PyTorch).

    Shape: (..., m, n) -> (...).

    Example::

        mc.linalg.cond(mc.tensor([[1., 0.], [0., 4.]]))      # tensor(4.)
    """
    from .ops.elementwise import where
    from .factories import eye, zeros
    a = _floating("cond", A, None)
    _L._check_matrix("linalg.cond", a)
    spectral = p is None or (p in (2, -2) and not isinstance(p, bool))
    if not spectral and (p not in _COND_ORDS or isinstance(p, bool)):
        raise ValueError(f"linalg.cond got an invalid norm type: {p!r}; use None, 2, -2, "
                         f"'fro', 'nuc', inf, -inf, 1 or -1")
    if isinstance(p, str):
        _L._check_matrix(f"linalg.cond(ord={p})", a, square=True)
    if a.numel() == 0:                                # NumPy leaves it undefined; PyTorch: 0
        return zeros(tuple(a.shape[:-2]), dtype=a.dtype, device=a.device)
    if spectral:
        s = svdvals(a)
        big, small = s[..., 0], s[..., -1]
        return big / small if p != -2 else small / big
    _L._check_matrix(f"linalg.cond(ord={p})", a, square=True)
    singular = (det(a.detach()) == 0).unsqueeze(-1).unsqueeze(-1)    # (..., 1, 1)
    safe = where(singular, eye(a.shape[-1], dtype=a.dtype, device=a.device), a)
    out = matrix_norm(a, p) * matrix_norm(inv(safe), p)
    return where(singular[..., 0, 0], float("inf"), out)
