"""Stylised slices as a compact archive: JPEG packs per painting, and their import into a cache as lossy copies.

A machine that stylised the slices (a GPU machine) sends them home in files of at most ``max_bytes`` each
(:func:`pack_stylized`): one uncompressed tar per (crop, painting), split further when needed, holding each image
as a grey JPEG of the given quality and ``records.json``, the manifest record of each image plus what the JPEG
changed (largest and mean absolute difference in grey levels, measured there).

:func:`unpack_stylized` writes the decoded images into a cache as ordinary PNG entries, so that chapters 02 and 06
find them like any other cached image. Their records say that they are lossy copies (``lossy_copy``: format,
quality, the original's pixel digest, the errors, the archive file); ``pixels_sha256`` is the digest of the decoded
pixels, which is what the cache checks on every read. The cache treats them as finished entries, not as images to
stylise again: a q95 JPEG moves a grey level by about 1.5 on average (at most about 10), far less than two equally
valid L-BFGS runs differ (``benchmarks/style_benchmark.py``'s noise floor), whereas stylising 30 whole slices x 24
paintings again on a CPU takes hours. An intact entry already in the cache (the lossless original, say) is never
replaced by a lossy copy. :func:`lossy_entries` lists the copies, for provenance.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from .. import checks
from ..paths import CacheError, atomic_write_bytes
from .manifest import ENTRY, read_entry, read_manifest, stylized_dir, write_manifest
from .pngs import pixel_digest, png_bytes

MAX_PACK_BYTES = 16 * 2**20  # what one file back from the GPU machine may weigh
RECORDS = "records.json"
TAR_BLOCK = 512


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


def _group(key: str) -> str:
    """The pack a key goes to: ``crop512-style03``."""
    fields = ENTRY.match(key)
    return f"crop{fields['crop']}-style{fields['style']}"


def pack_stylized(
    cache: Path,
    folder: Path,
    keys: Sequence[str] | None = None,
    quality: int = 95,
    max_bytes: int = MAX_PACK_BYTES,
) -> list[Path]:
    """Pack cached stylised slices into tars of JPEGs, one (or more) per crop and painting, each <= ``max_bytes``.

    Args:
        cache: the root cache folder.
        folder: where the packs go (``stylized-crop512-style03.tar``, ``...-style03-2.tar`` when split).
        keys: the entries to pack (:func:`helpers.style.manifest.entry_key`); None: every cached entry.
        quality: JPEG quality, 50..100.
        max_bytes: the largest pack.

    Returns:
        The packs written, sorted.

    Raises:
        KeyError: naming an entry that is not cached.
        CacheError: naming a damaged cached image.
        ValueError: for a quality outside 50..100, or a ``max_bytes`` too small for one image.
    """
    quality = checks.integer(quality, "quality (JPEG)", 50, 100)
    max_bytes = checks.integer(max_bytes, "max_bytes", tarfile.RECORDSIZE)
    entries = read_manifest(cache)
    keys = sorted(entries) if keys is None else sorted(keys)
    missing = [key for key in keys if key not in entries]
    if missing:
        raise KeyError(f"{len(missing)} entries to pack are not in {stylized_dir(cache)}, e.g. {missing[0]}")
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(_group(key), []).append(key)
    folder = Path(folder)
    written = []
    for group, group_keys in groups.items():
        parts: list[tuple[dict[str, bytes], dict]] = [({}, {})]
        for key in group_keys:
            original = read_entry(cache, key, entries[key])
            payload = _jpeg(original, quality)
            error = np.abs(_decode(payload, key).astype(np.int16) - original.astype(np.int16))
            record = {
                **entries[key],
                "jpeg": {
                    "quality": quality,
                    "max_abs_error": int(error.max()),
                    "mean_abs_error": round(float(error.mean()), 4),
                },
            }
            members, records = parts[-1]
            if members and _tar_size({**members, f"{key}.jpg": payload}, {**records, key: record}) > max_bytes:
                parts.append(({}, {}))
                members, records = parts[-1]
            if _tar_size({f"{key}.jpg": payload}, {key: record}) > max_bytes:
                raise ValueError(f"max_bytes={max_bytes} is too small for one image ({key}: {len(payload)} bytes)")
            members[f"{key}.jpg"] = payload
            records[key] = record
        for number, (members, records) in enumerate(parts, start=1):
            name = f"stylized-{group}.tar" if number == 1 else f"stylized-{group}-{number}.tar"
            payload = _tar_bytes({RECORDS: _records_bytes(records), **members})
            atomic_write_bytes(folder / name, payload)
            written.append(folder / name)
    return sorted(written)


def _kept(cache: Path, entries: dict, key: str) -> bool:
    """Whether the cache already holds an intact image for ``key`` (which an import must not replace)."""
    if key not in entries:
        return False
    try:
        read_entry(cache, key, entries[key])
    except CacheError:
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
        entries = read_manifest(cache)
        written = {}
        for key, record in records.items():
            if not ENTRY.match(key) or f"{key}.jpg" not in members:
                raise ValueError(f"{pack}: entry {key!r} is not a stylised slice of this pack")
            if _kept(cache, entries, key):
                summary["kept"] += 1
                continue
            grey = _decode(members[f"{key}.jpg"], f"{pack.name}:{key}.jpg")
            side = int(ENTRY.match(key)["crop"])
            if grey.shape != (side, side):
                raise ValueError(f"{pack.name}:{key}.jpg has shape {grey.shape}, expected ({side}, {side})")
            jpeg = record.pop("jpeg")
            record["lossy_copy"] = {
                "format": "JPEG",
                **jpeg,
                "original_pixels_sha256": record.get("pixels_sha256"),
                "archive": pack.name,
            }
            record["pixels_sha256"] = pixel_digest(grey)
            atomic_write_bytes(stylized_dir(cache) / f"{key}.png", png_bytes(grey, record))
            written[key] = record
        write_manifest(cache, written)
        summary["imported"] += len(written)
    return summary


def lossy_entries(cache: Path) -> dict[str, dict]:
    """The cached entries that are lossy copies imported by :func:`unpack_stylized`.

    Args:
        cache: the root cache folder.

    Returns:
        ``{key: lossy_copy record}``.
    """
    return {key: record["lossy_copy"] for key, record in read_manifest(cache).items() if "lossy_copy" in record}
