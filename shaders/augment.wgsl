// Data augmentation, one thread per output pixel of a (count, channels, height, width)
// batch. Each image draws its own transform from the counter-based random numbers of
// (seed, image * 16 + k) (common/random.wgsl), so every pixel of an image agrees on it
// without talking to the others, and numpy (engine/backend/cpu_numpy/augment.py)
// draws the same one.
//
// Geometry: the output pixel is mapped back into the input (flip, shift, then rotation
// and scale) and takes the nearest pixel there, or `fill` outside the image. The map is
// computed in integers (fixed point, 14 fractional bits), rotation included: with
// t = tan(angle / 2) = m / D, cos = (D^2 - m^2) / (D^2 + m^2) and sin = 2mD / (D^2 + m^2)
// are exact fractions, so no sin(), cos() or float rounding decides which pixel is read
// and both backends pick the same pixels, bit for bit.
// Then, in output coordinates: a cut-out square set to `fill`; brightness and contrast
// (around mid-grey `mid`); Gaussian noise (Box-Muller); the last three clamp to
// [fill, top], the values of black and white.
//!include common/index.wgsl
//!include common/random.wgsl
struct Params {
    count: u32, channels: u32, height: u32, width: u32,
    seed: u32, max_shift: u32, max_turn: u32, scale_min: u32,
    scale_max: u32, flip_below: u32, cutout_below: u32, cutout_size: u32,
    fill: f32, mid: f32, top: f32, brightness: f32,
    contrast: f32, noise: f32,
}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

const TURN_DENOMINATOR: u32 = 256u;   // engine/backend/augment_fields.py
const SCALE_ONE: u32 = 1024u;
const IMAGE_STREAM: u32 = 16u;
const FRACTION_BITS: u32 = 14u;
const NOISE_KEY: u32 = 0x9e3779b9u;   // the noise is its own stream: seed ^ NOISE_KEY

// the image's random parameter number k (24 bits)
fn image_bits(image: u32, k: u32) -> u32 {
    return random_bits24(p.seed, image * IMAGE_STREAM + k);
}

// an integer in [-limit, limit] from 24 random bits
fn symmetric(bits: u32, limit: u32) -> i32 {
    return i32(bits % (2u * limit + 1u)) - i32(limit);
}

// in [-1, 1): exact in float32, as in numpy
fn signed_unit(image: u32, k: u32) -> f32 {
    return 2.0 * uniform01(p.seed, image * IMAGE_STREAM + k) - 1.0;
}

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);
    let plane_size = p.height * p.width;
    if (i >= p.count * p.channels * plane_size) { return; }
    let col = i % p.width;
    let row = (i / p.width) % p.height;
    let plane = i / plane_size;
    let image = plane / p.channels;

    // the pixel's centre relative to the image's, in half pixels (integers for any size)
    var u = 2 * i32(col) - i32(p.width) + 1;
    var v = 2 * i32(row) - i32(p.height) + 1;
    if (image_bits(image, 0u) < p.flip_below) { u = -u; }
    u = u - 2 * symmetric(image_bits(image, 1u), p.max_shift);
    v = v - 2 * symmetric(image_bits(image, 2u), p.max_shift);
    let m = symmetric(image_bits(image, 3u), p.max_turn);
    let scale = p.scale_min + image_bits(image, 4u) % (p.scale_max - p.scale_min + 1u);
    let am = u32(abs(m));
    let d2 = TURN_DENOMINATOR * TURN_DENOMINATOR;
    let denominator = d2 + am * am;
    // cos / scale and sin / scale in fixed point (unsigned, so the divisions round down
    // alike on both backends); m's sign is sin's
    let a = i32((((d2 - am * am) << FRACTION_BITS) / denominator) * SCALE_ONE / scale);
    var b = i32((((2u * am * TURN_DENOMINATOR) << FRACTION_BITS) / denominator) * SCALE_ONE / scale);
    if (m < 0) { b = -b; }
    // source position in half pixels, then the nearest pixel: floor((s + size) / 2),
    // a floor by arithmetic shift
    let one = i32(1u << FRACTION_BITS);
    let src_col = (a * u + b * v + i32(p.width) * one) >> (FRACTION_BITS + 1u);
    let src_row = (a * v - b * u + i32(p.height) * one) >> (FRACTION_BITS + 1u);
    var value = p.fill;
    if (src_col >= 0 && src_col < i32(p.width) && src_row >= 0 && src_row < i32(p.height)) {
        value = x[plane * plane_size + u32(src_row) * p.width + u32(src_col)];
    }

    if (image_bits(image, 5u) < p.cutout_below) {
        let half = i32(p.cutout_size / 2u);
        let left = i32(image_bits(image, 6u) % p.width) - half;
        let upper = i32(image_bits(image, 7u) % p.height) - half;
        let size = i32(p.cutout_size);
        if (i32(col) >= left && i32(col) < left + size && i32(row) >= upper && i32(row) < upper + size) {
            value = p.fill;
        }
    }

    let photometric = p.brightness > 0.0 || p.contrast > 0.0;
    if (photometric) {
        let contrast = 1.0 + p.contrast * signed_unit(image, 8u);
        let brightness = p.brightness * signed_unit(image, 9u);
        value = (value - p.mid) * contrast + p.mid + brightness;
    }
    if (p.noise > 0.0) {
        let u1 = uniform01(p.seed ^ NOISE_KEY, 2u * i);
        let u2 = uniform01(p.seed ^ NOISE_KEY, 2u * i + 1u);
        value = value + p.noise * (sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2));
    }
    if (photometric || p.noise > 0.0) {
        value = clamp(value, p.fill, p.top);
    }
    out[i] = value;
}
