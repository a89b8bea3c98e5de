// Average pooling, one thread per output (common/pool.wgsl has the geometry).
// Padding counts as zeros that are part of the window (PyTorch's default
// count_include_pad=True), so every window divides by kh * kw. A dispatch that
// does not finish the window leaves the partial sum in `out`.
//!include common/index.wgsl
//!include common/pool.wgsl
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);
    if (i >= p.planes * p.out_h * p.out_w) { return; }
    let win = window_of(i);
    var acc = 0.0;
    if (p.k0 > 0u) { acc = out[i]; }   // go on from the previous dispatch
    var tap = first_tap(p.k0);
    for (var k = p.k0; k < p.k1; k++) {
        let q = window_pixel(win, tap);
        if (q >= 0) { acc += x[win.base + u32(q)]; }   // padding adds 0
        tap = next_tap(tap);
    }
    if (p.k1 == p.kh * p.kw) { acc /= f32(p.kh * p.kw); }   // the last part: the mean
    out[i] = acc;
}
