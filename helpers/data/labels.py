"""Labels of every kind turned into the project's two forms: binary membrane labels and a dense ground truth.

Membrane labels follow ISBI 2012: uint8, 0 = membrane, 255 = cell interior (any mask: :mod:`.masks`). A dense ground
truth holds, per slice, the 4-connected cells with consecutive ids from 1; everything else (membranes, background,
specks) is given to the nearest cell by a watershed. :func:`dense_ground_truth` builds it from membrane labels,
:func:`instance_ground_truth` from instance ids (after an optional supervoxel-to-body table, :func:`body_ids`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import ndimage
from skimage.measure import label as connected_components
from skimage.segmentation import relabel_sequential, watershed

from .files import DataError
from .masks import CELL, MEMBRANE, PolarityWarning, membrane_labels, suggested_threshold, value_counts

__all__ = [  # membrane_labels and PolarityWarning live in .masks and are read from here too
    "CELL", "MEMBRANE", "PolarityWarning", "body_ids", "check_binary_labels", "check_polarity", "dense_ground_truth",
    "grow_cells", "instance_ground_truth", "label_kind", "membrane_labels", "membranes_from_ground_truth", "per_slice",
]  # fmt: skip

POLARITY_MIN_PIXELS = 128 * 128  # smaller crops can be mostly membrane: too small to tell the polarity
POLARITY_THICKNESS_RATIO = 1.5  # inverted: the "membranes" are this much thicker than the "cells"
GREY_EXTREMES = 0.9  # labels with this share of 0 and maximum values and a few others: a grey-edged mask
GREY_SHARE = 0.05  # ... each of the two covering at least this share
LOSSY_MARGIN = 0.125  # values within this share of the range of 0 or the maximum: a mask's lossy-compression noise
MIN_CONSTANT_PAIRS = 0.5  # instance labels are piecewise constant: most neighbouring pixels agree


def check_binary_labels(labels: np.ndarray, source: str = "labels") -> np.ndarray:
    """``labels``, unchanged, checked to hold only 0 (membrane) and 255 (cell); ``source`` names them in errors.

    Raises:
        DataError: for any other value.
    """
    labels_array = np.asarray(labels)
    if labels_array.dtype == np.uint8 and np.all((labels_array == MEMBRANE) | (labels_array == CELL)):
        return labels  # the common case, without sorting the values
    values = np.unique(labels_array)
    if not set(values.tolist()) <= {MEMBRANE, CELL}:
        shown = values[:8].tolist()
        raise DataError(
            f"{source} are not binary: found values {shown}{'...' if len(values) > 8 else ''}, "
            "expected 0 (membrane) and 255 (cell interior); convert any mask or instance ids with "
            "helpers.data.membrane_labels(mask, membrane=...) or helpers.data.load_em_stack(raw, labels), which "
            "ask which value marks the membranes instead of guessing"
        )
    return labels


def _thickness(region: np.ndarray) -> float:
    """Mean distance of a region's pixels to its edge, slice by slice (how thick the region is)."""
    if not region.any():
        return 0.0
    planes = region if region.ndim == 3 else region[None]
    distance = np.stack([ndimage.distance_transform_edt(plane) for plane in planes])
    return float(distance[planes].mean())


def check_polarity(labels: np.ndarray, source: str = "labels", fix: str | None = None) -> np.ndarray:
    """Refuse 0/255 membrane labels that look inverted (membranes 255, cells 0).

    Inverted: the value 0 covers more than half of the pixels *and* its regions are 1.5 times as thick as the cells' (no
    ISBI 2012 crop of 128 px or more is; every inverted whole slice is). Slices under 128 x 128 px are not judged.

    Args:
        labels: 0/255 labels, (H, W) or (n, H, W).
        source: how the error names the labels.
        fix: the remedy the error states (None: membrane=255 for white membranes; :func:`.masks.inverted_fix` words it
            in the values of the user's mask).

    Returns:
        ``labels``, unchanged.

    Raises:
        DataError: when the labels look inverted.
    """
    labels = np.asarray(labels)
    membrane = labels == MEMBRANE
    fraction = float(membrane.mean()) if membrane.size else 0.0
    if labels.shape[-2] * labels.shape[-1] < POLARITY_MIN_PIXELS or fraction <= 0.5:
        return labels
    thick, thin = _thickness(membrane), _thickness(~membrane)
    if thick > POLARITY_THICKNESS_RATIO * thin:
        raise DataError(
            f"{source} look inverted: the membrane value 0 covers {fraction:.0%} of the pixels in regions "
            f"{thick:.1f} px thick on average, the cells (255) only {thin:.1f} px. "
            + (
                fix
                or "If your membranes are white, convert with helpers.data.membrane_labels(labels, membrane=255) (or "
                "'bright'); if you stated the membrane value, it is probably the other one"
            )
        )
    return labels


def grow_cells(cells: np.ndarray) -> np.ndarray:
    """Give every 0 pixel of 2D cell ids to the nearest cell (seeded watershed on the distance): uint32, no 0 left."""
    distance = ndimage.distance_transform_edt(cells == 0)
    return watershed(distance, markers=cells).astype(np.uint32)


def per_slice(function: Callable[[np.ndarray], np.ndarray], planes: np.ndarray, workers: int = 1) -> np.ndarray:
    """``function`` of every 2D slice of ``planes``, stacked, in ``workers`` threads (the work releases the GIL)."""
    if workers <= 1 or len(planes) < 2:
        return np.stack([function(plane) for plane in planes])
    with ThreadPoolExecutor(min(workers, len(planes))) as pool:
        return np.stack(list(pool.map(function, planes)))


def dense_ground_truth(labels: np.ndarray, polarity_check: bool = True, workers: int = 1) -> np.ndarray:
    """Dense ground truth from binary membrane labels: 4-connected interiors grown into the membranes by a watershed.

    Every pixel ends in one cell; membranes are split along their middle.

    Args:
        labels: binary membrane labels, (H, W) or (n, H, W).
        polarity_check: refuse labels that look inverted (:func:`check_polarity`).
        workers: threads for the slices of a stack (the result does not depend on it).

    Returns:
        uint32 cell ids of the same shape, consecutive from 1 per slice.

    Raises:
        ValueError: for another number of dimensions.
        DataError: for labels that are not binary, look inverted, or hold no cell.
    """
    labels = np.asarray(labels)
    if labels.ndim == 3:
        return per_slice(lambda plane: dense_ground_truth(plane, polarity_check), labels, workers)
    if labels.ndim != 2:
        raise ValueError(f"labels must be 2D or 3D, got shape {labels.shape}")
    check_binary_labels(labels)
    if polarity_check:
        check_polarity(labels)
    seeds, _ = ndimage.label(labels == CELL)
    if not seeds.any():
        raise DataError(
            "the labels are all membrane (no pixel is 255, cell interior): there is no cell to segment; check the "
            "membrane side (membrane_labels(mask, membrane=...)) or that the right file was given"
        )
    return grow_cells(seeds)


def body_ids(ids: np.ndarray, table: np.ndarray | Mapping[int, int], background: int = 0) -> np.ndarray:
    """Map supervoxel ids to body (neuron) ids through a table.

    Args:
        ids: integer supervoxel ids, any shape.
        table: ``(n, 2)`` rows of (supervoxel, body), e.g. NeuroProof's ``transforms``, or a dict.
        background: the id that may be missing from the table (kept as it is).

    Returns:
        int64 body ids, the shape of ``ids``.

    Raises:
        DataError: for a table of another shape, a supervoxel given two bodies, or ids missing from the table.
    """
    if isinstance(table, Mapping):
        table = np.array(list(table.items()), dtype=np.int64).reshape(-1, 2)
    table = np.asarray(table)
    if table.ndim != 2 or table.shape[1] != 2 or table.dtype.kind not in "iu":
        raise DataError(
            f"supervoxel-to-body table has shape {table.shape} and dtype {table.dtype}: expected (n, 2) integers"
        )
    keys, first = np.unique(table[:, 0], return_index=True)
    conflicting = (
        [int(k) for k in keys if len(np.unique(table[table[:, 0] == k, 1])) > 1] if len(keys) < len(table) else []
    )
    if conflicting:
        raise DataError(f"supervoxel-to-body table gives supervoxels {conflicting[:5]} more than one body")
    bodies = table[first, 1].astype(np.int64)
    present, inverse = np.unique(np.asarray(ids), return_inverse=True)
    position = np.clip(np.searchsorted(keys, present), 0, len(keys) - 1)
    found = keys[position] == present
    missing = present[~found & (present != background)]
    if len(missing):
        raise DataError(
            f"{len(missing)} supervoxel ids are not in the supervoxel-to-body table (e.g. {missing[:5].tolist()}): "
            "pass the complete table"
        )
    mapped = np.where(found, bodies[position], present)
    return mapped[inverse].reshape(np.shape(ids))


def instance_ground_truth(
    ids: np.ndarray, background: int | None = 0, min_size: int = 10, workers: int = 1
) -> np.ndarray:
    """Dense ground truth from instance ids, as :func:`dense_ground_truth` builds it from membranes.

    Per slice, each 4-connected region of one id with at least ``min_size`` pixels becomes a cell; the background and
    smaller specks (common in ids cut from a 3D labelling) go to the nearest cell.

    Args:
        ids: integer instance ids, (H, W) or (n, H, W).
        background: the id of unlabelled pixels (None: every id is a cell).
        min_size: smallest cell in pixels.
        workers: threads for the slices of a stack (the result does not depend on it).

    Returns:
        uint32 cell ids of the same shape, consecutive from 1 per slice.

    Raises:
        ValueError: for another number of dimensions.
        DataError: for a slice without any cell.
    """
    ids = np.asarray(ids)
    if ids.ndim == 3:
        return per_slice(lambda plane: instance_ground_truth(plane, background, min_size), ids, workers)
    if ids.ndim != 2:
        raise ValueError(f"instance ids must be 2D or 3D, got shape {ids.shape}")
    marker = -1 if background is None else background  # skimage: pixels equal to `background` get 0
    cells = connected_components(ids.astype(np.int64), background=marker, connectivity=1)
    sizes = np.bincount(cells.ravel())
    small = sizes < min_size
    small[0] = True
    cells[small[cells]] = 0
    if not cells.any():
        raise DataError(f"a slice of the instance ids holds no cell of at least {min_size} pixels")
    return grow_cells(relabel_sequential(cells)[0])


def membranes_from_ground_truth(gt: np.ndarray) -> np.ndarray:
    """Membrane labels (uint8, 0 membrane, 255 cell) from a dense ground truth, (H, W) or (n, H, W), same shape.

    Both pixels of each pair of 4-neighbours (within a slice) with different ids become membrane (two pixels wide).
    """
    gt = np.asarray(gt)
    edge = np.zeros(gt.shape, dtype=bool)
    for axis in (-1, -2):
        differs = np.diff(gt, axis=axis) != 0
        lead = [slice(None)] * gt.ndim
        lag = [slice(None)] * gt.ndim
        lead[axis], lag[axis] = slice(1, None), slice(None, -1)
        edge[tuple(lead)] |= differs
        edge[tuple(lag)] |= differs
    return np.where(edge, MEMBRANE, CELL).astype(np.uint8)


def label_kind(labels: np.ndarray, kind: str = "auto", source: str = "labels") -> str:
    """Whether labels are a binary ``"mask"`` or ``"instances"``, checking that they are labels at all.

    ``"auto"``: booleans and integers holding only 0/1 or 0/maximum are a mask; other integers are instance ids, unless
    nearly all pixels are 0 or the maximum (a grey-edged or lossy-compressed mask: refused).

    Args:
        labels: the label stack.
        kind: ``"auto"``, ``"mask"`` or ``"instances"``.
        source: how errors name the labels.

    Returns:
        ``"mask"`` or ``"instances"``.

    Raises:
        ValueError: for an unknown kind.
        DataError: for float labels, grey-edged masks, or labels that vary like an image.
    """
    if kind not in ("auto", "mask", "instances"):
        raise ValueError(f"unknown label kind {kind!r}: choose 'auto', 'mask' or 'instances'")
    labels = np.asarray(labels)
    if labels.dtype == bool:
        return "mask"
    if labels.dtype.kind not in "iu":
        raise DataError(
            f"{source} have dtype {labels.dtype}: labels are integer instance ids or a boolean/0-1 mask; threshold a "
            "probability map and state its membrane side (membrane_labels(p > 0.5, membrane=True))"
        )
    values = set(value_counts(labels)[0])
    top = np.iinfo(labels.dtype).max
    if kind == "mask" or (kind == "auto" and any(values <= {0, high} for high in (1, 255, top))):
        return "mask"
    constant = float(np.mean(labels[..., 1:] == labels[..., :-1])) if labels.shape[-1] > 1 else 1.0
    if constant < MIN_CONSTANT_PAIRS:
        raise DataError(
            f"{source} vary like an image, not like labels: only {constant:.0%} of neighbouring pixels share a "
            "value (instance labels are constant over each cell); did you pass the raw images as labels?"
        )
    low, high = float(np.mean(labels == 0)), float(np.mean(labels == max(values)))
    if kind == "auto" and min(low, high) >= GREY_SHARE and low + high >= GREY_EXTREMES:
        membrane_labels(labels, source=source)  # raises the grey-mask error with its fix
    margin = LOSSY_MARGIN * max(values)
    near_low, near_high = float(np.mean(labels <= margin)), float(np.mean(labels >= max(values) - margin))
    if kind == "auto" and min(near_low, near_high) >= GREY_SHARE and near_low + near_high >= GREY_EXTREMES:
        raise DataError(
            f"{source} look like a binary mask saved with lossy compression (JPEG?): {near_low + near_high:.0%} of "
            f"the pixels are near 0 or {max(values)}, with {len(values)} values between; reading them as instance "
            "ids would split cells at the artefacts. Save the mask losslessly (PNG, TIFF), or threshold it: pass "
            f"threshold={suggested_threshold(sorted(values))} and the membrane side (membrane='bright' or 'dark'), or "
            "pass kind='instances' if they are ids"
        )
    return "instances"
