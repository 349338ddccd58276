"""Testing tools for users and for minicv's own suite.

* :func:`gradcheck` compares autograd with finite differences (float64).
* ``minicv.testing.strategies``: hypothesis strategies (``tensors``, ``shapes``,
  ``broadcastable_shapes``, ``dims``); imported on first use, since hypothesis is only a
  test dependency.
* :func:`load_profile`: hypothesis settings chosen by ``HYPOTHESIS_PROFILE`` (``ci``, the
  default: derandomized and bounded; ``thorough``: many more examples, for local runs).
"""
import os

from .gradcheck import gradcheck, GradcheckError

__all__ = ["gradcheck", "GradcheckError", "strategies", "load_profile"]


def load_profile(name=None):
    """Register minicv's hypothesis profiles and load ``name`` (env HYPOTHESIS_PROFILE)."""
    from hypothesis import settings, HealthCheck
    quiet = [HealthCheck.too_slow, HealthCheck.data_too_large,
             HealthCheck.function_scoped_fixture]
    settings.register_profile("ci", derandomize=True, max_examples=20, deadline=None,
                              suppress_health_check=quiet, print_blob=True)
    settings.register_profile("thorough", max_examples=500, deadline=None,
                              suppress_health_check=quiet)
    name = name or os.environ.get("HYPOTHESIS_PROFILE", "ci")
    settings.load_profile(name)
    return name


def __getattr__(name):
    if name == "strategies":
        import importlib
        return importlib.import_module(".strategies", __name__)
    raise AttributeError(f"module 'minicv.testing' has no attribute {name!r}")
