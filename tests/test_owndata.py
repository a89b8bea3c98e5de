"""Your own data: engine/data/archive.py (a zip of class folders or IDX files -> a dataset)
and web/playground/own_data.py, the page's Python side, run natively on the numpy backend.
The page itself (the browser decoding the PNGs) is driven in tests/test_page.py."""
import os
import sys

import numpy as np
import pytest

from engine.data import DataLoader, write_idx
from engine.data.archive import ArchiveError, ink_bright, load_archive, open_archive, pixel_statistics
from engine.data.png import PngError, decode_png, fit_grey, fitted_size, resize_grey
from png_files import digit_folders, mnist_digits, png_bytes, rectangle_on_paper, zip_bytes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "web"))
import playground as pg  # noqa: E402

NAMES = {0: "zero", 1: "one", 7: "seven"}
DOT = png_bytes(np.zeros((4, 4), np.uint8))


def error_of(files, name="bad.zip"):
    with pytest.raises(ArchiveError) as info:
        open_archive(zip_bytes(files), name)
    return str(info.value)


def test_class_names_are_the_folder_names_and_each_class_splits_80_20():
    files = {f"shapes/{c}/{k}.png": DOT for c in ("square", "circle", "star") for k in range(10)}
    files.update({"shapes/.DS_Store": b"", "__MACOSX/shapes/circle/._0.png": b"", "shapes/README.txt": b"hi"})
    archive = open_archive(zip_bytes(files), "shapes.zip")
    assert archive.kind == "images"
    assert archive.classes == ["circle", "square", "star"]    # sorted, as torchvision's ImageFolder
    assert len(archive.members) == 30                          # dot files, __MACOSX, README left out
    for label, name in enumerate(archive.classes):
        mine = [m for m in archive.members if m.label == label]
        assert all(f"/{name}/" in m.path for m in mine)
        assert sum(m.test for m in mine) == 2                  # 20% of 10
    again = open_archive(zip_bytes(files), "shapes.zip")       # seeded: the same split every time
    assert again.members == archive.members
    other = open_archive(zip_bytes(files), "shapes.zip", seed=1)
    assert [m.test for m in other.members] != [m.test for m in archive.members]


def test_train_and_test_folders_are_the_split():
    files = {f"train/{c}/{k}.png": DOT for c in ("a", "b") for k in range(3)}
    files.update({"test/a/9.png": DOT, "test/b/9.png": DOT})
    archive = open_archive(zip_bytes(files), "split.zip")
    assert archive.classes == ["a", "b"]
    assert sorted(m.path for m in archive.members if m.test) == ["test/a/9.png", "test/b/9.png"]
    train, test = archive.image_sets(bytes(8 * 28 * 28))
    assert (len(train), len(test)) == (6, 2) and list(test.labels) == [0, 1]


@pytest.mark.parametrize("files, expected", [
    ({"a.png": DOT, "b.png": DOT}, "bad.zip: no class folders: a.png, b.png lie outside any folder"),
    ({"cat/a.png": DOT, "b.png": DOT}, "bad.zip: no class folders: b.png lies outside"),
    ({"cats/1.png": DOT, "cats/2.png": DOT}, "bad.zip: one class only (cats)"),
    ({"top/cats/1.png": DOT, "top/cats/2.png": DOT}, "bad.zip: one class only (cats)"),
    ({"notes.txt": b"x"}, "bad.zip: no images"),
    ({"train-images-idx3-ubyte.gz": b"", "train-labels-idx1-ubyte.gz": b""},
     "bad.zip: an IDX dataset needs four files; missing t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte"),
    ({"train/a/1.png": DOT, "train/b/1.png": DOT, "test/c/1.png": DOT},
     "bad.zip: test/ has class folders that train/ lacks: c"),
])
def test_a_bad_archive_names_the_problem(files, expected):
    assert expected in error_of(files)


def test_not_a_zip():
    with pytest.raises(ArchiveError, match="photos.zip: not a zip archive"):
        open_archive(b"PK but not really", "photos.zip")


def test_dark_ink_on_white_paper_is_turned_into_mnists_bright_ink_on_black():
    digits = mnist_digits((3,), 4)[3]
    paper = (255 - digits).tobytes()
    assert ink_bright(paper, 28, 28) == digits.tobytes()
    assert ink_bright(digits.tobytes(), 28, 28) == digits.tobytes()   # already MNIST-like


def test_pixel_statistics_match_numpy():
    pixels = np.random.default_rng(0).integers(0, 256, 5000).astype(np.uint8)
    mean, std = pixel_statistics(pixels.tobytes())
    assert mean == pytest.approx(pixels.mean() / 255) and std == pytest.approx((pixels / 255).std())


def test_a_zip_of_idx_files(tmp_path):
    rng = np.random.default_rng(0)
    files = {}
    for prefix, n in (("train", 40), ("t10k", 10)):
        images = rng.integers(0, 256, (n, 28, 28)).astype(np.uint8)
        labels = (np.arange(n) % 3).astype(np.uint8)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            path = tmp_path / f"{prefix}-{kind}-ubyte.gz"
            write_idx(path, array.shape, array.tobytes())
            files[f"kmnist/{path.name}"] = path.read_bytes()
    train, test = open_archive(zip_bytes(files), "kmnist.zip").image_sets()
    assert (len(train), len(test)) == (40, 10) and train.classes == ["0", "1", "2"]
    x, y = next(iter(DataLoader(train, batch_size=40)))       # MNIST's interface: the loader reads it
    assert x.shape == (40, 1, 28, 28) and y.tolist() == [k % 3 for k in range(40)]
    assert "one class only" in error_of({k: v for k, v in files.items() if "labels" not in k}
                                        | {"kmnist/train-labels-idx1-ubyte": _idx_labels([1] * 40),
                                           "kmnist/t10k-labels-idx1-ubyte": _idx_labels([1] * 10)})


def _idx_labels(labels):
    return bytes([0, 0, 8, 1]) + len(labels).to_bytes(4, "big") + bytes(labels)


def test_the_playground_trains_on_a_zip_of_digit_folders(tmp_path):
    """The worker's two calls, with the decoding the browser does done here from the
    known pixels: the class names come from the folders and the MLP learns them."""
    digits = mnist_digits(tuple(NAMES), 50)
    path = tmp_path / "digits.zip"
    path.write_bytes(zip_bytes(digit_folders(digits, NAMES)))
    pg.boot("cpu")
    listing = pg.read_archive(str(path), "digits.zip")
    assert listing["ok"] and listing["kind"] == "images" and listing["classes"] == ["one", "seven", "zero"]
    by_path = {f"digits/{NAMES[k]}/{i:03d}.png": 255 - image      # what the browser draws at 28x28
               for k, images in digits.items() for i, image in enumerate(images)}
    assert [f["bytes"][:8] for f in listing["files"]] == [b"\x89PNG\r\n\x1a\n"] * 150
    pixels = b"".join(by_path[f["member"]].tobytes() for f in listing["files"])
    result = pg.add_archive_images(pixels)
    assert result["ok"], result
    info = result["info"]
    assert info["name"] == "own" and info["title"] == "Your data: digits.zip"
    assert info["classes"] == ["one", "seven", "zero"]
    assert (info["train_size"], info["test_size"]) == (120, 30)
    with open(os.path.join(ROOT, "engine", "models", "mlp.py")) as f:
        built = pg.build(f.read(), {"epochs": 20}, "mlp")
    assert built["ok"] and built["summary"]["layers"][-1]["output_shape"] == [3]   # 3 classes, not 10
    for _ in range(20):
        pg.train_steps(4)
    result = pg.evaluate(2000)
    assert result["test_count"] == 30 and len(result["indices"]) == 24
    assert result["test_acc"] >= 0.9, result["test_acc"]


def test_the_playground_reports_an_archive_without_class_folders(tmp_path):
    pg.boot("cpu")
    path = tmp_path / "flat.zip"
    path.write_bytes(zip_bytes({"a.png": DOT, "b.png": DOT}))
    result = pg.read_archive(str(path), "flat.zip")
    assert not result["ok"] and result["error"]["message"].startswith("flat.zip: no class folders")


# ---- natively: PNG decoding with zlib alone (engine/data/png.py) and load_archive ------------

def luma(rgb):
    return np.floor(rgb.astype(float) @ [0.299, 0.587, 0.114] + 0.5).astype(np.uint8)


@pytest.mark.parametrize("filter_type", [0, 1, 2, 3, 4])
def test_png_rows_are_unfiltered(filter_type):
    rgb = np.random.default_rng(filter_type).integers(0, 256, (7, 5, 3)).astype(np.uint8)
    h, w, grey = decode_png(png_bytes(rgb, filter_type))
    assert (h, w) == (7, 5)
    np.testing.assert_array_equal(np.frombuffer(grey, np.uint8).reshape(7, 5), luma(rgb))


def test_png_colour_types_become_grey_on_white():
    rng = np.random.default_rng(1)
    grey = rng.integers(0, 256, (4, 6)).astype(np.uint8)
    assert decode_png(png_bytes(grey, 4))[2] == grey.tobytes()
    alpha = rng.integers(0, 256, (4, 6)).astype(np.uint8)
    on_white = (grey.astype(int) * alpha + 255 * (255 - alpha.astype(int)) + 127) // 255
    assert decode_png(png_bytes(np.stack([grey, alpha], -1), 1))[2] == on_white.astype(np.uint8).tobytes()
    rgb = rng.integers(0, 256, (4, 6, 3)).astype(np.uint8)
    expected = (luma(rgb).astype(int) * alpha + 255 * (255 - alpha.astype(int)) + 127) // 255
    assert decode_png(png_bytes(np.dstack([rgb, alpha]), 3))[2] == expected.astype(np.uint8).tobytes()
    palette = rng.integers(0, 256, (5, 3)).astype(np.uint8)
    indices = rng.integers(0, 5, (4, 6)).astype(np.uint8)
    assert decode_png(png_bytes(indices, 2, palette=palette))[2] == luma(palette[indices]).tobytes()


@pytest.mark.parametrize("data, message", [
    (b"GIF89a....", "not a PNG file"),
    (png_bytes(np.zeros((4, 4), np.uint8))[:40], "without IDAT"),
    (png_bytes(np.zeros((4, 4), np.uint8)).replace(b"IHDR\x00\x00\x00\x04\x00\x00\x00\x04\x08",
                                                   b"IHDR\x00\x00\x00\x04\x00\x00\x00\x04\x10"), "bit depth 16"),
], ids=["not-png", "cut-short", "16-bit"])
def test_a_png_this_decoder_cannot_read_names_itself(data, message):
    with pytest.raises(PngError, match=f"x.png: .*{message}"):
        decode_png(data, "x.png")


def test_resize_averages_the_pixels_under_each_output_pixel():
    image = np.random.default_rng(2).integers(0, 256, (56, 56)).astype(np.uint8)
    means = image.reshape(28, 2, 28, 2).astype(int).sum(axis=(1, 3))
    expected = ((means + 2) // 4).astype(np.uint8)
    assert resize_grey(image.tobytes(), 56, 56, (28, 28)) == expected.tobytes()
    small = np.arange(4, dtype=np.uint8).reshape(2, 2)        # growing: the nearest pixel
    assert resize_grey(small.tobytes(), 2, 2, (4, 4)) == np.repeat(np.repeat(small, 2, 0), 2, 1).tobytes()


def test_a_non_square_image_keeps_its_shape_centred_on_its_background(tmp_path):
    """A 56x28 drawing is not stretched to 28x28: it becomes a 28x14 band, centred, and the
    bands above and below take the paper's colour (here white, turned black with the rest)."""
    wide = rectangle_on_paper(28, 56, 6, 14, 16, 28)     # a 28x16 rectangle in the middle
    tall = wide.T.copy()                                  # 28 wide, 56 high
    path = tmp_path / "shapes.zip"
    path.write_bytes(zip_bytes({f"{name}/{k}.png": png_bytes(image) for k in range(3)
                                for name, image in (("wide", wide), ("tall", tall))}))
    train, test = load_archive(path)
    expected = {"wide": np.zeros((28, 28), np.uint8), "tall": np.zeros((28, 28), np.uint8)}
    expected["wide"][10:18, 7:21] = 255                   # halved, 7 rows down: bright ink on black
    expected["tall"][7:21, 10:18] = 255
    for dataset in (train, test):
        for k in range(len(dataset)):
            image, label = dataset[k]
            np.testing.assert_array_equal(np.frombuffer(image, np.uint8).reshape(28, 28),
                                          expected[dataset.classes[label]])


def test_fitting_pads_with_the_images_own_background():
    dark = np.zeros((10, 40), np.uint8)                   # MNIST-like: bright ink on black
    dark[3:7, 10:30] = 200
    out = np.frombuffer(fit_grey(dark.tobytes(), 10, 40, (28, 28)), np.uint8).reshape(28, 28)
    assert (out[:11] == 0).all() and (out[18:] == 0).all() and out[13:15, 7:21].min() == 200
    assert fitted_size(10, 40, (28, 28)) == (7, 28) and fitted_size(40, 10, (28, 28)) == (28, 7)
    assert fitted_size(56, 56, (28, 28)) == (28, 28) and fitted_size(1, 1000, (28, 28)) == (1, 28)


def test_load_archive_reads_the_digit_folders_natively(tmp_path):
    digits = mnist_digits(tuple(NAMES), 10)
    path = tmp_path / "digits.zip"
    path.write_bytes(zip_bytes(digit_folders(digits, NAMES)))
    train, test = load_archive(path)
    assert train.classes == ["one", "seven", "zero"] and (len(train), len(test)) == (24, 6)
    layout = open_archive(path)                    # the split the page gets too
    originals = {f"digits/{NAMES[k]}/{i:03d}.png": image for k, images in digits.items()
                 for i, image in enumerate(images)}
    train_paths = [m.path for m in layout.members if not m.test]
    for k, member in enumerate(train_paths):       # dark on white, 56x56 RGB -> MNIST's own pixels
        image, label = train[k]
        assert image == originals[member].tobytes() and train.classes[label] == member.split("/")[1]
    broken = tmp_path / "broken.zip"
    broken.write_bytes(zip_bytes({"a/1.png": DOT, "b/1.jpg": b"\xff\xd8 a JPEG", "b/2.png": DOT}))
    with pytest.raises(ArchiveError, match="broken.zip: cannot read the image b/1.jpg: not a PNG"):
        load_archive(broken)


def test_the_command_line_trains_on_the_same_zip(tmp_path, capsys):
    from engine.train import main
    path = tmp_path / "digits.zip"
    path.write_bytes(zip_bytes(digit_folders(mnist_digits(tuple(NAMES), 50), NAMES)))
    accuracy = main(["--dataset", str(path), "--epochs", "8", "--device", "cpu", "--model", "mlp"])
    assert accuracy >= 0.9, accuracy                 # 30 test images of 3 classes: chance is 1/3
    assert "on 30 test images" in capsys.readouterr().out


def test_a_set_smaller_than_a_batch_still_trains(tmp_path):
    """The page's loader drops a last short batch, except when it is the only one."""
    digits = mnist_digits((0, 1), 6)
    path = tmp_path / "tiny.zip"
    path.write_bytes(zip_bytes(digit_folders(digits, {0: "zero", 1: "one"})))
    pg.boot("cpu")
    listing = pg.read_archive(str(path), "tiny.zip")
    pixels = b"".join(digits[0 if "/zero/" in f["member"] else 1][int(f["member"][-7:-4])].tobytes()
                      for f in listing["files"])
    assert pg.add_archive_images(pixels)["info"]["train_size"] == 10
    with open(os.path.join(ROOT, "engine", "models", "mlp.py")) as f:
        assert pg.build(f.read(), {"batch_size": 64}, "mlp")["ok"]
    stats = pg.train_steps(3)
    assert stats["batch_size"] == 10 and stats["examples_seen"] == 30
