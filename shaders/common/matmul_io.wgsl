// The operands of matmul.wgsl and matmul_scalar.wgsl, read one float at a time; the
// rest of what they take is common/matmul_params.wgsl.
//!include common/matmul_params.wgsl
@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
