"""The linear-regression panel: y = w*x + b fitted by gradient descent, in the page's worker.

The page's twin of examples/linear_regression.py (the course's first example), without
numpy, which Pyodide does not load for the page: the points and the exact least-squares
line come from plain Python, the fit from the engine's tensors and autograd on the GPU.

    fit(points, noise, lr, steps, seed) -> {"x", "y", "history": [[w, b, loss], ...],
                                            "w", "b", "closed_form": {"w", "b", "loss"}}
"""
import math
import random

import engine as eg

TRUE_W, TRUE_B = 2.0, -1.0   # the line the data comes from, as in the example
LIMITS = {"points": (2, 10_000), "steps": (1, 5_000)}


class LinRegError(ValueError):
    """A setting of the panel that cannot work; the message names it."""


def make_data(n, noise, seed):
    """n points near y = 2x - 1: x uniform in [-2, 2], Gaussian noise of std `noise` on y."""
    rng = random.Random(seed)
    x = [rng.uniform(-2.0, 2.0) for _ in range(n)]
    y = [TRUE_W * xi + TRUE_B + rng.gauss(0.0, noise) for xi in x]
    return x, y


def closed_form(x, y):
    """The exact least-squares line: w = cov(x, y) / var(x), b = mean(y) - w mean(x)."""
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    w = sum((a - mx) * (c - my) for a, c in zip(x, y)) / sum((a - mx) ** 2 for a in x)
    b = my - w * mx
    return w, b, sum((w * a + b - c) ** 2 for a, c in zip(x, y)) / n


def fit(points=100, noise=0.5, lr=0.1, steps=100, seed=0):
    points, steps = _whole("points", points), _whole("steps", steps)
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise LinRegError(f"the learning rate must be a positive number, got {lr!r}")
    if not (isinstance(noise, (int, float)) and math.isfinite(noise) and noise >= 0):
        raise LinRegError(f"the noise must be a number >= 0, got {noise!r}")
    x_list, y_list = make_data(points, float(noise), int(seed))
    x, y = eg.tensor(x_list), eg.tensor(y_list)
    w = eg.zeros(1, requires_grad=True)        # start from the flat line y = 0
    b = eg.zeros(1, requires_grad=True)
    history = []                               # [w, b, loss] per step, kept on the device
    for _ in range(steps):
        loss = ((w * x + b - y) ** 2).mean()   # mean squared error
        history.append(eg.cat([w.detach(), b.detach(), loss.detach().reshape(1)]))
        loss.backward()
        with eg.no_grad():
            w -= lr * w.grad                   # a small step downhill
            b -= lr * b.grad
        w.grad = b.grad = None                 # backward adds to .grad: start afresh
    rows = eg.stack(history).tolist()          # one read-back for the whole run
    w_star, b_star, loss_star = closed_form(x_list, y_list)
    return {"x": x_list, "y": y_list, "history": rows, "w": w.item(), "b": b.item(),
            "closed_form": {"w": w_star, "b": b_star, "loss": loss_star},
            "true_line": {"w": TRUE_W, "b": TRUE_B}}


def _whole(key, value):
    low, high = LIMITS[key]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise LinRegError(f"{key} must be a whole number from {low} to {high}, got {value!r}")
    return value
