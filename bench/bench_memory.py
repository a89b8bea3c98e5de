"""Device memory per training step: the course MLP and ConvNetJS's net on the wgpu backend.

    PYTHONPATH=. .venv/bin/python bench/bench_memory.py [--models mlp convnetjs] [--batch 64]

Every device buffer is counted at its pool capacity (engine/backend/runtime.py's size
classes), from the moment the allocator hands it out:

  live     bytes of buffers some array still holds: parameters, optimizer state,
           activations the graph saved for backward, gradients, temporaries
  pooled   bytes of free buffers the caching allocator keeps for reuse
  held     live + pooled: what the device holds for the engine (the pool gives
           nothing back below its limit, so this is the high-water mark of live
           plus what fragmentation of the size classes costs)

A step is zero_grad, forward, cross-entropy, backward and an SGD (momentum,
Nesterov, as the models' recipes) update. The figures are the peaks during one
steady-state step (after 3 warm-up steps), each model in its own process so that
one model's pool does not serve the other. Synthetic batches are uploaded once.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")

WARMUP = 3


class MemoryMeter:
    """Wraps a GPU backend's allocator to follow live and pooled bytes; only the
    buffers allocated since the meter was installed count."""

    def __init__(self, backend):
        self.backend, self.live, self.serials = backend, 0, set()
        alloc, release = backend._alloc, backend._release

        def counting_alloc(numel, dtype):
            arr = alloc(numel, dtype)
            self.serials.add(arr.serial)
            self.live += arr.capacity
            self.peak_live = max(self.peak_live, self.live)
            self.peak_held = max(self.peak_held, self.held())
            return arr

        def counting_release(arr):
            if arr.serial in self.serials:
                self.serials.discard(arr.serial)
                self.live -= arr.capacity
            release(arr)

        # GPUArray.__del__ calls backend._release: the instance attribute wins
        backend._alloc, backend._release = counting_alloc, counting_release
        self.reset()

    def held(self):
        return self.live + self.backend._pooled_bytes

    def reset(self):
        self.peak_live, self.peak_held = self.live, self.held()


def measure(model_name, batch):
    import numpy as np
    import engine as eg
    import engine.nn.functional as F
    from engine import optim
    from engine.models import build

    eg.set_device("gpu")
    backend = eg.tensor([0.0]).backend
    meter = MemoryMeter(backend)
    eg.manual_seed(0)
    model = build(model_name)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    rng = np.random.default_rng(0)
    xs = [eg.tensor(rng.standard_normal((batch, 1, 28, 28), dtype=np.float32)) for _ in range(2)]
    ys = [eg.tensor(rng.integers(0, 10, batch, dtype=np.int32)) for _ in range(2)]
    params = sum(p.numel() for p in model.parameters())

    def step(i):
        opt.zero_grad()
        loss = F.cross_entropy(model(xs[i % 2]), ys[i % 2], label_smoothing=0.1)
        loss.backward()
        opt.step()
        return loss

    for i in range(WARMUP):
        step(i).item()
    created = backend.stats["buffers_created"]
    meter.reset()
    before = meter.live            # parameters, momentum buffers, gradients, the batches
    step(WARMUP).item()
    return {"model": model_name, "batch": batch, "params": params, "device": eg.get_device(),
            "between_steps": before, "peak_live": meter.peak_live, "peak_held": meter.peak_held,
            "buffers_created": backend.stats["buffers_created"] - created}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["mlp", "convnetjs"])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--one", help=argparse.SUPPRESS)   # the child process: one model, JSON out
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.batch)))
        return
    rows = []
    for name in args.models:
        out = subprocess.run([sys.executable, __file__, "--one", name, "--batch", str(args.batch)],
                             check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    print(f"engine: {rows[0]['device']}")
    print(f"Device memory of one training step (SGD momentum), batch {args.batch}, MiB "
          "(1 MiB = 2^20 bytes)")
    header = ["model", "params", "between steps", "peak live", "peak held", "new buffers"]
    cells = [[r["model"], str(r["params"]), *(f"{r[k] / 2**20:.2f}" for k in
              ("between_steps", "peak_live", "peak_held")), str(r["buffers_created"])]
             for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    for line in [header, ["-" * w for w in widths]] + cells:
        print("  ".join(v.rjust(w) for v, w in zip(line, widths)))


if __name__ == "__main__":
    main()
