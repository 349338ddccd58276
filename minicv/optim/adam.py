"""Adam (Kingma & Ba 2014) and AdamW (Loshchilov & Hutter 2017), PyTorch's update rule.

For each parameter p with gradient g, at step t:

    p ← p·(1 - lr·wd)          (AdamW: decoupled weight decay)   or   g ← g + wd·p  (Adam)
    m ← m + (1 - β1)·(g - m)                     (= β1·m + (1 - β1)·g)
    v ← β2·v + (1 - β2)·g²
    v̂ ← max(v̂, v) with amsgrad (and v̂ replaces v below)
    p ← p - lr/(1 - β1^t) · m / (√v / √(1 - β2^t) + eps)

On a GPU every parameter of one dtype is updated by one kernel launch
(``kernels/gpu/optim.py``) instead of about fourteen launches per parameter.
"""
import math

import numpy as np

from .optimizer import Optimizer, check_adam_hypers, gpu_batches, gpu_grads


class Adam(Optimizer):
    """Adam with optional L2 weight decay and AMSGrad.

    Args:
        params: parameters or groups. lr: step size (1e-3). betas: (β1, β2) decay rates of
        the moment estimates. eps: added to the denominator. weight_decay: L2 penalty
        added to the gradient. amsgrad: use the running maximum of v. maximize: ascend.
        decoupled_weight_decay: AdamW's decay instead of L2. foreach, capturable,
        differentiable, fused: PyTorch's implementation switches, recorded in the
        parameter groups (PyTorch's state-dict keys) and otherwise ignored.

    Example::

        opt = optim.Adam(model.parameters(), lr=1e-3)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        check_adam_hypers(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One Adam update of every parameter that has a gradient."""
        return self._step_by_parameter(closure)

    @staticmethod
    def _names(group):
        return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if group["amsgrad"] else \
            ("exp_avg", "exp_avg_sq")

    def _update(self, p, group):
        """The rule of the module docstring for one parameter, as array operations."""
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        wd, amsgrad = group["weight_decay"], group["amsgrad"]
        decoupled, maximize = group["decoupled_weight_decay"], group["maximize"]
        st = self.state[p]
        if not st:
            st = self._init_group_state(p, self._names(group))
        d, g = p.data, p.grad.data
        if maximize:
            g = -g
        st["step"] = t = st["step"] + 1
        if wd != 0:
            if decoupled:
                d *= 1 - lr * wd
            else:
                g = g + wd * d
        m, v = st["exp_avg"].data, st["exp_avg_sq"].data
        # scratch buffer: an array even for a 0-d parameter (where g - m is a NumPy scalar,
        # which the out= calls below cannot write into)
        tmp = np.subtract(g, m, out=np.empty_like(m))   # m ← m + (1-β1)(g - m)
        tmp *= 1 - b1
        m += tmp
        np.multiply(g, g, out=tmp)                   # v ← β2 v + (1-β2) g²
        tmp *= 1 - b2
        v *= b2
        v += tmp
        if amsgrad:
            vmax = st["max_exp_avg_sq"].data
            np.maximum(vmax, v, out=vmax)
            v = vmax
        step_size = lr / (1 - b1 ** t)
        np.sqrt(v, out=tmp)                          # denom = √v/√(1-β2^t) + eps
        tmp /= math.sqrt(1 - b2 ** t)
        tmp += eps
        np.divide(m, tmp, out=tmp)
        tmp *= -step_size
        d += tmp
        p._vc[0] += 1

    def _update_on_gpu(self, params, group):
        """The same rule for GPU parameters: one kernel launch per (device, dtype)."""
        from ..kernels.gpu.optim import adam_step
        names = self._names(group)
        for device, ps in gpu_batches(params):
            with device:                        # state and gradient copies on ps' device
                buffers, steps = {name: [] for name in names}, []
                for p in ps:
                    st = self.state[p]
                    if not st:
                        st = self._init_group_state(p, names)
                    st["step"] = st["step"] + 1
                    steps.append(st["step"])
                    for name in names:
                        buffers[name].append(self._gpu_state(p, name, zeros=True)[0])
                adam_step([p.data for p in ps], gpu_grads(ps), buffers["exp_avg"],
                          buffers["exp_avg_sq"], buffers.get("max_exp_avg_sq"), steps,
                          group["lr"], group["betas"], group["eps"], group["weight_decay"],
                          group["decoupled_weight_decay"], group["amsgrad"],
                          group["maximize"])
            for p in ps:
                p._vc[0] += 1


class AdamW(Adam):
    """Adam with decoupled weight decay: p ← p·(1 - lr·wd) before the Adam step.

    Args: as Adam, with weight_decay defaulting to 1e-2.

    Example::

        opt = optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         foreach=foreach, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
