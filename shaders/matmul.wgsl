// C[z] = op(A[z]) @ op(B[z]) (+ bias): a tiled matrix product for any M, N, K,
// the variant for GPUs (engine/backend/kernel_choice.py; CPU-backed adapters run
// matmul_blocked.wgsl, which says why).
//
// Each workgroup of 16x16 threads computes a 64x64 tile of C; each thread a 4x4
// block (common/tile_product.wgsl). The K dimension is walked in slices of 16: the
// workgroup stages a 64x16 slice of A and a 16x64 slice of B in shared memory,
// then every thread reads them as vec4s. That sharing is what makes it fast on a
// GPU: each float of A and B is read from memory once per tile, not once per thread.
// Out-of-range elements load as 0, so sizes need not divide the tile. TRANS_A /
// TRANS_B read an operand stored transposed, so backward passes never copy a
// transpose.
//
// Split-K: workgroup z = slice * batch + b sums k in [slice * k_chunk, ...) into its
// own copy of C and the host adds the copies: a product with a small M and N (a
// batch of 64) then still fills the GPU, and a very long K stays under Mesa
// lavapipe's limit of 65,535 loop iterations per invocation (k_chunk <= 32768
// costs 34,816 here). Slice 0 adds the bias.
//!include common/tile_product.wgsl
//!include common/matmul_io.wgsl

const TILE_K = 16u;

// (k_end: the end of this workgroup's slice of K)
fn load_a(offset: u32, m: u32, k: u32, k_end: u32) -> f32 {
    if (m >= p.M || k >= k_end) { return 0.0; }
    if (TRANS_A) { return A[offset + k * p.M + m]; }   // A stored K x M
    return A[offset + m * p.K + k];                     // A stored M x K
}

fn load_b(offset: u32, k: u32, n: u32, k_end: u32) -> f32 {
    if (k >= k_end || n >= p.N) { return 0.0; }
    if (TRANS_B) { return B[offset + n * p.K + k]; }   // B stored N x K
    return B[offset + k * p.N + n];                     // B stored K x N
}

fn bias_at(n: u32) -> f32 {
    if (HAS_BIAS && n < p.N) { return bias[n]; }
    return 0.0;
}

fn store_row(z: u32, m: u32, n: u32, v: vec4<f32>) {
    if (m >= p.M) { return; }
    var r = v;
    if (HAS_BIAS && z < p.batch) {   // slice 0 only
        r += vec4<f32>(bias_at(n), bias_at(n + 1u), bias_at(n + 2u), bias_at(n + 3u));
    }
    if (RELU) { r = max(r, vec4<f32>(0.0)); }
    let row = z * p.M * p.N + m * p.N;
    if (n < p.N) { C[row + n] = r.x; }
    if (n + 1u < p.N) { C[row + n + 1u] = r.y; }
    if (n + 2u < p.N) { C[row + n + 2u] = r.z; }
    if (n + 3u < p.N) { C[row + n + 3u] = r.w; }
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let t = lid.y * 16u + lid.x;
    let m0 = wid.y * 64u;
    let n0 = wid.x * 64u;
    let a_off = (wid.z % p.batch) * p.a_batch_stride;
    let b_off = (wid.z % p.batch) * p.b_batch_stride;
    let k_begin = (wid.z / p.batch) * p.k_chunk;
    let k_end = min(p.K, k_begin + p.k_chunk);

    // Which (k, 4-vector) of each slice this thread stages: chosen so that
    // neighbouring threads read neighbouring addresses for either layout.
    var ak = t % 16u;  var aq = t / 16u;
    if (TRANS_A) { ak = t / 16u; aq = t % 16u; }
    var bk = t / 16u;  var bq = t % 16u;
    if (TRANS_B) { bk = t % 16u; bq = t / 16u; }

    var acc = Block();

    for (var k0 = k_begin; k0 < k_end; k0 += TILE_K) {
        let m = m0 + aq * 4u;
        let ka = k0 + ak;
        a_tile[ak * 16u + aq] = vec4<f32>(load_a(a_off, m, ka, k_end), load_a(a_off, m + 1u, ka, k_end),
                                          load_a(a_off, m + 2u, ka, k_end), load_a(a_off, m + 3u, ka, k_end));
        let n = n0 + bq * 4u;
        let kb = k0 + bk;
        b_tile[bk * 16u + bq] = vec4<f32>(load_b(b_off, kb, n, k_end), load_b(b_off, kb, n + 1u, k_end),
                                          load_b(b_off, kb, n + 2u, k_end), load_b(b_off, kb, n + 3u, k_end));
        workgroupBarrier();
        multiply_tiles(&acc, lid.y, lid.x);
        workgroupBarrier();
    }
    store_block(wid.z, m0 + lid.y * 4u, n0 + lid.x * 4u, acc);
}
