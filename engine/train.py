"""Training loops and the command line:

    python -m engine.train --model mlp --dataset mnist --epochs 1 --device gpu --seed 0

`fit` is the PyTorch loop (zero_grad, backward, step) with a tqdm progress bar,
`evaluate` measures accuracy. Both only read numbers back from the GPU every
`log_every` steps, so the GPU is never kept waiting by the progress bar.
"""
import argparse
import functools
import math
import sys
import time

from . import backend as _backend
from .autograd import no_grad
from .creation import manual_seed
from .nn import functional as F


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
        progress=True, on_log=None, scheduler=None):
    """Train; returns a history of (step, loss) read every `log_every` steps.
    A `scheduler` (engine.optim.lr_scheduler) is stepped after every optimizer step."""
    history, step, last_good = [], 0, None
    model.train()
    for epoch in range(1, epochs + 1):
        batches = loader
        if progress:
            from tqdm import tqdm
            batches = tqdm(loader, desc=f"epoch {epoch}/{epochs}", unit="batch",
                           dynamic_ncols=True, file=sys.stderr)
        for x, y in batches:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            step += 1
            if step % log_every == 0:
                value = loss.item()  # the only readback: once every log_every steps
                check_finite(value, step, epoch, optimizer.lr, last_good)
                last_good = value
                history.append((step, value))
                if progress:
                    batches.set_postfix(loss=f"{value:.4f}")
                if on_log:
                    on_log(step, value)
    return history


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


def make_optimizer(params, optimizer="adam", lr=1e-3, momentum=0.9, nesterov=False,
                   weight_decay=0.0, **_):
    from . import optim
    if optimizer == "adam":
        return optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if optimizer == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if optimizer == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum, nesterov=nesterov and momentum > 0,
                         weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {optimizer!r}; choose adam, adamw or sgd")


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


def main(argv=None):
    from .models import MODELS, build, recipe
    parser = argparse.ArgumentParser(
        prog="python -m engine.train", description="Train a model from the zoo on MNIST (or any IDX dataset) and report test accuracy.",
        epilog="Each model has a recipe (engine/models/NAME.py: RECIPE) that sets the optimizer, "
               "learning rate, schedule and batch size; the flags below override it.")
    parser.add_argument("--model", default="mlp", choices=sorted(MODELS))
    parser.add_argument("--dataset", default="mnist",
                        help="'mnist', 'fashion-mnist', or a folder of the four IDX files")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--optimizer", choices=["adam", "adamw", "sgd"])
    parser.add_argument("--lr", type=float, help="the (peak) learning rate")
    parser.add_argument("--schedule", choices=["onecycle", "cosine", "none"],
                        help="learning-rate schedule over the whole run")
    parser.add_argument("--momentum", type=float, help="for --optimizer sgd")
    parser.add_argument("--nesterov", action=argparse.BooleanOptionalAction, default=None,
                        help="Nesterov momentum, for --optimizer sgd")
    parser.add_argument("--weight-decay", type=float)
    parser.add_argument("--label-smoothing", type=float,
                        help="mix this much of a uniform target into the one-hot labels")
    parser.add_argument("--device", default="auto", choices=["auto", "gpu", "cpu"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", metavar="PATH", help="write the trained weights here (safetensors)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")

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

    from .data import MNIST, DataLoader
    device = _backend.set_device(args.device)
    manual_seed(args.seed)
    train_set, test_set = MNIST(args.dataset, train=True), MNIST(args.dataset, train=False)
    train_loader = DataLoader(train_set, settings["batch_size"], shuffle=True, seed=args.seed)
    test_loader = DataLoader(test_set, 1000)
    model = build(args.model, in_shape=train_set.image_shape)
    optimizer = make_optimizer(model.parameters(), **settings)
    scheduler = make_scheduler(optimizer, settings["schedule"], args.epochs * len(train_loader))
    print(f"model {args.model}: {sum(p.numel() for p in model.parameters()):,} parameters; "
          f"{len(train_set):,} training images; {_recipe_text(settings)}; device {device}",
          file=sys.stderr)

    start = time.perf_counter()
    loss_fn = functools.partial(F.cross_entropy, label_smoothing=settings["label_smoothing"])
    history = fit(model, train_loader, optimizer, args.epochs, loss_fn=loss_fn,
                  progress=not args.no_progress, scheduler=scheduler)
    _backend.current_backend().synchronize()
    seconds = time.perf_counter() - start
    accuracy = evaluate(model, test_loader)
    examples = args.epochs * len(train_loader.indices)
    if history:
        print(f"training loss: {history[0][1]:.4f} at step {history[0][0]} -> "
              f"{history[-1][1]:.4f} at step {history[-1][0]}")
    print(f"test accuracy: {accuracy * 100:.2f}% on {len(test_set):,} test images")
    print(f"training: {examples / seconds:,.0f} examples/s ({seconds:.1f} s for {args.epochs} epoch(s))")
    print(f"device: {device}")
    if args.save:
        from .serialize import save
        save(model.state_dict(), args.save)
        print(f"weights saved to {args.save}")
    return accuracy


if __name__ == "__main__":
    main()
