// Build a float batch from a dataset kept on the GPU as bytes:
//   out[r, j] = images[indices[r], j] * scale + shift
// The images buffer packs 4 uint8 pixels per 32-bit word (little-endian), so a
// whole MNIST training set is 47 MB on the GPU and a step uploads only indices.
//!include common/index.wgsl
struct Params { count: u32, row_len: u32, scale: f32, shift: f32 }
@group(0) @binding(0) var<storage, read> images: array<u32>;
@group(0) @binding(1) var<storage, read> indices: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);
    if (i >= p.count * p.row_len) { return; }
    let r = i / p.row_len;
    let byte = u32(indices[r]) * p.row_len + i % p.row_len;
    let pixel = (images[byte / 4u] >> ((byte % 4u) * 8u)) & 0xffu;
    out[i] = f32(pixel) * p.scale + p.shift;
}
