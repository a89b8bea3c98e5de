// Softmax + negative log-likelihood in one pass per row:
//   lse  = max + log(sum(exp(x - max)))      (stable log-sum-exp)
//   loss = lse - x[target]
// With label smoothing s the target is (1 - s) onehot + s / cols, so
//   loss = lse - (1 - s) x[target] - s mean(x)
// lse is kept for the backward kernel. A target outside [0, cols) gives NaN.
// `main`: one thread per row; `per_workgroup`: 256 threads per row for wide rows
// (see softmax.wgsl).
// A quiet NaN. Kept in a variable: Chrome's compiler rejects a NaN constant expression.
var<private> NAN_BITS: u32 = 0x7fc00000u;

struct Params { rows: u32, cols: u32, smoothing: f32 }
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
@group(0) @binding(3) var<storage, read_write> lse: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

fn finish(row: u32, row_lse: f32, row_sum: f32) {
    lse[row] = row_lse;
    let t = targets[row];
    if (t < 0 || u32(t) >= p.cols) {
        loss[row] = bitcast<f32>(NAN_BITS);   // NaN: the label does not exist
    } else {
        let picked = logits[row * p.cols + u32(t)];
        loss[row] = row_lse - (1.0 - p.smoothing) * picked - p.smoothing * row_sum / f32(p.cols);
    }
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let row = (wid.y * nwg.x + wid.x) * 256u + lid;
    if (row >= p.rows) { return; }
    let base = row * p.cols;
    var m = logits[base];
    for (var j = 1u; j < p.cols; j++) { m = max(m, logits[base + j]); }
    var total = 0.0;
    var raw = 0.0;
    for (var j = 0u; j < p.cols; j++) {
        let x = logits[base + j];
        total += exp(x - m);
        raw += x;
    }
    finish(row, m + log(total), raw);
}

var<workgroup> scratch: array<f32, 256>;
var<workgroup> scratch_raw: array<f32, 256>;

@compute @workgroup_size(256)
fn per_workgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let row = wid.y * nwg.x + wid.x;        // the same for the whole workgroup
    if (row >= p.rows) { return; }
    let base = row * p.cols;
    var m = -0x1.fffffep+127f;
    for (var j = lid; j < p.cols; j += 256u) { m = max(m, logits[base + j]); }
    scratch[lid] = m;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if (lid < s) { scratch[lid] = max(scratch[lid], scratch[lid + s]); }
        workgroupBarrier();
    }
    m = scratch[0];
    workgroupBarrier();
    var total = 0.0;
    var raw = 0.0;
    for (var j = lid; j < p.cols; j += 256u) {
        let x = logits[base + j];
        total += exp(x - m);
        raw += x;
    }
    scratch[lid] = total;
    scratch_raw[lid] = raw;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if (lid < s) {
            scratch[lid] = scratch[lid] + scratch[lid + s];
            scratch_raw[lid] = scratch_raw[lid] + scratch_raw[lid + s];
        }
        workgroupBarrier();
    }
    if (lid == 0u) { finish(row, m + log(scratch[0]), scratch_raw[0]); }
}
