"""Matrix products (``matmul`` with NumPy's 1-D, 2-D and batched-broadcast rules, mm,
bmm, dot, outer, addmm, einsum) and the matrix-shaped selections tril, triu and diag."""
import numpy as np

from ..autograd import Function
from ..backend import get_array_module
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
            if len(sa) == 1:
                ga = ga.reshape(-1, sa[0]).sum(axis=0)
        if ctx.needs_input_grad[1]:
            gb = _matmul(np.swapaxes(a.reshape(sa2), -1, -2), gc2)     # (.., k, m)
            if len(sb) == 1:
                gb = gb.reshape(-1, sb[0]).sum(axis=0)
        return ga, gb


def matmul(input, other):
    """Matrix product with broadcasting over batch dimensions (``input @ other``).

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
    from .elementwise import add, mul, where
    c, a, b = as_tensor_arg(input), as_tensor_arg(mat1), as_tensor_arg(mat2)
    for name, t in (("mat1", a), ("mat2", b)):
        if t.ndim != 2:
            raise ValueError(f"addmm: {name} must be a matrix, got a {t.ndim}-D tensor of "
                             f"shape {list(t.shape)}")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"addmm: mat1 and mat2 shapes cannot be multiplied "
                         f"({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
    if not c.dtype == a.dtype == b.dtype:
        raise TypeError(f"addmm: input, mat1 and mat2 must have the same dtype, got "
                        f"{c.dtype}, {a.dtype} and {b.dtype}: convert them (e.g. .float())")
    shape = (a.shape[0], b.shape[1])
    try:
        fits = np.broadcast_shapes(c.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"addmm: input of shape {list(c.shape)} does not broadcast to the "
                         f"product's shape {list(shape)}")
    if c.dtype.kind in "iub":
        alpha, beta = int(alpha), int(beta)
    prod = matmul(a, b)
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
