"""Adamax (Kingma & Ba 2014, section 7.1: Adam with the infinity norm), PyTorch's rule.

For each parameter p with gradient g, at step t:

    g ← g + wd·p                                   (L2 penalty)
    m ← m + (1 - β1)·(g - m)                       (exp_avg)
    u ← max(β2·u, |g| + eps)                       (exp_inf)
    p ← p - lr/(1 - β1^t) · m/u
"""
import numpy as np

from .optimizer import Optimizer, check_adam_hypers, decayed_grad


class Adamax(Optimizer):
    """Adamax: Adam whose second moment is replaced by a decaying maximum of |g|.

    Args:
        params: parameters or groups. lr: 2e-3. betas: (β1, β2) = (0.9, 0.999).
        eps: 1e-8. weight_decay: L2 penalty. maximize: ascend. foreach, differentiable,
        capturable: PyTorch's implementation switches, recorded in the parameter groups
        and otherwise ignored.

    Example::

        opt = optim.Adamax(model.parameters(), lr=2e-3)
        opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        check_adam_hypers(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One Adamax update of every parameter that has a gradient."""
        return self._step_by_parameter(closure)

    def _update(self, p, group):
        """The rule of the module docstring for one parameter."""
        b1, b2 = group["betas"]
        st = self.state[p] or self._init_group_state(p, ("exp_avg", "exp_inf"))
        st["step"] = t = st["step"] + 1
        g = decayed_grad(p, group)
        m, u = st["exp_avg"].data, st["exp_inf"].data
        m += (1 - b1) * (g - m)
        u *= b2
        np.maximum(u, np.abs(g) + group["eps"], out=u)
        p.data -= group["lr"] / (1 - b1 ** t) * (m / u)
        p._vc[0] += 1
