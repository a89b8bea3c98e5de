// Softmax (or log-softmax, LOG) of each row of a (rows, cols) matrix; one thread
// per row. Subtracting the row maximum first keeps exp() from overflowing.
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
