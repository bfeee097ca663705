"""Segment every slice of a raw stack into a zarr label volume, resumably, slice by slice on Dask.

The zarr group holds ``labels`` ((z, y, x) uint32, ids from 1 per slice, 0 = not yet segmented) and ``done``
((z,) int32: 0, or the number of the run that segmented the slice), one chunk per slice. ``done`` is written after
the labels, so a slice counts as finished only once its labels are on disk (zarr writes chunks atomically).

The attributes hold the settings, model digest, raw stack identity, stack-wide intensity scaling
(:func:`helpers.data.lazy.stack_scale`, computed once) and run count. A rerun segments only unfinished slices; one
with another model or raw stack is refused unless ``overwrite``. Slices are tasks of
:func:`helpers.parallel.run_tasks` (the model sent once as ``shared``); only this process writes the store.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import zarr
from tqdm.auto import tqdm

from ..data.lazy import LazyStack, Scale, stack_scale, unit_slice
from ..parallel import run_tasks
from .model_file import SegmentationModel
from .pipeline import graph_data, segment_graph

STORE_FORMAT = "neural-style-em segmentation"
STORE_VERSION = 1
LABELS, DONE = "labels", "done"


@dataclass(frozen=True)
class StackRun:
    """What one call of :func:`segment_stack` did."""

    store: Path
    run: int  # this run's number in the store (1: the first)
    segmented: tuple[int, ...]  # slices segmented by this run
    skipped: tuple[int, ...]  # slices of the range that earlier runs had finished


def segment_slice(model: SegmentationModel, stack: LazyStack, index: int, scale: Scale) -> np.ndarray:
    """Read and segment one slice (a task); uint32 segment ids from 1, the slice's shape.

    Args:
        model: the trained model.
        stack: the raw stack.
        index: the slice's position.
        scale: the stack-wide intensity scaling (:func:`helpers.data.lazy.stack_scale`).
    """
    raw = unit_slice(stack.read(index), scale)
    graph = graph_data(raw, None, settings=model.settings)
    return segment_graph(graph, model.forest, model.settings).astype(np.uint32)


def z_range(text: str | None, n_slices: int) -> range:
    """The slices of ``text`` within a stack of ``n_slices``: a non-empty range.

    Args:
        text: ``"START:STOP"`` (either may be left out; Python's slice rules) or a single index; None: every slice.
        n_slices: slices in the stack.

    Raises:
        ValueError: for text that is no range, or a range that holds no slice of the stack.
    """
    if text is None:
        return range(n_slices)
    parts = text.split(":")
    try:
        if len(parts) == 1:
            start = int(parts[0])
            bounds = slice(start, start + 1 if start != -1 else None)
        elif len(parts) == 2:
            bounds = slice(*(int(part) if part.strip() else None for part in parts))
        else:
            raise ValueError(text)
    except ValueError:
        raise ValueError(f"--z {text!r} is not a range: pass START:STOP, e.g. --z 0:10") from None
    chosen = range(n_slices)[bounds]
    if not chosen:
        raise ValueError(f"--z {text} holds no slice of the stack's 0..{n_slices - 1}: pass START:STOP within it")
    return chosen


def _attributes(model: SegmentationModel, stack: LazyStack, scale: Scale) -> dict:
    """The store's identifying attributes: what a resumed run must match."""
    return {
        "format": STORE_FORMAT,
        "version": STORE_VERSION,
        "settings": model.settings.as_dict(),
        "model_sha256": model.digest,
        "raw": stack.identity(),
        "scale": None if scale is None else list(scale),
    }


def _mismatch(attributes: dict, model: SegmentationModel, identity: dict) -> str | None:
    """Why an existing store cannot be resumed with this model and stack (None: it can)."""
    if attributes.get("format") != STORE_FORMAT or attributes.get("version") != STORE_VERSION:
        return "it is not a segmentation store of this version"
    if attributes.get("model_sha256") != model.digest:
        return "it was segmented with another model"
    if attributes.get("raw") != identity:
        return f"it was segmented from another raw stack ({attributes.get('raw', {}).get('name')})"
    return None


def open_store(
    out: Path, model: SegmentationModel, stack: LazyStack, overwrite: bool = False, progress: bool = False
) -> zarr.Group:
    """The output store: created (computing the stack-wide scaling) or reopened, its ``runs`` counting this run.

    Args:
        out: the zarr folder.
        model: the trained model.
        stack: the raw stack.
        overwrite: replace a store made with another model or raw stack (or anything else at ``out``).
        progress: show a progress bar for the scaling pass.

    Raises:
        ValueError: when ``out`` holds something else, or a store of another model or stack, and not ``overwrite``.
    """
    out = Path(out)
    identity = stack.identity()
    if out.exists() and not (out.is_dir() and not any(out.iterdir())):  # an empty folder is a new store
        problem = None
        try:
            group = zarr.open_group(str(out), mode="r+")
            problem = _mismatch(dict(group.attrs), model, identity)
            if problem is None and tuple(group[LABELS].shape) != stack.shape:
                problem = f"its labels have shape {tuple(group[LABELS].shape)}, the stack {stack.shape}"
        except Exception as error:  # anything that is no zarr group of ours
            problem = f"it is no zarr store this command wrote ({type(error).__name__})"
        if problem and not overwrite:
            raise ValueError(f"--out {out} exists and {problem}: pass another --out, or --overwrite to replace it")
        if problem:
            shutil.rmtree(out) if out.is_dir() else out.unlink()
        else:
            group.attrs["runs"] = int(group.attrs.get("runs", 0)) + 1
            return group
    scale = stack_scale(stack, progress)
    group = zarr.open_group(str(out), mode="w")
    n_slices, height, width = stack.shape
    group.create_array(LABELS, shape=stack.shape, chunks=(1, height, width), dtype="uint32", fill_value=0)
    group.create_array(DONE, shape=(n_slices,), chunks=(1,), dtype="int32", fill_value=0)
    group.attrs.update(_attributes(model, stack, scale) | {"runs": 1})
    return group


def finished(group: zarr.Group) -> np.ndarray:
    """(z,) int32: the run number that finished each slice of a :func:`open_store` group (0: not finished)."""
    return np.asarray(group[DONE][:])


def segment_stack(
    model: SegmentationModel,
    stack: LazyStack,
    out: Path,
    slices: Sequence[int] | None = None,
    workers: int = 1,
    overwrite: bool = False,
    progress: bool = True,
) -> StackRun:
    """Segment the chosen slices of a stack into a zarr store, skipping those an earlier run finished.

    Args:
        model: the trained model.
        stack: the raw stack (read slice by slice in the tasks).
        out: the zarr folder (created, or resumed).
        slices: positions to segment (None: all).
        workers: Dask worker processes (1 without a configured cluster: in this process).
        overwrite: replace a store of another model or stack.
        progress: show progress bars.

    Raises:
        ValueError: for a store that cannot be resumed (see :func:`open_store`).
    """
    group = open_store(Path(out), model, stack, overwrite, progress)
    run = int(group.attrs["runs"])
    scale = group.attrs.get("scale")
    scale = None if scale is None else (float(scale[0]), float(scale[1]))
    chosen = list(range(len(stack)) if slices is None else slices)
    done = finished(group)
    todo = [index for index in chosen if done[index] == 0]
    labels, marks = group[LABELS], group[DONE]
    tasks = [(stack, index, scale) for index in todo]
    bar = tqdm(total=len(todo), desc="segmenting slices", unit="slice", disable=not progress)
    with bar:
        for position, segmentation in run_tasks(segment_slice, tasks, workers, shared=model):
            index = todo[position]
            labels[index] = segmentation
            marks[index] = run  # after the labels: a slice is finished only once its labels are written
            bar.update()
    skipped = tuple(index for index in chosen if done[index] != 0)
    return StackRun(Path(out), run, tuple(todo), skipped)
