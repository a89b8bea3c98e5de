"""Host time per training step, eager against recorded-and-replayed (engine.jit), in one run.

    python bench/bench_replay.py [--models mlp convnetjs] [--batch-size 64] [--steps 40]
                                 [--optimizer sgd|adam] [--no-browser]

The host time of a step is what the CPU spends to get the step onto the GPU: the
Python graph, the launchers and the encoding (eager), or the replay's host work
(its hooks' uniform writes, one command buffer). The GPU works behind it, so the
host time bounds the speed on a fast GPU: 1 ms a step is at most 64,000 examples/s
at batch 64, whatever the GPU. Measured

- natively, through wgpu (lavapipe on a machine without a GPU): the time of the
  step call, with the GPU drained before each one, median over --steps;
- in the browser, Pyodide in headless Chromium on WebGPU (SwiftShader here): the
  same, from inside the page's engine, where a replay is one call into JavaScript.

Each row also prints PyTorch CPU's whole step (compute included) on the same model
and batch, for scale. A benchmark: it prints figures for BENCHMARKS.md and asserts
nothing.
"""
import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

STEP_CODE = r'''
import random, statistics, time
import engine as eg
import engine.nn.functional as F
from engine import models as zoo, optim
from engine.data import DataLoader


class Noise:
    """Random images and labels, read like MNIST (the data does not change the timing)."""
    image_shape, classes = (1, 28, 28), [str(k) for k in range(10)]

    def __init__(self, n):
        rng = random.Random(0)
        self.images = bytes(rng.randrange(256) for _ in range(n * 784))
        self.labels = bytes(rng.randrange(10) for _ in range(n))

    def __len__(self):
        return len(self.labels)


def make_optimizer(kind, params):
    """SGD with Nesterov momentum (its replay rewrites no uniform while the lr stays), or
    Adam (its bias corrections change every step: its hook writes uniforms every replay)."""
    if kind == "adam":
        return optim.Adam(params, lr=1e-3)
    return optim.SGD(params, lr=0.01, momentum=0.9, nesterov=True)


def host_ms(name, use_jit, batch, steps, optimizer="sgd"):
    """(median host ms of a step call, of which the GPU API, dispatches replayed)."""
    eg.set_device("gpu")
    eg.manual_seed(0)
    model = zoo.build(name)
    opt = make_optimizer(optimizer, model.parameters())

    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    run = eg.jit(step) if use_jit else step
    return host_ms_of(run, list(DataLoader(Noise(batch * 4), batch)), steps)


def host_ms_of(run, batches, steps):
    """Median host milliseconds of run(*batch), the GPU drained before each call; for a
    jitted run also the median time of its replays' GPU API part (encode, finish, submit)
    and how many dispatches it replays."""
    backend = batches[0][0].backend
    api_times = []
    encode_and_submit = backend._replay

    def timed_replay(*args):
        t = time.perf_counter()
        encode_and_submit(*args)
        api_times.append(1000 * (time.perf_counter() - t))
    backend._replay = timed_replay
    times = []
    try:
        for i in range(steps + 4):
            batch = batches[i % len(batches)]
            backend.synchronize()
            eg.tensor([0.0]).item()        # the GPU is idle: time the host only
            t = time.perf_counter()
            out = run(*batch)
            times.append(1000 * (time.perf_counter() - t))
            out.tolist()
    finally:
        del backend._replay                # the class's method again
    api = statistics.median(api_times[-steps:]) if len(api_times) >= steps else None
    recordings = getattr(run, "recordings", None)
    dispatches = len(next(iter(recordings.values())).dispatches) if recordings else None
    return statistics.median(times[4:]), api, dispatches


def floor_ms(dispatches, steps):
    """The same replay path with as many one-element dispatches: what the GPU API itself
    costs per step, before any of the model's kernels, buffers or hooks."""
    def chain(x):
        for _ in range(dispatches):
            x = x.relu()
        return x
    return host_ms_of(eg.jit(chain, verbose=False), [(eg.tensor([1.0, 2.0, 3.0, 4.0]),)], steps)


def measure(names, batch, steps, optimizer="sgd"):
    out = {}
    for name in names:
        replayed = host_ms(name, True, batch, steps, optimizer)
        out[name] = {"eager": host_ms(name, False, batch, steps, optimizer), "replayed": replayed,
                     "floor": floor_ms(replayed[2], steps)}
    return out
'''

def torch_step_ms(name, batch, steps, optimizer):
    import torch
    from test_summary import torch_twin   # the zoo's models in PyTorch
    torch.manual_seed(0)
    model = torch_twin(name)
    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    x, y = torch.randn(batch, 1, 28, 28), torch.randint(0, 10, (batch,))
    times = []
    for _ in range(steps + 4):
        t = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss.item()
        times.append(1000 * (time.perf_counter() - t))
    return statistics.median(times[4:])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["mlp", "convnetjs"])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd",
                        help="sgd: Nesterov momentum, nothing to rewrite per replay; adam: "
                             "its bias corrections rewritten before every replay")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args(argv)
    namespace = {}
    exec(STEP_CODE, namespace)
    import engine as eg
    eg.set_device("gpu")
    device = eg.get_device()
    native = namespace["measure"](args.models, args.batch_size, args.steps, args.optimizer)
    browser, browser_device = None, None
    if not args.no_browser:
        from browser_harness import chromium, run_in_pyodide, running_server
        with running_server() as url, chromium(webgpu=True) as chrome:
            page = chrome.new_page()
            page.goto(url + "/datasets.json")
            code = (STEP_CODE + "\nimport json\ndef run(n, b, s, o): "
                    "return json.dumps(measure(list(n), b, s, o))")
            browser = json.loads(run_in_pyodide(page, code, "run", args.models, args.batch_size,
                                                args.steps, args.optimizer))
            browser_device = page.evaluate("""async () => {
                const i = (await navigator.gpu.requestAdapter()).info;
                return `${i.vendor} ${i.architecture} ${i.description}`.trim(); }""")
    optimizer = "Adam" if args.optimizer == "adam" else "SGD with Nesterov momentum"
    print(f"host ms per training step (median of {args.steps}), batch {args.batch_size}, "
          f"{optimizer}")
    print(f"native: {device}; browser: {browser_device or '-'} (WebGPU in Pyodide)")
    print(f"{'model':11} {'where':8} {'eager':>8} {'replayed':>9} {'of which GPU API':>17} "
          f"{'eager/replayed':>15} {'PyTorch CPU whole step':>23}")
    for name in args.models:
        torch_ms = torch_step_ms(name, args.batch_size, args.steps, args.optimizer)
        for where, figures in (("native", native), ("browser", browser)):
            if figures is None:
                continue
            (e, _, _), (r, api, n), (floor, floor_api, _) = (figures[name][k] for k in
                                                             ("eager", "replayed", "floor"))
            print(f"{name:11} {where:8} {e:8.3f} {r:9.3f} {api:17.3f} {e / r:15.1f}x "
                  f"{torch_ms:22.2f}")
            print(f"{'':11} {where:8} {'floor:':>8} {floor:9.3f} {floor_api:17.3f}   "
                  f"({n} one-element dispatches replayed the same way)")
    print("(of which GPU API: the replay's encode, finish and submit, natively through "
          "wgpu-native's C API, in the page one call into JavaScript; the rest is the "
          "Python hooks that rewrite per-step uniforms. floor: a jitted chain of as many "
          "one-element ReLUs, what replaying that many dispatches costs at least)")


if __name__ == "__main__":
    main()
