"""NAdam (Dozat 2016: Adam with Nesterov momentum), PyTorch's update rule.

For each parameter p with gradient g, at step t:

    g ← g + wd·p     or, decoupled,   p ← p·(1 - lr·wd)
    μ_t ← β1·(1 - ½·0.96^(t·ψ))                    (ψ = momentum_decay)
    Π ← Π·μ_t                                      (mu_product)
    m ← m + (1 - β1)·(g - m);   v ← β2·v + (1 - β2)·g²
    d ← √(v / (1 - β2^t)) + eps
    p ← p - lr·(1 - μ_t)/(1 - Π) · g/d - lr·μ_{t+1}/(1 - Π·μ_{t+1}) · m/d
"""
import numpy as np

from .optimizer import Optimizer, check_adam_hypers, check_hyper, decayed_grad, scalar_state


class NAdam(Optimizer):
    """NAdam, optionally with decoupled weight decay (NAdamW).

    Args:
        params: parameters or groups. lr: 2e-3. betas: (0.9, 0.999). eps: 1e-8.
        weight_decay: L2 penalty, or decoupled decay with decoupled_weight_decay=True.
        momentum_decay: ψ (4e-3). maximize: ascend. foreach, capturable, differentiable:
        PyTorch's implementation switches, recorded in the parameter groups and otherwise
        ignored.

    ``mu_product`` is a Python number rounded to the default float dtype after every step,
    as PyTorch's 0-d state tensor (so the values agree).

    Example::

        opt = optim.NAdam(model.parameters(), lr=2e-3)
        opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check_adam_hypers(lr, eps, betas, weight_decay)
        check_hyper("momentum_decay", momentum_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One NAdam update of every parameter that has a gradient."""
        return self._step_by_parameter(closure)

    def _update(self, p, group):
        """The rule of the module docstring for one parameter."""
        lr, (b1, b2) = group["lr"], group["betas"]
        st = self.state[p]
        if not st:
            st = self._init_group_state(p, ("exp_avg", "exp_avg_sq"))
            st["mu_product"] = 1.0
        st["step"] = t = st["step"] + 1
        g, d = decayed_grad(p, group), p.data
        psi = group["momentum_decay"]
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        # PyTorch multiplies in its state tensor's dtype, the factor rounded to it first
        st["mu_product"] = prod = scalar_state(st["mu_product"] * scalar_state(mu))
        m, v = st["exp_avg"].data, st["exp_avg_sq"].data
        m += (1 - b1) * (g - m)
        v *= b2
        v += (1 - b2) * (g * g)
        denom = np.sqrt(v / (1 - b2 ** t)) + group["eps"]
        d += (-lr * (1.0 - mu) / (1.0 - prod)) * (g / denom)
        d += (-lr * mu_next / (1.0 - prod * mu_next)) * (m / denom)
        p._vc[0] += 1
