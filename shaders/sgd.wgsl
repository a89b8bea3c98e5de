// One SGD step for two parameters, a and b, in place (common/two_parameters.wgsl says
// how they share the dispatch). PyTorch's formulation, for each:
//   d = g + weight_decay * p
//   v = d on the first step, else momentum * v + (1 - dampening) * d
//   p -= lr * (nesterov ? d + momentum * v : v)        (plain SGD: p -= lr * d)
//!include common/two_parameters.wgsl
override MOMENTUM: bool = false;
struct Params { lr: f32, momentum: f32, dampening: f32, weight_decay: f32, nesterov: u32,
                a_n: u32, a_first_step: u32, b_n: u32, b_first_step: u32 }
@group(0) @binding(0) var<storage, read_write> a_param: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> a_grad: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> a_velocity: array<vec4<f32>>;  // dummies
@group(0) @binding(3) var<storage, read_write> b_param: array<vec4<f32>>;     // without
@group(0) @binding(4) var<storage, read> b_grad: array<vec4<f32>>;            // momentum
@group(0) @binding(5) var<storage, read_write> b_velocity: array<vec4<f32>>;
@group(0) @binding(6) var<uniform> p: Params;

struct Updated { param: vec4<f32>, velocity: vec4<f32> }

fn sgd(w: vec4<f32>, g: vec4<f32>, velocity: vec4<f32>, first_step: u32) -> Updated {
    var d = g + p.weight_decay * w;
    var v = d;
    if (MOMENTUM) {
        if (first_step == 0u) { v = p.momentum * velocity + (1.0 - p.dampening) * d; }
        if (p.nesterov != 0u) { d = d + p.momentum * v; } else { d = v; }
    }
    return Updated(w - p.lr * d, v);
}

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);   // a's run i, or b's run i - runs(a_n)
    var velocity = vec4<f32>();
    if (i < runs(p.a_n)) {
        if (MOMENTUM) { velocity = a_velocity[i]; }
        let u = sgd(a_param[i], a_grad[i], velocity, p.a_first_step);
        let keep = run_mask(i, p.a_n);   // a last run's floats past a_n stay as they are
        if (MOMENTUM) { a_velocity[i] = select(velocity, u.velocity, keep); }
        a_param[i] = select(a_param[i], u.param, keep);
        return;
    }
    let j = i - runs(p.a_n);
    if (j >= runs(p.b_n)) { return; }
    if (MOMENTUM) { velocity = b_velocity[j]; }
    let u = sgd(b_param[j], b_grad[j], velocity, p.b_first_step);
    let keep = run_mask(j, p.b_n);
    if (MOMENTUM) { b_velocity[j] = select(velocity, u.velocity, keep); }
    b_param[j] = select(b_param[j], u.param, keep);
}
