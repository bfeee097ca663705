"""The index of the stylised-slice cache: where each image lies, what made it, and what is still to do.

Layout under the root cache folder ``cache`` (:attr:`helpers.config.Config.cache`)::

    <cache>/stylized/crop<side>/steps<SSS>/style<NN>/slice<II>.png     grey uint8, each written atomically
    <cache>/stylized/manifest.json                                    one record per image (atomic, locked)

A finished entry made with other :data:`MATCHED` settings is refused rather than mixed in.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Sequence
from pathlib import Path

from ..paths import atomic_write_text
from .engine import StyleSettings

STYLIZED_DIR = "stylized"
MANIFEST = "manifest.json"
MANIFEST_FORMAT = "neural-style-em stylised ISBI slices v1"
MATCHED = (
    "alpha", "beta", "optimizer", "init", "content_layers", "style_layers", "style_weights", "vgg", "pooling", "seed",
    "history_size",
)  # fmt: skip


def stylized_dir(cache: Path) -> Path:
    """The folder of the stylised slices.

    Args:
        cache: the root cache folder.

    Returns:
        ``<cache>/stylized``.
    """
    return Path(cache) / STYLIZED_DIR


def entry_key(crop: int | None, steps: int, style: int, slice_index: int) -> str:
    """Manifest key and relative path (without ``.png``) of one stylised slice.

    Args:
        crop: side of the top-left crop (None: the whole 512 px slice).
        steps: function evaluations.
        style: painting number.
        slice_index: ISBI training slice.

    Returns:
        e.g. ``crop128/steps075/style03/slice00``.
    """
    return f"crop{crop or 512}/steps{int(steps):03d}/style{int(style):02d}/slice{int(slice_index):02d}"


def read_manifest(cache: Path) -> dict:
    """The manifest's records.

    Args:
        cache: the root cache folder.

    Returns:
        ``{key: record}``; empty when nothing was stylised yet.

    Raises:
        ValueError: if the manifest is not one.
    """
    path = stylized_dir(cache) / MANIFEST
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())["entries"]
    except (ValueError, KeyError) as error:
        raise ValueError(
            f"{path} is not a stylisation manifest ({error}): delete it and re-run the stylisation"
        ) from error


def write_manifest(cache: Path, new_entries: dict) -> dict:
    """Merge records into the manifest on disk and write it atomically.

    The read-merge-write runs under an exclusive lock (``manifest.json.lock``), so two processes stylising into
    the same cache (e.g. different crops or profiles) never drop each other's entries.

    Args:
        cache: the root cache folder.
        new_entries: ``{key: record}`` to add or replace.

    Returns:
        The merged records.
    """
    root = stylized_dir(cache)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f"{MANIFEST}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            entries = {**read_manifest(cache), **new_entries}
            payload = {"format": MANIFEST_FORMAT, "entries": dict(sorted(entries.items()))}
            atomic_write_text(root / MANIFEST, json.dumps(payload, indent=1))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return entries


def cached_settings(settings: StyleSettings) -> dict:
    """The settings a manifest record keeps (JSON-ready), among them every :data:`MATCHED` one.

    Args:
        settings: the settings of the run.

    Returns:
        The ``settings`` field of each record.
    """
    return {
        "alpha": float(settings.alpha),
        "beta": float(settings.beta),
        "seed": int(settings.seed),
        "optimizer": settings.optimizer,
        "init": settings.init,
        "content_layers": list(settings.content_layers),
        "style_layers": list(settings.style_layers),
        "style_weights": settings.style_weights,
        "vgg": settings.source,
        "pooling": settings.pooling,
        "history_size": int(settings.history_size),
    }


def _finished(cache: Path, entries: dict, key: str, settings: dict) -> bool:
    """Whether ``key`` is cached (image and record); a record made with other settings raises ValueError."""
    record = entries.get(key)
    if record is None or not (stylized_dir(cache) / f"{key}.png").exists():
        return False
    cached = record["settings"]
    clash = {name: (cached.get(name), settings.get(name)) for name in MATCHED if cached.get(name) != settings.get(name)}
    if clash:
        raise ValueError(
            f"{key} in {stylized_dir(cache)} was stylised with other settings {clash} (cached, requested): "
            "delete that folder or point NSEM_CACHE elsewhere to stylise with the new settings"
        )
    return True


def plan_isbi(
    cache: Path, slices: Sequence[int], styles: Sequence[int], steps: Sequence[int], crop: int | None, settings: dict
) -> list[tuple[int, int, tuple[int, ...]]]:
    """What is still to do.

    Args:
        cache: the root cache folder.
        slices: ISBI training slices.
        styles: painting numbers.
        steps: step counts.
        crop: crop side (None: whole slices).
        settings: :func:`cached_settings` of the run.

    Returns:
        ``(slice, style, missing step counts)`` per pair that misses any; finished entries are skipped.

    Raises:
        ValueError: if a finished entry was made with other settings.
    """
    entries = read_manifest(cache)
    todo = []
    for style in styles:
        for s in slices:
            missing = tuple(
                sorted(st for st in steps if not _finished(cache, entries, entry_key(crop, st, style, s), settings))
            )
            if missing:
                todo.append((int(s), int(style), missing))
    return todo
