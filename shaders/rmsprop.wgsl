// One RMSprop step for one parameter, in place (PyTorch's formulation):
//   g += weight_decay * p;   sq = alpha sq + (1 - alpha) g^2
//   centered:  ga = alpha ga + (1 - alpha) g;  denom = sqrt(sq - ga^2) + eps
//   otherwise: denom = sqrt(sq) + eps
//   momentum:  buf = momentum buf + g / denom;  p -= lr buf
//   otherwise: p -= lr g / denom
// CENTERED and MOMENTUM are pipeline constants, so an unused buffer is never read.
//!include common/optimizer.wgsl
override CENTERED: bool = false;
override MOMENTUM: bool = false;
struct Params { n: u32, lr: f32, alpha: f32, eps: f32, weight_decay: f32, momentum: f32 }
@group(0) @binding(2) var<storage, read_write> square_avg: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> grad_avg: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> buf: array<vec4<f32>>;
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);   // elements 4i .. 4i + 3
    if (4u * i >= p.n) { return; }
    let g = decayed_grad(i);
    let sq = p.alpha * square_avg[i] + (1.0 - p.alpha) * g * g;
    square_avg[i] = kept(i, square_avg[i], sq);
    var denom = sqrt(sq) + p.eps;
    if (CENTERED) {
        let ga = p.alpha * grad_avg[i] + (1.0 - p.alpha) * g;
        grad_avg[i] = kept(i, grad_avg[i], ga);
        denom = sqrt(sq - ga * ga) + p.eps;
    }
    var step = g / denom;
    if (MOMENTUM) {
        step = p.momentum * buf[i] + step;
        buf[i] = kept(i, buf[i], step);
    }
    param[i] = kept(i, param[i], param[i] - p.lr * step);
}
