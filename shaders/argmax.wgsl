// Index of the largest value along the middle axis of (outer, size, inner); ties
// go to the first index, like PyTorch. Same two entry points as reduce.wgsl,
// including its chunks: `per_workgroup` writes, for each chunk of a row, the
// index (within the row) of that chunk's first maximum; argmax_pick.wgsl then
// chooses among the chunks.
struct Params { outer: u32, size: u32, inner: u32, chunk: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<i32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn per_thread(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
    let o = (wid.y * nwg.x + wid.x) * 256u + lid;
    if (o >= p.outer * p.inner) { return; }
    let base = (o / p.inner) * p.size * p.inner + o % p.inner;
    var best = x[base];
    var best_i = 0u;
    for (var r = 1u; r < p.size; r++) {
        let v = x[base + r * p.inner];
        if (v > best) { best = v; best_i = r; }
    }
    out[o] = i32(best_i);
}

var<workgroup> best_value: array<f32, 256>;
var<workgroup> best_index: array<u32, 256>;

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
    var best = -0x1.fffffep+127f;
    var best_i = 0xffffffffu;
    for (var r = start + lid; r < end; r += 256u) {
        let v = x[base + r * p.inner];
        if (v > best) { best = v; best_i = r; }
    }
    best_value[lid] = best;
    best_index[lid] = best_i;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
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
