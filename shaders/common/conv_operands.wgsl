// Where the implicit GEMM of a 2-D convolution finds its operands: shared by
// conv2d.wgsl (tiles in workgroup memory) and conv2d_blocked.wgsl (register blocks).
// The kernel that includes this declares MODE; conv2d.wgsl explains the three modes
// and what A, B and C are in each.

// The layer's geometry and the product's: C (M x cols) = A (M x K) @ B, its sum over
// k cut into slices of k_chunk; `blocks` is how each kernel cuts C between
// workgroups (conv2d.wgsl: column tiles; conv2d_blocked.wgsl: row blocks).
struct Params {
    C_in: u32, H: u32, W: u32, C_out: u32,
    KH: u32, KW: u32, OH: u32, OW: u32,
    SH: u32, SW: u32, PH: u32, PW: u32,
    M: u32, cols: u32, K: u32, k_chunk: u32,
    blocks: u32,
}
// an input a mode does not read is bound to a dummy buffer
@group(0) @binding(0) var<storage, read> x: array<f32>;      // (N, C_in, H, W)
@group(0) @binding(1) var<storage, read> w: array<f32>;      // (C_out, C_in, KH, KW)
@group(0) @binding(2) var<storage, read> g: array<f32>;      // (N, C_out, OH, OW): grad of y
@group(0) @binding(3) var<storage, read> bias: array<f32>;   // (C_out)
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

// The host sets UNIT_STRIDE when the stride is (1, 1): g_at's divisions then leave the
// compiled kernel. A branch on the uniform p.SH would keep them: a CPU-backed adapter
// (SwiftShader) runs both sides of a branch for its SIMD lanes, 4 integer divisions a
// gathered element, and grad input ran 6x slower than forward on SwiftShader that way.
override UNIT_STRIDE: bool = false;

// A B element is the value at row y, column x of the image plane that starts at
// `base` (of x, or of g in mode 1). A row k and a column j of B each fix part of
// that place: each is decoded once (integer divisions are slow) and the two are
// added, instead of decoding (k, j) for every element.
struct Place { base: i32, y: i32, x: i32 }

fn add(a: Place, b: Place) -> Place { return Place(a.base + b.base, a.y + b.y, a.x + b.x); }

// t = (n, oh, ow), an output pixel -> image n, the top-left corner of its window
fn window(t: u32) -> Place {
    let pixels = p.OH * p.OW;
    let pix = t % pixels;
    return Place(i32((t / pixels) * p.C_in * p.H * p.W),
                 i32((pix / p.OW) * p.SH) - i32(p.PH), i32((pix % p.OW) * p.SW) - i32(p.PW));
}

// k = (ci, kh, kw), a weight column -> channel ci, offset (kh, kw) within the window
fn tap(k: u32) -> Place {
    let taps = p.KH * p.KW;
    let r = k % taps;
    return Place(i32((k / taps) * p.H * p.W), i32(r / p.KW), i32(r % p.KW));
}

// MODE 1: j = (n, h, w), an input pixel, and k = (co, kh, kw) meet in g at the
// output pixel ((h + PH - kh) / SH, (w + PW - kw) / SW), when that divides exactly
fn input_pixel(j: u32) -> Place {
    let pixels = p.H * p.W;
    let pix = j % pixels;
    return Place(i32((j / pixels) * p.C_out * p.OH * p.OW),
                 i32(pix / p.W + p.PH), i32(pix % p.W + p.PW));
}

fn back_tap(k: u32) -> Place {
    let taps = p.KH * p.KW;
    let r = k % taps;
    return Place(i32((k / taps) * p.OH * p.OW), -i32(r / p.KW), -i32(r % p.KW));
}

fn x_at(q: Place) -> f32 {   // 0 in the zero padding
    if (q.y < 0 || q.y >= i32(p.H) || q.x < 0 || q.x >= i32(p.W)) { return 0.0; }
    return x[q.base + q.y * i32(p.W) + q.x];
}

fn g_at(q: Place) -> f32 {   // 0 where no window starts (between strides, outside)
    if (q.y < 0 || q.x < 0) { return 0.0; }
    let y = u32(q.y);
    let xx = u32(q.x);
    if (UNIT_STRIDE) {   // stride 1, the common case: no divisions
        if (y >= p.OH || xx >= p.OW) { return 0.0; }
        return g[u32(q.base) + y * p.OW + xx];
    }
    if (y % p.SH != 0u || xx % p.SW != 0u || y / p.SH >= p.OH || xx / p.SW >= p.OW) { return 0.0; }
    return g[u32(q.base) + (y / p.SH) * p.OW + xx / p.SW];
}

fn column_place(j: u32) -> Place {
    switch MODE {
        case 0u: { return window(j); }
        case 1u: { return input_pixel(j); }
        default: { return tap(j); }
    }
}

fn row_place(k: u32) -> Place {
    switch MODE {
        case 0u: { return tap(k); }
        case 1u: { return back_tap(k); }
        default: { return window(k); }
    }
}

fn b_at(row: Place, col: Place) -> f32 {
    if (MODE == 1u) { return g_at(add(row, col)); }
    return x_at(add(row, col));
}

// A[m, k] = source[a_offset(k) + m * a_stride()]: w (modes 0, 1) or g (mode 2)
fn a_stride() -> u32 {
    switch MODE {
        case 0u: { return p.K; }                 // w as (C_out, K)
        case 1u: { return p.KH * p.KW; }         // w[co, ci, :, :] for row ci
        default: { return p.OH * p.OW; }         // g[n, co, :, :] for row co
    }
}

fn a_offset(k: u32) -> u32 {
    let taps = p.KH * p.KW;
    let pixels = p.OH * p.OW;
    switch MODE {
        case 0u: { return k; }
        case 1u: { return (k / taps) * p.C_in * taps + k % taps; }
        default: { return (k / pixels) * p.C_out * pixels + k % pixels; }
    }
}

// C's column j is pixel j % pixels of image j / pixels (in mode 2, one "image")
fn pixels_per_image() -> u32 {
    switch MODE {
        case 0u: { return p.OH * p.OW; }
        case 1u: { return p.H * p.W; }
        default: { return p.cols; }
    }
}
