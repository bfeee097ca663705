"""Cached stylised slices on disk: one grey PNG per image, named by the digest of its inputs, checked on every read.

Both style caches (the Gatys slices of :mod:`helpers.style.cache`, the feed-forward ones of
:mod:`helpers.style.feedforward`) keep each image as its own file whose name ends in the digest (``key``) of
everything that decides it. The PNG holds, in a text chunk, its record (JSON: the ``key``, the digest of its pixels
and whatever the cache adds) and is written atomically (:func:`helpers.paths.atomic_write_bytes`). Reading an entry
decodes it completely and checks its shape, its key and its pixels' digest: a truncated, damaged or mismatching
file raises :class:`helpers.paths.CacheError` naming it (:func:`read_entry`), or is deleted with a logged warning
so that the next run computes it again (:func:`cached_entry`); never a bare ``OSError``, never a wrong image.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from ..paths import CacheError, atomic_write_bytes, digest

RECORD_CHUNK = "neural-style-em-record"  # PNG text chunk holding the image's record (JSON)
LOG = logging.getLogger(__name__)


def pixel_digest(grey: np.ndarray) -> str:
    """Digest of a grey image's shape and pixels (what a record keeps as ``pixels_sha256``).

    Args:
        grey: uint8 (H, W) image.

    Returns:
        12 hex digits.
    """
    grey = np.ascontiguousarray(grey, dtype=np.uint8)
    return digest(str(grey.shape), grey.tobytes())


def png_bytes(grey: np.ndarray, record: dict | None = None) -> bytes:
    """A grey uint8 image as PNG bytes, with ``record`` embedded as JSON (finite numbers only).

    Args:
        grey: uint8 (H, W) image.
        record: the image's record (None: none embedded).

    Returns:
        The PNG file's bytes.

    Raises:
        ValueError: if the record holds NaN or inf (never written: a record is valid JSON).
    """
    info = PngImagePlugin.PngInfo()
    if record is not None:
        info.add_text(RECORD_CHUNK, json.dumps(record, allow_nan=False, sort_keys=True))
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(grey, dtype=np.uint8), mode="L").save(
        buffer, format="PNG", optimize=False, compress_level=6, pnginfo=info
    )
    return buffer.getvalue()


def read_png(path: Path, side: int | None = None, pixels_sha256: str | None = None) -> np.ndarray:
    """Read one grey PNG, decoded completely and checked.

    Args:
        path: the file.
        side: the expected side of the square image (None: any shape).
        pixels_sha256: the recorded :func:`pixel_digest` (None: not checked).

    Returns:
        uint8 (side, side) pixels.

    Raises:
        CacheError: naming the file, when it does not decode completely (e.g. truncated), is not one grey image,
            has another shape, or its pixels differ from the recorded digest.
    """
    try:
        with Image.open(path) as image:
            image.load()  # decodes every row: a truncated file fails here
            if image.mode != "L":
                raise CacheError(path, f"a grey (mode L) PNG was expected, found mode {image.mode}")
            grey = np.asarray(image)
    except CacheError:
        raise
    except (OSError, ValueError, SyntaxError) as error:  # PIL's errors for truncated or garbled files
        raise CacheError(path, f"not a readable PNG ({error})") from error
    if side is not None and grey.shape != (side, side):
        raise CacheError(path, f"shape {grey.shape}, expected ({side}, {side})")
    if pixels_sha256 is not None and pixel_digest(grey) != pixels_sha256:
        raise CacheError(path, f"its pixels' digest {pixel_digest(grey)} is not the recorded {pixels_sha256}")
    return grey


def embedded_record(path: Path) -> dict | None:
    """The record embedded in a cached PNG, unchecked (:func:`read_entry` checks it).

    Args:
        path: the file.

    Returns:
        The record, or None for a file without one (or whose record or file is damaged).
    """
    try:
        with Image.open(path) as image:
            text = image.info.get(RECORD_CHUNK)
        record = json.loads(text) if text else None
    except (OSError, ValueError, SyntaxError):  # unreadable: read_png names the damage
        return None
    return record if isinstance(record, dict) else None


def write_entry(path: Path, grey: np.ndarray, key: str, record: dict) -> dict:
    """Write one cache entry atomically: the image with its record, ``key`` and pixel digest added to it.

    Args:
        path: the entry's file (its name ends in ``key``).
        grey: uint8 (H, W) image.
        key: the digest of the entry's inputs.
        record: what else the file keeps (finite numbers only).

    Returns:
        The record as written.

    Raises:
        ValueError: if the record holds NaN or inf (nothing is written).
    """
    image = np.asarray(grey, dtype=np.uint8)
    written = {**record, "key": key, "pixels_sha256": pixel_digest(image)}
    atomic_write_bytes(Path(path), png_bytes(image, written))
    return written


def read_entry(path: Path, key: str, side: int | None = None) -> tuple[np.ndarray, dict]:
    """One cache entry, checked: whole, square of ``side`` (if given), made from ``key``, its pixels as recorded.

    Args:
        path: the entry's file.
        key: the digest of the inputs it must have been made from.
        side: the expected side of the square image (None: any shape).

    Returns:
        ``(uint8 pixels, record)``.

    Raises:
        FileNotFoundError: if there is no such file.
        CacheError: naming the file, when it is damaged or was made from other inputs.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no cached entry {path}")
    record = embedded_record(path) or {}
    if record.get("key") != key or "pixels_sha256" not in record:
        read_png(path, side)  # a damaged file is named as such first
        raise CacheError(path, f"its record is missing or was made from other inputs (key {record.get('key')!r})")
    return read_png(path, side, record["pixels_sha256"]), record


def cached_entry(path: Path, key: str, side: int | None = None) -> tuple[np.ndarray, dict] | None:
    """One cache entry if it is there and intact; a damaged one is deleted, with a logged warning naming it.

    Args:
        path: the entry's file.
        key: the digest of the inputs it must have been made from.
        side: the expected side of the square image (None: any shape).

    Returns:
        ``(uint8 pixels, record)``, or None when it must be computed (again).
    """
    try:
        return read_entry(path, key, side)
    except FileNotFoundError:
        return None
    except CacheError as error:
        LOG.warning("%s: deleted, it is computed again", error)
        Path(path).unlink(missing_ok=True)
        return None
