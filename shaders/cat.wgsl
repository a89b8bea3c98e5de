// Concatenation and its inverse, as copies of raw 32-bit words (float32 or int32).
// Both view the big tensor as (outer, whole) rows and one piece as (outer, piece)
// rows, the piece starting at column `start` of each row:
//   place: big[o, start + j] = piece[o, j]   (cat: one dispatch per input)
//   take:  piece[o, j] = big[o, start + j]   (cat's backward: one per input)
// Joining along dim d: outer = prod(shape[:d]), and piece, whole and start are
// sizes along d times inner = prod(shape[d+1:]).
//!include common/index.wgsl
struct Params { outer: u32, piece: u32, whole: u32, start: u32 }
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;

fn position(i: u32) -> u32 {   // where piece element i sits in the big tensor
    return (i / p.piece) * p.whole + p.start + i % p.piece;
}

@compute @workgroup_size(256)
fn place(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);
    if (i < p.outer * p.piece) { dst[position(i)] = src[i]; }
}

@compute @workgroup_size(256)
fn take(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);
    if (i < p.outer * p.piece) { dst[i] = src[position(i)]; }
}
