"""What minicv relies on CuPy to do, and what the CuPy emulator must do the same way.

Marked ``gpu``. On a real GPU these tests pin down the CuPy behaviour that minicv's GPU
path and the emulator's strictness assume (and so check the emulator's model of CuPy);
on the emulator (``tests/gpu/test_emulated.py``) they also check what only an emulator
can: kernel argument types, out-of-bounds writes, contiguity, every thread run.
"""
import numpy as np
import pytest

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")
emulator_only = pytest.mark.skipif(not getattr(cp, "EMULATED", False),
                                   reason="checks the CuPy emulator itself")


def test_no_implicit_conversion_to_numpy():
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(cp.zeros(3))


def test_numpy_arrays_are_refused_in_device_ops():
    with pytest.raises(TypeError):
        cp.zeros(3) + np.ones(3)
    with pytest.raises(TypeError):
        cp.matmul(cp.ones((2, 2)), np.ones((2, 2)))


def test_full_reductions_return_0d_device_arrays():
    s = cp.arange(4.0).sum()
    assert isinstance(s, cp.ndarray) and s.ndim == 0 and float(s) == 6.0


def test_asarray_copies_host_data_and_get_copies_back():
    host = np.arange(3.0)
    dev = cp.asarray(host)
    host[0] = 9.0
    back = dev.get()
    back[1] = 7.0
    np.testing.assert_array_equal(dev.get(), [0.0, 1.0, 2.0])


def test_numpy_functions_dispatch_to_cupy():
    a = cp.arange(-2.0, 3.0)
    for y in (np.where(a > 0, a, 0.0), np.exp(a), np.concatenate([a, a]), np.pad(a, 1)):
        assert isinstance(y, cp.ndarray)


def test_host_sequences_where_minicv_passes_them():
    """The calls where minicv hands CuPy a NumPy array or a Python scalar as shape-like or
    value arguments (the emulator lets exactly these through)."""
    a = cp.arange(6.0)
    parts = np.split(a, np.array([2, 4]))                  # Cat's backward: NumPy bounds
    assert [p.shape for p in parts] == [(2,), (2,), (2,)]
    assert all(isinstance(p, cp.ndarray) for p in parts)
    m = cp.arange(6.0).reshape(2, 3)
    assert m.transpose(np.argsort((1, 0))).shape == (3, 2)  # Permute's backward
    assert np.isnan(float(cp.where(a > 10, a, np.nan)[0]))  # a Python NaN as a value
    a[...] = np.float64(2.0)                                # a host scalar assigned in
    assert float(a.sum()) == 12.0


def test_host_arrays_and_float64_extremes_are_refused():
    """What CuPy 14.2 refused or got wrong on an H200 (2026-11-27), which minicv avoids and
    the emulator refuses alike: a host array assigned into a device array, ufunc.reduceat,
    and maximum/minimum.at on float64 (real CuPy rounds those writes to float32)."""
    a = cp.arange(6.0)
    with pytest.raises(ValueError, match="non-scalar numpy.ndarray"):
        a[...] = np.ones(6)
    with pytest.raises(NotImplementedError, match="reduceat"):
        cp.maximum.reduceat(a, cp.array([0, 2]))
    if getattr(cp, "EMULATED", False):
        with pytest.raises(TypeError, match="float64"):
            cp.maximum.at(a, cp.array([0, 0]), cp.array([1.0, 2.0]))


def test_views_and_out_arguments_behave_as_minicv_assumes():
    a = cp.arange(4.0)
    v = a[1]                                   # integer indexing: a 0-d view, not a copy
    a[1] = 5.0
    assert v.ndim == 0 and float(v) == 5.0
    r = a.reshape(2, 2)
    assert r.base is a                         # views keep their base
    y = cp.empty((2, 3, 4))
    out = y[1:2].reshape(1, 3, 4)
    cp.matmul(cp.ones((1, 3, 5)), cp.ones((1, 5, 4)), out=out)   # conv GEMM into y
    assert float(y[1].sum()) == 3 * 4 * 5
    g = cp.empty((2, 3))
    cp.sum(cp.ones((4, 2, 3)), axis=0, out=g.reshape(2, 3))     # weight gradient sum
    assert float(g.sum()) == 4 * 6


SRC = r'''
extern "C" __global__ void index_of_thread(int n, int* out) {
    int i = (blockIdx.y * gridDim.x + blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) out[i] = i;
}
extern "C" __global__ void writes_one_past(int n, float* out) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i <= n) out[i] = 1.0f;
}
'''


@emulator_only
def test_emulator_runs_every_thread_of_a_2d_grid():
    fn = cp.RawModule(code=SRC).get_function("index_of_thread")
    out = cp.full(3 * 2 * 32 - 5, -1, dtype=cp.int32)
    fn((3, 2), (32,), (np.int32(out.size), out))
    np.testing.assert_array_equal(out.get(), np.arange(out.size))


@emulator_only
def test_emulator_catches_a_write_out_of_bounds():
    fn = cp.RawModule(code=SRC).get_function("writes_one_past")
    out = cp.zeros(10, dtype=cp.float32)
    with pytest.raises(RuntimeError, match="wrote outside argument 1"):
        fn((1,), (32,), (np.int32(10), out))


@emulator_only
def test_emulator_refuses_arguments_a_gpu_would_misread():
    fn = cp.RawModule(code=SRC).get_function("index_of_thread")
    out = cp.zeros(8, dtype=cp.int32)
    with pytest.raises(TypeError, match="int64 .long long."):
        fn((1,), (8,), (8, out))                         # Python int: 8 bytes, not 4
    with pytest.raises(TypeError, match="dtype int64"):
        fn((1,), (8,), (np.int32(8), cp.zeros(8, dtype=cp.int64)))
    with pytest.raises(ValueError, match="not C-contiguous"):
        fn((1,), (8,), (np.int32(4), cp.zeros(8, dtype=cp.int32)[::2]))


@emulator_only
def test_emulator_has_only_cupys_api():
    with pytest.raises(AttributeError):
        cp.not_a_cupy_function
    with pytest.raises(TypeError, match="unexpected keyword argument 'where'"):
        cp.sum(cp.ones(3), where=cp.ones(3, dtype=bool))
    with pytest.raises(AttributeError):
        cp.ones(3).ctypes                                # NumPy's, not CuPy's


@emulator_only
def test_emulator_rounds_float32_gemms_to_tf32_when_told():
    from cupy._core import _routines_linalg as linalg
    a = cp.full((1, 1), 1 + 2.0**-12, dtype=cp.float32)   # below TF32's 10-bit mantissa
    before = linalg.get_compute_type(np.float32)
    linalg.set_compute_type(np.float32, linalg.COMPUTE_TYPE_TF32)
    try:
        assert float((a @ a)[0, 0]) == 1.0
    finally:
        linalg.set_compute_type(np.float32, before)
    assert float((a @ a)[0, 0]) > 1.0
