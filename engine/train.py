"""Training loops and the command line:

    python -m engine.train --model mlp --dataset mnist --epochs 1 --device gpu --seed 0

`fit` is the PyTorch loop (zero_grad, backward, step) with a tqdm progress bar,
`evaluate` measures accuracy. Both only read numbers back from the GPU every
`log_every` steps, so the GPU is never kept waiting by the progress bar.
"""
import argparse
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


def _optimizer(name, params, lr, momentum, weight_decay):
    from . import optim
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}")


def main(argv=None):
    from .models import MODELS, build
    parser = argparse.ArgumentParser(prog="python -m engine.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="mlp", choices=sorted(MODELS))
    parser.add_argument("--dataset", default="mnist",
                        help="'mnist', 'fashion-mnist', or a folder of the four IDX files")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--optimizer", default="adam", choices=["adam", "adamw", "sgd"])
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--momentum", type=float, default=0.9, help="for --optimizer sgd")
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--device", default="auto", choices=["auto", "gpu", "cpu"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", metavar="PATH", help="write the trained weights here")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    from .data import MNIST, DataLoader
    device = _backend.set_device(args.device)
    manual_seed(args.seed)
    train_set, test_set = MNIST(args.dataset, train=True), MNIST(args.dataset, train=False)
    train_loader = DataLoader(train_set, args.batch_size, shuffle=True, seed=args.seed)
    test_loader = DataLoader(test_set, 1000)
    model = build(args.model)
    optimizer = _optimizer(args.optimizer, model.parameters(), args.lr, args.momentum,
                           args.weight_decay)
    print(f"model {args.model}: {sum(p.numel() for p in model.parameters()):,} parameters; "
          f"{len(train_set):,} training images; device {device}", file=sys.stderr)

    start = time.perf_counter()
    fit(model, train_loader, optimizer, args.epochs, progress=not args.no_progress)
    _backend.current_backend().synchronize()
    seconds = time.perf_counter() - start
    accuracy = evaluate(model, test_loader)
    examples = args.epochs * len(train_loader.indices)
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
