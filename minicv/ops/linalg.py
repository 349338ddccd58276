"""Matrix products: ``matmul`` with NumPy's 1-D, 2-D and batched-broadcast rules."""
import numpy as np

from ..autograd import Function
from .elementwise import promote
from ..tensor import as_tensor_arg


def _matmul(a, b):
    """``np.matmul(a, b)``; 2-D NumPy products on minicv's threads
    (``kernels/cpu/blas.matmul``)."""
    if type(a) is np.ndarray and a.ndim == 2 and a.size * b.size >= 1 << 12:
        from ..kernels.cpu.blas import matmul
        return matmul(a, b)
    return np.matmul(a, b)


class MatMul(Function):
    """C = A @ B; dA = dC @ Bᵀ, dB = Aᵀ @ dC (batch axes summed by the engine).

    1-D operands are promoted to matrices (a row for A, a column for B) for the
    backward formulas, then the added axis is removed again.
    """
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _matmul(a, b)

    @staticmethod
    def backward(ctx, gc):
        a, b = ctx.saved_tensors
        a2 = a[None, :] if a.ndim == 1 else a              # (.., n, k)
        b2 = b[:, None] if b.ndim == 1 else b              # (.., k, m)
        out2 = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]) + (a2.shape[-2],
                                                                    b2.shape[-1])
        gc2 = gc.reshape(out2)                             # (.., n, m)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = _matmul(gc2, np.swapaxes(b2, -1, -2))     # (.., n, k)
            if a.ndim == 1:
                ga = ga.reshape(-1, a.shape[0]).sum(axis=0)
        if ctx.needs_input_grad[1]:
            gb = _matmul(np.swapaxes(a2, -1, -2), gc2)     # (.., k, m)
            if b.ndim == 1:
                gb = gb.reshape(-1, b.shape[0]).sum(axis=0)
        return ga, gb


def matmul(a, b):
    """Matrix product with broadcasting over batch dimensions (``a @ b``).

    Shape: (*, n, k) @ (*, k, m) -> (*, n, m); a 1-D operand is a vector.
    """
    a, b = as_tensor_arg(a), as_tensor_arg(b)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        sa = "x".join(map(str, a.shape))
        sb = "x".join(map(str, b.shape))
        raise ValueError(f"matmul: shapes cannot be multiplied ({sa} and {sb}): the last "
                         f"dimension of the first ({ka}) must equal the "
                         f"{'first' if b.ndim == 1 else 'second-to-last'} dimension of the "
                         f"second ({kb})")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dimensions {a.shape[:-2]} and {b.shape[:-2]} do not "
                         f"broadcast (shapes {tuple(a.shape)} and {tuple(b.shape)})") from None
    a, b = promote(a, b)
    return MatMul.apply(a, b)


def _check_rank(name, a, b, ranks):
    if (a.ndim, b.ndim) != ranks:
        raise ValueError(f"{name} expects {ranks[0]}-D and {ranks[1]}-D tensors, got shapes "
                         f"{list(a.shape)} and {list(b.shape)}; matmul (@) broadcasts any ranks")


def mm(input, mat2):
    """Matrix product of two 2-D tensors: (n, k) @ (k, m) -> (n, m)."""
    a, b = as_tensor_arg(input), as_tensor_arg(mat2)
    _check_rank("mm", a, b, (2, 2))
    return matmul(a, b)


def bmm(input, mat2):
    """Batched matrix product of 3-D tensors: (B, n, k) @ (B, k, m) -> (B, n, m)."""
    a, b = as_tensor_arg(input), as_tensor_arg(mat2)
    _check_rank("bmm", a, b, (3, 3))
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"bmm: batch sizes differ: shapes {list(a.shape)} and "
                         f"{list(b.shape)}")
    return matmul(a, b)


def dot(input, other):
    """Inner product of two 1-D tensors of the same length."""
    a, b = as_tensor_arg(input), as_tensor_arg(other)
    _check_rank("dot", a, b, (1, 1))
    return matmul(a, b)


def outer(input, vec2):
    """Outer product of two 1-D tensors: (n,) x (m,) -> (n, m)."""
    a, b = as_tensor_arg(input), as_tensor_arg(vec2)
    _check_rank("outer", a, b, (1, 1))
    return matmul(a.reshape(-1, 1), b.reshape(1, -1))
