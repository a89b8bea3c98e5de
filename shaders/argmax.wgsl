// Index of the largest value along the middle axis of (outer, size, inner); ties
// go to the first index, like PyTorch. Same two entry points as reduce.wgsl,
// including its chunks: `per_workgroup` writes, for each chunk of a row, the
// index (within the row) of that chunk's first maximum; argmax_pick.wgsl then
// chooses among the chunks.
//!include common/index.wgsl
//!include common/float.wgsl
struct Params { outer: u32, size: u32, inner: u32, chunk: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<i32>;
@group(0) @binding(2) var<uniform> p: Params;

// The first largest (value, index) among `start` and x[base + r * inner] for
// r = first, first + step, ... < end.
struct Best { value: f32, index: u32 }

fn scan(start: Best, base: u32, first: u32, end: u32, step: u32) -> Best {
    var best = start;
    for (var r = first; r < end; r += step) {
        let v = x[base + r * p.inner];
        if (v > best.value) { best = Best(v, r); }
    }
    return best;
}

@compute @workgroup_size(256)
fn per_thread(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let o = global_index(wg, lid);
    if (o >= p.outer * p.inner) { return; }
    let base = (o / p.inner) * p.size * p.inner + o % p.inner;
    out[o] = i32(scan(Best(x[base], 0u), base, 1u, p.size, 1u).index);
}

var<workgroup> best_value: array<f32, 256>;
var<workgroup> best_index: array<u32, 256>;

@compute @workgroup_size(256)
fn per_workgroup(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let w = workgroup_index(wg);            // as in reduce.wgsl's per_workgroup
    let nchunks = (p.size + p.chunk - 1u) / p.chunk;
    if (w >= p.outer * nchunks * p.inner) { return; }
    let rest = w / p.inner;
    let base = (rest / nchunks) * p.size * p.inner + w % p.inner;
    let start = (rest % nchunks) * p.chunk;
    // no index (0xffffffff) where nothing beats -FLT_MAX: then the chunk's first
    let none = Best(-FLT_MAX, 0xffffffffu);
    let mine = scan(none, base, start + lid, min(p.size, start + p.chunk), 256u);
    best_value[lid] = mine.value;
    best_index[lid] = mine.index;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {   // tree: the larger value, the lower index on ties
        if (lid < s) {
            let v = best_value[lid + s];
            let j = best_index[lid + s];
            if (v > best_value[lid] || (v == best_value[lid] && j < best_index[lid])) {
                best_value[lid] = v;
                best_index[lid] = j;
            }
        }
        workgroupBarrier();
    }
    if (lid == 0u) { out[w] = i32(select(best_index[0], start, best_index[0] == 0xffffffffu)); }
}
