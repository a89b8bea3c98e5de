"""MLP training throughput: examples/s of the course MLP, engine against PyTorch.

    PYTHONPATH=. .venv/bin/python bench/bench_mlp.py [--batch 64] [--steps 50] [--profile]
        [--backends gpu cpu] [--profile-numpy]

The course MLP 784-256-256-10 (ReLU), cross-entropy, Adam(lr=1e-3), trained on
a few synthetic random batches generated up front (data loading is not timed)
by: the engine on wgpu, the engine on numpy, and PyTorch (CUDA when available,
else CPU with its default threads). A timed repeat is `--steps` training steps
followed by one wait for the device (the engine reads the loss back).
`--profile` adds a cProfile of recording the wgpu steps: where the host's time
goes, per step. `--backends cpu` times the engine on numpy only;
`--profile-numpy` adds where a numpy step's time goes (bench_cnn.py's profile).
"""
import argparse
import cProfile
import pstats
import statistics
import time

import numpy as np
import torch

from bench_cnn import print_numpy_profile
from common import (TORCH_DEVICE, LoadMonitor, describe_machine, eg, engine_run, print_table,
                    timeit, torch_sync)
from engine import nn, optim

N_BATCHES = 8  # distinct pre-generated batches, used in turn


def make_batches(batch):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_BATCHES, batch, 784), dtype=np.float32)
    Y = rng.integers(0, 10, (N_BATCHES, batch), dtype=np.int32)
    return X, Y


def engine_trainer(device, X, Y, jit=False):
    """-> (run(steps), sync(), backend) for the engine on "gpu" or "cpu"; with `jit`, the
    step recorded once and replayed (eg.jit, what engine.train.fit does)."""
    eg.set_device(device)
    eg.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                          nn.Linear(256, 10))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    run, sync = engine_run(model, opt, X, Y, jit)
    return run, sync, model[0].weight.backend


def torch_trainer(X, Y):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 10)).to(TORCH_DEVICE)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xs = [torch.from_numpy(x).to(TORCH_DEVICE) for x in X]
    ys = [torch.from_numpy(y).long().to(TORCH_DEVICE) for y in Y]

    def run(steps):
        for i in range(steps):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xs[i % N_BATCHES]),
                                                     ys[i % N_BATCHES])
            loss.backward()
            opt.step()
    return run, torch_sync


def gpu_counts(run, sync, backend, steps, samples=20):
    """Dispatches, submits and new buffers per step; and the host (Python) time per
    step: the time to record one step right after a sync, so that no GPU work runs
    meanwhile (with lavapipe it would share the CPU cores). One step at a time:
    Adam rewrites each parameter's uniform slot every step, and a rewrite submits
    first when the previous step's work is still unsubmitted."""
    before = dict(backend.stats)
    run(steps)
    sync()
    counts = {k: (backend.stats[k] - before[k]) / steps for k in before}
    times = []
    for _ in range(samples):
        submits = backend.stats["submits"]
        start = time.perf_counter()
        run(1)
        times.append(time.perf_counter() - start)
        assert backend.stats["submits"] == submits, "a submit happened while recording"
        sync()
    counts["host_ms"] = 1e3 * statistics.median(times)
    return counts


def profile(run, sync, steps, top=15):
    """cProfile of recording `steps` training steps, one at a time after a sync (no
    submit, no wait: the host's share of a step): the top functions by own time, per
    step. wgpu-py calls into wgpu-native through one wrapper (`proxy_func`); its time
    is listed per calling API."""
    sync()
    prof = cProfile.Profile()
    for _ in range(steps):
        prof.enable()
        run(1)
        prof.disable()
        sync()
    entries, by_package = [], {}
    for (file, line, name), (_, calls, own, cum, callers) in pstats.Stats(prof).stats.items():
        package = ("engine" if "/engine/" in file else "wgpu-py" if "/wgpu/" in file
                   else "other (builtins, stdlib, this script)")
        if name == "proxy_func":  # split by caller: the wgpu API that made the native call
            for (_, _, api), (_, c, o, cu) in callers.items():
                entries.append((f"native call from wgpu {api}()", c, o, cu))
                by_package["native (wgpu-native + driver)"] = (
                    by_package.get("native (wgpu-native + driver)", 0) + o)
            continue
        where = f"{file.split('/')[-1]}:{line}" if line else "builtin"
        entries.append((f"{where} {name}", calls, own, cum))
        by_package[package] = by_package.get(package, 0) + own
    rows = [[label[-55:], calls / steps, 1e3 * own / steps, 1e3 * cum / steps]
            for label, calls, own, cum in sorted(entries, key=lambda e: -e[2])[:top]]
    packages = sorted(by_package.items(), key=lambda kv: -kv[1])
    print(f"\ncProfile of recording {steps} wgpu steps (profiling slows Python 2-4x). Own time "
          "per step: " + ", ".join(f"{k} {1e3 * v / steps:.2f} ms" for k, v in packages))
    print_table(["function", "calls/step", "own ms/step", "cum ms/step"], rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=50, help="training steps per timed repeat")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the recording of wgpu steps")
    parser.add_argument("--backends", nargs="+", choices=["gpu", "cpu"], default=["gpu", "cpu"],
                        help="the engine's backends to time (cpu: numpy)")
    parser.add_argument("--profile-numpy", action="store_true",
                        help="where a numpy step's time goes, per backend primitive")
    args = parser.parse_args()
    load = LoadMonitor()
    print("\n".join(describe_machine()))
    X, Y = make_batches(args.batch)
    steps = args.steps

    results = {}
    for name, device, jit in (("engine wgpu", "gpu", False), ("engine wgpu replayed", "gpu", True),
                              ("engine numpy", "cpu", False)):
        if device not in args.backends:
            continue
        run, sync, backend = engine_trainer(device, X, Y, jit)
        seconds = timeit(lambda: run(steps), sync, min_time=0)
        counts = None
        if device == "gpu" and not jit:
            counts = gpu_counts(run, sync, backend, steps)
        results[name] = (seconds / steps, counts)
        if device == "gpu" and not jit and args.profile:
            gpu_run, gpu_sync = run, sync
        if device == "cpu":
            numpy_run, numpy_sync = run, sync
    run, sync = torch_trainer(X, Y)
    results[f"torch {TORCH_DEVICE}"] = (timeit(lambda: run(steps), sync, min_time=0) / steps, None)

    ref_name = f"torch {TORCH_DEVICE}"
    ref = results[ref_name][0]
    print(f"\nCourse MLP 784-256-256-10, Adam, batch {args.batch}, {steps} steps per repeat "
          "(median)")
    rows = [[name, args.batch / t, 1e3 * t, ref / t] for name, (t, _) in results.items()]
    print_table(["", "examples/s", "ms/step", f"x {ref_name}"], rows)
    if "engine wgpu" in results and "engine numpy" in results:
        wgpu_t, numpy_t = results["engine wgpu"][0], results["engine numpy"][0]
        print(f"engine wgpu / engine numpy: {numpy_t / wgpu_t:.3g}x the throughput")
    if "engine wgpu" in results:
        c = results["engine wgpu"][1]
        print(f"engine wgpu per step: {c['dispatches']:.1f} dispatches, {c['submits']:.2f} "
              f"submits, {c['buffers_created']:.2f} new buffers; host (Python) time "
              f"{c['host_ms']:.2f} ms/step = a floor on the step time however fast the GPU")
        if args.profile:
            profile(gpu_run, gpu_sync, 20)
    if args.profile_numpy and "engine numpy" in results:
        eg.set_device("cpu")
        print_numpy_profile(f"Course MLP on numpy, batch {args.batch}", numpy_run, numpy_sync,
                            steps=steps)
    print(load.report())


if __name__ == "__main__":
    main()
