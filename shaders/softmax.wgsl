// Softmax (or log-softmax, LOG) of each row of a (rows, cols) matrix.
// Two entry points: `main`, one thread per row (narrow rows, e.g. 10 classes), and
// `per_workgroup`, 256 threads per row (wide rows; see common/softmax_row.wgsl).
//!include common/index.wgsl
//!include common/softmax_row.wgsl
override LOG: bool = false;
struct Params { rows: u32, cols: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

// y for the row's values first, first + step, ...
fn write_row(base: u32, first: u32, step: u32, stats: RowStats) {
    let log_total = log(stats.sum_exp);
    for (var j = first; j < p.cols; j += step) {
        let shifted = x[base + j] - stats.max;
        if (LOG) { y[base + j] = shifted - log_total; }
        else { y[base + j] = exp(shifted) / stats.sum_exp; }
    }
}

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let row = global_index(wg, lid);
    if (row >= p.rows) { return; }
    write_row(row * p.cols, 0u, 1u, thread_row_stats(row * p.cols));
}

@compute @workgroup_size(256)
fn per_workgroup(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let row = workgroup_index(wg);          // the same for the whole workgroup
    if (row >= p.rows) { return; }
    write_row(row * p.cols, lid, 256u, workgroup_row_stats(row * p.cols, lid));
}
