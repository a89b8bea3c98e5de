// Counter-based random numbers: element i is a hash of (seed, offset + i), so
// any backend reproduces a stream without sharing state (engine/backend/cpu_numpy.py
// has the same hash). Uniform in [0, 1) from the top 24 bits; normal by Box-Muller.
struct Params { n: u32, seed: u32, offset: u32, normal: u32 }
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;

// PCG-RXS-M-XS, a small high-quality 32-bit hash (Jarzynski & Olano, 2020)
fn pcg(v: u32) -> u32 {
    let state = v * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

fn uniform01(key: u32, counter: u32) -> f32 {
    return f32(pcg(key ^ pcg(counter)) >> 8u) * (1.0 / 16777216.0);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = (wid.y * nwg.x + wid.x) * 256u + lid;
    if (i >= p.n) { return; }
    let key = pcg(p.seed);
    let c = p.offset + i;
    if (p.normal == 0u) {
        out[i] = uniform01(key, c);
    } else {
        let u1 = uniform01(key, 2u * c);
        let u2 = uniform01(key, 2u * c + 1u);
        out[i] = sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
    }
}
