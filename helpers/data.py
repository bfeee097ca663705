"""Load the project's data (ISBI 2012, Heidelberg photos, style images) with checksums and clear errors.

Every file under ``data/`` is listed in ``data/SHA256SUMS``; each load verifies the file's checksum once
per process. Bad input raises :class:`DataError` (a ``ValueError``) or ``FileNotFoundError`` whose
message names the file and the fix.
"""

from __future__ import annotations

import hashlib
import logging
from functools import lru_cache
from pathlib import Path

import numpy as np

from .paths import DATA

ISBI_SHAPE = (30, 512, 512)
STACKS = {
    "train-volume": "isbi2012/train-volume.tif",
    "train-labels": "isbi2012/train-labels.tif",
    "test-volume": "isbi2012/test-volume.tif",
}
# The report's three style-transfer examples (Figures 4-6): (photo, painting).
REPORT_EXAMPLES = (("heidelberg2", 20), ("marktplatz", 21), ("mathematikon", 9))
RESTORE_HINT = "restore it with `git checkout -- data/` (or copy it again from ../shared/data)"


class DataError(ValueError):
    """A data file exists but is not what the project expects."""


# --------------------------------------------------------------------------- checksums


@lru_cache(maxsize=1)
def _expected_checksums(data_dir: Path = DATA) -> dict[str, str]:
    sums = data_dir / "SHA256SUMS"
    if not sums.exists():
        raise FileNotFoundError(f"{sums} is missing: {RESTORE_HINT}")
    table = {}
    for line in sums.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            table[name.strip().lstrip("*")] = digest
    return table


def sha256(path: Path) -> str:
    """SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_VERIFIED: dict[tuple[str, int, int], bool] = {}


def data_file(relative: str, data_dir: Path = DATA, verify: bool = True) -> Path:
    """Path of ``data/<relative>``, checked to exist and (by default) to match ``SHA256SUMS``."""
    path = Path(data_dir) / relative
    if not path.exists():
        raise FileNotFoundError(f"data file {path} is missing: {RESTORE_HINT}")
    if verify:
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if key not in _VERIFIED:
            expected = _expected_checksums(Path(data_dir)).get(relative)
            if expected is None:
                raise DataError(f"{path} is not listed in {Path(data_dir) / 'SHA256SUMS'}: add its checksum there")
            if sha256(path) != expected:
                raise DataError(f"checksum mismatch for {path}: the file changed or is damaged; {RESTORE_HINT}")
            _VERIFIED[key] = True
    return path


def verify_all(data_dir: Path = DATA) -> dict[str, bool]:
    """Check every file of ``SHA256SUMS``; returns ``{relative path: ok}`` (never raises for a mismatch)."""
    status = {}
    for relative, expected in _expected_checksums(Path(data_dir)).items():
        path = Path(data_dir) / relative
        status[relative] = path.exists() and sha256(path) == expected
    return status


# --------------------------------------------------------------------------- ISBI 2012


class _TiffProblems(logging.Handler):
    """Collects the errors tifffile logs while reading a damaged file."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def read_tiff(path: Path, shape: tuple[int, ...] | None = None, dtype=np.uint8) -> np.ndarray:
    """Read a TIFF stack and check its shape and dtype; errors name the file and the fix."""
    import tifffile

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
    """One ISBI 2012 stack (``train-volume``, ``train-labels`` or ``test-volume``): 30 x 512 x 512 uint8."""
    if name not in STACKS:
        raise KeyError(f"unknown ISBI stack {name!r}: choose one of {sorted(STACKS)}")
    path = data_file(STACKS[name], data_dir, verify=verify)
    return read_tiff(path, ISBI_SHAPE, np.uint8)


def check_binary_labels(labels: np.ndarray, source: str = "labels") -> np.ndarray:
    """Membrane labels must hold exactly two values, 0 (membrane) and 255 (cell interior)."""
    values = np.unique(labels)
    if not set(values.tolist()) <= {0, 255}:
        shown = values[:8].tolist()
        raise DataError(
            f"{source} are not binary: found values {shown}{'...' if len(values) > 8 else ''}, "
            "expected 0 (membrane) and 255 (cell interior); threshold them first, e.g. `(labels > 127) * 255`"
        )
    return labels


def load_training(slices=None, data_dir: Path = DATA, verify: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Raw slices and binary membrane labels of the ISBI training volume (all 30, or ``slices``)."""
    raw = load_stack("train-volume", data_dir, verify)
    labels = check_binary_labels(load_stack("train-labels", data_dir, verify), str(Path(data_dir) / STACKS["train-labels"]))
    if slices is not None:
        index = list(slices)
        bad = [i for i in index if not 0 <= i < ISBI_SHAPE[0]]
        if bad:
            raise IndexError(f"slice indices {bad} are outside 0..{ISBI_SHAPE[0] - 1} of the ISBI training volume")
        raw, labels = raw[index], labels[index]
    return raw, labels


def report_split() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The report's split of the 30 training slices: 0-23 train, 24-29 test."""
    return tuple(range(24)), tuple(range(24, 30))


def check_pair(raw: np.ndarray, labels: np.ndarray, what: str = "label") -> None:
    """Raise a clear error when raw images and their labels (or ground truth, ``what``) do not belong together."""
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
    """
    from scipy import ndimage
    from skimage.segmentation import watershed

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


# --------------------------------------------------------------------------- photos and styles


def _names(folder: str, data_dir: Path = DATA) -> dict[str, Path]:
    return {path.stem: path for path in sorted((Path(data_dir) / folder).glob("*.jpg"))}


def photo_names(data_dir: Path = DATA) -> list[str]:
    """Names of the Heidelberg photos (file stems)."""
    return list(_names("photos", data_dir))


def style_names(kind: str = "paintings", data_dir: Path = DATA) -> dict[int, str]:
    """``{report number: name}`` of the style images, e.g. ``{20: 'the_scream', ...}``."""
    if kind not in ("paintings", "textures"):
        raise KeyError(f"unknown style kind {kind!r}: choose 'paintings' or 'textures'")
    table = {}
    for stem in _names(f"styles/{kind}", data_dir):
        number, _, name = stem.partition("_")
        table[int(number)] = name
    return table


def resolve_style(style: int | str, kind: str = "paintings", data_dir: Path = DATA) -> tuple[int, str]:
    """Turn a style number (``20``), name (``'the_scream'``) or stem (``'20_the_scream'``) into (number, name)."""
    table = style_names(kind, data_dir)
    if isinstance(style, (int, np.integer)) and int(style) in table:
        return int(style), table[int(style)]
    if isinstance(style, str):
        key = style.strip().lower()
        for number, name in table.items():
            if key in (name.lower(), f"{number:02d}_{name}".lower(), str(number)):
                return number, name
    choices = ", ".join(f"{n}={name}" for n, name in table.items())
    raise KeyError(f"unknown {kind} style {style!r}: choose a number or name from {choices}")


def _load_rgb(path: Path, size: int | None) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            if size is not None:
                scale = size / max(image.size)
                image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.LANCZOS)
            return np.asarray(image, dtype=np.float32) / 255.0
    except OSError as error:
        raise DataError(f"{path} is not a readable image ({error}); {RESTORE_HINT}") from error


def load_photo(name: str, size: int | None = None, data_dir: Path = DATA) -> np.ndarray:
    """A Heidelberg photo as float32 RGB in [0, 1], shape (H, W, 3); ``size`` = longest side in pixels."""
    table = _names("photos", data_dir)
    if name not in table:
        raise KeyError(f"unknown photo {name!r}: choose one of {sorted(table)}")
    return _load_rgb(data_file(f"photos/{table[name].name}", data_dir), size)


def load_style(style: int | str, size: int | None = None, kind: str = "paintings", data_dir: Path = DATA) -> np.ndarray:
    """A style image by report number or name as float32 RGB in [0, 1]; ``size`` = longest side."""
    number, name = resolve_style(style, kind, data_dir)
    return _load_rgb(data_file(f"styles/{kind}/{number:02d}_{name}.jpg", data_dir), size)


def inventory(data_dir: Path = DATA) -> list[dict]:
    """One row per data file: path, size in bytes, checksum status."""
    status = verify_all(data_dir)
    rows = []
    for relative, ok in status.items():
        path = Path(data_dir) / relative
        rows.append({"file": relative, "bytes": path.stat().st_size if path.exists() else 0, "checksum_ok": ok})
    return rows
