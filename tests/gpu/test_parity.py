"""CPU/GPU parity: every op run on CuPy arrays equals the CPU path, forward and backward.

Marked ``gpu``: tests/conftest.py skips them without CuPy and a CUDA device. Each case
builds the same float64 inputs on both devices (float64 so that differences measure bugs,
not rounding; a float32 block checks the default dtype too), runs the op and a random
upstream gradient backward, and compares outputs and every input gradient. Random
configurations follow the CPU tests (odd sizes, strides, dilation, padding, groups,
ceil_mode) and include non-contiguous views.
"""
import numpy as np
import pytest

import minicv as mc
from minicv.nn import functional as F

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")


def _pair(fn, *arrays, dtype=np.float64, rtol=1e-9, atol=1e-10, grad=True, seed=0):
    """Run ``fn`` on CPU and GPU tensors made from ``arrays``; compare values and grads."""
    rng = np.random.default_rng(seed)
    outs, grads = [], []
    for device in ("cpu", "cuda"):
        ts = [mc.tensor(a.astype(dtype) if a.dtype.kind == "f" else a, device=device,
                        requires_grad=grad and a.dtype.kind == "f") for a in arrays]
        y = fn(*ts)
        assert y.device.type == device, f"{fn} returned a {y.device} tensor"
        outs.append(y.detach().cpu().numpy())
        if grad and y.requires_grad:
            g = np.random.default_rng(seed + 1).standard_normal(y.shape).astype(y.dtype)
            y.backward(mc.tensor(g, device=device))
            grads.append([None if t.grad is None else t.grad.cpu().numpy() for t in ts])
    np.testing.assert_allclose(outs[1], outs[0], rtol=rtol, atol=atol)
    if grads:
        for gc, gg in zip(*grads):
            if gc is not None:
                np.testing.assert_allclose(gg, gc, rtol=rtol, atol=atol)
    del rng


R = np.random.default_rng(42)


def randn(*shape):
    return R.standard_normal(shape)


UNARY = [mc.exp, mc.tanh, mc.sigmoid, mc.relu, lambda x: x.abs(), lambda x: (x * x).sqrt(),
         lambda x: mc.clamp(x, -0.5, 0.7), F.gelu, lambda x: F.gelu(x, approximate="tanh"),
         lambda x: F.leaky_relu(x, 0.1), lambda x: mc.softmax(x, dim=-1),
         lambda x: mc.log_softmax(x, dim=1), lambda x: x.sum(dim=1), lambda x: x.mean(),
         lambda x: x.var(dim=0), lambda x: x.amax(dim=1), lambda x: x.max(dim=1)[0],
         lambda x: mc.logsumexp(x, dim=1), lambda x: x.reshape(-1, 2).T,
         lambda x: x[1:, ::2], lambda x: x[mc.tensor([2, 0, 2])], lambda x: F.pad(x, (1, 2)),
         lambda x: F.pad(x[None], (2, 1), mode="reflect")[0], lambda x: x.permute(1, 0)]


@pytest.mark.parametrize("i", range(len(UNARY)))
def test_unary_and_shape_ops(i):
    _pair(UNARY[i], randn(4, 6))


BINARY = [mc.add, mc.sub, mc.mul, mc.div, mc.maximum, mc.minimum, mc.matmul,
          lambda a, b: mc.where(a > 0, a, b), lambda a, b: mc.cat([a, b], dim=1),
          lambda a, b: mc.stack([a, b]), lambda a, b: a ** 2 + b]


@pytest.mark.parametrize("i", range(len(BINARY)))
def test_binary_ops(i):
    a, b = randn(5, 5), randn(5, 5)
    _pair(BINARY[i], a, b)


def test_broadcasting_and_scalars():
    _pair(lambda a, b: a * b + 2.0 - mc.tensor(3.0), randn(3, 1, 4), randn(5, 1))


def test_losses_and_nn_basics():
    x, t = randn(6, 5), R.integers(0, 5, 6)
    _pair(lambda a, y: F.cross_entropy(a, y), x, t)
    _pair(lambda a, y: F.cross_entropy(a, y, label_smoothing=0.1, reduction="sum"), x, t)
    _pair(lambda a, y: F.nll_loss(F.log_softmax(a, dim=1), y), x, t)
    w = mc.tensor(R.random(5))                   # class weights and ignored targets: the
    _pair(lambda a, y: F.cross_entropy(a, y, weight=w.to(a.device), ignore_index=2), x, t)
    _pair(lambda a, y: F.nll_loss(a, y, ignore_index=int(t[0])), x[:1], t[:1])   # all: NaN
    _pair(lambda a, b: F.mse_loss(a, b), x, randn(6, 5))
    _pair(lambda a, b: F.smooth_l1_loss(a, b), x, randn(6, 5))
    _pair(lambda a, b: F.binary_cross_entropy_with_logits(a, b), x, R.random((6, 5)))
    _pair(lambda a, w, b: F.linear(a, w, b), x, randn(3, 5), randn(3))
    _pair(lambda w: F.embedding(mc.tensor([[0, 2], [2, 3]], device=w.device), w), randn(4, 3))
    _pair(lambda a: F.layer_norm(a, (5,)), x)


MORE = {
    "relu_large": (mc.relu, [(3, 50, 41)]),
    "elu": (F.elu, [(4, 6)]), "hardtanh": (F.hardtanh, [(4, 6)]), "mish": (F.mish, [(4, 6)]),
    "silu": (F.silu, [(4, 6)]), "relu6": (lambda a: F.relu6(a * 4), [(4, 6)]),
    "softplus": (lambda a: F.softplus(a, beta=2, threshold=3), [(4, 6)]),
    "kl_div": (lambda a, b: F.kl_div(F.log_softmax(a, 1), F.softmax(b, 1),
                                     reduction="batchmean"), [(4, 6), (4, 6)]),
    "l1": (F.l1_loss, [(4, 6), (4, 6)]),
    "huber": (lambda a, b: F.huber_loss(a, b, delta=0.5), [(4, 6), (4, 6)]),
    "cosine_similarity": (F.cosine_similarity, [(4, 6), (4, 6)]),
    "cosine_embedding": (lambda a, b: F.cosine_embedding_loss(
        a, b, mc.tensor([1, -1, 1, -1], device=a.device)), [(4, 6), (4, 6)]),
    "margin_ranking": (lambda a, b: F.margin_ranking_loss(
        a, b, mc.tensor([1., -1, 1, -1, 1, 1], device=a.device), margin=0.2), [(6,), (6,)]),
    "triplet": (F.triplet_margin_loss, [(4, 6), (4, 6), (4, 6)]),
    "pairwise_distance": (F.pairwise_distance, [(4, 6), (4, 6)]),
    "normalize": (lambda a: F.normalize(a, dim=1), [(4, 6)]),
    "bce": (lambda a, b: F.binary_cross_entropy(F.sigmoid(a), b.sigmoid()), [(4, 6), (4, 6)]),
    "batch_norm_fn": (lambda a: F.batch_norm(a, None, None, training=True), [(4, 3, 5, 5)]),
    "layer_norm_affine": (lambda a, w, b: F.layer_norm(a, (5,), w, b), [(4, 5), (5,), (5,)]),
    "sort": (lambda a: a.sort(dim=1)[0], [(4, 6)]),
    "topk": (lambda a: a.topk(3, dim=1)[0], [(4, 6)]),
    "cumsum": (lambda a: a.cumsum(dim=1), [(4, 6)]),
    "gather": (lambda a: a.gather(1, mc.tensor([[0, 2], [1, 1], [5, 0], [3, 3]],
                                               device=a.device)), [(4, 6)]),
    "prod_std_norm": (lambda a: a.prod(dim=1) + a.std(dim=1) + a.norm(), [(4, 6)]),
    "masked_fill": (lambda a: a.masked_fill(a > 0.5, 0.0), [(4, 6)]),
    "bool_index": (lambda a: a[a > 0], [(4, 6)]),
    "log_pow": (lambda a: (a.abs() + 1).log() + a.pow(3), [(4, 6)]),
    "split_chunk": (lambda a: mc.cat(list(a.split(2, dim=1))[::-1], dim=1) * a.chunk(3, 1)[1]
                    .repeat(1, 3), [(4, 6)]),
    "expand": (lambda a: a[:, None].expand(4, 3, 6), [(4, 6)]),
    "bmm": (mc.bmm, [(2, 3, 4), (2, 4, 5)]),
    "pad_replicate": (lambda a: F.pad(a, (1, 2, 2, 1), mode="replicate"), [(1, 2, 4, 5)]),
    "pad_circular": (lambda a: F.pad(a, (1, 2, 2, 1), mode="circular"), [(1, 2, 4, 5)]),
    "bicubic": (lambda a: F.interpolate(a, size=(7, 9), mode="bicubic"), [(1, 2, 4, 5)]),
    "nearest_exact": (lambda a: F.interpolate(a, size=(7, 9), mode="nearest-exact"),
                      [(1, 2, 4, 5)]),
    # same-size / double-size axes (PyTorch's shortcuts), 1-D/3-D nearest gathers, "area"
    "nearest_shortcuts": (lambda a: F.interpolate(a, scale_factor=(1.3, 2.1)),
                          [(1, 2, 2, 5)]),
    "bilinear_same_height": (lambda a: F.interpolate(a, scale_factor=1.3, mode="bilinear"),
                             [(1, 2, 2, 5)]),
    "nearest_1d_3d_gather": (lambda a, b: F.interpolate(a, scale_factor=1.1).sum()
                             + F.interpolate(b, scale_factor=(1.3, 2.1, 1.5)).sum(),
                             [(1, 2, 5), (1, 2, 2, 3, 4)]),
    "trilinear_same_depth": (lambda a: F.interpolate(a, scale_factor=1.3, mode="trilinear"),
                             [(1, 2, 2, 3, 4)]),
    "area_1d_2d_3d": (lambda a, b, c: F.interpolate(a, size=4, mode="area").sum()
                      + F.interpolate(b, size=(3, 2), mode="area").sum()
                      + F.interpolate(c, size=(1, 2, 3), mode="area").sum(),
                      [(1, 2, 7), (1, 2, 5, 7), (1, 2, 3, 5, 4)]),
    # unbatched inputs; a transposed conv with output_padding >= stride (< dilation)
    "conv_unbatched": (lambda x, w, v: F.conv2d(x, w, padding=1).sum()
                       + F.conv_transpose2d(x, v, stride=2).sum(),
                       [(3, 6, 7), (4, 3, 3, 3), (3, 2, 2, 2)]),
    "conv_transpose_op_past_stride": (lambda x, w, b: F.conv_transpose2d(
        x, w, b, padding=1, output_padding=1, dilation=2), [(2, 4, 5, 4), (4, 3, 2, 3), (3,)]),
    "pool_unbatched_indices": (lambda a: F.max_pool2d(a, 2, return_indices=True)[0]
                               + F.adaptive_max_pool2d(a, (2, 3), return_indices=True)[0],
                               [(3, 4, 6)]),
    "unfold_fold_unbatched": (lambda a: F.fold(F.unfold(a, 2), (5, 6), 2), [(3, 5, 6)]),
    "adaptive_avg_to_zero": (lambda a: F.adaptive_avg_pool2d(a, (0, 2)), [(1, 2, 4, 4)]),
    "depthwise": (lambda x, w: F.conv2d(x, w, None, 1, 1, 1, 4), [(2, 4, 7, 7), (4, 1, 3, 3)]),
    "depthwise_5x5_s2": (lambda x, w: F.conv2d(x, w, None, 2, 2, 1, 4),
                         [(2, 4, 9, 9), (4, 1, 5, 5)]),
    "depthwise_x2_dilated": (lambda x, w, b: F.conv2d(x, w, b, 1, 2, 2, 3),
                             [(2, 3, 8, 7), (6, 1, 3, 3), (6,)]),
}


@pytest.mark.parametrize("name", sorted(MORE))
def test_more_ops_match_cpu(name):
    fn, shapes = MORE[name]
    _pair(fn, *[randn(*s) for s in shapes])


def test_batch_norm_and_group_norm():
    x = randn(4, 6, 5, 5)
    _pair(lambda a: F.group_norm(a, 3), x)
    for device in ("cpu", "cuda"):
        bn = mc.nn.BatchNorm2d(6).to(device)
        y = bn(mc.tensor(x.astype(np.float32), device=device))
        if device == "cpu":
            ref_y, ref_rm = y.detach().numpy(), bn.running_mean.numpy()
        else:
            np.testing.assert_allclose(y.detach().cpu().numpy(), ref_y, rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(bn.running_mean.cpu().numpy(), ref_rm, rtol=1e-5)


def _conv_configs(n=12, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        g = int(rng.choice([1, 2]))
        c, k = 2 * int(rng.integers(1, 3)), 2 * int(rng.integers(1, 3))
        ks = int(rng.choice([1, 2, 3, 5]))
        s, d = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        p = int(rng.integers(0, ks))
        h, w = int(rng.integers(d * (ks - 1) + 1, 12)), int(rng.integers(d * (ks - 1) + 1, 12))
        yield (2, c, h, w), (k, c // g, ks, ks), s, p, d, g


@pytest.mark.parametrize("cfg", list(_conv_configs()))
def test_conv2d_random_configs(cfg):
    xs, ws, s, p, d, g = cfg
    _pair(lambda x, w, b: F.conv2d(x, w, b, s, p, d, g), randn(*xs), randn(*ws),
          randn(ws[0]))


@pytest.mark.parametrize("pad", [0, 1, 2])
@pytest.mark.parametrize("hw", [(3, 3), (7, 5), (8, 11)])
def test_conv2d_winograd_matches_cpu(pad, hw):
    _pair(lambda x, w: F.conv2d(x, w, None, 1, pad, algo="winograd"), randn(2, 3, *hw),
          randn(4, 3, 3, 3))


def test_conv_float32_and_non_contiguous_views():
    x = randn(2, 4, 9, 10)
    _pair(lambda x, w: F.conv2d(x[..., ::-1], w, None, 1, 1), x, randn(3, 4, 3, 3),
          dtype=np.float32, rtol=1e-4, atol=1e-4)
    _pair(lambda x, w: F.conv2d(x.transpose(2, 3), w, None, 2, 1), x, randn(3, 4, 3, 3))
    _pair(lambda x, w: F.conv2d(x[:, 1:, 2:], w, None, 1, 0), x, randn(3, 3, 3, 3))


def test_conv_transpose_conv1d_conv3d_unfold_fold():
    _pair(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
          randn(2, 4, 5, 6), randn(4, 3, 3, 3), randn(3))
    _pair(lambda x, w: F.conv_transpose2d(x, w, groups=2, dilation=2), randn(2, 4, 5, 5),
          randn(4, 2, 3, 3))
    _pair(lambda x, w: F.conv1d(x, w, stride=2, padding=1), randn(2, 3, 11), randn(4, 3, 3))
    _pair(lambda x, w: F.conv3d(x, w, padding=1), randn(1, 2, 4, 5, 4), randn(3, 2, 3, 3, 3))
    _pair(lambda x: F.unfold(x, 3, padding=1, stride=2), randn(2, 3, 7, 6))
    _pair(lambda c: F.fold(c, (6, 7), 3, padding=1), randn(2, 18, 42))


def _pool_configs():
    for k, s, p, d, ceil in [(2, 2, 0, 1, False), (3, 1, 1, 1, False), (3, 2, 1, 1, True),
                             (2, 2, 1, 1, True), (3, 2, 0, 2, False), (3, 3, 1, 1, True)]:
        for hw in [(7, 7), (8, 5), (9, 10)]:
            yield k, s, p, d, ceil, hw


@pytest.mark.parametrize("cfg", list(_pool_configs()))
def test_pooling_random_configs(cfg):
    k, s, p, d, ceil, hw = cfg
    x = randn(2, 3, *hw)
    _pair(lambda t: F.max_pool2d(t, k, s, p, d, ceil), x)
    for cip in (True, False):
        _pair(lambda t: F.avg_pool2d(t, k, s, p, ceil, cip), x)


def test_pooling_ties_and_other_ranks():
    x = np.ones((1, 1, 4, 4))                   # all ties: the first maximum gets it all
    _pair(lambda t: F.max_pool2d(t, 2, 1), x)
    _pair(lambda t: F.max_pool1d(t, 3, 2, 1), randn(2, 3, 11))
    _pair(lambda t: F.avg_pool1d(t, 3, 2, 1), randn(2, 3, 11))
    _pair(lambda t: F.max_pool3d(t, 2), randn(1, 2, 4, 4, 4))
    _pair(lambda t: F.adaptive_avg_pool2d(t, 1), randn(2, 3, 6, 6))
    _pair(lambda t: F.adaptive_avg_pool2d(t, (4, 3)), randn(2, 3, 7, 5))
    _pair(lambda t: F.adaptive_max_pool2d(t, (3, 2)), randn(2, 3, 7, 5))


@pytest.mark.parametrize("size", [(9, 4), (12, 12), (3, 5)])
@pytest.mark.parametrize("mode,align", [("nearest", None), ("bilinear", False),
                                        ("bilinear", True)])
def test_interpolate(size, mode, align):
    _pair(lambda t: F.interpolate(t, size=size, mode=mode, align_corners=align),
          randn(2, 3, 6, 5))
    _pair(lambda t: F.interpolate(t[:, :, ::-1], scale_factor=2, mode=mode,
                                  align_corners=align), randn(1, 2, 4, 3))


def test_gpu_backward_passes_are_deterministic():
    x = mc.randn(4, 8, 16, 16, device="cuda", requires_grad=True)
    w = mc.randn(8, 8, 3, 3, device="cuda")
    grads = []
    for _ in range(2):
        x.grad = None
        y = F.interpolate(F.max_pool2d(F.conv2d(x, w, padding=1), 3, 2, 1), scale_factor=2,
                          mode="bilinear")
        y.sum().backward()
        grads.append(x.grad.cpu().numpy())
    assert np.array_equal(grads[0], grads[1])


def test_tf32_off_by_default():
    x = mc.randn(8, 8, device="cuda")
    (x @ x).sum().item()                       # CuPy now in use
    assert mc.backends.allow_tf32 is False
    assert mc.backends.tf32_in_use() is False
    from cupy._core import _routines_linalg as linalg
    assert linalg.get_compute_type(np.float32) != linalg.COMPUTE_TYPE_TF32
    mc.backends.allow_tf32 = True
    try:
        assert mc.backends.tf32_in_use() is True
    finally:
        mc.backends.allow_tf32 = False
    assert mc.backends.tf32_in_use() is False


def test_devices_move_and_mix():
    t = mc.randn(3, 4, requires_grad=True)
    g = t.cuda()
    assert g.device == "cuda:0" and t.device == "cpu"
    (g * 2).sum().backward()                   # the gradient flows back to the CPU leaf
    np.testing.assert_array_equal(t.grad.numpy(), np.full((3, 4), 2, np.float32))
    with pytest.raises(RuntimeError, match="cpu and cuda:0|cuda:0 and cpu"):
        mc.randn(3, 4) + mc.randn(3, 4, device="cuda")
    with pytest.raises(TypeError, match=r"\.cpu\(\)\.numpy\(\)"):
        g.detach().numpy()
    assert "device='cuda:0'" in repr(g.detach())


def test_module_to_and_optimizer_state_follow():
    mc.manual_seed(0)
    model = mc.nn.Sequential(mc.nn.Conv2d(3, 4, 3, padding=1), mc.nn.BatchNorm2d(4),
                             mc.nn.ReLU(), mc.nn.AdaptiveAvgPool2d(1), mc.nn.Flatten(),
                             mc.nn.Linear(4, 2))
    params = list(model.parameters())
    opt = mc.optim.Adam(model.parameters(), lr=1e-2)
    x, y = mc.randn(4, 3, 8, 8), mc.tensor([0, 1, 1, 0])
    F.cross_entropy(model(x), y).backward()
    opt.step()                                 # state created on the CPU
    model.to("cuda")
    assert [p is q for p, q in zip(params, model.parameters())] == [True] * len(params)
    assert all(p.device == "cuda:0" for p in model.parameters())
    assert all(b.device == "cuda:0" for b in model.buffers())
    opt.zero_grad()
    F.cross_entropy(model(x.cuda()), y.cuda()).backward()
    opt.step()                                 # state follows its parameters
    for st in opt.state.values():
        for v in st.values():
            if isinstance(v, mc.Tensor):
                assert v.device == "cuda:0"
    sd = opt.state_dict()
    cpu_model = model.to("cpu")
    opt.load_state_dict(sd)
    assert all(v.device == "cpu" for st in opt.state.values() for v in st.values()
               if isinstance(v, mc.Tensor))
    del cpu_model


def test_resnet_train_step_matches_cpu():
    from minicv.models import get_model
    losses = {}
    for device in ("cpu", "cuda"):
        mc.manual_seed(0)
        model = get_model("resnet20", num_classes=10).double().to(device)
        opt = mc.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        rng = np.random.default_rng(0)
        x = mc.tensor(rng.standard_normal((8, 3, 32, 32)), device=device)
        y = mc.tensor(rng.integers(0, 10, 8), device=device)
        out = []
        for _ in range(3):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            out.append(loss.item())
        losses[device] = out
    np.testing.assert_allclose(losses["cuda"], losses["cpu"], rtol=1e-7)


def test_trainer_on_gpu(tmp_path):
    from minicv.data import DataLoader, TensorDataset
    from minicv.models import get_model
    from minicv.train.trainer import Trainer
    mc.manual_seed(0)
    rng = np.random.default_rng(0)
    ds = TensorDataset(mc.tensor(rng.standard_normal((32, 1, 28, 28)).astype(np.float32)),
                       mc.tensor(rng.integers(0, 10, 32)))
    model = get_model("lenet5", num_classes=10)
    opt = mc.optim.SGD(model.parameters(), lr=0.01)
    tr = Trainer(model, opt, num_classes=10, progress=False, log=lambda *a: None,
                 device="cuda")
    row = tr.train_epoch(DataLoader(ds, batch_size=8))
    assert np.isfinite(row["train_loss"]) and next(model.parameters()).device == "cuda:0"


OPTIMIZERS = {
    "sgd_nesterov": lambda p: mc.optim.SGD(p, lr=0.01, momentum=0.9, nesterov=True,
                                           weight_decay=1e-4),
    "adam": lambda p: mc.optim.Adam(p, lr=1e-3, weight_decay=1e-4),
    "adamw": lambda p: mc.optim.AdamW(p, lr=1e-3),
    "rmsprop": lambda p: mc.optim.RMSprop(p, lr=1e-3, momentum=0.5, centered=True),
}


@pytest.mark.parametrize("name,optimizer", [("lenet5", "adam"), ("lenet5", "adamw"),
                                            ("lenet5", "rmsprop"), ("vgg11", "sgd_nesterov"),
                                            ("densenet", "sgd_nesterov"),
                                            ("inception", "sgd_nesterov"),
                                            ("mobilenet", "sgd_nesterov")])
def test_zoo_train_steps_match_cpu(name, optimizer):
    """Two float64 steps with gradient clipping: the same losses on both devices."""
    from minicv.models import get_model
    shape = (2, 1, 28, 28) if name == "lenet5" else (2, 3, 32, 32)
    losses = {}
    for device in ("cpu", "cuda"):
        mc.manual_seed(0)
        model = get_model(name, num_classes=10).double().to(device)
        opt = OPTIMIZERS[optimizer](model.parameters())
        rng = np.random.default_rng(0)
        x = mc.tensor(rng.standard_normal(shape), device=device)
        y = mc.tensor(rng.integers(0, 10, shape[0]), device=device)
        out = []
        for _ in range(2):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            norm = mc.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            assert norm.device.type == device
            opt.step()
            out.append(loss.item())
        losses[device] = out
    np.testing.assert_allclose(losses["cuda"], losses["cpu"], rtol=1e-7)


def test_dropout_masks_match_across_devices():
    out = {}
    for device in ("cpu", "cuda"):
        mc.manual_seed(3)
        a = F.dropout(mc.ones(4, 5, device=device), 0.5, training=True)
        b = F.dropout2d(mc.ones(2, 3, 2, 2, device=device), 0.5, training=True)
        out[device] = (a.cpu().numpy(), b.cpu().numpy())
    for c, g in zip(out["cpu"], out["cuda"]):
        np.testing.assert_array_equal(g, c)


def test_gpu_checkpoint_loads_on_cpu_and_features_come_home(tmp_path):
    from minicv.models import get_model
    from minicv.models.transfer import extract_features
    mc.manual_seed(0)
    model = get_model("lenet5", num_classes=10).to("cuda")
    path = tmp_path / "m.pt"
    mc.save(model.state_dict(), path)
    cpu_model = get_model("lenet5", num_classes=10)
    cpu_model.load_state_dict(mc.load(path))
    x = np.random.default_rng(0).standard_normal((5, 1, 28, 28)).astype(np.float32)
    layer = [n for n, _ in cpu_model.named_modules() if n][-2]
    feats = extract_features(model, x, layer, batch_size=2)
    assert type(feats) is np.ndarray
    np.testing.assert_array_equal(extract_features(model, cp.asarray(x), layer, batch_size=2),
                                  feats)
    np.testing.assert_allclose(feats, extract_features(cpu_model, x, layer), rtol=1e-5,
                               atol=1e-6)


def test_gradcheck_runs_on_gpu_tensors():
    from minicv.autograd import Function
    from minicv.testing import GradcheckError, gradcheck
    x = mc.tensor(randn(2, 3, 7, 7), device="cuda", requires_grad=True)
    w = mc.tensor(randn(4, 3, 3, 3), device="cuda", requires_grad=True)
    assert gradcheck(lambda a, b: F.max_pool2d(F.conv2d(a, b, padding=1), 2), (x, w))

    class WrongSquare(Function):                # d(x²)/dx is 2x, not x
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, gy):
            (a,) = ctx.saved_tensors
            return gy * a
    with pytest.raises(GradcheckError):
        gradcheck(WrongSquare.apply, (mc.tensor(randn(3), device="cuda", requires_grad=True),))


@pytest.mark.parametrize("make", [
    lambda ps: mc.optim.SGD(ps, lr=0.1, momentum=0.0),
    lambda ps: mc.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-2),
    lambda ps: mc.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.3, maximize=True),
    lambda ps: mc.optim.SGD(ps, lr=0.1, momentum=0.8, nesterov=True, weight_decay=5e-4),
    lambda ps: mc.optim.Adam(ps, lr=0.1),
    lambda ps: mc.optim.Adam(ps, lr=0.1, weight_decay=1e-2, amsgrad=True),
    lambda ps: mc.optim.Adam(ps, lr=0.1, betas=(0.8, 0.9), eps=1e-3, maximize=True),
    lambda ps: mc.optim.AdamW(ps, lr=0.1, weight_decay=0.1, amsgrad=True)])
def test_multi_tensor_optimizer_kernels_match_cpu(make):
    """The one-launch GPU updates equal the CPU rules, state included, over mixed shapes and
    dtypes, a parameter that never gets a gradient, one that skips a step (its own step
    count), and a non-contiguous parameter (updated apart)."""
    rng = np.random.default_rng(0)
    shapes = [(3, 4), (7,), (2, 3, 3, 3), (1,), (5, 2), (40, 31)]   # the last: 5 blocks
    init = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(3)]
    result = {}
    for device in ("cpu", "cuda"):
        ps = [mc.tensor(a, device=device, requires_grad=True) for a in init]
        ps[1] = mc.tensor(init[1].astype(np.float32), device=device, requires_grad=True)
        ps[4].data = ps[4].data.T.copy().T                # an F-ordered parameter
        opt = make(ps)
        for k, step in enumerate(grads):
            for i, (p, g) in enumerate(zip(ps, step)):
                skip = i == 3 or (i == 2 and k == 1)
                p.grad = None if skip else mc.tensor(g.astype(p.dtype), device=device)
            opt.step()
        result[device] = ([p.detach().cpu().numpy() for p in ps],
                          {i: {k: v.cpu().numpy() if isinstance(v, mc.Tensor) else v
                               for k, v in s.items()}
                           for i, s in opt.state_dict()["state"].items()})
    for c, g in zip(result["cpu"][0], result["cuda"][0]):
        tol = 2e-5 if c.dtype == np.float32 else 1e-12     # float32: a GPU contracts FMAs
        np.testing.assert_allclose(g, c, rtol=tol, atol=tol)
    assert result["cpu"][1].keys() == result["cuda"][1].keys()
    for i in result["cpu"][1]:
        for name, value in result["cpu"][1][i].items():
            np.testing.assert_allclose(result["cuda"][1][i][name], value, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(6, 3), (4, 5, 7), (3, 4, 5, 6), (2, 3, 40, 40)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_kernels_match_cpu(shape, affine):
    """csrc/batchnorm.cu against the CPU op: training and eval, with and without affine
    parameters, a large mean (shifted sums), the running statistics (momentum and the
    cumulative average), float64 and float32."""
    x = randn(*shape) * 3 + 1e3
    c = shape[1]
    w, b = randn(c), randn(c)
    for dtype, tol in ((np.float64, 1e-9), (np.float32, 1e-4)):
        _pair(lambda t, w, b: F.batch_norm(t, None, None, w if affine else None,
                                           b if affine else None, training=True),
              x, w, b, dtype=dtype, rtol=tol, atol=tol)
        _pair(lambda t, w, b: F.batch_norm(t, mc.tensor(np.full(c, 1e3), dtype=t.dtype,
                                                        device=t.device),
                                           mc.tensor(np.full(c, 8.0), dtype=t.dtype,
                                                     device=t.device),
                                           w if affine else None, b if affine else None,
                                           training=False),
              x, w, b, dtype=dtype, rtol=tol, atol=tol)
    for momentum in (0.1, None):
        running = {}
        for device in ("cpu", "cuda"):
            bn = mc.nn.BatchNorm1d(c, momentum=momentum, affine=affine) if len(shape) < 4 \
                else mc.nn.BatchNorm2d(c, momentum=momentum, affine=affine)
            bn = bn.double().to(device)
            for k in range(3):
                bn(mc.tensor(x + k, device=device))
            running[device] = [bn.running_mean.cpu().numpy(), bn.running_var.cpu().numpy()]
        for g, cpu in zip(running["cuda"], running["cpu"]):
            np.testing.assert_allclose(g, cpu, rtol=1e-9)


def test_batch_norm_frozen_weight_and_float32_buffers_with_float64_input():
    """Only the gradients asked for; running buffers the kernel cannot update in place
    (another dtype) are updated by the generic rule instead."""
    x = randn(4, 3, 5, 5)
    _pair(lambda t, w: F.batch_norm(t, None, None, w.detach(), None, training=True), x,
          randn(3))
    out = {}
    for device in ("cpu", "cuda"):
        rm = mc.zeros(3, device=device)                  # float32 buffers, float64 input
        rv = mc.ones(3, device=device)
        F.batch_norm(mc.tensor(x, device=device), rm, rv, training=True)
        out[device] = (rm.cpu().numpy(), rv.cpu().numpy())
    for g, c in zip(out["cuda"], out["cpu"]):
        np.testing.assert_allclose(g, c, rtol=1e-6)


def test_relu_backward_select_on_gpu():
    for device in ("cpu", "cuda"):
        x = mc.tensor([-1.0, 0.0, 2.0], device=device, requires_grad=True)
        mc.relu(x).backward(mc.tensor([np.nan, np.nan, 3.0], device=device))
        np.testing.assert_array_equal(x.grad.cpu().numpy(), [0.0, 0.0, 3.0])


def test_gpu_gradients_become_grad_without_a_copy_only_when_unshared():
    """A fresh GPU gradient held by nothing else becomes .grad as is (PyTorch steals it
    too); one array sent to two leaves, or passed through a hook, is copied."""
    a = mc.randn(3, 4, device="cuda", requires_grad=True)
    b = mc.randn(3, 4, device="cuda", requires_grad=True)
    (a + b).sum().backward()                     # Add sends the same array to a and b
    a.grad.data[...] = 7.0
    np.testing.assert_array_equal(b.grad.cpu().numpy(), np.ones((3, 4), np.float32))
    held = []
    c = mc.randn(3, device="cuda", requires_grad=True)
    c.register_hook(lambda g: held.append(g * 2) or held[-1])
    (c * 3).sum().backward()
    held[0].data[...] = 0.0
    np.testing.assert_array_equal(c.grad.cpu().numpy(), np.full(3, 6, np.float32))
    w = mc.randn(4, 3, 3, 3, device="cuda", requires_grad=True)
    F.conv2d(mc.randn(2, 3, 6, 6, device="cuda"), w).sum().backward()
    g1 = w.grad.cpu().numpy()
    F.conv2d(mc.randn(2, 3, 6, 6, device="cuda"), w).sum().backward()   # accumulates
    assert np.abs(w.grad.cpu().numpy() - g1).max() > 0


def test_relu_float16_on_gpu_matches_cpu():
    _pair(mc.relu, randn(4, 6), dtype=np.float16, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("make", [lambda ps: mc.optim.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: mc.optim.Adam(ps, lr=0.1, amsgrad=True)])
def test_optimizer_state_follows_a_dtype_change(make):
    """After model.double() the float32 state is converted for the float64 kernel (it
    would read past it otherwise); the CPU path keeps float32 state: equal to rounding."""
    out, data = {}, randn(4, 5).astype(np.float32)
    for device in ("cpu", "cuda"):
        mc.manual_seed(0)
        model = mc.nn.Linear(5, 3).to(device)
        opt = make(model.parameters())
        x = mc.tensor(data, device=device)
        model(x).sum().backward()
        opt.step()
        model.double()
        opt.zero_grad()
        model(x.double()).sum().backward()
        opt.step()
        out[device] = [p.detach().cpu().numpy() for p in model.parameters()]
    for g, c in zip(out["cuda"], out["cpu"]):
        np.testing.assert_allclose(g, c, rtol=1e-5, atol=1e-6)


def test_unshared_gradients_are_not_copied():
    """Emulator only (it counts launches): a step's fresh gradients become .grad without
    the copy kernel."""
    if not getattr(cp, "EMULATED", False):
        pytest.skip("counts launches on the CuPy emulator")
    from cupy import _stats
    model = mc.nn.Sequential(mc.nn.Conv2d(3, 4, 3), mc.nn.BatchNorm2d(4)).to("cuda")
    x = mc.randn(2, 3, 6, 6, device="cuda")
    _stats.reset()
    model(x).sum().backward()
    assert _stats.launches["array"] == 0, _stats.launches
    assert all(p.grad is not None for p in model.parameters())


def test_float16_pooling_on_gpu_is_refused_clearly():
    x = mc.tensor(randn(1, 2, 6, 6).astype(np.float16), device="cuda")
    for fn in (lambda t: F.adaptive_avg_pool2d(t, (4, 5)), lambda t: F.adaptive_max_pool2d(t, 2),
               lambda t: F.max_pool3d(t[:, None], 2)):
        with pytest.raises(TypeError, match="expects float32 or float64, got float16"):
            fn(x)


def test_loss_arguments_on_another_device_raise_naming_both():
    x = mc.randn(4, 3, device="cuda")
    for call in (lambda: F.cross_entropy(x, mc.tensor([0, 1, 2, 0])),
                 lambda: F.cross_entropy(x, mc.tensor([0, 1, 2, 0], device="cuda"),
                                         weight=mc.ones(3)),
                 lambda: F.nll_loss(x, mc.tensor([0, 1, 2, 0])),
                 lambda: F.binary_cross_entropy_with_logits(x, mc.rand(4, 3, device="cuda"),
                                                            pos_weight=mc.ones(3))):
        with pytest.raises(RuntimeError, match="same device.*cuda:0.*cpu"):
            call()
