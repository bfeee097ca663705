"""Stylised slices as a compact archive: JPEG packs per painting, and their import into a cache as lossy copies.

The GPU kit (:mod:`benchmarks.gpu_kit`) sends the slices a GPU machine stylised home in files of at most
``max_bytes`` each (:func:`pack_stylized`): one uncompressed tar per (crop, painting), split further when needed,
holding each image as a grey JPEG of the given quality and ``records.json``, the record each cached image carries
(:mod:`helpers.style.cache`) plus what the JPEG changed (largest and mean absolute difference in grey levels,
measured there), by file name.

:func:`unpack_stylized` writes the decoded images into a cache as ordinary entries under the same file names (the
name ends in the digest of the image's inputs), so that chapters 02 and 06 find them like any other cached image.
Their records say that they are lossy copies (``lossy_copy``: format, quality, the original's pixel digest, the
errors, the archive file); ``pixels_sha256`` is the digest of the decoded pixels, which is what the cache checks on
every read. The cache treats them as finished entries, not as images to
stylise again: a q95 JPEG moves a grey level by about 1.5 on average (at most about 10), far less than two equally
valid L-BFGS runs differ (``benchmarks/style_benchmark.py``'s noise floor), whereas stylising 30 whole slices x 24
paintings again on a CPU takes hours. An intact entry already in the cache (the lossless original, say) is never
replaced by a lossy copy. :func:`lossy_entries` lists the copies, for provenance.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from helpers import checks
from helpers.paths import CacheError, atomic_write_bytes
from helpers.style import pngs
from helpers.style.cache import stylized_dir, stylized_records

MAX_PACK_BYTES = 16 * 2**20  # what one file back from the GPU machine may weigh
RECORDS = "records.json"
TAR_BLOCK = 512
NAME = re.compile(
    r"^slice(?P<slice>\d+)_style(?P<style>\d+)_steps(?P<steps>\d+)_crop(?P<crop>\d+)_(?P<key>[0-9a-f]{12})$"
)


def _jpeg(grey: np.ndarray, quality: int) -> bytes:
    """A grey uint8 image as baseline JPEG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(grey, mode="L").save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def _decode(payload: bytes, name: str) -> np.ndarray:
    """The grey pixels of JPEG bytes.

    Raises:
        ValueError: naming the member, when it is not one grey JPEG.
    """
    try:
        with Image.open(io.BytesIO(payload)) as image:
            image.load()
            if image.mode != "L":
                raise ValueError(f"{name}: a grey JPEG was expected, found mode {image.mode}")
            return np.asarray(image)
    except (OSError, SyntaxError) as error:
        raise ValueError(f"{name}: not a readable JPEG ({error})") from error


def _member_bytes(size: int) -> int:
    """Bytes one member of ``size`` bytes takes in a tar (header + data padded to whole blocks)."""
    return TAR_BLOCK + -(-size // TAR_BLOCK) * TAR_BLOCK


def _tar_size(members: dict[str, bytes], records: dict) -> int:
    """Bytes of the pack of ``members`` and their ``records`` (:func:`_tar_bytes` of them, padded as tar pads)."""
    size = _member_bytes(len(_records_bytes(records))) + sum(_member_bytes(len(p)) for p in members.values())
    return -(-(size + 2 * TAR_BLOCK) // tarfile.RECORDSIZE) * tarfile.RECORDSIZE


def _records_bytes(records: dict) -> bytes:
    """The ``records.json`` of a pack."""
    return json.dumps(records, indent=1, sort_keys=True).encode()


def _tar_bytes(members: dict[str, bytes]) -> bytes:
    """An uncompressed tar of ``{name: bytes}``, reproducible (fixed times and owners)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(payload), 0, 0o644
            tar.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


def _fields(name: str) -> re.Match:
    """The parts of a cached image's file name (without ``.png``).

    Raises:
        ValueError: naming it, for a name that is not a stylised slice's.
    """
    fields = NAME.match(name)
    if fields is None:
        raise ValueError(
            f"{name!r} is not the name of a stylised slice (slice<II>_style<NN>_steps<SSS>_crop<side>_<key>)"
        )
    return fields


def _read(cache: Path, name: str) -> tuple[np.ndarray, dict]:
    """A cached image and its record, checked (:func:`helpers.style.pngs.read_entry`)."""
    fields = _fields(name)
    return pngs.read_entry(stylized_dir(cache) / f"{name}.png", fields["key"], int(fields["crop"]))


def pack_stylized(
    cache: Path,
    folder: Path,
    names: Sequence[str] | None = None,
    quality: int = 95,
    max_bytes: int = MAX_PACK_BYTES,
) -> list[Path]:
    """Pack cached stylised slices into tars of JPEGs, one (or more) per crop and painting, each <= ``max_bytes``.

    Args:
        cache: the root cache folder.
        folder: where the packs go (``stylized-crop512-style03.tar``, ``...-style03-2.tar`` when split).
        names: the images to pack, by file name without ``.png`` (:func:`helpers.style.cache.entry`); None: every
            cached image.
        quality: JPEG quality, 50..100.
        max_bytes: the largest pack.

    Returns:
        The packs written, sorted.

    Raises:
        FileNotFoundError: naming an image that is not cached.
        CacheError: naming a damaged cached image.
        ValueError: for a quality outside 50..100, a ``max_bytes`` too small for one image, or a name that is not a
            stylised slice's.
    """
    quality = checks.integer(quality, "quality (JPEG)", 50, 100)
    max_bytes = checks.integer(max_bytes, "max_bytes", tarfile.RECORDSIZE)
    names = sorted(stylized_records(cache) if names is None else names)
    groups: dict[str, list[str]] = {}
    for name in names:
        fields = _fields(name)
        groups.setdefault(f"crop{fields['crop']}-style{fields['style']}", []).append(name)
    folder = Path(folder)
    written = []
    for group, group_names in groups.items():
        parts: list[tuple[dict[str, bytes], dict]] = [({}, {})]
        for name in group_names:
            original, cached = _read(cache, name)
            payload = _jpeg(original, quality)
            error = np.abs(_decode(payload, name).astype(np.int16) - original.astype(np.int16))
            record = {
                **cached,
                "jpeg": {
                    "quality": quality,
                    "max_abs_error": int(error.max()),
                    "mean_abs_error": round(float(error.mean()), 4),
                },
            }
            members, records = parts[-1]
            if members and _tar_size({**members, f"{name}.jpg": payload}, {**records, name: record}) > max_bytes:
                parts.append(({}, {}))
                members, records = parts[-1]
            if _tar_size({f"{name}.jpg": payload}, {name: record}) > max_bytes:
                raise ValueError(f"max_bytes={max_bytes} is too small for one image ({name}: {len(payload)} bytes)")
            members[f"{name}.jpg"] = payload
            records[name] = record
        for number, (members, records) in enumerate(parts, start=1):
            pack = folder / (f"stylized-{group}.tar" if number == 1 else f"stylized-{group}-{number}.tar")
            atomic_write_bytes(pack, _tar_bytes({RECORDS: _records_bytes(records), **members}))
            written.append(pack)
    return sorted(written)


def _kept(cache: Path, name: str) -> bool:
    """Whether the cache already holds an intact image of that name (which an import must not replace)."""
    try:
        _read(cache, name)
    except (FileNotFoundError, CacheError):
        return False
    return True


def unpack_stylized(packs: Sequence[Path], cache: Path) -> dict:
    """Import packs of :func:`pack_stylized` into a cache, as PNG entries marked as lossy copies.

    Args:
        packs: the ``.tar`` files.
        cache: the root cache folder.

    Returns:
        ``{"imported": n, "kept": n}``: entries written, and entries left as they were because the cache already
        held an intact image for them.

    Raises:
        FileNotFoundError: naming a missing pack.
        ValueError: naming a pack or member that is not what :func:`pack_stylized` writes.
    """
    summary = {"imported": 0, "kept": 0}
    for pack in map(Path, packs):
        if not pack.is_file():
            raise FileNotFoundError(f"stylised pack {pack} does not exist")
        try:
            with tarfile.open(pack, mode="r:") as tar:
                members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
        except tarfile.TarError as error:
            raise ValueError(f"{pack} is not a stylised pack (a tar of pack_stylized): {error}") from error
        if RECORDS not in members:
            raise ValueError(f"{pack} holds no {RECORDS}: not a stylised pack of pack_stylized")
        records = json.loads(members[RECORDS])
        for name, record in records.items():
            fields = NAME.match(name)
            if fields is None or f"{name}.jpg" not in members or record.get("key") != fields["key"]:
                raise ValueError(f"{pack}: entry {name!r} is not a stylised slice of this pack")
            if _kept(cache, name):
                summary["kept"] += 1
                continue
            grey = _decode(members[f"{name}.jpg"], f"{pack.name}:{name}.jpg")
            side = int(fields["crop"])
            if grey.shape != (side, side):
                raise ValueError(f"{pack.name}:{name}.jpg has shape {grey.shape}, expected ({side}, {side})")
            jpeg = record.pop("jpeg")
            record["lossy_copy"] = {
                "format": "JPEG",
                **jpeg,
                "original_pixels_sha256": record.get("pixels_sha256"),
                "archive": pack.name,
            }
            pngs.write_entry(stylized_dir(cache) / f"{name}.png", grey, fields["key"], record)
            summary["imported"] += 1
    return summary


def lossy_entries(cache: Path) -> dict[str, dict]:
    """The cached images that are lossy copies imported by :func:`unpack_stylized`.

    Args:
        cache: the root cache folder.

    Returns:
        ``{file name without .png: lossy_copy record}``.
    """
    return {name: record["lossy_copy"] for name, record in stylized_records(cache).items() if "lossy_copy" in record}
