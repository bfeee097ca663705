"""Cached stylised slices on disk: one grey PNG per image, named by the digest of its inputs, checked on every read.

Used by both style caches (:mod:`helpers.style.cache`, :mod:`helpers.style.feedforward`). Each file's name ends in the
digest (``key``) of what decides it; a PNG text chunk holds its JSON record (``key``, pixel digest, what the cache
adds); writes are atomic. A read decodes the whole file and checks shape, key and pixel digest: a bad file raises
:class:`helpers.paths.CacheError` naming it (:func:`read_entry`) or is deleted with a warning so that the next run
redoes it (:func:`cached_entry`); never a bare ``OSError``, never a wrong image.
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
    """Digest (12 hex digits) of a uint8 (H, W) image's shape and pixels (a record's ``pixels_sha256``)."""
    grey = np.ascontiguousarray(grey, dtype=np.uint8)
    return digest(str(grey.shape), grey.tobytes())


def png_bytes(grey: np.ndarray, record: dict | None = None) -> bytes:
    """A uint8 (H, W) image as PNG bytes, with ``record`` (None: none) embedded as JSON.

    Raises:
        ValueError: if the record holds NaN or inf (a record is valid JSON).
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
    """Read one grey PNG, decoded completely and checked: uint8 (side, side) pixels.

    ``side`` None accepts any shape; ``pixels_sha256`` (the recorded :func:`pixel_digest`) None is not checked.

    Raises:
        CacheError: naming the file, when it does not decode completely, is not one grey image, has another shape, or
            its pixels differ from the recorded digest.
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
    """The record embedded in a cached PNG, unchecked; None if it has none or is damaged."""
    try:
        with Image.open(path) as image:
            text = image.info.get(RECORD_CHUNK)
        record = json.loads(text) if text else None
    except (OSError, ValueError, SyntaxError):  # unreadable: read_png names the damage
        return None
    return record if isinstance(record, dict) else None


def write_entry(path: Path, grey: np.ndarray, key: str, record: dict) -> dict:
    """Write a uint8 (H, W) image atomically with ``record`` plus ``key`` and pixel digest; returns the record written.

    Raises:
        ValueError: if the record holds NaN or inf (nothing is written).
    """
    image = np.asarray(grey, dtype=np.uint8)
    written = {**record, "key": key, "pixels_sha256": pixel_digest(image)}
    atomic_write_bytes(Path(path), png_bytes(image, written))
    return written


def read_entry(path: Path, key: str, side: int | None = None) -> tuple[np.ndarray, dict]:
    """One cache entry, checked: whole, square of ``side`` (None: any shape), made from ``key``, its pixels as recorded.

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
    """:func:`read_entry`'s ``(pixels, record)`` if the entry is there and intact, else None (damaged: deleted)."""
    try:
        return read_entry(path, key, side)
    except FileNotFoundError:
        return None
    except CacheError as error:
        LOG.warning("%s: deleted, it is computed again", error)
        Path(path).unlink(missing_ok=True)
        return None
