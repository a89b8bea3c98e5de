// Gradient of average pooling as a gather: one thread per input pixel sums the
// output gradients of every window containing it, each divided by kh * kw
// (no float atomics in WGSL, so no scatter from overlapping windows). The loop
// over those windows is cut into [k0, k1) parts as in max_pool2d_backward.wgsl.
struct Params { planes: u32, in_h: u32, in_w: u32, out_h: u32, out_w: u32,
                kh: u32, kw: u32, sh: u32, sw: u32, ph: u32, pw: u32, k0: u32, k1: u32 }
@group(0) @binding(0) var<storage, read> grad: array<f32>;      // (planes, out_h, out_w)
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;  // (planes, in_h, in_w)
@group(0) @binding(2) var<uniform> p: Params;

// The windows along one axis that contain padded position `pos`: [first, last).
fn covering(pos: u32, kernel: u32, stride: u32, count: u32) -> vec2<u32> {
    let first = select(0u, (pos - kernel) / stride + 1u, pos >= kernel);
    return vec2<u32>(first, min(pos / stride + 1u, count));
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = (wid.y * nwg.x + wid.x) * 256u + lid;
    if (i >= p.planes * p.in_h * p.in_w) { return; }
    let pixel = i % (p.in_h * p.in_w);
    let plane = i / (p.in_h * p.in_w);
    let rows = covering(pixel / p.in_w + p.ph, p.kh, p.sh, p.out_h);
    let cols = covering(pixel % p.in_w + p.pw, p.kw, p.sw, p.out_w);
    let across = min((p.kw + p.sw - 1u) / p.sw, p.out_w);   // most windows with a pixel, per row
    var acc = 0.0;
    if (p.k0 > 0u) { acc = dx[i]; }             // go on from the previous dispatch
    for (var k = p.k0; k < p.k1; k++) {
        let oh = rows.x + k / across;
        let ow = cols.x + k % across;
        if (oh >= rows.y || ow >= cols.y) { continue; }
        acc += grad[(plane * p.out_h + oh) * p.out_w + ow] / f32(p.kh * p.kw);
    }
    dx[i] = acc;
}
