"""The command line:

    python -m engine.search --strategy random --trials 8
    python -m engine.search --strategy optuna --trials 8 --device cpu
    python -m engine.search --strategy grid --space '{"lr": {"log": [1e-3, 1e-1]}, "width": [64, 128]}'
    python -m engine.search --strategy ray --trials 8 [--address HEAD:6379]

Prints one line per finished trial on stderr, then the results table (best first) and the
best configuration on stdout.
"""
import argparse
import json
import os
import sys
import time

from .. import backend as _backend
from . import STRATEGIES, Budget, default_space, describe_best, parse_space, results_table
from .space import grid_configs

PROG = "python -m engine.search"


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake prints two lines, not the whole usage text above them."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n(see {self.prog} --help)\n")


def _parser():
    from ..models import MODELS
    p = _Parser(prog=PROG, allow_abbrev=False,
                description="Search hyper-parameters: each trial trains on part of the training "
                            "set and is scored on images held out of it (never the test set).")
    p.add_argument("--strategy", required=True, choices=sorted(STRATEGIES))
    p.add_argument("--trials", type=int,
                   help="how many trials (random, optuna, ray; default 8); grid runs every "
                        "combination of the space")
    p.add_argument("--space", metavar="JSON",
                   help='the search space as JSON, or a JSON file: {"lr": {"log": [1e-4, 1e-1]}, '
                        '"momentum": {"uniform": [0.8, 0.99]}, "batch_size": [32, 64]}; default: '
                        "lr, batch_size, optimizer and (for the MLP) width")
    p.add_argument("--grid-points", type=int, default=3,
                   help="grid search: values per continuous range (default 3)")
    p.add_argument("--model", default="mlp", choices=sorted(MODELS))
    p.add_argument("--dataset", default="mnist",
                   help="'mnist', 'fashion-mnist', or a folder of the four IDX files")
    p.add_argument("--examples", type=int, default=Budget.examples,
                   help=f"training images per trial (default {Budget.examples:,})")
    p.add_argument("--validation", type=int, default=Budget.validation,
                   help=f"images held out of the training set to score trials "
                        f"(default {Budget.validation:,})")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--seed", type=int, default=0,
                   help="draws the configurations, the split, the weights and the batch order")
    p.add_argument("--device", default="auto", choices=["auto", "gpu", "cpu"])
    p.add_argument("--address", help="ray: a running Ray cluster (HOST:PORT or auto); "
                                     "default: start a local Ray")
    p.add_argument("--num-cpus", type=int, help="ray: cores for the local Ray (default all)")
    p.add_argument("--json", metavar="PATH", help="also write the results to this JSON file")
    p.add_argument("--debug", action="store_true",
                   help="show the traceback of an error, not just its message")
    return p


def read_space(text, model):
    if text is None:
        return default_space(model)
    if not text.lstrip().startswith("{"):
        if not os.path.isfile(text):
            raise ValueError(f"--space {text!r}: neither JSON (it starts with '{{') nor a file")
        with open(text) as f:
            text = f.read()
    try:
        description = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"--space: not valid JSON: {err}") from None
    return parse_space(description)


def _print_trial(total):
    def show(number, r):
        settings = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                             for k, v in r["config"].items())
        score = f"val accuracy {r['val_accuracy'] * 100:.2f}%" if r["status"] == "ok" \
            else r["status"]
        print(f"trial {number}/{total}: {settings} -> {score} ({r['seconds']:.1f} s)",
              file=sys.stderr, flush=True)
    return show


def _main(argv):
    parser = _parser()
    args = parser.parse_args(argv)
    if args.strategy == "grid" and args.trials is not None:
        parser.error("--trials is for random, optuna and ray; grid search runs every "
                     "combination (narrow it with --space or --grid-points)")
    if args.strategy != "ray" and (args.address or args.num_cpus):
        parser.error("--address and --num-cpus are for --strategy ray")
    for name in ("trials", "grid_points", "examples", "validation", "epochs", "num_cpus"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {value}")

    space = read_space(args.space, args.model)
    if "width" in space and args.model != "mlp":  # before any trial, not in every one
        raise ValueError(f"width is the MLP's hidden-layer size; model {args.model!r} has none")
    budget = Budget(model=args.model, dataset=args.dataset, examples=args.examples,
                    validation=args.validation, epochs=args.epochs, seed=args.seed,
                    device=args.device).check()
    if args.strategy != "ray":  # say once which backend the trials run on
        print(f"device: {_backend.set_device(args.device)}", file=sys.stderr)
    trials = args.trials or 8
    total = len(grid_configs(space, args.grid_points)) if args.strategy == "grid" else trials
    print(f"{args.strategy} search, {total} trials of {args.model}: {budget.examples:,} "
          f"training and {budget.validation:,} validation images of {args.dataset}, "
          f"{budget.epochs} epoch(s)", file=sys.stderr, flush=True)

    start = time.perf_counter()
    if args.strategy == "grid":
        results = STRATEGIES["grid"](space, budget, points=args.grid_points,
                                     on_result=_print_trial(total))
    else:
        extra = dict(address=args.address, num_cpus=args.num_cpus) if args.strategy == "ray" \
            else {}
        results = STRATEGIES[args.strategy](space, trials, budget, seed=args.seed,
                                            on_result=_print_trial(total), **extra)
    seconds = time.perf_counter() - start

    print(results_table(results))
    print(describe_best(results))
    print(f"{len(results)} trial{'s' * (len(results) != 1)} in {seconds:.1f} s "
          f"({args.strategy} search)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return results


def main(argv=None):
    """Like python -m engine.train: a mistake prints its message and exits with status 1."""
    from ..train import run_command
    return run_command(PROG, _main, argv)


if __name__ == "__main__":
    main()
