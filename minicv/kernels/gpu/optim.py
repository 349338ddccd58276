"""Multi-tensor optimizer steps on the GPU (``csrc/optim.cu``): one launch updates every
parameter of one dtype, where the elementwise ops of ``optim/sgd.py`` and ``adam.py``
would launch six (SGD) or fourteen (Adam) kernels per parameter.

The kernel finds each tensor through a table of device addresses (see the .cu file), so
the arrays must stay alive and in place during the launch: the caller holds them.
"""
import cupy as cp
import numpy as np

from .module import i32, kernel, launch

SGD_ROW = 5
ADAM_ROW = 8


def sgd_step(params, grads, bufs, first, lr, momentum, dampening, weight_decay, nesterov,
             maximize):
    """p -= lr * (SGD direction) for every (param, grad, buf) of one dtype, in one launch.

    ``params``, ``grads``: C-contiguous CuPy arrays (same dtype, same sizes pairwise);
    ``bufs``: momentum buffers (ignored when ``momentum`` is 0); ``first``: per tensor,
    True on its first step (its buffer takes the gradient).
    """
    dtype = params[0].dtype
    _check_rows(params, ("parameter", params), ("gradient", grads),
                ("momentum buffer", bufs if momentum != 0 else params))
    sizes = [p.size for p in params]
    table = np.zeros((len(params), SGD_ROW), dtype=np.int64)
    table[:, 0] = [p.data.ptr for p in params]
    table[:, 1] = [g.data.ptr for g in grads]
    if momentum != 0:
        table[:, 2] = [b.data.ptr for b in bufs]
        table[:, 4] = first
    total = _offsets(table, 3, sizes)
    scalar = dtype.type             # constants rounded once, as the CPU path rounds them
    launch(kernel("optim", "sgd", dtype), total,
           (cp.asarray(table), *i32(len(params), total), scalar(lr), scalar(momentum),
            scalar(1 - dampening), scalar(weight_decay), *i32(int(nesterov), int(maximize))))


def adam_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, lr, betas, eps,
              weight_decay, decoupled, amsgrad, maximize):
    """One Adam (AdamW if ``decoupled``) update of every parameter of one dtype, in one
    launch. ``steps``: each parameter's step count after this step (bias corrections);
    ``max_exp_avg_sqs`` is used with ``amsgrad`` only."""
    b1, b2 = betas
    _check_rows(params, ("parameter", params), ("gradient", grads), ("exp_avg", exp_avgs),
                ("exp_avg_sq", exp_avg_sqs),
                ("max_exp_avg_sq", max_exp_avg_sqs if amsgrad else params))
    table = np.zeros((len(params), ADAM_ROW), dtype=np.int64)
    for col, arrays in enumerate((params, grads, exp_avgs, exp_avg_sqs)):
        table[:, col] = [a.data.ptr for a in arrays]
    if amsgrad:
        table[:, 4] = [a.data.ptr for a in max_exp_avg_sqs]
    total = _offsets(table, 5, [p.size for p in params])
    steps = np.asarray(steps, dtype=np.float64)
    table[:, 6] = (lr / (1 - b1 ** steps)).view(np.int64)           # doubles, bit for bit
    table[:, 7] = np.sqrt(1 - b2 ** steps).view(np.int64)
    scalar = params[0].dtype.type
    launch(kernel("optim", "adam", params[0].dtype), total,
           (cp.asarray(table), *i32(len(params), total), scalar(b2), scalar(1 - b1),
            scalar(1 - b2), scalar(eps), scalar(weight_decay), scalar(1 - lr * weight_decay),
            *i32(int(decoupled), int(amsgrad), int(maximize))))


def _check_rows(params, *arrays):
    """Every array the kernel reaches through the table must have its parameter's size and
    dtype and be C-contiguous: the kernel cannot tell, and would read or write past it."""
    dtype = params[0].dtype
    for name, group in arrays:
        for i, (p, a) in enumerate(zip(params, group)):
            if a.size != p.size or a.dtype != dtype or not a.flags.c_contiguous:
                raise ValueError(f"multi-tensor update: {name} {i} is {a.dtype} {a.shape} "
                                 f"(C-contiguous: {a.flags.c_contiguous}) for a parameter of "
                                 f"{dtype} {p.shape}")


def _offsets(table, col, sizes):
    """Write each tensor's first element into column ``col``; return the total size."""
    table[1:, col] = np.cumsum(sizes[:-1])
    return int(sum(sizes))
