"""Linear regression from scratch: the course's first example.

We have points (x, y) that lie roughly on a line, and we look for the line
y = w*x + b that fits them best: the one with the smallest mean squared error

    loss(w, b) = mean((w*x + b - y)^2).

Gradient descent finds it one small step at a time: compute the loss, ask
autograd for its gradient (d loss/dw, d loss/db), move w and b a little against
it, repeat. This problem also has an exact answer (least squares, solved by
numpy below), so we can check that gradient descent gets there.

The fit is done twice:
  1. from scratch: w and b are two tensors, the loss is written out, and the
     update is done by hand;
  2. with the library's pieces: nn.Linear(1, 1) holds w and b, F.mse_loss is the
     loss and optim.SGD does the update. Same numbers, less code.

    python examples/linear_regression.py --device cpu --plot linear_regression.svg

Things to try: --lr 0.7 (slower? faster?), --lr 0.8 (it diverges: the steps
overshoot the minimum by more each time), --noise 0 (the fit is the true line).
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))   # the checkout's engine/, without installing it
sys.path.insert(0, HERE)                    # svg_plot.py beside this file

import engine as eg  # noqa: E402
from engine import nn, optim  # noqa: E402
import engine.nn.functional as F  # noqa: E402

TRUE_W, TRUE_B = 2.0, -1.0   # the line the data comes from


def make_data(n, noise, seed):
    """n points near the line y = 2x - 1: x uniform in [-2, 2], Gaussian noise on y."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, n)
    y = TRUE_W * x + TRUE_B + rng.normal(0.0, noise, n)
    return x.astype(np.float32), y.astype(np.float32)


def closed_form(x, y):
    """The exact least-squares line: solve min |A @ [w, b] - y|^2 with A's rows [x_i, 1]."""
    A = np.stack([x, np.ones_like(x)], axis=1).astype(np.float64)
    (w, b), *_ = np.linalg.lstsq(A, y.astype(np.float64), rcond=None)
    loss = float(np.mean((w * x + b - y) ** 2))
    return float(w), float(b), loss


def fit_from_scratch(x, y, steps, lr):
    """Gradient descent with nothing but tensors. Returns the final w and b, and
    (w, b, loss) at every step."""
    x, y = eg.tensor(x), eg.tensor(y)
    w = eg.zeros(1, requires_grad=True)   # start from the flat line y = 0
    b = eg.zeros(1, requires_grad=True)
    history = []
    for _ in range(steps):
        prediction = w * x + b                  # one number per point: (n,)
        loss = ((prediction - y) ** 2).mean()   # mean squared error
        history.append((w.item(), b.item(), loss.item()))
        loss.backward()                         # autograd fills w.grad and b.grad
        with eg.no_grad():                      # the update itself is not to be differentiated
            w -= lr * w.grad                    # a small step downhill
            b -= lr * b.grad
        w.grad = None                           # backward *adds* to .grad: start afresh
        b.grad = None
    return w.item(), b.item(), history


def fit_with_the_library(x, y, steps, lr):
    """The same fit with nn.Linear, F.mse_loss and optim.SGD; returns what the first does."""
    x, y = eg.tensor(x).reshape(-1, 1), eg.tensor(y).reshape(-1, 1)   # (n, 1): one feature
    model = nn.Linear(1, 1)                 # weight (1, 1) is w, bias (1,) is b
    with eg.no_grad():                      # the same start as above, to compare step by step
        model.weight.zero_()
        model.bias.zero_()
    optimizer = optim.SGD(model.parameters(), lr=lr)
    history = []
    for _ in range(steps):
        loss = F.mse_loss(model(x), y)
        history.append((model.weight.item(), model.bias.item(), loss.item()))
        optimizer.zero_grad()               # what `w.grad = None` did
        loss.backward()
        optimizer.step()                    # what `w -= lr * w.grad` did
    return model.weight.item(), model.bias.item(), history


def plot(path, x, y, exact, runs):
    """w, b and the loss per step (dashed: the closed form), and the data with the fit."""
    from svg_plot import Panel, Series, write_svg
    w_star, b_star, loss_star = exact
    steps = list(range(len(runs[0][3])))

    def per_step(column):
        return [Series(name, steps, [h[column] for h in history])
                for name, _, _, history in runs]
    ends = [-2.0, 2.0]
    _, w_end, b_end, _ = runs[0]
    write_svg(path, [
        Panel("w per step", per_step(0), reference=(w_star, f"w* = {w_star:.4f}")),
        Panel("b per step", per_step(1), reference=(b_star, f"b* = {b_star:.4f}")),
        Panel("loss per step", per_step(2),
              reference=(loss_star, f"least squares: {loss_star:.4f}")),
        Panel("the data and the fitted line", [
            Series("data", x.tolist(), y.tolist(), dots=True),
            Series(f"y = {w_end:.3f} x {'-' if b_end < 0 else '+'} {abs(b_end):.3f}", ends,
                   [w_end * e + b_end for e in ends]),
        ], x_label="x"),
    ], title="Linear regression by gradient descent")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "gpu", "auto"), default="cpu",
                        help="cpu: the numpy backend; gpu: the WGSL kernels through wgpu")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.1, help="the learning rate (step size)")
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--noise", type=float, default=0.5, help="std of the noise on y")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log-every", type=int, default=10, help="print every N steps")
    parser.add_argument("--plot", metavar="FILE.svg", help="draw w, b and the loss per step")
    args = parser.parse_args(argv)

    print("device:", eg.set_device(args.device))
    x, y = make_data(args.points, args.noise, args.seed)
    w_star, b_star, loss_star = closed_form(x, y)

    runs = [("from scratch", *fit_from_scratch(x, y, args.steps, args.lr)),
            ("nn.Linear + SGD", *fit_with_the_library(x, y, args.steps, args.lr))]

    print(f"\n{'step':>5} {'w':>10} {'b':>10} {'loss':>10}   (from scratch; w, b before the step)")
    for step, (w, b, loss) in enumerate(runs[0][3]):
        if step % args.log_every == 0 or step == args.steps - 1:
            print(f"{step:>5} {w:>10.5f} {b:>10.5f} {loss:>10.5f}")

    print(f"\nclosed form (least squares): w* = {w_star:.5f}, b* = {b_star:.5f}, "
          f"loss = {loss_star:.5f}   (the data's line: w = {TRUE_W}, b = {TRUE_B})")
    results = {"closed_form": (w_star, b_star)}
    for name, w, b, _ in runs:
        print(f"{name:>16}: w  = {w:.5f}, b  = {b:.5f}   "
              f"|w - w*| = {abs(w - w_star):.1e}, |b - b*| = {abs(b - b_star):.1e}")
        results[name] = (w, b)
    if args.plot:
        plot(args.plot, x, y, (w_star, b_star, loss_star), runs)
        print(f"plot: {args.plot}")

    converged = all(abs(results[name][0] - w_star) < 1e-3 and abs(results[name][1] - b_star) < 1e-3
                    for name, *_ in runs)
    if not converged:
        print("not converged to within 1e-3 of the closed form: try more --steps or another --lr")
    return results, converged


if __name__ == "__main__":
    sys.exit(0 if main()[1] else 1)
