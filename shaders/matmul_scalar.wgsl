// C[z] = op(A[z]) @ op(B[z]) (+ bias): the matrix product for SwiftShader (WebGPU in
// Chrome without a GPU). Each invocation computes an 8 x 8 block of C, reading its
// operands one float at a time, four values of k per trip round the loop.
//
// Why not matmul_blocked.wgsl's vec4 loads and big blocks: SwiftShader runs four
// invocations at once, one per lane of a 4-wide SIMD register, and reads a storage
// buffer lane by lane whatever the type (a vec4 load is four gathers), so vec4 loads
// and their transposes in registers buy nothing there. What decides its speed is how
// many accumulators an invocation carries round its loop. On the MLP's products, 8 x 8
// (64 floats) ran 1.8x block_16x32 (SwiftShader's previous choice, 512 floats); 4x8,
// 6x8, 10x8, 12x8, 8x12, 4x16 and 16x4 were all slower, the larger ones about half as
// fast, and one, two or eight k per trip slower than four (BENCHMARKS.md, section 8).
// Reading through atomicLoad (which SwiftShader turns into one vector load when the
// four lanes read consecutive words) was tried too: a little slower.
//
// The four invocations that share a SIMD register share their rows (workgroup 4 x 4,
// x along the columns), so their reads of op(A) are of the same word.
//
// Split-K, clamping and bias as in matmul_blocked.wgsl: workgroup z = slice * batch + b
// sums k in [slice * k_chunk, ...) into its own copy of C (slice 0 adds the bias);
// rows and columns past the edge of C read the last valid one and are never stored.
//!include common/matmul_io.wgsl

const TILE_M = 32u;   // 4 x 4 invocations of 8 x 8
const TILE_N = 32u;

// where eight rows of op(A), or eight columns of op(B), start in memory
struct Eight { i0: u32, i1: u32, i2: u32, i3: u32, i4: u32, i5: u32, i6: u32, i7: u32 }

// one row of the block: its columns 0..3 and 4..7
struct Row { lo: vec4<f32>, hi: vec4<f32> }
struct Block { r0: Row, r1: Row, r2: Row, r3: Row, r4: Row, r5: Row, r6: Row, r7: Row }

// first, first + 1, ... first + 7, clamped to last, as offsets base + i * step
fn eight(first: u32, last: u32, base: u32, step: u32) -> Eight {
    return Eight(base + min(first, last) * step, base + min(first + 1u, last) * step,
                 base + min(first + 2u, last) * step, base + min(first + 3u, last) * step,
                 base + min(first + 4u, last) * step, base + min(first + 5u, last) * step,
                 base + min(first + 6u, last) * step, base + min(first + 7u, last) * step);
}

// acc += op(A)[rows, k] x op(B)[k, cols], at the k whose offsets in A and B are ak, bk
fn mac(acc: ptr<function, Block>, r: Eight, c: Eight, ak: u32, bk: u32) {
    let lo = vec4<f32>(B[c.i0 + bk], B[c.i1 + bk], B[c.i2 + bk], B[c.i3 + bk]);
    let hi = vec4<f32>(B[c.i4 + bk], B[c.i5 + bk], B[c.i6 + bk], B[c.i7 + bk]);
    let a0 = A[r.i0 + ak];  (*acc).r0.lo += a0 * lo;  (*acc).r0.hi += a0 * hi;
    let a1 = A[r.i1 + ak];  (*acc).r1.lo += a1 * lo;  (*acc).r1.hi += a1 * hi;
    let a2 = A[r.i2 + ak];  (*acc).r2.lo += a2 * lo;  (*acc).r2.hi += a2 * hi;
    let a3 = A[r.i3 + ak];  (*acc).r3.lo += a3 * lo;  (*acc).r3.hi += a3 * hi;
    let a4 = A[r.i4 + ak];  (*acc).r4.lo += a4 * lo;  (*acc).r4.hi += a4 * hi;
    let a5 = A[r.i5 + ak];  (*acc).r5.lo += a5 * lo;  (*acc).r5.hi += a5 * hi;
    let a6 = A[r.i6 + ak];  (*acc).r6.lo += a6 * lo;  (*acc).r6.hi += a6 * hi;
    let a7 = A[r.i7 + ak];  (*acc).r7.lo += a7 * lo;  (*acc).r7.hi += a7 * hi;
}

// row m of C (slice z), columns n..n+7
fn store(z: u32, m: u32, n: u32, row: Row) {
    if (m >= p.M) { return; }
    let at = (z * p.M + m) * p.N;
    for (var j = 0u; j < 8u; j++) {
        if (n + j >= p.N) { return; }
        var v = row.lo[j % 4u];
        if (j >= 4u) { v = row.hi[j % 4u]; }
        if (HAS_BIAS && z < p.batch) { v += bias[n + j]; }
        if (RELU) { v = max(v, 0.0); }
        C[at + n + j] = v;
    }
}

@compute @workgroup_size(4, 4)
fn block_8x8(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let b = wid.z % p.batch;
    let k_begin = (wid.z / p.batch) * p.k_chunk;
    let k_end = min(p.K, k_begin + p.k_chunk);
    let m = wid.y * TILE_M + lid.y * 8u;
    let n = wid.x * TILE_N + lid.x * 8u;
    // op(A)[m, k] = A[m * a_row + k * a_k], op(B)[k, n] = B[k * b_k + n * b_col]
    var a_row = p.K;  var a_k = 1u;
    if (TRANS_A) { a_row = 1u;  a_k = p.M; }
    var b_col = 1u;  var b_k = p.N;
    if (TRANS_B) { b_col = p.K;  b_k = 1u; }
    let r = eight(m, p.M - 1u, b * p.a_batch_stride, a_row);
    let c = eight(n, p.N - 1u, b * p.b_batch_stride, b_col);
    var acc = Block();
    var k = k_begin;
    for (; k + 4u <= k_end; k += 4u) {
        mac(&acc, r, c, k * a_k, k * b_k);
        mac(&acc, r, c, (k + 1u) * a_k, (k + 1u) * b_k);
        mac(&acc, r, c, (k + 2u) * a_k, (k + 2u) * b_k);
        mac(&acc, r, c, (k + 3u) * a_k, (k + 3u) * b_k);
    }
    for (; k < k_end; k++) {
        mac(&acc, r, c, k * a_k, k * b_k);
    }
    store(wid.z, m, n, acc.r0);       store(wid.z, m + 1u, n, acc.r1);
    store(wid.z, m + 2u, n, acc.r2);  store(wid.z, m + 3u, n, acc.r3);
    store(wid.z, m + 4u, n, acc.r4);  store(wid.z, m + 5u, n, acc.r5);
    store(wid.z, m + 6u, n, acc.r6);  store(wid.z, m + 7u, n, acc.r7);
}
