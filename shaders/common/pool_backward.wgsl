// The pooling kernels' backward: a thread per input pixel, gathering from the windows
// that contain it (a scatter from each window would need float atomics, which WGSL
// lacks).
//!include common/pool.wgsl

// The windows along one axis that contain padded position `pos`: [first, last).
// Window o spans [o * stride, o * stride + kernel), so o > (pos - kernel) / stride
// and o <= pos / stride.
fn covering(pos: u32, kernel: u32, stride: u32, count: u32) -> vec2<u32> {
    let first = select(0u, (pos - kernel) / stride + 1u, pos >= kernel);
    return vec2<u32>(first, min(pos / stride + 1u, count));
}

// The sum over the windows o containing input pixel i of window_share(o, pixel) (each
// kernel defines it: what window o sends back to pixel h * in_w + w of its plane).
// A pixel lies in at most ceil(kh / sh) x ceil(kw / sw) windows (and no more than there
// are); the walk covers that grid, k = r * across + c. Reads the kernel's `dx` to go
// on from the previous dispatch.
fn gather_windows(i: u32) -> f32 {
    let pixel = i % (p.in_h * p.in_w);
    let plane = i / (p.in_h * p.in_w);
    let rows = covering(pixel / p.in_w + p.ph, p.kh, p.sh, p.out_h);
    let cols = covering(pixel % p.in_w + p.pw, p.kw, p.sw, p.out_w);
    let across = min((p.kw + p.sw - 1u) / p.sw, p.out_w);
    var acc = 0.0;
    if (p.k0 > 0u) { acc = dx[i]; }
    for (var k = p.k0; k < p.k1; k++) {
        let oh = rows.x + k / across;
        let ow = cols.x + k % across;
        if (oh >= rows.y || ow >= cols.y) { continue; }   // fewer windows at the edges
        acc += window_share((plane * p.out_h + oh) * p.out_w + ow, pixel);
    }
    return acc;
}
