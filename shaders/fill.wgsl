// out[i] = value, written as raw 32-bit words so it serves float32 and int32.
//!include common/index.wgsl
struct Params { n: u32, bits: u32 }
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@group(0) @binding(1) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);
    if (i < p.n) { out[i] = p.bits; }
}
