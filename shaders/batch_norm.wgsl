// Batch normalisation, x viewed as (n, c, l), one thread per element:
//     y = (x - mean[ch]) / sqrt(var[ch] + eps) * weight[ch] + bias[ch]
// mean and var are the batch's statistics (training) or the running ones (eval).
//!include common/index.wgsl
override HAS_WEIGHT: bool = true;
override HAS_BIAS: bool = true;
struct Params { numel: u32, c: u32, l: u32, eps: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> mean: array<f32>;
@group(0) @binding(2) var<storage, read> variance: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);
    if (i >= p.numel) { return; }
    let ch = (i / p.l) % p.c;
    var v = (x[i] - mean[ch]) / sqrt(variance[ch] + p.eps);
    if (HAS_WEIGHT) { v *= weight[ch]; }
    if (HAS_BIAS) { v += bias[ch]; }
    y[i] = v;
}
