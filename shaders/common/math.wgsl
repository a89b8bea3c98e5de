// Functions the element-wise kernels share: unary.wgsl computes the activations,
// binary.wgsl their derivatives (engine/backend/elementwise_table.py mirrors each
// in numpy).
//!include common/float.wgsl

// x^a for any sign of x: WGSL's pow is only defined for x >= 0
fn signed_pow(v: f32, a: f32) -> f32 {
    if (a == 0.0) { return 1.0; }
    let r = pow(abs(v), a);
    if (v >= 0.0) { return r; }
    if (fract(a) != 0.0) { return nan(); }       // NaN, like PyTorch
    if (fract(a * 0.5) != 0.0) { return -r; }    // odd power
    return r;
}

// tanh without overflow: exp(-2|v|) never exceeds 1 (some GPUs' tanh gives NaN at |v| > 44)
fn safe_tanh(v: f32) -> f32 {
    let e = exp(-2.0 * abs(v));
    return sign(v) * (1.0 - e) / (1.0 + e);
}

fn sigmoid(v: f32) -> f32 {
    return 1.0 / (1.0 + exp(-v));
}

// log(1 + u), accurate for tiny u where 1 + u rounds (Goldberg's trick)
fn log1p(u: f32) -> f32 {
    let w = 1.0 + u;
    if (w == 1.0) { return u; }
    return log(w) * u / (w - 1.0);
}

// The error function; WGSL has none. Two pieces:
//   |x| < 0.75:  its Maclaurin series 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1)) to
//                n = 8 (the first term left out is below 1e-9 of the sum);
//   |x| >= 0.75: 1 - erfc(|x|), erfc by Numerical Recipes' Chebyshev fit (erfcc,
//                fractional error below 1.2e-7), sign restored; past |x| = 3.9 it is 1.
// Measured against float64 (tests/test_elementwise_table.py, 2.4 million points on
// [-6, 6] and down to 1e-30): at most 2.9 units in the last place, 1.7e-7 absolute, on
// lavapipe (near |x| = 0.8; numpy's float32 copy in engine/backend/elementwise_table.py:
// 2.5 ulp, 1.4e-7). Float32 rounding in the two polynomials and exp make most of it.
fn erf(x: f32) -> f32 {
    let z = abs(x);
    let z2 = x * x;
    if (z < 0.75) {
        return x * (1.1283791670955126 + z2 * (-0.37612638903183754 + z2 * (
            0.11283791670955126 + z2 * (-0.026866170645131252 + z2 * (
            0.005223977625442188 + z2 * (-0.0008548327023450852 + z2 * (
            0.00012055332981789664 + z2 * (-1.492565035840625e-05
            + z2 * 1.6462114365889246e-06))))))));
    }
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
        -0.82215223 + t * 0.17087277))))))));
    let erfc = t * exp(-z2 + poly);
    return select(erfc - 1.0, 1.0 - erfc, x >= 0.0);
}

// GELU = x * Phi(x), Phi the standard normal CDF (PyTorch's exact form) ...
fn normal_cdf(v: f32) -> f32 {
    return 0.5 * (1.0 + erf(v * 0.7071067811865476));
}

// ... and its derivative Phi(x) + x * phi(x), phi the normal density
fn gelu_slope(v: f32) -> f32 {
    return normal_cdf(v) + v * 0.3989422804014327 * exp(-0.5 * v * v);
}

// approximate='tanh': x * 0.5 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
fn gelu_tanh_inner(v: f32) -> f32 {
    return safe_tanh(0.7978845608028654 * (v + 0.044715 * v * v * v));
}

fn gelu_tanh_slope(v: f32) -> f32 {
    let t = gelu_tanh_inner(v);
    return 0.5 * (1.0 + t)
        + 0.5 * v * (1.0 - t * t) * 0.7978845608028654 * (1.0 + 3.0 * 0.044715 * v * v);
}

// PyTorch's softplus: log(1 + exp(beta x)) / beta, or x where beta x > threshold
fn softplus(v: f32, beta: f32, threshold: f32) -> f32 {
    let z = beta * v;
    if (z > threshold) { return v; }
    return (max(z, 0.0) + log1p(exp(-abs(z)))) / beta;   // stable for any sign of z
}
