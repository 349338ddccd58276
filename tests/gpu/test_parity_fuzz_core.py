"""CPU/GPU parity of the fixes for the core and reduction fuzz reviews
(tests/ops/test_fuzz_fixes_core.py): the new in-place methods, fill_diagonal_, pdist and
dist, view(dtype), add's alpha, ReLU's gradient at NaN, bool arithmetic, empty matrix
products, cat with empty inputs, median of empty integers and var/std without degrees of
freedom must give the same values, dtypes, gradients and errors on both devices.

Marked ``gpu`` (skipped without CuPy; run on the CuPy emulator in CI).
"""
import warnings

import numpy as np
import pytest

import minicv as mc

from test_parity_sweep import _same, _same_error

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")

R = np.random.default_rng(11)
NAN = float("nan")


def randn(*shape):
    return R.standard_normal(shape)


def _inplace(name, *args):
    def fn(t):
        y = t * 1
        getattr(y, name)(*args)
        return y
    return fn


@pytest.mark.parametrize("name, args", [
    ("expm1_", ()), ("log1p_", ()), ("tan_", ()), ("erf_", ()), ("cumsum_", (1,)),
    ("cumprod_", (0,)), ("tril_", ()), ("clip_", (-0.5, 0.5)), ("lt_", (0.2,)),
    ("logical_xor_", (0.,)), ("fill_diagonal_", (3.,)),
])
def test_inplace_methods(name, args):
    _same(_inplace(name, *args), randn(3, 3) * 0.5)


def test_fill_diagonal_wrap_pdist_dist_isposinf():
    _same(lambda t: t.clone().fill_diagonal_(2., wrap=True), randn(7, 3), grad=False)
    _same(lambda t: mc.pdist(t + mc.tensor([[0.], [2.], [5.]], dtype=mc.float64,
                                           device=t.device)), randn(3, 2))
    _same(lambda t, u: mc.dist(t, u, 3), randn(2, 3), randn(3))
    _same(lambda t: mc.isposinf(t / 0), np.array([1., -1., 0.]), grad=False)


def test_view_dtype_alpha_and_bool_ops():
    _same(lambda t: t.view(mc.int32), randn(2, 4).astype(np.float32), grad=False)
    _same(lambda t: t.view(mc.float16), randn(2, 4).astype(np.float32), grad=False)
    _same(lambda a, b: mc.add(a, b, alpha=2), np.array([1, 2], np.int32),
          np.array([True, False]), grad=False)
    _same(lambda t: mc.clamp(t, 0, 1), np.array([True, False]), grad=False)
    _same(lambda t: mc.square(t), np.array([True, False]), grad=False)
    _same(lambda t: t ** True, np.array([True, False]), grad=False)
    _same_error(lambda a, b: mc.add(a, b, alpha=2.5), np.array([1, 2]), np.array([1, 2]),
                error=RuntimeError, match="alpha")
    _same_error(lambda a, b: a ** b, np.array([True]), np.array([True]), error=TypeError)
    _same_error(lambda a, b: mc.fmod(a, b), np.array([True]), np.array([True]),
                error=TypeError)
    _same(lambda a: mc.remainder(a, 0), np.zeros(0, np.int64), grad=False)


def test_relu_gradient_at_nan():
    _same(mc.relu, np.array([NAN, 0., 2., -1.]))


def test_empty_products_cat_and_reductions():
    _same(mc.matmul, np.zeros(0), np.zeros(0))
    _same(mc.matmul, np.zeros((2, 3, 0)), np.zeros(0))
    _same(mc.mv, np.zeros((3, 0)), np.zeros(0))
    _same(lambda a, b: mc.cat([a, b]), np.zeros(0), randn(2, 3))
    _same(mc.median, np.zeros(0, np.int32), grad=False)
    _same(lambda t: mc.sort(t).values, np.array(True), grad=False)
    _same_error(mc.matmul, np.ones((2, 2), np.float32), np.ones((2, 2)), error=TypeError)
    _same_error(mc.argmax, np.array([True, False]), error=TypeError)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(lambda t: mc.var(t, correction=2), np.array([1.5, 2.0]))
        _same(lambda t: mc.var(t, 0, correction=2), np.array([1.5]))
        _same(lambda t: mc.std(t, (0, 1), correction=3), np.array([[1.5, 2.0]]))
