// out = x.permute(dims), copied as raw 32-bit words (float32 or int32). The host
// passes the output shape and, for each output dim, the stride of the input dim
// it comes from.
//!include common/index.wgsl
struct Params {
    n: u32, ndim: u32,
    shape: array<vec4<u32>, 2>,       // up to 8 dims
    in_strides: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);
    if (i >= p.n) { return; }
    var rest = i;
    var src = 0u;
    for (var d = i32(p.ndim) - 1; d >= 0; d--) {
        let size = p.shape[u32(d) / 4u][u32(d) % 4u];
        src += (rest % size) * p.in_strides[u32(d) / 4u][u32(d) % 4u];
        rest = rest / size;
    }
    out[i] = x[src];
}
