"""Segmentation metrics: the report's Rand error and Variation of Information, and the ISBI 2012 scores.

* :func:`rand_error`: the *adapted* Rand error, ``1 - F-score`` of Rand precision and recall over pairs of distinct
  pixels (scikit-image; CREMI's and the report's; elf's ``rand_index`` also pairs each pixel with itself, which
  shifts the score slightly). 0 is perfect.
* :func:`variation_of_information`: ``VI = H(seg | gt) + H(gt | seg)`` in bits (elf), as split and merge parts.
  0 is perfect.
* :func:`isbi_scores`: the challenge's V_rand and V_info (Arganda-Carreras et al. 2015): the same F-scores, counted
  only on ground-truth cell pixels, cells being the binary labels' connected components. 1 is perfect.
* :func:`placement_reference`: the scores of the ground truth against itself shifted by 1 px.

``seg`` is a segmentation and ``gt`` the dense ground truth of the same shape, both integer labels; every score
raises ValueError for different shapes or negative labels and TypeError for non-integer labels.
"""

from __future__ import annotations

import numpy as np
from elf.evaluation import variation_of_information as elf_variation_of_information
from scipy import ndimage, sparse
from skimage.metrics import adapted_rand_error


def _check_pair(seg: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    seg, gt = np.asarray(seg), np.asarray(gt)
    if seg.shape != gt.shape:
        raise ValueError(
            f"segmentation {seg.shape} and ground truth {gt.shape} differ in shape: compare the same slice/crop"
        )
    for name, array in (("segmentation", seg), ("ground truth", gt)):
        if array.dtype.kind not in "iu":
            raise TypeError(f"{name} must hold integer labels, got dtype {array.dtype}")
        if array.dtype.kind == "i" and array.size and array.min() < 0:
            raise ValueError(f"{name} holds negative labels")
    return np.ascontiguousarray(seg).astype(np.uint64), np.ascontiguousarray(gt).astype(np.uint64)


def rand_error(seg: np.ndarray, gt: np.ndarray) -> float:
    """Adapted Rand error of ``seg`` against ``gt`` in [0, 1] (every pixel counts, 0 is an ordinary label).

    1 when no pixel pairs exist (e.g. all singletons); ValueError for fewer than two pixels.
    """
    seg, gt = _check_pair(seg, gt)
    if gt.size < 2:
        raise ValueError("need at least two pixels to count pixel pairs")
    with np.errstate(invalid="ignore", divide="ignore"):  # all-singleton segmentations: no pixel pairs
        error = float(adapted_rand_error(gt, seg, ignore_labels=())[0])
    return 1.0 if np.isnan(error) else error


def variation_of_information(seg: np.ndarray, gt: np.ndarray) -> tuple[float, float]:
    """``(split, merge)`` = ``(H(seg | gt), H(gt | seg))`` in bits (elf): over- and under-segmentation."""
    seg, gt = _check_pair(seg, gt)
    split, merge = elf_variation_of_information(seg, gt, use_log2=True)
    return float(split), float(merge)


def foreground_cells(membrane_labels: np.ndarray) -> np.ndarray:
    """The ISBI ground truth: uint64 ids from 1 of the 4-connected cells of ``membrane_labels`` (255 = cell)."""
    cells, _ = ndimage.label(np.asarray(membrane_labels) == 255)
    return cells.astype(np.uint64)


def isbi_scores(seg: np.ndarray, membrane_labels: np.ndarray) -> dict[str, float]:
    """ISBI 2012 challenge scores ``{"v_rand", "v_info"}`` (1 is perfect).

    Written after the challenge's script (elf has no foreground-restricted variant): only pixels inside ground-truth
    cells count, a segmentation pixel labelled 0 is its own singleton. ``V_rand = sum p_ij^2 / (0.5 sum s_j^2 + 0.5
    sum t_i^2)``, ``V_info = I(S;T) / (0.5 H(S) + 0.5 H(T))``, ``p_ij`` the joint distribution of cell ``i`` and
    segment ``j``.

    Args:
        seg: the segmentation (integer labels; 0 = boundary pixels).
        membrane_labels: binary labels (0 membrane, 255 cell), the same shape.

    Raises:
        ValueError: for different shapes, negative labels or labels without cell pixels.
        TypeError: for non-integer labels.
    """
    truth = foreground_cells(membrane_labels)
    seg, truth = _check_pair(seg, truth)
    inside = truth.ravel() > 0
    cell_ids = truth.ravel()[inside]
    segment_ids = seg.ravel()[inside].astype(np.int64)
    n_pixels = float(len(cell_ids))
    if n_pixels == 0:
        raise ValueError("the membrane labels hold no cell pixels (label 255): nothing to score")
    singletons = segment_ids == 0
    # give each boundary pixel of the segmentation its own segment id
    segment_ids = segment_ids.copy()
    segment_ids[singletons] = segment_ids.max() + 1 + np.arange(singletons.sum())
    _, segment_ids = np.unique(segment_ids, return_inverse=True)
    _, cell_ids = np.unique(cell_ids, return_inverse=True)
    table = sparse.coo_matrix((np.ones(len(cell_ids)), (cell_ids, segment_ids))).tocsr().tocoo()  # sums duplicates
    rows, cols, joint = table.row, table.col, table.data / n_pixels
    cell_marginal = np.bincount(rows, joint)
    segment_marginal = np.bincount(cols, joint)
    v_rand = np.sum(joint**2) / (0.5 * np.sum(segment_marginal**2) + 0.5 * np.sum(cell_marginal**2))
    segment_entropy = -np.sum(segment_marginal * np.log(segment_marginal))
    cell_entropy = -np.sum(cell_marginal * np.log(cell_marginal))
    mutual = np.sum(joint * np.log(joint / (cell_marginal[rows] * segment_marginal[cols])))
    denominator = 0.5 * (segment_entropy + cell_entropy)
    v_info = 1.0 if denominator == 0 else mutual / denominator
    return {"v_rand": float(v_rand), "v_info": float(v_info)}


def evaluate(seg: np.ndarray, gt: np.ndarray, membrane_labels: np.ndarray | None = None) -> dict[str, float]:
    """``rand_error``, ``vi``, ``vi_split``, ``vi_merge`` of ``seg`` against ``gt``.

    Args:
        seg: the segmentation.
        gt: the dense ground truth.
        membrane_labels: the binary membrane labels (adds ``v_rand``, ``v_info``; None: without them).
    """
    split, merge = variation_of_information(seg, gt)
    scores = {"rand_error": rand_error(seg, gt), "vi": split + merge, "vi_split": split, "vi_merge": merge}
    if membrane_labels is not None:
        scores.update(isbi_scores(seg, membrane_labels))
    return scores


def placement_reference(gt: np.ndarray, shift: int = 1) -> dict[str, float]:
    """What drawing every boundary ``shift`` px off costs: the dense ground truth scored against itself shifted.

    The copy is moved along the rows and, separately, the columns (scored where both cover); the two are averaged.

    Args:
        gt: one 2D dense ground truth (integer cell ids).
        shift: the displacement in pixels (at least 1, less than both sides).

    Returns:
        ``{"shift", "rand_error", "vi"}``: all-pixel adapted Rand error and VI (bits), mean of both axes.

    Raises:
        ValueError: for a ground truth that is not 2D, or a shift out of range.
        TypeError: for non-integer labels.
    """
    gt = np.asarray(gt)
    if gt.ndim != 2:
        raise ValueError(f"placement_reference needs one 2D ground truth, got shape {gt.shape}")
    if isinstance(shift, bool) or not isinstance(shift, (int, np.integer)) or not 1 <= shift < min(gt.shape):
        raise ValueError(f"shift must be an integer from 1 to {min(gt.shape) - 1} pixels, got {shift!r}")
    pairs = [(gt[shift:], gt[:-shift]), (gt[:, shift:], gt[:, :-shift])]
    scores = [evaluate(moved, kept) for moved, kept in pairs]
    return {
        "shift": int(shift),
        **{key: float(np.mean([score[key] for score in scores])) for key in ("rand_error", "vi")},
    }


def mean_scores(scores: list[dict[str, float]]) -> dict[str, float]:
    """``{score: mean}`` over slices of ``scores``, one :func:`evaluate` dict per slice."""
    return {key: float(np.mean([slice_scores[key] for slice_scores in scores])) for key in scores[0]}
