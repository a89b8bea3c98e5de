// Reduce the middle axis of x viewed as (outer, size, inner): sum, max or min.
// Two entry points: `per_thread` (one thread per output, for short rows) and
// `per_workgroup` (256 threads share a chunk of a row, then a tree reduction in
// shared memory). A long row is cut into chunks of `chunk` elements, one
// workgroup each, writing (outer, nchunks, inner) partial results that the host
// reduces again: every thread loops a bounded number of times (Mesa's lavapipe
// silently stops a shader after 65,535 loop iterations in all), and a long row
// keeps many workgroups busy instead of one.
override OP: u32 = 0u;   // 0 sum, 1 max, 2 min
struct Params { outer: u32, size: u32, inner: u32, chunk: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

fn identity() -> f32 {
    switch OP {
        case 1u: { return -0x1.fffffep+127f; }  // lowest float32
        case 2u: { return 0x1.fffffep+127f; }   // largest float32
        default: { return 0.0; }
    }
}

fn combine(acc: f32, v: f32) -> f32 {
    switch OP {
        case 1u: { return max(acc, v); }
        case 2u: { return min(acc, v); }
        default: { return acc + v; }
    }
}

@compute @workgroup_size(256)
fn per_thread(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
    let o = (wid.y * nwg.x + wid.x) * 256u + lid;
    if (o >= p.outer * p.inner) { return; }
    let base = (o / p.inner) * p.size * p.inner + o % p.inner;
    var acc = identity();
    for (var r = 0u; r < p.size; r++) {
        acc = combine(acc, x[base + r * p.inner]);
    }
    out[o] = acc;
}

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn per_workgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let w = wid.y * nwg.x + wid.x;          // the same for the whole workgroup
    let nchunks = (p.size + p.chunk - 1u) / p.chunk;
    if (w >= p.outer * nchunks * p.inner) { return; }
    let rest = w / p.inner;                 // w = (o * nchunks + c) * inner + i
    let base = (rest / nchunks) * p.size * p.inner + w % p.inner;
    let start = (rest % nchunks) * p.chunk;
    let end = min(p.size, start + p.chunk);
    var acc = identity();
    for (var r = start + lid; r < end; r += 256u) {
        acc = combine(acc, x[base + r * p.inner]);
    }
    partial[lid] = acc;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if (lid < s) { partial[lid] = combine(partial[lid], partial[lid + s]); }
        workgroupBarrier();
    }
    if (lid == 0u) { out[w] = partial[0]; }
}
