// C[z] = op(A[z]) @ op(B[z]) (+ bias), register-blocked, with no workgroup memory:
// the matrix product for CPU-backed adapters (lavapipe; matmul_scalar.wgsl is
// SwiftShader's).
//
// Every workgroup computes a 32 x 64 tile of C, and each of its invocations a
// block of that tile held in named vec4 accumulators (never an indexed array).
// Three entry points split the tile differently:
//
//   block_4x8     8x8 invocations,  each  4 rows x  8 columns (1 Block)
//   block_8x16    4x4 invocations,  each  8 rows x 16 columns (2 x 2 Blocks)
//   block_16x16   4x2 invocations,  each 16 rows x 16 columns (4 x 2 Blocks)
//
// An invocation walks k four at a time: it reads a 4x4 slab of op(A) and a 4x8
// slab of op(B) per Block row / column as vec4s, along whichever axis is
// contiguous in memory (k for A, n for B; the other way round when TRANS_A /
// TRANS_B say the operand is stored transposed), then does the 4 x 4 x 8
// multiply-adds of each Block from registers.
//
// Why no workgroup memory: on a CPU, a workgroup runs as a loop over its
// invocations on one thread, and every workgroupBarrier() makes all of them save
// their state and switch, so matmul.wgsl (tiles staged in workgroup memory between
// two barriers) spends its time switching; the CPU's caches already do what
// workgroup memory does on a GPU. Why larger blocks: the cost is the number of
// floats each invocation loads per multiply-add, (R + C) / (R * C) for an R x C block,
// as long as its accumulators fit: on lavapipe (LLVM, 8 lanes of AVX2) 16x16 is the
// fastest (16x32 ran at half its speed: its spills cost more than the loads save).
// SwiftShader reads every float as a gather whatever the type, so vec4 loads buy it
// nothing, and a small block of accumulators matters more: matmul_scalar.wgsl.
// engine/backend/kernel_choice.py picks the entry point; BENCHMARKS.md has the figures.
//
// Split-K: workgroup z = slice * batch + b sums k in [slice * k_chunk, ...) into its
// own copy of C, and the host adds the copies, so that a product with a small M
// and N (batch 64 x 10 classes) still gives every core a workgroup. Slice 0 adds
// the bias, and RELU (set only when there is one slice) clamps C at 0 after it, so
// that a Linear and its ReLU are one dispatch. k_chunk also bounds the loop (lavapipe stops an invocation after
// 65,535 loop iterations in all).
//
// A_VEC / B_VEC: the host sets them when every 4-float run along the operand's
// contiguous axis starts at a multiple of 4 (K % 4 == 0 for A not transposed,
// M % 4 == 0 transposed; likewise N or K for B), so that a run is one vec4 load;
// otherwise the same runs are read one float at a time. Rows and columns past the
// edge of C read the last valid one (clamped) and are never stored, so M and N need
// not divide the tile; the last K % 4 values of k are read one at a time into a
// slab padded with zeros.
//!include common/matmul_params.wgsl
override A_VEC: bool = false;
override B_VEC: bool = false;
@group(0) @binding(0) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> B: array<vec4<f32>>;

const TILE_M = 32u;
const TILE_N = 64u;

// 4 rows x 8 columns of C: row i's columns 0..3 in ri_a, 4..7 in ri_b
struct Block { r0a: vec4<f32>, r0b: vec4<f32>, r1a: vec4<f32>, r1b: vec4<f32>,
               r2a: vec4<f32>, r2b: vec4<f32>, r3a: vec4<f32>, r3b: vec4<f32> }
// op(A) at 4 rows and one k, as a vec4 over the rows; op(B) at one k and 8 columns
struct BRow { a: vec4<f32>, b: vec4<f32> }
// the same for four consecutive k
struct ASlab { k0: vec4<f32>, k1: vec4<f32>, k2: vec4<f32>, k3: vec4<f32> }
struct BSlab { k0: BRow, k1: BRow, k2: BRow, k3: BRow }

// Where a Block's 4 rows of op(A) and 8 columns of op(B) start in memory (clamped to
// the last row / column). Not transposed, row i of A starts at r_i and runs along k;
// transposed, row i is element r_i of every k-row. Likewise B's columns.
struct Rows { r0: u32, r1: u32, r2: u32, r3: u32 }
struct Cols { c0: u32, c1: u32, c2: u32, c3: u32, c4: u32, c5: u32, c6: u32, c7: u32 }

// One invocation's place: batch entry and slice, its k range, where its block starts
struct Place { z: u32, b: u32, k_begin: u32, k_end: u32, m: u32, n: u32 }

fn place(wid: vec3<u32>, lid: vec3<u32>, rows: u32, cols: u32) -> Place {
    let b = wid.z % p.batch;
    let k_begin = (wid.z / p.batch) * p.k_chunk;
    return Place(wid.z, b, k_begin, min(p.K, k_begin + p.k_chunk),
                 wid.y * TILE_M + lid.y * rows, wid.x * TILE_N + lid.x * cols);
}

fn a_rows(q: Place, m: u32) -> Rows {
    let off = q.b * p.a_batch_stride;
    let last = p.M - 1u;
    var s = p.K;
    if (TRANS_A) { s = 1u; }
    return Rows(off + min(m, last) * s, off + min(m + 1u, last) * s,
                off + min(m + 2u, last) * s, off + min(m + 3u, last) * s);
}

fn b_cols(q: Place, n: u32) -> Cols {
    let off = q.b * p.b_batch_stride;
    let last = p.N - 1u;
    var s = 1u;
    if (TRANS_B) { s = p.K; }
    return Cols(off + min(n, last) * s, off + min(n + 1u, last) * s,
                off + min(n + 2u, last) * s, off + min(n + 3u, last) * s,
                off + min(n + 4u, last) * s, off + min(n + 5u, last) * s,
                off + min(n + 6u, last) * s, off + min(n + 7u, last) * s);
}

// float i of an operand bound as vec4s
fn a_at(i: u32) -> f32 { return A[i / 4u][i % 4u]; }
fn b_at(i: u32) -> f32 { return B[i / 4u][i % 4u]; }

// 4 floats from i on: one vec4 load where aligned (A_VEC / B_VEC), else four
fn a_run(i: u32) -> vec4<f32> {
    if (A_VEC) { return A[i / 4u]; }
    return vec4<f32>(a_at(i), a_at(i + 1u), a_at(i + 2u), a_at(i + 3u));
}

fn b_run(i: u32) -> vec4<f32> {
    if (B_VEC) { return B[i / 4u]; }
    return vec4<f32>(b_at(i), b_at(i + 1u), b_at(i + 2u), b_at(i + 3u));
}

// op(A)[rows, k]
fn a_col(r: Rows, k: u32) -> vec4<f32> {
    if (TRANS_A) {   // the 4 rows are consecutive in k's row of A (clamped ones aside)
        let row = k * p.M;
        if (A_VEC) { return A[(row + r.r0) / 4u]; }
        return vec4<f32>(a_at(row + r.r0), a_at(row + r.r1), a_at(row + r.r2), a_at(row + r.r3));
    }
    return vec4<f32>(a_at(r.r0 + k), a_at(r.r1 + k), a_at(r.r2 + k), a_at(r.r3 + k));
}

// op(B)[k, cols]
fn b_row(c: Cols, k: u32) -> BRow {
    if (TRANS_B) {
        return BRow(vec4<f32>(b_at(c.c0 + k), b_at(c.c1 + k), b_at(c.c2 + k), b_at(c.c3 + k)),
                    vec4<f32>(b_at(c.c4 + k), b_at(c.c5 + k), b_at(c.c6 + k), b_at(c.c7 + k)));
    }
    let row = k * p.N;   // the 8 columns are consecutive in k's row of B
    return BRow(b_run(row + c.c0), b_run(row + c.c4));
}

// op(A)[rows, k] for k < k_end, zeros at and past k_end (so that a product of slabs
// adds nothing there, whatever op(B) holds)
fn a_col_before(r: Rows, k: u32, k_end: u32) -> vec4<f32> {
    return select(vec4<f32>(), a_col(r, min(k, k_end - 1u)), k < k_end);
}

// op(A)[rows, k..k+3]: transposed, four rows of A; else a run along k per row of
// the Block, transposed in registers. Where fewer than four k are left before
// k_end (the last K % 4 of a slice), one at a time, zeros after them.
fn a_slab(r: Rows, k: u32, k_end: u32) -> ASlab {
    if (k + 4u > k_end) {   // k + 3 >= k_end: the fourth is always past the end
        return ASlab(a_col(r, k), a_col_before(r, k + 1u, k_end), a_col_before(r, k + 2u, k_end),
                     vec4<f32>());
    }
    if (TRANS_A) { return ASlab(a_col(r, k), a_col(r, k + 1u), a_col(r, k + 2u), a_col(r, k + 3u)); }
    let x0 = a_run(r.r0 + k);
    let x1 = a_run(r.r1 + k);
    let x2 = a_run(r.r2 + k);
    let x3 = a_run(r.r3 + k);
    return ASlab(vec4<f32>(x0.x, x1.x, x2.x, x3.x), vec4<f32>(x0.y, x1.y, x2.y, x3.y),
                 vec4<f32>(x0.z, x1.z, x2.z, x3.z), vec4<f32>(x0.w, x1.w, x2.w, x3.w));
}

// op(B)[k, cols] for k < k_end, zeros at and past k_end
fn b_row_before(c: Cols, k: u32, k_end: u32) -> BRow {
    if (k >= k_end) { return BRow(); }
    return b_row(c, k);
}

// op(B)[k..k+3, cols]: not transposed, four rows of B; else a run along k per column.
// The last K % 4 as a_slab has them.
fn b_slab(c: Cols, k: u32, k_end: u32) -> BSlab {
    if (k + 4u > k_end) {
        return BSlab(b_row(c, k), b_row_before(c, k + 1u, k_end), b_row_before(c, k + 2u, k_end),
                     BRow());
    }
    if (!TRANS_B) { return BSlab(b_row(c, k), b_row(c, k + 1u), b_row(c, k + 2u), b_row(c, k + 3u)); }
    let y0 = b_run(c.c0 + k);
    let y1 = b_run(c.c1 + k);
    let y2 = b_run(c.c2 + k);
    let y3 = b_run(c.c3 + k);
    let y4 = b_run(c.c4 + k);
    let y5 = b_run(c.c5 + k);
    let y6 = b_run(c.c6 + k);
    let y7 = b_run(c.c7 + k);
    return BSlab(BRow(vec4<f32>(y0.x, y1.x, y2.x, y3.x), vec4<f32>(y4.x, y5.x, y6.x, y7.x)),
                 BRow(vec4<f32>(y0.y, y1.y, y2.y, y3.y), vec4<f32>(y4.y, y5.y, y6.y, y7.y)),
                 BRow(vec4<f32>(y0.z, y1.z, y2.z, y3.z), vec4<f32>(y4.z, y5.z, y6.z, y7.z)),
                 BRow(vec4<f32>(y0.w, y1.w, y2.w, y3.w), vec4<f32>(y4.w, y5.w, y6.w, y7.w)));
}

// acc += a (4 rows at one k) x b (8 columns at that k): 32 multiply-adds
fn rank1(acc: ptr<function, Block>, a: vec4<f32>, b: BRow) {
    (*acc).r0a += a.x * b.a;  (*acc).r0b += a.x * b.b;
    (*acc).r1a += a.y * b.a;  (*acc).r1b += a.y * b.b;
    (*acc).r2a += a.z * b.a;  (*acc).r2b += a.z * b.b;
    (*acc).r3a += a.w * b.a;  (*acc).r3b += a.w * b.b;
}

// acc += the product of the slabs: four k, 128 multiply-adds
fn mac(acc: ptr<function, Block>, a: ASlab, b: BSlab) {
    rank1(acc, a.k0, b.k0);
    rank1(acc, a.k1, b.k1);
    rank1(acc, a.k2, b.k2);
    rank1(acc, a.k3, b.k3);
}

fn store_row(q: Place, m: u32, n: u32, v: vec4<f32>) {
    if (m >= p.M) { return; }
    var r = v;
    if (HAS_BIAS && q.z < p.batch) {   // slice 0 only
        for (var c = 0u; c < 4u; c++) { if (n + c < p.N) { r[c] += bias[n + c]; } }
    }
    if (RELU) { r = max(r, vec4<f32>(0.0)); }
    let row = (q.z * p.M + m) * p.N;
    for (var c = 0u; c < 4u; c++) { if (n + c < p.N) { C[row + n + c] = r[c]; } }
}

// the Block whose top-left corner is C[m, n]
fn store(q: Place, m: u32, n: u32, acc: Block) {
    store_row(q, m, n, acc.r0a);       store_row(q, m, n + 4u, acc.r0b);
    store_row(q, m + 1u, n, acc.r1a);  store_row(q, m + 1u, n + 4u, acc.r1b);
    store_row(q, m + 2u, n, acc.r2a);  store_row(q, m + 2u, n + 4u, acc.r2b);
    store_row(q, m + 3u, n, acc.r3a);  store_row(q, m + 3u, n + 4u, acc.r3b);
}

@compute @workgroup_size(8, 8)
fn block_4x8(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let q = place(wid, lid, 4u, 8u);
    let r = a_rows(q, q.m);
    let c = b_cols(q, q.n);
    var acc = Block();
    for (var k = q.k_begin; k < q.k_end; k += 4u) {
        mac(&acc, a_slab(r, k, q.k_end), b_slab(c, k, q.k_end));
    }
    store(q, q.m, q.n, acc);
}

@compute @workgroup_size(4, 4)
fn block_8x16(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let q = place(wid, lid, 8u, 16u);
    let r0 = a_rows(q, q.m);
    let r1 = a_rows(q, q.m + 4u);
    let c0 = b_cols(q, q.n);
    let c1 = b_cols(q, q.n + 8u);
    var acc00 = Block();  var acc01 = Block();
    var acc10 = Block();  var acc11 = Block();
    for (var k = q.k_begin; k < q.k_end; k += 4u) {
        let a0 = a_slab(r0, k, q.k_end);
        let a1 = a_slab(r1, k, q.k_end);
        let b0 = b_slab(c0, k, q.k_end);
        let b1 = b_slab(c1, k, q.k_end);
        mac(&acc00, a0, b0);  mac(&acc01, a0, b1);
        mac(&acc10, a1, b0);  mac(&acc11, a1, b1);
    }
    store(q, q.m, q.n, acc00);       store(q, q.m, q.n + 8u, acc01);
    store(q, q.m + 4u, q.n, acc10);  store(q, q.m + 4u, q.n + 8u, acc11);
}

@compute @workgroup_size(4, 2)
fn block_16x16(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let q = place(wid, lid, 16u, 16u);
    let r0 = a_rows(q, q.m);
    let r1 = a_rows(q, q.m + 4u);
    let r2 = a_rows(q, q.m + 8u);
    let r3 = a_rows(q, q.m + 12u);
    let c0 = b_cols(q, q.n);
    let c1 = b_cols(q, q.n + 8u);
    var acc00 = Block();  var acc01 = Block();
    var acc10 = Block();  var acc11 = Block();
    var acc20 = Block();  var acc21 = Block();
    var acc30 = Block();  var acc31 = Block();
    for (var k = q.k_begin; k < q.k_end; k += 4u) {
        let b0 = b_slab(c0, k, q.k_end);
        let b1 = b_slab(c1, k, q.k_end);
        let a0 = a_slab(r0, k, q.k_end);
        mac(&acc00, a0, b0);  mac(&acc01, a0, b1);
        let a1 = a_slab(r1, k, q.k_end);
        mac(&acc10, a1, b0);  mac(&acc11, a1, b1);
        let a2 = a_slab(r2, k, q.k_end);
        mac(&acc20, a2, b0);  mac(&acc21, a2, b1);
        let a3 = a_slab(r3, k, q.k_end);
        mac(&acc30, a3, b0);  mac(&acc31, a3, b1);
    }
    store(q, q.m, q.n, acc00);        store(q, q.m, q.n + 8u, acc01);
    store(q, q.m + 4u, q.n, acc10);   store(q, q.m + 4u, q.n + 8u, acc11);
    store(q, q.m + 8u, q.n, acc20);   store(q, q.m + 8u, q.n + 8u, acc21);
    store(q, q.m + 12u, q.n, acc30);  store(q, q.m + 12u, q.n + 8u, acc31);
}
