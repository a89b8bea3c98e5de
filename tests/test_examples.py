"""The worked examples in examples/ run and reach what they promise.

- linear_regression.py: gradient descent (from scratch, and with nn.Linear + SGD)
  ends within 1e-3 of the closed-form least-squares w and b, on both backends;
- transfer.py (slow): a new head on frozen MNIST features beats the same head on
  frozen random features on Fashion-MNIST.
"""
import importlib.util
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


def _example(name):
    """Import examples/NAME.py as a module (examples/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}",
                                                  os.path.join(EXAMPLES, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _svg_texts(path):
    root = ET.parse(path).getroot()     # well-formed XML, or this raises
    return [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_linear_regression_reaches_the_closed_form(device, tmp_path):
    example = _example("linear_regression")
    plot = tmp_path / "fit.svg"
    results, converged = example.main(["--device", device, "--plot", str(plot)])
    w_star, b_star = results["closed_form"]
    assert abs(w_star - example.TRUE_W) < 0.1 and abs(b_star - example.TRUE_B) < 0.1
    for name in ("from scratch", "nn.Linear + SGD"):
        w, b = results[name]
        assert abs(w - w_star) < 1e-3 and abs(b - b_star) < 1e-3, (name, w, b, w_star, b_star)
    assert converged
    texts = _svg_texts(plot)
    for title in ("w per step", "b per step", "loss per step", "the data and the fitted line"):
        assert title in texts
    assert f"w* = {w_star:.4f}" in texts


def test_linear_regression_from_scratch_matches_torch(device):
    """The hand-written loop computes what PyTorch's autograd does, step by step."""
    import numpy as np
    import torch
    example = _example("linear_regression")
    x, y = example.make_data(50, 0.5, seed=3)
    _, _, history = example.fit_from_scratch(x, y, steps=5, lr=0.1)
    w, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    tx, ty = torch.tensor(x), torch.tensor(y)
    for step in range(5):
        loss = ((w * tx + b - ty) ** 2).mean()
        np.testing.assert_allclose(history[step], (w.item(), b.item(), loss.item()), rtol=1e-5,
                                   atol=1e-6, err_msg=f"step {step}")
        loss.backward()
        with torch.no_grad():
            w -= 0.1 * w.grad
            b -= 0.1 * b.grad
        w.grad, b.grad = None, None


def test_linear_regression_command_line_says_when_it_did_not_converge():
    """The script's exit status is its check: 0 converged, 1 not (5 steps are too few)."""
    script = os.path.join(EXAMPLES, "linear_regression.py")
    good = subprocess.run([sys.executable, script, "--device", "cpu"], capture_output=True,
                          text=True, timeout=120)
    assert good.returncode == 0, good.stderr
    assert "closed form (least squares): w* =" in good.stdout
    short = subprocess.run([sys.executable, script, "--device", "cpu", "--steps", "5"],
                           capture_output=True, text=True, timeout=120)
    assert short.returncode == 1 and "not converged" in short.stdout


@pytest.mark.slow
def test_transfer_mnist_features_beat_random_features(tmp_path):
    """A reduced run (4,000 training images per step, 2,000 test images; about 20 s on
    the numpy backend): the head on frozen MNIST features wins. Then the saved weights
    load back (--load): the same MNIST accuracy, and the same heads after fine-tuning."""
    example = _example("transfer")
    weights, plot = tmp_path / "mnist.safetensors", tmp_path / "transfer.svg"
    small = ["--device", "cpu", "--train-images", "4000", "--test-images", "2000", "--seed", "0"]
    mnist, fashion = example.main(small + ["--save", str(weights), "--plot", str(plot)])
    assert mnist > 0.9
    assert fashion["MNIST features"] > fashion["random features"] + 0.02, fashion
    assert fashion["random features"] > 0.3          # the control learns something too
    texts = _svg_texts(plot)
    assert "1. MNIST, all layers: loss" in texts
    assert any(t.startswith("MNIST features: test accuracy") for t in texts)
    assert example.main(small + ["--load", str(weights)]) == (mnist, fashion)
