"""Finding the WGSL kernels: shaders/NAME.wgsl beside the engine package.

The same files serve wgpu natively and WebGPU in the browser (the server ships
engine/ and shaders/ together in one zip), so there is one copy of each kernel.

WGSL has no includes, so kernels share code through a line of their own:

    //!include common/index.wgsl

(a comment to any WGSL tool; the path is relative to the shaders folder).
`load_shader` replaces each such line with that file's text, and so on inside it.
A file goes into a kernel once: a second include of it, from anywhere, is
dropped, so two headers may both include common/float.wgsl. An include that
leads back to a file still being included is a cycle, an error naming the
chain. Assembled kernels are cached.
"""
import os

INCLUDE = "//!include "


class ShaderIncludeError(ValueError):
    pass


def _find_shader_dir():
    """The kernels' folder: engine/_shaders in an installed wheel (pyproject.toml ships the
    top-level shaders/ there, subfolders included), else shaders/ beside the engine package
    (a source checkout, or the zip the browser unpacks)."""
    package = os.path.dirname(os.path.abspath(__file__))
    installed = os.path.join(package, "_shaders")
    if os.path.isdir(installed):
        return installed
    return os.path.join(os.path.dirname(package), "shaders")


_DIR = _find_shader_dir()
_files = {}     # name -> the text of its file
_kernels = {}   # name -> its source with every include resolved


def shader_path(name):
    """shaders/NAME.wgsl ('matmul', 'common/index'); a path ending in .wgsl (a kernel
    outside the folder, such as bench/shaders/*.wgsl) is taken as it is."""
    if name.endswith(".wgsl"):
        return name
    return os.path.join(_DIR, name + ".wgsl")


def _read(name, included_from=None):
    if name not in _files:
        path = shader_path(name)
        try:
            with open(path, encoding="utf-8") as f:
                _files[name] = f.read()
        except FileNotFoundError:
            where = f" (included by {included_from})" if included_from else ""
            raise FileNotFoundError(f"kernel {name!r}{where} not found: expected {path}") from None
    return _files[name]


def _assemble(name, chain, included, out):
    """Append NAME's lines to `out`, each include replaced by its file. chain: the
    files being expanded, outermost first; included: the files already in."""
    for number, line in enumerate(_read(name, chain[-1] if chain else None).splitlines(), 1):
        if not line.startswith(INCLUDE):
            out.append(line)
            continue
        target = line[len(INCLUDE):].strip().removesuffix(".wgsl")
        if target in chain or target == name:
            cycle = " -> ".join(f"{n}.wgsl" for n in chain + [name, target])
            raise ShaderIncludeError(f"include cycle: {cycle} (line {number} of {name}.wgsl)")
        if target not in included:
            included.add(target)
            _assemble(target, chain + [name], included, out)


def load_shader(name):
    """The WGSL source of kernel NAME, its //!include lines resolved."""
    if name not in _kernels:
        out = []
        _assemble(name, [], {name}, out)
        _kernels[name] = "\n".join(out) + "\n"
    return _kernels[name]
