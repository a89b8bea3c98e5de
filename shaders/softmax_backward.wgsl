// Gradient through softmax / log-softmax, one thread per row, from the output y:
//   softmax:      dx = y * (g - sum(g * y))
//   log-softmax:  dx = g - exp(y) * sum(g)
override LOG: bool = false;
struct Params { rows: u32, cols: u32 }
@group(0) @binding(0) var<storage, read> y: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let row = (wid.y * nwg.x + wid.x) * 256u + lid;
    if (row >= p.rows) { return; }
    let base = row * p.cols;
    var dot = 0.0;
    for (var j = 0u; j < p.cols; j++) {
        if (LOG) { dot += g[base + j]; } else { dot += g[base + j] * y[base + j]; }
    }
    for (var j = 0u; j < p.cols; j++) {
        let k = base + j;
        if (LOG) { dx[k] = g[k] - exp(y[k]) * dot; } else { dx[k] = y[k] * (g[k] - dot); }
    }
}
