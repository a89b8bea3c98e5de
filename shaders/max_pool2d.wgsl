// Max pooling, one thread per output (common/pool.wgsl has the geometry). Besides
// the maximum it records where it was (h * in_w + w within the plane, like
// PyTorch's indices), so the backward pass knows which input gets the gradient.
// Padding counts as -inf: never the maximum, so padded positions are skipped
// (padding <= kernel / 2 guarantees every window keeps a real pixel).
//!include common/index.wgsl
//!include common/pool.wgsl
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> indices: array<i32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);
    if (i >= p.planes * p.out_h * p.out_w) { return; }
    let win = window_of(i);
    var best_i: u32;
    if (p.k0 == 0u) {   // start at the window's first pixel inside the image
        best_i = u32(max(win.top, 0)) * p.in_w + u32(max(win.left, 0));
    } else {            // go on from the previous dispatch
        best_i = u32(indices[i]);
    }
    var best = x[win.base + best_i];
    var tap = first_tap(p.k0);
    for (var k = p.k0; k < p.k1; k++) {
        let q = window_pixel(win, tap);
        // strictly greater: ties keep the first, like PyTorch
        if (q >= 0 && x[win.base + u32(q)] > best) {
            best = x[win.base + u32(q)];
            best_i = u32(q);
        }
        tap = next_tap(tap);
    }
    out[i] = best;
    indices[i] = i32(best_i);
}
