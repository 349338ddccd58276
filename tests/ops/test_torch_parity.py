"""Forward and backward of the core ops against PyTorch (skipped without torch).

Random float64 inputs, the same upstream gradient on both sides; each case is a pair of
functions written once for a generic module ``m`` (minicv or torch) where names agree.
"""
import numpy as np
import pytest

import minicv as mc

torch = pytest.importorskip("torch")
from minicv.ops import activation as A  # noqa: E402
from minicv.ops.shape import pad  # noqa: E402

def F(m):
    """The functional namespace: minicv.ops.activation or torch.nn.functional."""
    return A if m is mc else torch.nn.functional


CASES = {
    "add_bcast": ([(3, 1, 4), (2, 4)], lambda m, a, b: a + b),
    "sub_scalar": ([(3, 4)], lambda m, a: 2.5 - a),
    "mul_div": ([(2, 3), (3,)], lambda m, a, b: a * b / (b * b + 1)),
    "pow": ([(3, 4)], lambda m, a: (a * a + 0.5) ** 1.7),
    "exp_log_sqrt": ([(5,)], lambda m, a: (a.exp() + 1).log() + (a * a + 1).sqrt()),
    "abs_clamp": ([(4, 4)], lambda m, a: a.abs() + a.clamp(-0.5, 0.5)),
    "maximum": ([(3, 4), (4,)], lambda m, a, b: m.maximum(a, b) + m.minimum(a, b) * 2),
    "where": ([(3, 4), (3, 4)], lambda m, a, b: m.where(a > b, a * 2, b)),
    "relu_family": ([(6, 5)], lambda m, a: (F(m).relu(a)
                                            + F(m).leaky_relu(a, 0.2)
                                            + F(m).elu(a, 0.7))),
    "gelu": ([(6, 5)], lambda m, a: (F(m).gelu(a)
                                     + F(m).gelu(a, approximate="tanh"))),
    "sigmoid_tanh_softplus": ([(6, 5)], lambda m, a: (a.sigmoid() + a.tanh()
                                                       + F(m).softplus(a, 2.0))),
    "softmax": ([(3, 4, 5)], lambda m, a: (m.softmax(a, 1) * 3 + m.log_softmax(a, -1))),
    "sum_mean": ([(3, 4, 5)],
                 lambda m, a: a.sum(dim=(0, 2), keepdim=True) * a + a.mean(1)[:, None]),
    "var_std": ([(3, 4, 5)], lambda m, a: m.cat([a.var(dim=1).flatten(),
                                                a.std(dim=(0, 2), correction=0)])),
    "max_dim": ([(3, 4, 5)],
                lambda m, a: a.max(dim=1)[0][:, None, :] + a.min(dim=-1, keepdim=True)[0]),
    "max_all": ([(3, 4)], lambda m, a: a.max() * a),
    "logsumexp": ([(3, 4, 5)], lambda m, a: m.logsumexp(a, dim=2)),
    "matmul": ([(2, 3, 4), (4, 5)], lambda m, a, b: a @ b),
    "matmul_vec": ([(4,), (3, 4, 2)], lambda m, a, b: m.matmul(a, b)),
    "shape": ([(2, 3, 4)], lambda m, a: a.permute(2, 0, 1).reshape(4, 6).transpose(0, 1)
              .unsqueeze(0).expand(2, 6, 4).flatten(1)),
    "index": ([(5, 4)], lambda m, a: a[1:4:2, None, ..., [0, 0, 3]] * 2 + a[a > 0].sum()),
    "cat_stack_split": ([(2, 3), (2, 3)], lambda m, a, b: m.cat(
        [m.stack([a, b], 1).flatten(1), a.split(2, 1)[1], a.chunk(3, 1)[0]], 1)),
    "clamp_tensor_bounds": ([(3, 4), (4,), (3, 1)], lambda m, a, lo, hi: a.clamp(lo, hi)),
    "clamp_tensor_min": ([(3, 4), (3, 4)], lambda m, a, lo: m.clamp(a, min=lo)),
    "gather": ([(3, 4)], lambda m, a: a.gather(1, m.tensor([[0, 0, 3], [1, 2, 1], [3, 3, 3]]))),
    "scatter": ([(3, 4), (3, 2)], lambda m, a, s: a.scatter(1, m.tensor([[0, 2], [1, 3],
                                                                         [3, 0]]), s)),
    "scatter_add": ([(3, 4), (3, 3)], lambda m, a, s: a.scatter_add(
        1, m.tensor([[0, 0, 2], [1, 3, 1], [3, 0, 3]]), s)),
    "index_select": ([(3, 4)], lambda m, a: m.index_select(a, -1, m.tensor([3, 0, 3]))),
    "masked_fill": ([(3, 4)], lambda m, a: a.masked_fill(a > 0.3, -2.0) * a),
    "sort_topk": ([(3, 5)], lambda m, a: m.cat([a.sort(dim=0, descending=True)[0].flatten(),
                                                a.topk(2, dim=1).values.flatten()])),
    "prod_cumsum": ([(3, 4)], lambda m, a: m.cat([a.prod(1), a.prod().reshape(1),
                                                  a.cumsum(-1).flatten()])),
    "norm": ([(3, 4)], lambda m, a: m.cat([a.norm().reshape(1), a.norm(p=1, dim=1),
                                           a.norm(p=3, dim=0, keepdim=True).flatten()])),
    "flip_repeat": ([(2, 3)], lambda m, a: a.flip(0, 1).repeat(2, 1, 2).flatten()),
    "unary": ([(3, 4)], lambda m, a: a.sin() + a.cos() + a.abs().log1p() + a.expm1()
              + a.floor() * a.sign()),
    "mm_bmm_outer": ([(3, 4), (4, 2)], lambda m, a, b: m.cat([
        m.mm(a, b).flatten(), m.bmm(a[None], b[None]).flatten(), m.outer(a[0], b[:, 0])
        .flatten()])),
    "pad_negative": ([(2, 3, 5)], lambda m, a: torch.nn.functional.pad(a, (-1, 2))
                     if m is torch else pad(a, (-1, 2))),
}


def _run(fn, m, arrays):
    ts = [m.tensor(a, requires_grad=True) for a in arrays]
    out = fn(m, *ts)
    return out, ts


@pytest.mark.parametrize("name", CASES)
def test_matches_torch(name):
    shapes, fn = CASES[name]
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    arrays = [rng.standard_normal(s) for s in shapes]
    mo, mts = _run(fn, mc, arrays)
    to, tts = _run(fn, torch, arrays)
    np.testing.assert_allclose(mo.data, to.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(to.shape)
    mo.backward(mc.tensor(g))
    to.backward(torch.tensor(g))
    for mt, tt in zip(mts, tts):
        np.testing.assert_allclose(mt.grad.data, tt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_pad_modes_match_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 6))
    for mode in ("constant", "reflect", "replicate", "circular"):
        mx, tx = mc.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        mo = pad(mx, (1, 2, 3, 1), mode=mode)
        to = torch.nn.functional.pad(tx, (1, 2, 3, 1), mode=mode)
        np.testing.assert_allclose(mo.data, to.detach().numpy())
        g = np.random.default_rng(1).standard_normal(to.shape)
        mo.backward(mc.tensor(g))
        to.backward(torch.tensor(g))
        np.testing.assert_allclose(mx.grad.data, tx.grad.numpy(), rtol=1e-12)


def test_max_all_ties_match_torch():
    x = np.array([1.0, 3.0, 3.0, 2.0])
    mx, tx = mc.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    mx.max().backward()
    tx.max().backward()
    np.testing.assert_allclose(mx.grad.data, tx.grad.numpy())


def test_amax_amin_over_several_dims_match_torch():
    x = np.random.default_rng(3).integers(0, 3, (2, 3, 4)).astype(np.float64)  # many ties
    for op in ("amax", "amin"):
        for dim, keep in (((1, 2), True), (0, False), (None, False)):
            mx, tx = mc.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            kw = {} if dim is None else {"dim": dim, "keepdim": keep}
            mo, to = getattr(mx, op)(**kw), getattr(tx, op)(**kw)
            np.testing.assert_array_equal(mo.data, to.detach().numpy())
            g = np.random.default_rng(4).standard_normal(to.shape)
            mo.backward(mc.tensor(g))
            to.backward(torch.tensor(g))
            np.testing.assert_allclose(mx.grad.data, tx.grad.numpy(), rtol=1e-12)


def test_argmax_keepdim_without_dim_matches_torch():
    x = np.random.default_rng(5).standard_normal((2, 3, 4))
    for fn in ("argmax", "argmin"):
        want = getattr(torch.tensor(x), fn)(keepdim=True)
        got = getattr(mc.tensor(x), fn)(keepdim=True)
        assert got.shape == tuple(want.shape)
        np.testing.assert_array_equal(got.data, want.numpy())


@pytest.mark.parametrize("shape, mode, align", [
    ((2, 3, 7), "nearest", None), ((2, 3, 7), "nearest-exact", None),
    ((2, 3, 7), "linear", False), ((2, 3, 7), "linear", True),
    ((1, 2, 3, 4, 5), "nearest", None), ((1, 2, 3, 4, 5), "nearest-exact", None),
    ((1, 2, 3, 4, 5), "trilinear", False), ((1, 2, 3, 4, 5), "trilinear", True)])
@pytest.mark.parametrize("how", ["size", "scale", "scales"])
def test_interpolate_1d_and_3d_vs_torch(shape, mode, align, how):
    from minicv.nn import functional as MF
    nd = len(shape) - 2
    kw = {"size": {"size": (11,) if nd == 1 else (5, 9, 4)},
          "scale": {"scale_factor": 1.7},
          "scales": {"scale_factor": (2.0,) if nd == 1 else (2.0, 0.5, 1.5)}}[how]
    rng = np.random.default_rng(nd)
    x = rng.standard_normal(shape)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.interpolate(xt, mode=mode, align_corners=align, **kw)
    g = rng.standard_normal(tuple(yt.shape))
    yt.backward(torch.tensor(g))
    xm = mc.tensor(x, requires_grad=True)
    ym = MF.interpolate(xm, mode=mode, align_corners=align, **kw)
    ym.backward(mc.tensor(g))
    assert ym.shape == tuple(yt.shape)
    np.testing.assert_allclose(ym.data, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(xm.grad.data, xt.grad.numpy(), rtol=1e-12, atol=1e-12)
