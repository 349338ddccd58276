"""``minicv bench modules`` / ``losses``: forward + backward of everyday layers and losses
beside PyTorch's.

Each row builds the layer in both libraries with the same weights, runs it on the same
float32 input (by default a (32, 64, 32, 32) activation map: 2M values, 8 MB, out of
cache as in a real network) and back-propagates the same contiguous random upstream
gradient, as the next layer of a network would send. Interleaved runs, medians, the same
thread count for both libraries.

Most of these layers are memory-bound: what counts is how many passes over the 8 MB they
make, whether those passes use both cores, and whether a select (``np.where`` on a
random mask) stalls on branch mispredictions.

Run: ``python -m minicv bench modules`` or ``python -m minicv.bench.modules``.
"""
import numpy as np

from .common import interleaved, torch_or_none

# (nn class name, positional arguments, keyword arguments, input shape or None for SHAPE)
SHAPE = (32, 64, 32, 32)
CASES = [
    ("ReLU", (), {}, None),
    ("LeakyReLU", (0.1,), {}, None),
    ("ELU", (), {}, None),
    ("Hardswish", (), {}, None),
    ("GELU", (), {}, None),
    ("GELU", (), {"approximate": "tanh"}, None),
    ("SiLU", (), {}, None),
    ("Mish", (), {}, None),
    ("Softplus", (), {}, None),
    ("Sigmoid", (), {}, None),
    ("Tanh", (), {}, None),
    ("Softmax", (), {"dim": 1}, (512, 1000)),
    ("LogSoftmax", (), {"dim": 1}, (512, 1000)),
    ("BatchNorm2d", (64,), {}, None),
    ("GroupNorm", (8, 64), {}, None),
    ("InstanceNorm2d", (64,), {}, None),
    ("LayerNorm", (256,), {}, (32, 128, 256)),
    ("MaxPool2d", (2,), {}, None),
    ("AvgPool2d", (2,), {}, None),
    ("AdaptiveAvgPool2d", (1,), {}, None),
    ("AdaptiveAvgPool2d", (7,), {}, None),
    ("ZeroPad2d", (1,), {}, None),
    ("ReflectionPad2d", (1,), {}, None),
    ("Dropout2d", (0.5,), {}, None),
    ("Upsample", (), {"scale_factor": 2, "mode": "bilinear"}, None),
    ("Conv2d", (64, 64, 3), {"padding": 1}, None),
    ("Conv2d", (64, 64, 3), {"stride": 2, "padding": 1}, None),
    ("ConvTranspose2d", (64, 32, 2), {"stride": 2}, None),
]


def case_name(cls, args, kwargs, shape):
    """``LeakyReLU(0.1) (32, 64, 32, 32)``: the call as written in Python, then the input."""
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{cls}({', '.join(parts)}) {tuple(shape)}"


def _step(lib, layer, x, gy):
    """One forward + backward of ``layer`` on a fresh leaf copy of ``x`` with upstream
    gradient ``gy`` (NumPy arrays)."""
    def run():
        t = lib.tensor(x, requires_grad=True)
        layer(t).backward(lib.tensor(gy))
    return run


def bench_modules(repeats=7, batch=None, cases=None):
    """Rows of minicv's and PyTorch's median milliseconds per forward + backward.

    ``batch`` replaces every input's batch size (a test runs them all with 1); ``cases``
    picks a subset by class name.
    """
    import minicv as mc
    torch = torch_or_none()
    rng = np.random.default_rng(0)
    rows = []
    for cls, args, kwargs, own in CASES:
        if cases and cls not in cases:
            continue
        in_shape = own or SHAPE
        if batch is not None:
            in_shape = (batch,) + in_shape[1:]
        x = rng.standard_normal(in_shape).astype(np.float32)
        layer = getattr(mc.nn, cls)(*args, **kwargs)
        gy = rng.standard_normal(tuple(layer(mc.tensor(x)).shape)).astype(np.float32)
        fns = {"minicv": _step(mc, layer, x, gy)}
        if torch is not None:                       # the same weights in both libraries
            torch.manual_seed(0)
            tlayer = getattr(torch.nn, cls)(*args, **kwargs)
            state = tlayer.state_dict()
            if state:
                layer.load_state_dict({k: mc.tensor(v.detach().numpy())
                                       for k, v in state.items()})
            fns["torch"] = _step(torch, tlayer, x, gy)
        med = interleaved(fns, repeats=repeats, warmup=2)
        ms = {k: v * 1e3 for k, v in med.items()}
        row = {"case": case_name(cls, args, kwargs, in_shape), "minicv_ms": ms["minicv"],
               "torch_ms": ms.get("torch")}
        row["ratio"] = row["minicv_ms"] / row["torch_ms"] if row["torch_ms"] else None
        rows.append(row)
    return rows


# (nn loss class, keyword arguments, input shape, target: "class" indices over dim 1 or
# "float" values like the input)
LOSS_CASES = [
    ("CrossEntropyLoss", {}, (512, 1000), "class"),
    ("CrossEntropyLoss", {}, (64, 21, 64, 64), "class"),
    ("CrossEntropyLoss", {"label_smoothing": 0.1}, (512, 1000), "class"),
    ("MSELoss", {}, SHAPE, "float"),
    ("L1Loss", {}, SHAPE, "float"),
    ("SmoothL1Loss", {}, SHAPE, "float"),
    ("HuberLoss", {}, SHAPE, "float"),
    ("BCEWithLogitsLoss", {}, SHAPE, "float"),
]


def _loss_step(lib, loss, x, target):
    """One loss forward + backward on a fresh leaf copy of the logits ``x``."""
    def run():
        loss(lib.tensor(x, requires_grad=True), lib.tensor(target)).backward()
    return run


def bench_losses(repeats=7, batch=None):
    """Rows of minicv's and PyTorch's median milliseconds per loss forward + backward
    (``batch`` replaces every input's batch size, as in :func:`bench_modules`)."""
    import minicv as mc
    torch = torch_or_none()
    rng = np.random.default_rng(0)
    rows = []
    for cls, kwargs, shape, kind in LOSS_CASES:
        shape = shape if batch is None else (batch,) + shape[1:]
        x = rng.standard_normal(shape).astype(np.float32)
        if kind == "class":
            target = rng.integers(0, shape[1], (shape[0],) + shape[2:])
        else:                                         # in [0, 1]: also a BCE target
            target = rng.random(shape).astype(np.float32)
        fns = {"minicv": _loss_step(mc, getattr(mc.nn, cls)(**kwargs), x, target)}
        if torch is not None:
            fns["torch"] = _loss_step(torch, getattr(torch.nn, cls)(**kwargs), x, target)
        med = interleaved(fns, repeats=repeats, warmup=2)
        ms = {k: v * 1e3 for k, v in med.items()}
        row = {"case": case_name(cls, (), kwargs, shape), "minicv_ms": ms["minicv"],
               "torch_ms": ms.get("torch")}
        row["ratio"] = row["minicv_ms"] / row["torch_ms"] if row["torch_ms"] else None
        rows.append(row)
    return rows


COLUMNS = [("case", "case", "{}"), ("minicv_ms", "minicv ms", "{:.2f}"),
           ("torch_ms", "torch ms", "{:.2f}"), ("ratio", "minicv/torch", "{:.2f}")]


if __name__ == "__main__":
    from .common import machine, print_table
    print(f"machine: {machine()}")
    print_table("modules (forward + backward)", bench_modules(), COLUMNS)
    print_table("losses (forward + backward)", bench_losses(), COLUMNS)
