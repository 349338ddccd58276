"""RMSprop (Hinton's lecture 6e), PyTorch's form:

    g ← g + wd·p
    v ← α·v + (1 - α)·g²
    centered: ḡ ← ḡ + (1 - α)(g - ḡ);  avg = √(v - ḡ²) + eps,   else avg = √v + eps
    momentum > 0: b ← momentum·b + g/avg;  p ← p - lr·b
    otherwise:    p ← p - lr·g/avg
"""
import numpy as np

from .optimizer import Optimizer, check_hyper


class RMSprop(Optimizer):
    """RMSprop.

    Args:
        params: parameters or groups. lr: 1e-2. alpha: smoothing constant (0.99).
        eps: 1e-8. weight_decay: L2 penalty. momentum: momentum factor.
        centered: normalise by the variance estimate instead of the raw second moment.
        maximize: ascend. capturable, foreach, differentiable: PyTorch's implementation
        switches, recorded in the parameter groups and otherwise ignored.

    Example::

        opt = optim.RMSprop(model.parameters(), lr=1e-3, momentum=0.9)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_hyper("lr", lr, "lr")
        check_hyper("eps", eps, "epsilon")
        check_hyper("momentum", momentum)
        check_hyper("weight_decay", weight_decay)
        check_hyper("alpha", alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One RMSprop update of every parameter that has a gradient."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            wd, mom, centered = group["weight_decay"], group["momentum"], group["centered"]
            names = ["square_avg"]
            if mom > 0:
                names.append("momentum_buffer")
            if centered:
                names.append("grad_avg")
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st = self._init_group_state(p, names)
                d, g = p.data, p.grad.data
                if group["maximize"]:
                    g = -g
                st["step"] += 1
                if wd != 0:
                    g = g + wd * d
                v = st["square_avg"].data
                # an array even for a 0-d parameter (g * g would be a NumPy scalar)
                avg = np.multiply(g, g, out=np.empty_like(v))   # v ← αv + (1-α)g²
                avg *= 1 - alpha
                v *= alpha
                v += avg
                if centered:
                    ga = st["grad_avg"].data
                    np.subtract(g, ga, out=avg)              # ḡ ← ḡ + (1-α)(g - ḡ)
                    avg *= 1 - alpha
                    ga += avg
                    np.multiply(ga, ga, out=avg)
                    np.subtract(v, avg, out=avg)
                    np.sqrt(avg, out=avg)
                else:
                    np.sqrt(v, out=avg)
                avg += eps
                if mom > 0:
                    buf = st["momentum_buffer"].data
                    buf *= mom
                    buf += g / avg
                    d -= lr * buf
                else:
                    np.divide(g, avg, out=avg)
                    avg *= -lr
                    d += avg
                p._vc[0] += 1
        return loss
