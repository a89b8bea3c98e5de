// Softmax + negative log-likelihood in one pass per row, x the logits:
//   lse  = max + log(sum(exp(x - max)))      (stable log-sum-exp)
//   loss = lse - x[target]
// With label smoothing s the target is (1 - s) onehot + s / cols, so
//   loss = lse - (1 - s) x[target] - s mean(x)
// lse is kept for the backward kernel. A target outside [0, cols) gives NaN.
// `main`: one thread per row; `per_workgroup`: 256 threads per row for wide rows
// (see common/softmax_row.wgsl); `summed`: the batch's loss in one number.
//
// GRAD: also write d loss / d logits = (softmax - wanted) * grad_scale, the gradient
// for a loss whose own gradient is 1 (what loss.backward() seeds), while the row's
// lse is at hand: a training step then needs no backward dispatch for the loss
// (engine/ops/loss.py). The same arithmetic as cross_entropy_backward.wgsl's.
//!include common/index.wgsl
//!include common/softmax_row.wgsl
override GRAD: bool = false;
struct Params { rows: u32, cols: u32, smoothing: f32, scale: f32, grad_scale: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
@group(0) @binding(3) var<storage, read_write> lse: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;   // a dummy without GRAD
@group(0) @binding(5) var<uniform> p: Params;

fn partial_sum(base: u32, first: u32, step: u32) -> f32 {
    var total = 0.0;
    for (var j = first; j < p.cols; j += step) { total += x[base + j]; }
    return total;
}

fn log_sum_exp(stats: RowStats) -> f32 {
    return stats.max + log(stats.sum_exp);
}

// a row's loss, from its log-sum-exp and the sum of its logits; keeps its lse
fn row_loss(row: u32, row_lse: f32, row_sum: f32) -> f32 {
    lse[row] = row_lse;
    let t = targets[row];
    if (t < 0 || u32(t) >= p.cols) {
        return nan();   // the label does not exist
    }
    let picked = x[row * p.cols + u32(t)];
    return row_lse - (1.0 - p.smoothing) * picked - p.smoothing * row_sum / f32(p.cols);
}

// with GRAD, the row's gradient at columns first, first + step, ...
fn row_grad(row: u32, row_lse: f32, first: u32, step: u32) {
    if (!GRAD) { return; }
    let t = targets[row];
    for (var j = first; j < p.cols; j += step) {
        let i = row * p.cols + j;
        let prob = exp(x[i] - row_lse);
        let onehot = select(0.0, 1.0, i32(j) == t);
        let wanted = (1.0 - p.smoothing) * onehot + p.smoothing / f32(p.cols);
        dx[i] = (prob - wanted) * p.grad_scale;
    }
}

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let row = global_index(wg, lid);
    if (row >= p.rows) { return; }
    let base = row * p.cols;
    let row_lse = log_sum_exp(thread_row_stats(base));
    loss[row] = row_loss(row, row_lse, partial_sum(base, 0u, 1u));
    row_grad(row, row_lse, 0u, 1u);
}

@compute @workgroup_size(256)
fn per_workgroup(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let row = workgroup_index(wg);          // the same for the whole workgroup
    if (row >= p.rows) { return; }
    let row_lse = log_sum_exp(workgroup_row_stats(row * p.cols, lid));   // every thread's
    let row_sum = workgroup_reduce(SUM, lid, partial_sum(row * p.cols, lid, 256u));
    if (lid == 0u) { loss[row] = row_loss(row, row_lse, row_sum); }
    row_grad(row, row_lse, lid, 256u);
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
        let row_lse = log_sum_exp(thread_row_stats(base));
        total += row_loss(row, row_lse, partial_sum(base, 0u, 1u));
        row_grad(row, row_lse, 0u, 1u);
    }
    total = workgroup_reduce(SUM, lid, total);
    if (lid == 0u) { loss[0] = total * p.scale; }
}
