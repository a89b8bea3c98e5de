// The two numbers of a numerically stable softmax over the row x[base .. base + cols):
// its maximum m, and sum(exp(x - m)) (subtracting m first keeps exp() from
// overflowing). A narrow row belongs to one thread; a wide one to a workgroup of 256
// threads, each visiting every 256th value, whose partial results are combined
// through workgroup memory (bounded loops per thread: Mesa's lavapipe stops a
// shader after 65,535 loop iterations in all).
// Reads the including kernel's `x` binding and its p.cols.
//!include common/float.wgsl
//!include common/reduce.wgsl

struct RowStats { max: f32, sum_exp: f32 }

fn partial_max(base: u32, first: u32, step: u32) -> f32 {
    var m = -FLT_MAX;
    for (var j = first; j < p.cols; j += step) { m = max(m, x[base + j]); }
    return m;
}

fn partial_sum_exp(base: u32, first: u32, step: u32, m: f32) -> f32 {
    var total = 0.0;
    for (var j = first; j < p.cols; j += step) { total += exp(x[base + j] - m); }
    return total;
}

// a row of one thread's own
fn thread_row_stats(base: u32) -> RowStats {
    let m = partial_max(base, 0u, 1u);
    return RowStats(m, partial_sum_exp(base, 0u, 1u, m));
}

// a row of the workgroup's: every thread gets the result (barriers inside: call it
// from uniform control flow)
fn workgroup_row_stats(base: u32, lid: u32) -> RowStats {
    let m = workgroup_reduce(MAX, lid, partial_max(base, lid, 256u));
    return RowStats(m, workgroup_reduce(SUM, lid, partial_sum_exp(base, lid, 256u, m)));
}
