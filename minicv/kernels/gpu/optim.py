"""Multi-tensor optimizer steps on the GPU (``csrc/optim.cu``): one launch updates every
parameter of one dtype, where the elementwise ops of ``optim/sgd.py`` would launch six
kernels per parameter.

The kernel finds each tensor through a table of device addresses (see the .cu file), so
the arrays must stay alive and in place during the launch: the caller holds them.
"""
import cupy as cp
import numpy as np

from .module import i32, kernel, launch

SGD_ROW = 5


def sgd_step(params, grads, bufs, first, lr, momentum, dampening, weight_decay, nesterov,
             maximize):
    """p -= lr * (SGD direction) for every (param, grad, buf) of one dtype, in one launch.

    ``params``, ``grads``: C-contiguous CuPy arrays (same dtype, same sizes pairwise);
    ``bufs``: momentum buffers (ignored when ``momentum`` is 0); ``first``: per tensor,
    True on its first step (its buffer takes the gradient).
    """
    dtype = params[0].dtype
    sizes = [p.size for p in params]
    table = np.zeros((len(params), SGD_ROW), dtype=np.int64)
    table[:, 0] = [p.data.ptr for p in params]
    table[:, 1] = [g.data.ptr for g in grads]
    if momentum != 0:
        table[:, 2] = [b.data.ptr for b in bufs]
        table[:, 4] = first
    table[1:, 3] = np.cumsum(sizes[:-1])
    total = int(sum(sizes))
    scalar = dtype.type
    launch(kernel("optim", "sgd", dtype), total,
           (cp.asarray(table), *i32(len(params), total), scalar(lr), scalar(momentum),
            scalar(dampening), scalar(weight_decay), *i32(int(nesterov), int(maximize))))
