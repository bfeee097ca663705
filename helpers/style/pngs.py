"""The stylised slices on disk: grey PNGs that carry their own manifest record, checked whenever they are read.

Each PNG holds, in a text chunk, the JSON record its manifest entry holds (settings, losses, the digest of its
pixels), so the manifest can be rebuilt from the images alone (:func:`helpers.style.manifest.read_manifest`).
Reading an image decodes it completely and checks its shape and, where recorded, its pixels' digest: a
truncated or otherwise damaged file raises :class:`helpers.paths.CacheError` naming it, never a bare ``OSError``
and never a silently wrong image. Images written before records were embedded read back as before.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from ..paths import CacheError, digest

RECORD_CHUNK = "neural-style-em-record"  # PNG text chunk holding the image's manifest record (JSON)


def pixel_digest(grey: np.ndarray) -> str:
    """Digest of a grey image's shape and pixels (what the manifest records as ``pixels_sha256``).

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
        record: the image's manifest record (None: none embedded).

    Returns:
        The PNG file's bytes.

    Raises:
        ValueError: if the record holds NaN or inf (never written: the manifest must stay valid JSON).
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
    """Read one cached grey PNG, decoded completely and checked.

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
    """The manifest record embedded in a cached PNG.

    Args:
        path: the file.

    Returns:
        The record, or None for an image written before records were embedded (or one whose record is damaged).
    """
    try:
        with Image.open(path) as image:
            text = image.info.get(RECORD_CHUNK)
        record = json.loads(text) if text else None
    except (OSError, ValueError, SyntaxError):  # unreadable: read_png names the damage
        return None
    return record if isinstance(record, dict) else None
