"""The index of the stylised-slice cache: where each image lies, what made it, and what is still to do.

Layout under the root cache folder ``cache`` (:attr:`helpers.config.Config.cache`)::

    <cache>/stylized/crop<side>/steps<SSS>/style<NN>/slice<II>.png     grey uint8, each written atomically
    <cache>/stylized/manifest.json                                    one record per image (atomic, locked)

A finished entry made with other :data:`MATCHED` settings is refused rather than mixed in. The cache heals
itself, and says so (a warning naming each file):

* an image stylised by another version of the engines (:data:`helpers.style.settings.ENGINE_VERSION`) is
  reported as stale and stylised again, never mixed with the current version's;
* every image is checked when it is planned or read (:func:`helpers.style.pngs.read_png`); a damaged one is
  deleted and stylised again by the next run;
* a damaged manifest (invalid JSON, NaN, wrong structure), or a missing one beside cached images, is rebuilt from
  the images, each of which carries its own record (:mod:`helpers.style.pngs`), so no intact image is
  recomputed. Images written before records were embedded get a minimal record whose settings are unknown
  (``None``); they are trusted with a warning, as the manifest that listed them was.
"""

from __future__ import annotations

import fcntl
import json
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .. import checks
from ..data import ISBI_SHAPE
from ..paths import CacheError, atomic_write_text, read_json
from .images import MIN_SIDE
from .pngs import embedded_record, read_png
from .settings import ENGINE_VERSION, StyleSettings

STYLIZED_DIR = "stylized"
MANIFEST = "manifest.json"
MANIFEST_FORMAT = "neural-style-em stylised ISBI slices v1"
MATCHED = (
    "alpha", "beta", "optimizer", "init", "content_layers", "style_layers", "style_weights", "vgg", "pooling", "seed",
    "history_size",
)  # fmt: skip
ENTRY = re.compile(r"^crop(?P<crop>\d+)/steps(?P<steps>\d+)/style(?P<style>\d+)/slice(?P<slice>\d+)$")
LOG = logging.getLogger(__name__)


def stylized_dir(cache: Path) -> Path:
    """The folder of the stylised slices.

    Args:
        cache: the root cache folder.

    Returns:
        ``<cache>/stylized``.
    """
    return Path(cache) / STYLIZED_DIR


def checked_crop(crop: object) -> int | None:
    """A crop side: None (whole slices) or a whole number of pixels in [16, 512].

    Args:
        crop: the given crop side.

    Returns:
        None or the side as ``int``.

    Raises:
        ValueError: for a negative, zero, too small (VGG pools 4 times), too large or non-integral side.
    """
    return checks.optional_integer(crop, "crop (side of the top-left crop, pixels)", MIN_SIDE, ISBI_SHAPE[-1])


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


def _load_entries(path: Path) -> dict | None:
    """The records of the manifest at ``path`` (None when there is none).

    Raises:
        CacheError: naming the file, when it is not a valid manifest.
    """
    if not path.exists():
        return None
    payload = read_json(path)
    entries = payload.get("entries") if isinstance(payload, dict) else None
    if not isinstance(entries, dict) or not all(isinstance(record, dict) for record in entries.values()):
        raise CacheError(path, "not a stylisation manifest (no 'entries' of records)")
    return entries


def _image_key(root: Path, png: Path) -> str | None:
    """The entry key of a cached image's path, or None for a file outside the layout."""
    key = png.relative_to(root).with_suffix("").as_posix()
    return key if ENTRY.match(key) else None


def rebuild_manifest(cache: Path) -> dict:
    """The records of every intact cached image, read from the images themselves (damaged images are deleted).

    Args:
        cache: the root cache folder.

    Returns:
        ``{key: record}``; an image without an embedded record gets one from its path with ``settings: None``.
    """
    root = stylized_dir(cache)
    entries = {}
    for png in sorted(root.glob("crop*/steps*/style*/slice*.png")):
        key = _image_key(root, png)
        if key is None:
            continue
        fields = {name: int(value) for name, value in ENTRY.match(key).groupdict().items()}
        try:
            record = embedded_record(png)
            read_png(png, fields["crop"], None if record is None else record.get("pixels_sha256"))
            if record is not None and any(record.get(name) != fields[name] for name in ("slice", "style", "steps")):
                raise CacheError(png, "it carries the record of another image (moved or copied here)")
        except CacheError as error:
            LOG.warning("%s: deleted, it is stylised again by the next run", error)
            png.unlink(missing_ok=True)
            continue
        if record is None:
            record = {**fields, "crop": None if fields["crop"] == 512 else fields["crop"], "settings": None}
            record["rebuilt"] = "from the image alone (written before images carried their records)"
        entries[key] = record
    return entries


def _entries_or_rebuilt(cache: Path, new: Sequence[str] = ()) -> dict:
    """The manifest's records; a damaged manifest, or a missing one beside images, rebuilt from the images.

    A warning names a damaged manifest, or a missing one when images other than the ``new`` ones (being added
    by the caller) were found; the caller writes the manifest.
    """
    path = stylized_dir(cache) / MANIFEST
    try:
        entries = _load_entries(path)
        problem = None if entries is not None else f"{path} was missing"
    except CacheError as error:
        entries, problem = None, str(error)
    if entries is not None:
        return entries
    entries = rebuild_manifest(cache)
    recovered = set(entries) - set(new)
    if recovered or not problem.endswith("missing"):
        LOG.warning("%s: rebuilt from the %d intact cached images (none is recomputed)", problem, len(recovered))
    return entries


@contextmanager
def _locked(cache: Path) -> Iterator[None]:
    """An exclusive lock on the manifest (``manifest.json.lock``), across processes."""
    root = stylized_dir(cache)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f"{MANIFEST}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write(cache: Path, entries: dict) -> None:
    """Write the records atomically (finite numbers only: the manifest stays valid JSON)."""
    payload = {"format": MANIFEST_FORMAT, "entries": dict(sorted(entries.items()))}
    atomic_write_text(stylized_dir(cache) / MANIFEST, json.dumps(payload, indent=1, allow_nan=False))


def read_manifest(cache: Path) -> dict:
    """The manifest's records, rebuilt from the cached images when the manifest is damaged or missing.

    Args:
        cache: the root cache folder.

    Returns:
        ``{key: record}``; empty when nothing was stylised yet.
    """
    try:
        entries = _load_entries(stylized_dir(cache) / MANIFEST)
    except CacheError:
        entries = None
    if entries is not None or not stylized_dir(cache).is_dir():
        return entries or {}
    with _locked(cache):  # repair once, under the lock (another process may be repairing it too)
        entries = _entries_or_rebuilt(cache)
        if entries or (stylized_dir(cache) / MANIFEST).exists():  # a damaged one is replaced, even by none
            _write(cache, entries)
        return entries


def write_manifest(cache: Path, new_entries: dict) -> dict:
    """Merge records into the manifest on disk and write it atomically.

    The read-merge-write runs under an exclusive lock (``manifest.json.lock``), so two processes stylising into
    the same cache (e.g. different crops or profiles) never drop each other's entries.

    Args:
        cache: the root cache folder.
        new_entries: ``{key: record}`` to add or replace (finite numbers only).

    Returns:
        The merged records.

    Raises:
        ValueError: for a record holding NaN or inf (nothing is written).
    """
    try:  # refuse before anything changes on disk
        json.dumps(new_entries, allow_nan=False)
    except ValueError as error:
        raise ValueError(f"manifest records hold finite numbers only, never NaN or inf ({error})") from error
    with _locked(cache):
        entries = {**_entries_or_rebuilt(cache, list(new_entries)), **new_entries}
        _write(cache, entries)
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


def read_entry(cache: Path, key: str, record: dict) -> np.ndarray:
    """One cached image, checked against its record.

    It must decode completely, have the key's size and the recorded pixels, and come from this version of the
    engines (:data:`~helpers.style.settings.ENGINE_VERSION`).

    Args:
        cache: the root cache folder.
        key: the entry's key (:func:`entry_key`).
        record: its manifest record.

    Returns:
        uint8 (side, side) pixels.

    Raises:
        CacheError: naming the file, when it is damaged or stale.
    """
    path = stylized_dir(cache) / f"{key}.png"
    grey = read_png(path, int(ENTRY.match(key)["crop"]), record.get("pixels_sha256"))
    version = record.get("engine_version", 1)  # records older than the version field: version 1
    if version != ENGINE_VERSION:
        raise CacheError(path, f"stale: stylised by engine version {version}, this code is version {ENGINE_VERSION}")
    return grey


def _finished(cache: Path, entries: dict, key: str, settings: dict) -> bool:
    """Whether ``key`` is cached with an intact image; a damaged image is deleted (and so stylised again).

    Raises:
        ValueError: if the record was made with other :data:`MATCHED` settings.
    """
    record = entries.get(key)
    path = stylized_dir(cache) / f"{key}.png"
    if record is None or not path.exists():
        return False
    try:
        read_entry(cache, key, record)
    except CacheError as error:
        LOG.warning("%s: deleted, stylising it again", error)
        path.unlink(missing_ok=True)
        return False
    cached = record.get("settings")
    if cached is None:  # rebuilt from an image older than embedded records: trusted, as its manifest was
        return True
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
    unknown = [key for key, record in entries.items() if record.get("settings") is None]
    if unknown:
        LOG.warning(
            "%d cached images in %s have unknown settings (their manifest was rebuilt from images written before "
            "images carried their records, e.g. %s): trusted as cached; delete them to stylise them again",
            len(unknown), stylized_dir(cache), unknown[0],
        )  # fmt: skip
    return todo
