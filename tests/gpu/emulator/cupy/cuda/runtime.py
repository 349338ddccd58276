"""``cupy.cuda.runtime`` emulated. ``CUPY_EMULATOR_DEVICES`` sets the device count
(default 1)."""
import os


class CUDARuntimeError(RuntimeError):
    pass


def getDeviceCount():
    return int(os.environ.get("CUPY_EMULATOR_DEVICES", "1"))


def getDeviceProperties(device):
    return {"name": b"CuPy emulator (host memory, g++ kernels)", "totalGlobalMem": 2**34,
            "major": 9, "minor": 0, "multiProcessorCount": 1}


def runtimeGetVersion():
    return 12000


def driverGetVersion():
    return 12000
