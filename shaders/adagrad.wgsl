// One Adagrad step for one parameter, in place (PyTorch's formulation):
//   g += weight_decay * p;   sum += g^2;   p -= clr * g / (sqrt(sum) + eps)
// where clr = lr / (1 + (t - 1) * lr_decay) is computed on the host.
struct Params { n: u32, clr: f32, eps: f32, weight_decay: f32 }
@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> sum_sq: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = (wid.y * nwg.x + wid.x) * 256u + lid;
    if (i >= p.n) { return; }
    let w = param[i];
    let g = grad[i] + p.weight_decay * w;
    let s = sum_sq[i] + g * g;
    sum_sq[i] = s;
    param[i] = w - p.clr * g / (sqrt(s) + p.eps);
}
