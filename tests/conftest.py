"""Test-wide setup: hypothesis profile from HYPOTHESIS_PROFILE (default "ci")."""
import pytest

from minicv.testing import load_profile

load_profile()


def pytest_collection_modifyitems(config, items):
    """Skip tests marked ``gpu`` cleanly when CuPy or a CUDA device is missing."""
    try:
        import cupy
        has_gpu = cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        has_gpu = False
    if has_gpu:
        return
    skip = pytest.mark.skip(reason="needs CuPy and a CUDA GPU")
    for item in items:
        # The marker, not the keyword: every test under tests/gpu/ has the keyword "gpu"
        # (its folder's name), but only marked ones need a GPU (test_nvrtc.py does not).
        if item.get_closest_marker("gpu") is not None:
            item.add_marker(skip)
