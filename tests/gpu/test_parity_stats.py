"""CPU/GPU parity of minicv.ops.stats (nan reductions, scans, quantiles, selection, diff,
searching, histc, cov): values, dtypes, gradients and errors agree, and the
differentiable ops' forward and backward passes never synchronise with the host.

Marked ``gpu`` (skipped without CuPy and a CUDA device; runs on the CuPy emulator too).
"""
import numpy as np
import pytest

import minicv as mc
from test_parity_sweep import _same, _same_error

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")

NAN = float("nan")
R = np.random.default_rng(3)
X = R.standard_normal((3, 4, 5))
XN = X.copy()
XN[0, 1, 2] = XN[1, :, 3] = NAN
TIES = np.array([[3., 1., 2., 1., 3.], [2., 2., 2., 0., 5.], [1., NAN, NAN, 4., 4.]])


def _second(fn):
    """The indices of a (values, indices) result."""
    return lambda t: fn(t)[1]


@pytest.mark.parametrize("a", [X, XN, XN.astype(np.float32)], ids=["x", "nan", "f32"])
def test_nan_reductions_and_scans(a):
    _same(lambda t: mc.nansum(t, (0, 2)), a)
    _same(lambda t: mc.nanmean(t, 1, keepdim=True), a)
    _same(mc.nanmedian, a)
    _same(lambda t: mc.nanmedian(t, 1), a)
    _same(_second(lambda t: mc.nanmedian(t, 1)), a, grad=False)
    _same(lambda t: mc.aminmax(t, dim=-1)[1], a)
    _same(lambda t: mc.cummax(t, 1), a)
    _same(_second(lambda t: mc.cummin(t, 2)), a, grad=False)
    # (NumPy accumulates in one pass, the GPU by doubling: float32 rounding differs)
    _same(lambda t: mc.logcumsumexp(t, 2), a, rtol=1e-6, atol=1e-6)
    _same(lambda t: mc.logcumsumexp(t, 1) * mc.tensor(-1.0).to(t.device), a, rtol=1e-6,
          atol=1e-6)


@pytest.mark.parametrize("interpolation", ["linear", "lower", "nearest", "midpoint"])
def test_quantiles(interpolation):
    for a in (X, XN):
        q = np.array([0.0, 0.3, 1.0])
        _same(lambda t: mc.quantile(t, mc.tensor(q, device=t.device), 1,
                                    interpolation=interpolation), a)
        _same(lambda t: mc.nanquantile(t, 0.7, -1, keepdim=True,
                                       interpolation=interpolation), a)


def test_selection_and_diff():
    for a in (X, TIES):
        _same(lambda t: mc.kthvalue(t, 2, 1, keepdim=True), a)
        _same(_second(lambda t: mc.kthvalue(t, 3)), a, grad=False)
        _same(lambda t: mc.mode(t, 1), a)
        _same(_second(mc.mode), a, grad=False)
        _same(lambda t: mc.diff(t, 2, 0, prepend=t[:1]), a)
    _same(lambda t: mc.mode(t, 0), np.array([[1, 2], [1, 3], [2, 2]]), grad=False)
    _same(mc.diff, np.array([True, False, False]), grad=False)


def test_searching_and_histogram():
    s = np.sort(X[0], axis=-1)
    for right in (False, True):
        _same(lambda a, b: mc.searchsorted(a, b, right=right), s, X[0, :, :3], grad=False)
        _same(lambda a, b: mc.bucketize(a, b, right=right), XN, s[0], grad=False)
    _same(lambda a, b: mc.searchsorted(a, b, sorter=mc.argsort(a)), X[0], X[1], grad=False)
    _same(lambda a: mc.searchsorted(a, 0.5), s[0], grad=False)
    _same(lambda a, b: mc.isin(a, b, invert=True), np.arange(6), np.array([1, 4]),
          grad=False)
    _same(lambda a: mc.isin(a, 2.0), X.round(), grad=False)
    _same(lambda a: mc.histc(a, 7), X.astype(np.float32), grad=False)
    _same(lambda a: mc.histc(a, 5, -1, 1), XN, grad=False)


def test_cov_and_corrcoef():
    fw, aw = np.array([1, 2, 0, 3, 1]), np.array([0.5, 1.0, 2.0, 1.0, 0.1])
    _same(mc.cov, X[0])
    _same(lambda t, f, w: mc.cov(t, correction=2, fweights=f, aweights=w), X[0], fw, aw)
    _same(mc.corrcoef, X[0])


def test_errors_match():
    _same_error(lambda t: mc.quantile(t, 1.5), X, match="range")
    _same_error(lambda t: mc.kthvalue(t, 9), X, match="out of range")
    _same_error(lambda t: mc.searchsorted(t, t[:2]), X, match="boundaries")
    _same_error(lambda t: mc.cov(t, fweights=mc.tensor([-1, 1, 1, 1, 1], device=t.device)),
                X[0], match="negative")


def test_differentiable_ops_do_not_synchronise():
    if not getattr(cp, "EMULATED", False):
        pytest.skip("counts host synchronisations on the CuPy emulator")
    from cupy import _stats
    x = mc.tensor(XN, device="cuda", requires_grad=True)
    q = mc.tensor([0.2, 0.9], dtype=mc.float64, device="cuda")
    _stats.reset()
    outs = [mc.nansum(x, 1), mc.nanmean(x), mc.nanmedian(x), mc.nanmedian(x, 2).values,
            mc.cummax(x, 1).values, mc.logcumsumexp(x, 0), mc.kthvalue(x, 2).values,
            mc.mode(x, 0).values, mc.diff(x, 2), mc.quantile(x, q, 1),
            mc.nanquantile(x, q, 2, interpolation="midpoint")]
    sum(o.nansum() for o in outs).backward()
    assert not _stats.syncs, _stats.syncs


def test_searchsorted_names_both_devices():
    with pytest.raises(RuntimeError, match="cuda.*cpu|move both"):
        mc.searchsorted(mc.tensor([1.0, 2.0, 3.0], device="cuda"), mc.tensor([2.5]))
