"""Datasets in the IDX format (MNIST and its relatives), read with the standard library alone."""
from .idx import IdxFormatError, read_idx, write_idx
from .datasets import DATASETS, ChecksumError, DatasetError, DownloadError, available_datasets, data_root
from .mnist import MNIST, FashionMNIST
from .loader import DataLoader, Subset
from .split import random_split
from .augment import POLICIES, Augment
from .archive import ArchiveError, ImageSet, load_archive, open_archive

__all__ = ["MNIST", "FashionMNIST", "DataLoader", "Subset", "random_split", "Augment", "POLICIES", "read_idx", "write_idx", "IdxFormatError",
           "DATASETS", "available_datasets", "data_root", "DatasetError", "ChecksumError", "DownloadError",
           "ArchiveError", "ImageSet", "load_archive", "open_archive"]
