"""CPU/GPU parity of the semantics a PyTorch 2.13 sweep changed on the CPU (pooling checks,
interpolate shortcuts, unbatched layers, activations, losses, new tensor ops, in-place ops
and ``x[key] = v``, ``autograd.grad``, optimizers on 0-d parameters, gradient clipping):
the GPU path must follow each, values, gradients, dtypes and errors alike.

Marked ``gpu`` (skipped without CuPy and a CUDA device; ``test_emulated.py`` runs them on
the CuPy emulator). Inputs keep their dtype here (unlike ``test_parity._pair``), so dtype
promotion and integer inputs are compared too.
"""
import math

import numpy as np
import pytest

import minicv as mc
from minicv.nn import functional as F
from minicv.nn import utils as U

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")

NAN, INF = float("nan"), float("inf")


def _run(fn, arrays, device, grad):
    ts = [mc.tensor(a, device=device, requires_grad=grad and a.dtype.kind == "f")
          for a in arrays]
    y = fn(*ts)
    y = y[0] if isinstance(y, tuple) else y
    assert y.device.type == device, f"{fn} returned a {y.device} tensor"
    out = [y.detach().cpu().numpy()]
    if y.requires_grad:
        g = np.random.default_rng(1).standard_normal(y.shape).astype(y.dtype)
        y.backward(mc.tensor(g, device=device))
        out += [None if t.grad is None else t.grad.cpu().numpy() for t in ts
                if t.requires_grad]
    return out


def _same(fn, *arrays, grad=True, rtol=1e-9, atol=1e-12):
    """``fn`` on CPU and GPU tensors made from ``arrays`` (dtypes kept): equal values,
    dtypes, shapes and input gradients."""
    want, got = (_run(fn, arrays, device, grad) for device in ("cpu", "cuda"))
    assert len(want) == len(got)
    for w, g in zip(want, got):
        if w is None or g is None:
            assert w is None and g is None
            continue
        assert (g.dtype, g.shape) == (w.dtype, w.shape)
        if g.dtype == np.float32:     # CUDA's float32 exp, cosh, erfc... and sums in
            rtol, atol = max(rtol, 4e-6), max(atol, 1e-6)  # another order: ulps apart
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True)


def _same_error(fn, *arrays, error=ValueError, match=None):
    """``fn`` raises the same error, with the same message, on both devices."""
    messages = []
    for device in ("cpu", "cuda"):
        with pytest.raises(error, match=match) as info:
            fn(*[mc.tensor(a, device=device) for a in arrays])
        messages.append(str(info.value))
    assert messages[0] == messages[1]


R = np.random.default_rng(7)


def randn(*shape):
    return R.standard_normal(shape)


# ============================================================================ pooling

def test_pool_ceil_mode_window_overhanging_the_input_runs_on_the_gpu():
    """PyTorch's rule (an output of at least 1) replaced 'window within the padded input':
    length 4, kernel 3, dilation 2, stride 2, ceil_mode has one window, taps 0, 2, 4."""
    _same(lambda t: F.max_pool1d(t, 3, 2, dilation=2, ceil_mode=True), randn(1, 2, 4))
    _same(lambda t: F.max_pool2d(t, 3, 2, dilation=2, ceil_mode=True), randn(1, 2, 4, 4))
    _same(lambda t: F.max_pool2d(t, 3, 2, dilation=2, ceil_mode=True, return_indices=True)[1],
          randn(2, 4, 5), grad=False)
    for cip in (True, False):
        _same(lambda t: F.avg_pool2d(t, 3, 2, ceil_mode=True, count_include_pad=cip),
              randn(1, 2, 2, 4))
        _same(lambda t: F.avg_pool1d(t, 3, 2, 1, ceil_mode=True, count_include_pad=cip),
              randn(2, 3, 2))
    _same(lambda t: F.max_pool3d(t, 3, 2, dilation=2, ceil_mode=True), randn(1, 2, 4, 4, 4))


@pytest.mark.parametrize("fn,shape", [
    (lambda t: F.max_pool3d(t, 2, padding=2), (1, 2, 4, 4, 4)),     # padding > kernel / 2
    (lambda t: F.max_pool3d(t, 5), (1, 2, 4, 4, 4)),                # output size 0
    (lambda t: F.max_pool3d(t, (2, 2, 2), dilation=(1, 3, 1)), (1, 1, 4, 3, 4)),
    (lambda t: F.max_pool2d(t, 5), (1, 2, 4, 4)),
    (lambda t: F.max_pool2d(t, 3, 2, padding=2), (1, 2, 6, 6)),
    (lambda t: F.avg_pool2d(t, 3), (1, 2, 2, 2)),        # with ceil_mode: one output
    (lambda t: F.max_pool1d(t, 3, dilation=3), (1, 2, 6))])
def test_pool_argument_errors_are_the_cpu_errors(fn, shape):
    _same_error(fn, randn(*shape), match="padding|output size")


def _pool_geometries(n, seed=3):
    """Random pooling geometries, many with a ceil_mode window past the padded input."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        nd = (1, 2, 3)[i % 3]
        k = tuple(int(v) for v in rng.integers(1, 5, nd))
        yield (nd, tuple(int(v) for v in rng.integers(1, 7, nd)), k,
               tuple(int(v) for v in rng.integers(1, 4, nd)),
               tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k),
               tuple(int(v) for v in rng.integers(1, 3, nd)), bool(rng.integers(0, 2)))


@pytest.mark.parametrize("nd,size,k,s,p,d,ceil", list(_pool_geometries(60)))
def test_pooling_geometries_match_or_fail_alike(nd, size, k, s, p, d, ceil):
    x = randn(1, 2, *size)
    fns = {1: [lambda t: F.max_pool1d(t, k, s, p, d, ceil),
               lambda t: F.avg_pool1d(t, k, s, p, ceil, False)],
           2: [lambda t: F.max_pool2d(t, k, s, p, d, ceil),
               lambda t: F.avg_pool2d(t, k, s, p, ceil, True)],
           3: [lambda t: F.max_pool3d(t, k, s, p, d, ceil)]}[nd]
    for fn in fns:
        try:
            _run(fn, [x], "cpu", False)
        except ValueError:
            _same_error(fn, x)
            continue
        _same(fn, x)


# ============================================================================ conv, fold, resample

def test_unfold_and_fold_check_their_shapes_on_the_gpu():
    """GPU unfold/fold share the CPU's checks: a fold with the wrong number of blocks used
    to reach col2im, which reads past the columns."""
    _same_error(lambda t: F.unfold(t, 4), randn(1, 2, 3, 3), match="larger than the padded")
    _same_error(lambda t: F.fold(t, (4, 5), 2), randn(1, 8, 11), match="expected L=12")
    _same_error(lambda t: F.fold(t, (4, 5), 2), randn(8, 13), match="expected L=12")


SWEEP = {
    "conv1d_unbatched": (lambda x, w, b: F.conv1d(x, w, b, padding=1),
                         [(3, 7), (4, 3, 3), (4,)]),
    "conv2d_unbatched_same": (lambda x, w: F.conv2d(x, w, padding="same", dilation=2),
                              [(3, 7, 6), (4, 3, 2, 3)]),
    "conv3d_unbatched": (lambda x, w: F.conv3d(x, w, padding=1), [(2, 4, 5, 3), (3, 2, 3, 3, 3)]),
    "conv_transpose_op_below_dilation_groups": (
        lambda x, w, b: F.conv_transpose2d(x, w, b, stride=(2, 1), output_padding=(2, 1),
                                           dilation=(3, 2), groups=2),
        [(1, 4, 3, 5), (4, 3, 3, 2), (6,)]),
    "conv_transpose_unbatched_op": (
        lambda x, w, b: F.conv_transpose2d(x, w, b, stride=1, padding=(2, 0),
                                           output_padding=(2, 1), dilation=3),
        [(4, 3, 5), (4, 2, 3, 2), (2,)]),
    "pool_unbatched_3d_1d": (lambda a, b: F.max_pool3d(a, 2, return_indices=True)[0].sum()
                             + F.max_pool1d(b, 2, return_indices=True)[0].sum(),
                             [(2, 4, 5, 3), (3, 7)]),
    "interpolate_same_and_double_axes": (
        lambda a, b, c: F.interpolate(a, scale_factor=(1.3, 2.0)).sum()
        + F.interpolate(b, scale_factor=2.0).sum()
        + F.interpolate(c, scale_factor=1.2, mode="linear").sum(),
        [(1, 2, 3, 4), (1, 2, 3), (1, 2, 3)]),
    "interpolate_area_scale_factor": (
        lambda a: F.interpolate(a, scale_factor=0.5, mode="area"), [(1, 2, 4, 5, 6)]),
    "interpolate_nearest_exact_3d": (
        lambda a: F.interpolate(a, scale_factor=2.0, mode="nearest-exact"), [(1, 2, 2, 3, 2)]),
    "interpolate_bicubic_same_size": (
        lambda a: F.interpolate(a, scale_factor=1.2, mode="bicubic"), [(1, 2, 3, 3)]),
    "adaptive_max_to_zero": (lambda a: F.adaptive_max_pool2d(a, (0, 3)), [(1, 3, 5, 6)]),
    # activations and nn functions
    "normalize_p": (lambda a: F.normalize(a, p=INF, dim=1) + F.normalize(a, p=1, dim=0)
                    + F.normalize(a, p=3, dim=1), [(4, 6)]),
    "cosine_similarity_broadcast": (lambda a, b: F.cosine_similarity(a, b, dim=-1),
                                    [(4, 1, 6), (3, 6)]),
    "linear_1d_weight": (lambda a, w: F.linear(a, w), [(4, 6), (6,)]),
    "silu_mish": (lambda a: F.silu(a) + F.mish(a), [(4, 6)]),
}


@pytest.mark.parametrize("name", sorted(SWEEP))
def test_sweep_ops_match_cpu(name):
    fn, shapes = SWEEP[name]
    _same(fn, *[randn(*s) for s in shapes])


EDGES = np.array([[-1.0, 1.0, 0.0, 6.0, -2.0, 3.0], [7.0, 0.5, -0.5, NAN, 1.0, -1.0]])


def test_activations_bounds_and_integers():
    _same(F.hardtanh, EDGES)                      # no gradient at the bounds
    _same(lambda a: F.relu6(a * 1), EDGES)
    _same(lambda a: F.hardtanh(a, -2.5, 3.5), np.array([1, -2, 7, -5]), grad=False)
    for dt in (np.int32, np.int8, np.uint8):      # relu keeps integer dtypes
        _same(F.relu, np.array([1, 2, 7, 5], dtype=dt) * (1 if dt == np.uint8 else -1),
              grad=False)
    _same(F.relu6, np.array([1, -2, 7, -5], dtype=np.int8), grad=False)
    _same(F.sigmoid, np.array([1, -2]), grad=False)
    _same_error(F.gelu, np.array([1, -2]), error=TypeError, match="floating")
    _same_error(F.relu, np.array([True, False]), error=TypeError, match="bool")


def test_normalize_and_cosine_similarity_of_zero_vectors():
    _same(lambda a: F.normalize(a, p=INF, dim=1), np.array([[0.0, 0, 0], [1, -3, 2]]))
    _same(F.cosine_similarity, np.zeros((2, 3)), randn(2, 3))
    _same(F.cosine_similarity, np.array([[1, 2, 3]]), randn(2, 3))   # one integer input


def test_embedding_scale_grad_by_freq_on_gpu():
    idx = np.array([[0, 2, 2], [2, 3, 0]])
    _same(lambda w: F.embedding(mc.tensor(idx, device=w.device), w, padding_idx=3,
                                scale_grad_by_freq=True), randn(5, 3))


# ============================================================================ losses

X = randn(4, 5)
MASKED = X.copy()
MASKED[:, 3] = -INF                               # a masked class
T = np.array([0, 2, 4, 2])
POS_WEIGHT = R.random(5)


def _w(values, like):
    return mc.tensor(np.asarray(values, dtype=np.float64), device=like.device)


LOSSES = {
    "ce_masked_logits": (lambda a, y: F.cross_entropy(a, y), [MASKED, T]),
    "ce_masked_weight_smoothing": (
        lambda a, y: F.cross_entropy(a, y, weight=_w([1, 2, 0.5, 1, 1], a),
                                     label_smoothing=0.1), [np.where(MASKED == -INF, 0, X), T]),
    "nll_masked": (lambda a, y: F.nll_loss(a, y), [MASKED, T]),
    "ce_nan_row_ignored": (lambda a, y: F.cross_entropy(a, y, ignore_index=1),
                           [np.where(np.arange(4)[:, None] == 1, NAN, X), np.array([0, 1, 4, 1])]),
    "ce_kept_weights_sum_to_zero": (
        lambda a, y: F.cross_entropy(a, y, weight=_w([1, 1, 0, 1, 1], a)),
        [X, np.array([2, 2, 2, 2])]),
    "ce_probability_targets_promote": (F.cross_entropy,
                                       [X.astype(np.float32), R.random((4, 5))]),
    "bce_at_0_and_1": (F.binary_cross_entropy,
                       [np.array([[0.0, 1, 0.5], [1, 0, 0.2]]),
                        np.array([[0.0, 1, 1], [0, 1, 0]])]),
    "bce_logits_pos_weight_promote": (
        lambda a, y: F.binary_cross_entropy_with_logits(a, y, pos_weight=_w(POS_WEIGHT, a)),
        [X.astype(np.float32), R.random((4, 5))]),
    "mse_l1_smooth_promote": (lambda a, y: F.mse_loss(a, y) + F.l1_loss(a, y)
                              + F.smooth_l1_loss(a, y), [X.astype(np.float32), R.random((4, 5))]),
    "huber_keeps_input_dtype": (F.huber_loss, [X.astype(np.float32), R.random((4, 5))]),
    "kl_div_promote": (lambda a, y: F.kl_div(a, y, reduction="batchmean"),
                       [X.astype(np.float32), R.random((4, 5))]),
    "pairwise_p0_ninf_zero": (lambda a, b: F.pairwise_distance(a, b, p=0)
                              + F.pairwise_distance(a, b, p=-INF)
                              + F.pairwise_distance(a, a * 1, eps=0), [X, X * [1, 1, 2, 1, 1]]),
    "triplet_3d": (F.triplet_margin_loss, [randn(2, 3, 5), randn(2, 3, 5), randn(2, 3, 5)]),
    "cosine_embedding_broadcast": (
        lambda a, b: F.cosine_embedding_loss(a, b, mc.tensor([1, -1, 1, -1], device=a.device)),
        [X, randn(1, 5)]),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_match_cpu(name):
    fn, arrays = LOSSES[name]
    _same(fn, *arrays, rtol=1e-6, atol=1e-7)      # float32 inputs: a few ulps


def test_loss_argument_errors_alike():
    _same_error(lambda a, y: F.binary_cross_entropy(a.sigmoid(), y), X, R.random((4, 5)) * 2,
                match="between 0")
    _same_error(lambda a, y: F.binary_cross_entropy_with_logits(
        a, y, pos_weight=mc.ones(3, 4, 5, device=a.device, dtype=mc.float64)),
        X, R.random((4, 5)), match="does not broadcast")
    _same_error(lambda a, y: F.cross_entropy(a, y, ignore_index=1), X, R.random((4, 5)),
                match="ignore_index")


# ============================================================================ tensor ops

N = np.array([[0.0, NAN, 3.0, -2.0], [2.0, 2.0, 0.0, INF], [1.0, -1.0, 0.5, 0.0]])
I64 = np.array([[3, -1, 0, 7], [2, 2, -5, 1]])

OPS = {
    "unary_new": (lambda a: mc.log2(a.abs() + 1) + mc.erf(a) + mc.atan2(a, a.flip(1)), [X]),
    "atan2_zeros": (mc.atan2, [np.zeros((2, 2)), np.zeros((2, 2))]),
    "cumprod_zeros": (lambda a: mc.cumprod(a, dim=1), [np.array([[0.0, 2, 0, 4], [1, 0, 3, 2]])]),
    "cumprod_int": (lambda a: mc.cumprod(a, dim=1), [I64]),
    "median_nan_and_int": (lambda a, b: mc.median(a, dim=1)[0].sum() + mc.median(b),
                           [N, I64]),
    "median_indices": (lambda a: mc.median(a, dim=0)[1], [X]),
    "einsum": (lambda a, b: mc.einsum("bij,bjk->bik", a, b).sum(0)
               + mc.einsum("...i,...i->...", a, a)[:, :, None],
               [randn(2, 3, 4), randn(2, 4, 5)]),
    "tril_triu_diag": (lambda a: mc.tril(a, 1) - mc.triu(a, -1) + mc.diag(mc.diag(a, 1), -1)
                       [:, :3].sum(), [randn(2, 3, 4)[0]]),
    "masked_select_broadcast": (lambda a: mc.masked_select(
        a, mc.tensor([True, False, True, True, False], device=a.device)), [X]),
    "take_along_dim_flat": (lambda a: mc.take_along_dim(a, mc.tensor([0, 5, 11], device=a.device)),
                            [X]),
    "argwhere_any_all": (lambda a: mc.argwhere(a > 0).sum() + mc.any(a > 2, dim=1).long().sum()
                         + mc.all(a > -2, dim=0).long().sum(), [X]),
    "any_all_nan": (lambda a: mc.stack([mc.any(a), mc.all(a), a.any(), a.all()]), [N]),
    "logical_bitwise": (lambda a: mc.logical_xor(a, a > 1).long() + mc.bitwise_and(a, 3)
                        + mc.bitwise_or(a, 8) + mc.bitwise_xor(a, a * 2) + mc.bitwise_not(a),
                        [I64]),
    "sort_topk_nan": (lambda a: a.sort(dim=1, descending=True)[1] + a.sort(dim=0)[1].sum()
                      + a.topk(2, dim=1)[1].sum() + a.topk(2, dim=1, largest=False)[1].sum(),
                      [N]),
    "sort_topk_nan_values": (lambda a: a.sort(dim=1)[0][:, :2] + a.topk(2, dim=1)[0], [N]),
    "sort_extreme_integers": (lambda a: a.sort(descending=True)[0],
                              [np.array([-2**63, 0, 5, 2**63 - 1])]),
    "uint8_wraps": (lambda a: (a + 300) | mc.tensor(1), [np.array([3, 200], dtype=np.uint8)]),
    "float0d_times_int": (lambda a: mc.tensor([1, 2], dtype=mc.int32, device=a.device) * a,
                          [np.array(2.5, dtype=np.float32)]),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_new_tensor_ops_match_cpu(name):
    fn, arrays = OPS[name]
    _same(fn, *arrays)


# ============================================================================ in place, x[key] = v

INPLACE = {      # name: (edit of y, the shapes of y and the extra inputs)
    "setitem_number": (lambda y: y.__setitem__((0, slice(1, 3)), 5.0), [(3, 4)]),
    "setitem_index_tensor": (lambda y: y.__setitem__((slice(None), mc.tensor([0, 2])), 1.5),
                             [(3, 4)]),
    "setitem_mask": (lambda y: y.__setitem__(y > 0, 0.0), [(3, 4)]),
    "setitem_tensor": (lambda y, v: y.__setitem__(1, v), [(3, 4), (4,)]),
    "setitem_broadcast": (lambda y, v: y.__setitem__(slice(0, 2), v), [(3, 4), (4,)]),
    "setitem_duplicate_rows": (lambda y, v: y.__setitem__(mc.tensor([0, 0, 2]), v),
                               [(3, 4), (3, 4)]),
    "setitem_int_and_array": (lambda y, v: y.__setitem__((1, mc.tensor([3, 0])), v),
                              [(3, 4), (2,)]),
    "setitem_from_itself": (lambda y, v: y.__setitem__((0, slice(None)), y[1] + v),
                            [(3, 4), (4,)]),
    "add_mul_div": (lambda y, v: (y.add_(v), y.mul_(2), y.div_(3)), [(3, 4), (4,)]),
    "augmented": (lambda y, v: (y.__iadd__(v), y.__imul__(v), y.__isub__(1.0)),
                  [(3, 4), (4,)]),
    "activations_": (lambda y, v: (y.relu_(), y.add_(v).exp_(), y.clamp_(0.1, 2.0)),
                     [(3, 4), (4,)]),
    "masked_fill_scatter_": (lambda y: (y.masked_fill_(y > 0.5, 0.0), y.scatter_(
        1, mc.tensor([[0], [1], [2]], device=y.device), 5.0)), [(3, 4)]),
    "fill_copy_": (lambda y, v: (y.fill_(2.0), y.copy_(v * 3)), [(3, 4), (4,)]),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_setitem_and_inplace_ops_on_recorded_gpu_tensors(name):
    """Each edit runs on y = x * 1 (a non-leaf, so it is recorded); gradients reach x and
    the values written."""
    edit, shapes = INPLACE[name]

    def fn(x, *rest):
        y = x * 1
        edit(y, *rest)
        return y
    _same(fn, *[randn(*s) for s in shapes])


def test_setitem_without_grad_and_views_share_the_version():
    for device in ("cpu", "cuda"):
        x = mc.tensor(np.arange(12.0).reshape(3, 4), device=device)
        x[mc.tensor([True, False, True])] = 0.0   # a CPU mask into a GPU tensor
        x[[0, 2], [1, 3]] = mc.tensor([5.0, 6.0])
        x[0].add_(1)                               # through a view, no autograd
        x += mc.tensor(1.0)                        # a CPU 0-d operand
        assert x.device.type == device
        if device == "cpu":
            want = x.numpy()
        else:
            np.testing.assert_array_equal(x.cpu().numpy(), want)
        a = mc.tensor(randn(3, 4), device=device, requires_grad=True)
        y = a.exp()
        with mc.no_grad():
            y.view(-1)[0] = 5.0                    # exp saved its output: caught
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_gpu_index_into_a_cpu_tensor_raises_clearly():
    x = mc.tensor(np.arange(6.0))
    idx = mc.tensor([0, 2], device="cuda")
    with pytest.raises(RuntimeError, match="same device as the indexed tensor"):
        x[idx]
    with pytest.raises(RuntimeError, match="same device as the indexed tensor"):
        x[idx] = 1.0


def test_autograd_grad_on_gpu():
    xs, ws = randn(2, 3, 6, 6), randn(4, 3, 3, 3)
    results = {}
    for device in ("cpu", "cuda"):
        x = mc.tensor(xs, device=device, requires_grad=True)
        w = mc.tensor(ws, device=device, requires_grad=True)
        h = F.relu(F.conv2d(x, w, padding=1))
        loss = F.max_pool2d(h, 2).pow(2).sum()
        gx, gh = mc.autograd.grad(loss, [x, h], retain_graph=True)
        assert x.grad is None and w.grad is None
        loss.backward(inputs=[w])
        assert x.grad is None
        y = x * 3
        g3, unused = mc.autograd.grad(y, [x, w], grad_outputs=mc.ones_like(y) * 2,
                                      allow_unused=True)
        assert unused is None and all(t.device.type == device for t in (gx, gh, g3, w.grad))
        results[device] = [t.cpu().numpy() for t in (gx, gh, w.grad, g3)]
    for g, c in zip(results["cuda"], results["cpu"]):
        np.testing.assert_allclose(g, c, rtol=1e-9, atol=1e-12)


# ============================================================================ optimizers, clipping

INIT = [np.array(1.5), np.array(-0.3, dtype=np.float32), randn(3), np.array([2.0])]
GRADS = [[randn(*np.shape(a)) for a in INIT] for _ in range(3)]


@pytest.mark.parametrize("make", [
    lambda ps: mc.optim.SGD(ps, lr=0.1),
    lambda ps: mc.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda ps: mc.optim.Adam(ps, lr=0.1, amsgrad=True, weight_decay=0.1),
    lambda ps: mc.optim.AdamW(ps, lr=0.1, maximize=True),
    lambda ps: mc.optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True),
    lambda ps: mc.optim.RMSprop(ps, lr=0.01)])
def test_optimizers_on_0d_and_mixed_dtype_gpu_parameters(make):
    """0-d float64 and float32 parameters next to 1-D ones: the multi-tensor kernels (SGD,
    Adam, AdamW; one launch per dtype) and RMSprop's array path equal the CPU, state too."""
    result = {}
    for device in ("cpu", "cuda"):
        ps = [mc.tensor(a, device=device, requires_grad=True) for a in INIT]
        opt = make(ps)
        for step in GRADS:
            for p, g in zip(ps, step):
                p.grad = mc.tensor(np.asarray(g).astype(p.dtype), device=device)
            opt.step()
        assert all(p.device.type == device for p in ps)
        state = opt.state_dict()["state"]
        result[device] = ([p.detach().cpu().numpy() for p in ps],
                          {(i, k): v.cpu().numpy() for i, s in state.items()
                           for k, v in s.items() if isinstance(v, mc.Tensor)})
    for g, c in zip(result["cuda"][0], result["cpu"][0]):
        tol = 2e-6 if c.dtype == np.float32 else 1e-12
        assert (g.dtype, g.shape) == (c.dtype, c.shape)
        np.testing.assert_allclose(g, c, rtol=tol, atol=tol)
    assert result["cuda"][1].keys() == result["cpu"][1].keys()
    for key, c in result["cpu"][1].items():
        g = result["cuda"][1][key]
        assert (g.dtype, g.shape) == (c.dtype, c.shape), key
        np.testing.assert_allclose(g, c, rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 0.5, 3.0, 0.0, INF, -INF])
def test_clip_grad_norm_mixed_dtypes_on_gpu(norm_type):
    """The total over float32 and float64 gradients is float64 and stays on the GPU; each
    gradient keeps its dtype."""
    result = {}
    for device in ("cpu", "cuda"):
        ps = [mc.tensor(a, device=device, requires_grad=True) for a in INIT]
        for p, g in zip(ps, GRADS[0]):
            p.grad = mc.tensor(np.asarray(g).astype(p.dtype), device=device)
        total = U.clip_grad_norm_(ps, 0.5, norm_type=norm_type)
        assert total.device.type == device and total.dtype == np.float64
        result[device] = [total.cpu().numpy()] + [p.grad.cpu().numpy() for p in ps]
    for g, c in zip(result["cuda"], result["cpu"]):
        assert g.dtype == c.dtype
        np.testing.assert_allclose(g, c, rtol=1e-6, atol=1e-7)


def test_total_norm_then_clip_on_gpu():
    grads = [mc.tensor(np.asarray(g), device="cuda") for g in GRADS[1]]
    total = U.get_total_norm(grads, -INF)
    assert total.device.type == "cuda"
    assert math.isclose(total.item(), min(np.abs(np.asarray(g)).min() for g in GRADS[1]))
    ps = [mc.tensor(np.asarray(g), device="cuda", requires_grad=True) for g in GRADS[1]]
    for p, g in zip(ps, grads):
        p.grad = g
    U.clip_grads_with_norm_(ps, 1e-3, U.get_total_norm(grads))
    assert U.get_total_norm([p.grad for p in ps]).item() == pytest.approx(1e-3, rel=1e-5)
    ps[0].grad.data[...] = NAN
    with pytest.raises(RuntimeError, match="non-finite"):
        U.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
