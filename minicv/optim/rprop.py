"""Rprop (Riedmiller & Braun 1993, without weight backtracking), PyTorch's update rule.

For each parameter p with gradient g and per-element step sizes s (starting at lr):

    σ ← sign(g·g_prev)
    s ← clamp(s·η+, min, max) where σ > 0;   clamp(s·η-, min, max) where σ < 0
    g ← 0 where σ < 0                              (skip the step after a sign change)
    p ← p - sign(g)·s;   g_prev ← g
"""
import numpy as np

from ..backend import get_array_module
from ..tensor import Tensor
from .optimizer import Optimizer, check_hyper, grad_of


class Rprop(Optimizer):
    """Rprop: steps of a per-element size that grows while the gradient keeps its sign.

    Args:
        params: parameters or groups. lr: initial step size (1e-2). etas: (η-, η+), the
        shrink and growth factors (0.5, 1.2). step_sizes: (min, max) step size
        (1e-6, 50). maximize: ascend. capturable, foreach, differentiable: PyTorch's
        implementation switches, recorded in the parameter groups and otherwise ignored.

    Example::

        opt = optim.Rprop(model.parameters(), lr=0.01)
        opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_hyper("lr", lr, "lr")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One Rprop update of every parameter that has a gradient."""
        return self._step_by_parameter(closure)

    def _update(self, p, group):
        """The rule of the module docstring for one parameter (selections by ``where``:
        no boolean indexing, which would wait for the GPU)."""
        (eta_minus, eta_plus), (s_min, s_max) = group["etas"], group["step_sizes"]
        xp = get_array_module(p.data)
        st = self.state[p]
        if not st:
            st = self._init_group_state(p, ("prev",))
            st["step_size"] = Tensor(xp.full_like(p.data, group["lr"]))
        st["step"] += 1
        g = grad_of(p, group["maximize"])
        prev, size = st["prev"].data, st["step_size"].data
        sign = np.sign(g * prev)
        shrink = sign < 0
        factor = xp.where(sign > 0, eta_plus, xp.where(shrink, eta_minus,
                                                       xp.where(sign == 0, 1, sign)))
        size *= factor
        np.clip(size, s_min, s_max, out=size)
        g = xp.where(shrink, 0, g)
        p.data -= np.sign(g) * size
        prev[...] = g
        p._vc[0] += 1
