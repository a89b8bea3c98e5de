// Random numbers: element i is number offset + i of the stream of `seed`
// (common/random.wgsl). Uniform in [0, 1) from the top 24 bits; normal by Box-Muller.
//!include common/index.wgsl
//!include common/random.wgsl
struct Params { n: u32, seed: u32, offset: u32, normal: u32 }
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);
    if (i >= p.n) { return; }
    let c = p.offset + i;
    if (p.normal == 0u) {
        out[i] = uniform01(p.seed, c);
    } else {
        let u1 = uniform01(p.seed, 2u * c);
        let u2 = uniform01(p.seed, 2u * c + 1u);
        out[i] = sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
    }
}
