// Gradient through softmax / log-softmax, from the output y:
//   softmax:      dx = y * (g - sum(g * y))
//   log-softmax:  dx = g - exp(y) * sum(g)
// `main`: one thread per row; `per_workgroup`: 256 threads per row for wide rows
// (see softmax.wgsl).
//!include common/index.wgsl
//!include common/reduce.wgsl
override LOG: bool = false;
struct Params { rows: u32, cols: u32 }
@group(0) @binding(0) var<storage, read> y: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

// the row's sum(g * y) (softmax) or sum(g) (log-softmax), over values first, first + step, ...
fn partial_dot(base: u32, first: u32, step: u32) -> f32 {
    var dot = 0.0;
    for (var j = first; j < p.cols; j += step) {
        if (LOG) { dot += g[base + j]; } else { dot += g[base + j] * y[base + j]; }
    }
    return dot;
}

fn write_row(base: u32, first: u32, step: u32, dot: f32) {
    for (var j = first; j < p.cols; j += step) {
        let k = base + j;
        if (LOG) { dx[k] = g[k] - exp(y[k]) * dot; } else { dx[k] = y[k] * (g[k] - dot); }
    }
}

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let row = global_index(wg, lid);
    if (row >= p.rows) { return; }
    write_row(row * p.cols, 0u, 1u, partial_dot(row * p.cols, 0u, 1u));
}

@compute @workgroup_size(256)
fn per_workgroup(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let row = workgroup_index(wg);          // the same for the whole workgroup
    if (row >= p.rows) { return; }
    let dot = workgroup_reduce(SUM, lid, partial_dot(row * p.cols, lid, 256u));
    write_row(row * p.cols, lid, 256u, dot);
}
