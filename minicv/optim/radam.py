"""RAdam (Liu et al. 2019: Adam with a rectified adaptive learning rate), PyTorch's rule.

For each parameter p with gradient g, at step t:

    g ← g + wd·p     or, decoupled,   p ← p·(1 - lr·wd)
    m ← m + (1 - β1)·(g - m);   v ← β2·v + (1 - β2)·g²
    ρ∞ ← 2/(1 - β2) - 1;   ρ_t ← ρ∞ - 2t·β2^t/(1 - β2^t)
    ρ_t > 5:  r ← √((ρ_t - 4)(ρ_t - 2)ρ∞ / ((ρ∞ - 4)(ρ∞ - 2)ρ_t))
              p ← p - lr · m/(1 - β1^t) · √(1 - β2^t)/(√v + eps) · r
    else:     p ← p - lr · m/(1 - β1^t)            (plain momentum while v is unreliable)
"""
import math

import numpy as np

from .optimizer import Optimizer, check_adam_hypers, decayed_grad


class RAdam(Optimizer):
    """RAdam, optionally with decoupled weight decay (RAdamW).

    Args:
        params: parameters or groups. lr: 1e-3. betas: (0.9, 0.999). eps: 1e-8.
        weight_decay: L2 penalty, or decoupled decay with decoupled_weight_decay=True.
        maximize: ascend. foreach, capturable, differentiable: PyTorch's implementation
        switches, recorded in the parameter groups and otherwise ignored.

    Example::

        opt = optim.RAdam(model.parameters(), lr=1e-3)
        opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        check_adam_hypers(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One RAdam update of every parameter that has a gradient."""
        return self._step_by_parameter(closure)

    def _update(self, p, group):
        """The rule of the module docstring for one parameter."""
        lr, (b1, b2) = group["lr"], group["betas"]
        st = self.state[p] or self._init_group_state(p, ("exp_avg", "exp_avg_sq"))
        st["step"] = t = st["step"] + 1
        g, d = decayed_grad(p, group), p.data
        m, v = st["exp_avg"].data, st["exp_avg_sq"].data
        m += (1 - b1) * (g - m)
        v *= b2
        v += (1 - b2) * (g * g)
        bc2 = 1 - b2 ** t
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * b2 ** t / bc2
        m_hat = m / (1 - b1 ** t)
        if rho_t > 5.0:                  # a Python number: the branch needs no device value
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            d -= m_hat * lr * (math.sqrt(bc2) / (np.sqrt(v) + group["eps"])) * rect
        else:
            d -= m_hat * lr
        p._vc[0] += 1
