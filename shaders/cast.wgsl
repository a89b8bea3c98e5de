// Convert between int32 and float32. Buffers are read and written as raw words
// so one kernel handles both directions.
//!include common/index.wgsl
override TO_FLOAT: bool = true;
struct Params { n: u32 }
@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> y: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);
    if (i >= p.n) { return; }
    if (TO_FLOAT) {
        y[i] = bitcast<u32>(f32(bitcast<i32>(x[i])));
    } else {
        y[i] = bitcast<u32>(i32(bitcast<f32>(x[i])));  // truncates toward zero, like PyTorch
    }
}
