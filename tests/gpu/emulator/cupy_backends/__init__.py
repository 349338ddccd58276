"""The emulator's stand-in for CuPy's low-level CUDA bindings (``cupy_backends``)."""
