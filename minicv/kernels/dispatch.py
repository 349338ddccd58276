"""Which kernel module serves an array: ``conv_algo`` (NumPy + Numba) for NumPy arrays,
``kernels.gpu.conv`` (CuPy + csrc/*.cu) for CuPy arrays. Both expose the same functions
with the same signatures, so an op picks its module once and calls it the same way."""
import numpy as np

from ..backend import is_cupy_array
from . import conv_algo


def kernels_for(array):
    """The module whose conv/pool/resample functions accept ``array``."""
    if type(array) is np.ndarray or not is_cupy_array(array):
        return conv_algo
    from .gpu import conv          # imports CuPy, which the caller's array already did
    return conv
