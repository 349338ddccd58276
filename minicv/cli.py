"""The ``minicv`` command line (also ``python -m minicv``).

    minicv train [options]         train a zoo model (default: LeNet-5 on SynthDigits)
    minicv eval CKPT [--dataset]   evaluate a checkpoint written by ``minicv train``
    minicv predict CKPT IMAGE...   top-k classes for image files
    minicv models                  the model zoo with parameter counts
    minicv bench [SUITE ...]       overhead | conv | optim | data | train | layers |
                                   modules | losses | all

A mistake (wrong argument, missing data directory, checkpoint of another model) prints
one line on stderr and exits with status 2, never a traceback.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


class CLIError(Exception):
    """A user mistake: printed as one line, exit status 2."""


# ----------------------------------------------------------------------------- train

def _train(args):
    import minicv as mc
    from .models import MODELS, get_model
    from .train import setup
    from .train.trainer import Trainer
    if args.model not in MODELS:
        raise CLIError(f"unknown model {args.model!r}; choose from {', '.join(MODELS)} "
                       f"(see `minicv models`)")
    if args.threads:
        mc.set_num_threads(args.threads)
    device = _check_device(args.device)
    mc.manual_seed(args.seed)
    start = time.perf_counter()
    bundle = setup.build_data(args.dataset, args.data_dir, args.train_size, args.val_size,
                              args.seed, lazy=True, workers=args.workers)
    print(f"data: {args.dataset}, {len(bundle.train)} train / {len(bundle.val)} val images "
          f"of {bundle.in_channels}x{bundle.image_size[0]}x{bundle.image_size[1]}, "
          f"{bundle.num_classes} classes ({time.perf_counter() - start:.1f}s)")
    model = get_model(args.model, num_classes=bundle.num_classes,
                      in_channels=bundle.in_channels)
    train_loader, val_loader = setup.make_loaders(bundle, args.batch_size, args.workers)
    optimizer = setup.build_optimizer(args.optimizer, model.parameters(), args.lr,
                                      args.weight_decay)
    scheduler = setup.build_scheduler(args.scheduler, optimizer, args.epochs,
                                      len(train_loader))
    meta = {"model": args.model, "dataset": args.dataset, "num_classes": bundle.num_classes,
            "in_channels": bundle.in_channels, "image_size": list(bundle.image_size),
            "mean": bundle.mean, "std": bundle.std, "class_names": bundle.class_names}
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {args.model} ({n_params:,} parameters), optimizer {args.optimizer} "
          f"lr {args.lr}, {args.epochs} epochs, batch {args.batch_size}, out {args.out}")
    trainer = Trainer(model, optimizer, scheduler=scheduler, out_dir=args.out,
                      num_classes=bundle.num_classes, early_stopping=args.early_stopping,
                      meta=meta, progress=not args.quiet, device=device)
    if args.resume:
        _check_ckpt(args.resume)
        try:
            trainer.resume(args.resume)
        except (KeyError, RuntimeError, ValueError) as e:
            raise CLIError(f"cannot resume from {args.resume}: {str(e).splitlines()[0]}")
    trainer.fit(train_loader, val_loader, epochs=args.epochs)
    best = trainer.best_accuracy
    print(f"done in {time.perf_counter() - start:.1f}s: best validation accuracy "
          f"{best:.4f}; checkpoints, history and plots in {args.out}")
    return trainer


def _check_device(spec):
    """The device for --device, checked now (one clear line if CuPy or a GPU is missing)."""
    from .backend import Device, require_cupy
    try:
        device = Device(spec)
        if device.type == "cuda":
            require_cupy(device.index)
    except RuntimeError as e:
        raise CLIError(str(e)) from None
    return device


def _check_ckpt(path):
    if not Path(path).is_file():
        raise CLIError(f"checkpoint not found: {path}")


def _load_checkpoint(path):
    """(model, meta) from a ``minicv train`` checkpoint, with one-line errors."""
    import minicv as mc
    from .models import get_model
    _check_ckpt(path)
    try:
        state = mc.load(path)
    except ValueError as e:
        raise CLIError(str(e).splitlines()[0])
    if not isinstance(state, dict) or "model" not in state or "meta" not in state:
        raise CLIError(f"{path} is not a checkpoint written by `minicv train` (no model "
                       f"and meta entries)")
    meta = state["meta"]
    model = get_model(meta["model"], num_classes=meta["num_classes"],
                      in_channels=meta["in_channels"])
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, KeyError, ValueError) as e:
        raise CLIError(f"{path} does not fit model {meta['model']}: "
                       f"{str(e).splitlines()[0]}")
    model.eval()
    return model, meta


def _eval(args):
    from .train import setup
    from .train.trainer import Trainer
    model, meta = _load_checkpoint(args.checkpoint)
    dataset = args.dataset or meta["dataset"]
    bundle = setup.build_data(dataset, args.data_dir, 1, args.val_size, args.seed,
                              stats=(meta["mean"], meta["std"]))
    if bundle.in_channels != meta["in_channels"] or bundle.num_classes != meta["num_classes"]:
        raise CLIError(f"checkpoint was trained on {meta['dataset']} ({meta['in_channels']} "
                       f"channels, {meta['num_classes']} classes); {dataset} has "
                       f"{bundle.in_channels} channels and {bundle.num_classes} classes")
    _, val_loader = setup.make_loaders(bundle, 256)
    report = Trainer(model, None, num_classes=meta["num_classes"]).evaluate(val_loader)
    names = meta.get("class_names") or [str(i) for i in range(meta["num_classes"])]
    print(f"{args.checkpoint} on {dataset} ({len(bundle.val)} images): accuracy "
          f"{report['accuracy']:.4f}, top-5 {report.get('top5_accuracy', float('nan')):.4f}, "
          f"macro F1 {report['macro_f1']:.4f}, loss {report['loss']:.4f}")
    print(f"{'class':>12}  precision  recall  f1")
    for i, n in enumerate(names):
        print(f"{n:>12}  {report['precision'][i]:9.3f}  {report['recall'][i]:6.3f}  "
              f"{report['f1'][i]:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return report


def _predict(args):
    import minicv as mc
    from PIL import Image, UnidentifiedImageError
    model, meta = _load_checkpoint(args.checkpoint)
    c = meta["in_channels"]
    h, w = meta["image_size"]
    mean = np.array(meta["mean"], np.float32).reshape(c, 1, 1)
    std = np.array(meta["std"], np.float32).reshape(c, 1, 1)
    names = meta.get("class_names") or [str(i) for i in range(meta["num_classes"])]
    results = []
    for path in args.images:
        try:
            img = Image.open(path)
            img = img.convert("L" if c == 1 else "RGB").resize((w, h), Image.BILINEAR)
        except FileNotFoundError:
            raise CLIError(f"image not found: {path}")
        except (UnidentifiedImageError, OSError) as e:
            raise CLIError(f"cannot read image {path}: {e}")
        a = np.asarray(img, np.float32) / 255.0
        a = a[None] if c == 1 else a.transpose(2, 0, 1)
        with mc.no_grad():
            p = model(mc.tensor(((a - mean) / std)[None])).softmax(dim=1).data[0]
        top = np.argsort(-p)[:args.topk]
        print(f"{path}: " + ", ".join(f"{names[i]} {p[i]:.3f}" for i in top))
        results.append([(names[i], float(p[i])) for i in top])
    return results


def _models(args):
    from .models import MODELS, count_parameters, get_model
    print(f"{'name':<11} {'input':<10} {'parameters':>12}  description")
    for name, (_, shape, desc) in MODELS.items():
        n = count_parameters(get_model(name, num_classes=10 if shape[1] <= 32 else 1000))
        print(f"{name:<11} {'x'.join(map(str, shape)):<10} {n:>12,}  {desc}")


def _bench(args):
    from .bench import SUITES, run
    names = args.suite or ["overhead"]
    if "all" in names:
        names = list(SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        raise CLIError(f"unknown bench suite {unknown[0]!r}; choose from "
                       f"{', '.join(SUITES)} or all")
    if args.threads:
        from .backend import set_num_threads
        set_num_threads(args.threads)
    device = _check_device(args.device)
    if device.type == "cuda":
        from .bench import run_gpu
        run_gpu(names, str(device))
        return
    run(names)


# ----------------------------------------------------------------------------- parser

class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise CLIError(f"{self.prog}: {message}")


def build_parser():
    from .train.setup import DATASETS
    p = _Parser(prog="minicv", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    t = sub.add_parser("train", help="train a zoo model on a data set")
    t.add_argument("--model", default="lenet5", help="zoo name (see `minicv models`)")
    t.add_argument("--dataset", default="synth-digits", choices=DATASETS)
    t.add_argument("--data-dir", default=None, help="files for mnist/cifar10/imagefolder")
    t.add_argument("--epochs", type=int, default=4)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--lr", type=float, default=0.05)
    t.add_argument("--optimizer", default="sgd", choices=["sgd", "adam", "adamw", "rmsprop"])
    t.add_argument("--weight-decay", type=float, default=5e-4)
    t.add_argument("--scheduler", default="cosine",
                   choices=["none", "cosine", "step", "plateau", "onecycle"])
    t.add_argument("--early-stopping", type=int, default=None, metavar="EPOCHS")
    t.add_argument("--train-size", type=int, default=None)
    t.add_argument("--val-size", type=int, default=None)
    t.add_argument("--workers", type=int, default=0)
    t.add_argument("--threads", type=int, default=None)
    t.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (needs CuPy)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", default="runs/train")
    t.add_argument("--resume", default=None, metavar="CKPT")
    t.add_argument("--quiet", action="store_true", help="no progress bars")
    t.set_defaults(func=_train)
    e = sub.add_parser("eval", help="evaluate a checkpoint")
    e.add_argument("checkpoint")
    e.add_argument("--dataset", default=None, choices=DATASETS)
    e.add_argument("--data-dir", default=None)
    e.add_argument("--val-size", type=int, default=None)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--json", default=None, help="also write the report here")
    e.set_defaults(func=_eval)
    pr = sub.add_parser("predict", help="top-k classes of image files")
    pr.add_argument("checkpoint")
    pr.add_argument("images", nargs="+")
    pr.add_argument("--topk", type=int, default=3)
    pr.set_defaults(func=_predict)
    m = sub.add_parser("models", help="list the zoo")
    m.set_defaults(func=_models)
    b = sub.add_parser("bench", help="benchmarks beside PyTorch (interleaved, medians)")
    b.add_argument("suite", nargs="*", help="overhead, conv, optim, data, train, layers, "
                                            "modules, losses or all")
    b.add_argument("--threads", type=int, default=None, help="BLAS/Numba threads")
    b.add_argument("--device", default="cpu", help="cpu, or cuda / cuda:N for the GPU "
                   "variants of the train and conv suites (needs CuPy)")
    b.set_defaults(func=_bench)
    return p


def main(argv=None):
    try:
        args = build_parser().parse_args(argv)
        args.func(args)
    except CLIError as e:
        print(f"minicv: error: {e}", file=sys.stderr)
        return 2
    except ValueError as e:
        from .train.setup import SetupError
        if isinstance(e, SetupError):
            print(f"minicv: error: {e}", file=sys.stderr)
            return 2
        raise
    except KeyboardInterrupt:
        print("minicv: interrupted", file=sys.stderr)
        return 130
    return 0
