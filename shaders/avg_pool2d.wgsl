// Average pooling over (planes, in_h, in_w) images, planes = N * C; one thread per
// output. Padding counts as zeros that are part of the window (PyTorch's default
// count_include_pad=True), so every window divides by kh * kw.
// The loop walks the window's pixels k = r * kw + c, only those in [k0, k1): Mesa's
// lavapipe stops a thread after 65,535 loop iterations in all, so the host cuts big
// windows into several dispatches; all but the last leave the partial sum in `out`.
struct Params { planes: u32, in_h: u32, in_w: u32, out_h: u32, out_w: u32,
                kh: u32, kw: u32, sh: u32, sw: u32, ph: u32, pw: u32, k0: u32, k1: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = (wid.y * nwg.x + wid.x) * 256u + lid;
    if (i >= p.planes * p.out_h * p.out_w) { return; }
    let ow = i % p.out_w;
    let oh = (i / p.out_w) % p.out_h;
    let base = (i / (p.out_w * p.out_h)) * p.in_h * p.in_w;
    let top = i32(oh * p.sh) - i32(p.ph);
    let left = i32(ow * p.sw) - i32(p.pw);
    var acc = 0.0;
    if (p.k0 > 0u) { acc = out[i]; }   // go on from the previous dispatch
    for (var k = p.k0; k < p.k1; k++) {
        let h = top + i32(k / p.kw);
        let w = left + i32(k % p.kw);
        if (h < 0 || w < 0 || h >= i32(p.in_h) || w >= i32(p.in_w)) { continue; }  // padding: 0
        acc += x[base + u32(h) * p.in_w + u32(w)];
    }
    if (p.k1 == p.kh * p.kw) { acc /= f32(p.kh * p.kw); }   // the last part: the mean
    out[i] = acc;
}
