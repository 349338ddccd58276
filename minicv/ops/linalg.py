"""Linear algebra. Matrix products (``matmul`` with NumPy's 1-D, 2-D and batched-broadcast
rules, mm, bmm, dot, outer, the add-product family addmm/addmv/addr/baddbmm/addbmm,
addcmul/addcdiv, einsum, tensordot, inner, kron, multi_dot, matrix_power); the
matrix-shaped selections tril, triu, diag, diagonal, diag_embed, block_diag; cross products,
combinatorics (cartesian_prod, combinations, tril/triu_indices, vander); cdist; and the
LAPACK-backed det, slogdet, inv and solve (``numpy.linalg`` / ``cupy.linalg``)."""
from collections import namedtuple

import numpy as np

from ..autograd import Function
from ..backend import get_array_module
from .elementwise import promote
from .shape import _dim
from ..tensor import Tensor, as_tensor_arg, _fits


def _matmul(a, b):
    """``np.matmul(a, b)``; 2-D NumPy products on minicv's threads
    (``kernels/cpu/blas.matmul``), and so (..., n, k) @ (k, m) as one (·n, k) @ (k, m)
    product (a Linear on a sequence); other batched ones with OpenBLAS on one thread
    (``kernels/cpu/blas.batched_matmul``)."""
    if type(a) is np.ndarray and a.size * b.size >= 1 << 12:
        from ..kernels.cpu import blas
        if a.ndim > 2 and b.ndim == 2:
            out = blas.matmul(a.reshape(-1, a.shape[-1]), b)                # (·n, m)
            return out.reshape(a.shape[:-1] + b.shape[-1:])
        return blas.matmul(a, b) if a.ndim == 2 else blas.batched_matmul(a, b)
    return np.matmul(a, b)


class MatMul(Function):
    """C = A @ B; dA = dC @ Bᵀ, dB = Aᵀ @ dC (batch axes summed by the engine).

    1-D operands are promoted to matrices (a row for A, a column for B) for the
    backward formulas, then the added axis is removed again.
    """
    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad            # dA reads B, dB reads A
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        ctx.shapes = a.shape, b.shape
        return _matmul(a, b)

    @staticmethod
    def backward(ctx, gc):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        sa2 = (1,) + sa if len(sa) == 1 else sa            # (.., n, k)
        sb2 = sb + (1,) if len(sb) == 1 else sb            # (.., k, m)
        out2 = np.broadcast_shapes(sa2[:-2], sb2[:-2]) + (sa2[-2], sb2[-1])
        gc2 = gc.reshape(out2)                             # (.., n, m)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = _matmul(gc2, np.swapaxes(b.reshape(sb2), -1, -2))     # (.., n, k)
            if len(sa) == 1:                                # sum the batch and row axes
                ga = ga.sum(axis=tuple(range(ga.ndim - 1)))
        if ctx.needs_input_grad[1] and len(sb) == 2 and len(sa) > 2:
            # B shared by the batch: one (k, ·n) @ (·n, m) product sums it as it goes
            rows, (k, m) = int(np.prod(sa[:-1])), sb
            gb = _matmul(a.reshape(rows, k).T, gc2.reshape(rows, m))      # (k, m)
        elif ctx.needs_input_grad[1]:
            gb = _matmul(np.swapaxes(a.reshape(sa2), -1, -2), gc2)     # (.., k, m)
            if len(sb) == 1:                                # (.., k, 1) -> (k,)
                gb = gb[..., 0].sum(axis=tuple(range(gb.ndim - 2)))
        return ga, gb


def matmul(input, other):
    """Matrix product with broadcasting over batch dimensions (``input @ other``). Both
    operands must have one dtype, as in PyTorch (mm, bmm, dot and mv call this).

    Shape: (*, n, k) @ (*, k, m) -> (*, n, m); a 1-D operand is a vector.
    """
    a, b = as_tensor_arg(input), as_tensor_arg(other)
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
    _check_batch("matmul", a, b)
    if a.dtype != b.dtype:              # PyTorch does not promote matrix products either
        raise TypeError(f"matmul: expected both operands to have the same dtype, but got "
                        f"{a.dtype} and {b.dtype}: convert one first, e.g. "
                        f"other.to({a.dtype})")
    return MatMul.apply(a, b)


def _check_batch(op, *tensors):
    """Raise unless the batch dims of the tensors (all but their last two) broadcast."""
    try:
        np.broadcast_shapes(*(t.shape[:-2] for t in tensors))
    except ValueError:
        def listing(items):
            items = [str(i) for i in items]
            return ", ".join(items[:-1]) + " and " + items[-1]
        raise ValueError(f"{op}: batch dimensions {listing(t.shape[:-2] for t in tensors)} do "
                         f"not broadcast (shapes {listing(tuple(t.shape) for t in tensors)})"
                         ) from None


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


def dot(input, tensor):
    """Inner product of two 1-D tensors of the same length (PyTorch names the second
    argument ``tensor``)."""
    a, b = as_tensor_arg(input), as_tensor_arg(tensor)
    _check_rank("dot", a, b, (1, 1))
    return matmul(a, b)


def outer(input, vec2):
    """Outer product of two 1-D tensors: (n,) x (m,) -> (n, m)."""
    a, b = as_tensor_arg(input), as_tensor_arg(vec2)
    _check_rank("outer", a, b, (1, 1))
    a, b = promote(a, b)                # an outer product promotes, as a multiplication
    return matmul(a.reshape(-1, 1), b.reshape(1, -1))


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """out = beta·input + alpha·(mat1 @ mat2), a linear layer's affine map in one call
    (``addmm(b, x, W.T)``). ``input`` broadcasts to (n, m). With ``beta=0`` input is
    ignored, so a NaN in it does not reach the output (its gradient is zero), as in
    PyTorch. For integer tensors alpha and beta are truncated to integers, as PyTorch does.

    Gradients: d input = beta·g (summed to input's shape), d mat1 = alpha·g @ mat2ᵀ,
    d mat2 = alpha·mat1ᵀ @ g, composed from matmul, mul and add.

    Shape: input (n, m) or broadcastable to it, mat1 (n, k), mat2 (k, m) -> (n, m).

    Example::

        mc.addmm(mc.zeros(2), mc.ones(3, 4), mc.ones(4, 2), alpha=0.5)   # all 2.0
    """
    c, a, b = as_tensor_arg(input), as_tensor_arg(mat1), as_tensor_arg(mat2)
    for name, t in (("mat1", a), ("mat2", b)):
        if t.ndim != 2:
            raise ValueError(f"addmm: {name} must be a matrix, got a {t.ndim}-D tensor of "
                             f"shape {list(t.shape)}")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"addmm: mat1 and mat2 shapes cannot be multiplied "
                         f"({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
    _check_add_product("addmm", c, {"mat1": a, "mat2": b}, (a.shape[0], b.shape[1]))
    return _add_product(c, matmul(a, b), beta, alpha)


def _check_add_product(op, c, operands, shape):
    """The checks shared by addmm, addmv, addr, baddbmm and addbmm: one dtype for all
    operands, and ``input`` (c) broadcasting to the product's ``shape``."""
    names = ["input"] + list(operands)
    dtypes = [c.dtype] + [t.dtype for t in operands.values()]
    if len(set(dtypes)) > 1:
        raise TypeError(f"{op}: {', '.join(names[:-1])} and {names[-1]} must have the same "
                        f"dtype, got {', '.join(map(str, dtypes[:-1]))} and {dtypes[-1]}: "
                        f"convert them (e.g. .float())")
    if not _fits(c.shape, tuple(shape)):
        raise ValueError(f"{op}: input of shape {list(c.shape)} does not broadcast to the "
                         f"product's shape {list(shape)}")


def _add_product(c, prod, beta, alpha):
    """beta·c + alpha·prod. With ``beta=0`` c is not read (a NaN in it does not reach the
    output, its gradient is 0); integer tensors truncate alpha and beta to integers."""
    from .elementwise import add, mul, where
    if c.dtype.kind in "iub":
        alpha, beta = int(alpha), int(beta)
    if alpha != 1:
        prod = mul(prod, alpha)
    if beta == 0:          # where(False, ...): input's values never read, its gradient 0
        return where(get_array_module(prod.data).asarray(False), c, prod)
    return add(c if beta == 1 else mul(c, beta), prod)


# ----------------------------------------------------------------------------- einsum

class Einsum(Function):
    """out = einsum("s_1,...,s_n->s_out", x_1, ..., x_n), with every subscript explicit
    (one letter per dim, no "...") and every x_k already broadcast to the letters' sizes.

    The gradient of operand k is itself an einsum: contract the output gradient with the
    other operands onto s_k. Two extra kinds of operand make that always expressible:
    a ones tensor for the letters only x_k has (summed away in the forward pass, so its
    gradient is broadcast along them), and an identity matrix per repeated letter of s_k
    (a diagonal such as "ii": the gradient lands on the diagonal, zeros elsewhere).
    """
    @staticmethod
    def forward(ctx, *arrays, subs, out, sizes):
        needs = ctx.needs_input_grad      # operand j is read by the gradients of the others
        ctx.save_for_backward(*(a if any(n for k, n in enumerate(needs) if k != j) else None
                                for j, a in enumerate(arrays)))
        ctx.subs, ctx.out, ctx.sizes = subs, out, sizes
        xp = get_array_module(*arrays)
        return xp.asarray(xp.einsum(",".join(subs) + "->" + out, *arrays, optimize=True))

    @staticmethod
    def backward(ctx, gy):
        arrays = ctx.saved_tensors
        xp = get_array_module(gy)
        grads = []
        for k, needed in enumerate(ctx.needs_input_grad):
            if not needed:
                grads.append(None)
                continue
            terms = [(ctx.out, gy)] + [(s, a) for j, (s, a) in
                                       enumerate(zip(ctx.subs, arrays)) if j != k]
            used = set(ctx.out).union(*ctx.subs)
            fresh = iter(c for c in _LETTERS if c not in used)
            target = ""
            for letter in ctx.subs[k]:
                if letter in target:            # repeated: the gradient is on the diagonal
                    other = next(fresh)
                    terms.append((letter + other, xp.eye(ctx.sizes[letter], dtype=gy.dtype)))
                    letter = other
                target += letter
            seen = "".join(s for s, _ in terms)
            only_here = "".join(c for c in target if c not in seen)
            if only_here:                       # summed away in forward: broadcast back
                ones = xp.ones([ctx.sizes[c] for c in only_here], gy.dtype)
                terms.append((only_here, ones))
            spec = ",".join(s for s, _ in terms) + "->" + target
            grads.append(xp.einsum(spec, *(a for _, a in terms), optimize=True))
        return tuple(grads)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _einsum_subscripts(equation, shapes):
    """The subscripts of ``equation`` with "..." spelled out in fresh letters, and the
    output made explicit (NumPy's and PyTorch's implicit rule: the ellipsis dims, then
    the letters used once, in alphabetical order)."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    subs = lhs.split(",")
    if len(subs) != len(shapes):
        raise ValueError(f"einsum: the equation {equation!r} names {len(subs)} operands but "
                         f"{len(shapes)} were given")
    for part in subs + [rhs]:
        bad = set(part.replace("...", "")) - set(_LETTERS)
        if bad:
            raise ValueError(f"einsum: invalid subscript {sorted(bad)[0]!r} in {equation!r}: "
                             f"use letters a-z, A-Z and '...'")
    n_ell = [len(shape) - (len(s) - 3) if "..." in s else 0 for s, shape in zip(subs, shapes)]
    free = [c for c in _LETTERS if c not in eq]
    ell = "".join(free[:max(n_ell, default=0)])
    subs = [s.replace("...", ell[len(ell) - n:]) for s, n in zip(subs, n_ell)]
    if arrow:
        out = rhs.replace("...", ell)
    else:
        letters = "".join(subs)
        out = ell + "".join(sorted(c for c in set(letters) - set(ell)
                                   if letters.count(c) == 1))
    for s, shape in zip(subs, shapes):
        if len(s) != len(shape):
            raise ValueError(f"einsum: subscripts {s!r} do not match an operand of shape "
                             f"{list(shape)} in {equation!r}")
    return subs, out


def _sublist_equation(args):
    """PyTorch's sublist form, ``einsum(a, [0, 1], b, [1, 2], [0, 2])``, as an equation and
    its operands: ``"Ab,bC->AC"``-style letters for the ints 0-51 (0-25 -> A-Z, 26-51 ->
    a-z, PyTorch's order, so the implicit output is the same) and "..." for ``Ellipsis``.
    An odd number of arguments ends with the output sublist."""
    def letters(sublist, where):
        if not isinstance(sublist, (list, tuple)):
            raise TypeError(f"einsum: expected a sublist (a list of ints 0-51 and ...) as "
                            f"{where}, got {type(sublist).__name__}: call einsum(a, [0, 1], "
                            f"b, [1, 2], [0, 2]) or use an equation string")
        out = ""
        for s in sublist:
            if s is Ellipsis:
                out += "..."
            elif isinstance(s, (int, np.integer)) and not isinstance(s, bool) and 0 <= s < 52:
                out += chr(ord("A") + s) if s < 26 else chr(ord("a") + s - 26)
            else:
                raise ValueError(f"einsum: subscript {s!r} in sublist {list(sublist)} must be "
                                 f"an int in [0, 52) or ... (Ellipsis)")
        return out
    operands, subs = args[0:len(args) - len(args) % 2:2], args[1::2]
    lhs = ",".join(letters(s, f"argument {2 * i + 1}") for i, s in enumerate(subs))
    if len(args) % 2:
        lhs += "->" + letters(args[-1], "the last argument (the output sublist)")
    return lhs, operands


def einsum(equation, *operands):
    """Einstein summation: the product of the operands summed over the letters that are not
    in the output, e.g. "ij,jk->ik" (matmul), "bij,bjk->bik" (bmm), "ii" (trace),
    "...ij->...ji" (transpose). Size-1 dims broadcast, as in PyTorch; operands must share
    one dtype. Differentiable in every operand.

    PyTorch's sublist form is accepted too: each operand followed by a list of ints (0-51)
    naming its dims, ``...`` for an ellipsis, and optionally the output's list last.

    Example::

        a, b = mc.randn(2, 3), mc.randn(3, 4)
        mc.einsum("ij,jk->ik", a, b)          # == a @ b, shape (2, 4)
        mc.einsum(a, [0, 1], b, [1, 2], [0, 2])   # the same, in sublist form
    """
    if not isinstance(equation, str):
        equation, operands = _sublist_equation((equation,) + operands)
    elif len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])              # einsum(eq, [a, b]), as PyTorch allows
    tensors = [as_tensor_arg(t) for t in operands]
    if len({t.dtype for t in tensors}) > 1:
        raise TypeError(f"einsum: operands must have one dtype, got "
                        f"{[t.dtype.name for t in tensors]}: convert them with .to()")
    subs, out = _einsum_subscripts(equation, [t.shape for t in tensors])
    sizes = {}
    for s, t in zip(subs, tensors):
        for letter, n in zip(s, t.shape):
            old = sizes.get(letter, 1)
            if n != 1 and old not in (1, n):
                raise ValueError(f"einsum: letter {letter!r} has sizes {old} and {n} in "
                                 f"{equation!r}: sizes must match or be 1")
            sizes[letter] = n if old == 1 else old
    if set(out) - set("".join(subs)) or len(set(out)) != len(out):
        raise ValueError(f"einsum: output subscripts {out!r} must be distinct letters that "
                         f"appear in the inputs ({equation!r})")
    for i, (s, t) in enumerate(zip(subs, tensors)):
        shape = tuple(sizes[c] for c in s)
        if t.shape != shape:                     # broadcast size-1 dims, as PyTorch
            tensors[i] = t.expand(*shape)
    return Einsum.apply(*tensors, subs=tuple(subs), out=out, sizes=sizes)


# ----------------------------------------------------------------------------- triangles

class Triangle(Function):
    """The lower (``upper=False``) or upper triangle of the last two dims, the rest zeroed;
    the gradient is the same triangle of the upstream gradient."""
    @staticmethod
    def forward(ctx, x, diagonal, upper):
        xp = get_array_module(x)
        ctx.diagonal, ctx.upper = diagonal, upper
        return xp.triu(x, diagonal) if upper else xp.tril(x, diagonal)

    @staticmethod
    def backward(ctx, gy):
        xp = get_array_module(gy)
        return (xp.triu if ctx.upper else xp.tril)(gy, ctx.diagonal), None, None


def _triangle(name, input, diagonal, upper):
    x = as_tensor_arg(input)
    if x.ndim < 2:
        raise ValueError(f"{name}: input must have at least 2 dimensions (a matrix or a "
                         f"batch of them), got shape {list(x.shape)}")
    return Triangle.apply(x, int(diagonal), upper)


def tril(input, diagonal=0):
    """The lower triangle of the last two dims: entries (i, j) with j - i <= diagonal are
    kept, the others set to 0 (``diagonal`` > 0 keeps diagonals above the main one).

    Example::

        mc.tril(mc.ones(3, 3))          # ones on and below the diagonal
    """
    return _triangle("tril", input, diagonal, upper=False)


def triu(input, diagonal=0):
    """The upper triangle of the last two dims: entries with j - i >= diagonal are kept.

    Example::

        mc.triu(mc.ones(3, 3), 1)       # a causal-attention mask: ones above the diagonal
    """
    return _triangle("triu", input, diagonal, upper=True)


class Diag(Function):
    """A 1-D input becomes a square matrix with it on diagonal ``k``; a 2-D input gives
    its diagonal ``k`` as a 1-D tensor. Each is the other's gradient."""
    @staticmethod
    def forward(ctx, x, k):
        ctx.shape, ctx.k = x.shape, k
        return get_array_module(x).diag(x, k).copy()      # NumPy's is a read-only view

    @staticmethod
    def backward(ctx, gy):
        xp = get_array_module(gy)
        if len(ctx.shape) == 1:
            return xp.diagonal(gy, ctx.k).copy(), None
        gx = xp.zeros(ctx.shape, gy.dtype)
        n = gy.shape[0]
        rows = xp.arange(n) + max(-ctx.k, 0)
        gx[rows, rows + ctx.k] = gy
        return gx, None


def diag(input, diagonal=0):
    """Vector to diagonal matrix, or matrix to its diagonal (``diagonal`` > 0: above the
    main one, < 0: below).

    Shape: (n,) -> (n + |diagonal|, n + |diagonal|); (n, m) -> (length of that diagonal,).

    Example::

        mc.diag(mc.tensor([1., 2.]))                      # [[1., 0.], [0., 2.]]
        mc.diag(mc.arange(9.).reshape(3, 3))              # tensor([0., 4., 8.])
    """
    x = as_tensor_arg(input)
    if x.ndim not in (1, 2):
        raise ValueError(f"diag: input must be 1-D or 2-D, got shape {list(x.shape)}; use "
                         f"diagonal() for batches")
    return Diag.apply(x, int(diagonal))


# ----------------------------------------------------------------------------- diagonals

def _diagonal_view(a, offset, dim1, dim2):
    """A view of diagonal ``offset`` of ``a`` over (dim1, dim2), moved last; writable
    when ``a`` is, as CuPy's (NumPy's is read-only only to warn about the sharing)."""
    d = get_array_module(a).diagonal(a, offset, dim1, dim2)
    if type(d) is np.ndarray and a.flags.writeable:
        d.flags.writeable = True
    return d


def _embed_diagonal(values, shape, offset, dim1, dim2):
    """Zeros of ``shape`` with ``values`` (..., n) on diagonal ``offset`` over (dim1, dim2):
    the inverse of :func:`_diagonal_view`, written with an index assignment."""
    xp = get_array_module(values)
    out = xp.zeros(shape, values.dtype)
    square = xp.moveaxis(out, (dim1, dim2), (-2, -1))             # a view: (..., n1, n2)
    rows = xp.arange(values.shape[-1]) + max(-offset, 0)
    square[..., rows, rows + offset] = values
    return out


class Diagonal(Function):
    """y = the diagonal ``offset`` of x over (dim1, dim2), as a last dim; a view of x.
    The gradient is zero except on that diagonal, where it is gy."""
    is_view = True

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.shape, ctx.args = x.shape, (offset, dim1, dim2)
        return _diagonal_view(x, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, gy):
        return _embed_diagonal(gy, ctx.shape, *ctx.args), None, None, None


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal ``offset`` (> 0: above the main one) of the matrices over dims
    (dim1, dim2), as a new last dimension. A view, as in PyTorch: in-place changes of
    the result reach ``input``.

    Shape: (..., n, ..., m, ...) -> (..., length of the diagonal).

    Example::

        x = mc.arange(24.).reshape(2, 3, 4)
        mc.diagonal(x, 1, 0, 2)             # shape (3, 2): x[0, :, 1] and x[1, :, 2]
    """
    x = as_tensor_arg(input)
    n = max(x.ndim, 1)
    dim1, dim2 = _dim(dim1, n), _dim(dim2, n)
    if dim1 == dim2:
        raise ValueError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if x.ndim < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], "
                         f"but got 1): diagonal needs at least 2 dimensions, got shape "
                         f"{list(x.shape)}")
    return Diagonal.apply(x, int(offset), dim1, dim2)


def trace(input):
    """The sum of the main diagonal of a matrix; integers give int64.

    Example::

        mc.trace(mc.arange(9.).reshape(3, 3))      # tensor(12.)
    """
    from .reduce import sum
    x = as_tensor_arg(input)
    if x.ndim != 2:
        raise ValueError(f"trace: expected a matrix, but got tensor with dim {x.ndim} "
                         f"(shape {list(x.shape)}); use diagonal(...).sum(-1) for batches")
    return sum(diagonal(x))


class DiagEmbed(Function):
    """Matrices (over dims dim1, dim2 of the output) with the last dim of x on their
    diagonal ``offset``, zeros elsewhere; the gradient is that diagonal of gy."""
    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.args = offset, dim1, dim2
        m = x.shape[-1] + abs(offset)
        shape = list(x.shape[:-1])
        for d in sorted((dim1, dim2)):
            shape.insert(d, m)                                   # the two new dims
        return _embed_diagonal(x, tuple(shape), offset, dim1, dim2)

    @staticmethod
    def backward(ctx, gy):
        return get_array_module(gy).diagonal(gy, *ctx.args).copy(), None, None, None


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """The inverse of :func:`diagonal`: each vector along the last dim of ``input``
    becomes the diagonal ``offset`` of a square matrix over dims (dim1, dim2) of the
    output; ``out.diagonal(offset, dim1, dim2) == input``.

    Shape: (..., n) -> one more dimension, dims dim1 and dim2 of size n + |offset|.

    Example::

        mc.diag_embed(mc.tensor([[1., 2.], [3., 4.]])).shape     # (2, 2, 2)
    """
    x = as_tensor_arg(input)
    n = x.ndim + 1
    dim1, dim2 = _dim(dim1, n), _dim(dim2, n)
    if dim1 == dim2:
        raise ValueError(f"diag_embed: diagonal dimensions cannot be identical {dim1}, "
                         f"{dim2}")
    if x.ndim == 0:
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], "
                         "but got -2): diag_embed needs at least a 1-D input")
    return DiagEmbed.apply(x, int(offset), dim1, dim2)


def diagflat(input, offset=0):
    """A square matrix with the flattened ``input`` on diagonal ``offset``.

    Example::

        mc.diagflat(mc.tensor([[1, 2], [3, 4]]))      # 4x4, 1 2 3 4 on the diagonal
    """
    return diag(as_tensor_arg(input).reshape(-1), offset)


class BlockDiag(Function):
    """A block-diagonal matrix of 2-D blocks; block k's gradient is gy's block k."""
    @staticmethod
    def forward(ctx, *blocks):
        xp = get_array_module(*blocks)
        ctx.shapes = [b.shape for b in blocks]
        out = xp.zeros((sum(s[0] for s in ctx.shapes), sum(s[1] for s in ctx.shapes)),
                       blocks[0].dtype)
        r = c = 0
        for b in blocks:
            out[r:r + b.shape[0], c:c + b.shape[1]] = b
            r, c = r + b.shape[0], c + b.shape[1]
        return out

    @staticmethod
    def backward(ctx, gy):
        grads, r, c = [], 0, 0
        for n, m in ctx.shapes:
            grads.append(gy[r:r + n, c:c + m].copy())
            r, c = r + n, c + m
        return tuple(grads)


def block_diag(*tensors):
    """The blocks on the diagonal of one matrix, zeros elsewhere. A 0-d tensor is a 1x1
    block, a 1-D one a row; dtypes promote as in ``+``.

    Shape: blocks (n_k, m_k) -> (Σn_k, Σm_k).

    Example::

        mc.block_diag(mc.ones(1, 2), mc.tensor(5.)).tolist()   # [[1, 1, 0], [0, 0, 5]]
    """
    from ..backend import result_dtype, get_default_dtype
    from ..factories import empty
    blocks = [as_tensor_arg(t) for t in tensors]
    if not blocks:
        return empty(1, 0, dtype=get_default_dtype())
    dtype, ndim = blocks[0].dtype, blocks[0].ndim
    for i, t in enumerate(blocks):
        if t.ndim > 2:
            raise ValueError(f"block_diag: input tensors must have 2 or fewer dimensions. "
                             f"Input {i} has {t.ndim} dimensions (shape {list(t.shape)})")
        dtype, ndim = result_dtype(dtype, ndim, t.dtype, t.ndim), max(ndim, t.ndim)
    blocks = [t.reshape(1, -1) if t.ndim < 2 else t for t in blocks]
    return BlockDiag.apply(*(t if t.dtype == dtype else t.to(dtype) for t in blocks))


# ----------------------------------------------------------------------------- products

def kron(input, other):
    """Kronecker product: block (i, j, ...) of the result is input[i, j, ...] * other.
    The operand with fewer dims gets leading 1s. Composed of reshape and mul.

    Shape: (a_0, a_1, ...) x (b_0, b_1, ...) -> (a_0·b_0, a_1·b_1, ...).

    Example::

        mc.kron(mc.eye(2), mc.ones(2, 2))          # two 2x2 blocks of ones on a 4x4
    """
    from .elementwise import mul
    a, b = as_tensor_arg(input), as_tensor_arg(other)
    n = max(a.ndim, b.ndim)
    sa = (1,) * (n - a.ndim) + tuple(a.shape)
    sb = (1,) * (n - b.ndim) + tuple(b.shape)
    ai = a.reshape([d for s in sa for d in (s, 1)])              # (a0, 1, a1, 1, ...)
    bi = b.reshape([d for s in sb for d in (1, s)])              # (1, b0, 1, b1, ...)
    return mul(ai, bi).reshape([x * y for x, y in zip(sa, sb)])  # (a0·b0, a1·b1, ...)


def _dims_list(dims):
    """A tensordot dim list (an int, a list or a tensor) as a list of ints."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        return [int(dims)]
    return [int(d) for d in dims]


def tensordot(a, b, dims=2):
    """Sum of products over the given dims: ``dims=k`` contracts the last k dims of a
    with the first k of b; ``dims=([1, 2], [1, 0])`` pairs dim 1 of a with dim 1 of b and
    dim 2 with dim 0. Dtypes promote. Computed by :func:`einsum`.

    Shape: the free dims of a, then the free dims of b.

    Example::

        mc.tensordot(mc.ones(2, 3, 4), mc.ones(4, 3), ([1, 2], [1, 0]))   # (2,), all 12
    """
    x, y = promote(as_tensor_arg(a), as_tensor_arg(b))
    if isinstance(dims, Tensor) and dims.numel() == 1:      # a one-element tensor: k
        dims = int(dims.item())
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise ValueError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(x.ndim, y.ndim):
            raise ValueError(f"tensordot: dims={dims} is more than the dims of the operands "
                             f"(shapes {list(x.shape)} and {list(y.shape)})")
        da, db = list(range(x.ndim - dims, x.ndim)), list(range(dims))
    else:
        if len(dims) != 2:
            raise ValueError(f"tensordot: dims must be an int or a pair of dim lists, got "
                             f"{dims!r}")
        da, db = _dims_list(dims[0]), _dims_list(dims[1])
        if len(da) != len(db):
            raise ValueError(f"tensordot: both dimension lists should have same length, "
                             f"got {da} and {db}")
        da = [_dim(d, max(x.ndim, 1)) for d in da]
        db = [_dim(d, max(y.ndim, 1)) for d in db]
    for i, j in zip(da, db):
        if x.shape[i] != y.shape[j]:
            raise ValueError(f"tensordot: contracted dimensions need to match, but first "
                             f"has size {x.shape[i]} in dim {i} and second has size "
                             f"{y.shape[j]} in dim {j}")
    sa = _LETTERS[:x.ndim]
    sb = [_LETTERS[x.ndim + k] for k in range(y.ndim)]
    for i, j in zip(da, db):
        sb[j] = sa[i]
    sb = "".join(sb)
    out = "".join(c for c in sa if c not in sb) + "".join(c for c in sb if c not in sa)
    return einsum(f"{sa},{sb}->{out}", x, y)


def inner(input, other):
    """Sum of products over the last dims (a 0-d operand multiplies instead).

    Shape: (..., k) and (..., k) -> input.shape[:-1] + other.shape[:-1].

    Example::

        mc.inner(mc.tensor([[1., 2.], [3., 4.]]), mc.tensor([1., 1.]))   # [3., 7.]
    """
    from .elementwise import mul
    a, b = as_tensor_arg(input), as_tensor_arg(other)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"inner() the last dimension must match on both input tensors but "
                         f"got shapes {list(a.shape)} and {list(b.shape)}")
    return tensordot(a, b, ([-1], [-1]))


def vdot(input, other):
    """Dot product of two 1-D tensors of one dtype (real tensors: the same as ``dot``).

    Example::

        mc.vdot(mc.tensor([1, 2]), mc.tensor([3, 4]))      # tensor(11)
    """
    a, b = as_tensor_arg(input), as_tensor_arg(other)
    _check_rank("vdot", a, b, (1, 1))
    _check_same_dtype("vdot", a, b)
    if a.shape != b.shape:
        raise ValueError(f"vdot: inconsistent tensor size, expected tensor [{a.shape[0]}] and "
                         f"src [{b.shape[0]}] to have the same number of elements")
    return matmul(a, b)


def mv(input, vec):
    """Matrix-vector product: (n, m) @ (m,) -> (n,).

    Example::

        mc.mv(mc.ones(2, 3), mc.tensor([1., 2., 3.]))      # tensor([6., 6.])
    """
    a, v = as_tensor_arg(input), as_tensor_arg(vec)
    _check_rank("mv", a, v, (2, 1))
    if a.shape[1] != v.shape[0]:
        raise ValueError(f"mv: size mismatch, got mat ({a.shape[0]}x{a.shape[1]}), vec "
                         f"({v.shape[0]})")
    return matmul(a, v)


def _product_shape(op, a, b):
    """The shape of addmv's, addr's, baddbmm's or addbmm's product, the operands checked
    first (so that a mistake names ``op``, not the mv/outer/bmm that computes it)."""
    _check_rank(op, a, b, {"addmv": (2, 1), "addr": (1, 1)}.get(op, (3, 3)))
    if op == "addr":
        return a.shape[0], b.shape[0]
    if a.shape[-1] != b.shape[-2 if b.ndim == 3 else 0] or (
            b.ndim == 3 and a.shape[0] != b.shape[0]):
        raise ValueError(f"{op}: size mismatch, got shapes {list(a.shape)} and "
                         f"{list(b.shape)}")
    if op == "addmv":
        return a.shape[:1]
    return a.shape[:2] + b.shape[2:] if op == "baddbmm" else (a.shape[1], b.shape[2])


def _add_checked_product(op, product, input, operands, beta, alpha):
    """beta·input + alpha·product(*operands), with the checks of
    :func:`_check_add_product` (``operands``: argument name -> value, for the messages)."""
    c = as_tensor_arg(input)
    ts = {name: as_tensor_arg(t) for name, t in operands.items()}
    _check_add_product(op, c, ts, _product_shape(op, *ts.values()))
    prod = product(*ts.values())
    return _add_product(c, prod, beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta·input + alpha·(mat @ vec); ``input`` broadcasts to (n,). Same rules as
    :func:`addmm` (one dtype; beta=0 ignores input; integer alpha/beta truncated).

    Example::

        mc.addmv(mc.tensor(1.), mc.ones(2, 3), mc.arange(3.), beta=2, alpha=3)  # [11, 11]
    """
    return _add_checked_product("addmv", mv, input, {"mat": mat, "vec": vec}, beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta·input + alpha·outer(vec1, vec2); ``input`` broadcasts to (n, m).

    Example::

        mc.addr(mc.zeros(2, 3), mc.arange(2.), mc.arange(3.), alpha=2)  # [[0,0,0],[0,2,4]]
    """
    return _add_checked_product("addr", outer, input, {"vec1": vec1, "vec2": vec2}, beta,
                                alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta·input + alpha·bmm(batch1, batch2); ``input`` broadcasts to (B, n, m).

    Example::

        mc.baddbmm(mc.ones(3), mc.ones(2, 2, 3), mc.ones(2, 3, 3)).shape   # (2, 2, 3)
    """
    return _add_checked_product("baddbmm", bmm, input, {"batch1": batch1, "batch2": batch2},
                                beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta·input + alpha·Σ_b batch1[b] @ batch2[b]; ``input`` broadcasts to (n, m).

    Example::

        mc.addbmm(mc.zeros(2, 3), mc.ones(4, 2, 5), mc.ones(4, 5, 3))   # all 20
    """
    from .reduce import sum
    return _add_checked_product("addbmm", lambda a, b: sum(bmm(a, b), 0), input,
                                {"batch1": batch1, "batch2": batch2}, beta, alpha)


def _value_for(value, *tensors):
    """``value`` truncated to an int when the result dtype is an integer one, as PyTorch."""
    dtype = promote(promote(tensors[0], tensors[1])[0], tensors[2])[0].dtype
    return int(value) if dtype.kind in "iub" else value


def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value·tensor1·tensor2, broadcasting, with ``+``'s dtype promotion.

    Example::

        mc.addcmul(mc.ones(2), mc.tensor([1., 2.]), mc.tensor([3., 4.]), value=0.5)  # [2.5, 5]
    """
    from .elementwise import add, mul
    c, a, b = as_tensor_arg(input), as_tensor_arg(tensor1), as_tensor_arg(tensor2)
    value = _value_for(value, c, a, b)
    prod = mul(a, b)
    return add(c, prod if value == 1 else mul(prod, value))


def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value·tensor1/tensor2 (true division), broadcasting. Two integer
    tensor1/tensor2 raise, as in PyTorch.

    Example::

        mc.addcdiv(mc.ones(2), mc.tensor([1., 2.]), mc.tensor([4., 1.]), value=2)  # [1.5, 5]
    """
    from .elementwise import add, mul, div
    c, a, b = as_tensor_arg(input), as_tensor_arg(tensor1), as_tensor_arg(tensor2)
    if a.dtype.kind in "iub" and b.dtype.kind in "iub":
        raise TypeError(f"Integer division with addcdiv is no longer supported (tensor1 "
                        f"{a.dtype}, tensor2 {b.dtype}): use input + value * tensor1 / "
                        f"tensor2, or convert them with .float()")
    value = _value_for(value, c, a, b)
    q = div(a, b)
    return add(c, q if value == 1 else mul(q, value))


# ----------------------------------------------------------------------------- cross

def _cross(a, b, axis):
    """a × b along ``axis`` (of size 3), written out so it runs on any array module."""
    xp = get_array_module(a, b)
    a, b = xp.moveaxis(a, axis, -1), xp.moveaxis(b, axis, -1)             # (..., 3)
    c = xp.stack([a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1],
                  a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2],
                  a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]], axis=-1)
    return xp.moveaxis(c, -1, axis)


class Cross(Function):
    """c = a × b along ``dim``; da = b × gc, db = gc × a (summed back by the engine)."""
    @staticmethod
    def forward(ctx, a, b, dim):
        need_a, need_b = ctx.needs_input_grad[:2]
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        ctx.dim = dim
        return _cross(a, b, dim)

    @staticmethod
    def backward(ctx, gc):
        a, b = ctx.saved_tensors
        ga = _cross(b, gc, ctx.dim) if ctx.needs_input_grad[0] else None
        gb = _cross(gc, a, ctx.dim) if ctx.needs_input_grad[1] else None
        return ga, gb, None


def _check_same_dtype(op, a, b):
    """Raise unless a and b share one dtype (ops that do not promote, as in PyTorch)."""
    if a.dtype != b.dtype:
        raise TypeError(f"{op}: expected both inputs to have the same dtype, but found "
                        f"{a.dtype} and {b.dtype}: convert one with .to()")


def _check_cross_args(a, b, op):
    """Check the two operands of a cross product (same rank and dtype, broadcasting)."""
    if a.ndim != b.ndim:
        raise ValueError(f"{op}: inputs must have the same number of dimensions, got shapes "
                         f"{list(a.shape)} and {list(b.shape)}")
    _check_same_dtype(op, a, b)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{op}: shapes {list(a.shape)} and {list(b.shape)} do not "
                         f"broadcast") from None


def linalg_cross(input, other, *, dim=-1):
    """Cross product of 3-vectors along ``dim`` (default the last), batch dims
    broadcasting (``mc.linalg.cross``).

    Example::

        mc.linalg.cross(mc.tensor([1., 0., 0.]), mc.tensor([0., 1., 0.]))   # [0., 0., 1.]
    """
    a, b = as_tensor_arg(input), as_tensor_arg(other)
    _check_cross_args(a, b, "linalg.cross")
    d = _dim(dim, max(a.ndim, 1))
    if a.ndim == 0 or a.shape[d] != 3 or b.shape[d] != 3:
        raise ValueError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                         f"{a.shape[d] if a.ndim else 0} and {b.shape[d] if b.ndim else 0}")
    return Cross.apply(a, b, d)


def cross(input, other, dim=None):
    """Cross product of 3-vectors along ``dim``. Without ``dim`` it is the first dim of
    size 3 of ``input`` (PyTorch's older rule, which warns; ``mc.linalg.cross`` uses the
    last dim).

    Example::

        mc.cross(mc.eye(3), mc.ones(3, 3))         # row i: e_i × (1, 1, 1)
    """
    a = as_tensor_arg(input)
    if dim is None:
        import warnings
        warnings.warn("Using cross without specifying the dim arg is deprecated: pass dim "
                      "explicitly or use minicv.linalg.cross (the last dim), as PyTorch",
                      UserWarning, stacklevel=2)
        dim = next((i for i, n in enumerate(a.shape) if n == 3), None)
        if dim is None:
            raise ValueError(f"cross: no dimension of size 3 in input (shape "
                             f"{list(a.shape)})")
    return linalg_cross(a, other, dim=dim)


# ----------------------------------------------------------------------------- combinatorics

def cartesian_prod(*tensors):
    """All tuples (a_i, b_j, ...) of elements of 1-D tensors, in lexicographic order (the
    last one varies fastest); one tensor is returned as it is.

    Shape: (n_1,), ..., (n_k,) -> (n_1·...·n_k, k).

    Example::

        mc.cartesian_prod(mc.tensor([1, 2]), mc.tensor([3, 4]))   # [[1,3],[1,4],[2,3],[2,4]]
    """
    from .shape import meshgrid, stack
    ts = [as_tensor_arg(t) for t in tensors]
    for t in ts:
        if t.ndim != 1:
            raise ValueError(f"cartesian_prod: expect 1D vectors, but got shape "
                             f"{list(t.shape)}")
    if len(ts) == 1:
        return ts[0]
    grids = meshgrid(*ts, indexing="ij")                   # each (n_1, ..., n_k)
    return stack([g.reshape(-1) for g in grids], dim=1)


def combinations(input, r=2, with_replacement=False):
    """The length-``r`` combinations of the elements of a 1-D tensor, in
    ``itertools.combinations`` order (``_with_replacement`` when asked). Differentiable:
    each element's gradient sums over the places it appears.

    Shape: (n,) -> (C(n, r), r); r=0 gives an empty (0,) tensor.

    Example::

        mc.combinations(mc.tensor([1, 2, 3]))       # [[1, 2], [1, 3], [2, 3]]
    """
    import itertools
    x = as_tensor_arg(input)
    if x.ndim != 1:
        raise ValueError(f"combinations: expect a 1D vector, but got shape {list(x.shape)}")
    if r < 0:
        raise ValueError(f"combinations: expect a non-negative number, but got {r}")
    if r == 0:
        return x[:0]
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    index = np.array(list(pick(range(x.shape[0]), r)), np.int64).reshape(-1, r)
    return x[index]                                        # (C(n, r), r)


def _tri_indices(name, row, col, offset, dtype, device):
    from ..factories import tensor
    dtype = np.dtype(dtype)
    if dtype.kind not in "iu":
        raise TypeError(f"{name}: dtype must be an integer one, got {dtype}")
    if row < 0 or col < 0:
        raise ValueError(f"{name}: row and col must be non-negative, got {row} and {col}")
    fn = np.tril_indices if name == "tril_indices" else np.triu_indices
    return tensor(np.stack(fn(row, offset, col)).astype(dtype), device=device)


def tril_indices(row, col, offset=0, *, dtype=np.int64, device="cpu"):
    """The (row, column) indices of the lower triangle of a row x col matrix (entries
    with j - i <= offset), row by row, as a (2, N) tensor.

    Example::

        mc.tril_indices(2, 2)              # [[0, 1, 1], [0, 0, 1]]
    """
    return _tri_indices("tril_indices", row, col, offset, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=np.int64, device="cpu"):
    """The (row, column) indices of the upper triangle (j - i >= offset), as (2, N).

    Example::

        mc.triu_indices(2, 2)              # [[0, 0, 1], [0, 1, 1]]
    """
    return _tri_indices("triu_indices", row, col, offset, dtype, device)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix: column j is x ** (N - 1 - j) (x ** j when ``increasing``).
    Integer and bool inputs give int64. Built with cumprod, so the gradient is exact
    (PyTorch 2.13's backward of vander raises an in-place error; minicv differentiates).

    Shape: (n,) -> (n, N), N = n by default.

    Example::

        mc.vander(mc.tensor([1, 2, 3]))     # [[1, 1, 1], [4, 2, 1], [9, 3, 1]]
    """
    from .shape import cat, flip
    from .reduce import cumprod
    t = as_tensor_arg(x)
    if t.ndim != 1:
        raise ValueError(f"vander: x must be a one-dimensional tensor, got shape "
                         f"{list(t.shape)}")
    N = t.shape[0] if N is None else int(N)
    if N < 0:
        raise ValueError(f"vander: N must be non-negative, got {N}")
    if t.dtype.kind in "iub":
        t = t.to(np.int64)
    col = t.reshape(-1, 1)                                         # (n, 1)
    ones = col.new_ones(t.shape[0], min(N, 1))                     # (n, 1), or (n, 0)
    powers = cumprod(col.expand(t.shape[0], max(N - 1, 0)), 1)     # x, x², ..., (n, N-1)
    out = cat([ones, powers], 1)                                   # (n, N)
    return out if increasing else flip(out, 1)


def multi_dot(tensors):
    """The product of a chain of matrices; the first may be a 1-D row vector and the last
    a 1-D column vector (``mc.linalg.multi_dot``). Multiplied left to right.

    Example::

        mc.linalg.multi_dot([mc.ones(3), mc.ones(3, 4), mc.ones(4)])    # tensor(12.)
    """
    ts = [as_tensor_arg(t) for t in tensors]
    if len(ts) < 2:
        raise ValueError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    for i, t in enumerate(ts):
        ok = (1, 2) if i in (0, len(ts) - 1) else (2,)
        if t.ndim not in ok:
            where = "first" if i == 0 else "last" if i == len(ts) - 1 else f"{i}th"
            raise ValueError(f"multi_dot(): the {where} tensor must be "
                             f"{' or '.join(f'{n}D' for n in ok)} but got {t.ndim}D")
    for i in range(len(ts) - 1):
        k = ts[i].shape[-1]
        if k != ts[i + 1].shape[0]:
            raise ValueError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                             f"{list(ts[i].shape)} and {list(ts[i + 1].shape)} cannot be "
                             f"multiplied")
    out = ts[0]
    for t in ts[1:]:
        out = matmul(out, t)
    return out


def chain_matmul(*matrices):
    """The product of 2-D matrices, left to right (PyTorch deprecates it for
    ``linalg.multi_dot``); one matrix is returned as it is.

    Example::

        mc.chain_matmul(mc.ones(2, 3), mc.ones(3, 4)).shape       # (2, 4)
    """
    ms = [as_tensor_arg(m) for m in matrices]
    for m in ms:
        if m.ndim != 2:
            raise ValueError(f"chain_matmul(): tensors must be 2D, got shape "
                             f"{list(m.shape)}")
    return ms[0] if len(ms) == 1 else multi_dot(ms)


def matrix_power(input, n):
    """input ** n for square matrices (batched), by repeated squaring; n = 0 gives the
    identity (gradient 0), n < 0 the power of the inverse.

    Example::

        mc.matrix_power(mc.tensor([[2., 1.], [1., 3.]]), 2)    # [[5., 5.], [5., 10.]]
    """
    from .elementwise import where
    a = as_tensor_arg(input)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"matrix_power: n must be an int, not {type(n).__name__}")
    _square("linalg.matrix_power", a, floating=n < 0)
    if n == 0:                        # the identity, in the graph with gradient 0
        xp = get_array_module(a.data)
        eye = xp.broadcast_to(xp.eye(a.shape[-1], dtype=a.dtype), a.shape)
        return where(xp.asarray(False), a, Tensor(eye))
    if n < 0:
        a, n = inv(a), -n
    result, square = None, a
    while n:
        if n & 1:
            result = square if result is None else matmul(result, square)
        n >>= 1
        if n:
            square = matmul(square, square)
    return result


# ----------------------------------------------------------------------------- cdist

def _row_chunks(p_rows, r_rows, m, batch):
    """Slices of x2's rows such that one chunk's (..., P, chunk, M) differences hold at
    most about 2**22 elements (bounded memory for any size)."""
    per_row = max(p_rows * max(m, 1) * batch, 1)
    step = max(1, (1 << 22) // per_row)
    return [slice(s, s + step) for s in range(0, max(r_rows, 1), step)]


def _cdist_weights(diff, d, g, p, xp):
    """d d[..., i, j] / d x1_i (times g) from δ = x1_i - x2_j (PyTorch's rules)."""
    dd, g, zero = d[..., None], g[..., None], g.dtype.type(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if p == 0:
            return xp.zeros_like(diff)
        if p == 1:
            return xp.sign(diff) * g
        if p == 2:
            return xp.where(dd == 0, zero, diff * g / dd)
        if p == np.inf:
            return xp.sign(diff) * (xp.abs(diff) == dd) * g
        w = xp.sign(diff) * xp.abs(diff) ** (p - 1) * g / dd ** (p - 1)
        return xp.where((dd == 0) | ((diff == 0) if p < 1 else False), zero, w)


class Cdist(Function):
    """d[..., i, j] = ‖x1[..., i, :] - x2[..., j, :]‖_p, from the explicit differences,
    computed in chunks of x2's rows so that memory stays bounded.

    With δ = x1_i - x2_j and d its norm, d/dδ is PyTorch's ``_cdist_backward``:
    p = 0: 0;  p = 1: sign δ;  p = 2: δ / d;  p = inf: sign δ where |δ| == d (every tie);
    other p: sign δ·|δ|^(p-1) / d^(p-1). It is 0 where d == 0 (and, for p < 1, where
    δ == 0). dx2 is -Σ_i of the same terms. Saved: x1, x2 and d.
    """
    @staticmethod
    def forward(ctx, x1, x2, p):
        xp = get_array_module(x1, x2)
        batch = int(np.prod(np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])))
        ctx.chunks = _row_chunks(x1.shape[-2], x2.shape[-2], x1.shape[-1], batch)
        parts = []
        for rows in ctx.chunks:
            diff = xp.abs(x1[..., :, None, :] - x2[..., None, rows, :])    # (..., P, c, M)
            if p == 0:
                parts.append((diff != 0).sum(-1).astype(x1.dtype))
            elif p == np.inf:                # (CuPy's max has no initial=: M == 0 apart)
                parts.append(diff.max(-1) if diff.shape[-1] else
                             xp.zeros(diff.shape[:-1], x1.dtype))
            else:
                parts.append((diff ** p).sum(-1) ** (1 / p))
        d = parts[0] if len(parts) == 1 else xp.concatenate(parts, -1)
        ctx.save_for_backward(x1, x2, d)
        ctx.p = p
        return d.astype(x1.dtype, copy=False)                              # (..., P, R)

    @staticmethod
    def backward(ctx, gd):
        x1, x2, d = ctx.saved_tensors
        xp = get_array_module(gd)
        g1, g2s = None, []
        for rows in ctx.chunks:
            diff = x1[..., :, None, :] - x2[..., None, rows, :]            # (..., P, c, M)
            w = _cdist_weights(diff, d[..., rows], gd[..., rows], ctx.p, xp)
            if ctx.needs_input_grad[0]:
                g1 = w.sum(-2) if g1 is None else g1 + w.sum(-2)           # (..., P, M)
            if ctx.needs_input_grad[1]:
                g2s.append(-w.sum(-3))                                     # (..., c, M)
        g2 = None if not g2s else g2s[0] if len(g2s) == 1 else xp.concatenate(g2s, -2)
        return g1, g2, None                                                # (..., R, M)


class EuclideanDist(Function):
    """d = sqrt(max(‖x1_i‖² + ‖x2_j‖² - 2 x1_i·x2_j, 0)) by one matmul of the padded rows
    [-2 x1, ‖x1‖², 1] and [x2, 1, ‖x2‖²], as PyTorch's ``_euclidean_dist`` (fast; it
    rounds differently from the explicit differences, and can give 0 for close rows).

    Backward (PyTorch's ``_euclidean_dist_backward``): r = g / d, 0 where d == 0;
    dx1 = x1·Σ_j r - r @ x2, dx2 = x2·Σ_i r - rᵀ @ x1. Saved: x1, x2 and d.
    """
    @staticmethod
    def forward(ctx, x1, x2):
        xp = get_array_module(x1, x2)
        n1 = (x1 * x1).sum(-1, keepdims=True)                              # (..., P, 1)
        n2 = (x2 * x2).sum(-1, keepdims=True)                              # (..., R, 1)
        a = xp.concatenate([x1 * -2, n1, xp.ones_like(n1)], -1)            # (..., P, M+2)
        b = xp.concatenate([x2, xp.ones_like(n2), n2], -1)                 # (..., R, M+2)
        d = xp.sqrt(xp.maximum(_matmul(a, xp.swapaxes(b, -1, -2)), 0))     # (..., P, R)
        ctx.save_for_backward(x1, x2, d)
        return d

    @staticmethod
    def backward(ctx, gd):
        x1, x2, d = ctx.saved_tensors
        xp = get_array_module(gd)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = xp.where(d == 0, gd.dtype.type(0), gd / d)                 # (..., P, R)
        g1 = g2 = None
        if ctx.needs_input_grad[0]:
            g1 = x1 * r.sum(-1, keepdims=True) - _matmul(r, x2)
        if ctx.needs_input_grad[1]:
            g2 = x2 * r.sum(-2)[..., None] - _matmul(xp.swapaxes(r, -1, -2), x1)
        return g1, g2


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distance between each row of x1 and each row of x2, batch dims
    broadcasting. For p = 2 with ``compute_mode="use_mm_for_euclid_dist"``, or the default
    ``"use_mm_for_euclid_dist_if_necessary"`` when P > 25 or R > 25, it is computed as
    PyTorch does, by a matmul (:class:`EuclideanDist`: fast, less exact for close rows);
    otherwise from the explicit differences (``"donot_use_mm_for_euclid_dist"``).

    Shape: (..., P, M) and (..., R, M) -> (..., P, R).

    Example::

        mc.cdist(mc.tensor([[0., 0.], [3., 4.]]), mc.tensor([[0., 0.]]))   # [[0.], [5.]]
    """
    a, b = as_tensor_arg(x1), as_tensor_arg(x2)
    modes = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
             "donot_use_mm_for_euclid_dist")
    if compute_mode not in modes:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode; use one "
                         f"of {modes}")
    for name, t in (("X1", a), ("X2", b)):
        if t.ndim < 2:
            raise ValueError(f"cdist only supports at least 2D tensors, {name} got: "
                             f"{t.ndim}D")
        if t.dtype.kind != "f":
            raise TypeError(f"cdist only supports floating-point dtypes, {name} got: "
                            f"{t.dtype}")
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"X1 and X2 must have the same number of columns. X1: "
                         f"{a.shape[-1]} X2: {b.shape[-1]}")
    _check_same_dtype("cdist", a, b)
    if not p >= 0:
        raise ValueError(f"cdist only supports non-negative p values, got {p}")
    _check_batch("cdist", a, b)
    mm = compute_mode == "use_mm_for_euclid_dist" or (
        compute_mode == modes[0] and (a.shape[-2] > 25 or b.shape[-2] > 25))
    if p == 2 and mm and a.numel() and b.numel():
        return EuclideanDist.apply(a, b)
    return Cdist.apply(a, b, float(p))


def pdist(input, p=2):
    """The p-norm distance between every pair of rows i < j of ``input``, in row-major
    order of the pairs (the upper triangle of ``cdist(input, input, p)``); the gradient of
    a zero distance is 0, as in PyTorch.

    Shape: (N, M) -> (N·(N-1)/2,).

    Example::

        mc.pdist(mc.tensor([[0., 0.], [3., 4.], [0., 0.]]))   # tensor([5., 0., 5.])
    """
    x = as_tensor_arg(input)
    if x.ndim != 2:
        raise ValueError(f"pdist only supports 2D tensors, got: {x.ndim}D")
    if x.dtype.kind != "f":
        raise TypeError(f"pdist only supports floating-point dtypes, got {x.dtype}: "
                        f"convert with .float()")
    if not p >= 0:
        raise ValueError(f"pdist only supports non-negative p values, got {p}")
    d = cdist(x, x, p, "donot_use_mm_for_euclid_dist")                      # (N, N)
    xp = get_array_module(x.data)
    rows, cols = (Tensor(xp.asarray(v)) for v in np.triu_indices(x.shape[0], 1))
    return d[rows, cols]                                                    # (N(N-1)/2,)


# ----------------------------------------------------------------------------- det, inverse

class LinAlgError(RuntimeError):
    """A linear-algebra routine failed on its input (a singular matrix), as
    ``torch.linalg.LinAlgError``."""


def _check_matrix(op, a, square=False, floating=True):
    """Check that ``a`` is a (batch of) matrices, square and of a floating dtype if asked."""
    if a.ndim < 2:
        raise ValueError(f"{op}: The input tensor A must have at least 2 dimensions, got "
                         f"shape {list(a.shape)}")
    if square and a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{op}: A must be batches of square matrices, but they are "
                         f"{a.shape[-2]} by {a.shape[-1]} matrices")
    if floating and a.dtype.kind != "f":
        raise TypeError(f"{op}: Expected a floating point tensor as input. Got {a.dtype}: "
                        f"convert it with .float() or .double()")


def _square(op, a, floating=True):
    """Check that ``a`` is a (batch of) square matrices, of a floating dtype if asked."""
    _check_matrix(op, a, square=True, floating=floating)


def _lapack(op, fn, *arrays):
    """``fn(*arrays)`` (an ``xp.linalg`` routine), NumPy's singular-matrix error as
    :class:`LinAlgError`. On a GPU no check is made (it would synchronise)."""
    try:
        return fn(*arrays)
    except np.linalg.LinAlgError as e:
        raise LinAlgError(f"{op}: the input matrix is singular ({e}); no inverse or solution "
                          f"exists") from None


def _mT(a):
    return get_array_module(a).swapaxes(a, -1, -2)


def _safe_inverse_T(a, singular):
    """inv(a)ᵀ where ``singular`` (shape a.shape[:-2]) is False; the identity elsewhere,
    so that no LAPACK error can come from a singular batch element."""
    xp = get_array_module(a)
    eye = xp.eye(a.shape[-1], dtype=a.dtype)
    return _mT(xp.linalg.inv(xp.where(singular[..., None, None], eye, a)))


class Det(Function):
    """y = det(A); dA = g·y·A⁻ᵀ (the cofactor matrix). At an exactly singular matrix the
    gradient is 0, as PyTorch's (the cofactors there may be nonzero). Saved: A, y."""
    @staticmethod
    def forward(ctx, a):
        y = get_array_module(a).linalg.det(a)
        ctx.save_for_backward(a, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        a, y = ctx.saved_tensors
        xp = get_array_module(a)
        singular = y == 0
        scale = xp.where(singular, gy.dtype.type(0), gy * y)[..., None, None]
        return scale * _safe_inverse_T(a, singular)


def det(input):
    """The determinant of square matrices (batched).

    Shape: (..., n, n) -> (...).

    Example::

        mc.det(mc.tensor([[2., 1.], [1., 3.]]))     # tensor(5.)
    """
    a = as_tensor_arg(input)
    _square("linalg.det", a)
    return Det.apply(a)


class SlogDet(Function):
    """(sign, log|det A|); d log|det A| / dA = A⁻ᵀ, the sign has no gradient. At a
    singular matrix the gradient is NaN (PyTorch: ±inf from its LU solve)."""
    @staticmethod
    def forward(ctx, a):
        sign, logabs = get_array_module(a).linalg.slogdet(a)
        ctx.save_for_backward(a, sign)
        return sign.astype(a.dtype, copy=False), logabs.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, gsign, glog):
        a, sign = ctx.saved_tensors
        singular = sign == 0
        inv_t = _safe_inverse_T(a, singular)
        nan = glog.dtype.type(np.nan)
        return get_array_module(a).where(singular[..., None, None], nan,
                                         glog[..., None, None] * inv_t)


SlogDetResult = namedtuple("slogdet", ["sign", "logabsdet"])


def slogdet(input):
    """The sign and the log of the absolute value of the determinant, a named tuple
    ``(sign, logabsdet)``; sign is 0 and logabsdet -inf for a singular matrix.

    Example::

        sign, logabsdet = mc.slogdet(mc.tensor([[0., 1.], [1., 0.]]))   # -1., 0.
    """
    a = as_tensor_arg(input)
    _square("linalg.slogdet", a)
    return SlogDetResult(*SlogDet.apply(a))


def logdet(input):
    """log det(input): NaN for a negative determinant, -inf for a singular matrix.

    Example::

        mc.logdet(mc.tensor([[2., 0.], [0., 3.]]))   # tensor(1.7918) = log 6
    """
    from .elementwise import lt, where
    sign, logabs = slogdet(input)
    return where(lt(sign.detach(), 0), float("nan"), logabs)


class Inverse(Function):
    """Y = A⁻¹; dA = -Yᵀ·g·Yᵀ. Saved: Y."""
    @staticmethod
    def forward(ctx, a):
        y = _lapack("linalg.inv", get_array_module(a).linalg.inv, a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        yt = _mT(y)
        return -(yt @ gy @ yt)


def inv(input):
    """The inverse of square matrices (batched); a singular one raises
    :class:`LinAlgError` on the CPU (on a GPU the result is undefined, as PyTorch's
    ``inv_ex`` without checks).

    Example::

        mc.inverse(mc.tensor([[2., 0.], [0., 4.]]))     # [[0.5, 0.], [0., 0.25]]
    """
    a = as_tensor_arg(input)
    _square("linalg.inv", a)
    return Inverse.apply(a)


inverse = inv


class Solve(Function):
    """X = A⁻¹B (both batch-broadcast, B a matrix); dB = A⁻ᵀ·g, dA = -dB·Xᵀ.
    Saved: A and X."""
    @staticmethod
    def forward(ctx, a, b):
        xp = get_array_module(a, b)
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        a = xp.broadcast_to(a, batch + a.shape[-2:])                  # (..., n, n)
        b = xp.broadcast_to(b, batch + b.shape[-2:])                  # (..., n, k)
        x = _lapack("linalg.solve", xp.linalg.solve, a, b)
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, gx):
        a, x = ctx.saved_tensors
        gb = get_array_module(a).linalg.solve(_mT(a), gx)             # (..., n, k)
        ga = -(gb @ _mT(x)) if ctx.needs_input_grad[0] else None
        return ga, gb


def solve(A, B, *, left=True):
    """The solution X of A X = B (``left=False``: X A = B) for square, invertible A, batch
    dims broadcasting (``mc.linalg.solve``). B is a batch of vectors when it is 1-D or has
    the shape A.shape[:-1], as in PyTorch; a singular A raises :class:`LinAlgError` on
    the CPU.

    Shape: A (..., n, n), B (..., n, k) or (..., n) -> the shape of B, batch-broadcast.

    Example::

        mc.linalg.solve(mc.tensor([[2., 0.], [0., 4.]]), mc.tensor([2., 2.]))   # [1., 0.5]
    """
    a, b = promote(as_tensor_arg(A), as_tensor_arg(B))
    _square("linalg.solve", a)
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    if vector:
        b = b.unsqueeze(-1)                                           # (..., n, 1)
    if not left:
        if vector:
            raise ValueError("linalg.solve: Vector broadcasting of the left hand side is "
                             "not supported for left=False. In this case linalg.solve is "
                             "equivalent to B / A.squeeze(-1)")
        a, b = a.transpose(-1, -2), b.transpose(-1, -2)       # X A = B is Aᵀ Xᵀ = Bᵀ
    if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
        raise ValueError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                         f"{'AX = B' if left else 'XA = B'} ({list(A.shape)} and "
                         f"{list(B.shape)})")
    _check_batch("linalg.solve", a, b)
    x = Solve.apply(a, b)
    if not left:
        x = x.transpose(-1, -2)
    return x.squeeze(-1) if vector else x
