"""Datasets in the IDX format (MNIST and its relatives), read with the standard library alone."""
from .idx import IdxFormatError, read_idx, write_idx
from .datasets import DATASETS, ChecksumError, DatasetError, DownloadError, available_datasets, data_root
from .mnist import MNIST, FashionMNIST
from .loader import DataLoader, Subset
from .augment import POLICIES, Augment

__all__ = ["MNIST", "FashionMNIST", "DataLoader", "Subset", "Augment", "POLICIES", "read_idx", "write_idx", "IdxFormatError",
           "DATASETS", "available_datasets", "data_root", "DatasetError", "ChecksumError", "DownloadError"]
