// 2-D convolution of NCHW tensors as an implicit GEMM: forward, grad input and
// grad weight are each one matrix product whose operands are read straight out
// of the tensors, so the unfolded ("im2col") input never exists in memory
// (engine/ops/conv.py says why this beat im2col + shaders/matmul.wgsl). With
// k = (ci, kh, kw) a weight column and t = (n, oh, ow) an output pixel:
//
//   MODE 0  forward      y[n, co, oh, ow] = sum_k w[co, k] * x[n, ci, oh*SH+kh-PH, ow*SW+kw-PW]
//   MODE 1  grad input   dx[n, ci, h, w]  = sum_(co, kh, kw) w[co, ci, kh, kw] * g[n, co, oh, ow]
//                        over the (oh, ow) whose window puts tap (kh, kw) on (h, w)
//   MODE 2  grad weight  dw[co, k]        = sum_t g[n, co, oh, ow] * x[n, ci, oh*SH+kh-PH, ...]
//
// Each is C (M x cols) = A (M x K) @ B (K x cols), tiled like matmul.wgsl: a
// workgroup computes a TM x 64 tile of C, each thread a 4x4 block in four vec4
// accumulators, staging 16-deep slices of A and B in shared memory. TM (8, 16,
// 32 or 64) follows M, a channel count that is often small: a 64-row tile for 8
// channels would compute 7/8 zeros. Workgroup z sums k in [z * k_chunk, ...):
// the host adds the slices' partial results. That bounds every loop (lavapipe
// stops an invocation after 65,535 loop iterations in all) and gives mode 2,
// whose output is a few tiles but whose sum runs over the whole batch, enough
// workgroups to keep every core busy.
//!include common/index.wgsl
//!include common/tile_product.wgsl
override MODE: u32 = 0u;
override TM: u32 = 64u;
override HAS_BIAS: bool = false;

struct Params {
    C_in: u32, H: u32, W: u32, C_out: u32,
    KH: u32, KW: u32, OH: u32, OW: u32,
    SH: u32, SW: u32, PH: u32, PW: u32,
    M: u32, cols: u32, K: u32, k_chunk: u32,
    col_tiles: u32,
}
// an input a mode does not read is bound to a dummy buffer
@group(0) @binding(0) var<storage, read> x: array<f32>;      // (N, C_in, H, W)
@group(0) @binding(1) var<storage, read> w: array<f32>;      // (C_out, C_in, KH, KW)
@group(0) @binding(2) var<storage, read> g: array<f32>;      // (N, C_out, OH, OW): grad of y
@group(0) @binding(3) var<storage, read> bias: array<f32>;   // (C_out)
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

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
    if (p.SH == 1u && p.SW == 1u) {   // stride 1, the common case: no divisions
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

fn a_at(offset: u32, m: u32) -> f32 {
    if (m >= p.M) { return 0.0; }
    if (MODE == 2u) { return g[offset + m * a_stride()]; }
    return w[offset + m * a_stride()];
}

// C's column j is pixel j % pixels of image j / pixels (in mode 2, one "image")
fn pixels_per_image() -> u32 {
    switch MODE {
        case 0u: { return p.OH * p.OW; }
        case 1u: { return p.H * p.W; }
        default: { return p.cols; }
    }
}

fn store_row(z: u32, m: u32, j: u32, v: vec4<f32>) {
    if (m >= p.M) { return; }
    var r = v;
    if (HAS_BIAS && z == 0u) { r += bias[m]; }   // once, not once per slice
    let pixels = pixels_per_image();
    for (var c = 0u; c < 4u; c++) {
        let jc = j + c;
        if (jc < p.cols) {
            out[z * p.M * p.cols + ((jc / pixels) * p.M + m) * pixels + jc % pixels] = r[c];
        }
    }
}

@compute @workgroup_size(16, TM / 4u)
fn main(wg: Workgroup, @builtin(local_invocation_id) lid: vec3<u32>) {
    let wid = wg.id;
    let tile = workgroup_index(wg);   // the host may spread the tiles over x and y
    if (tile >= p.col_tiles * ((p.M + TM - 1u) / TM)) { return; }
    let m0 = (tile / p.col_tiles) * TM;
    let j0 = (tile % p.col_tiles) * 64u;
    let k_begin = wid.z * p.k_chunk;
    let k_end = min(p.K, k_begin + p.k_chunk);

    // What this thread stages: for A, rows m0 + 4 * aq .. + 3 at k offset ak; for B,
    // columns jb .. jb + 3 (neighbouring threads, neighbouring addresses) at k offsets
    // t / 16, t / 16 + TM / 4, ... Its columns never change: decode them once.
    let t = lid.y * 16u + lid.x;
    let ak = t % 16u;
    let aq = t / 16u;
    let jb = j0 + (t % 16u) * 4u;
    // (columns past the end decode the last one, so every read stays in the buffer)
    let last = p.cols - 1u;
    let col0 = column_place(min(jb, last));
    let col1 = column_place(min(jb + 1u, last));
    let col2 = column_place(min(jb + 2u, last));
    let col3 = column_place(min(jb + 3u, last));
    let ok = vec4<bool>(jb < p.cols, jb + 1u < p.cols, jb + 2u < p.cols, jb + 3u < p.cols);

    var acc = Block();

    for (var k0 = k_begin; k0 < k_end; k0 += 16u) {
        var av = vec4<f32>(0.0);
        if (k0 + ak < k_end) {
            let offset = a_offset(k0 + ak);
            let m = m0 + aq * 4u;
            av = vec4<f32>(a_at(offset, m), a_at(offset, m + 1u), a_at(offset, m + 2u),
                           a_at(offset, m + 3u));
        }
        a_tile[ak * 16u + aq] = av;
        for (var kb = t / 16u; kb < 16u; kb += TM / 4u) {
            var bv = vec4<f32>(0.0);
            if (k0 + kb < k_end) {
                let row = row_place(k0 + kb);
                bv = vec4<f32>(b_at(row, col0), b_at(row, col1), b_at(row, col2),
                               b_at(row, col3));
                bv = select(vec4<f32>(0.0), bv, ok);
            }
            b_tile[kb * 16u + t % 16u] = bv;
        }
        workgroupBarrier();
        multiply_tiles(&acc, lid.y, lid.x);
        workgroupBarrier();
    }
    store_block(wid.z, m0 + lid.y * 4u, j0 + lid.x * 4u, acc);
}
