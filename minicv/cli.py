"""The ``minicv`` command line (also ``python -m minicv``).

    minicv train [options]       train a model (see ``minicv train --help``)
    minicv bench [SUITE ...]     overhead | conv | optim | data | train | all

Wrong arguments give one clear line on stderr and exit status 2, never a traceback.
"""
import argparse
import sys


class CLIError(Exception):
    """A user mistake: printed as one line, exit status 2."""


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
    run(names)


def _train(args):
    from .demo import fit_spirals
    fit_spirals(epochs=args.epochs, seed=args.seed)


def build_parser():
    p = argparse.ArgumentParser(prog="minicv", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench", help="benchmarks beside PyTorch (interleaved, medians)")
    b.add_argument("suite", nargs="*", help="overhead, conv, optim, data, train or all")
    b.add_argument("--threads", type=int, default=None, help="BLAS/Numba threads")
    b.set_defaults(func=_bench)
    t = sub.add_parser("train", help="train a model with the engine")
    t.add_argument("--epochs", type=int, default=200)
    t.add_argument("--seed", type=int, default=0)
    t.set_defaults(func=_train)
    return p


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except CLIError as e:
        print(f"minicv: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("minicv: interrupted", file=sys.stderr)
        return 130
    return 0
