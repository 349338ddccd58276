"""Averaged SGD (Polyak & Juditsky 1992), PyTorch's update rule.

For each parameter p with gradient g, at step t (η starts at lr, μ at 1):

    g ← g + wd·p                                   (L2 penalty)
    p ← p·(1 - λ·η) - η·g
    a ← a + μ·(p - a)      (a ← p while μ = 1)     (ax: the running average of p)
    η ← lr / (1 + λ·lr·t)^α;   μ ← 1 / max(1, t - t0)
"""
from .optimizer import Optimizer, check_hyper, decayed_grad, scalar_state


class ASGD(Optimizer):
    """ASGD: SGD with a decaying step and, from step t0 on, an average of the iterates.

    Args:
        params: parameters or groups. lr: 1e-2. lambd: decay term λ (1e-4). alpha: power
        α of the step decay (0.75). t0: step at which averaging starts (1e6).
        weight_decay: L2 penalty. maximize: ascend. foreach, differentiable, capturable:
        PyTorch's implementation switches, recorded in the parameter groups and otherwise
        ignored.

    The average is ``optimizer.state[p]["ax"]``. ``eta`` and ``mu`` are Python numbers
    rounded to the default float dtype, as PyTorch's 0-d state tensors (the values agree).

    Example::

        opt = optim.ASGD(model.parameters(), lr=0.01, t0=100)
        opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        check_hyper("lr", lr, "lr")
        check_hyper("weight_decay", weight_decay)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One ASGD update of every parameter that has a gradient."""
        return self._step_by_parameter(closure)

    def _update(self, p, group):
        """The rule of the module docstring for one parameter."""
        lr, lambd = group["lr"], group["lambd"]
        st = self.state[p]
        if not st:
            st = self._init_group_state(p, ("ax",))
            st["eta"], st["mu"] = scalar_state(lr), 1.0
        st["step"] = t = st["step"] + 1
        g = decayed_grad(p, group)
        d, ax, eta = p.data, st["ax"].data, st["eta"]
        d *= 1 - lambd * eta
        d -= eta * g
        if st["mu"] != 1:
            ax += (d - ax) * st["mu"]
        else:
            ax[...] = d
        st["eta"] = scalar_state(lr / (1 + lambd * lr * t) ** group["alpha"])
        st["mu"] = scalar_state(1 / max(1, t - group["t0"]))
        p._vc[0] += 1
