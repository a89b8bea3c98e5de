// One Adagrad step for one parameter, in place (PyTorch's formulation):
//   g += weight_decay * p;   sum += g^2;   p -= clr * g / (sqrt(sum) + eps)
// where clr = lr / (1 + (t - 1) * lr_decay) is computed on the host.
//!include common/optimizer.wgsl
struct Params { n: u32, clr: f32, eps: f32, weight_decay: f32 }
@group(0) @binding(2) var<storage, read_write> sum_sq: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);   // elements 4i .. 4i + 3
    if (4u * i >= p.n) { return; }
    let g = decayed_grad(i);
    let s = sum_sq[i] + g * g;
    sum_sq[i] = kept(i, sum_sq[i], s);
    param[i] = kept(i, param[i], param[i] - p.clr * g / (sqrt(s) + p.eps));
}
