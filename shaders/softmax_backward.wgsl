// Gradient through softmax / log-softmax, from the output y:
//   softmax:      dx = y * (g - sum(g * y))
//   log-softmax:  dx = g - exp(y) * sum(g)
// `main`: one thread per row; `per_workgroup`: 256 threads per row for wide rows
// (see softmax.wgsl).
override LOG: bool = false;
struct Params { rows: u32, cols: u32 }
@group(0) @binding(0) var<storage, read> y: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

fn term(k: u32) -> f32 {
    if (LOG) { return g[k]; }
    return g[k] * y[k];
}

fn grad(k: u32, dot: f32) -> f32 {
    if (LOG) { return g[k] - exp(y[k]) * dot; }
    return y[k] * (g[k] - dot);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let row = (wid.y * nwg.x + wid.x) * 256u + lid;
    if (row >= p.rows) { return; }
    let base = row * p.cols;
    var dot = 0.0;
    for (var j = 0u; j < p.cols; j++) { dot += term(base + j); }
    for (var j = 0u; j < p.cols; j++) { dx[base + j] = grad(base + j, dot); }
}

var<workgroup> scratch: array<f32, 256>;

@compute @workgroup_size(256)
fn per_workgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let row = wid.y * nwg.x + wid.x;        // the same for the whole workgroup
    if (row >= p.rows) { return; }
    let base = row * p.cols;
    var dot = 0.0;
    for (var j = lid; j < p.cols; j += 256u) { dot += term(base + j); }
    scratch[lid] = dot;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if (lid < s) { scratch[lid] = scratch[lid] + scratch[lid + s]; }
        workgroupBarrier();
    }
    dot = scratch[0];
    for (var j = lid; j < p.cols; j += 256u) { dx[base + j] = grad(base + j, dot); }
}
