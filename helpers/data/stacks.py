"""Your own EM data: a raw stack and its labels from any supported file, as the pipeline's inputs, split by z-blocks.

:func:`load_em_stack` reads both (:func:`.readers.read_volume`), brings the raw pixels into the pixel contract
(:func:`unit_raw`) and the labels into membrane labels and a dense ground truth (:mod:`.labels`).
:func:`z_block_split` splits by contiguous z-blocks so that nearly identical neighbours do not land on both sides.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .. import checks
from .files import DataError
from .labels import (
    body_ids,
    check_polarity,
    dense_ground_truth,
    instance_ground_truth,
    label_kind,
    membranes_from_ground_truth,
)
from .masks import inverted_fix, mask_membranes
from .readers import Selection, _indices, read_volume

WHAT = ("raw", "labels")  # how messages name arrays passed instead of files


@dataclass(frozen=True)
class EMStack:
    """An EM stack ready for the segmentation pipeline: raw slices, membrane labels, dense ground truth."""

    raw: np.ndarray  # (n, H, W) uint8, or float32 in [0, 1]
    membranes: np.ndarray  # (n, H, W) uint8: 0 membrane, 255 cell
    gt: np.ndarray  # (n, H, W) uint32 dense cell ids, from 1 per slice
    name: str = "EM stack"
    notes: dict = field(default_factory=dict)  # where it came from and what was done to it

    def __len__(self) -> int:
        """Number of slices."""
        return len(self.raw)

    def take(self, indices: Sequence[int]) -> EMStack:
        """The stack restricted to the slices ``indices``, in that order.

        Raises:
            ValueError: for an empty, repeated or non-integral index list.
            IndexError: for an index outside the stack.
        """
        index = list(checks.integers(indices, "slice indices", 0, None))
        bad = [i for i in index if i >= len(self)]
        if bad:
            raise IndexError(f"slice indices {bad} are outside 0..{len(self) - 1} of {self.name}")
        return replace(self, raw=self.raw[index], membranes=self.membranes[index], gt=self.gt[index])


HOT_PIXEL_FACTOR = 10.0  # a full range this many times the 0.01-99.99 percentile range: a few hot pixels


def unit_raw(raw: np.ndarray, source: str = "raw") -> tuple[np.ndarray, str]:
    """Raw pixels in the project's contract: uint8 kept, anything else linearly into [0, 1] by the stack's min and max.

    One scale for the whole stack keeps the slices' relative brightness; datasets are made comparable by the pipeline's
    intensity normalisation (:mod:`.normalize`).

    Args:
        raw: the stack, uint8, uint16 (or other integers) or float.
        source: how errors name it.

    Returns:
        ``(pixels, what was done)``: uint8 unchanged, or float32 in [0, 1].

    Raises:
        DataError: for boolean pixels, NaN/inf, or a constant stack.
    """
    raw = np.asarray(raw)
    if raw.dtype == np.uint8:
        return raw, "uint8, unchanged"
    if raw.dtype == bool or raw.dtype.kind not in "iuf":
        raise DataError(f"{source} has dtype {raw.dtype}: raw EM images are 8- or 16-bit integers or floats")
    values = raw.astype(np.float32)
    if not np.isfinite(values).all():
        raise DataError(f"{source} contains NaN or inf values: clean the stack first")
    low, high = float(values.min()), float(values.max())
    if raw.dtype.kind == "f" and low >= 0.0 and high <= 1.0:
        return values, "float in [0, 1], unchanged"
    if high <= low:
        raise DataError(f"{source} is constant ({low:g} everywhere): there is nothing to segment")
    p_low, p_high = (float(v) for v in np.percentile(values, (0.01, 99.99)))
    if (high - low) > HOT_PIXEL_FACTOR * max(p_high - p_low, np.finfo(np.float32).tiny):
        warnings.warn(
            f"{source}: a few extreme pixels ({low:g}..{high:g}, while 99.98 % lie in {p_low:g}..{p_high:g}) squeeze "
            f"the contrast {(high - low) / max(p_high - p_low, 1e-12):.0f}-fold in the linear rescaling: clip the "
            "stack to its percentiles first (np.clip(raw, *np.percentile(raw, (0.01, 99.99)))) or fix the hot pixels",
            stacklevel=2,
        )
    return (values - low) / (high - low), f"{raw.dtype} {low:g}..{high:g} rescaled linearly to [0, 1]"


def _three_d(array: np.ndarray) -> np.ndarray:
    """A 2D image as a stack of one slice."""
    return array[None] if array.ndim == 2 else array


def _selected(array: np.ndarray, z: Selection, source: str) -> np.ndarray:
    """The slices ``z`` of a stack passed as an array, as :func:`.readers.read_volume` reads them from a file."""
    if z is None:
        return array
    if array.ndim != 3:
        raise DataError(f"z={z!r} selects slices, but {source} is one 2D image (shape {array.shape}): pass z=None")
    try:
        return array[_indices(z, len(array), source)]
    except IndexError as error:
        raise IndexError(
            f"z={z!r}: {error}; z selects the same slices of files and arrays alike: pass the whole stack"
        ) from None


def crop_window(
    shape: tuple[int, ...], crop: int | Sequence[int] | None, offset: Sequence[int] = (0, 0)
) -> tuple[slice, slice]:
    """The ``(rows, columns)`` slices a crop keeps of a (..., H, W) ``shape``.

    Args:
        shape: the stack's shape, (..., H, W).
        crop: the side of a square crop, ``(height, width)``, or None (to the end of each slice).
        offset: ``(y, x)`` of the crop's top-left pixel.

    Returns:
        ``(rows, columns)``.

    Raises:
        ValueError: for a non-positive or fractional crop, a negative offset, a pair of another length, or a crop
            beyond the slices.
        TypeError: for values that are not numbers.
    """
    if isinstance(offset, str) or not isinstance(offset, Sequence) or len(offset) != 2:
        raise ValueError(f"offset must be a pair (y, x) of whole numbers, got {offset!r}")
    top, left = (checks.integer(value, f"offset[{axis}]", 0, None) for axis, value in enumerate(offset))
    if crop is None:
        height, width = shape[-2] - top, shape[-1] - left
    elif isinstance(crop, Sequence) and not isinstance(crop, str):
        if len(crop) != 2:
            raise ValueError(f"crop must be a side or a pair (height, width), got {crop!r}")
        height, width = (checks.integer(value, f"crop[{axis}]", 1, None) for axis, value in enumerate(crop))
    else:
        height = width = checks.integer(crop, "crop", 1, None)
    if height < 1 or width < 1 or top + height > shape[-2] or left + width > shape[-1]:
        raise ValueError(
            f"crop={crop!r} from offset=({top}, {left}) reaches beyond the slices of {shape[-2]} x {shape[-1]} pixels "
            f"(rows {top}..{top + height - 1}, columns {left}..{left + width - 1}): choose a smaller crop or offset"
        )
    return slice(top, top + height), slice(left, left + width)


def load_em_stack(
    raw: Path | str | np.ndarray,
    labels: Path | str | np.ndarray,
    *,
    kind: str = "auto",
    membrane: int | float | bool | str | None = None,
    table: np.ndarray | Mapping[int, int] | str | None = None,
    raw_dataset: str | None = None,
    labels_dataset: str | None = None,
    z: Selection = None,
    crop: int | Sequence[int] | None = None,
    offset: Sequence[int] = (0, 0),
    threshold: float | None = None,
    background: int | None = 0,
    min_size: int = 10,
    name: str | None = None,
    workers: int | None = None,
) -> EMStack:
    """Read a raw stack and its labels (files or arrays) into an :class:`EMStack`.

    Args:
        raw: TIFF, PNG, folder of slices, HDF5, zarr or ``.npy`` (gzipped too), or an array; 2D or 3D.
        labels: the same for the labels: a membrane mask or instance ids, the shape of ``raw``.
        kind: ``"mask"``, ``"instances"`` or ``"auto"`` (:func:`.labels.label_kind`; a stated ``membrane`` or
            ``threshold`` makes it a mask).
        membrane: for a mask, the membrane value or ``"dark"``/``"bright"``; None: detected, with a warning
            (:func:`.masks.membrane_labels`).
        table: for instances, a supervoxel-to-body table: ``(n, 2)`` rows, a dict, or the name of a dataset in the
            labels' HDF5/zarr file (e.g. NeuroProof's ``"transforms"``).
        raw_dataset: dataset of ``raw`` in an HDF5 file or zarr group (None: the only one).
        labels_dataset: dataset of ``labels`` (None: the only one).
        z: slices to read (a slice or indices; None: all), of files and arrays alike.
        crop: keep ``crop`` x ``crop`` pixels (or ``(height, width)``) from ``offset`` (None: to the slices' ends).
        offset: ``(y, x)`` of the crop's top-left pixel.
        threshold: for a grey-edged mask: pixels above it are the bright side (None: two values). Implies a mask.
        background: for instances, the id of unlabelled pixels (None: none).
        min_size: for instances, the smallest cell in pixels (smaller specks join their neighbours).
        name: the stack's name (None: the raw file's name).
        workers: threads building the ground truth (None: one per CPU core); the result does not depend on it.

    Returns:
        The stack; ``notes`` records the files, label kind, membrane value, threshold, crop and raw rescaling.

    Raises:
        FileNotFoundError: a file is missing.
        DataError: for unreadable files, raw and labels of different shapes, a ``z`` for a 2D array, a threshold for
            instance ids, or unusable labels (:mod:`.labels`, :mod:`.masks`).
        ValueError: for a crop or offset beyond the slices.
    """
    files = [isinstance(item, str | Path) for item in (raw, labels)]
    sources = [str(item) if file else f"{what} (array)" for item, file, what in zip((raw, labels), files, WHAT)]
    raw_pixels = _three_d(read_volume(raw, raw_dataset, z) if files[0] else _selected(np.asarray(raw), z, sources[0]))
    label_ids = _three_d(
        read_volume(labels, labels_dataset, z) if files[1] else _selected(np.asarray(labels), z, sources[1])
    )
    if raw_pixels.shape != label_ids.shape:
        chosen = "" if z is None else f" (z={z!r} selects the same slices of both: pass the labels of the whole stack)"
        raise DataError(
            f"{sources[0]} has shape {raw_pixels.shape} but {sources[1]} have {label_ids.shape}: pass the "
            f"labels of the same slices{chosen}"
        )
    threads = checks.optional_integer(workers, "workers", 1, None) or os.cpu_count() or 1
    notes: dict = {"raw": sources[0], "labels": sources[1]}
    if crop is not None or tuple(offset) != (0, 0):
        rows, columns = crop_window(raw_pixels.shape, crop, offset)
        raw_pixels, label_ids = raw_pixels[:, rows, columns], label_ids[:, rows, columns]
        notes["crop"] = f"rows {rows.start}..{rows.stop - 1}, columns {columns.start}..{columns.stop - 1}"
    raw_pixels, notes["raw_values"] = unit_raw(raw_pixels, sources[0])
    if threshold is not None and kind == "instances":
        raise DataError(
            f"threshold={threshold!r} reads {sources[1]} as a grey mask, but kind='instances' says they are ids: "
            "drop threshold for instance ids, or pass kind='mask'"
        )
    if kind == "auto" and (threshold is not None or membrane is not None):
        kind = "mask"  # a membrane side or threshold is stated for masks only: never read them as instance ids
    notes["kind"] = kind = "mask" if threshold is not None else label_kind(label_ids, kind, sources[1])
    if kind == "mask":
        membranes, values, taken = mask_membranes(label_ids, membrane, sources[1], threshold)
        fix = inverted_fix(values, taken, threshold is not None)
        for plane in membranes:  # as dense_ground_truth checks each slice, with the fix in the mask's own values
            check_polarity(plane, sources[1], fix)
        gt = dense_ground_truth(membranes, polarity_check=False, workers=threads)
        notes["membrane_value"] = "stated" if membrane is not None else "detected"
        if threshold is not None:
            notes["threshold"] = threshold
    else:
        if isinstance(table, str):
            if not files[1]:
                raise DataError(f"table={table!r} names a dataset, but the labels were passed as an array")
            table = read_volume(labels, table)
        if table is not None:
            label_ids = body_ids(label_ids, table, background if background is not None else 0)
            notes["table"] = f"{len(table)} supervoxels"
        gt = instance_ground_truth(label_ids, background, checks.integer(min_size, "min_size", 1, None), threads)
        membranes = membranes_from_ground_truth(gt)
    return EMStack(raw_pixels, membranes, gt, name or Path(sources[0]).name, notes)


def z_block_split(
    n_slices: int, n_blocks: int = 4, test_blocks: Sequence[int] = (-1,), gap: int = 0
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Training and test slices by contiguous blocks of z.

    The stack is cut into ``n_blocks`` (nearly) equal blocks; ``test_blocks`` are tested, the rest train, except
    ``gap`` slices on each side of a test block, left out because neighbours are nearly identical in isotropic FIB-SEM.

    Args:
        n_slices: slices in the stack.
        n_blocks: number of blocks (2..n_slices).
        test_blocks: block numbers that are tested (negative numbers count from the end).
        gap: slices left out next to each test block.

    Returns:
        ``(train slices, test slices)``, each sorted.

    Raises:
        ValueError: for counts out of range, unknown or all blocks tested, or a gap that leaves no training slice.
        TypeError: for non-integral numbers.
    """
    n_slices = checks.integer(n_slices, "n_slices", 2, None)
    n_blocks = checks.integer(n_blocks, "n_blocks", 2, n_slices)
    gap = checks.integer(gap, "gap", 0, None)
    chosen = {block % n_blocks for block in checks.integers(test_blocks, "test_blocks", -n_blocks, n_blocks - 1)}
    if len(chosen) == n_blocks:
        raise ValueError(f"test_blocks {list(test_blocks)} take all {n_blocks} blocks: leave at least one to train on")
    blocks = np.array_split(np.arange(n_slices), n_blocks)
    test = sorted(int(i) for block in sorted(chosen) for i in blocks[block])
    near = {i + step for i in test for step in range(-gap, gap + 1)}
    train = tuple(i for i in range(n_slices) if i not in near)
    if not train:
        raise ValueError(f"gap={gap} leaves no training slice between the test blocks of {n_slices} slices")
    return train, tuple(test)
