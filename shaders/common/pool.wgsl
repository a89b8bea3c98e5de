// What the four pooling kernels share. Images are (planes, in_h, in_w), planes =
// N * C; windows kh x kw, every (sh, sw) pixels, over the input padded by (ph, pw).
// A thread walks positions k in [k0, k1) only: Mesa's lavapipe stops a thread after
// 65,535 loop iterations in all, so the host cuts long walks (huge windows, global
// pooling) into several dispatches, each going on from the previous one's result.
struct Params { planes: u32, in_h: u32, in_w: u32, out_h: u32, out_w: u32,
                kh: u32, kw: u32, sh: u32, sw: u32, ph: u32, pw: u32, k0: u32, k1: u32 }

// -- forward: a thread per output ------------------------------------------------
// Output i's window: its plane's first pixel, and its top-left corner (which may lie
// in the padding).
struct Window { base: u32, top: i32, left: i32 }

// Output i as (plane, oh, ow): two divisions, not four.
struct Output { plane: u32, oh: u32, ow: u32 }

fn output_of(i: u32) -> Output {
    let row = i / p.out_w;            // plane * out_h + oh
    let plane = row / p.out_h;
    return Output(plane, row - plane * p.out_h, i - row * p.out_w);
}

fn window_of(i: u32) -> Window {
    let o = output_of(i);
    return Window(o.plane * p.in_h * p.in_w,
                  i32(o.oh * p.sh) - i32(p.ph), i32(o.ow * p.sw) - i32(p.pw));
}

// Where a walk over the window's pixels k = r * kw + c is: its row and column are
// counters, so a step costs no u32 division (emulated, and slow, on CPU-backed
// adapters); only the walk's start divides.
struct Tap { r: u32, c: u32 }

fn first_tap(k: u32) -> Tap {
    return Tap(k / p.kw, k % p.kw);
}

fn next_tap(t: Tap) -> Tap {
    let wrap = t.c + 1u == p.kw;
    return Tap(select(t.r, t.r + 1u, wrap), select(t.c + 1u, 0u, wrap));
}

// The window's pixel at tap t as h * in_w + w within its plane, or -1 in the padding.
fn window_pixel(win: Window, t: Tap) -> i32 {
    let h = win.top + i32(t.r);
    let w = win.left + i32(t.c);
    if (h < 0 || w < 0 || h >= i32(p.in_h) || w >= i32(p.in_w)) { return -1; }
    return h * i32(p.in_w) + w;
}
