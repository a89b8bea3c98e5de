"""Where one training step's GPU time goes, kernel by kernel: the page's ConvNetJS net
(or the course MLP), natively (wgpu on this machine's adapter) and in the browser.

    PYTHONPATH=. .venv/bin/python bench/bench_step_kernels.py [--where native browser]
                                   [--model convnetjs] [--batch 64] [--repeats 5] [--each]
                                   [--conv blocked tiled]

The page trains with a replayed step (engine.jit): one submit of every dispatch, so the
browser's own counters say only "GPU wait 508 ms". This bench runs the page's step
(web/playground/trainer.py's `_step`: forward, cross-entropy with label smoothing 0.1,
backward, SGD with momentum 0.9, the accuracy count) once with every dispatch recorded
(`GPURuntime._run` wrapped), each with the backend method that asked for it (conv2d,
max_pool2d_backward, sgd_step, ...; the outermost one, so the split-K sum of a conv
gradient counts as that gradient). Then it issues each recorded dispatch again
`repeats` times in a row with one wait for the device, best of 3, less the wait's own
time, and adds the times up by method. The last lines compare the sum with the whole step replayed the same way
(eg.jit, `repeats` steps, one wait): the two differ by what dispatches cost when they
follow different kernels rather than their own repeats.

The same Python runs natively and, through Pyodide, in headless Chromium (WebGPU on
SwiftShader without a GPU; bench_kernels.py's path). A benchmark, not a test: it prints
figures for BENCHMARKS.md and asserts nothing.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))

# Runs natively and in Pyodide alike: no numpy (Pyodide's page has none), no torch.
TIMING = r'''
import json, random, sys, time
import engine as eg
import engine.nn.functional as F
from engine import optim
from engine.backend import current_backend, kernel_choice


def build(model_name):
    if model_name == "convnetjs":
        from engine.models import convnetjs
        return convnetjs.build(), (1, 28, 28)
    from engine import nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256),
                         nn.ReLU(), nn.Linear(256, 10)), (1, 28, 28)


def page_step(model, opt):
    """web/playground/trainer.py's step with bench_browser.py's settings."""
    def step(x, y):
        logits = model(x)
        loss = F.cross_entropy(logits, y, label_smoothing=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with eg.no_grad():
            hits = (logits.detach().argmax(1) == y).sum()
        return loss, hits
    return step


def record_dispatches(be, run):
    """Every dispatch `run()` records: (method, kernel, the arguments of GPURuntime._run).
    `method`: the outermost backend method on the stack (the public primitive)."""
    recorded, original = [], be._run

    def recording_run(kernel, arrays, params, *args, **kwargs):
        method, frame = kernel, sys._getframe(1)
        while frame is not None:
            if frame.f_locals.get("self") is be and not frame.f_code.co_name.startswith("_"):
                method = frame.f_code.co_name
            frame = frame.f_back
        recorded.append((method, kernel, (kernel, list(arrays), dict(params)) + args, kwargs))
        return original(kernel, arrays, params, *args, **kwargs)

    be._run = recording_run
    try:
        run()
    finally:
        del be._run          # back to the class's method
    return recorded


# uniform fields worth printing with a dispatch (--each), when its kernel has them
SHAPE_KEYS = ("C_in", "C_out", "H", "W", "M", "N", "cols", "K", "k_chunk", "outer", "size",
              "inner", "planes", "in_h", "out_h", "kh", "numel", "n")


def best_of_3(run, repeats, wait):
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            run()
        wait()
        best = min(best, (time.perf_counter() - start) / repeats)
    return best


def trainer_step_ms(model_name, batch, repeats, wait):
    """ms per step of the page's own Trainer (web/playground/trainer.py: its DataLoader,
    the batch gathered on the device, its replayed step) on 10 batches of random images."""
    from engine import models as zoo
    try:                        # in the browser, engine.zip has web/playground/ as playground/
        from playground.trainer import Trainer, settings_from_recipe
    except ImportError:
        from web.playground.trainer import Trainer, settings_from_recipe
    rng = random.Random(1)

    class Images:
        image_shape, classes = (1, 28, 28), [str(i) for i in range(10)]
        images = bytes(rng.randrange(256) for _ in range(10 * batch * 784))
        labels = bytes(rng.randrange(10) for _ in range(10 * batch))

        def __len__(self):
            return 10 * batch

    settings = settings_from_recipe(zoo.recipe(model_name))
    settings.update(optimizer="momentum", lr=0.01, momentum=0.9, nesterov=False,
                    schedule="none", weight_decay=0.0, batch_size=batch, epochs=1000)
    trainer = Trainer(zoo.build(model_name), Images(), settings)
    for _ in range(3):
        trainer.train_steps(1)[0].item()
    return 1e3 * best_of_3(lambda: trainer.train_steps(1), repeats, wait)


def measure(model_name, batch, repeats, convs):
    """The step timed dispatch by dispatch, for each conv2d variant in `convs` ("" for the
    adapter's own choice) -> JSON, a list of results."""
    results = []
    for conv in convs:
        with kernel_choice.forced(**({"conv": conv} if conv else {})):
            results.append(measure_one(model_name, batch, repeats))
    return json.dumps(results)


def measure_one(model_name, batch, repeats):
    eg.set_device("gpu")
    eg.manual_seed(0)
    be = current_backend()
    model, in_shape = build(model_name)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    step = page_step(model, opt)
    rng = random.Random(0)
    x = eg.rand(batch, *in_shape)
    y = eg.tensor([rng.randrange(10) for _ in range(batch)])
    token = be.full(1, 0.0)
    wait = lambda: be.download(token)
    loss, _ = step(x, y)             # compile the pipelines
    loss.item()
    recorded = record_dispatches(be, lambda: step(x, y)[0].item())
    idle = best_of_3(lambda: None, repeats, wait)   # the wait's own share of a timing
    rows = []
    for method, kernel, args, kwargs in recorded:
        be._run(*args, **kwargs)     # warm
        wait()
        ms = 1e3 * (best_of_3(lambda: be._run(*args, **kwargs), repeats, wait) - idle)
        params = args[2]
        shape = " ".join(f"{k}={params[k]}" for k in SHAPE_KEYS if k in params)
        rows.append({"method": method, "kernel": kernel + "." + kwargs.get("entry", "main"),
                     "shape": shape, "ms": ms})
    page_trainer = trainer_step_ms(model_name, batch, repeats, wait) if model_name else None
    jitted = eg.jit(step, verbose=False)
    for _ in range(3):               # record, then replay twice
        jitted(x, y)[0].item()
    whole = 1e3 * best_of_3(lambda: jitted(x, y), repeats, wait)
    kind = kernel_choice.adapter_kind(be)
    return {"adapter": be.adapter_name, "kind": kind, "rows": rows, "whole_ms": whole,
            "trainer_ms": page_trainer,
            "conv": kernel_choice.FORCE.get("conv") or kernel_choice.CONV_BY_KIND[kind][0]}
'''


def print_results(title, res, each):
    from common import print_table
    print(f"\n{title}: {res['adapter']} (kind '{res['kind']}', conv2d {res['conv']})")
    if each:
        print_table(["#", "method", "kernel", "ms", "uniforms"],
                    [[i, r["method"], r["kernel"], r["ms"], r["shape"]]
                     for i, r in enumerate(res["rows"])])
        print()
    by_method = {}
    for r in res["rows"]:
        entry = by_method.setdefault(r["method"], {"n": 0, "ms": 0.0, "kernels": set()})
        entry["n"] += 1
        entry["ms"] += r["ms"]
        entry["kernels"].add(r["kernel"])
    total = sum(e["ms"] for e in by_method.values())
    ordered = sorted(by_method.items(), key=lambda kv: -kv[1]["ms"])
    print_table(["method", "dispatches", "ms", "share", "kernels"],
                [[m, e["n"], e["ms"], f"{100 * e['ms'] / total:.1f}%", " ".join(sorted(e["kernels"]))]
                 for m, e in ordered]
                + [["sum", sum(e["n"] for e in by_method.values()), total, "100%", ""]])
    print(f"sum of the dispatches timed one by one: {total:.1f} ms; the whole step replayed "
          f"(eg.jit): {res['whole_ms']:.1f} ms (sum / whole = {total / res['whole_ms']:.2f})")
    if res.get("trainer_ms"):
        print(f"the page's Trainer (web/playground/trainer.py), one step: {res['trainer_ms']:.1f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--where", nargs="+", choices=["native", "browser"],
                        default=["native", "browser"])
    parser.add_argument("--model", choices=["convnetjs", "mlp"], default="convnetjs")
    parser.add_argument("--batch", type=int, default=64, help="bench_browser.py's batch: 64")
    parser.add_argument("--repeats", type=int, default=5, help="dispatches (steps) per timed repeat")
    parser.add_argument("--each", action="store_true", help="also print every dispatch")
    parser.add_argument("--conv", nargs="+", default=[""], metavar="VARIANT",
                        help="conv2d variants to force in turn (kernel_choice.CONV_VARIANTS); "
                             "default: the adapter's choice")
    args = parser.parse_args()
    from common import LoadMonitor, describe_machine, measure_in
    load = LoadMonitor()
    print("\n".join(describe_machine()))
    print(f"{args.model}, batch {args.batch}, one training step (SGD momentum, label smoothing)")
    for where in ("native", "browser"):
        if where in args.where:
            for res in measure_in(where, TIMING, args.model, args.batch, args.repeats, args.conv):
                print_results("native wgpu" if where == "native" else "browser (Chromium, WebGPU)",
                              res, args.each)
    print(load.report())


if __name__ == "__main__":
    main()
