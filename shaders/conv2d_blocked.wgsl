// 2-D convolution as an implicit GEMM, register-blocked, with no workgroup memory:
// the convolution for CPU-backed adapters (SwiftShader in Chrome, lavapipe). The
// same three products as conv2d.wgsl (MODE 0 forward, 1 grad input, 2 grad
// weight), C (M x cols) = A (M x K) @ B (K x cols), with the same operands
// (common/conv_operands.wgsl); conv2d.wgsl explains them.
//
// Why: conv2d.wgsl stages tiles in workgroup memory between two barriers, and on a
// CPU a workgroup runs as a loop over its invocations on one thread, where every
// barrier makes all of them save their state and switch (matmul_blocked.wgsl says
// more). Here each invocation computes its own block of C alone: ROWS rows (output
// channels in modes 0 and 2, input channels in mode 1; all of them when M <= 16)
// by 8 consecutive columns, in named vec4 accumulators. It walks k one at a time:
// it decodes k's place once, gathers B at k for its 8 columns (8 loads, each
// checked against the padding) and A at k for its ROWS rows, and does ROWS x 8
// multiply-adds. Each gathered B element feeds every row, so the more rows a
// block has the fewer gathers per multiply-add; ROWS follows M (4, 8 or 16) so
// that a net with 8 channels computes no rows of zeros.
//
// A workgroup's 64 invocations take 64 neighbouring blocks of 8 columns (workgroups
// spread over x and y); workgroup z = slice * p.blocks + row block. So every
// invocation of a workgroup walks the same rows and the same k: the k counters and
// A's elements are uniform (a compiler that sees it may load them once per SIMD
// group); only B's elements differ between invocations. Those gathers are the cost
// on CPU-backed adapters (BENCHMARKS.md section 8), not the multiply-adds.
// Split-K: slice s sums k in [s * k_chunk, ...) into its own copy of C and the
// host adds the copies. Grad weight needs it: its C is tiny (C_out x C_in*kh*kw,
// 8 x 25 in a first layer: 4 invocations) while K runs over the whole batch's
// pixels (25,088 at batch 32 on 28x28). k_chunk also bounds every invocation's
// loop (lavapipe stops an invocation after 65,535 loop iterations in all).
// Columns and rows past the edge of C read the last valid one and are not stored.
//!include common/index.wgsl
override MODE: u32 = 0u;
override HAS_BIAS: bool = false;
override RELU: bool = false;   // max(C, 0) after the bias: a Conv2d and its ReLU (one slice only)
// Grad input as a forward convolution (MODE 0), for stride 1: dx = conv2d(g, w
// flipped in kh and kw with C_in and C_out swapped, padding KH - 1 - PH, KW - 1 - PW).
// The host binds g as x and passes that convolution's geometry, so that C_out here is
// the layer's C_in; only A's addressing changes (it reads the layer's own w). Why:
// MODE 1 reads g through g_at, which tests every element against the strides, and
// on SwiftShader it ran 6x slower than the forward product of the same size.
override FLIPPED: bool = false;

//!include common/conv_operands.wgsl

const COLS = 8u;   // columns per invocation

// A row k and a column j of C each name three counters (outer, mid, inner), the mid and
// inner ones running to `mid_size` and `inner_size` (kh < KH and kw < KW, or oh < OH
// and ow < OW, ...). An invocation decodes its first k and its first column once
// (integer divisions: slow, and on lavapipe one at a time per invocation) and steps
// the counters from there, so that its loop over k divides nothing:
//
//   MODE   row k = (outer, mid, inner)    column j = (outer, mid, inner)
//   0      (ci, kh, kw)                   (n, oh, ow)
//   1      (co, kh, kw)                   (n, h, w)
//   2      (n, oh, ow)                    (ci, kh, kw)
struct Counter { outer: u32, mid: u32, inner: u32 }

fn row_sizes() -> vec2<u32> {
    if (MODE == 2u) { return vec2<u32>(p.OH, p.OW); }
    return vec2<u32>(p.KH, p.KW);
}

fn column_sizes() -> vec2<u32> {
    switch MODE {
        case 0u: { return vec2<u32>(p.OH, p.OW); }
        case 1u: { return vec2<u32>(p.H, p.W); }
        default: { return vec2<u32>(p.KH, p.KW); }
    }
}

fn decode(i: u32, sizes: vec2<u32>) -> Counter {
    let plane = sizes.x * sizes.y;
    let r = i % plane;
    return Counter(i / plane, r / sizes.y, r % sizes.y);
}

fn next(c: Counter, sizes: vec2<u32>) -> Counter {
    var n = Counter(c.outer, c.mid, c.inner + 1u);
    if (n.inner == sizes.y) { n.inner = 0u; n.mid += 1u; }
    if (n.mid == sizes.x) { n.mid = 0u; n.outer += 1u; }
    return n;
}

// the same places as common/conv_operands.wgsl's row_place / column_place, from counters
fn row_at(c: Counter) -> Place {
    switch MODE {
        case 0u: { return Place(i32(c.outer * p.H * p.W), i32(c.mid), i32(c.inner)); }
        case 1u: { return Place(i32(c.outer * p.OH * p.OW), -i32(c.mid), -i32(c.inner)); }
        default: {
            return Place(i32(c.outer * p.C_in * p.H * p.W), i32(c.mid * p.SH) - i32(p.PH),
                         i32(c.inner * p.SW) - i32(p.PW));
        }
    }
}

fn column_at(c: Counter) -> Place {
    switch MODE {
        case 0u: {
            return Place(i32(c.outer * p.C_in * p.H * p.W), i32(c.mid * p.SH) - i32(p.PH),
                         i32(c.inner * p.SW) - i32(p.PW));
        }
        case 1u: { return Place(i32(c.outer * p.C_out * p.OH * p.OW), i32(c.mid + p.PH),
                                i32(c.inner + p.PW)); }
        default: { return Place(i32(c.outer * p.H * p.W), i32(c.mid), i32(c.inner)); }
    }
}

// A[m, k] = source[a_offset_at(k's counter) + m * a_row_stride()] (conv_operands.wgsl's
// a_offset and a_stride); FLIPPED: A[m, (co, kh, kw)] = w[co, m, KH-1-kh, KW-1-kw]
fn a_offset_at(c: Counter) -> u32 {
    if (MODE == 0u && FLIPPED) {
        return (c.outer * p.C_out * p.KH + p.KH - 1u - c.mid) * p.KW + p.KW - 1u - c.inner;
    }
    switch MODE {
        case 0u: { return (c.outer * p.KH + c.mid) * p.KW + c.inner; }
        case 1u: { return (c.outer * p.C_in * p.KH + c.mid) * p.KW + c.inner; }
        default: { return (c.outer * p.C_out * p.OH + c.mid) * p.OW + c.inner; }
    }
}

// where C[0, j] goes in `out` (slice 0), and how far apart its rows m are
fn out_index(c: Counter) -> u32 {
    switch MODE {
        case 0u: { return (c.outer * p.M * p.OH + c.mid) * p.OW + c.inner; }   // y (N, C_out, OH, OW)
        case 1u: { return (c.outer * p.M * p.H + c.mid) * p.W + c.inner; }     // dx (N, C_in, H, W)
        default: { return (c.outer * p.KH + c.mid) * p.KW + c.inner; }         // dw (C_out, K)
    }
}

fn out_row_stride() -> u32 {
    switch MODE {
        case 0u: { return p.OH * p.OW; }
        case 1u: { return p.H * p.W; }
        default: { return p.cols; }
    }
}

// 4 rows x 8 columns of C: row i's columns 0..3 in ri_a, 4..7 in ri_b
struct Block { r0a: vec4<f32>, r0b: vec4<f32>, r1a: vec4<f32>, r1b: vec4<f32>,
               r2a: vec4<f32>, r2b: vec4<f32>, r3a: vec4<f32>, r3b: vec4<f32> }
// B at one k and the 8 columns
struct BRow { a: vec4<f32>, b: vec4<f32> }
// the 8 columns' places and where their C[0, j] goes, decoded once
struct Columns { c0: Place, c1: Place, c2: Place, c3: Place,
                 c4: Place, c5: Place, c6: Place, c7: Place,
                 out_a: vec4<u32>, out_b: vec4<u32> }

// One invocation's share of C: its slice of k, first row and first column
struct Job { slice: u32, k_begin: u32, k_end: u32, m: u32, j: u32 }

fn job(wg: Workgroup, lid: u32, rows: u32) -> Job {
    let slice = wg.id.z / p.blocks;
    let k_begin = slice * p.k_chunk;
    return Job(slice, k_begin, min(p.K, k_begin + p.k_chunk), (wg.id.z % p.blocks) * rows,
               (workgroup_index(wg) * 64u + lid) * COLS);
}

// columns j .. j + 7; those past the last column repeat it (read, never stored)
fn columns(j: u32) -> Columns {
    let sizes = column_sizes();
    let c0 = decode(min(j, p.cols - 1u), sizes);
    let last = p.cols - 1u;
    var c1 = c0;  if (j + 1u <= last) { c1 = next(c0, sizes); }
    var c2 = c1;  if (j + 2u <= last) { c2 = next(c1, sizes); }
    var c3 = c2;  if (j + 3u <= last) { c3 = next(c2, sizes); }
    var c4 = c3;  if (j + 4u <= last) { c4 = next(c3, sizes); }
    var c5 = c4;  if (j + 5u <= last) { c5 = next(c4, sizes); }
    var c6 = c5;  if (j + 6u <= last) { c6 = next(c5, sizes); }
    var c7 = c6;  if (j + 7u <= last) { c7 = next(c6, sizes); }
    return Columns(column_at(c0), column_at(c1), column_at(c2), column_at(c3),
                   column_at(c4), column_at(c5), column_at(c6), column_at(c7),
                   vec4<u32>(out_index(c0), out_index(c1), out_index(c2), out_index(c3)),
                   vec4<u32>(out_index(c4), out_index(c5), out_index(c6), out_index(c7)));
}

fn b_row(c: Columns, row: Place) -> BRow {
    return BRow(vec4<f32>(b_at(row, c.c0), b_at(row, c.c1), b_at(row, c.c2), b_at(row, c.c3)),
                vec4<f32>(b_at(row, c.c4), b_at(row, c.c5), b_at(row, c.c6), b_at(row, c.c7)));
}

// A at rows m .. m + 3 (clamped to the last) and the k whose offset is given
fn a_row_stride() -> u32 {
    if (MODE == 0u && FLIPPED) { return p.KH * p.KW; }
    return a_stride();
}

fn a_col(offset: u32, m: u32) -> vec4<f32> {
    let s = a_row_stride();
    let last = p.M - 1u;
    if (MODE == 2u) {
        return vec4<f32>(g[offset + min(m, last) * s], g[offset + min(m + 1u, last) * s],
                         g[offset + min(m + 2u, last) * s], g[offset + min(m + 3u, last) * s]);
    }
    return vec4<f32>(w[offset + min(m, last) * s], w[offset + min(m + 1u, last) * s],
                     w[offset + min(m + 2u, last) * s], w[offset + min(m + 3u, last) * s]);
}

// An invocation's walk along k: k's counters, stepped without dividing, and for each
// k what the multiply-adds need: B's row k at the invocation's columns, and where A's
// column k starts.
struct Walk { at: Counter, sizes: vec2<u32> }
struct KStep { b: BRow, a_offset: u32 }

fn walk_from(k: u32) -> Walk {
    let sizes = row_sizes();
    return Walk(decode(k, sizes), sizes);
}

fn take_k(walk: ptr<function, Walk>, c: Columns) -> KStep {
    let here = (*walk).at;
    (*walk).at = next(here, (*walk).sizes);
    return KStep(b_row(c, row_at(here)), a_offset_at(here));
}

// acc += a (4 rows at one k) x b (8 columns at that k): 32 multiply-adds
fn rank1(acc: ptr<function, Block>, a: vec4<f32>, b: BRow) {
    (*acc).r0a += a.x * b.a;  (*acc).r0b += a.x * b.b;
    (*acc).r1a += a.y * b.a;  (*acc).r1b += a.y * b.b;
    (*acc).r2a += a.z * b.a;  (*acc).r2b += a.z * b.b;
    (*acc).r3a += a.w * b.a;  (*acc).r3b += a.w * b.b;
}

// row m of C at the invocation's 8 columns
fn store_row(q: Job, c: Columns, m: u32, v: BRow) {
    if (m >= p.M) { return; }
    var r = v;
    if (HAS_BIAS && q.slice == 0u) { r.a += bias[m]; r.b += bias[m]; }   // once, not per slice
    if (RELU) { r.a = max(r.a, vec4<f32>(0.0)); r.b = max(r.b, vec4<f32>(0.0)); }
    let base = q.slice * p.M * p.cols + m * out_row_stride();
    let j = q.j;
    for (var i = 0u; i < 4u; i++) {
        if (j + i < p.cols) { out[base + c.out_a[i]] = r.a[i]; }
        if (j + 4u + i < p.cols) { out[base + c.out_b[i]] = r.b[i]; }
    }
}

// the Block of 4 rows from m
fn store(q: Job, c: Columns, m: u32, acc: Block) {
    store_row(q, c, m, BRow(acc.r0a, acc.r0b));
    store_row(q, c, m + 1u, BRow(acc.r1a, acc.r1b));
    store_row(q, c, m + 2u, BRow(acc.r2a, acc.r2b));
    store_row(q, c, m + 3u, BRow(acc.r3a, acc.r3b));
}

@compute @workgroup_size(64)
fn rows4(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let q = job(wg, lid, 4u);
    if (q.j >= p.cols) { return; }
    let c = columns(q.j);
    var acc0 = Block();
    var walk = walk_from(q.k_begin);
    for (var k = q.k_begin; k < q.k_end; k++) {
        let s = take_k(&walk, c);
        rank1(&acc0, a_col(s.a_offset, q.m), s.b);
    }
    store(q, c, q.m, acc0);
}

@compute @workgroup_size(64)
fn rows8(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let q = job(wg, lid, 8u);
    if (q.j >= p.cols) { return; }
    let c = columns(q.j);
    var acc0 = Block();  var acc1 = Block();
    var walk = walk_from(q.k_begin);
    for (var k = q.k_begin; k < q.k_end; k++) {
        let s = take_k(&walk, c);
        rank1(&acc0, a_col(s.a_offset, q.m), s.b);
        rank1(&acc1, a_col(s.a_offset, q.m + 4u), s.b);
    }
    store(q, c, q.m, acc0);  store(q, c, q.m + 4u, acc1);
}

@compute @workgroup_size(64)
fn rows16(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let q = job(wg, lid, 16u);
    if (q.j >= p.cols) { return; }
    let c = columns(q.j);
    var acc0 = Block();  var acc1 = Block();  var acc2 = Block();  var acc3 = Block();
    var walk = walk_from(q.k_begin);
    for (var k = q.k_begin; k < q.k_end; k++) {
        let s = take_k(&walk, c);
        rank1(&acc0, a_col(s.a_offset, q.m), s.b);
        rank1(&acc1, a_col(s.a_offset, q.m + 4u), s.b);
        rank1(&acc2, a_col(s.a_offset, q.m + 8u), s.b);
        rank1(&acc3, a_col(s.a_offset, q.m + 12u), s.b);
    }
    store(q, c, q.m, acc0);  store(q, c, q.m + 4u, acc1);  store(q, c, q.m + 8u, acc2);  store(q, c, q.m + 12u, acc3);
}
