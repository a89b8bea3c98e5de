// Gradient of batch normalisation with respect to x, one thread per element, with
// xhat = (x - mean) / std, std = sqrt(var + eps) and y = xhat * weight + bias.
// Eval: mean and std are constants (the running statistics):
//     dx = g * weight / std
// Training: they are the batch's, so every x moves them too; differentiating
// through mean and var gives
//     dx = weight / std * (g - (sum(g) + xhat * sum(g * xhat)) / count)
// where the sums run over the channel (batch_norm_stats.wgsl computes them).
//!include common/index.wgsl
override TRAINING: bool = true;
override HAS_WEIGHT: bool = true;
struct Params { numel: u32, c: u32, l: u32, eps: f32, count: f32 }
@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read> variance: array<f32>;
@group(0) @binding(4) var<storage, read> weight: array<f32>;
// per channel: sum(g) in sums[0..c), sum(g * xhat) in sums[c..2c)
@group(0) @binding(5) var<storage, read> sums: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);
    if (i >= p.numel) { return; }
    let ch = (i / p.l) % p.c;
    let inv_std = 1.0 / sqrt(variance[ch] + p.eps);
    var d = g[i];
    if (TRAINING) {
        let xhat = (x[i] - mean[ch]) * inv_std;
        d -= (sums[ch] + xhat * sums[p.c + ch]) / p.count;
    }
    if (HAS_WEIGHT) { d *= weight[ch]; }
    dx[i] = d * inv_std;
}
