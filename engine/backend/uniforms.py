"""Uniform blocks laid out by the kernel's own `struct Params`.

Every kernel declares its scalar parameters once, in WGSL:

    struct Params { n: u32, arg0: f32, arg1: f32 }

and its launcher passes them by name, in the same order:

    self._run("unary", [x, out], dict(n=x.numel, arg0=a, arg1=b), ...)

`layout_of(source)` reads the struct from the WGSL and packs such a dict at the
offsets WGSL's layout rules give (padding included), so no launcher packs bytes
by hand and a launcher that disagrees with its shader fails on its first call.
tests/test_launchers.py runs every launcher against every shader's struct.
"""
import re
import struct

# WGSL type -> (struct format letter, number of values, alignment, size in bytes)
_SCALARS = {"u32": "I", "i32": "i", "f32": "f"}
_VECTOR = re.compile(r"vec([234])<(u32|i32|f32)>$")
_ARRAY = re.compile(r"array<(.+),\s*(\d+)u?>$")


def _type(wgsl):
    """-> (format letter, count, align, size) of a uniform member's type."""
    if wgsl in _SCALARS:
        return _SCALARS[wgsl], 1, 4, 4
    vector = _VECTOR.match(wgsl)
    if vector:
        n = int(vector.group(1))
        return _SCALARS[vector.group(2)], n, 16 if n >= 3 else 8, 4 * n
    array = _ARRAY.match(wgsl)
    if array:
        letter, count, align, size = _type(array.group(1).strip())
        if size % 16:   # the uniform address space wants 16-byte array strides
            raise ValueError(f"uniform array<{array.group(1)}>: elements must be 16 bytes "
                             "(use vec4)")
        n = int(array.group(2))
        return letter, count * n, 16, size * n
    raise ValueError(f"unsupported uniform member type {wgsl!r}")


def _members(body):
    """'n: u32, shape: array<vec4<u32>, 2>' -> [('n', 'u32'), ('shape', 'array<...>')]."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(body + ","):
        depth += (ch == "<") - (ch == ">")
        if ch == "," and depth == 0:
            if body[start:i].strip():
                name, wgsl = body[start:i].split(":", 1)
                parts.append((name.strip(), wgsl.strip()))
            start = i + 1
    return parts


class UniformLayout:
    """The members of one kernel's `struct Params`, and how to pack them."""

    def __init__(self, kernel, members):
        self.kernel = kernel
        self.fields = []        # (name, WGSL type, number of values)
        fmt, offset, align = "<", 0, 16
        for name, wgsl in members:
            letter, count, member_align, size = _type(wgsl)
            pad = -offset % member_align
            fmt += f"{pad}x" * bool(pad) + f"{count}{letter}"
            offset += pad + size
            self.fields.append((name, wgsl, count))
        self.size = offset + (-offset % align)   # uniform blocks: a multiple of 16 bytes
        self._struct = struct.Struct(fmt + f"{self.size - offset}x")
        self.names = tuple(name for name, _, _ in self.fields)
        self._vectors = any(count > 1 for _, _, count in self.fields)

    def pack(self, values):
        """A dict with exactly the struct's members, in its order -> the uniform's bytes.
        Array and vector members take a sequence, padded with zeros."""
        if tuple(values) != self.names:
            raise ValueError(f"kernel {self.kernel!r}: the launcher gives the uniform fields "
                             f"{list(values)} but its struct Params declares "
                             f"{list(self.names)} (same names, same order)")
        if not self._vectors:
            return self._struct.pack(*values.values())
        flat = []
        for (_, _, count), v in zip(self.fields, values.values()):
            if count == 1:
                flat.append(v)
            else:
                flat.extend(v)
                flat.extend([0] * (count - len(v)))
        return self._struct.pack(*flat)


_PARAMS = re.compile(r"struct\s+Params\s*\{(.*?)\}", re.S)
_COMMENT = re.compile(r"//[^\n]*")


def layout_of(kernel, source):
    """The UniformLayout of the `struct Params` in a kernel's WGSL source."""
    found = _PARAMS.findall(_COMMENT.sub("", source))
    if len(found) != 1:
        raise ValueError(f"kernel {kernel!r}: expected one `struct Params`, found {len(found)}")
    return UniformLayout(kernel, _members(found[0]))
