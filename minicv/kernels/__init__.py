"""Kernels: fast, non-differentiable compute on NumPy arrays (NCHW).

``reference`` holds readable NumPy versions (the text to study and the tests' oracle);
``cpu`` holds Numba kernels with the same signatures; ``conv_algo`` chooses between them
and is what the autograd ops call.  Kernels never import ``Tensor``.  Importing this
package compiles nothing: Numba kernels compile (or load from the disk cache) on first use.
"""
from .conv_algo import (ALGOS, adaptive_avg_pool2d_backward, adaptive_avg_pool2d_forward,
                        adaptive_max_pool2d_backward, adaptive_max_pool2d_forward,
                        avg_pool1d_backward, avg_pool1d_forward, avg_pool2d_backward,
                        avg_pool2d_forward, check_conv_args, conv1d_backward, conv1d_forward,
                        conv2d_backward, conv2d_forward, conv3d_backward, conv3d_forward,
                        conv_plan, conv_transpose2d_backward, conv_transpose2d_forward,
                        conv_transpose2d_output_size, fold, fold_backward,
                        get_im2col_budget, im2col_chunk_size, interpolate_backward,
                        interpolate_forward, max_pool1d_backward, max_pool1d_forward,
                        max_pool2d_backward, max_pool2d_forward, max_pool3d_backward,
                        max_pool3d_forward, set_im2col_budget, unfold, unfold_backward)
from .reference import conv_output_size

__all__ = [name for name in dir() if not name.startswith("_")]
