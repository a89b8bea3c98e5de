"""The command line's flags for validation, early stopping, checkpoints and gradient
clipping (python -m engine.train; the loop itself is engine.train.fit):

    --val-split 5000 --patience 3          hold out 5,000 training images, stop when
                                           their loss has not improved for 3 epochs
    --checkpoint run.ckpt [--checkpoint-every 200]
    --resume run.ckpt                      continue a killed run, the same losses
    --clip-grad-norm 1.0
"""
import argparse
import os


def _split_size(text):
    """--val-split: a count of images (5000) or a fraction of the training set (0.1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a count or a fraction, got {text!r}") from None
    if value.is_integer() and value >= 1:
        return int(value)
    if 0 < value < 1:
        return value
    raise argparse.ArgumentTypeError(f"must be a count >= 1 or a fraction in (0, 1), got {text}")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def add_run_arguments(parser):
    parser.add_argument("--val-split", type=_split_size, metavar="N",
                        help="hold out N training images (or a fraction, 0.1) to measure a "
                             "validation loss and accuracy after every epoch")
    parser.add_argument("--patience", type=_positive_int, metavar="EPOCHS",
                        help="with --val-split: stop after this many epochs without a lower "
                             "validation loss, and keep the best epoch's weights")
    parser.add_argument("--checkpoint", metavar="PATH",
                        help="write the whole training state here after every epoch "
                             "(atomically: a kill never leaves a broken file)")
    parser.add_argument("--checkpoint-every", type=_positive_int, metavar="STEPS",
                        help="with --checkpoint: also write it every STEPS steps")
    parser.add_argument("--resume", metavar="PATH",
                        help="continue the run that wrote this checkpoint; pass the same "
                             "flags (model, optimizer, batch size, seed, --epochs)")
    parser.add_argument("--clip-grad-norm", type=_positive_float, metavar="MAX",
                        help="scale the gradients to a total norm of at most MAX each step")


def check_run_arguments(parser, args):
    """Before training: flags that need one another, files that must (not) exist."""
    from .serialize import check_writable
    if args.patience and not args.val_split:
        parser.error("--patience needs --val-split: early stopping watches the validation loss")
    if args.checkpoint_every and not args.checkpoint:
        parser.error("--checkpoint-every needs --checkpoint PATH")
    if args.resume and not os.path.isfile(args.resume):
        raise FileNotFoundError(f"--resume {args.resume}: no such checkpoint file")
    if args.checkpoint:
        same = args.resume and os.path.exists(args.checkpoint) and \
            os.path.samefile(args.resume, args.checkpoint)
        if os.path.exists(args.checkpoint) and not same and not args.force:
            raise FileExistsError(f"--checkpoint {args.checkpoint}: the file exists; pass "
                                  f"--force to overwrite it, or --resume from it")
        check_writable(args.checkpoint)


def hold_out(train_set, size, seed):
    """(training part, validation part) of the training set, split at random by `seed`."""
    from .data import random_split
    n = len(train_set)
    count = size if isinstance(size, int) else max(1, round(size * n))
    if count >= n:
        raise ValueError(f"--val-split {size}: the training set has only {n:,} images")
    return random_split(train_set, [n - count, count], seed=seed)


def print_validation(history):
    """The last validation, and what early stopping did."""
    if not history.validation:
        return
    last = history.validation[-1]
    accuracy = f", accuracy {last['accuracy'] * 100:.2f}%" if last["accuracy"] is not None else ""
    print(f"validation loss: {last['loss']:.4f}{accuracy} after epoch {last['epoch']}")
    if history.best_epoch is not None:
        best = next(v for v in history.validation if v["epoch"] == history.best_epoch)
        stopped = f"stopped early after epoch {history.stopped_epoch}; " \
            if history.stopped_epoch else ""
        print(f"early stopping: {stopped}kept the weights of epoch {history.best_epoch} "
              f"(validation loss {best['loss']:.4f})")
