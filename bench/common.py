"""Shared helpers for the benchmarks: the reference device, timing, tables.

Timing rule: warm up, then time several repeats and take the median. A repeat
runs `fn` enough times to last about `min_time` seconds and then calls `sync`
once, so the GPU's queue is drained inside the timed region (the engine records
work lazily; only a read-back waits for it).
"""
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # quiets the Vulkan loader
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import torch  # noqa: E402

import engine as eg  # noqa: E402
import engine.nn.functional as F  # noqa: E402

TORCH_DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def torch_sync():
    if TORCH_DEVICE == "cuda":
        torch.cuda.synchronize()


def engine_backend(device):
    """The engine's backend object for "gpu" (wgpu) or "cpu" (numpy)."""
    eg.set_device(device)
    return eg.backend.current_backend()


def engine_sync(backend):
    """A function that waits until the backend has finished all recorded work.
    Downloading a 1-element buffer submits the pending dispatches and waits for
    the queue (submissions finish in order), without a large transfer."""
    token = backend.full(1, 0.0)
    return lambda: backend.download(token)



def engine_run(model, opt, X, Y, jit=False):
    """-> (run(steps), sync()) for the training benches: `steps` steps of `model` with
    cross-entropy on the batches X, Y (uploaded once, used in turn); sync() reads the last
    loss back, which waits for the device. With `jit` the step is recorded once and
    replayed (eg.jit, as engine.train.fit does)."""
    xs, ys = [eg.tensor(x) for x in X], [eg.tensor(y) for y in Y]
    last = {}

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    if jit:
        step = eg.jit(step)

    def run(steps):
        for i in range(steps):
            loss = step(xs[i % len(xs)], ys[i % len(ys)])
        last["loss"] = loss
    return run, lambda: last["loss"].item()

class LoadMonitor:
    """How much CPU other processes (and the hypervisor: steal) took while we ran.
    Figures are only meaningful when this is near 0: on a shared 2-core machine a
    neighbour's process makes multi-threaded BLAS or lavapipe calls wait for
    scheduler ticks (4 ms steps), which can cut throughput 10-100x."""

    def __init__(self):
        self.start = self._sample()

    @staticmethod
    def _sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
        busy = (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait
        own = os.times()
        return time.perf_counter(), busy, own.user + own.system

    def other(self):
        """Cores used by other processes since this monitor started, on average."""
        (w0, b0, o0), (w1, b1, o1) = self.start, self._sample()
        return max(0.0, (b1 - b0) - (o1 - o0)) / (w1 - w0)

    def report(self):
        other = self.other()
        text = f"other processes used {other:.2f} of {os.cpu_count()} cores during this run; "
        if not disturbed:
            return text + f"every measurement ran with less than {BUSY} cores taken by others"
        return text + (f"{len(disturbed)} measurement(s) stayed disturbed after retries "
                       "(figures unreliable: re-run when the machine is quiet)")


BUSY = 0.15          # cores used by others above which a measurement is retried
disturbed = []       # other processes' load of measurements still disturbed after all retries


def timeit(fn, sync=lambda: None, repeats=5, warmup=0.3, min_time=0.05, max_total=20.0,
           attempts=3):
    """Median seconds per call of fn().

    Warm-up runs fn for `warmup` seconds (at least once): it compiles pipelines,
    fills caches and lets the idle threads of the previous library (OpenBLAS,
    OpenMP spin for a while after each call) go to sleep. Repeats are cut down
    (to at least 3) when one call is slow, so that a measurement takes about
    `max_total` seconds at most. A measurement during which other processes
    took CPU is done again (up to `attempts` times)."""
    for attempt in range(attempts):
        load = LoadMonitor()
        start = time.perf_counter()
        while True:
            fn()
            sync()
            if time.perf_counter() - start >= warmup:
                break
        start = time.perf_counter()
        fn()
        sync()
        one = time.perf_counter() - start
        number = max(1, int(min_time / one))             # calls per repeat
        times = []
        for _ in range(max(3, min(repeats, int(max_total / (one * number))))):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            sync()
            times.append((time.perf_counter() - start) / number)
        if load.other() < BUSY:
            break
        time.sleep(2 * (attempt + 1))  # let the neighbour finish
    else:
        disturbed.append(load.other())
    return statistics.median(times)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def describe_machine():
    """Lines naming what the figures were measured on."""
    ref = (f"torch {torch.__version__} on {TORCH_DEVICE}"
           + (f" ({torch.cuda.get_device_name()})" if TORCH_DEVICE == "cuda"
              else f" ({torch.get_num_threads()} threads)"))
    eg.set_device("gpu")
    gpu = eg.get_device()
    eg.set_device("cpu")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [f"CPU: {cpu_model()}, {os.cpu_count()} cores (load average before: {load})",
            f"engine: {gpu} | {eg.get_device()}",
            f"reference: {ref}"]


def print_table(headers, rows):
    """Right-aligned columns; floats with 3 significant digits (1 decimal from 100)."""
    def fmt(v):
        if isinstance(v, float):
            return f"{v:.1f}" if abs(v) >= 100 else f"{v:.3g}"
        return str(v)
    cells = [[fmt(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = lambda vals: "  ".join(v.rjust(w) for v, w in zip(vals, widths))  # noqa: E731
    print(line(headers))
    print(line(["-" * w for w in widths]))
    for r in cells:
        print(line(r))


def measure_in(where, script, *args):
    """Run the timing script's `measure(*args)` "native" (exec'd in this process, on this
    machine's adapter) or in "browser" (the same Python in Pyodide in headless Chromium,
    on WebGPU); both return JSON text, here a dict. bench_kernels.py, bench_conv_variants.py
    and bench_step_kernels.py time the same code in both places this way."""
    import json
    if where == "native":
        scope = {}
        exec(script, scope)
        return json.loads(scope["measure"](*args))
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
    from browser_harness import chromium, run_in_pyodide, running_server
    with running_server() as url, chromium() as browser:
        page = browser.new_page()
        page.goto(url + "/datasets.json")   # a light page on the origin of /pyodide, /engine.zip
        return json.loads(run_in_pyodide(page, script, "measure", *args))
