"""The ops of elementwise/reduce/index/linalg/logical on CuPy arrays equal the CPU path,
forward and backward, including the NaN, zero and empty edge cases (marked ``gpu``:
skipped without CuPy and a CUDA device)."""
import numpy as np
import pytest

import minicv as mc
from minicv.ops import elementwise as E, index as I, linalg as L, logical as G, reduce as R

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")

NAN, INF = float("nan"), float("inf")


def _pair(fn, *arrays):
    """``fn`` on float64 CPU and GPU tensors: outputs and gradients must agree."""
    results = []
    for device in ("cpu", "cuda"):
        ts = [mc.tensor(a, device=device, requires_grad=a.dtype.kind == "f") for a in arrays]
        y = fn(*ts)
        assert y.device.type == device
        out = [y.detach().cpu().numpy()]
        if y.requires_grad:
            g = np.random.default_rng(1).standard_normal(y.shape)
            y.backward(mc.tensor(g, device=device))
            out += [t.grad.cpu().numpy() for t in ts if t.requires_grad]
        results.append(out)
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, equal_nan=True)


X = np.random.default_rng(0).standard_normal((3, 4))
EDGES = np.array([[0.0, NAN, 3.0, -2.0], [2.0, 2.0, 0.0, INF], [1.0, -1.0, 0.5, 0.0]])

CASES = {
    "pow_edges": (lambda a: a ** 0 + a.abs() ** 0.5 + 0.0 ** a.abs(), EDGES),
    "sign_abs": (lambda a: a.sign() + a.abs(), EDGES),
    "maximum_nan": (lambda a: mc.maximum(a, a * 0 + 1.0), EDGES),
    "std_constant": (lambda a: a.std(dim=1), np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])),
    "norm_p": (lambda a: a.norm(p=3, dim=1) + a.norm(p=0.5, dim=1) + a.norm(p=0, dim=1),
               np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.0]])),
    "norm_inf_nan": (lambda a: a.norm(p=INF, dim=1), EDGES),
    "max_nan": (lambda a: a.max() + a.amax(dim=0).sum() * 0, EDGES),
    "sort_desc_nan": (lambda a: a.sort(dim=1, descending=True)[0], EDGES),
    "topk_nan": (lambda a: a.topk(2, dim=1)[0], EDGES),
    "median": (lambda a: R.median(a) + R.median(a, dim=1)[0].sum(), X),
    "cumprod_zeros": (lambda a: R.cumprod(a, 1), np.array([[0.0, 2.0, 0.0, 4.0]])),
    "cumprod": (lambda a: R.cumprod(a, 0), X),
    "logsumexp_empty": (lambda a: mc.logsumexp(a, 0), np.zeros((0, 3))),
    "new_unary": (lambda a: E.log2(a.abs() + 1) + E.log10(a.abs() + 1) + E.tan(a * 0.3)
                  + E.erf(a) + E.atan2(a, a * 0 + 2.0) + E.lerp(a, a * a, 0.3), X),
    "nan_to_num": (lambda a: E.nan_to_num(a), EDGES),
    "masked_select": (lambda a: I.masked_select(a, a > 0), X),
    "take_along_dim": (lambda a: I.take_along_dim(a, a.argmax(dim=1, keepdim=True), 1), X),
    "tril_triu_diag": (lambda a: L.tril(a, -1) + L.triu(a, 1) + L.diag(L.diag(a))[:, :1], X),
    "einsum": (lambda a: L.einsum("ij,kj->ik", a, a) + L.einsum("ii", a[:, :3]), X),
    "roll": (lambda a: mc.roll(a, (1, -2), (0, 1)) + mc.roll(a, 5), X),
    "broadcast_to_meshgrid": (lambda a: mc.broadcast_to(a[:1], (2, 3, 4)).sum(0)
                              + mc.meshgrid(a[0], a[:, 0], indexing="xy")[1] * 2, X),
    "repeat_interleave": (lambda a: a.repeat_interleave(mc.tensor([1, 0, 2]), dim=0).sum(0)
                          + a.repeat_interleave(2)[:4], X),
    "addmm": (lambda a: L.addmm(a[0, :3], a, a.T[:, :3], beta=0.5, alpha=2.0)
              + L.addmm(a[:, :3].detach() * INF, a, a.T[:, :3], beta=0), X),
    "index_put": (lambda a: a.index_put((mc.tensor([0, 0, 2]), mc.tensor([1, 1, 3])),
                                        a[1, :3] * 2, accumulate=True)
                  + a.index_put((mc.tensor([2, 0]),), a[1:2] * 3), X),
}


@pytest.mark.parametrize("name", CASES)
def test_ops_match_the_cpu_path(name):
    fn, x = CASES[name]
    _pair(fn, x)


def test_integer_and_bool_ops_on_the_gpu():
    for device in ("cpu", "cuda"):
        u8 = mc.tensor([3, 200], dtype=mc.uint8, device=device)
        assert (u8 + 300).tolist() == [47, 244] and (u8 | mc.tensor(1)).dtype == np.uint8
        assert mc.tensor([-2**63, 0], device=device).sort(descending=True)[0].tolist() == [
            0, -2**63]
        assert G.logical_xor(u8, 0).tolist() == [True, True]
    # integer division by zero raises on the CPU; on a GPU, as in PyTorch, it does not
    # check (checking would synchronise)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        mc.tensor([3], dtype=mc.uint8) // mc.tensor([0], dtype=mc.uint8)
    mc.tensor([3], dtype=mc.uint8, device="cuda") // mc.tensor([0], dtype=mc.uint8,
                                                                 device="cuda")


def test_shifts_unique_bincount_on_the_gpu():
    results = []
    for device in ("cpu", "cuda"):
        x = mc.tensor([1, -8, 3, 1, 5], device=device)
        n = mc.tensor([63, 64, -1, 2, 1], device=device)
        u8 = mc.tensor([1, 200], dtype=mc.uint8, device=device)
        out, inverse, counts = mc.unique(x, return_inverse=True, return_counts=True)
        w = mc.tensor([0.5, 1.0, 2.0], dtype=mc.float64, device=device)
        results.append([(x << n).tolist(), (x >> n).tolist(), (u8 << 9).tolist(),
                        (u8 >> 1).tolist(), out.tolist(), inverse.tolist(), counts.tolist(),
                        mc.bincount(x[2:].abs()).tolist(),
                        mc.bincount(mc.tensor([0, 2, 2], device=device), w, 4).tolist(),
                        mc.unique(mc.tensor([[1, 2], [1, 2]], device=device), dim=0).tolist()])
        assert out.device.type == device
    assert results[0] == results[1]
    assert results[0][:2] == [[-2 ** 63, 0, 0, 4, 10], [0, -1, 0, 0, 2]]     # as torch
