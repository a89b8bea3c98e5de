// Element-wise kernels that take their arrays as runs of four (array<vec4<f32>>),
// one run per invocation. Why: on a CPU-backed adapter (SwiftShader in Chrome,
// lavapipe) every load from a storage buffer is a separate gather per invocation,
// so one vec4 load does the work of four; on a GPU a vec4 is a wider transaction.
// Every buffer is a whole number of vec4s (runtime.py's size classes are multiples
// of 16 bytes), so the last run may read past n but stays inside the buffer; its
// elements at n and after must be written back unchanged.

// Which of run i's four elements (4i .. 4i + 3) are below n.
fn run_mask(i: u32, n: u32) -> vec4<bool> {
    return vec4<u32>(4u * i) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(n);
}

// Whether all of run i lies below n: it can be stored whole, without reading back
// the old values to keep (only the last run of a kernel cannot).
fn whole_run(i: u32, n: u32) -> bool {
    return 4u * i + 4u <= n;
}
