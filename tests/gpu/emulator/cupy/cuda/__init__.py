"""``cupy.cuda`` emulated: one device (id 0), a null stream, synchronisation as a no-op."""
from . import runtime


class _Synchronous:
    """Everything runs at once on the host: synchronising and scoping do nothing."""

    def synchronize(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class Device(_Synchronous):
    """``cupy.cuda.Device(id)``; the emulator has ``runtime.getDeviceCount()`` devices, all
    backed by host memory (arrays always report device 0)."""

    def __init__(self, device=None):
        device = 0 if device is None else int(device)
        if not 0 <= device < runtime.getDeviceCount():
            raise runtime.CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")
        self.id = device

    compute_capability = "90"

    def use(self):
        pass

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


class Stream(_Synchronous):
    null = None

    def __init__(self, non_blocking=False):
        pass


Stream.null = Stream()


def get_current_stream():
    return Stream.null
