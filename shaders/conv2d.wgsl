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
override RELU: bool = false;   // max(C, 0) after the bias: a Conv2d and its ReLU (one slice only)

//!include common/conv_operands.wgsl

// A[m, k]: w (modes 0, 1) or g (mode 2); 0 past the last row
fn a_at(offset: u32, m: u32) -> f32 {
    if (m >= p.M) { return 0.0; }
    if (MODE == 2u) { return g[offset + m * a_stride()]; }
    return w[offset + m * a_stride()];
}

fn store_row(z: u32, m: u32, j: u32, v: vec4<f32>) {
    if (m >= p.M) { return; }
    var r = v;
    if (HAS_BIAS && z == 0u) { r += bias[m]; }   // once, not once per slice
    if (RELU) { r = max(r, vec4<f32>(0.0)); }
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
    if (tile >= p.blocks * ((p.M + TM - 1u) / TM)) { return; }
    let m0 = (tile / p.blocks) * TM;
    let j0 = (tile % p.blocks) * 64u;
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
