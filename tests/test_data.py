"""The data layer: IDX reading/writing, its error messages, and the MNIST dataset class."""
import array
import gzip
import hashlib
import importlib.util
import os
import struct
import subprocess
import sys

import pytest

from engine.data.idx import IdxFormatError, read_idx, write_idx
from engine.data.mnist import DATASETS, FILES, MNIST, FashionMNIST

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REAL_MNIST = os.path.join(ROOT, "data", "mnist")


def idx_bytes(shape, data, code=0x08):
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + data


def write_raw(path, blob):
    path.write_bytes(blob)
    return str(path)


# --- round trips ------------------------------------------------------------------------------

@pytest.mark.parametrize("compress", [True, False])
def test_uint8_round_trip(tmp_path, compress):
    shape, data = (3, 4, 5), bytes(range(60))
    path = tmp_path / "x-idx3-ubyte"
    write_idx(path, shape, data, gzip=compress)
    on_disk = path.read_bytes()
    assert (on_disk[:2] == b"\x1f\x8b") == compress
    if not compress:
        assert on_disk == idx_bytes(shape, data)
    got = read_idx(path)
    assert got.shape == shape and got.dtype == "uint8"
    assert isinstance(got.data, bytes) and got.data == data
    assert read_idx(on_disk) == got  # from bytes too


@pytest.mark.parametrize("dtype,typecode,values", [
    ("int8", "b", [-128, -1, 0, 127]),
    ("int16", "h", [-32768, -2, 1, 32767]),
    ("int32", "i", [-2**31, -3, 70000, 2**31 - 1]),
    ("float32", "f", [-1.5, 0.0, 0.25, 3e38]),
    ("float64", "d", [-1e300, 0.1, 2.0, 1e-300]),
])
def test_other_dtypes_round_trip(tmp_path, dtype, typecode, values):
    path = tmp_path / f"{dtype}.idx"
    write_idx(path, (2, 2), array.array(typecode, values), dtype=dtype)
    got = read_idx(path)
    assert got.shape == (2, 2) and got.dtype == dtype
    assert got.data.typecode == typecode and list(got.data) == list(array.array(typecode, values))


def test_values_are_big_endian_on_disk(tmp_path):
    path = tmp_path / "one"
    write_idx(path, (1,), array.array("i", [1]), dtype="int32", gzip=False)
    assert path.read_bytes() == bytes([0, 0, 0x0C, 1, 0, 0, 0, 1, 0, 0, 0, 1])


def test_gzip_is_detected_by_magic_not_name(tmp_path):
    blob = idx_bytes((2,), b"\x07\x09")
    gz_named_idx = write_raw(tmp_path / "labels.idx", gzip.compress(blob))
    raw_named_gz = write_raw(tmp_path / "labels.gz", blob)
    assert read_idx(gz_named_idx).data == read_idx(raw_named_gz).data == b"\x07\x09"


def test_gzipped_output_is_reproducible(tmp_path):
    write_idx(tmp_path / "a", (4,), b"abcd")
    write_idx(tmp_path / "b", (4,), b"abcd")
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()


def test_write_idx_checks_its_arguments(tmp_path):
    with pytest.raises(ValueError, match=r"3 bytes of data do not fit shape \(2, 2\)"):
        write_idx(tmp_path / "x", (2, 2), b"abc")
    with pytest.raises(ValueError, match="unknown dtype 'uint16'"):
        write_idx(tmp_path / "x", (1,), b"ab", dtype="uint16")
    assert not (tmp_path / "x").exists()


# --- errors: each names the file and the problem -----------------------------------------------

def test_wrong_magic(tmp_path):
    path = write_raw(tmp_path / "page.html", b"<!DOCTYPE html>")
    with pytest.raises(IdxFormatError) as err:
        read_idx(path)
    msg = str(err.value)
    assert msg.startswith(path + ":")
    assert "magic bytes are 3c 21 44 4f" in msg and "expected 00 00 <dtype code> <ndim>" in msg


def test_unknown_dtype_code(tmp_path):
    path = write_raw(tmp_path / "weird", bytes([0, 0, 0x0A, 1, 0, 0, 0, 1, 5]))
    with pytest.raises(IdxFormatError) as err:
        read_idx(path)
    msg = str(err.value)
    assert msg.startswith(path + ":") and "unknown IDX dtype code 0a" in msg and "08 (uint8)" in msg


@pytest.mark.parametrize("blob,problem", [
    (b"\x00\x00", "truncated header: found 2 bytes"),
    (bytes([0, 0, 8, 3, 0, 0, 0xEA, 0x60, 0, 0]), "truncated header: 3 dimensions need 16 header bytes, found 10"),
])
def test_truncated_header(tmp_path, blob, problem):
    path = write_raw(tmp_path / "short", blob)
    with pytest.raises(IdxFormatError) as err:
        read_idx(path)
    assert str(err.value).startswith(path + ":") and problem in str(err.value)


def test_truncated_data(tmp_path):
    path = write_raw(tmp_path / "train-images-idx3-ubyte", idx_bytes((60000, 28, 28), bytes(1234)))
    with pytest.raises(IdxFormatError) as err:
        read_idx(path)
    assert str(err.value) == (f"{path}: truncated data: expected 47040000 bytes of uint8 data "
                              f"for shape (60000, 28, 28), found 1234")


def test_truncated_data_counts_itemsize(tmp_path):
    path = write_raw(tmp_path / "f", idx_bytes((3,), bytes(8), code=0x0D))
    with pytest.raises(IdxFormatError, match=r"expected 12 bytes of float32 data for shape \(3,\), found 8"):
        read_idx(path)


def test_trailing_garbage(tmp_path):
    path = write_raw(tmp_path / "long", idx_bytes((2, 2), bytes(4) + b"junk!"))
    with pytest.raises(IdxFormatError) as err:
        read_idx(path)
    msg = str(err.value)
    assert msg.startswith(path + ":") and "trailing garbage: 5 bytes after the 4 bytes" in msg


@pytest.mark.parametrize("damage", ["flipped", "cut"])
def test_corrupt_gzip(tmp_path, damage):
    good = gzip.compress(idx_bytes((64,), bytes(range(64))))
    bad = good[:20] + bytes(b ^ 0xFF for b in good[20:30]) + good[30:] if damage == "flipped" \
        else good[:len(good) // 2]
    path = write_raw(tmp_path / "x.gz", bad)
    with pytest.raises(IdxFormatError) as err:
        read_idx(path)
    assert str(err.value).startswith(f"{path}: corrupt gzip data: ")


def test_errors_from_bytes_name_the_source():
    with pytest.raises(IdxFormatError, match=r"^<bytes>: not an IDX file"):
        read_idx(b"\x01\x02\x03\x04")
    with pytest.raises(IdxFormatError, match=r"^labels.gz: truncated header"):
        read_idx(b"\x00", name="labels.gz")


# --- the MNIST class on a tiny synthetic dataset -------------------------------------------------

def make_dataset(folder, n_train=5, n_test=3, h=4, w=4, gz=True):
    """A tiny MNIST-style folder; train files gzipped (if gz), test files raw."""
    os.makedirs(folder, exist_ok=True)
    for train, n, compress in ((True, n_train, gz), (False, n_test, False)):
        images_name, labels_name = FILES[train]
        suffix = ".gz" if compress else ""
        pixels = bytes((i * 7 + 3) % 256 for i in range(n * h * w))
        labels = bytes((i * 3) % 10 for i in range(n))
        write_idx(os.path.join(folder, images_name + suffix), (n, h, w), pixels, gzip=compress)
        write_idx(os.path.join(folder, labels_name + suffix), (n,), labels, gzip=compress)
    return folder


def test_mnist_on_synthetic_folder(tmp_path):
    root = make_dataset(str(tmp_path / "tiny"))
    train, test = MNIST(root, train=True), MNIST(root, train=False)
    assert (len(train), train.num_samples, len(test)) == (5, 5, 3)
    assert train.image_shape == (1, 4, 4) and train.num_classes == 10
    assert train.images == bytes((i * 7 + 3) % 256 for i in range(5 * 16))
    assert train.labels == bytes([0, 3, 6, 9, 2]) and test.labels == bytes([0, 3, 6])
    image, label = train[1]
    assert image == train.images[16:32] and label == 3
    assert train[-1][1] == 2
    with pytest.raises(IndexError):
        train[5]


def test_mnist_mismatched_counts(tmp_path):
    root = make_dataset(str(tmp_path / "tiny"))
    labels_path = os.path.join(root, "train-labels-idx1-ubyte.gz")
    write_idx(labels_path, (4,), bytes(4))
    with pytest.raises(IdxFormatError) as err:
        MNIST(root)
    msg = str(err.value)
    assert "train-images-idx3-ubyte.gz has 5 images" in msg and f"{labels_path} has 4 labels" in msg


def test_mnist_label_out_of_range(tmp_path):
    root = make_dataset(str(tmp_path / "tiny"))
    labels_path = os.path.join(root, "t10k-labels-idx1-ubyte")
    write_idx(labels_path, (3,), bytes([1, 10, 2]), gzip=False)
    with pytest.raises(IdxFormatError, match=r"t10k-labels-idx1-ubyte: label 10 at index 1 is out of range 0..9"):
        MNIST(root, train=False)


def test_mnist_images_must_be_3d(tmp_path):
    root = make_dataset(str(tmp_path / "tiny"))
    images_path = os.path.join(root, "t10k-images-idx3-ubyte")
    write_idx(images_path, (3, 16), bytes(48), gzip=False)
    with pytest.raises(IdxFormatError) as err:
        MNIST(root, train=False)
    assert str(err.value).startswith(images_path + ": expected 3-D uint8 images") and "(3, 16)" in str(err.value)


def test_mnist_missing_file(tmp_path):
    root = make_dataset(str(tmp_path / "tiny"))
    os.remove(os.path.join(root, "t10k-images-idx3-ubyte"))
    assert len(MNIST(root, train=True)) == 5  # the train split does not need it
    with pytest.raises(FileNotFoundError) as err:
        MNIST(root, train=False)
    msg = str(err.value)
    assert "no file t10k-images-idx3-ubyte or t10k-images-idx3-ubyte.gz" in msg
    assert root in msg and "bash scripts/setup.sh" in msg


def test_mnist_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no folder .*nowhere.*bash scripts/setup.sh"):
        MNIST(str(tmp_path / "nowhere"))


def test_dataset_names():
    assert DATASETS["mnist"] == REAL_MNIST
    assert DATASETS["fashion-mnist"] == "/usr/share/datasets/fashion-mnist"


def test_fashion_mnist_class_names(tmp_path):
    root = make_dataset(str(tmp_path / "tiny"))
    assert FashionMNIST(root).classes[9] == "Ankle boot" and MNIST(root).classes[9] == "9"


# --- the real MNIST made by scripts/setup.sh ----------------------------------------------------

def test_real_mnist():
    if not os.path.isdir(REAL_MNIST):
        message = f"{REAL_MNIST} is missing: run `bash scripts/setup.sh`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    train, test = MNIST("mnist", train=True), MNIST(REAL_MNIST, train=False)
    assert (len(train), len(test)) == (60000, 10000)
    assert train.image_shape == test.image_shape == (1, 28, 28)
    assert list(train.labels[:5]) == [5, 0, 4, 1, 9] and list(test.labels[:5]) == [7, 2, 1, 0, 4]
    assert [train.labels.count(c) for c in range(10)] == \
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert [test.labels.count(c) for c in range(10)] == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    # Byte for byte the original files: rebuild them from what was read and check the pinned hashes.
    spec = importlib.util.spec_from_file_location("fetch_mnist", os.path.join(ROOT, "scripts", "fetch_mnist.py"))
    fetch_mnist = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fetch_mnist)
    for ds, prefix in ((train, "train"), (test, "t10k")):
        n = len(ds)
        rebuilt = {f"{prefix}-images-idx3-ubyte": idx_bytes((n, 28, 28), ds.images),
                   f"{prefix}-labels-idx1-ubyte": idx_bytes((n,), ds.labels)}
        for name, blob in rebuilt.items():
            assert hashlib.sha256(blob).hexdigest() == fetch_mnist.EXPECTED[name], name


# --- runs without numpy, as in the browser ------------------------------------------------------

def test_data_layer_imports_and_works_without_numpy(tmp_path):
    root = make_dataset(str(tmp_path / "tiny"))
    code = (
        "import sys\n"
        "sys.modules['numpy'] = None  # any `import numpy` now raises ImportError\n"
        "import engine.data.idx, engine.data.mnist\n"
        f"ds = engine.data.mnist.MNIST({root!r})\n"
        "assert len(ds) == 5 and ds.labels == bytes([0, 3, 6, 9, 2]), ds.labels\n"
        "assert sys.modules['numpy'] is None\n"
        "print('ok without numpy')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0 and "ok without numpy" in result.stdout, \
        f"importing engine.data without numpy failed (engine/__init__.py or engine/data must not " \
        f"need numpy: the browser has none):\n{result.stderr}"
