"""Transfer learning helpers (study-guide topics 3, 18, 48): freeze and unfreeze, replace
the head, fine-tune the last N stages, per-group learning rates, and features at a named
layer for a linear probe.

Typical use::

    model = resnet20(); model.load_state_dict(mc.load("pretrained.ckpt")["model"])
    replace_head(model, num_classes=5)            # a fresh classifier
    fine_tune_last(model, 1)                      # train layer3 + head, freeze the rest
    opt = mc.optim.SGD(param_groups(model, lr=0.01, head_lr=0.1), lr=0.01)
"""
import numpy as np

from .. import nn


def freeze(module):
    """Stop gradients for every parameter of ``module`` (returns it)."""
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def unfreeze(module):
    for p in module.parameters():
        p.requires_grad_(True)
    return module


def _head_name(model):
    """The attribute holding the final classifier: the last Linear among the children."""
    for name in ("fc", "classifier", "head"):
        if hasattr(model, name):
            return name
    names = [n for n, _ in model.named_children()]
    if not names:
        raise ValueError(f"{type(model).__name__} has no child modules to call a head")
    return names[-1]


def head(model):
    return getattr(model, _head_name(model))


def replace_head(model, num_classes):
    """Swap the model's last Linear layer (``fc``/``classifier``...) for a fresh one with
    ``num_classes`` outputs and PyTorch's default initialisation."""
    name = _head_name(model)
    old = getattr(model, name)
    if isinstance(old, nn.Linear):
        setattr(model, name, nn.Linear(old.in_features, num_classes))
        return model
    if isinstance(old, nn.Sequential):
        idx = max(i for i, m in enumerate(old) if isinstance(m, nn.Linear))
        old[idx] = nn.Linear(old[idx].in_features, num_classes)
        return model
    raise ValueError(f"don't know how to replace head {name!r} of type "
                     f"{type(old).__name__}; assign a new nn.Linear to it yourself")


def stages(model):
    """The model's top-level children in order, the head excluded."""
    name = _head_name(model)
    return [(n, m) for n, m in model.named_children() if n != name]


def fine_tune_last(model, n):
    """Freeze everything, then unfreeze the last ``n`` stages and the head. Returns the
    names of the trainable stages. ``n=0`` is a linear probe."""
    freeze(model)
    unfreeze(head(model))
    chosen = [name for name, m in stages(model) if any(True for _ in m.parameters())]
    chosen = chosen[len(chosen) - n:] if n > 0 else []
    for name in chosen:
        unfreeze(getattr(model, name))
    return chosen


def param_groups(model, lr, head_lr=None):
    """Two optimizer groups, body and head, each with its own learning rate; frozen
    parameters are left out."""
    head_params = {id(p) for p in head(model).parameters()}
    body = [p for p in model.parameters() if p.requires_grad and id(p) not in head_params]
    top = [p for p in head(model).parameters() if p.requires_grad]
    groups = [{"params": top, "lr": lr if head_lr is None else head_lr}]
    if body:
        groups.insert(0, {"params": body, "lr": lr})
    return groups


def extract_features(model, x, layer, batch_size=256):
    """Output of the sub-module named ``layer`` (as in ``named_modules``) for inputs ``x``
    (an array or tensor, batched), flattened to (N, features), as a NumPy array.

    Batches go to the device of the model's parameters; features come back to the host."""
    import minicv as mc
    from ..backend import to_numpy
    modules = dict(model.named_modules())
    if layer not in modules:
        raise ValueError(f"no layer named {layer!r}; choose from "
                         f"{', '.join(n for n in modules if n)}")
    feats = []
    handle = modules[layer].register_forward_hook(
        lambda m, inp, out: feats.append(to_numpy(out.data.reshape(out.shape[0], -1)).copy()))
    was_training = model.training
    model.eval()
    try:
        data = x.data if isinstance(x, mc.Tensor) else x      # a NumPy or CuPy array
        param = next(iter(model.parameters()), None)
        device = "cpu" if param is None else param.device
        with mc.no_grad():
            for i in range(0, len(data), batch_size):
                model(mc.tensor(data[i:i + batch_size], device=device))
    finally:
        handle.remove()
        model.train(was_training)
    return np.concatenate(feats)
