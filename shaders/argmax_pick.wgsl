// Second pass of a chunked argmax (see argmax.wgsl): for each output, `cand`
// holds the winning index of each of the row's nchunks chunks; pick the one
// whose value is largest, the earliest chunk on ties (so the first maximum of
// the row wins, like PyTorch). One thread per output.
//!include common/index.wgsl
struct Params { outer: u32, size: u32, inner: u32, nchunks: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> cand: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<i32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let o = global_index(wg, lid);
    if (o >= p.outer * p.inner) { return; }
    let i = o % p.inner;
    let base = (o / p.inner) * p.size * p.inner + i;
    let first = (o / p.inner) * p.nchunks * p.inner + i;   // cand is (outer, nchunks, inner)
    var best_i = cand[first];
    var best = x[base + u32(best_i) * p.inner];
    for (var c = 1u; c < p.nchunks; c++) {
        let j = cand[first + c * p.inner];
        let v = x[base + u32(j) * p.inner];
        if (v > best) { best = v; best_i = j; }
    }
    out[o] = best_i;
}
