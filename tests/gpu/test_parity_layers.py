"""CPU/GPU parity of the activations, dropouts, normalisations and bilinear layer added for
PyTorch 2.13: values, gradients, dtypes and errors must agree between the NumPy and CuPy
paths. Marked ``gpu`` (skipped without CuPy; runs on the CuPy emulator too)."""
import numpy as np
import pytest

import minicv as mc
from minicv.nn import functional as F
from test_parity_sweep import _same, _same_error

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")

R = np.random.default_rng(11)
X = np.array([[-4., -3., -1., 0.], [0.5, 1., 3., 4.]])


@pytest.mark.parametrize("fn", [
    F.hardswish, F.hardsigmoid, F.selu, lambda t: F.celu(t, 0.5), F.logsigmoid, F.softsign,
    lambda t: F.softshrink(t, 1.0), lambda t: F.hardshrink(t, 1.0), F.tanhshrink,
    lambda t: F.threshold(t, 1.0, -2.0), F.rrelu, lambda t: F.glu(t, 1),
    lambda t: F.softmin(t, 1),
    lambda t: F.prelu(t, mc.tensor([0.25], dtype=t.dtype, device=t.device))])
def test_activations(fn):
    _same(fn, X)
    _same(fn, X.astype(np.float32), rtol=1e-6, atol=1e-7)


def test_prelu_per_channel_and_integer_inputs():
    _same(F.prelu, R.standard_normal((2, 3, 4)), np.array([0.1, 0.2, 0.3]))
    _same(F.softsign, np.array([-3, 0, 2]))
    _same(lambda t: F.threshold(t, 1.5, 0.5), np.array([1, 2, 3]))
    _same_error(F.glu, np.zeros((2, 3)), error=RuntimeError, match="dimension 1 is size 3")
    _same_error(F.prelu, np.zeros((2, 3)), np.zeros(2), error=RuntimeError,
                match="channel size = 3")


def test_inplace_forms():
    def elu_(t):
        y = t * 1
        return F.elu_(y, 0.5)
    _same(elu_, X)


def _seeded(fn):
    def run(*ts):
        mc.manual_seed(4)
        return fn(*ts)
    return run


def test_random_ops_draw_the_same_on_both_devices():
    _same(_seeded(lambda t: F.rrelu(t, training=True)), X)
    _same(_seeded(lambda t: F.dropout1d(t, 0.5)), R.standard_normal((4, 3, 5)))
    _same(_seeded(lambda t: F.dropout3d(t, 0.5)), R.standard_normal((3, 2, 2, 2)))
    _same(_seeded(lambda t: F.alpha_dropout(t, 0.3, True)), R.standard_normal((4, 6)))
    _same(_seeded(lambda t: F.feature_alpha_dropout(t, 0.3, True)),
          R.standard_normal((4, 6, 3)))
    _same(_seeded(lambda t: F.gumbel_softmax(t, 0.5)), R.standard_normal((3, 4)))
    _same(_seeded(lambda t: F.gumbel_softmax(t, 0.5, hard=True, dim=0)),
          R.standard_normal((3, 4)))
    _same_error(lambda t: F.dropout1d(t), np.zeros(3), error=RuntimeError,
                match="Expected 2D or 3D input")


def test_norms():
    x = R.standard_normal((2, 3, 4, 5))
    w, b = R.standard_normal(3), R.standard_normal(3)
    _same(lambda t, g, h: F.instance_norm(t, weight=g, bias=h), x, w, b)
    _same(lambda t: F.local_response_norm(t, 3, 0.5), x)
    _same(lambda t, g: F.rms_norm(t, (4, 5), g), x, R.standard_normal((4, 5)))
    _same(lambda t: F.rms_norm(t, (5,)), x.astype(np.float32), rtol=1e-5, atol=1e-6)

    def tracked(t):
        rm = mc.zeros(3, dtype=t.dtype, device=t.device)
        rv = mc.ones(3, dtype=t.dtype, device=t.device)
        F.instance_norm(t, rm, rv, momentum=0.3)
        return F.instance_norm(t, rm, rv, use_input_stats=False) + rm.reshape(3, 1, 1)
    _same(tracked, x)
    _same_error(lambda t: F.instance_norm(t), np.zeros((2, 3, 1)),
                match="more than 1 spatial element")
    _same_error(lambda t: F.rms_norm(t, (2,)), np.zeros((2, 3)), match="normalized_shape")


def test_bilinear():
    _same(F.bilinear, R.standard_normal((2, 3, 2)), R.standard_normal((2, 3, 3)),
          R.standard_normal((4, 2, 3)), R.standard_normal(4))
    _same_error(F.bilinear, np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((2, 2, 3)),
                match="input1 size does not match")


def test_modules_on_the_gpu():
    for m, shape in ((mc.nn.PReLU(3), (2, 3, 4)), (mc.nn.InstanceNorm2d(3, affine=True),
                                                    (2, 3, 4, 4)),
                     (mc.nn.RMSNorm(4), (2, 4)), (mc.nn.LocalResponseNorm(2), (2, 3, 4))):
        x = R.standard_normal(shape).astype(np.float32)
        want = m(mc.tensor(x)).detach().numpy()
        got = m.to("cuda")(mc.tensor(x, device="cuda"))
        assert got.device.type == "cuda"
        np.testing.assert_allclose(got.detach().cpu().numpy(), want, rtol=1e-5, atol=1e-6)
    b = mc.nn.Bilinear(2, 3, 4)
    x1, x2 = R.standard_normal((5, 2)).astype(np.float32), R.standard_normal((5, 3)).astype(
        np.float32)
    want = b(mc.tensor(x1), mc.tensor(x2)).detach().numpy()
    got = b.to("cuda")(mc.tensor(x1, device="cuda"), mc.tensor(x2, device="cuda"))
    np.testing.assert_allclose(got.detach().cpu().numpy(), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag(mode):
    w = R.standard_normal((5, 3))
    idx, off = np.array([1, 2, 4, 4, 3, 0, 2]), np.array([0, 2, 2, 5])
    _same(lambda t, i, o: F.embedding_bag(i, t, o, mode=mode, padding_idx=2), w, idx, off)
    _same(lambda t, i: F.embedding_bag(i, t, mode=mode), w, idx[:6].reshape(2, 3))
    if mode == "sum":
        _same(lambda t, i, o, p: F.embedding_bag(i, t, o, mode="sum", per_sample_weights=p,
                                                 scale_grad_by_freq=True),
              w, idx, off, R.standard_normal(7))
    _same_error(lambda t, i, o: F.embedding_bag(i, t, o, mode=mode), w, idx,
                np.array([1, 2]), match="offsets\\[0\\] has to be 0")


def test_embedding_bag_long_empty_and_padding_only_bags():
    w = R.standard_normal((6, 4))
    lengths = np.array([3, 0, 40, 2, 0, 1])
    idx = R.integers(0, 6, lengths.sum())
    idx[43:45] = 5                                              # a bag of padding only
    off = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    for mode in ("sum", "mean", "max"):
        _same(lambda t, i, o: F.embedding_bag(i, t, o, mode=mode, padding_idx=5), w, idx, off)
        _same(lambda t, i, o: F.embedding_bag(i, t, o, mode=mode, include_last_offset=True),
              w, idx, off[:4])                                  # last bag runs to the end
        _same(lambda t, i, o: F.embedding_bag(i, t, o, mode=mode), w,
              np.zeros(0, np.int64), np.zeros(3, np.int64))       # only empty bags
    _same(lambda t, i, o: F.embedding_bag(i, t, o, mode="mean", scale_grad_by_freq=True),
          w.astype(np.float32), idx, off, rtol=1e-6, atol=1e-6)


def test_embedding_backwards_do_not_synchronise(monkeypatch):
    """cupy.bincount reads its input's maximum on the host: the counts of
    scale_grad_by_freq are scatter-adds. The emulator counts host syncs."""
    def bincount(*args, **kwargs):
        raise AssertionError("cupy.bincount synchronises with the host")
    monkeypatch.setattr(cp, "bincount", bincount)
    w = mc.tensor(R.standard_normal((5, 3)), device="cuda", requires_grad=True)
    idx = mc.tensor([1, 2, 4, 4, 3, 0, 2], device="cuda")
    off = mc.tensor([0, 2, 2, 5], device="cuda")
    outs = [F.embedding(idx, w, padding_idx=0, scale_grad_by_freq=True),
            F.embedding_bag(idx, w, off, mode="max", padding_idx=2)]
    outs += [F.embedding_bag(idx, w, off, mode=m, padding_idx=2, scale_grad_by_freq=True)
             for m in ("sum", "mean")]
    stats = getattr(cp, "_stats", None)
    if stats is not None:
        stats.reset()
    sum(o.sum() for o in outs).backward()
    assert stats is None or not stats.syncs, stats.syncs
