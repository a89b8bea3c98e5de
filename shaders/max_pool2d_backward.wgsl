// Gradient of max pooling. `main`: a gather (common/pool_backward.wgsl), one thread per
// input pixel summing the output gradients of the windows whose recorded maximum is
// this pixel; right for any windows, overlapping ones included. `tiles`: a scatter,
// for windows that tile the plane (stride = kernel, no padding).
//!include common/index.wgsl
//!include common/pool_backward.wgsl
@group(0) @binding(0) var<storage, read> grad: array<f32>;      // (planes, out_h, out_w)
@group(0) @binding(1) var<storage, read> indices: array<i32>;   // from max_pool2d.wgsl
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;  // (planes, in_h, in_w)
@group(0) @binding(3) var<uniform> p: Params;

fn window_share(o: u32, pixel: u32) -> f32 {
    return select(0.0, grad[o], indices[o] == i32(pixel));
}

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);
    if (i < p.planes * p.in_h * p.in_w) { dx[i] = gather_windows(i); }
}

// Windows that tile the plane hold each pixel at most once, so a scatter needs no
// atomics: a thread per window writes the window's gradient to the pixel that won it
// and 0 to its other pixels. The last window of a row (column) also takes the pixels
// that no window reaches, the plane's last in_w % kw columns (in_h % kh rows): they get
// 0. A quarter (a ninth) of the gather's threads, and none of its index arithmetic
// per pixel, which costs most on a CPU-backed adapter (u32 division is emulated there).
@compute @workgroup_size(256)
fn tiles(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let o = global_index(wg, lid);
    if (o >= p.planes * p.out_h * p.out_w) { return; }
    let at = output_of(o);
    let plane = at.plane * p.in_h * p.in_w;
    let top = at.oh * p.kh;
    let left = at.ow * p.kw;
    let bottom = select(top + p.kh, p.in_h, at.oh + 1u == p.out_h);
    let right = select(left + p.kw, p.in_w, at.ow + 1u == p.out_w);
    let winner = u32(indices[o]);
    let share = grad[o];
    for (var h = top; h < bottom; h++) {
        for (var w = left; w < right; w++) {
            let pixel = h * p.in_w + w;
            dx[plane + pixel] = select(0.0, share, pixel == winner);
        }
    }
}
