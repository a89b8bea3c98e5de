"""How fast the playground trains in a browser tab, against references run by this script.

    python bench/bench_browser.py [--steps 100] [--warmup 20] [--batch-size 64] [--url URL]

1. Serves the page (`server.py` on a free port, or --url), opens it in headless
   Debian Chromium (WebGPU on whatever adapter it exposes: SwiftShader, a CPU
   Vulkan, on a machine without a GPU), sets the course MLP to Adam (lr 1e-3,
   constant) through the page's controls, switches the layer view off (its cost
   is bench/bench_layer_view.py's subject) and reads the page's own numbers:
   examples/s of each training slice (a few steps, one loss read-back), split into
     Python+FFI  wall time to encode and submit the steps, GPU not awaited, and
     GPU wait    time blocked in the loss readback waiting for the GPU to finish.
2. Runs the same model, optimizer and batch size natively in this process on
   the same engine's numpy backend and on PyTorch CPU, with the same readback
   cadence, and prints the browser's speed as a ratio to both.

A benchmark, not a test: it prints figures for BENCHMARKS.md and asserts nothing.
"""
import argparse
import os
import random
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from browser_harness import chromium, page_state, running_server, wait_for  # noqa: E402

READ_EVERY = 10  # steps between loss read-backs in the native references


def bench_browser(url, steps, warmup, batch_size):
    with chromium(webgpu=True) as browser:
        page = browser.new_page()
        page.goto(url + "/")
        ready = wait_for(page, lambda s: s["state"] == "ready" and s["evaluations"] >= 1, 300,
                         "the page to boot")
        page.uncheck("#live-view")
        page.select_option("#optimizer", "adam")
        page.select_option("#schedule", "none")
        page.fill("#lr", "0.001")
        page.locator("#lr").blur()
        page.select_option("#batch", str(batch_size))
        wait_for(page, lambda s: s["settings"]["batch_size"] == batch_size
                 and s["settings"]["optimizer"] == "adam" and s["settings"]["lr"] == 0.001, 60,
                 "the settings")
        page.click("#start")
        warm = warmup * batch_size
        wait_for(page, lambda s: s["examplesSeen"] >= warm, 1200, f"{warmup} warm-up steps", poll=0.5)
        t0, s0 = time.perf_counter(), page_state(page)["examplesSeen"]
        end = warm + steps * batch_size
        last = wait_for(page, lambda s: s["examplesSeen"] >= end, 3600, f"{steps} timed steps", poll=0.5)
        wall = time.perf_counter() - t0
        timings = page.evaluate("window.webgrad.timings")
        page.click("#pause")
    calls = [t for t in timings if t[0] > warm]
    return {
        "device": ready["device"],
        "examples_per_s": statistics.mean(t[1] for t in calls),  # the page's own figure
        "wall_examples_per_s": (last["examplesSeen"] - s0) / wall,  # with evaluations and polling
        "python_ms": statistics.mean(t[2] for t in calls),
        "gpu_ms": statistics.mean(t[3] for t in calls),
        "steps": (last["examplesSeen"] - s0) // batch_size,
    }


def batches(train, batch_size, seed=0):
    order = list(range(len(train)))
    random.Random(seed).shuffle(order)
    for start in range(0, len(order) - batch_size + 1, batch_size):
        yield order[start:start + batch_size]


def bench_engine_numpy(steps, warmup, batch_size):
    import engine as eg
    from engine import nn, optim
    import engine.nn.functional as F
    from engine.data import MNIST, DataLoader
    device = eg.set_device("cpu")
    eg.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256),
                          nn.ReLU(), nn.Linear(256, 10))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loader = iter(DataLoader(MNIST(os.path.join(ROOT, "data", "mnist")), batch_size, shuffle=True))
    t0 = None
    for step in range(warmup + steps):
        if step == warmup:
            t0 = time.perf_counter()
        x, y = next(loader)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % READ_EVERY == 0:
            loss.item()
    return {"device": device, "examples_per_s": steps * batch_size / (time.perf_counter() - t0)}


def bench_torch_cpu(steps, warmup, batch_size):
    import torch
    from engine.data import MNIST
    train = MNIST(os.path.join(ROOT, "data", "mnist"))
    images = torch.frombuffer(bytearray(train.images), dtype=torch.uint8).view(-1, 1, 28, 28)
    labels = torch.frombuffer(bytearray(train.labels), dtype=torch.uint8).long()
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = batches(train, batch_size)
    t0 = None
    for step in range(warmup + steps):
        if step == warmup:
            t0 = time.perf_counter()
        idx = torch.tensor(next(order))
        x, y = images[idx].float() / 255, labels[idx]  # the batch is built each step, as on the page
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % READ_EVERY == 0:
            loss.item()
    return {"device": f"torch {torch.__version__} CPU, {torch.get_num_threads()} threads",
            "examples_per_s": steps * batch_size / (time.perf_counter() - t0)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=100, help="timed steps (multiple of 10)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed steps first")
    parser.add_argument("--batch-size", type=int, default=64, choices=[16, 32, 64, 128, 256])
    parser.add_argument("--url", help="benchmark a running server instead of starting one")
    args = parser.parse_args()

    print(f"course MLP 784-256-256-10, Adam, batch {args.batch_size}, {args.steps} timed steps "
          f"after {args.warmup} warm-up, loss read back every {READ_EVERY} steps", flush=True)
    t = time.perf_counter()
    if args.url:
        web = bench_browser(args.url.rstrip("/"), args.steps, args.warmup, args.batch_size)
    else:
        with running_server() as url:
            web = bench_browser(url, args.steps, args.warmup, args.batch_size)
    print(f"browser ({time.perf_counter() - t:.0f} s): {web['device']}")
    print(f"  page's examples/s   {web['examples_per_s']:10.1f}   "
          f"(wall clock incl. evaluations: {web['wall_examples_per_s']:.1f})")
    total = web["python_ms"] + web["gpu_ms"]
    print(f"  per step: Python+FFI {web['python_ms']:.2f} ms ({100 * web['python_ms'] / total:.0f}%), "
          f"GPU wait {web['gpu_ms']:.2f} ms ({100 * web['gpu_ms'] / total:.0f}%)", flush=True)

    refs = [("engine, numpy backend (native)", bench_engine_numpy),
            ("PyTorch CPU (native)", bench_torch_cpu)]
    for name, fn in refs:
        ref = fn(args.steps, args.warmup, args.batch_size)
        ratio = web["examples_per_s"] / ref["examples_per_s"]
        print(f"{name}: {ref['examples_per_s']:10.1f} examples/s  [{ref['device']}]  "
              f"browser/this = {ratio:.3f}x", flush=True)


if __name__ == "__main__":
    main()
