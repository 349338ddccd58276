"""Adagrad (Duchi, Hazan & Singer 2011), PyTorch's update rule.

For each parameter p with gradient g, at step t:

    g ← g + wd·p                                   (L2 penalty)
    lr_t ← lr / (1 + (t - 1)·lr_decay)
    s ← s + g²                                     (s starts at initial_accumulator_value)
    p ← p - lr_t · g / (√s + eps)
"""
import numpy as np

from ..backend import get_array_module
from ..tensor import Tensor
from .optimizer import Optimizer, check_hyper, decayed_grad


class Adagrad(Optimizer):
    """Adagrad: per-coordinate step sizes shrinking with the sum of squared gradients.

    Args:
        params: parameters or groups. lr: 1e-2. lr_decay: decay of the step size per step.
        weight_decay: L2 penalty. initial_accumulator_value: start of the sum ``s``.
        eps: 1e-10, added to the denominator. maximize: ascend. foreach, differentiable,
        fused: PyTorch's implementation switches, recorded in the parameter groups and
        otherwise ignored.

    As PyTorch, the state (``step``, ``sum``) of every parameter is created by the
    constructor, so ``state_dict()`` has it before the first step.

    Example::

        opt = optim.Adagrad(model.parameters(), lr=0.01)
        opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_hyper("lr", lr, "lr")
        check_hyper("lr_decay", lr_decay)
        check_hyper("weight_decay", weight_decay)
        check_hyper("initial_accumulator_value", initial_accumulator_value)
        check_hyper("eps", eps, "epsilon")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, initial_accumulator_value)

    def _init_state(self, p, value):
        xp = get_array_module(p.data)
        self.state[p] = {"step": 0.0, "sum": Tensor(xp.full_like(p.data, value))}

    def step(self, closure=None):
        """One Adagrad update of every parameter that has a gradient."""
        return self._step_by_parameter(closure)

    def _update(self, p, group):
        """The rule of the module docstring for one parameter."""
        st = self.state[p]
        if not st:        # a group added after construction: the constructor's value, as torch
            self._init_state(p, self.defaults["initial_accumulator_value"])
            st = self.state[p]
        st["step"] = t = st["step"] + 1
        g = decayed_grad(p, group)
        clr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        s = st["sum"].data
        s += g * g
        p.data -= clr * (g / (np.sqrt(s) + group["eps"]))
        p._vc[0] += 1
