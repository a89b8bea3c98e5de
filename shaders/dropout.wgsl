// Inverted dropout, one thread per element: keep x[i] * scale, scale = 1 / (1 - p),
// or 0. Element i is kept when the 24-bit random number offset + i of the stream of
// `seed` is at least threshold = ceil(p * 2^24): the numbers of random.wgsl (and of
// its numpy copy in engine/backend/cpu_numpy.py), so a seed gives the same mask on
// every backend, and the backward pass can redraw the mask instead of storing it.
//!include common/index.wgsl
//!include common/random.wgsl
struct Params { n: u32, seed: u32, offset: u32, threshold: u32, scale: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);
    if (i >= p.n) { return; }
    let keep = random_bits24(p.seed, p.offset + i) >= p.threshold;
    out[i] = select(0.0, x[i] * p.scale, keep);
}
