// Softmax (or log-softmax, LOG) of each row of a (rows, cols) matrix.
// Subtracting the row maximum first keeps exp() from overflowing.
// Two entry points: `main`, one thread per row (narrow rows, e.g. 10 classes), and
// `per_workgroup`, 256 threads per row sharing the max and the sum through
// workgroup memory (wide rows: bounded loops per thread, and Mesa's lavapipe
// silently stops a shader after 65,535 loop iterations in all).
override LOG: bool = false;
struct Params { rows: u32, cols: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let row = (wid.y * nwg.x + wid.x) * 256u + lid;
    if (row >= p.rows) { return; }
    let base = row * p.cols;
    var m = x[base];
    for (var j = 1u; j < p.cols; j++) { m = max(m, x[base + j]); }
    var total = 0.0;
    for (var j = 0u; j < p.cols; j++) { total += exp(x[base + j] - m); }
    let log_total = log(total);
    for (var j = 0u; j < p.cols; j++) {
        let shifted = x[base + j] - m;
        if (LOG) { y[base + j] = shifted - log_total; } else { y[base + j] = exp(shifted) / total; }
    }
}

var<workgroup> scratch: array<f32, 256>;

// Tree reduction of one value per thread; every thread gets the result.
fn workgroup_max(lid: u32, v: f32) -> f32 {
    scratch[lid] = v;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if (lid < s) { scratch[lid] = max(scratch[lid], scratch[lid + s]); }
        workgroupBarrier();
    }
    let r = scratch[0];
    workgroupBarrier();
    return r;
}

fn workgroup_sum(lid: u32, v: f32) -> f32 {
    scratch[lid] = v;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if (lid < s) { scratch[lid] = scratch[lid] + scratch[lid + s]; }
        workgroupBarrier();
    }
    let r = scratch[0];
    workgroupBarrier();
    return r;
}

@compute @workgroup_size(256)
fn per_workgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let row = wid.y * nwg.x + wid.x;        // the same for the whole workgroup
    if (row >= p.rows) { return; }
    let base = row * p.cols;
    var m = -0x1.fffffep+127f;
    for (var j = lid; j < p.cols; j += 256u) { m = max(m, x[base + j]); }
    m = workgroup_max(lid, m);
    var total = 0.0;
    for (var j = lid; j < p.cols; j += 256u) { total += exp(x[base + j] - m); }
    total = workgroup_sum(lid, total);
    let log_total = log(total);
    for (var j = lid; j < p.cols; j += 256u) {
        let shifted = x[base + j] - m;
        if (LOG) { y[base + j] = shifted - log_total; } else { y[base + j] = exp(shifted) / total; }
    }
}
