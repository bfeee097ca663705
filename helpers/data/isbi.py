"""The ISBI 2012 stacks: raw slices, binary membrane labels and the dense ground truth grown from them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tifffile
from scipy import ndimage
from skimage.segmentation import watershed

from ..paths import DATA
from .files import RESTORE_HINT, DataError, data_file

ISBI_SHAPE = (30, 512, 512)
ISBI_SLICES = tuple(range(ISBI_SHAPE[0]))
# The report's split of the 30 training slices: 0-23 train, 24-29 test.
REPORT_TRAIN_SLICES = tuple(range(24))
REPORT_TEST_SLICES = tuple(range(24, ISBI_SHAPE[0]))
STACKS = {
    "train-volume": "isbi2012/train-volume.tif",
    "train-labels": "isbi2012/train-labels.tif",
    "test-volume": "isbi2012/test-volume.tif",
}


class _TiffProblems(logging.Handler):
    """Collects the errors tifffile logs while reading a damaged file."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def read_tiff(path: Path, shape: tuple[int, ...] | None = None, dtype: np.typing.DTypeLike = np.uint8) -> np.ndarray:
    """Read a TIFF stack and check its shape and dtype.

    Args:
        path: the TIFF file.
        shape: the expected shape (None: any).
        dtype: the expected dtype (None: any).

    Returns:
        The stack.

    Raises:
        FileNotFoundError: the file is missing.
        DataError: the file is damaged, empty, or of another shape or dtype (the message names file and fix).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"TIFF file {path} is missing: {RESTORE_HINT}")
    problems = _TiffProblems()
    logger = logging.getLogger("tifffile")
    logger.addHandler(problems)
    try:
        array = tifffile.imread(path)
    except Exception as error:  # tifffile raises several types for damaged files
        raise DataError(f"{path} is not a readable TIFF ({error}); {RESTORE_HINT}") from error
    finally:
        logger.removeHandler(problems)
    if problems.messages:  # tifffile logs (and skips) damaged pages of a truncated file instead of raising
        raise DataError(f"{path} is not a readable TIFF ({problems.messages[0]}); {RESTORE_HINT}")
    if array.size == 0:
        raise DataError(f"{path} is not a readable TIFF (it holds no image data); {RESTORE_HINT}")
    if shape is not None and array.shape != tuple(shape):
        raise DataError(f"{path} has shape {array.shape}, expected {tuple(shape)}: use the ISBI 2012 stack")
    if dtype is not None and array.dtype != np.dtype(dtype):
        raise DataError(f"{path} has dtype {array.dtype}, expected {np.dtype(dtype)}: convert it to {np.dtype(dtype)}")
    return array


def load_stack(name: str, data_dir: Path = DATA, verify: bool = True) -> np.ndarray:
    """One ISBI 2012 stack, checksum-verified.

    Args:
        name: ``"train-volume"``, ``"train-labels"`` or ``"test-volume"``.
        data_dir: the data folder.
        verify: check the file's SHA-256.

    Returns:
        The 30 x 512 x 512 uint8 stack.

    Raises:
        KeyError: for an unknown stack name.
    """
    if name not in STACKS:
        raise KeyError(f"unknown ISBI stack {name!r}: choose one of {sorted(STACKS)}")
    path = data_file(STACKS[name], data_dir, verify=verify)
    return read_tiff(path, ISBI_SHAPE, np.uint8)


def check_binary_labels(labels: np.ndarray, source: str = "labels") -> np.ndarray:
    """Check that membrane labels hold only 0 (membrane) and 255 (cell interior).

    Args:
        labels: label image or stack.
        source: how the error names the labels (a file or argument).

    Returns:
        ``labels``, unchanged.

    Raises:
        DataError: for any other value.
    """
    values = np.unique(labels)
    if not set(values.tolist()) <= {0, 255}:
        shown = values[:8].tolist()
        raise DataError(
            f"{source} are not binary: found values {shown}{'...' if len(values) > 8 else ''}, "
            "expected 0 (membrane) and 255 (cell interior); threshold them first, e.g. `(labels > 127) * 255`"
        )
    return labels


def load_training(
    slices: Sequence[int] | None = None, data_dir: Path = DATA, verify: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Raw slices and binary membrane labels of the ISBI training volume.

    Args:
        slices: slice indices (None: all 30).
        data_dir: the data folder.
        verify: check the files' SHA-256.

    Returns:
        ``(raw, labels)``, both (n, 512, 512) uint8.

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


def check_pair(raw: np.ndarray, labels: np.ndarray, what: str = "label") -> None:
    """Check that raw images and their labels (or ground truth) belong together.

    Args:
        raw: image or stack.
        labels: labels of the same slices and crop.
        what: how the error names the labels.

    Raises:
        ValueError: when the shapes differ.
    """
    if np.shape(raw) != np.shape(labels):
        raise ValueError(
            f"raw shape {np.shape(raw)} and {what} shape {np.shape(labels)} differ: pass the {what}s of the same "
            "slices and crop (stylised images must keep the original slice's size)"
        )


def dense_ground_truth(labels: np.ndarray) -> np.ndarray:
    """Instance segmentation from binary membrane labels (one 2D slice or a stack of slices).

    Cells are the 4-connected components of the interior (label 255); a seeded watershed on the distance
    to the nearest interior pixel grows them into the membranes, so every pixel belongs to one cell
    (split along the middle of each membrane). Ids are consecutive from 1, per slice.

    Args:
        labels: binary membrane labels, (H, W) or (n, H, W).

    Returns:
        uint32 cell ids of the same shape.

    Raises:
        ValueError: for another number of dimensions.
        DataError: for labels that are not binary.
    """
    labels = np.asarray(labels)
    if labels.ndim == 3:
        return np.stack([dense_ground_truth(plane) for plane in labels])
    if labels.ndim != 2:
        raise ValueError(f"labels must be 2D or 3D, got shape {labels.shape}")
    check_binary_labels(labels)
    interior = labels == 255
    seeds, _ = ndimage.label(interior)
    distance = ndimage.distance_transform_edt(~interior)
    return watershed(distance, markers=seeds).astype(np.uint32)
