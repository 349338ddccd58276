"""Regressions found by comparing minicv's nn layers with PyTorch 2.13 on random cases:
child/buffer order on reassignment, empty batches (depthwise convolutions, BatchNorm,
Linear with a zero-size feature), ConvTranspose output_padding, integer max pooling and
nearest resampling, group_norm's one-value check, float16 input into float32 norms,
init.sparse_ and adaptive_max_pool*_with_indices. Expected values written out from torch."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as hs

import minicv as mc
import minicv.nn as nn
import minicv.nn.functional as F
from minicv.testing import gradcheck


# ----------------------------------------------------------------------------- module order

class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(1, 1)
        self.register_buffer("b", mc.zeros(1))
        self.register_buffer("c", mc.zeros(1), persistent=False)
        self.p = nn.Parameter(mc.zeros(1))
        self.d = nn.Linear(1, 1)
        self.q = nn.Parameter(mc.zeros(1))


_ORDER = ["p", "q", "b", "a.weight", "a.bias", "d.weight", "d.bias"]


def test_replacing_a_sequential_child_keeps_its_place():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4))
    new = nn.Linear(2, 3)
    s[0] = new
    assert [type(m).__name__ for m in s] == ["Linear", "ReLU", "Linear"]
    assert s[0] is new
    assert list(s.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert s(mc.ones(5, 2)).shape == (5, 4)                 # the chain still fits


def test_replacing_a_child_or_buffer_keeps_state_dict_order():
    m = _Net()
    m.a = nn.Linear(1, 1)
    assert list(m.state_dict()) == _ORDER
    assert list(dict(m.named_children())) == ["a", "d"]
    m = _Net()
    m.b, m.c = mc.ones(1), mc.ones(1)                      # plain tensors into buffers
    assert list(m.state_dict()) == _ORDER and list(dict(m.named_buffers())) == ["b", "c"]
    m = _Net()
    m.b = nn.Buffer(mc.ones(1))
    assert list(m.state_dict()) == _ORDER
    m = _Net()
    m.c = nn.Buffer(mc.ones(1))                            # now persistent, same slot
    assert list(m.state_dict()) == ["p", "q", "b", "c"] + _ORDER[3:]
    m = _Net()
    m.a = None                                             # None keeps the slot too
    assert list(m._modules) == ["a", "d"]
    m.a = nn.Linear(1, 1)
    assert list(m._modules) == ["a", "d"]
    m = _Net()
    m.p = None
    m.p = nn.Parameter(mc.ones(1))
    assert list(m._parameters) == ["p", "q"]


def test_changing_the_kind_of_an_entry_moves_it_as_in_torch():
    m = _Net()
    m.a = nn.Parameter(mc.zeros(1))                        # module -> parameter: appended
    assert list(m.state_dict()) == ["p", "q", "a", "b", "d.weight", "d.bias"]
    m = _Net()
    m.c = nn.Parameter(mc.zeros(1))                        # buffer -> parameter
    assert list(m.state_dict()) == ["p", "q", "c", "b"] + _ORDER[3:]
    assert m._non_persistent_buffers_set == set()
    m = _Net()
    m.b = nn.Linear(1, 1)                                  # buffer -> module: appended
    assert list(m.state_dict()) == ["p", "q"] + _ORDER[3:] + ["b.weight", "b.bias"]
    m = _Net()
    with pytest.raises(TypeError):
        m.p = nn.Linear(1, 1)
    with pytest.raises(TypeError):
        m.a = nn.Buffer(mc.ones(1))
    m.x = 3
    with pytest.raises(KeyError):
        m.x = nn.Buffer(mc.ones(1))


# ----------------------------------------------------------------------------- empty batches

@pytest.mark.parametrize("name, x_shape, w_shape, kw", [
    ("conv1d", (0, 2, 6), (4, 1, 3), dict(stride=3, dilation=2, groups=2)),
    ("conv2d", (0, 3, 5, 5), (3, 1, 3, 3), dict(groups=3, padding=1)),
    ("conv2d", (0, 3, 5, 5), (6, 1, 2, 2), dict(groups=3, stride=2)),
    ("conv_transpose1d", (0, 6, 3), (6, 1, 1),
     dict(stride=2, dilation=2, groups=3, padding=1, output_padding=1)),
    ("conv_transpose2d", (0, 3, 4, 4), (3, 1, 3, 3), dict(groups=3, stride=2)),
])
@pytest.mark.parametrize("dtype", [mc.float32, mc.float64])
def test_depthwise_conv_of_an_empty_batch(name, x_shape, w_shape, kw, dtype):
    expected = {(0, 2, 6): (0, 4, 1), (0, 6, 3): (0, 3, 4)}
    x = mc.ones(x_shape, dtype=dtype, requires_grad=True)
    w = mc.ones(w_shape, dtype=dtype, requires_grad=True)
    transposed = "transpose" in name
    b = mc.ones(w_shape[1] * kw["groups"] if transposed else w_shape[0], dtype=dtype,
                requires_grad=True)
    y = getattr(F, name)(x, w, b, **kw)
    y.sum().backward()
    if x_shape in expected:
        assert y.shape == expected[x_shape]
    assert y.shape[0] == 0 and x.grad.shape == x_shape
    assert w.grad.shape == w_shape and not w.grad.numpy().any()
    assert b.grad.tolist() == [0.0] * b.shape[0]


def test_batchnorm_training_on_an_empty_batch():
    bn = nn.BatchNorm2d(3)
    x = mc.ones(0, 3, 4, 4, requires_grad=True)
    y = bn(x)
    assert y.shape == (0, 3, 4, 4) and bn.num_batches_tracked.item() == 1
    assert bn.running_mean.tolist() == [0, 0, 0] and bn.running_var.tolist() == [1, 1, 1]
    y.sum().backward()
    assert bn.weight.grad.tolist() == [0, 0, 0] and bn.bias.grad.tolist() == [0, 0, 0]
    one = nn.BatchNorm1d(2)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        one(mc.ones(1, 2))
    assert one.num_batches_tracked.item() == 0          # torch counts before it raises


@pytest.mark.parametrize("fan_in, fan_out", [(0, 3), (3, 0)])
def test_linear_with_a_zero_size_feature_dim(fan_in, fan_out):
    lin = nn.Linear(fan_in, fan_out)
    x = mc.ones(2, fan_in, requires_grad=True)
    y = lin(x)
    y.sum().backward()
    assert y.shape == (2, fan_out) and not y.detach().numpy().any()
    assert x.grad.shape == (2, fan_in) and not x.grad.numpy().any()
    assert lin.weight.grad.shape == (fan_out, fan_in)
    assert lin.bias.grad.tolist() == [2.0] * fan_out


# ----------------------------------------------------------------------------- conv transpose

def test_conv_transpose_output_padding_is_checked_in_forward():
    m = nn.ConvTranspose1d(2, 2, 1, output_padding=1)       # torch accepts it here
    x = mc.ones(1, 2, 4)
    assert m(x, output_size=[4]).shape == (1, 2, 4)          # output_padding unused
    with pytest.raises(ValueError, match="output padding must be smaller"):
        m(x)
    m = nn.ConvTranspose2d(2, 2, 3, stride=2, output_padding=(2, 0))
    assert m(mc.ones(1, 2, 4, 4), output_size=(10, 9)).shape == (1, 2, 10, 9)


# ----------------------------------------------------------------------------- integer inputs

@pytest.mark.parametrize("dtype", [mc.int64, mc.int32, mc.uint8])
def test_max_pool_of_integer_tensors(dtype):
    x2 = (mc.arange(36) % 7).to(dtype).reshape(1, 1, 6, 6)
    y = F.max_pool2d(x2, 2)
    assert y.dtype == dtype and y.flatten().tolist() == [6, 3, 5, 6, 6, 3, 4, 6, 6]
    y, idx = F.max_pool2d(x2, 3, 2, 1, return_indices=True)
    assert y.flatten().tolist() == [6, 3, 5, 6, 6, 4, 5, 6, 6] and idx.dtype == mc.int64
    x3 = (mc.arange(64) % 7).to(dtype).reshape(1, 1, 4, 4, 4)
    assert F.max_pool3d(x3, 2).flatten().tolist() == [6] * 8
    x1 = (mc.arange(10) % 7).to(dtype).reshape(1, 1, 10)
    assert F.max_pool1d(x1, 2).flatten().tolist() == [1, 3, 5, 6, 2]   # torch raises
    unbatched = mc.arange(12).to(dtype).reshape(1, 3, 4)
    assert nn.MaxPool2d((1, 3), padding=(0, 1))(unbatched).tolist() == \
        [[[1, 3], [5, 7], [9, 11]]]


def test_max_pool_of_integers_with_padding_and_empty_batch():
    m = mc.tensor([[[[1, 0, 2, 2], [0, 0, 2, 2], [5, 5, 0, 1], [5, 5, 1, 0]]]])
    y, idx = F.max_pool2d(m, 3, 2, 1, return_indices=True)
    assert y.tolist() == [[[[1, 2], [5, 5]]]] and idx.tolist() == [[[[0, 2], [8, 9]]]]
    neg = -mc.arange(6).reshape(1, 1, 2, 3)                 # padding never wins
    assert F.max_pool2d(neg, 2, 1, 1).tolist() == [[[[0, 0, -1, -2], [0, 0, -1, -2],
                                                     [-3, -3, -4, -5]]]]
    assert F.max_pool3d(-mc.arange(27, dtype=mc.int32).reshape(1, 1, 3, 3, 3), 2, 1).tolist() \
        == [[[[[0, -1], [-3, -4]], [[-9, -10], [-12, -13]]]]]
    assert F.max_pool2d(mc.zeros(0, 2, 4, 4, dtype=mc.int64), 2).shape == (0, 2, 2, 2)
    with pytest.raises(TypeError, match="bool"):
        F.max_pool2d(mc.zeros(1, 1, 2, 2, dtype=mc.bool), 2)
    with pytest.raises(TypeError, match="int64"):          # as torch: no adaptive int pool
        F.adaptive_max_pool2d(mc.zeros(1, 1, 2, 2, dtype=mc.int64), 1)


@given(hs.integers(1, 3), hs.integers(1, 2), hs.integers(0, 1), hs.booleans(),
       hs.integers(0, 2 ** 16))
def test_integer_max_pool_matches_float_pool(k, s, p, ceil, seed):
    p = min(p, k // 2)
    vals = np.random.default_rng(seed).integers(-50, 50, (2, 1, 5, 4))
    want, want_idx = F.max_pool2d(mc.tensor(vals.astype(np.float64)), k, s, p,
                                  ceil_mode=ceil, return_indices=True)
    got, idx = F.max_pool2d(mc.tensor(vals), k, s, p, ceil_mode=ceil, return_indices=True)
    assert got.dtype == mc.int64
    assert got.tolist() == want.tolist() and idx.tolist() == want_idx.tolist()


@pytest.mark.parametrize("dtype", [mc.uint8, mc.int64])
def test_nearest_interpolation_of_integer_tensors(dtype):
    x2 = (mc.arange(36) % 7).to(dtype).reshape(1, 1, 6, 6)
    y = F.interpolate(x2, scale_factor=1.5, mode="nearest")
    assert y.dtype == dtype and y.shape == (1, 1, 9, 9)
    assert y.flatten().tolist()[:12] == [0, 0, 1, 2, 2, 3, 4, 4, 5, 0, 0, 1]
    x1 = (mc.arange(10) % 7).to(dtype).reshape(1, 1, 10)
    assert F.interpolate(x1, size=7).flatten().tolist() == [0, 1, 2, 4, 5, 0, 1]
    assert F.interpolate(mc.tensor([[[3, 9]]]).to(dtype), scale_factor=1.3).tolist() == \
        [[[3, 3]]]                                           # 1-D: no same-size shortcut
    assert F.interpolate(mc.tensor([[[[0, 1], [2, 3]]]]).to(dtype), scale_factor=1.3) \
        .tolist() == [[[[0, 1], [2, 3]]]]                    # 2-D: the shortcut
    x3 = mc.arange(8).to(dtype).reshape(1, 1, 2, 2, 2)
    assert F.interpolate(x3, scale_factor=(1.5, 1, 2)).flatten().tolist() == \
        [0, 0, 1, 1, 2, 2, 3, 3, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7]
    exact = F.interpolate(mc.arange(6).to(dtype).reshape(1, 1, 2, 3), size=(3, 5),
                          mode="nearest-exact")
    assert exact.tolist() == [[[[0, 0, 1, 2, 2], [3, 3, 4, 5, 5], [3, 3, 4, 5, 5]]]]
    with pytest.raises(TypeError, match="float32 or float64"):
        F.interpolate(x2, scale_factor=2, mode="bilinear")
    with pytest.raises(TypeError, match="bool"):
        F.interpolate(mc.zeros(1, 1, 2, 2, dtype=mc.bool), scale_factor=2)


# ----------------------------------------------------------------------------- normalisation

def test_group_norm_needs_more_than_one_value_per_group():
    for shape in [(1, 2), (1, 2, 1), (1, 2, 1, 1)]:
        with pytest.raises(ValueError, match=r"got input size \[1, 2"):
            F.group_norm(mc.ones(shape), 2)
    with pytest.raises(ValueError, match="more than 1 value"):
        nn.GroupNorm(2, 2)(mc.ones(1, 2))
    for shape in [(2, 2), (1, 4), (1, 2, 3), (0, 2)]:
        assert F.group_norm(mc.ones(shape), 2).shape == shape


def _half_through(layer):
    """A float16 input through float32 ``layer`` (γ = [1.5, -0.5], β = [0.25, 1]):
    (input, output) after backward of sum(y · arange)."""
    x = mc.tensor([[[[1., 2.], [3., 4.5]], [[0.5, -1.], [2., 7.]]]]).repeat(2, 1, 1, 1)
    x.data[1] *= -0.5
    x = x.to(mc.float16).requires_grad_()
    layer.weight.data[...] = [1.5, -0.5]
    layer.bias.data[...] = [0.25, 1.0]
    y = layer(x)
    assert y.dtype == mc.float16
    (y.float() * mc.arange(16.).reshape(2, 2, 2, 2)).sum().backward()
    assert x.grad.dtype == mc.float16 and layer.weight.grad.dtype == mc.float32
    return x, y


def test_float16_input_into_float32_batch_norm():
    bn = nn.BatchNorm2d(2)
    x, y = _half_through(bn)
    np.testing.assert_allclose(y.flatten().tolist(), [
        0.482421875, 1.158203125, 1.8349609375, 2.849609375, 1.005859375, 1.267578125,
        0.74365234375, -0.1298828125, -0.53173828125, -0.8701171875, -1.2080078125,
        -1.71484375, 1.13671875, 1.005859375, 1.267578125, 1.7041015625], rtol=2e-3)
    np.testing.assert_allclose(x.grad.flatten().tolist()[:4],
                               [-3.36328125, -1.6552734375, 0.0538024902, 2.279296875],
                               rtol=5e-3)
    np.testing.assert_allclose(bn.weight.grad.tolist(), [-27.10394096, -15.85110378],
                               rtol=1e-4)
    assert bn.bias.grad.tolist() == [44.0, 76.0]
    np.testing.assert_allclose(bn.running_var.tolist(), [1.46238828, 1.8364954], rtol=1e-5)
    assert bn.eval()(x).dtype == mc.float16
    with pytest.raises(TypeError, match="float64"):         # float32 into float64: refused
        nn.BatchNorm2d(2).double()(x.float())


def test_float16_input_into_float32_layer_norm():
    ln = nn.LayerNorm(2)
    x, y = _half_through(ln)
    assert y.flatten().tolist() == [-1.25, 0.5, -1.25, 0.5, 1.75, 1.5, -1.25, 0.5,
                                    1.75, 1.5, 1.75, 1.5, -1.25, 0.5, 1.75, 1.5]
    assert ln.bias.grad.tolist() == [56.0, 64.0]
    np.testing.assert_allclose(ln.weight.grad.tolist(), [16.0, -16.0], rtol=1e-3)
    with pytest.raises(TypeError, match="float64"):
        nn.LayerNorm(2).double()(x.float())


# ----------------------------------------------------------------------------- additions

def test_init_sparse():
    gen = mc.Generator().manual_seed(3)
    t = nn.init.sparse_(mc.empty(10, 6), sparsity=0.25, generator=gen)
    zeros = (t == 0).sum(0).tolist()
    assert zeros == [math.ceil(0.25 * 10)] * 6
    again = nn.init.sparse_(mc.empty(10, 6), 0.25, generator=mc.Generator().manual_seed(3))
    assert again.tolist() == t.tolist()
    big = nn.init.sparse_(mc.empty(400, 50), 0.5, std=0.1)
    nz = big.numpy()[big.numpy() != 0]
    assert nz.size == 400 * 50 // 2 and abs(nz.std() - 0.1) < 0.01
    assert not nn.init.sparse_(mc.empty(4, 3), 1.5).numpy().any()    # all rows zeroed
    assert nn.init.sparse_(mc.empty(0, 3), 0.5).shape == (0, 3)
    with pytest.raises(ValueError, match="2 dimensions"):
        nn.init.sparse_(mc.empty(2, 3, 4), 0.1)


def test_adaptive_max_pool_with_indices():
    x = mc.tensor([[[1.0, 3, 2, 5, 4, 0, 7]]], requires_grad=True)
    y, idx = F.adaptive_max_pool1d_with_indices(x, 3)
    assert y.tolist() == [[[3, 5, 7]]] and idx.tolist() == [[[1, 3, 6]]]
    y2, idx2 = F.adaptive_max_pool2d_with_indices(x.unsqueeze(0), (1, 3))
    assert idx2.tolist() == [[[[1, 3, 6]]]]
    y3, idx3 = F.adaptive_max_pool3d_with_indices(mc.arange(8.).reshape(1, 1, 2, 2, 2), 1)
    assert y3.tolist() == [[[[[7.0]]]]] and idx3.tolist() == [[[[[7]]]]]
    assert gradcheck(lambda t: F.adaptive_max_pool1d_with_indices(t, 3)[0],
                     (mc.tensor([[[1.0, 3, 2, 5, 4, 0, 7]]], dtype=mc.float64,
                                requires_grad=True),))


# ----------------------------------------------------------------------------- antialias

_AA_X = (mc.arange(20., dtype=mc.float64).reshape(1, 1, 4, 5) ** 1.5)


@pytest.mark.parametrize("kw, values, grad", [
    (dict(size=(3, 2), mode="bilinear"),
     [5.343902867950482, 10.569034154425864, 25.686070276233693, 34.836497274113476,
      55.81697270509451, 67.58690900490029],
     [0.0, 0.03181818181818181, 0.1590909090909091, 0.2863636363636363,
      0.22272727272727266, 0.3181818181818181]),
    (dict(size=(2, 3), mode="bicubic"),
     [7.573064668258796, 12.202341811740718, 17.90432765328068, 44.35630530268636,
      53.35048329261849, 62.84435243476467],
     [-0.07675749197947931, 0.0041159685979981495, 0.18018450893715166,
      0.40615029790505486, 0.4160587826549773, 0.17526870592409693]),
    (dict(scale_factor=0.6, mode="bicubic", align_corners=True),
     [20.957701681713925, 28.936765051770738, 35.04791066978013, 56.94409884626155,
      69.38772078842206, 78.25653190617008],
     [-0.09897439403839056, -0.10553539242653376, -0.04550171626947584,
      0.04239779922548955, 0.15816315405836243, -0.011495884189611127]),
    (dict(size=(7, 3), mode="bilinear"),
     [0.42857142857142877, 2.9482711632382466, 6.798351038302844, 4.806743618372092,
      8.532222207978469, 13.343952759006347],
     [1.3469387755102042, 1.9149659863945587, 2.261904761904763, 3.3843537414965996,
      3.3061224489795937, 6.367346938775508]),
])
def test_antialiased_interpolation_matches_torch(kw, values, grad):
    x = _AA_X.detach().requires_grad_()
    y = F.interpolate(x, antialias=True, **kw)
    (y * mc.arange(y.numel(), dtype=mc.float64).reshape(y.shape)).sum().backward()
    np.testing.assert_allclose(y.flatten().tolist()[:6], values, rtol=1e-12)
    np.testing.assert_allclose(x.grad.flatten().tolist()[:6], grad, rtol=1e-12, atol=1e-15)
    y32 = F.interpolate(x.detach().float(), antialias=True, **kw)
    assert y32.dtype == mc.float32
    np.testing.assert_allclose(y32.flatten().tolist()[:6], values, rtol=1e-5)


def test_antialias_edge_cases_and_errors():
    x = mc.arange(50.).reshape(1, 1, 10, 5)
    y = F.interpolate(x, scale_factor=(0.76, 1.1), mode="bilinear", antialias=True)
    assert y.shape == (1, 1, 7, 5)                          # W keeps its size: copied
    assert y[0, 0, 0].tolist() == pytest.approx([1.4516129, 2.4516129, 3.4516129,
                                                 4.4516129, 5.4516129])
    assert F.interpolate(mc.zeros(0, 2, 4, 4), size=2, mode="bicubic",
                         antialias=True).shape == (0, 2, 2, 2)
    with pytest.raises(ValueError, match="Anti-alias option is restricted"):
        F.interpolate(mc.zeros(1, 1, 4, 4), size=2, antialias=True)     # nearest
    with pytest.raises(ValueError, match="Anti-alias option is restricted"):
        F.interpolate(mc.zeros(1, 1, 4), size=2, mode="linear", antialias=True)
    with pytest.raises(TypeError, match="float32 or float64"):
        F.interpolate(mc.zeros(1, 1, 4, 4, dtype=mc.uint8), size=2, mode="bilinear",
                      antialias=True)


@given(hs.integers(1, 5), hs.integers(1, 5), hs.integers(1, 6), hs.integers(1, 6),
       hs.sampled_from(["bilinear", "bicubic"]), hs.sampled_from([None, True]))
def test_antialias_gradcheck(h, w, oh, ow, mode, align_corners):
    x = mc.tensor(np.random.default_rng(h * 7 + w).standard_normal((1, 2, h, w)),
                  requires_grad=True)
    assert gradcheck(lambda t: F.interpolate(t, size=(oh, ow), mode=mode,
                                             align_corners=align_corners, antialias=True),
                     (x,))


def test_one_hot_of_an_empty_tensor_needs_num_classes():
    with pytest.raises(ValueError, match="Can not infer total number of classes"):
        F.one_hot(mc.zeros(0, dtype=mc.int64))
    assert F.one_hot(mc.zeros(0, dtype=mc.int64), 3).shape == (0, 3)
