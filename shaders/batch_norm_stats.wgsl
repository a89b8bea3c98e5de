// Per-channel sums for batch normalisation, x viewed as (n, c, l): channel ch holds
// x[(i * c + ch) * l + j] for i < n, j < l, count = n * l values.
// Channels can be few and huge ((64, 3, 224, 224) has 3 channels of 3.2M values), so
// as in reduce.wgsl each channel is cut into chunks of `chunk` values, a workgroup
// each, that writes one partial sum (tree reduction in shared memory); the host adds
// the (c, nchunks) partials with reduce.wgsl. Every loop stays short: Mesa's lavapipe
// stops a shader after 65,535 iterations of one loop.
// WHAT picks the summand:
//   0: x                   -> the mean (the host divides by count)
//   1: (x - mean)^2        -> the biased variance; a second pass over x, because
//                             E[x^2] - E[x]^2 loses every digit when |mean| >> std
//   2: g * (x - mean) / sqrt(var + eps) = g * xhat  -> the weight's gradient
//!include common/index.wgsl
//!include common/reduce.wgsl
override WHAT: u32 = 0u;
struct Params { n: u32, c: u32, l: u32, chunk: u32, eps: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;          // WHAT 2 only
@group(0) @binding(2) var<storage, read> mean: array<f32>;       // WHAT 1 and 2
@group(0) @binding(3) var<storage, read> variance: array<f32>;   // WHAT 2
@group(0) @binding(4) var<storage, read_write> out: array<f32>;  // (c, nchunks)
@group(0) @binding(5) var<uniform> p: Params;

fn summand(i: u32, ch: u32) -> f32 {
    switch WHAT {
        case 1u: { let d = x[i] - mean[ch]; return d * d; }
        case 2u: { return g[i] * (x[i] - mean[ch]); }   // times 1/std once, at the end
        default: { return x[i]; }
    }
}

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let w = workgroup_index(wg);          // = ch * nchunks + chunk, the whole workgroup's
    let count = p.n * p.l;
    let nchunks = (count + p.chunk - 1u) / p.chunk;
    if (w >= p.c * nchunks) { return; }
    let ch = w / nchunks;
    let start = (w % nchunks) * p.chunk;
    let end = min(count, start + p.chunk);
    var acc = 0.0;
    for (var k = start + lid; k < end; k += 256u) {
        // the channel's k-th value: sample k / l, position k % l
        acc += summand(((k / p.l) * p.c + ch) * p.l + k % p.l, ch);
    }
    acc = workgroup_reduce(SUM, lid, acc);
    if (lid == 0u) {
        if (WHAT == 2u) { acc /= sqrt(variance[ch] + p.eps); }
        out[w] = acc;
    }
}
