// One Adam / AdamW step for one parameter, in place. The bias corrections
// bc1 = 1 - beta1^t and bc2 = 1 - beta2^t are computed on the host.
//   Adam:  g += weight_decay * p          AdamW: p *= 1 - lr * weight_decay
//   m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
//   p -= lr * (m / bc1) / (sqrt(v / bc2) + eps)
//!include common/optimizer.wgsl
struct Params { n: u32, lr: f32, beta1: f32, beta2: f32, eps: f32, weight_decay: f32,
                bc1: f32, bc2: f32, decoupled: u32 }
@group(0) @binding(2) var<storage, read_write> m: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> v: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);   // elements 4i .. 4i + 3
    if (4u * i >= p.n) { return; }
    var w = param[i];
    var g = grad[i];
    if (p.decoupled != 0u) { w = w * (1.0 - p.lr * p.weight_decay); }   // AdamW
    else { g = decayed_grad(i); }
    let mi = p.beta1 * m[i] + (1.0 - p.beta1) * g;
    let vi = p.beta2 * v[i] + (1.0 - p.beta2) * g * g;
    m[i] = kept(i, m[i], mi);
    v[i] = kept(i, v[i], vi);
    param[i] = kept(i, param[i], w - p.lr * (mi / p.bc1) / (sqrt(vi / p.bc2) + p.eps));
}
