"""CPU/GPU parity of the fixes in tests/ops/test_misc_fixes.py: quantile's gradient in q,
index_fill with a repeated index, diff with n=0, scatter_reduce('prod') (NumPy's
``multiply.at`` on the CPU, a segmented scan on the GPU), the scans (NumPy's
``accumulate`` on the CPU, Hillis-Steele on the GPU), empty multinomial/normal.

Marked ``gpu`` (skipped without CuPy and a CUDA device; runs on the CuPy emulator too).
"""
import numpy as np
import pytest

import minicv as mc
from test_parity_sweep import _same

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")

NAN = float("nan")
R = np.random.default_rng(11)
X = R.standard_normal((3, 6))
XN = X.copy()
XN[1, 2] = XN[2, :3] = NAN


@pytest.mark.parametrize("fn", [mc.quantile, mc.nanquantile])
def test_quantile_gradient_in_q(fn):
    q = np.array([0.1, 0.45, 0.8])
    _same(lambda t, u: fn(t, u, dim=1), XN, q)
    _same(lambda t, u: fn(t, u[1], dim=0, keepdim=True), X, q)


def test_index_fill_repeated_index():
    idx = np.array([4, 1, 4, -2])
    _same(lambda t, v: t.index_fill(1, mc.tensor(idx, device=t.device), v), X,
          np.array(2.5))


def test_diff_n0():
    _same(lambda t, p: mc.diff(t, n=0, dim=1, prepend=p), X, X[:, :2])


@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_prod(include_self):
    src = R.standard_normal((3, 8))
    src[0, 1] = src[2, 5] = 0.0
    src[1, 3] = NAN
    idx = R.integers(0, 6, (3, 8))
    _same(lambda t, s: mc.scatter_reduce(t, 1, mc.tensor(idx, device=t.device), s, "prod",
                                         include_self=include_self), X, src)


@pytest.mark.parametrize("a", [XN, np.array([[2., 2., 1., 2., 3., 3.]])])
def test_scans(a):
    _same(lambda t: mc.cummax(t, 1)[0], a)
    _same(lambda t: mc.cummin(t, 1)[1], a, grad=False)
    _same(lambda t: mc.cummax(t, 0)[1], a, grad=False)
    _same(lambda t: mc.logcumsumexp(t, 1), a, rtol=1e-12)


def test_empty_samples():
    r = mc.multinomial(mc.ones(0, 3, device="cuda"), 2)
    assert r.device.type == "cuda" and r.shape == (0, 2) and r.dtype == mc.int64
    r = mc.normal(mc.empty(0, dtype=mc.int64, device="cuda"), 1.0)
    assert r.device.type == "cuda" and r.shape == (0,) and r.dtype == mc.int64


def test_quantile_q_gradient_does_not_synchronise():
    if not getattr(cp, "EMULATED", False):
        pytest.skip("counts host synchronisations on the CuPy emulator")
    from cupy import _stats
    x = mc.tensor(XN, device="cuda", requires_grad=True)
    q = mc.tensor([0.2, 0.9], dtype=mc.float64, device="cuda", requires_grad=True)
    _stats.reset()
    (mc.quantile(x, q, 1).nansum() + mc.nanquantile(x, q, 0).nansum()).backward()
    assert not _stats.syncs, _stats.syncs


def test_ldexp_and_nextafter():
    e = np.array([2, -1, 0, 3, 1, -2])
    _same(mc.ldexp, X, e)
    _same(mc.ldexp, X, X[0])
    _same(mc.nextafter, X, X[::-1].copy(), grad=False)
    _same(mc.nextafter, X.astype(np.float32), np.zeros(6, np.float32), grad=False)
