"""How fast the playground trains in a browser tab, against the JavaScript libraries people
would use instead, in the same browser and the same run.

    python bench/bench_browser.py [--models mlp convnetjs] [--batch-size 64] [--steps 100]
                                  [--libs webgrad convnetjs tfjs-webgl tfjs-webgpu]
                                  [--warmup 20] [--lr 0.01] [--momentum 0.9]

Two models, each in every implementation, on MNIST (the IDX files server.py serves),
batch 64, SGD with momentum 0.9 at a constant learning rate (0.01):
  mlp        the course MLP 784-256-256-10, ReLU
  convnetjs  ConvNetJS's MNIST net (engine/models/convnetjs.py): conv 5x5x8 pad 2 + ReLU,
             max-pool 2, conv 5x5x16 pad 2 + ReLU, max-pool 3, dense 10
Implementations:
  webgrad      the playground page (server.py), set through its own controls (model,
               optimizer "momentum", lr, momentum, batch size, schedule constant, layer view
               off); it reports each training slice's wall time and its split into
               Python+FFI (encoding and submitting the steps) and GPU wait (blocked in the
               slice's one loss read-back) in window.webgrad.timings
  convnetjs    ConvNetJS 0.3.0 (plain JavaScript on the CPU)
  tfjs-webgl   TensorFlow.js 4.22.0 on WebGL
  tfjs-webgpu  TensorFlow.js 4.22.0 on WebGPU (@tensorflow/tfjs-backend-webgpu)
The libraries run in bench/js/bench.html (?lib=...), pinned by bench/js/package-lock.json
and installed on first use with `npm ci` into bench/js/node_modules (bench-only: never
by scripts/setup.sh). This script serves the page and bench/js/ on one free port
(server.py's app plus a /bench mount), opens them in headless Debian Chromium (WebGPU
and WebGL on SwiftShader, a CPU Vulkan, on a machine without a GPU) and prints one
table: examples/s of steady-state training (wall time over --steps timed steps after
--warmup untimed ones, batches built inside the steps, the loss read back every 10 steps;
the page reads it back once per slice of 1-50 steps), the page's speed as a ratio to
each, the page's Python/FFI vs GPU split, and a learning check (the loss, and the
accuracy on 2,000 test images after the run) so that a broken port cannot look fast.

A benchmark, not a test: it prints figures from one run for BENCHMARKS.md and asserts
nothing. The machine is shared: compare the ratios, not single figures.
"""
import argparse
import contextlib
import math
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
JS_DIR = os.path.join(HERE, "js")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from browser_harness import chromium, free_port, page_state, wait_for  # noqa: E402

LIBS = {"webgrad": "webgrad page", "convnetjs": "ConvNetJS", "tfjs-webgl": "TF.js WebGL",
        "tfjs-webgpu": "TF.js WebGPU"}
MODELS = {"mlp": "MLP 784-256-256-10", "convnetjs": "ConvNetJS's MNIST net"}
# The zoo recipes' label smoothing, which the page applies (it has no control for it):
# TF.js gets the same; ConvNetJS's softmax loss has none (a negligible difference in work).
LABEL_SMOOTHING = 0.1
DATASET = "mnist"
TRAIN_SIZE = 60000


# ---- serving the page and bench/js ----------------------------------------------------------

def ensure_js_packages():
    """`npm ci` in bench/js when node_modules is missing or older than the lock file."""
    lock = os.path.join(JS_DIR, "package-lock.json")
    installed = os.path.join(JS_DIR, "node_modules", ".package-lock.json")  # written by npm ci
    if os.path.isfile(installed) and os.path.getmtime(installed) >= os.path.getmtime(lock):
        return
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("bench_browser: npm is not installed; the JavaScript libraries come from the npm "
                 "registry.\n  Install Node.js and npm (Debian: `apt-get install nodejs npm`), or "
                 "measure the page alone: --libs webgrad")
    print("bench_browser: installing the pinned JavaScript libraries (npm ci in bench/js) ...",
          flush=True)
    # --ignore-scripts: the bench needs the files only, no package's install hooks
    done = subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=JS_DIR,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        sys.exit(f"bench_browser: `npm ci` in {JS_DIR} failed:\n{done.stdout}")


@contextlib.contextmanager
def serving():
    """server.py's app with bench/js mounted at /bench, on a free port, in a thread."""
    import uvicorn
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles
    import server
    try:
        app = server.create_app()
    except server.SetupError as err:
        sys.exit(str(err))
    app.router.routes.insert(0, Mount("/bench", StaticFiles(directory=JS_DIR)))
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the bench server did not start on port {port}")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)


class OtherLoad:
    """How many cores processes other than this bench used while it ran (the machine is
    shared): all CPU time in /proc/stat (steal included) minus this process tree's (this
    Python with its server thread, the Playwright driver, Chromium and its children)."""

    def __init__(self):
        self.start = self._sample()

    @staticmethod
    def _sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
        busy = sum(v) - v[3] - v[4]                         # all but idle and iowait
        parent, ticks = {}, {}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()  # after "pid (comm)"
            except OSError:                                  # it exited meanwhile
                continue
            parent[int(pid)] = int(fields[1])
            ticks[int(pid)] = sum(map(int, fields[11:15]))   # utime stime cutime cstime
        tree, todo = 0, [os.getpid()]
        while todo:
            pid = todo.pop()
            tree += ticks.get(pid, 0)
            todo += [child for child, p in parent.items() if p == pid]
        return time.perf_counter(), busy, tree

    def cores(self):
        (w0, b0, t0), (w1, b1, t1) = self.start, self._sample()
        return max(0.0, (b1 - b0) - (t1 - t0)) / os.sysconf("SC_CLK_TCK") / (w1 - w0)


# ---- the playground page ----------------------------------------------------------------------

def set_control(page, selector, value, key, expect, what):
    """Change one of the page's settings as a person does, and wait until the worker has it."""
    if page.locator(selector).evaluate("e => e.tagName") == "SELECT":
        page.select_option(selector, str(value))
    else:
        page.fill(selector, str(value))
        page.locator(selector).blur()            # the page sends a setting on `change`
    wait_for(page, lambda s: s["settings"] and s["settings"][key] == expect, 60, what)


def timed_slices(timings, warm):
    """The training slices that began after `warm` examples: [(steps, examples, ms,
    python ms/step, GPU ms/step)], from window.webgrad.timings rows [examples seen,
    examples/s, Python ms/step, GPU wait ms/step, call ms, refreshed, steps]."""
    out, prev_examples, prev_steps = [], 0, 0
    for examples, _, py_ms, gpu_ms, call_ms, _, steps in timings:
        if prev_examples >= warm:
            out.append((steps - prev_steps, examples - prev_examples, call_ms, py_ms, gpu_ms))
        prev_examples, prev_steps = examples, steps
    return out


def bench_webgrad(browser, url, model, args):
    page = browser.new_page()
    try:
        page.goto(f"{url}/?model={model}&dataset={DATASET}")
        ready = wait_for(page, lambda s: s["state"] == "ready" and s["evaluations"] >= 1, 600,
                         "the page to boot")
        page.uncheck("#live-view")                 # its cost is bench/bench_layer_view.py's subject
        set_control(page, "#optimizer", "momentum", "optimizer", "momentum", "optimizer momentum")
        set_control(page, "#schedule", "none", "schedule", "none", "a constant learning rate")
        set_control(page, "#lr", args.lr, "lr", args.lr, f"lr {args.lr}")
        set_control(page, "#momentum", args.momentum, "momentum", args.momentum, "the momentum")
        set_control(page, "#weight-decay", 0, "weight_decay", 0, "no weight decay")
        set_control(page, "#batch", args.batch_size, "batch_size", args.batch_size, "the batch size")
        epochs = math.ceil((args.warmup + 2 * args.steps + 100) * args.batch_size / TRAIN_SIZE)
        set_control(page, "#epochs", epochs, "epochs", epochs, "enough epochs")  # never pauses itself
        settings = page_state(page)["settings"]
        page.click("#start")
        warm = args.warmup * args.batch_size

        def timed_steps(_):
            return sum(s[0] for s in timed_slices(page.evaluate("window.webgrad.timings"), warm))
        # the wall clock, evaluations included, from the first poll past the warm-up
        wait_for(page, lambda s: s["examplesSeen"] >= warm, 3600, "the warm-up", poll=0.25)
        t0, seen0 = time.perf_counter(), page_state(page)["examplesSeen"]
        wait_for(page, lambda s: timed_steps(s) >= args.steps, 7200, f"{args.steps} timed steps",
                 poll=0.25)
        wall, seen1 = time.perf_counter() - t0, page_state(page)["examplesSeen"]
        timings = page.evaluate("window.webgrad.timings")
        page.click("#pause")                       # pausing evaluates on 2,000 test images
        done = wait_for(page, lambda s: s["state"] == "paused"
                        and s["testAtExamples"] == s["examplesSeen"], 600, "the evaluation")
        losses = page.evaluate("[window.webgrad.lossHistory, window.webgrad.timings.map(t => t[6])]")
    finally:
        page.close()
    slices = timed_slices(timings, warm)
    steps = sum(s[0] for s in slices)
    seconds = sum(s[2] for s in slices) / 1000
    history = list(zip(losses[1], losses[0]))     # (steps so far, loss) per slice
    first = next((loss for n, loss in history if n >= 10), history[0][1])
    return {
        "device": ready["device"],
        "examples_per_s": sum(s[1] for s in slices) / seconds,
        "ms_per_step": 1000 * seconds / steps,
        "python_ms": sum(s[0] * s[3] for s in slices) / steps,
        "gpu_ms": sum(s[0] * s[4] for s in slices) / steps,
        "steps": steps, "slices": len(slices),
        "wall_examples_per_s": (seen1 - seen0) / wall,   # with the page's evaluations and gaps
        "first_loss": first, "last_loss": history[-1][1],
        "test_acc": done["testAcc"], "test_count": done["testCount"],
        "label_smoothing": settings.get("label_smoothing"),
    }


# ---- the JavaScript libraries ---------------------------------------------------------------

def bench_js(browser, url, lib, model, args):
    query = urllib.parse.urlencode(dict(lib=lib, model=model, dataset=DATASET, batch=args.batch_size,
                                        warmup=args.warmup, steps=args.steps, lr=args.lr,
                                        momentum=args.momentum, smoothing=LABEL_SMOOTHING))
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    try:
        page.goto(f"{url}/bench/bench.html?{query}")
        # ConvNetJS keeps the main thread busy for the whole run: a generous timeout,
        # and the result is read once it is done
        page.wait_for_function("window.bench && ['done', 'error'].includes(window.bench.state)",
                               polling=1000, timeout=1000 * args.timeout)
        r = page.evaluate("window.bench")
    finally:
        page.close()
    if r["state"] == "error" or errors:
        raise RuntimeError(f"bench.html?{query} failed:\n{r.get('error') or ''}\n" + "\n".join(errors))
    return {"device": r["device"], "examples_per_s": r["examplesPerSecond"],
            "ms_per_step": r["msPerStep"], "first_loss": r["losses"][0][1],
            "last_loss": r["losses"][-1][1], "test_acc": r["testAccuracy"],
            "test_count": r["testImages"], "tensors": r.get("tensors")}


# ---- the table ----------------------------------------------------------------------------------

def learned(r):
    return r["test_acc"] >= 0.5 and r["last_loss"] < r["first_loss"]


def report(results, args, browser_version):
    print(f"\nMNIST, batch {args.batch_size}, SGD momentum {args.momentum} lr {args.lr} constant; "
          f"{args.steps} timed steps after {args.warmup} warm-up; loss read back every 10 steps "
          f"(the page: once per slice)")
    head = ("model", "implementation", "examples/s", "ms/step", "page / this", "loss ~10 -> last",
            "test acc", "others' cores")
    rows = []
    for model in args.models:
        page = results.get((model, "webgrad"))
        for lib in args.libs:
            r = results.get((model, lib))
            if r is None:
                rows.append((model, LIBS[lib], "failed", "", "", "", "", ""))
                continue
            ratio = f"{page['examples_per_s'] / r['examples_per_s']:.3f}" if page else "-"
            rows.append((model, LIBS[lib], f"{r['examples_per_s']:.1f}", f"{r['ms_per_step']:.1f}",
                         ratio, f"{r['first_loss']:.3f} -> {r['last_loss']:.3f}",
                         f"{100 * r['test_acc']:.1f}%" + ("" if learned(r) else "  NOT LEARNING"),
                         f"{r['others']:.2f}"))
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    for i, row in enumerate([head] + rows):
        print("  ".join(str(x).rjust(w) for x, w in zip(row, widths)))
        if i == 0:
            print("  ".join("-" * w for w in widths))

    print(f"(loss: at the first read-back from step 10 on, and at the last; test acc: on "
          f"{next(iter(results.values()))['test_count'] if results else 2000} test images after the "
          f"run; others' cores: CPU that other processes took during that run, of {os.cpu_count()})")
    pages = [(m, results[(m, "webgrad")]) for m in args.models if (m, "webgrad") in results]
    if pages:
        print("\nwebgrad page, per step (mean over the timed slices)")
        for model, r in pages:
            total = r["python_ms"] + r["gpu_ms"]
            print(f"  {model}: Python+FFI {r['python_ms']:.1f} ms ({100 * r['python_ms'] / total:.0f}%), "
                  f"GPU wait {r['gpu_ms']:.1f} ms ({100 * r['gpu_ms'] / total:.0f}%); "
                  f"{r['steps']} steps in {r['slices']} slices; wall clock with the page's "
                  f"evaluations {r['wall_examples_per_s']:.1f} examples/s")
    print(f"\nbrowser: Chromium {browser_version}, headless")
    devices = {}
    for (model, lib), r in results.items():
        devices.setdefault(LIBS[lib], r["device"])
    for name, device in devices.items():
        print(f"  {name}: {device}")
    broken = [f"{m}/{LIBS[l]}" for (m, l), r in results.items() if not learned(r)]
    if broken:
        print(f"\nWARNING: did not learn (test accuracy < 50% or the loss did not fall): "
              f"{', '.join(broken)}: its speed means nothing")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--libs", nargs="+", default=list(LIBS), choices=list(LIBS))
    parser.add_argument("--batch-size", type=int, default=64, choices=[8, 16, 32, 64, 128, 256],
                        help="the page's batch sizes")
    parser.add_argument("--steps", type=int, default=100, help="timed steps")
    parser.add_argument("--warmup", type=int, default=20, help="untimed steps first")
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per library run")
    args = parser.parse_args()

    if set(args.libs) - {"webgrad"}:
        ensure_js_packages()
    results = {}
    with serving() as url, chromium(webgpu=True) as browser:
        for model in args.models:
            for lib in args.libs:
                t, load = time.perf_counter(), OtherLoad()
                try:
                    if lib == "webgrad":
                        r = bench_webgrad(browser, url, model, args)
                    else:
                        r = bench_js(browser, url, lib, model, args)
                except Exception as err:          # one broken library must not lose the others
                    print(f"{model:9} {LIBS[lib]:13} FAILED: {err}", flush=True)
                    continue
                r["others"] = load.cores()
                results[(model, lib)] = r
                print(f"{model:9} {LIBS[lib]:13} {r['examples_per_s']:8.1f} examples/s, test accuracy "
                      f"{100 * r['test_acc']:.1f}% ({time.perf_counter() - t:.0f} s)", flush=True)
        version = browser.version
    if (smoothing := next((r["label_smoothing"] for (m, l), r in results.items() if l == "webgrad"),
                          LABEL_SMOOTHING)) != LABEL_SMOOTHING:
        print(f"note: the page trained with label smoothing {smoothing}, TF.js with {LABEL_SMOOTHING}")
    report(results, args, version)


if __name__ == "__main__":
    main()
