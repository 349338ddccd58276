"""The device API without a GPU: spelling of devices, the errors a CPU-only machine gives,
the device-mixing check (with a stand-in array type), TF32 defaults, and that neither
``import minicv`` nor CPU training nor the DataLoader imports CuPy or touches CUDA.

Not marked ``gpu``: these run everywhere, CI included.
"""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import minicv as mc
from minicv import backend
from minicv.kernels.gpu.tables import bins, gathers, invert, separable_host
from minicv.kernels import reference as ref


def test_device_spelling():
    assert str(mc.device("cpu")) == "cpu" and mc.device("cpu").index is None
    assert str(mc.device("cuda")) == "cuda" and mc.device("cuda").index is None
    d = mc.device("cuda:1")
    assert (d.type, d.index, str(d)) == ("cuda", 1, "cuda:1")
    assert mc.device("cuda:0") == "cuda:0" and mc.device("cuda:0") != mc.device("cuda")
    assert mc.tensor([1.0]).device == "cpu"
    for bad in ("gpu", "cuda:x", "cuda:-1", "cpu:1"):
        with pytest.raises(RuntimeError, match="device"):
            mc.device(bad)


def _no_cupy(monkeypatch):
    monkeypatch.setattr(backend, "cupy_or_none", lambda: None)


def test_gpu_without_cupy_gives_one_clear_error(monkeypatch):
    _no_cupy(monkeypatch)
    msg = r"CUDA device requested but CuPy is not installed: pip install 'minicv\[gpu\]'"
    with pytest.raises(RuntimeError, match=msg):
        mc.zeros(2, 3, device="cuda")
    with pytest.raises(RuntimeError, match=msg):
        mc.tensor([1.0]).cuda()
    with pytest.raises(RuntimeError, match=msg):
        mc.nn.Linear(2, 3).to("cuda:0")


def test_gpu_without_a_device_gives_one_clear_error(monkeypatch):
    class Runtime:
        @staticmethod
        def getDeviceCount():
            raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    class FakeCupy:
        class cuda:
            runtime = Runtime
    monkeypatch.setattr(backend, "cupy_or_none", lambda: FakeCupy)
    with pytest.raises(RuntimeError, match="CUDA device requested but no CUDA device found"):
        mc.ones(3, device="cuda")


def test_cli_device_without_cupy(monkeypatch, capsys):
    _no_cupy(monkeypatch)
    from minicv.cli import main
    code = main(["bench", "--device", "cuda", "train"])
    assert code != 0
    assert "CuPy is not installed" in capsys.readouterr().err


class _FakeDevice:
    id = 0


class FakeGpuArray:
    """Stands in for a cupy.ndarray: its type's module starts with "cupy", as the
    backend's cheap check expects; it has a shape, a dtype and a device id."""
    __module__ = "cupy_fake_for_tests"
    device = _FakeDevice()

    def __init__(self, shape):
        self.shape, self.dtype, self.ndim = shape, np.dtype(np.float32), len(shape)
        self.size = int(np.prod(shape))


def test_mixing_devices_names_both():
    gpu = mc.Tensor(FakeGpuArray((2, 3)))
    assert gpu.device == "cuda:0"
    cpu = mc.ones(2, 3)
    with pytest.raises(RuntimeError, match=r"at least two devices, cpu and cuda:0 \(in Add\)"):
        cpu + gpu
    with pytest.raises(RuntimeError, match="cpu and cuda:0"):
        mc.matmul(mc.ones(3, 2), gpu)


def test_cpu_ops_pay_no_device_check():
    """The check runs only when an argument is not a NumPy array: a CPU graph never calls
    device_of (observed by replacing it)."""
    import minicv.autograd as ag
    calls = []
    orig = ag.device_of
    ag.device_of = lambda a: calls.append(a) or orig(a)
    try:
        x = mc.randn(3, requires_grad=True)
        (x * 2 + x.tanh()).sum().backward()
    finally:
        ag.device_of = orig
    assert calls == [] and x.grad is not None


def test_allow_tf32_defaults_off_and_checks_type():
    assert mc.backends.allow_tf32 is False
    with pytest.raises(TypeError, match="True or False"):
        mc.backends.allow_tf32 = 1
    mc.backends.allow_tf32 = True
    try:
        assert mc.backends.allow_tf32 is True
    finally:
        mc.backends.allow_tf32 = False
    if "cupy" not in sys.modules:
        assert mc.backends.tf32_in_use() is False


def _run(code, tmp_path):
    script = tmp_path / "probe.py"
    script.write_text(textwrap.dedent(code))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=300, cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_import_and_cpu_training_never_import_cupy(tmp_path):
    out = _run("""
        import sys
        import minicv as mc
        from minicv import nn
        from minicv.nn import functional as F
        assert "cupy" not in sys.modules, "import minicv imported cupy"
        model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(4 * 3 * 3, 3))
        opt = mc.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        x, y = mc.randn(4, 1, 8, 8), mc.tensor([0, 1, 2, 0])
        F.cross_entropy(model(x), y).backward()
        opt.step()
        mc.backends.allow_tf32 = False
        print("cupy" in sys.modules)
    """, tmp_path)
    assert out.strip() == "False"


def test_dataloader_workers_never_import_cupy(tmp_path):
    """Workers start before any GPU use and never import CuPy (so CUDA is never
    initialised in a process that forks); checked inside the workers themselves."""
    out = _run("""
        import sys
        import numpy as np
        import minicv as mc
        from minicv.data import DataLoader, Dataset

        class Probe(Dataset):
            def __len__(self):
                return 8

            def __getitem__(self, i):
                return np.float32("cupy" in sys.modules), np.int64(i)

        if __name__ == "__main__":
            flags = [x for x, _ in DataLoader(Probe(), batch_size=4, num_workers=2)]
            print(float(sum(f.sum().item() for f in flags)), "cupy" in sys.modules)
    """, tmp_path)
    assert out.split() == ["0.0", "False"]


# ---------------------------------------------------------------- host tables of GPU kernels

@pytest.mark.parametrize("mode,align", [("nearest", None), ("bilinear", False),
                                        ("bilinear", True)])
@pytest.mark.parametrize("in_hw,out_hw", [((5, 7), (9, 4)), ((4, 4), (8, 8)),
                                          ((6, 3), (2, 5)), ((1, 3), (3, 1))])
def test_resample_backward_tables_match_the_reference(mode, align, in_hw, out_hw):
    """The CSR tables fed to csrc/resample.cu's separable kernel, run through a NumPy
    model of the kernel's loops, reproduce the reference backward."""
    rng = np.random.default_rng(0)
    x_shape = (2, 3) + in_hw
    gy = rng.standard_normal((2, 3) + out_hw)
    if mode == "nearest":
        iy = ref.nearest_indices(in_hw[0], out_hw[0])
        ix = ref.nearest_indices(in_hw[1], out_hw[1])
        one = np.ones(1)
        rows = invert(in_hw[0], gathers([iy], [one], gy.dtype))
        cols = invert(in_hw[1], gathers([ix], [one], gy.dtype))
        want = ref.interpolate_nearest_backward(gy, x_shape)
    else:
        h0, h1, a0, a1 = ref.linear_weights(in_hw[0], out_hw[0], align, None, gy.dtype)
        w0, w1, b0, b1 = ref.linear_weights(in_hw[1], out_hw[1], align, None, gy.dtype)
        rows = invert(in_hw[0], gathers([h0, h1], [a0, a1], gy.dtype))
        cols = invert(in_hw[1], gathers([w0, w1], [b0, b1], gy.dtype))
        want = ref.interpolate_bilinear_backward(gy, x_shape, align)
    assert rows[0].dtype == np.int32 and rows[0][-1] == len(rows[1])
    got = separable_host(gy, in_hw, rows, cols)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("in_hw,out_hw", [((5, 7), (9, 4)), ((7, 5), (3, 2)), ((1, 3), (3, 1))])
def test_bicubic_and_adaptive_avg_tables_match_the_reference(in_hw, out_hw):
    """Forward lists (per output) and their transposes (per input) of bicubic resizing and
    adaptive average pooling, through the NumPy model of the kernel, give the reference
    forward and backward passes (bins may overlap; clamped bicubic taps repeat a source)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3) + in_hw)
    gy = rng.standard_normal((2, 3) + out_hw)
    for align in (False, True):
        lists = []
        for i, o in zip(in_hw, out_hw):
            idx, w = ref.cubic_weights(i, o, align, None, x.dtype)
            lists.append(gathers(list(idx), list(w), x.dtype))
        np.testing.assert_allclose(separable_host(x, out_hw, *lists),
                                   ref.interpolate_bicubic(x, out_hw, align), rtol=1e-12)
        back = [invert(i, t) for i, t in zip(in_hw, lists)]
        np.testing.assert_allclose(separable_host(gy, in_hw, *back),
                                   ref.interpolate_bicubic_backward(gy, x.shape, align),
                                   rtol=1e-12, atol=1e-12)
    lists = [bins(*ref.adaptive_bins(i, o), x.dtype) for i, o in zip(in_hw, out_hw)]
    np.testing.assert_allclose(separable_host(x, out_hw, *lists),
                               ref.adaptive_avg_pool2d(x, out_hw), rtol=1e-12)
    back = [invert(i, t) for i, t in zip(in_hw, lists)]
    np.testing.assert_allclose(separable_host(gy, in_hw, *back),
                               ref.adaptive_avg_pool2d_backward(gy, x.shape), rtol=1e-12,
                               atol=1e-12)
