// The inner loop of the tiled matrix products (matmul.wgsl, conv2d.wgsl). A workgroup
// stages a 16-deep slice of A (the tile's rows) and of B (its 64 columns) in workgroup
// memory, as vec4s; each thread then accumulates its 4x4 block of C in four vec4
// registers: named fields, not an indexed array, which GPUs keep in registers (a
// dynamically indexed local array ran 30x slower on an H100).
var<workgroup> a_tile: array<vec4<f32>, 256>;   // [k][m / 4]: up to 16 vec4 per k
var<workgroup> b_tile: array<vec4<f32>, 256>;   // [k][n / 4]: 16 vec4 per k

struct Block { r0: vec4<f32>, r1: vec4<f32>, r2: vec4<f32>, r3: vec4<f32> }

// acc += A's rows 4 * row4 .. + 3 times B's columns 4 * col4 .. + 3, over the staged slice
fn multiply_tiles(acc: ptr<function, Block>, row4: u32, col4: u32) {
    for (var k = 0u; k < 16u; k++) {
        let a = a_tile[k * 16u + row4];
        let b = b_tile[k * 16u + col4];
        (*acc).r0 += a.x * b;
        (*acc).r1 += a.y * b;
        (*acc).r2 += a.z * b;
        (*acc).r3 += a.w * b;
    }
}

// Rows m .. m + 3, columns n .. n + 3 of C, through the kernel's own
// store_row(z, m, n, values), which knows C's layout and its edges.
fn store_block(z: u32, m: u32, n: u32, acc: Block) {
    store_row(z, m, n, acc.r0);
    store_row(z, m + 1u, n, acc.r1);
    store_row(z, m + 2u, n, acc.r2);
    store_row(z, m + 3u, n, acc.r3);
}
