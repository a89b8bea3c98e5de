"""CNN training throughput: examples/s of the zoo's CNNs, engine against PyTorch.

    PYTHONPATH=. .venv/bin/python bench/bench_cnn.py [--models lenet5 convnetjs resnet_mini] [--batch 64] [--steps 5]
        [--backends gpu cpu] [--profile-numpy]

Each model from engine/models/ and the same layers in PyTorch (CUDA when
available, else CPU) train with SGD + momentum on a few synthetic 28x28
batches generated up front; a timed repeat is `--steps` steps and one wait for
the device. Ratios are against PyTorch in this run. `--backends cpu` times the
engine on numpy only (lavapipe's steps take most of a full run);
`--profile-numpy` adds where a numpy step's time goes: each backend primitive,
and the engine's Python above the backend.
"""
import argparse
import time

import numpy as np
import torch

from common import (TORCH_DEVICE, LoadMonitor, describe_machine, eg, engine_run, print_table,
                    timeit, torch_sync)
from engine import optim
from engine.models import build

N_BATCHES = 4
# Seconds of untimed steps before each measurement. With 0.3 s, the first model
# measured in a run came out slower than the same model measured second (numpy,
# LeNet-5: 12-13.6 against 8.8 ms a step, measured; a fresh process's first second
# runs slow, why is not pinned down); 1.5 s takes that out, for every library alike.
WARMUP = 1.5


def torch_model(name):
    """The same architectures written in PyTorch."""
    T = torch.nn
    if name == "lenet5":
        return T.Sequential(T.Conv2d(1, 6, 5, padding=2), T.ReLU(), T.MaxPool2d(2),
                            T.Conv2d(6, 16, 5), T.ReLU(), T.MaxPool2d(2), T.Flatten(),
                            T.Linear(400, 120), T.ReLU(), T.Linear(120, 84), T.ReLU(),
                            T.Linear(84, 10))
    if name == "convnetjs":
        return T.Sequential(T.Conv2d(1, 8, 5, padding=2), T.ReLU(), T.MaxPool2d(2),
                            T.Conv2d(8, 16, 5, padding=2), T.ReLU(), T.MaxPool2d(3), T.Flatten(),
                            T.Linear(256, 10))

    class Block(T.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.body = T.Sequential(T.Conv2d(cin, cout, 3, stride, 1, bias=False),
                                     T.BatchNorm2d(cout), T.ReLU(),
                                     T.Conv2d(cout, cout, 3, 1, 1, bias=False), T.BatchNorm2d(cout))
            self.skip = T.Identity() if stride == 1 and cin == cout else T.Sequential(
                T.Conv2d(cin, cout, 1, stride, bias=False), T.BatchNorm2d(cout))

        def forward(self, x):
            return torch.relu(self.body(x) + self.skip(x))
    return T.Sequential(T.Conv2d(1, 16, 3, padding=1, bias=False), T.BatchNorm2d(16), T.ReLU(),
                        T.MaxPool2d(2), Block(16, 16, 1), Block(16, 32, 2), T.AvgPool2d(7),
                        T.Flatten(), T.Linear(32, 10))


def engine_trainer(name, device, X, Y, jit=False):
    """With `jit`, the step recorded once and replayed (eg.jit, as engine.train.fit does)."""
    eg.set_device(device)
    eg.manual_seed(0)
    model = build(name)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return engine_run(model, opt, X, Y, jit)


def torch_trainer(name, X, Y):
    torch.manual_seed(0)
    model = torch_model(name).to(TORCH_DEVICE)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xs = [torch.from_numpy(x).to(TORCH_DEVICE) for x in X]
    ys = [torch.from_numpy(y).long().to(TORCH_DEVICE) for y in Y]

    def run(steps):
        for i in range(steps):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xs[i % N_BATCHES]), ys[i % N_BATCHES]).backward()
            opt.step()
    return run, torch_sync


def numpy_profile(run, sync, steps):
    """Where a training step's time goes on the numpy backend, per step: each backend
    primitive (numpy's work) and the rest, the engine's Python above the backend
    (modules, autograd, ops' argument checks). Each primitive is wrapped in a timer by
    an instance attribute that shadows the class's method, removed afterwards.
    -> (rows [primitive, calls/step, ms/step], step ms, ms outside the backend)."""
    backend = eg.backend.current_backend()
    names = [n for n in dir(type(backend)) if not n.startswith("_") and n != "describe"
             and callable(getattr(backend, n))]
    totals = {}

    def timed(name, method):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                calls, seconds = totals.get(name, (0, 0.0))
                totals[name] = (calls + 1, seconds + time.perf_counter() - start)
        return wrapper

    for name in names:
        setattr(backend, name, timed(name, getattr(backend, name)))
    try:
        run(1)
        sync()
        totals.clear()
        start = time.perf_counter()
        run(steps)
        sync()
        step = (time.perf_counter() - start) / steps
    finally:
        for name in names:
            delattr(backend, name)
    rows = [[name, calls / steps, 1e3 * seconds / steps]
            for name, (calls, seconds) in sorted(totals.items(), key=lambda kv: -kv[1][1])]
    inside = sum(seconds for _, seconds in totals.values()) / steps
    return rows, 1e3 * step, 1e3 * (step - inside)


def print_numpy_profile(title, run, sync, steps=20):
    rows, step_ms, outside_ms = numpy_profile(run, sync, steps)
    calls = sum(row[1] for row in rows)
    print(f"\n{title}: {step_ms:.2f} ms/step (timers included), of which the engine's Python "
          f"above the backend {outside_ms:.2f} ms ({1e3 * outside_ms / calls:.0f} us per "
          f"backend call, {calls:.0f} calls)")
    print_table(["numpy backend primitive", "calls/step", "ms/step"], rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["lenet5", "convnetjs", "resnet_mini"])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5, help="training steps per timed repeat")
    parser.add_argument("--backends", nargs="+", choices=["gpu", "cpu"], default=["gpu", "cpu"],
                        help="the engine's backends to time (cpu: numpy)")
    parser.add_argument("--profile-numpy", action="store_true",
                        help="where a numpy step's time goes, per backend primitive")
    args = parser.parse_args()
    load = LoadMonitor()
    print("\n".join(describe_machine()))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_BATCHES, args.batch, 1, 28, 28), dtype=np.float32)
    Y = rng.integers(0, 10, (N_BATCHES, args.batch), dtype=np.int32)
    ref_name = f"torch {TORCH_DEVICE}"
    rows, profiles = [], []
    for name in args.models:
        times = {}
        for label, device, jit in (("engine wgpu replayed", "gpu", True),
                                   ("engine numpy", "cpu", False)):
            if device not in args.backends:
                continue
            run, sync = engine_trainer(name, device, X, Y, jit)
            times[label] = timeit(lambda: run(args.steps), sync, repeats=3, min_time=0,
                                  warmup=WARMUP) / args.steps
            if device == "cpu" and args.profile_numpy:
                profiles.append((name, run, sync))
        run, sync = torch_trainer(name, X, Y)
        times[ref_name] = timeit(lambda: run(args.steps), sync, repeats=3, min_time=0,
                                 warmup=WARMUP) / args.steps
        for label, t in times.items():
            rows.append([name, label, args.batch / t, 1e3 * t, times[ref_name] / t])
    print(f"\nCNN training, SGD momentum, batch {args.batch} (median of 3 repeats)")
    print_table(["model", "", "examples/s", "ms/step", f"x {ref_name}"], rows)
    for name, run, sync in profiles:
        eg.set_device("cpu")
        print_numpy_profile(f"{name} on numpy, batch {args.batch}", run, sync)
    print(load.report())


if __name__ == "__main__":
    main()
