// Gradient of average pooling as a gather (common/pool_backward.wgsl): one thread per input
// pixel sums the output gradients of every window containing it, each divided by
// kh * kw.
//!include common/index.wgsl
//!include common/pool_backward.wgsl
@group(0) @binding(0) var<storage, read> grad: array<f32>;      // (planes, out_h, out_w)
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;  // (planes, in_h, in_w)
@group(0) @binding(2) var<uniform> p: Params;

fn window_share(o: u32, pixel: u32) -> f32 {
    return grad[o] / f32(p.kh * p.kw);
}

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);
    if (i < p.planes * p.in_h * p.in_w) { dx[i] = gather_windows(i); }
}
