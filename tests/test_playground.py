"""web/static/playground.py, the Python the page runs in Pyodide, run natively here.

The browser test (test_browser.py) runs it for real on WebGPU; this one checks the
same functions and the dicts the worker relies on in seconds, on the numpy backend.
"""
import importlib.util
import math
import os

import pytest

import engine as eg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def playground():
    if not os.path.isfile(os.path.join(ROOT, "data", "mnist", "t10k-labels-idx1-ubyte.gz")):
        pytest.fail("data/mnist is missing: run `bash scripts/setup.sh` (it fetches MNIST)")
    spec = importlib.util.spec_from_file_location(
        "playground", os.path.join(ROOT, "web", "static", "playground.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.DATA = os.path.join(ROOT, "data", "mnist")
    yield module
    eg.set_device("auto", quiet=True)


def test_playground_api(playground):
    info = playground.init("mlp", 1e-3, 32, device="cpu")
    assert info["parameters"] == 269_322
    assert info["models"][0][0] == "mlp"
    assert info["train_size"] == 60_000 and info["test_size"] == 10_000
    assert info["device"].startswith("cpu")

    stats = playground.train_steps(10)
    assert stats["steps"] == 10 and stats["examples_seen"] == 320 and stats["batch_size"] == 32
    assert math.isfinite(stats["loss"]) and 0 <= stats["train_acc"] <= 1
    for key in ("examples_per_s", "python_ms_per_step", "gpu_wait_ms_per_step"):
        assert stats[key] >= 0, key

    playground.set_lr(3e-3)
    playground.set_batch_size(16)
    stats = playground.train_steps(10)
    assert stats["examples_seen"] == 320 + 160 and stats["batch_size"] == 16

    result = playground.evaluate(1000)
    assert result["test_count"] == 1000 and 0 <= result["test_acc"] <= 1
    n = len(playground.SHOWN_DIGITS)
    assert len(result["predictions"]) == len(result["labels"]) == len(result["confidence"]) == n
    assert result["labels"][:4] == [7, 2, 1, 0]  # the first MNIST test digits
    assert isinstance(result["pixels"], bytes) and len(result["pixels"]) == n * 28 * 28
    assert result["test_acc"] > 0.5  # 20 steps of Adam already do much better than chance

    info = playground.reset()
    assert playground.train_steps(10)["examples_seen"] == 160  # counters restart, settings kept
