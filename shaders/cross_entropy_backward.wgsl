// d loss / d logits = (softmax(logits) - wanted) * grad_out * scale, one thread
// per element, where wanted = (1 - smoothing) onehot + smoothing / cols.
// scale is 1/rows for the mean over the batch.
//!include common/index.wgsl
struct Params { rows: u32, cols: u32, scale: f32, smoothing: f32 }
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read> lse: array<f32>;
@group(0) @binding(3) var<storage, read> grad_out: array<f32>;   // one value
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);
    if (i >= p.rows * p.cols) { return; }
    let row = i / p.cols;
    let col = i % p.cols;
    let prob = exp(logits[i] - lse[row]);
    let onehot = select(0.0, 1.0, i32(col) == targets[row]);
    let wanted = (1.0 - p.smoothing) * onehot + p.smoothing / f32(p.cols);
    dx[i] = (prob - wanted) * grad_out[0] * p.scale;
}
