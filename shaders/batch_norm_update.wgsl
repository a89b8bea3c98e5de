// The running statistics, updated in place after a training step, one thread per channel:
//     running = (1 - momentum) * running + momentum * batch statistic
// The batch variance arrives biased (divided by count, what normalises the batch);
// the running variance estimates the population's, so it takes the unbiased one,
// times count / (count - 1), as PyTorch does.
//!include common/index.wgsl
struct Params { c: u32, momentum: f32, unbias: f32 }
@group(0) @binding(0) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(1) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read> variance: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let ch = global_index(wg, lid);
    if (ch >= p.c) { return; }
    running_mean[ch] = (1.0 - p.momentum) * running_mean[ch] + p.momentum * mean[ch];
    running_var[ch] = (1.0 - p.momentum) * running_var[ch] + p.momentum * variance[ch] * p.unbias;
}
