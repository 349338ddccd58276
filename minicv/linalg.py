"""``minicv.linalg``, the counterpart of ``torch.linalg``: norms, det, slogdet, inv, solve,
cross, diagonal, matmul, multi_dot, vecdot and matrix_power, with PyTorch's names and
keyword-only arguments. The ops live in :mod:`minicv.ops.linalg` (and the vector norm in
:mod:`minicv.ops.reduce`); this module gives them their ``torch.linalg`` signatures.

No decompositions (svd, eigh, qr, cholesky): minicv leaves out what it cannot
differentiate correctly, and 'nuc' and the spectral norms (ord=±2) of ``matrix_norm`` need
the SVD.
"""
import numpy as np

from .ops import linalg as _L
from .ops import reduce as _R
from .ops.linalg import (LinAlgError, det, slogdet, inv, solve, multi_dot, matmul,
                         matrix_power)
from .tensor import as_tensor_arg

__all__ = ["LinAlgError", "vector_norm", "matrix_norm", "norm", "det", "slogdet", "inv",
           "solve", "cross", "diagonal", "matmul", "multi_dot", "vecdot", "matrix_power"]


def _floating(op, x, dtype):
    """x as a float tensor, converted to ``dtype`` if given; an integer x raises, even with
    a float ``dtype`` (as PyTorch)."""
    x = as_tensor_arg(x)
    if x.dtype.kind != "f":
        raise TypeError(f"linalg.{op}: Expected a floating point tensor as input. Got "
                        f"{x.dtype}: convert it with .float() first")
    return x if dtype is None else x.to(dtype)


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


_MATRIX_ORDS = ("fro", 1, -1, np.inf, -np.inf)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """A matrix norm over the two dims ``dim``: 'fro' (√Σa²), 1 / -1 (the largest /
    smallest column sum of |a|), inf / -inf (the largest / smallest row sum). minicv has
    no 'nuc', 2 or -2 (they need an SVD with its gradient).

    Example::

        mc.linalg.matrix_norm(mc.tensor([[1., -2.], [3., 4.]]), ord=1)    # tensor(6.)
    """
    A = _floating("matrix_norm", A, dtype)
    if A.ndim < 2:
        raise ValueError(f"linalg.matrix_norm: The input tensor A must have at least 2 "
                         f"dimensions, got shape {list(A.shape)}")
    if ord not in _MATRIX_ORDS or isinstance(ord, bool):
        raise ValueError(f"linalg.matrix_norm: Order {ord!r} not supported; minicv has "
                         f"'fro', 1, -1, inf and -inf (no 'nuc', 2 or -2)")
    d0, d1 = (_L._dim(d, A.ndim) for d in dim)
    if d0 == d1:
        raise ValueError(f"linalg.matrix_norm: dims must be different, got ({d0}, {d1})")
    if ord == "fro":
        return _R.norm(A, p=2, dim=(d0, d1), keepdim=keepdim)
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
