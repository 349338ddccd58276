"""selu, celu, hardswish, hardsigmoid, logsigmoid, softsign, soft/hard/tanh-shrink,
threshold, glu, prelu, rrelu, softmin, gumbel_softmax and the in-place F.<act>_ forms.
Expected values and gradients (kinks included) were computed with PyTorch 2.13 (CPU) and
are written out, so the tests need no torch; gradients are checked by float64 gradcheck."""
import warnings

import numpy as np
import pytest
from hypothesis import given

import minicv as mc
import minicv.nn.functional as F
from minicv.testing import gradcheck, strategies as st

X = [-4., -3., -1., 0., 1., 3., 4.]     # every kink of the ops below, and both sides

# (fn, torch values at X, torch gradient of sum() at X), to 6 decimals
VALUES = {
    "hardswish": (F.hardswish, [-0., -0., -0.333333, 0., 0.666667, 3., 4.],
                  [0., 0., 0.166667, 0.5, 0.833333, 1., 1.]),
    "hardsigmoid": (F.hardsigmoid, [0., 0., 0.333333, 0.5, 0.666667, 1., 1.],
                    [0., 0., 0.166667, 0.166667, 0.166667, 0., 0.]),
    "selu": (F.selu, [-1.725899, -1.670569, -1.111331, 0., 1.050701, 3.152103, 4.202804],
             [0.032201, 0.087531, 0.646769, 1.758099, 1.050701, 1.050701, 1.050701]),
    "celu": (lambda t: F.celu(t, 0.5),
             [-0.499832, -0.498761, -0.432332, 0., 1., 3., 4.],
             [0.000335, 0.002479, 0.135335, 1., 1., 1., 1.]),
    "logsigmoid": (F.logsigmoid,
                   [-4.01815, -3.048587, -1.313262, -0.693147, -0.313262, -0.048587, -0.01815],
                   [0.982014, 0.952574, 0.731059, 0.5, 0.268941, 0.047426, 0.017986]),
    "softsign": (F.softsign, [-0.8, -0.75, -0.5, 0., 0.5, 0.75, 0.8],
                 [0.04, 0.0625, 0.25, 1., 0.25, 0.0625, 0.04]),
    "softshrink": (lambda t: F.softshrink(t, 1.0), [-3., -2., 0., 0., 0., 2., 3.],
                   [1., 1., 0., 0., 0., 1., 1.]),
    "hardshrink": (lambda t: F.hardshrink(t, 1.0), [-4., -3., 0., 0., 0., 3., 4.],
                   [1., 1., 0., 0., 0., 1., 1.]),
    "tanhshrink": (F.tanhshrink,
                   [-3.000671, -2.004945, -0.238406, 0., 0.238406, 2.004945, 3.000671],
                   [0.998659, 0.990134, 0.580026, 0., 0.580026, 0.990134, 0.998659]),
    "threshold": (lambda t: F.threshold(t, 1.0, -2.0), [-2., -2., -2., -2., -2., 3., 4.],
                  [0., 0., 0., 0., 0., 1., 1.]),
    "rrelu_eval": (F.rrelu, [-0.916667, -0.6875, -0.229167, 0., 1., 3., 4.],
                   [0.229167, 0.229167, 0.229167, 0.229167, 1., 1., 1.]),
}


@pytest.mark.parametrize("name", VALUES)
@pytest.mark.parametrize("dtype", [mc.float32, mc.float64])
def test_values_and_kink_gradients_match_torch(name, dtype):
    fn, want, want_grad = VALUES[name]
    x = mc.tensor(X, dtype=dtype, requires_grad=True)
    y = fn(x)
    assert y.dtype == dtype and y.shape == (7,)
    y.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), want, atol=2e-6)
    np.testing.assert_allclose(x.grad.numpy(), want_grad, atol=2e-6)


SMOOTH = {      # name -> (fn, kinks to keep away from)
    "hardswish": (F.hardswish, (-3.0, 3.0)),
    "hardsigmoid": (F.hardsigmoid, (-3.0, 3.0)),
    "selu": (F.selu, (0.0,)),
    "celu": (lambda t: F.celu(t, 0.7), (0.0,)),
    "logsigmoid": (F.logsigmoid, ()),
    "softsign": (F.softsign, (0.0,)),
    "softshrink": (lambda t: F.softshrink(t, 0.5), (-0.5, 0.5)),
    "hardshrink": (lambda t: F.hardshrink(t, 0.5), (-0.5, 0.5)),
    "tanhshrink": (F.tanhshrink, ()),
    "threshold": (lambda t: F.threshold(t, 0.2, 7.0), (0.2,)),
    "rrelu_eval": (lambda t: F.rrelu(t, 0.1, 0.3), (0.0,)),
    "glu": (lambda t: F.glu(t.reshape(-1, 2), 1), ()),
    "softmin": (lambda t: F.softmin(t.reshape(-1, 2), 1), ()),
}


@pytest.mark.parametrize("name", SMOOTH)
@given(data=st.tensors(shape=(3, 2), avoid=(-3.0, -0.5, 0.0, 0.2, 0.5, 3.0)))
def test_gradcheck(name, data):
    gradcheck(SMOOTH[name][0], (data,))


def test_integer_inputs_follow_torch():
    i = mc.tensor([-3, 0, 2])
    assert F.softsign(i).dtype == mc.float32
    np.testing.assert_allclose(F.softsign(i).numpy(), [-0.75, 0., 0.666667], atol=1e-6)
    assert F.tanhshrink(i).dtype == mc.float32
    t = F.threshold(mc.tensor([1, 2, 3]), 1.5, 0.5)                 # torch: [0, 2, 3]
    assert t.dtype == mc.int64 and t.tolist() == [0, 2, 3]
    for fn in (F.hardswish, F.hardsigmoid, F.selu, F.celu, F.logsigmoid, F.glu, F.rrelu,
               lambda t: F.softshrink(t), lambda t: F.hardshrink(t)):
        with pytest.raises(TypeError, match="floating"):
            fn(mc.tensor([1, 2]))


def test_awkward_shapes():
    s = mc.tensor(-1.0, dtype=mc.float64)
    assert F.selu(s).shape == () and abs(F.selu(s).item() + 1.111331) < 1e-6
    assert F.hardswish(mc.zeros(0, 3)).shape == (0, 3)
    x = mc.arange(12.).reshape(3, 4).T - 5                    # non-contiguous view
    np.testing.assert_allclose(F.softshrink(x, 1.0).numpy(),
                               np.where(np.abs(x.numpy()) > 1, x.numpy() - np.sign(x.numpy()),
                                        0))


def test_glu_values_and_errors():
    y = F.glu(mc.tensor([[1., -2., 0.5, 3.]]))                # torch values
    np.testing.assert_allclose(y.numpy(), [[0.622459, -1.905148]], atol=1e-6)
    assert F.glu(mc.zeros(2, 4, 6), 1).shape == (2, 2, 6)
    with pytest.raises(RuntimeError, match="does not support scalars"):
        F.glu(mc.tensor(1.0))
    with pytest.raises(RuntimeError, match="dimension 1 is size 3"):
        F.glu(mc.zeros(2, 3))
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.glu(mc.zeros(2, 4), 2)


def test_prelu_values_gradients_and_errors():
    x = mc.tensor([[-1., 0., 2.], [-3., 4., 0.]]).reshape(2, 3, 1).requires_grad_()
    w = mc.tensor([0.25, 0.5, 0.75], requires_grad=True)
    y = F.prelu(x, w)
    y.backward(mc.arange(6.).reshape(2, 3, 1) + 1)
    # torch: at x = 0 the input gradient is w·dy and the weight gradient 0
    assert y.reshape(-1).tolist() == [-0.25, 0.0, 2.0, -0.75, 4.0, 0.0]
    assert x.grad.reshape(-1).tolist() == [0.25, 1.0, 3.0, 1.0, 5.0, 4.5]
    assert w.grad.tolist() == [-13.0, 0.0, 0.0]
    assert F.prelu(mc.tensor(-1.), mc.tensor([0.25])).tolist() == -0.25
    assert F.prelu(mc.tensor([-2., 2.]), mc.tensor(0.5)).tolist() == [-1.0, 2.0]
    with pytest.raises(RuntimeError, match="parameter numbers = 2 and channel size = 1"):
        F.prelu(mc.tensor([-1., 2.]), mc.tensor([0.25, 0.5]))
    with pytest.raises(RuntimeError, match="channel size = 3"):
        F.prelu(mc.zeros(2, 3), mc.tensor([0.25, 0.5]))
    with pytest.raises(RuntimeError, match="scalar or 1D"):
        F.prelu(mc.zeros(2, 2), mc.zeros(2, 1))
    with pytest.raises(RuntimeError, match="zero-dim"):
        F.prelu(mc.tensor(1.), mc.zeros(2))
    with pytest.raises(RuntimeError, match="Type promoting"):
        F.prelu(mc.zeros(2, 2, dtype=mc.float64), mc.zeros(2))


@given(x=st.tensors(shape=(2, 3, 2), avoid=(0.0,)), w=st.tensors(shape=(3,)))
def test_prelu_gradcheck(x, w):
    gradcheck(F.prelu, (x, w))


def test_rrelu_training_draws_slopes_in_range():
    mc.manual_seed(0)
    x = mc.tensor(np.full(2000, -1.0), requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    slopes = -y.detach().numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and abs(slopes.mean() - 0.2) < 0.01
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), slopes)      # d/dx = the drawn slope
    assert F.rrelu(mc.tensor([0., 2.]), training=True).tolist() == [0.0, 2.0]
    mc.manual_seed(3)
    a = F.rrelu(-mc.ones(5), training=True)
    mc.manual_seed(3)
    np.testing.assert_array_equal(a.numpy(), F.rrelu(-mc.ones(5), training=True).numpy())
    with pytest.raises(RuntimeError, match="Lower bound should be less than or equal"):
        F.rrelu(mc.zeros(3), 0.5, 0.1)


def test_softshrink_and_celu_errors():
    with pytest.raises(RuntimeError, match="lambda must be in range"):
        F.softshrink(mc.zeros(2), -1.0)
    assert F.hardshrink(mc.tensor([-1., 2.]), -1.0).tolist() == [-1.0, 2.0]   # torch too
    with pytest.raises(RuntimeError, match="alpha cannot be 0"):
        F.celu(mc.zeros(2), 0.0)


def test_softmin():
    x = mc.tensor([[-1.0, 2.0, 0.5], [3.0, -2.0, 1.0]])
    np.testing.assert_allclose(F.softmin(x, 1).numpy(),
                               [[0.785597, 0.039113, 0.17529], [0.006377, 0.946499, 0.047123]],
                               atol=1e-6)
    y = F.softmin(mc.tensor([1, 2]), 0, dtype=mc.float64)          # torch: float64
    assert y.dtype == mc.float64 and np.allclose(y.numpy(), [0.731059, 0.268941], atol=1e-6)
    with pytest.raises(TypeError):
        F.softmin(mc.tensor([1, 2]), 0)                             # torch: no int softmax


def test_inplace_forms_write_into_the_input():
    x = mc.tensor([-1., 2.])
    assert F.relu_(x) is x and x.tolist() == [0.0, 2.0]
    for fn, args, want in ((F.elu_, (), [-0.632121, 2.]), (F.leaky_relu_, (0.5,), [-0.5, 2.]),
                           (F.hardtanh_, (), [-1., 1.]), (F.threshold_, (0., 9.), [9., 2.]),
                           (F.celu_, (0.5,), [-0.432332, 2.]), (F.selu_, (), [-1.111331, 2.1014]),
                           (F.rrelu_, (), [-0.229167, 2.])):
        x = mc.tensor([-1., 2.])
        out = fn(x, *args)
        assert out is x
        np.testing.assert_allclose(x.numpy(), want, atol=1e-4)
    x = mc.tensor([-1., 2.], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        F.elu_(x)
    y = x * 1                                      # recorded: torch gives [0.6468, 1.0507]
    F.selu_(y)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.646769, 1.050701], atol=1e-6)
    with pytest.raises(TypeError, match="must be a Tensor"):
        F.relu_([1.0])
    with pytest.raises(TypeError):
        F.leaky_relu_(mc.tensor([1, -2]), 0.5)


def test_gumbel_softmax():
    mc.manual_seed(0)
    logits = mc.tensor([[1.0, 2.0, 0.5]] * 400, dtype=mc.float64, requires_grad=True)
    y = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(y.detach().numpy().sum(1), 1.0)
    h = F.gumbel_softmax(logits, tau=0.5, hard=True)
    hd = h.detach().numpy()
    assert set(np.unique(hd)) == {0.0, 1.0} and np.all(hd.sum(1) == 1)
    freq = hd.mean(0)                              # samples follow softmax(logits)
    np.testing.assert_allclose(freq, [0.231, 0.629, 0.140], atol=0.07)
    # straight-through: the hard sample's gradient is the soft sample's
    w = mc.arange(3.).double()
    (h * w).sum().backward()
    g_hard = logits.grad.numpy().copy()
    assert np.abs(g_hard).sum() > 0 and np.allclose(g_hard.sum(1), 0)
    mc.manual_seed(5)
    a = F.gumbel_softmax(mc.zeros(2, 4), dim=0).numpy()
    mc.manual_seed(5)
    np.testing.assert_array_equal(a, F.gumbel_softmax(mc.zeros(2, 4), dim=0).numpy())
    np.testing.assert_allclose(a.sum(0), 1.0, rtol=1e-6)
    with pytest.warns(UserWarning, match="deprecated"):
        F.gumbel_softmax(mc.zeros(2), eps=1e-3)


@pytest.mark.parametrize("name", ["gelu", "silu", "mish", "softplus", "softsign", "sigmoid",
                                  "tanh", "logsigmoid", "elu", "leaky_relu", "hardswish"])
@pytest.mark.parametrize("n", [9, 5000])           # the NumPy form and the Numba kernels
def test_infinite_inputs_raise_no_numpy_warnings(name, n):
    # PyTorch computes these silently; NumPy warned (inf·0 in gelu's and silu's forward)
    vals = np.resize([np.inf, -np.inf, np.nan, 0.0, -0.0, 100.0, -100.0, 1e30, -1e30], n)
    x = mc.tensor(vals.astype(np.float32), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = getattr(F, name)(x)
        y.backward(mc.ones_like(y))
