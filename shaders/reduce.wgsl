// Reduce the middle axis of x viewed as (outer, size, inner): sum, max or min.
// Two entry points: `per_thread` (one thread per output, for short rows) and
// `per_workgroup` (256 threads share a chunk of a row, then a tree reduction in
// shared memory). A long row is cut into chunks of `chunk` elements, one
// workgroup each, writing (outer, nchunks, inner) partial results that the host
// reduces again: every thread loops a bounded number of times (Mesa's lavapipe
// silently stops a shader after 65,535 loop iterations in all), and a long row
// keeps many workgroups busy instead of one.
//!include common/index.wgsl
//!include common/float.wgsl
//!include common/reduce.wgsl
override OP: u32 = 0u;   // SUM, MAX or MIN (common/reduce.wgsl)
struct Params { outer: u32, size: u32, inner: u32, chunk: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

fn identity() -> f32 {
    switch OP {
        case MAX: { return -FLT_MAX; }
        case MIN: { return FLT_MAX; }
        default: { return 0.0; }
    }
}

// Output o = (outer index, inner index) reduces x[row_start(o) + r * inner], r < size.
fn row_start(o: u32) -> u32 {
    return (o / p.inner) * p.size * p.inner + o % p.inner;
}

@compute @workgroup_size(256)
fn per_thread(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let o = global_index(wg, lid);
    if (o >= p.outer * p.inner) { return; }
    let base = row_start(o);
    var acc = identity();
    for (var r = 0u; r < p.size; r++) {
        acc = combine(OP, acc, x[base + r * p.inner]);
    }
    out[o] = acc;
}

@compute @workgroup_size(256)
fn per_workgroup(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    // this workgroup's chunk: w = (o * nchunks + c) * inner + i, the same for all threads
    let w = workgroup_index(wg);
    let nchunks = (p.size + p.chunk - 1u) / p.chunk;
    if (w >= p.outer * nchunks * p.inner) { return; }
    let rest = w / p.inner;
    let base = row_start((rest / nchunks) * p.inner + w % p.inner);
    let start = (rest % nchunks) * p.chunk;
    var acc = identity();
    for (var r = start + lid; r < min(p.size, start + p.chunk); r += 256u) {
        acc = combine(OP, acc, x[base + r * p.inner]);
    }
    acc = workgroup_reduce(OP, lid, acc);
    if (lid == 0u) { out[w] = acc; }
}
