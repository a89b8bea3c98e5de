"""engine.jit in the browser: Pyodide in Debian's Chromium, WebGPU on SwiftShader.

The page's engine (/engine.zip) trains every zoo model for a few steps eagerly and
recorded-and-replayed (where a replay is one call into JavaScript); the losses and
the weights must be equal bit for bit. The host time per step is printed, eager
and replayed (bench/bench_replay.py measures it properly).
"""
import json

import pytest

from browser_harness import chromium, run_in_pyodide, running_server

pytestmark = pytest.mark.browser

CHECK = r'''
import json, random, time
import engine as eg
import engine.nn.functional as F
from engine import models as zoo, nn, optim
from engine.data import DataLoader


class Digits:
    image_shape, classes = (1, 28, 28), [str(k) for k in range(10)]

    def __init__(self, n=64):
        rng = random.Random(0)
        self.images = bytes(rng.randrange(256) for _ in range(n * 784))
        self.labels = bytes(rng.randrange(10) for _ in range(n))

    def __len__(self):
        return len(self.labels)


def run(name, use_jit, steps):
    eg.manual_seed(0)
    if name == "dropout_mlp":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Dropout(0.25),
                              nn.Linear(32, 10))
    else:
        model = zoo.build(name)
    opt = optim.Adam(model.parameters(), lr=1e-3)

    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    jitted = eg.jit(step) if use_jit else step
    batches = iter(DataLoader(Digits(), 8, shuffle=True))
    losses, host = [], []
    for _ in range(steps):
        x, y = next(batches)
        t = time.perf_counter()
        loss = jitted(x, y)
        host.append(1000 * (time.perf_counter() - t))
        losses.append(loss.item())
    weights = [p.tolist() for p in model.parameters()]
    return {"losses": losses, "weights": weights, "host_ms": min(host[2:]),
            "replays": getattr(jitted, "replays", 0), "reason": getattr(jitted, "reason", None)}


def check(names):
    eg.set_device("gpu")
    return json.dumps({name: {"eager": run(name, False, 5), "replayed": run(name, True, 5)}
                       for name in names})
'''

NAMES = ["mlp", "lenet5", "convnetjs", "resnet_mini", "dropout_mlp"]


@pytest.mark.slow
def test_replayed_steps_equal_eager_steps_in_the_browser():
    with running_server() as url, chromium(webgpu=True) as browser:
        page = browser.new_page()
        page.goto(url + "/datasets.json")
        results = json.loads(run_in_pyodide(page, CHECK, "check", NAMES))
    for name in NAMES:
        eager, replayed = results[name]["eager"], results[name]["replayed"]
        print(f"  {name:12} host ms per step: eager {eager['host_ms']:.2f}, "
              f"replayed {replayed['host_ms']:.2f}")
        assert replayed["reason"] is None and replayed["replays"] == 3, (name, replayed)
        assert replayed["losses"] == eager["losses"], name
        assert replayed["weights"] == eager["weights"], name
