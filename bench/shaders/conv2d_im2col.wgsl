// The im2col alternative to shaders/conv2d.wgsl, kept for bench/bench_conv.py
// --strategies (here, not in shaders/: the browser never loads it):
// unfold the input into col (N, C_in*KH*KW, OH*OW) so that a convolution is
// shaders/matmul.wgsl's w (C_out, K) @ col[n]; col2im folds a gradient of col
// back onto the input (a gather: each input pixel sums the columns it was copied to).
//!include common/index.wgsl
struct Params {
    N: u32, C_in: u32, H: u32, W: u32,
    KH: u32, KW: u32, OH: u32, OW: u32,
    SH: u32, SW: u32, PH: u32, PW: u32,
}
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn im2col(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);   // col[n, (ci, kh, kw), (oh, ow)]
    let pixels = p.OH * p.OW;
    let taps = p.KH * p.KW;
    if (i >= p.N * p.C_in * taps * pixels) { return; }
    let pix = i % pixels;
    let k = (i / pixels) % (p.C_in * taps);
    let n = i / (pixels * p.C_in * taps);
    let ih = i32((pix / p.OW) * p.SH + (k % taps) / p.KW) - i32(p.PH);
    let iw = i32((pix % p.OW) * p.SW + k % p.KW) - i32(p.PW);
    var v = 0.0;
    if (ih >= 0 && ih < i32(p.H) && iw >= 0 && iw < i32(p.W)) {
        v = src[((n * p.C_in + k / taps) * p.H + u32(ih)) * p.W + u32(iw)];
    }
    dst[i] = v;
}

@compute @workgroup_size(256)
fn col2im(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);   // dx[n, ci, h, w]
    if (i >= p.N * p.C_in * p.H * p.W) { return; }
    let w = i % p.W;
    let h = (i / p.W) % p.H;
    let nc = i / (p.H * p.W);                       // n * C_in + ci
    let pixels = p.OH * p.OW;
    let taps = p.KH * p.KW;
    var acc = 0.0;
    for (var kh = 0u; kh < p.KH; kh++) {
        let th = i32(h + p.PH) - i32(kh);            // = oh * SH if a window puts kh on h
        if (th < 0 || u32(th) % p.SH != 0u || u32(th) / p.SH >= p.OH) { continue; }
        for (var kw = 0u; kw < p.KW; kw++) {
            let tw = i32(w + p.PW) - i32(kw);
            if (tw < 0 || u32(tw) % p.SW != 0u || u32(tw) / p.SW >= p.OW) { continue; }
            let k = (nc % p.C_in) * taps + kh * p.KW + kw;
            let n = nc / p.C_in;
            acc += src[(n * p.C_in * taps + k) * pixels + (u32(th) / p.SH) * p.OW + u32(tw) / p.SW];
        }
    }
    dst[i] = acc;
}
