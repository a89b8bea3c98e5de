// Softmax + negative log-likelihood in one pass per row, x the logits:
//   lse  = max + log(sum(exp(x - max)))      (stable log-sum-exp)
//   loss = lse - x[target]
// With label smoothing s the target is (1 - s) onehot + s / cols, so
//   loss = lse - (1 - s) x[target] - s mean(x)
// lse is kept for the backward kernel. A target outside [0, cols) gives NaN.
// `main`: one thread per row; `per_workgroup`: 256 threads per row for wide rows
// (see common/softmax_row.wgsl); `summed`: the batch's loss in one number.
//!include common/index.wgsl
//!include common/softmax_row.wgsl
struct Params { rows: u32, cols: u32, smoothing: f32, scale: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
@group(0) @binding(3) var<storage, read_write> lse: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

fn partial_sum(base: u32, first: u32, step: u32) -> f32 {
    var total = 0.0;
    for (var j = first; j < p.cols; j += step) { total += x[base + j]; }
    return total;
}

// a row's loss, from its softmax statistics and the sum of its logits; keeps its lse
fn row_loss(row: u32, stats: RowStats, row_sum: f32) -> f32 {
    let row_lse = stats.max + log(stats.sum_exp);
    lse[row] = row_lse;
    let t = targets[row];
    if (t < 0 || u32(t) >= p.cols) {
        return nan();   // the label does not exist
    }
    let picked = x[row * p.cols + u32(t)];
    return row_lse - (1.0 - p.smoothing) * picked - p.smoothing * row_sum / f32(p.cols);
}

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let row = global_index(wg, lid);
    if (row >= p.rows) { return; }
    loss[row] = row_loss(row, thread_row_stats(row * p.cols), partial_sum(row * p.cols, 0u, 1u));
}

@compute @workgroup_size(256)
fn per_workgroup(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let row = workgroup_index(wg);          // the same for the whole workgroup
    if (row >= p.rows) { return; }
    let stats = workgroup_row_stats(row * p.cols, lid);
    let row_sum = workgroup_reduce(SUM, lid, partial_sum(row * p.cols, lid, 256u));
    if (lid == 0u) { loss[row] = row_loss(row, stats, row_sum); }
}

// loss[0] = scale * (the sum of every row's loss), scale 1/rows for the mean: one
// workgroup, each thread taking every 256th row whole, then a tree sum. One dispatch
// where the per-row losses, their sum and the scaling would take three; the host
// picks it for small batches only (engine/backend/kernels/loss.py), since one
// workgroup is all the GPU gets.
@compute @workgroup_size(256)
fn summed(@builtin(local_invocation_index) lid: u32) {
    var total = 0.0;
    for (var row = lid; row < p.rows; row += 256u) {
        let base = row * p.cols;
        total += row_loss(row, thread_row_stats(base), partial_sum(base, 0u, 1u));
    }
    total = workgroup_reduce(SUM, lid, total);
    if (lid == 0u) { loss[0] = total * p.scale; }
}
