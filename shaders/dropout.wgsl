// Inverted dropout, one thread per element: keep x[i] * scale, scale = 1 / (1 - p),
// or 0. Element i is kept when the 24-bit random number of (seed, offset + i) is at
// least threshold = ceil(p * 2^24): the same numbers as random.wgsl (and its numpy
// copy in engine/backend/cpu_numpy.py), so a seed gives the same mask on every
// backend, and the backward pass can redraw the mask instead of storing it.
struct Params { n: u32, seed: u32, offset: u32, threshold: u32, scale: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

// PCG-RXS-M-XS, as in random.wgsl
fn pcg(v: u32) -> u32 {
    let state = v * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = (wid.y * nwg.x + wid.x) * 256u + lid;
    if (i >= p.n) { return; }
    let bits = pcg(pcg(p.seed) ^ pcg(p.offset + i)) >> 8u;   // uniform01 * 2^24 in random.wgsl
    out[i] = select(0.0, x[i] * p.scale, bits >= p.threshold);
}
