// One SGD step for one parameter, in place (PyTorch's formulation):
//   d = g + weight_decay * p
//   v = d on the first step, else momentum * v + (1 - dampening) * d
//   p -= lr * (nesterov ? d + momentum * v : v)        (plain SGD: p -= lr * d)
//!include common/optimizer.wgsl
override MOMENTUM: bool = false;
struct Params { n: u32, lr: f32, momentum: f32, dampening: f32, weight_decay: f32,
                nesterov: u32, first_step: u32 }
@group(0) @binding(2) var<storage, read_write> velocity: array<vec4<f32>>;   // dummy without momentum
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);   // elements 4i .. 4i + 3
    if (4u * i >= p.n) { return; }
    var d = decayed_grad(i);
    if (MOMENTUM) {
        var v = d;
        if (p.first_step == 0u) { v = p.momentum * velocity[i] + (1.0 - p.dampening) * d; }
        velocity[i] = kept(i, velocity[i], v);
        if (p.nesterov != 0u) { d = d + p.momentum * v; } else { d = v; }
    }
    param[i] = kept(i, param[i], param[i] - p.lr * d);
}
