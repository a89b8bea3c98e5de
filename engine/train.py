"""Training loops and the command line:

    python -m engine.train --model mlp --dataset mnist --epochs 1 --device gpu --seed 0

`fit` is the PyTorch loop (zero_grad, backward, step) with a tqdm progress bar,
`evaluate` measures accuracy. Both only read numbers back from the GPU every
`log_every` steps, so the GPU is never kept waiting by the progress bar.
Validation, early stopping and checkpoints live in their own modules
(engine/validation.py, early_stopping.py, checkpoint.py; the flags in train_flags.py).
"""
import argparse
import array
import functools
import math
import os
import sys
import time

from . import backend as _backend
from . import replay
from .autograd import no_grad
from .checkpoint import load_checkpoint, save_checkpoint
from .creation import manual_seed
from .early_stopping import EarlyStopping
from .nn import functional as F
from .nn.utils import clip_grad_norm_
from .train_flags import add_run_arguments, check_run_arguments, hold_out, print_validation
from .validation import History, validate, validate_epoch  # noqa: F401 (validate: the API)


class DivergedError(FloatingPointError):
    """The loss became NaN or infinite."""


def check_finite(loss_value, step, epoch, lr=None, last_good=None):
    if math.isfinite(loss_value):
        return
    hint = f" (learning rate {lr:g}: try a smaller one)" if lr is not None else ""
    last = f"; the last finite loss was {last_good:.4f}" if last_good is not None else ""
    raise DivergedError(f"loss is {loss_value} at step {step} of epoch {epoch}{last}: training "
                        f"diverged{hint}, or the inputs contain NaN/inf")


def fit(model, loader, optimizer, epochs=1, loss_fn=F.cross_entropy, log_every=20,
        progress=True, on_log=None, scheduler=None, jit=True, augment=None, val_loader=None,
        patience=None, checkpoint=None, checkpoint_every=None, resume=None,
        clip_grad_norm=None):
    """Train; returns a History of (step, loss) read every `log_every` steps and at the
    last step, and `examples_trained`, the samples this call trained on.
    progress: True shows a tqdm bar per epoch (and the validation numbers) on stderr;
    "lines" prints one plain line per epoch on stdout instead, for a log file; False
    prints nothing. A `scheduler` (engine.optim.lr_scheduler) is stepped after every
    optimizer step. Every loss read is checked: a NaN or infinite one raises
    DivergedError, so a run shorter than `log_every` steps, or one that diverges in its
    last steps, fails too.
    jit: record the training step once and replay it (engine.jit; the same results,
    without running the Python graph every step).
    augment: an engine.data.Augment applied to each batch before the step (outside the
    recorded step: its output is the step's input, so a replay sees each new batch).
    val_loader: held-out samples (engine.data.random_split) measured after every epoch
    (`validate`), or a function model -> (loss, accuracy); see History.validation.
    patience: stop after this many epochs without a lower validation loss, and end with
    the best epoch's weights (engine/early_stopping.py).
    checkpoint: a path written after every epoch, and every `checkpoint_every` steps;
    resume: a checkpoint to continue from, with the same model, optimizer, scheduler
    and loader settings (engine/checkpoint.py: the same losses as an unbroken run).
    clip_grad_norm: scale the gradients to this total norm at most before each step."""
    if patience is not None and val_loader is None:
        raise ValueError("fit: patience (early stopping) needs a val_loader to watch")
    if checkpoint_every and not checkpoint:
        raise ValueError("fit: checkpoint_every needs a checkpoint path to write")
    if (checkpoint or resume) and not hasattr(loader, "state_dict"):
        raise ValueError("fit: checkpoint and resume need an engine.data.DataLoader, whose "
                         f"position they save; got a {type(loader).__name__}")
    history, step, epoch, loss = History(), 0, 1, None
    stopper = EarlyStopping(patience) if patience is not None else None
    if resume is not None:
        done = load_checkpoint(resume).restore(model, optimizer, scheduler, loader, augment,
                                               stopper)
        history = History(done["history"], done["validation"])
        step, epoch = done["step"], done["epoch"] + done["epoch_finished"]
        if progress:
            print(f"resuming from {resume}: {step} steps done, continuing in epoch {epoch}",
                  file=sys.stderr)
        if done["stopped"]:
            epoch = epochs + 1     # early stopping had ended that run: nothing left to train
    last_good = history[-1][1] if history else None
    if augment is not None:
        from .data.augment import pixel_range
        black_white = pixel_range(loader)
    model.train()

    def train_step(x, y):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        if clip_grad_norm is not None:
            clip_grad_norm_(model.parameters(), clip_grad_norm)
        optimizer.step()
        return loss
    if jit:
        train_step = replay.jit(train_step)

    def save(epoch_finished, stopped=False):
        save_checkpoint(checkpoint, model, optimizer, scheduler, loader, augment, stopper,
                        progress=dict(epoch=epoch, step=step, epoch_finished=epoch_finished,
                                      stopped=stopped, history=history,
                                      validation=history.validation))

    for epoch in range(epoch, epochs + 1):
        batches = loader
        if progress is True:
            from tqdm import tqdm
            batches = tqdm(loader, desc=f"epoch {epoch}/{epochs}", unit="batch",
                           dynamic_ncols=True, file=sys.stderr)
        for x, y in batches:
            if augment is not None:
                x = augment(x, pixel_range=black_white)
            loss = train_step(x, y)
            if scheduler is not None:
                scheduler.step()
            step += 1
            history.examples_trained += y.shape[0]
            if step % log_every == 0:
                value = loss.item()  # the only readback: once every log_every steps
                check_finite(value, step, epoch, optimizer.lr, last_good)
                last_good = value
                history.append((step, value))
                if progress is True:
                    batches.set_postfix(loss=f"{value:.4f}")
                if on_log:
                    on_log(step, value)
            if checkpoint and checkpoint_every and step % checkpoint_every == 0:
                save(epoch_finished=False)
        stop = val_loader is not None and validate_epoch(model, val_loader, loss_fn, epoch,
                                                          history, stopper, progress is True)
        if progress == "lines" and loss is not None:
            print(_epoch_line(epoch, epochs, loss.item(), history), flush=True)
        if checkpoint:
            save(epoch_finished=True, stopped=stop)
        if stop:
            break
    if loss is not None and step % log_every:   # the steps after the last logged one
        value = loss.item()
        check_finite(value, step, epoch, optimizer.lr, last_good)
        history.append((step, value))
        if on_log:
            on_log(step, value)
    if stopper is not None:
        history.best_epoch = stopper.restore_best(model)
        history.stopped_epoch = stopper.stopped_epoch
    return history


def _epoch_line(epoch, epochs, loss_value, history):
    """'epoch 2/5: training loss L[, validation loss V, accuracy A%]': the last step's loss
    (one read-back per epoch) and this epoch's validation, if it was measured."""
    line = f"epoch {epoch}/{epochs}: training loss {loss_value:.4f}"
    measured = history.validation[-1] if history.validation else None
    if measured and measured["epoch"] == epoch:
        line += f", validation loss {measured['loss']:.4f}"
        if measured["accuracy"] is not None:
            line += f", accuracy {measured['accuracy'] * 100:.2f}%"
    return line


def check_finite_weights(state):
    """Raise DivergedError naming every float tensor of `state` that holds a NaN or an
    infinity: the last optimizer step comes after the last loss, so a finite loss does
    not prove finite weights. Reads the weights back (the CLI does so to save them)."""
    bad = [name for name, t in state.items()
           if t.dtype == "float32" and not all(map(math.isfinite, _values(t)))]
    if bad:
        raise DivergedError(f"the trained weights are not finite (NaN or inf in "
                            f"{', '.join(bad)}): training diverged; nothing was saved")


def _values(t):
    return array.array("f", t.backend.download(t.data))


def evaluate(model, loader):
    """Fraction of samples whose arg-max prediction equals the label."""
    was_training = model.training
    model.eval()
    correct, total = None, 0
    with no_grad():
        for x, y in loader:
            hits = (model(x).argmax(1) == y).sum()
            correct = hits if correct is None else correct + hits
            total += y.shape[0]
    model.train(was_training)
    return (correct.item() / total) if total else float("nan")


OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam", "adamw")


def make_optimizer(params, optimizer="adam", lr=1e-3, momentum=None, nesterov=False,
                   weight_decay=0.0, **_):
    """The optimizer a recipe names: `optimizer` is one of OPTIMIZERS; `momentum` is SGD's
    (default 0.9) and RMSprop's (default 0); Adam's betas stay at PyTorch's defaults."""
    from . import optim
    if momentum is None:
        momentum = 0.9 if optimizer == "sgd" else 0.0
    if optimizer == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum, nesterov=nesterov and momentum > 0,
                         weight_decay=weight_decay)
    if optimizer == "adagrad":
        return optim.Adagrad(params, lr=lr, weight_decay=weight_decay)
    if optimizer == "rmsprop":
        return optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if optimizer == "adam":
        return optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if optimizer == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")


def make_scheduler(optimizer, schedule, total_steps):
    """'onecycle': 15% linear warm-up from lr/25, then linear decay to ~0;
    'cosine': cosine decay from lr to 0; 'none': constant."""
    from .optim import lr_scheduler
    if schedule == "onecycle":
        return lr_scheduler.OneCycleLR(optimizer, optimizer.lr, total_steps, pct_start=0.15,
                                       anneal_strategy="linear", cycle_momentum=False)
    if schedule == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, total_steps)
    if schedule == "none":
        return None
    raise ValueError(f"unknown schedule {schedule!r}; choose onecycle, cosine or none")


def _recipe_text(r):
    opt = f"{r['optimizer']} lr={r['lr']:g}"
    if r["optimizer"] == "sgd" and r["momentum"]:
        opt += f" momentum={r['momentum']:g}" + (" nesterov" if r["nesterov"] else "")
    if r["weight_decay"]:
        opt += f" weight_decay={r['weight_decay']:g}"
    smoothing = f", label smoothing {r['label_smoothing']:g}" if r["label_smoothing"] else ""
    return f"{opt}, schedule {r['schedule']}, batch {r['batch_size']}{smoothing}"


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake prints two lines, not the whole usage text above them."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n(see {self.prog} --help)\n")


def _number(minimum=None, maximum=None, positive=False):
    """An argparse type: a finite float within bounds (float() alone accepts nan and inf)."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or (positive and value <= 0) or \
                (minimum is not None and value < minimum) or \
                (maximum is not None and value > maximum):
            bounds = "> 0" if positive else f">= {minimum:g}" if maximum is None else \
                f"in [{minimum:g}, {maximum:g}]"
            raise argparse.ArgumentTypeError(f"must be a finite number {bounds}, got {text}")
        return value
    return parse


def _check_save_path(path, force):
    """Before training, not after it: --save must be writable, and an existing file is
    replaced only with --force (a run must neither end in an error nor silently
    overwrite an earlier run's weights)."""
    from .serialize import check_writable
    if os.path.exists(path) and not os.path.isdir(path) and not force:
        raise FileExistsError(f"--save {path}: the file exists; pass --force to overwrite it, "
                              f"or choose another path")
    check_writable(path)


def main(argv=None):
    """The command line. A mistake (missing data, a diverged run, a --save path that
    cannot be written) prints its message on stderr and exits with status 1; --debug
    shows the traceback instead."""
    return run_command("python -m engine.train", _main, argv)


def run_command(prog, body, argv=None):
    """body(argv) for a command line (this one, python -m engine.search): a mistake prints
    one line on stderr and exits with status 1 (130 when interrupted); with --debug in
    argv the traceback shows instead."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return body(argv)
    except KeyboardInterrupt:
        if "--debug" in argv:
            raise
        print(f"{prog}: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except Exception as err:
        if "--debug" in argv:
            raise
        print(f"{prog}: error: {err}", file=sys.stderr)
        print("(run with --debug to see the traceback)", file=sys.stderr)
        raise SystemExit(1) from None


def _main(argv):
    from .models import MODELS, build, recipe
    from .data.augment import POLICIES as AUGMENT_POLICIES
    parser = _Parser(
        prog="python -m engine.train", allow_abbrev=False, description="Train a model from the zoo on MNIST (or any IDX dataset) and report test accuracy.",
        epilog="Each model has a recipe (engine/models/NAME.py: RECIPE) that sets the optimizer, "
               "learning rate, schedule and batch size; the flags below override it.")
    parser.add_argument("--model", default="mlp", choices=sorted(MODELS))
    parser.add_argument("--dataset", default="mnist",
                        help="'mnist', 'fashion-mnist', a folder of the four IDX files, or a "
                             "zip of one folder of PNG images per class (engine/data/archive.py)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--optimizer", choices=OPTIMIZERS)
    parser.add_argument("--lr", type=_number(positive=True), help="the (peak) learning rate")
    parser.add_argument("--schedule", choices=["onecycle", "cosine", "none"],
                        help="learning-rate schedule over the whole run")
    parser.add_argument("--momentum", type=_number(minimum=0),
                        help="for --optimizer sgd and rmsprop")
    parser.add_argument("--nesterov", action=argparse.BooleanOptionalAction, default=None,
                        help="Nesterov momentum, for --optimizer sgd")
    parser.add_argument("--weight-decay", type=_number(minimum=0))
    parser.add_argument("--label-smoothing", type=_number(minimum=0, maximum=1),
                        help="mix this much of a uniform target into the one-hot labels")
    parser.add_argument("--device", default="auto", choices=["auto", "gpu", "cpu"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", metavar="PATH",
                        help="write the trained weights here (safetensors); an existing file "
                             "is replaced only with --force")
    parser.add_argument("--force", action="store_true", help="let --save overwrite a file")
    add_run_arguments(parser)
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar: one plain line per epoch (for a log file)")
    parser.add_argument("--no-jit", action="store_true",
                        help="run every training step eagerly instead of recording it once "
                             "and replaying it (engine.jit)")
    parser.add_argument("--augment", metavar="POLICY", choices=list(AUGMENT_POLICIES),
                        help="augment the training images on the device with a named policy: "
                             f"{', '.join(AUGMENT_POLICIES)} (engine/data/augment.py)")
    parser.add_argument("--summary", action="store_true",
                        help="print the model's layers, output shapes, parameters and FLOPs "
                             "(engine.summary, as the playground shows it) and exit")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an error, not just its message")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    if args.save:
        _check_save_path(args.save, args.force)
    check_run_arguments(parser, args)

    settings = recipe(args.model)
    for key in ("batch_size", "optimizer", "lr", "schedule", "momentum", "nesterov", "weight_decay",
                "label_smoothing"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    settings.setdefault("momentum", 0.9)
    settings.setdefault("nesterov", False)
    settings.setdefault("weight_decay", 0.0)
    settings.setdefault("label_smoothing", 0.0)
    if settings["batch_size"] < 1:
        parser.error(f"--batch-size must be at least 1, got {settings['batch_size']}")

    from .data import DATASETS, MNIST, Augment, DataLoader, load_archive
    device = _backend.set_device(args.device)
    manual_seed(args.seed)
    fetch = args.dataset in DATASETS  # a name is fetched and cached if need be; a folder is read as it is
    if args.dataset.lower().endswith(".zip"):   # your own images: the zip's folders are the classes
        train_set, test_set = load_archive(args.dataset)
    else:
        train_set = MNIST(args.dataset, train=True, download=fetch)
        test_set = MNIST(args.dataset, train=False)
    train_part, val_loader = train_set, None
    if args.val_split:
        train_part, val_part = hold_out(train_set, args.val_split, args.seed)
        val_loader = DataLoader(val_part, 1000)
    train_loader = DataLoader(train_part, settings["batch_size"], shuffle=True, seed=args.seed)
    test_loader = DataLoader(test_set, 1000)
    model = build(args.model, in_shape=train_set.image_shape, num_classes=train_set.num_classes)
    if args.summary:
        from .summary import summary
        print(summary(model, train_set.image_shape))
        return None
    optimizer = make_optimizer(model.parameters(), **settings)
    scheduler = make_scheduler(optimizer, settings["schedule"], args.epochs * len(train_loader))
    print(f"model {args.model}: {sum(p.numel() for p in model.parameters()):,} parameters; "
          f"{len(train_loader.indices):,} training images"
          f"{f' ({len(val_loader.indices):,} held out to validate)' if val_loader else ''}; "
          f"{_recipe_text(settings)}; device {device}",
          file=sys.stderr)

    start = time.perf_counter()
    loss_fn = functools.partial(F.cross_entropy, label_smoothing=settings["label_smoothing"])
    history = fit(model, train_loader, optimizer, args.epochs, loss_fn=loss_fn,
                  progress="lines" if args.no_progress else True, scheduler=scheduler,
                  jit=not args.no_jit,
                  augment=Augment(args.augment, seed=args.seed) if args.augment else None,
                  val_loader=val_loader, patience=args.patience, checkpoint=args.checkpoint,
                  checkpoint_every=args.checkpoint_every, resume=args.resume,
                  clip_grad_norm=args.clip_grad_norm)
    _backend.current_backend().synchronize()
    seconds = time.perf_counter() - start
    accuracy = evaluate(model, test_loader)
    examples = history.examples_trained    # after --resume, only those trained here
    if history:
        print(f"training loss: {history[0][1]:.4f} at step {history[0][0]} -> "
              f"{history[-1][1]:.4f} at step {history[-1][0]}")
    print_validation(history)
    print(f"test accuracy: {accuracy * 100:.2f}% on {len(test_set):,} test images")
    print(f"training: {examples / seconds:,.0f} examples/s "
          f"({examples:,} examples in {seconds:.1f} s)")
    print(f"device: {device}")
    if args.save:
        from .serialize import save
        state = model.state_dict()
        check_finite_weights(state)
        replacing = os.path.exists(args.save)
        save(state, args.save)
        print(f"weights saved to {args.save}" + (" (replacing the file that was there)"
                                                 if replacing else ""))
    return accuracy


if __name__ == "__main__":
    main()
