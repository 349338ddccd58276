"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay.

For each parameter p with gradient g (PyTorch's rule, Sutskever et al. 2013 form):

    g ← g + weight_decay·p                                  (L2 penalty)
    b ← g                          on the first step,
    b ← momentum·b + (1 - dampening)·g   afterwards
    g ← g + momentum·b  (nesterov)   or   g ← b
    p ← p - lr·g

On a GPU every parameter of one dtype is updated by one kernel launch
(``kernels/gpu/optim.py``) instead of six launches per parameter.
"""
from ..tensor import Tensor
from .optimizer import Optimizer, check_hyper, gpu_batches, gpu_grads


class SGD(Optimizer):
    """SGD, optionally with momentum.

    Args:
        params: parameters or parameter groups. lr: learning rate (default 1e-3).
        momentum: factor (0: plain SGD). dampening: damps the gradient in the buffer.
        weight_decay: L2 penalty. nesterov: Nesterov momentum. maximize: ascend.
        foreach, differentiable, fused: PyTorch's implementation switches; recorded in
        the parameter groups (so state dicts have PyTorch's keys) and otherwise ignored.

    Example::

        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        check_hyper("lr", lr, "lr", nan_ok=True)            # as PyTorch's SGD: NaN passes
        check_hyper("momentum", momentum, nan_ok=True)
        check_hyper("weight_decay", weight_decay, nan_ok=True)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure's loss."""
        return self._step_by_parameter(closure)

    def _update(self, p, group):
        """The rule of the module docstring for one parameter, as array operations."""
        lr, mom, damp = group["lr"], group["momentum"], group["dampening"]
        wd, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
        d, g = p.data, p.grad.data
        if maximize:
            g = -g
        if wd != 0:
            g = g + wd * d                              # new array: grad untouched
        if mom != 0:
            st = self.state[p]
            buf = st.get("momentum_buffer")
            if buf is None:                         # first step: b = g
                b = g.copy()
                st["momentum_buffer"] = Tensor(b)
            else:
                b = buf.data
                b *= mom
                if damp == 0:
                    b += g
                else:
                    b += (1 - damp) * g
            g = g + mom * b if nesterov else b
        d -= lr * g
        p._vc[0] += 1

    def _update_on_gpu(self, params, group):
        """The same rule for GPU parameters: one kernel launch per (device, dtype)."""
        from ..kernels.gpu.optim import sgd_step
        mom = group["momentum"]
        for device, ps in gpu_batches(params):
            with device:                        # state and gradient copies on ps' device
                grads, bufs, first = gpu_grads(ps), [], []
                if mom != 0:
                    for p in ps:
                        buf, new = self._gpu_state(p, "momentum_buffer")
                        bufs.append(buf)
                        first.append(new)
                sgd_step([p.data for p in ps], grads, bufs, first, group["lr"], mom,
                         group["dampening"], group["weight_decay"], group["nesterov"],
                         group["maximize"])
            for p in ps:
                p._vc[0] += 1
