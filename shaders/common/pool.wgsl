// What the four pooling kernels share. Images are (planes, in_h, in_w), planes =
// N * C; windows kh x kw, every (sh, sw) pixels, over the input padded by (ph, pw).
// A thread walks positions k in [k0, k1) only: Mesa's lavapipe stops a thread after
// 65,535 loop iterations in all, so the host cuts long walks (huge windows, global
// pooling) into several dispatches, each going on from the previous one's result.
struct Params { planes: u32, in_h: u32, in_w: u32, out_h: u32, out_w: u32,
                kh: u32, kw: u32, sh: u32, sw: u32, ph: u32, pw: u32, k0: u32, k1: u32 }

// The host sets FLOAT_DIVISION when every index these kernels divide is below 2^21
// (engine/backend/kernels/pool.py). Why: a CPU-backed adapter (SwiftShader, lavapipe)
// cannot vectorise u32 division, and float division it can; the pooling kernels
// divide several times per thread, and this makes the backward ~25% faster there.
override FLOAT_DIVISION: bool = false;

// x / d, rounded down. Through f32 for x < 2^21: f32 holds x and d exactly, WGSL's
// division is within 2.5 ULP, so the estimate is off by at most one, and the two
// tests after it put that right.
fn divide(x: u32, d: u32) -> u32 {
    if (!FLOAT_DIVISION) { return x / d; }
    var q = u32(f32(x) / f32(d));
    if (q * d > x) { q -= 1u; } else if (x - q * d >= d) { q += 1u; }
    return q;
}

// -- forward: a thread per output ------------------------------------------------
// Output i's window: its plane's first pixel, and its top-left corner (which may lie
// in the padding).
struct Window { base: u32, top: i32, left: i32 }

fn window_of(i: u32) -> Window {
    let plane = divide(i, p.out_w * p.out_h);
    let rest = i - plane * p.out_w * p.out_h;        // oh * out_w + ow
    let oh = divide(rest, p.out_w);
    let ow = rest - oh * p.out_w;
    return Window(plane * p.in_h * p.in_w, i32(oh * p.sh) - i32(p.ph), i32(ow * p.sw) - i32(p.pw));
}

// Step k = r * width + c of a walk over a grid `width` wide, kept as at = (r, c) and
// moved on by one with grid_next: the walk divides once, at its start, not at every
// step (integer division is slow on CPU-backed adapters, which cannot vectorise it).
fn grid_start(k: u32, width: u32) -> vec2<u32> {
    return vec2<u32>(k / width, k % width);
}

fn grid_next(at: vec2<u32>, width: u32) -> vec2<u32> {
    if (at.y + 1u == width) { return vec2<u32>(at.x + 1u, 0u); }
    return vec2<u32>(at.x, at.y + 1u);
}

// Pixel at = (r, c) of the window as h * in_w + w within its plane, or -1 in the padding.
fn window_pixel(win: Window, at: vec2<u32>) -> i32 {
    let h = win.top + i32(at.x);
    let w = win.left + i32(at.y);
    if (h < 0 || w < 0 || h >= i32(p.in_h) || w >= i32(p.in_w)) { return -1; }
    return h * i32(p.in_w) + w;
}
