"""Weight averaging: Stochastic Weight Averaging (Izmailov et al. 2018) and EMA models.

``AveragedModel`` keeps a copy of a model whose parameters are an average of the model's
parameters over time; ``update_parameters(model)`` folds in the current ones:

    SWA (default):  a ← a + (p - a)/(n + 1)        (the running mean of n + 1 models)
    EMA:            a ← decay·a + (1 - decay)·p    (``get_ema_multi_avg_fn(decay)``)

``SWALR`` anneals each group's lr to a constant ``swa_lr``; ``update_bn`` recomputes the
BatchNorm statistics of the averaged model with one pass over the data.

Example::

    swa_model = optim.swa_utils.AveragedModel(model)
    sched = optim.swa_utils.SWALR(opt, swa_lr=0.05)
    ...  # each epoch: train, swa_model.update_parameters(model), sched.step()
    optim.swa_utils.update_bn(loader, swa_model)
"""
import copy
import itertools
import math

import numpy as np

from ..autograd import no_grad
from ..nn.module import Module
from ..nn.norm import _BatchNorm
from ..tensor import Tensor
from .lr_scheduler import LRScheduler, _format_param

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


def _lerp_(start, end, weight):
    """start ← start + weight·(end - start) in place, on arrays, as PyTorch's ``lerp_``
    rounds it (from the nearer end)."""
    if weight < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         f"[0,1] range.")


def get_ema_multi_avg_fn(decay=0.999):
    """``multi_avg_fn`` for an exponential moving average: each a ← decay·a + (1-decay)·p,
    in place, for lists of Tensors of one dtype."""
    _check_decay(decay)

    def ema_update(ema_param_list, current_param_list, _):
        for a, p in zip(ema_param_list, current_param_list):
            if a.data.dtype.kind == "f":
                _lerp_(a.data, p.data, 1 - decay)
            else:                             # integer buffers: truncated, as copy_
                a.data[...] = a.data * decay + p.data * (1 - decay)
            a._vc[0] += 1
    return ema_update


def get_swa_multi_avg_fn():
    """``multi_avg_fn`` for the running mean: each a ← a + (p - a)/(n + 1), in place."""
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        n = int(num_averaged.item()) if isinstance(num_averaged, Tensor) else num_averaged
        for a, p in zip(averaged_param_list, current_param_list):
            if a.data.dtype.kind == "f":
                _lerp_(a.data, p.data, 1 / (n + 1))
            else:
                a.data[...] = a.data + (p.data - a.data) / (n + 1)
            a._vc[0] += 1
    return swa_update


def get_ema_avg_fn(decay=0.999):
    """``avg_fn`` for an exponential moving average: returns decay·a + (1 - decay)·p."""
    _check_decay(decay)

    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    """``avg_fn`` for the running mean: returns a + (p - a)/(n + 1)."""
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` whose parameters average the model's over time (SWA or EMA).

    Args:
        model: the model to average (deep-copied). device: where to keep the copy.
        avg_fn: ``avg_fn(averaged, current, num_averaged) -> Tensor``, one parameter at a
        time. multi_avg_fn: ``multi_avg_fn(averaged_list, current_list, num_averaged)``,
        updating lists of Tensors (one device and dtype each) in place. Neither: SWA's
        running mean. use_buffers: average the buffers too (else they are copied).

    The first ``update_parameters`` copies the model; ``n_averaged`` (an int64 buffer)
    counts the updates, and reading it waits for the GPU once per update, as in PyTorch.

    Example::

        ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.999))
        ema.update_parameters(model)        # after each optimizer step
    """

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", Tensor(np.zeros((), np.int64)))
        if device is not None:
            self.n_averaged = self.n_averaged.to(device)
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model):
        """Fold ``model``'s current parameters (and buffers, with use_buffers) into the
        average."""
        if self.use_buffers:
            ours = itertools.chain(self.module.parameters(), self.module.buffers())
            theirs = itertools.chain(model.parameters(), model.buffers())
        else:
            ours, theirs = self.parameters(), model.parameters()
        pairs = [(a.detach(), p.detach().to(a.device)) for a, p in zip(ours, theirs)]
        n = int(self.n_averaged.item())
        with no_grad():
            if n == 0:
                for a, p in pairs:
                    a.data[...] = p.data
                    a._vc[0] += 1
            elif self.avg_fn is not None:
                for a, p in pairs:
                    a.data[...] = self.avg_fn(a, p, self.n_averaged.to(a.device)).data
                    a._vc[0] += 1
            else:
                update = self.multi_avg_fn or get_swa_multi_avg_fn()
                groups = {}
                for a, p in pairs:            # one call per device and dtype, as PyTorch
                    groups.setdefault((str(a.device), a.dtype), []).append((a, p))
                for group in groups.values():
                    update([a for a, _ in group], [p for _, p in group],
                           self.n_averaged.to(group[0][0].device))
            if not self.use_buffers:
                for b_ours, b_model in zip(self.module.buffers(), model.buffers()):
                    b_ours.data[...] = b_model.detach().to(b_ours.device).data
                    b_ours._vc[0] += 1
        self.n_averaged.data += 1
        self.n_averaged._vc[0] += 1


def update_bn(loader, model, device=None):
    """Recompute the running statistics of every BatchNorm layer of ``model`` with one pass
    over ``loader`` (the mean over all batches: momentum None meanwhile).

    Args:
        loader: yields input batches, or tuples/lists whose first item is the input.
        model: the model (e.g. an ``AveragedModel``). device: moves each batch there.

    Example::

        update_bn(train_loader, swa_model)
    """
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None:
                batch = batch.to(device)
            model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr to ``swa_lr`` over ``anneal_epochs`` epochs, then keep it.

    With α(t) = (1 - cos(πt))/2 ('cos') or t ('linear'), t = min(1, epoch/anneal_epochs),
    the lr moves from its value when SWA starts to ``swa_lr``:  lr = swa_lr·α + lr₀·(1-α).

    Args:
        optimizer: the optimizer. swa_lr: the final lr (one per group, or one for all).
        anneal_epochs: length of the annealing (10; 0: swa_lr at once).
        anneal_strategy: 'cos' or 'linear'. last_epoch: -1 to start.

    Example::

        sched = SWALR(optimizer, swa_lr=0.05, anneal_epochs=5)
        sched.step()                               # once per epoch
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos",
                 last_epoch=-1):
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._anneal_strategy = anneal_strategy
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def anneal_func(self, t):
        if self._anneal_strategy == "linear":
            return t
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        """The lr at the start of the annealing that gives ``lr`` after fraction α."""
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                    for group in self.optimizer.param_groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [group["swa_lr"] * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, prev_lrs)]
