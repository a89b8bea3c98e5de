"""Launchers for engine/ops/cat.py: cat and narrow, copies of raw words into and out
of a slice of the middle axis (shaders/cat.wgsl's `place` and `take`)."""


class CatKernels:
    def _copy_piece(self, entry, src, dst, outer, piece, whole, start):
        self._run("cat", [src, dst], dict(outer=outer, piece=piece, whole=whole, start=start),
                  outer * piece, entry=entry)

    def cat(self, arrays, outer, sizes, inner):
        total = sum(sizes)
        out = self._alloc(outer * total * inner, arrays[0].dtype)
        start = 0
        for a, size in zip(arrays, sizes):   # one copy per piece, into its columns
            self._copy_piece("place", a, out, outer, size * inner, total * inner, start * inner)
            start += size
        return out

    def narrow(self, x, outer, size, start, length, inner):
        out = self._alloc(outer * length * inner, x.dtype)
        self._copy_piece("take", x, out, outer, length * inner, size * inner, start * inner)
        return out

    def copy_(self, dst, src):
        """`place` with one piece the size of the whole: a copy of raw words."""
        self._copy_piece("place", src, dst, 1, src.numel, src.numel, 0)
        return dst
