// One Adam / AdamW step for two parameters, a and b, in place (common/two_parameters.wgsl
// says how they share the dispatch). The bias corrections bc1 = 1 - beta1^t and
// bc2 = 1 - beta2^t are computed on the host, for each parameter's own step t.
//   Adam:  g += weight_decay * p          AdamW: p *= 1 - lr * weight_decay
//   m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
//   p -= lr * (m / bc1) / (sqrt(v / bc2) + eps)
//!include common/two_parameters.wgsl
struct Params { lr: f32, beta1: f32, beta2: f32, eps: f32, weight_decay: f32, decoupled: u32,
                a_n: u32, a_bc1: f32, a_bc2: f32, b_n: u32, b_bc1: f32, b_bc2: f32 }
@group(0) @binding(0) var<storage, read_write> a_param: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> a_grad: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> a_m: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> a_v: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> b_param: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> b_grad: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> b_m: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> b_v: array<vec4<f32>>;
@group(0) @binding(8) var<uniform> p: Params;

struct Updated { param: vec4<f32>, m: vec4<f32>, v: vec4<f32> }

fn adam(param: vec4<f32>, grad: vec4<f32>, m: vec4<f32>, v: vec4<f32>, bc1: f32,
        bc2: f32) -> Updated {
    var w = param;
    var g = grad;
    if (p.decoupled != 0u) { w = w * (1.0 - p.lr * p.weight_decay); }   // AdamW
    else { g = g + p.weight_decay * w; }
    let mi = p.beta1 * m + (1.0 - p.beta1) * g;
    let vi = p.beta2 * v + (1.0 - p.beta2) * g * g;
    return Updated(w - p.lr * (mi / bc1) / (sqrt(vi / bc2) + p.eps), mi, vi);
}

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);   // a's run i, or b's run i - runs(a_n)
    if (i < runs(p.a_n)) {
        let u = adam(a_param[i], a_grad[i], a_m[i], a_v[i], p.a_bc1, p.a_bc2);
        let keep = run_mask(i, p.a_n);   // a last run's floats past a_n stay as they are
        a_m[i] = select(a_m[i], u.m, keep);
        a_v[i] = select(a_v[i], u.v, keep);
        a_param[i] = select(a_param[i], u.param, keep);
        return;
    }
    let j = i - runs(p.a_n);
    if (j >= runs(p.b_n)) { return; }
    let u = adam(b_param[j], b_grad[j], b_m[j], b_v[j], p.b_bc1, p.b_bc2);
    let keep = run_mask(j, p.b_n);
    b_m[j] = select(b_m[j], u.m, keep);
    b_v[j] = select(b_v[j], u.v, keep);
    b_param[j] = select(b_param[j], u.param, keep);
}
