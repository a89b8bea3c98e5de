// Max pooling over (planes, in_h, in_w) images, planes = N * C; one thread per output.
// Besides the maximum it records where it was (h * in_w + w within the plane, like
// PyTorch's indices), so the backward pass knows which input gets the gradient.
// Padding counts as -inf: never the maximum, so padded positions are skipped
// (padding <= kernel / 2 guarantees every window keeps a real pixel).
// The loop walks the window's pixels k = r * kw + c, only those in [k0, k1): Mesa's
// lavapipe stops a thread after 65,535 loop iterations in all, so the host cuts big
// windows into several dispatches, each going on from the previous one's best.
struct Params { planes: u32, in_h: u32, in_w: u32, out_h: u32, out_w: u32,
                kh: u32, kw: u32, sh: u32, sw: u32, ph: u32, pw: u32, k0: u32, k1: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> indices: array<i32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = (wid.y * nwg.x + wid.x) * 256u + lid;
    if (i >= p.planes * p.out_h * p.out_w) { return; }
    let ow = i % p.out_w;
    let oh = (i / p.out_w) % p.out_h;
    let base = (i / (p.out_w * p.out_h)) * p.in_h * p.in_w;   // this plane's first pixel
    let top = i32(oh * p.sh) - i32(p.ph);                     // the window's corner
    let left = i32(ow * p.sw) - i32(p.pw);
    var best_i: u32;
    if (p.k0 == 0u) {   // start at the window's first pixel inside the image
        best_i = u32(max(top, 0)) * p.in_w + u32(max(left, 0));
    } else {            // go on from the previous dispatch
        best_i = u32(indices[i]);
    }
    var best = x[base + best_i];
    for (var k = p.k0; k < p.k1; k++) {
        let h = top + i32(k / p.kw);
        let w = left + i32(k % p.kw);
        if (h < 0 || w < 0 || h >= i32(p.in_h) || w >= i32(p.in_w)) { continue; }   // padding
        let v = x[base + u32(h) * p.in_w + u32(w)];
        if (v > best) {   // strictly: ties keep the first, like PyTorch
            best = v;
            best_i = u32(h) * p.in_w + u32(w);
        }
    }
    out[i] = best;
    indices[i] = i32(best_i);
}
