"""The ISBI 2012 stacks: raw slices and binary membrane labels (their dense ground truth: :mod:`.labels`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..paths import DATA
from .files import DataError, data_file, restore_hint
from .labels import check_binary_labels, dense_ground_truth
from .readers import read_volume, volume_format
from .stacks import EMStack

ISBI_SHAPE = (30, 512, 512)
ISBI_SLICES = tuple(range(ISBI_SHAPE[0]))
# The report's split of the 30 training slices: 0-23 train, 24-29 test.
REPORT_TRAIN_SLICES = tuple(range(24))
REPORT_TEST_SLICES = tuple(range(24, ISBI_SHAPE[0]))
STACKS = {
    "train-volume": "isbi2012/train-volume.tif",
    "train-labels": "isbi2012/train-labels.tif",
}


def read_tiff(path: Path, shape: tuple[int, ...] | None = None, dtype: np.typing.DTypeLike = np.uint8) -> np.ndarray:
    """Read a TIFF stack, checking its ``shape`` and ``dtype`` (None: any).

    Raises:
        FileNotFoundError: the file is missing.
        DataError: not a TIFF, damaged, empty, or of another shape or dtype.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"TIFF file {path} is missing{restore_hint(path)}")
    kind = volume_format(path)
    if kind != "tiff":
        raise DataError(
            f"{path} is a {kind.replace('gzip:', 'gzip-compressed ').upper()} file, not a TIFF: read your own data "
            "with helpers.data.read_volume(path) or helpers.data.load_em_stack(raw, labels) (TIFF, PNG, folders of "
            "slices, HDF5, zarr, gzip-compressed files)"
        )
    array = read_volume(path)
    if shape is not None and array.shape != tuple(shape):
        raise DataError(f"{path} has shape {array.shape}, expected {tuple(shape)}: use the ISBI 2012 stack")
    if dtype is not None and array.dtype != np.dtype(dtype):
        raise DataError(f"{path} has dtype {array.dtype}, expected {np.dtype(dtype)}: convert it to {np.dtype(dtype)}")
    return array


def load_stack(name: str, data_dir: Path = DATA, verify: bool = True) -> np.ndarray:
    """ISBI 2012 stack ``"train-volume"`` or ``"train-labels"``: 30 x 512 x 512 uint8, checksum-verified if ``verify``.

    Raises:
        KeyError: for an unknown stack name.
    """
    if name not in STACKS:
        raise KeyError(
            f"unknown ISBI stack {name!r}: choose one of {sorted(STACKS)}; to load your own data, pass its files "
            "to helpers.data.load_em_stack(raw, labels) (or helpers.data.read_volume(path) for one stack)"
        )
    path = data_file(STACKS[name], data_dir, verify=verify)
    return read_tiff(path, ISBI_SHAPE, np.uint8)


def load_training(
    slices: Sequence[int] | None = None, data_dir: Path = DATA, verify: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """``(raw, labels)`` of the ISBI training volume, both (n, 512, 512) uint8; ``slices`` None: all 30.

    Raises:
        IndexError: for a slice index outside 0..29.
    """
    raw = load_stack("train-volume", data_dir, verify)
    labels = check_binary_labels(
        load_stack("train-labels", data_dir, verify), str(Path(data_dir) / STACKS["train-labels"])
    )
    if slices is not None:
        index = list(slices)
        bad = [i for i in index if not 0 <= i < ISBI_SHAPE[0]]
        if bad:
            raise IndexError(f"slice indices {bad} are outside 0..{ISBI_SHAPE[0] - 1} of the ISBI training volume")
        raw, labels = raw[index], labels[index]
    return raw, labels


def isbi_stack(slices: Sequence[int] | None = None, crop: int | None = None, data_dir: Path = DATA) -> EMStack:
    """ISBI training slices (None: all 30) as an :class:`.stacks.EMStack`, cut to the top-left ``crop`` x ``crop`` px.

    Raises:
        IndexError: for a slice index outside 0..29.
    """
    raw, labels = load_training(slices, data_dir)
    if crop is not None:
        raw, labels = raw[:, :crop, :crop], labels[:, :crop, :crop]
    return EMStack(raw, labels, dense_ground_truth(labels), "ISBI 2012", {"slices": list(slices or ISBI_SLICES)})


def check_pair(raw: np.ndarray, labels: np.ndarray, what: str = "label") -> None:
    """Check that raw images and their ``labels`` (``what`` in the error) have the same shape.

    Raises:
        ValueError: when the shapes differ.
    """
    if np.shape(raw) != np.shape(labels):
        raise ValueError(
            f"raw shape {np.shape(raw)} and {what} shape {np.shape(labels)} differ: pass the {what}s of the same "
            "slices and crop (stylised images must keep the original slice's size)"
        )
