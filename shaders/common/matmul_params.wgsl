// What every matrix-product kernel takes besides its operands A and B (binding 0 and
// 1, declared by each kernel: as floats in matmul_io.wgsl, as vec4s in
// matmul_blocked.wgsl): op(A) is M x K and op(B) K x N, each transposed in memory
// where TRANS_A / TRANS_B say so, `batch` products of them (a stride of 0 shares an
// operand), K cut into slices of k_chunk (split-K). RELU: C = max(C, 0) after the
// bias (a Linear and its ReLU in one kernel; the host sets it only when K is one
// slice, whose sum is then final).
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
override RELU: bool = false;

struct Params { M: u32, N: u32, K: u32, batch: u32, a_batch_stride: u32,
                b_batch_stride: u32, k_chunk: u32 }
@group(0) @binding(2) var<storage, read> bias: array<f32>;   // a dummy when unused
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
