// Counter-based random numbers: number i of a stream is a hash of (seed, i), so any
// backend reproduces a stream without sharing state (engine/backend/cpu_numpy.py
// has the same hash).

// PCG-RXS-M-XS, a small high-quality 32-bit hash (Jarzynski & Olano, 2020)
fn pcg(v: u32) -> u32 {
    let state = v * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

// 24 random bits (an integer in [0, 2^24)) for `counter` in the stream of `seed`
fn random_bits24(seed: u32, counter: u32) -> u32 {
    return pcg(pcg(seed) ^ pcg(counter)) >> 8u;
}

// uniform in [0, 1): the 24 bits times 2^-24, exact in float32
fn uniform01(seed: u32, counter: u32) -> f32 {
    return f32(random_bits24(seed, counter)) * (1.0 / 16777216.0);
}
