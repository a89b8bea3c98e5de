// What the update kernels that take two parameters at once share (sgd.wgsl, adam.wgsl):
// one dispatch where there would be two, since an optimizer's parameters come in
// pairs (a layer's weight and bias). Parameter a's arrays are bound first, then b's;
// a lone parameter leaves b empty (p.b_n = 0, b's bindings dummies). Each invocation
// takes a run of four floats (common/vec4_runs.wgsl): the first runs(p.a_n) are a's,
// the rest b's.
//
// WGSL cannot hand a storage array to a function, so a kernel writes its loads and
// stores once per parameter, around one function that does the arithmetic on values.
//!include common/index.wgsl
//!include common/vec4_runs.wgsl

// How many runs of four an array of n floats takes.
fn runs(n: u32) -> u32 {
    return (n + 3u) / 4u;
}
