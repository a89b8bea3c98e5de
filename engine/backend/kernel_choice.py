"""Which variant of a kernel family runs on this adapter, and why: the one place that decides.

The same WGSL runs on very different machines. A discrete GPU runs thousands of
invocations at once and wants tiles staged in workgroup memory; a CPU-backed
adapter (Chrome's SwiftShader when the browser has no GPU, Mesa's lavapipe
natively) runs a workgroup as a loop over its invocations on one core, where a
workgroup barrier is a costly switch and every float an invocation loads is a
separate read. So each family has variants, and this module picks one per
adapter kind and shape:

    kind          adapters                          matmul          reduce (rows)
    "gpu"         every hardware adapter            tiled64         workgroup tree
    "swiftshader" SwiftShader (Chrome without GPU)  scalar 8x8      one invocation per row
    "cpu"         lavapipe / llvmpipe, other CPUs   blocked 16x16   one invocation per row

    kind          conv2d (implicit GEMM)
    "gpu"         tiled: conv2d.wgsl, tiles in workgroup memory
    "swiftshader" blocked: conv2d_blocked.wgsl, channels x 8 pixels per invocation
    "cpu"         blocked: conv2d_blocked.wgsl, channels x 8 pixels per invocation

(the measurements behind each cell: BENCHMARKS.md, "Kernel variants per adapter").
The choice depends only on the adapter and the shapes, never on timing, so it is the
same for every identical step (a recorded step replays the same dispatches) and the
same on every run. `describe()` says what was chosen and why; `forced(...)` overrides
a choice, for the tests (tests/test_kernel_variants.py runs every variant on
every adapter) and the benchmarks (bench/bench_kernels*.py).

Why not a timed trial at start-up: on the shared 2-core machines where these
figures come from one neighbour's process swings a timing by 2-10x, so a trial
would often pick at random; a rule per kind is repeatable and explainable. On an
Intel Xeon VM lavapipe seemed to run the 16x16 block 0.7x as fast as the 4x8 block
and tiled64, but that came from the bench's inputs, many of whose products were
denormal floats (slow on that CPU); on normal floats the 16x16 block was the
fastest there too, as on the AMD EPYC VM, and a timed trial built to check chose
it as well (BENCHMARKS.md section 8).
"""
import contextlib
import os
import sys
from collections import namedtuple

# ---- adapter kinds ---------------------------------------------------------------------------

KIND_REASONS = {
    "gpu": "a hardware adapter: thousands of invocations at once, workgroup memory on chip",
    "swiftshader": "SwiftShader, a CPU-backed adapter (Chrome without a GPU): 4 invocations per "
                   "SIMD group, and every float loaded from a buffer is a separate read",
    "cpu": "a CPU-backed adapter (lavapipe / llvmpipe): 8 invocations per AVX2 SIMD group, "
           "workgroup barriers switch between invocations",
}


def adapter_kind(backend):
    """'gpu', 'swiftshader' or 'cpu', from what the backend says about its adapter."""
    if not getattr(backend, "is_software", False):
        return "gpu"
    if "swiftshader" in getattr(backend, "adapter_name", "").lower():
        return "swiftshader"
    return "cpu"


def cores():
    """CPU cores: the threads a CPU-backed adapter spreads workgroups over."""
    if sys.platform == "emscripten":   # in the browser (Pyodide): ask the page's navigator
        import js
        return max(1, int(js.navigator.hardwareConcurrency or 1))
    return os.cpu_count() or 1


# ---- forcing a choice (tests, benchmarks) ------------------------------------------------------

FORCE = {}   # family -> variant name (and "matmul_slices" -> a number of K-slices)


@contextlib.contextmanager
def forced(**choices):
    """with forced(matmul="blocked_4x8", matmul_slices=3): ... runs those variants."""
    saved = dict(FORCE)
    FORCE.update(choices)
    try:
        yield
    finally:
        FORCE.clear()
        FORCE.update(saved)


# ---- matmul ------------------------------------------------------------------------------------

# name -> (kernel file, entry point, tile rows, tile columns, K step): every variant
MATMUL_VARIANTS = {
    "tiled64": ("matmul", "main", 64, 64, 16),
    "blocked_4x8": ("matmul_blocked", "block_4x8", 32, 64, 4),
    "blocked_8x16": ("matmul_blocked", "block_8x16", 32, 64, 4),
    "blocked_16x16": ("matmul_blocked", "block_16x16", 32, 64, 4),
    "scalar_8x8": ("matmul_scalar", "block_8x8", 32, 32, 1),
}
MATMUL_BY_KIND = {
    "gpu": ("tiled64", "64x64 tiles staged in workgroup memory, 4x4 outputs per invocation "
                       "(15.8 TFLOP/s at 4096^2 on an H100, DESIGN.md)"),
    "swiftshader": ("scalar_8x8", "no workgroup memory; 8x8 outputs per invocation read one "
                                  "float at a time, four k per loop trip (the MLP's products "
                                  "1.8x the 16x32 block it replaces, 5x tiled64)"),
    "cpu": ("blocked_16x16", "no workgroup memory; 16x16 outputs per invocation (the MLP's whole "
                             "training step 1.9-2.1x faster than tiled64 on lavapipe; 4x8 and "
                             "8x16 measured no faster, 16x32 half as fast)"),
}
MATMUL_K_SLICE = 32768     # longest K one invocation walks (lavapipe's loop limit)
SPLIT_MIN_K = 256          # a K-slice shorter than this is not worth another dispatch's sum

MatmulPlan = namedtuple("MatmulPlan", "variant kernel entry groups slices k_chunk")


def split_k(workgroups, K, target, step):
    """-> (slices, k_chunk): cut K into slices, each a layer of workgroups, until there are
    `target` workgroups, keeping each slice at least SPLIT_MIN_K long and at most
    MATMUL_K_SLICE; k_chunk a multiple of `step`."""
    slices = 1
    if workgroups < target:
        slices = max(1, min(-(-target // workgroups), K // SPLIT_MIN_K))
    return cut_k(K, max(slices, -(-K // MATMUL_K_SLICE)), step)


def cut_k(K, slices, step):
    """-> (slices, k_chunk): K in about `slices` equal slices, k_chunk a multiple of
    `step` (rounding up can leave fewer slices than asked)."""
    k_chunk = -(-max(K, 1) // max(1, min(slices, max(K, 1))))
    k_chunk = -(-k_chunk // step) * step
    return max(1, -(-K // k_chunk)), k_chunk


def matmul_plan(backend, batch, M, N, K):
    """The variant, workgroups and K-slices of C (batch x M x N) = A (M x K) @ B (K x N)."""
    kind = adapter_kind(backend)
    variant = FORCE.get("matmul") or MATMUL_BY_KIND[kind][0]
    kernel, entry, tile_m, tile_n, step = MATMUL_VARIANTS[variant]
    tiles = -(-M // tile_m) * -(-N // tile_n)
    # enough workgroups for every core: a CPU's cores, or a GPU's many compute units
    target = 2 * cores() if kind != "gpu" else 64
    if "matmul_slices" in FORCE:
        slices, k_chunk = cut_k(K, FORCE["matmul_slices"], step)
    else:
        slices, k_chunk = split_k(tiles * batch, K, target, step)
    return MatmulPlan(variant, kernel, entry, (-(-N // tile_n), -(-M // tile_m), batch * slices),
                      slices, k_chunk)


# ---- conv2d -------------------------------------------------------------------------------------

# name -> kernel file: conv2d.wgsl stages tiles in workgroup memory; conv2d_blocked.wgsl
# keeps a block of rows x 8 columns per invocation in registers (its entry point, rows4,
# rows8 or rows16, follows the product's row count M: a channel count, often 8 or 16)
CONV_VARIANTS = {"tiled": "conv2d", "blocked": "conv2d_blocked"}
CONV_BY_KIND = {
    "gpu": ("tiled", "an implicit GEMM with tiles staged in workgroup memory, their height "
                     "following the channel count"),
    "swiftshader": ("blocked", "no workgroup memory or barriers; each invocation keeps "
                               "channels x 8 pixels in registers, split-K for grad weight, "
                               "grad input as a forward pass on the flipped weight (the "
                               "ConvNetJS net's conv products 3.6x faster than tiled)"),
    "cpu": ("blocked", "no workgroup memory or barriers; each invocation keeps channels x 8 "
                       "pixels in registers, split-K for grad weight, grad input as a forward pass "
                       "on the flipped weight (the ConvNetJS net's conv products 1.5x faster "
                       "than tiled on lavapipe)"),
}
CONV_K_SLICE = 16384         # longest sum one invocation (blocked) or workgroup (tiled) walks
CONV_WEIGHT_CHUNK = 1024     # tiled grad weight: this many of its N*OH*OW products per workgroup
CONV_MIN_K = 128             # blocked: a K-slice shorter than this is not worth its share of the sum
BLOCKED_WG = 64              # conv2d_blocked.wgsl's invocations per workgroup

ConvPlan = namedtuple("ConvPlan", "variant kernel entry groups slices k_chunk rows blocks")


def conv_plan(backend, mode, M, cols, K):
    """The variant, entry point, workgroups and K-slices of one conv2d product
    C (M x cols) = A (M x K) @ B: mode 0 forward, 1 grad input, 2 grad weight.
    `rows`: the rows of C one invocation (blocked) or workgroup (tiled) computes;
    `blocks`: (column blocks, row blocks) of one slice."""
    from .runtime import grid
    kind = adapter_kind(backend)
    variant = FORCE.get("conv") or CONV_BY_KIND[kind][0]
    if variant not in CONV_VARIANTS:
        raise ValueError(f"conv2d variant {variant!r}: expected one of {sorted(CONV_VARIANTS)}")
    if variant == "tiled":
        rows = min(64, max(8, 1 << (M - 1).bit_length()))   # the tile's height: 8 .. 64
        blocks = (-(-cols // 64), -(-M // rows))
        if "conv_slices" in FORCE:
            slices, k_chunk = cut_k(K, FORCE["conv_slices"], 1)
        else:
            k_chunk = CONV_K_SLICE if mode < 2 else CONV_WEIGHT_CHUNK
            slices = max(1, -(-K // k_chunk))
        groups = grid(blocks[0] * blocks[1])[:2] + (slices,)
        return ConvPlan(variant, "conv2d", "main", groups, slices, k_chunk, rows, blocks)
    rows = 4 if M <= 4 else 8 if M <= 8 else 16
    blocks = (-(-cols // 8), -(-M // rows))
    col_groups = -(-blocks[0] // BLOCKED_WG)
    if "conv_slices" in FORCE:
        slices, k_chunk = cut_k(K, FORCE["conv_slices"], 1)
    else:   # 4 workgroups per core, each slice >= CONV_MIN_K long
        target = 4 * cores()
        slices = max(1, min(-(-target // (col_groups * blocks[1])), K // CONV_MIN_K))
        slices, k_chunk = cut_k(K, max(slices, -(-K // CONV_K_SLICE)), 1)
    groups = grid(col_groups)[:2] + (slices * blocks[1],)
    return ConvPlan(variant, "conv2d_blocked", f"rows{rows}", groups, slices, k_chunk, rows,
                    blocks)


# ---- reductions --------------------------------------------------------------------------------

REDUCE_BY_KIND = {
    "gpu": (64, "rows longer than 64: a workgroup of 256 per chunk of a row, then a tree in "
                "workgroup memory"),
    "swiftshader": (16384, "rows up to 16,384: one invocation per row (no barriers); longer rows "
                           "in chunks of 16,384"),
    "cpu": (16384, "rows up to 16,384: one invocation per row (no barriers); longer rows in "
                   "chunks of 16,384"),
}


def reduce_row_limit(backend):
    """The longest row that one invocation reduces alone (kernels/reduce.py's per_thread)."""
    if "reduce" in FORCE:
        return {"per_thread": 16384, "per_workgroup": 64}[FORCE["reduce"]]
    return REDUCE_BY_KIND[adapter_kind(backend)][0]


# ---- what was chosen ---------------------------------------------------------------------------

def choices(backend=None):
    """{family: (variant, why)} for this adapter."""
    if backend is None:
        from . import current_backend
        backend = current_backend()
    kind = adapter_kind(backend)
    matmul, why = MATMUL_BY_KIND[kind]
    limit, reduce_why = REDUCE_BY_KIND[kind]
    return {
        "adapter": (kind, KIND_REASONS[kind]),
        "matmul": (matmul, why + "; split-K when M x N makes fewer than "
                   + ("2 workgroups per core" if kind != "gpu" else "64 workgroups")),
        "reduce": ("per_thread" if limit > 64 else "per_workgroup", reduce_why),
        "conv2d": CONV_BY_KIND[kind],
    }


def describe(backend=None):
    """A few lines naming each family's variant on this adapter, and why."""
    if backend is None:
        from . import current_backend
        backend = current_backend()
    if not hasattr(backend, "_run"):
        return f"{backend.describe()}: no GPU kernels (numpy)"
    lines = [f"{backend.describe()}"]
    for family, (variant, why) in choices(backend).items():
        lines.append(f"  {family:8} {variant}: {why}")
    return "\n".join(lines)
