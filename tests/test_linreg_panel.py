"""web/playground/linreg.py, the page's linear-regression panel, run natively: the points and
the closed form without numpy, the gradient descent step for step as PyTorch's.
The page itself is driven in tests/test_page.py."""
import os
import sys

import numpy as np
import pytest
import torch

import engine as eg

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "web"))
from playground.linreg import LinRegError, closed_form, fit, make_data  # noqa: E402


@pytest.fixture(autouse=True)
def numpy_backend():
    eg.set_device("cpu")
    yield
    eg.set_device("auto", quiet=True)


def test_the_closed_form_is_least_squares():
    x, y = make_data(200, 0.3, seed=4)
    (w, b), *_ = np.linalg.lstsq(np.stack([x, np.ones(len(x))], 1), np.array(y), rcond=None)
    w_star, b_star, loss = closed_form(x, y)
    assert (w_star, b_star) == pytest.approx((w, b), abs=1e-12)
    assert loss == pytest.approx(np.mean((w * np.array(x) + b - np.array(y)) ** 2))


def test_gradient_descent_matches_torch_step_for_step_and_reaches_the_closed_form():
    result = fit(points=100, noise=0.5, lr=0.1, steps=100, seed=0)
    x, y = (torch.tensor(v, dtype=torch.float32) for v in make_data(100, 0.5, 0))
    w = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    expected = []
    for _ in range(100):
        loss = ((w * x + b - y) ** 2).mean()
        expected.append([w.item(), b.item(), loss.item()])
        loss.backward()
        with torch.no_grad():
            w -= 0.1 * w.grad
            b -= 0.1 * b.grad
        w.grad = b.grad = None
    np.testing.assert_allclose(result["history"], expected, rtol=1e-4, atol=1e-6)
    exact = result["closed_form"]
    assert abs(result["w"] - exact["w"]) < 1e-3 and abs(result["b"] - exact["b"]) < 1e-3
    assert abs(exact["w"] - 2) < 0.2 and abs(exact["b"] + 1) < 0.2     # the line the points come from


@pytest.mark.parametrize("settings, message", [
    (dict(lr=0), "learning rate"), (dict(steps=0), "steps"), (dict(points=1), "points"),
    (dict(noise=-1), "noise"), (dict(steps=2.5), "steps"),
])
def test_a_setting_that_cannot_work_names_itself(settings, message):
    with pytest.raises(LinRegError, match=message):
        fit(**settings)
