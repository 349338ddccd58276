"""Adadelta (Zeiler 2012), PyTorch's update rule.

For each parameter p with gradient g:

    g ← g + wd·p                                   (L2 penalty)
    v ← ρ·v + (1 - ρ)·g²                           (square_avg)
    Δ ← √(u + eps) / √(v + eps) · g                (u: acc_delta)
    u ← ρ·u + (1 - ρ)·Δ²
    p ← p - lr·Δ
"""
import numpy as np

from .optimizer import Optimizer, check_hyper, decayed_grad


class Adadelta(Optimizer):
    """Adadelta: step sizes from running averages of squared gradients and updates.

    Args:
        params: parameters or groups. lr: scales the update (1.0). rho: decay of both
        running averages (0.9). eps: 1e-6. weight_decay: L2 penalty. maximize: ascend.
        foreach, capturable, differentiable: PyTorch's implementation switches, recorded in
        the parameter groups and otherwise ignored.

    Example::

        opt = optim.Adadelta(model.parameters())
        opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_hyper("lr", lr, "lr")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_hyper("eps", eps, "epsilon")
        check_hyper("weight_decay", weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One Adadelta update of every parameter that has a gradient."""
        return self._step_by_parameter(closure)

    def _update(self, p, group):
        """The rule of the module docstring for one parameter."""
        rho, eps = group["rho"], group["eps"]
        st = self.state[p] or self._init_group_state(p, ("square_avg", "acc_delta"))
        st["step"] += 1
        g = decayed_grad(p, group)
        v, u = st["square_avg"].data, st["acc_delta"].data
        v *= rho
        v += (1 - rho) * (g * g)
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u *= rho
        u += (1 - rho) * (delta * delta)
        p.data -= group["lr"] * delta
        p._vc[0] += 1
