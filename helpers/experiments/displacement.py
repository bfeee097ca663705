"""Does stylisation move the membranes, and does a style that moves them more hurt more?"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage
from skimage.morphology import skeletonize

from ..segmentation.boundaries import frangi_boundary
from .scenarios import SliceStore, sweep_style

MEMBRANE_FRACTION = 0.15  # area fraction kept of each Frangi map (the ISBI membranes cover ~20% of a slice)
DISPLACEMENT_COLUMNS = ["style", "steps", "slice", "displacement_px", "map_correlation"]
EFFECT_COLUMNS = ["pipeline", "steps", "style", "displacement_px", "metric", "reference", "mean_diff", "p_wilcoxon"]


def _skeleton(membranes: np.ndarray, fraction: float) -> np.ndarray:
    """Skeleton of the ``fraction`` of pixels with the highest membrane response."""
    return skeletonize(membranes >= np.quantile(membranes, 1.0 - fraction))


def membrane_displacement(
    original: np.ndarray, stylized: np.ndarray, fraction: float = MEMBRANE_FRACTION
) -> dict[str, float]:
    """How far stylisation moves the membranes of a slice.

    Both images' Frangi maps (:func:`helpers.segmentation.boundaries.frangi_boundary`, the boundary map the
    Frangi pipeline segments) are thresholded at the same area fraction and skeletonised.

    Args:
        original: the original grey slice.
        stylized: the same slice stylised.
        fraction: area fraction of each map taken as membrane.

    Returns:
        ``displacement_px``: the symmetric mean distance between the two skeletons (chamfer distance, pixels);
        ``map_correlation``: the Pearson correlation of the two Frangi maps.

    Raises:
        ValueError: if the two slices differ in shape.
    """
    if original.shape != stylized.shape:
        raise ValueError(f"original {original.shape} and stylised {stylized.shape} slices differ in shape")
    map_original, map_stylized = frangi_boundary(original), frangi_boundary(stylized)
    skeleton_original, skeleton_stylized = _skeleton(map_original, fraction), _skeleton(map_stylized, fraction)
    distance_to_original = ndimage.distance_transform_edt(~skeleton_original)
    distance_to_stylized = ndimage.distance_transform_edt(~skeleton_stylized)
    chamfer = 0.5 * (distance_to_original[skeleton_stylized].mean() + distance_to_stylized[skeleton_original].mean())
    correlation = np.corrcoef(map_original.ravel(), map_stylized.ravel())[0, 1]
    return {"displacement_px": float(chamfer), "map_correlation": float(correlation)}


def displacement_table(store: SliceStore, styles: tuple[int, ...], steps: tuple[int, ...]) -> pd.DataFrame:
    """Membrane displacement and Frangi-map correlation of every stylised slice against its original.

    Args:
        store: the slices (with a stylised-slice loader).
        styles: the styles.
        steps: the stylisation step counts.

    Returns:
        Columns style, steps, slice, displacement_px, map_correlation; one row per stylised slice.
    """
    records = [
        {"style": style, "steps": count, "slice": index,
         **membrane_displacement(store.raw[index], store.stylized(index, style, count).raw)}
        for style in styles
        for count in steps
        for index in store.slices
    ]  # fmt: skip
    return pd.DataFrame(records, columns=DISPLACEMENT_COLUMNS)


def style_effects(
    summary: pd.DataFrame, displacement: pd.DataFrame, one_style: int, metric: str = "rand_error"
) -> pd.DataFrame:
    """Per style of the style sweep: its membrane displacement against the paired change of the clean error.

    The change is that of the clean test error when the style is added to the originals (scenarios
    ``one_style`` and ``one_style:NN``).

    Args:
        summary: the table of :func:`helpers.experiments.stats.summarize` (its ``reference`` column says what
            the change is measured against).
        displacement: the table of :func:`displacement_table`.
        one_style: the style of scenario ``one_style``.
        metric: the error.

    Returns:
        Columns pipeline, steps, style, displacement_px, metric, reference, mean_diff, p_wilcoxon; one row per
        tested (pipeline, steps, style) whose displacement was measured.
    """
    grouped = displacement.groupby(["style", "steps"])["displacement_px"]
    moved = grouped.apply(lambda values: float(np.mean(values.to_numpy())))
    chosen = summary[(summary["condition"] == "clean") & (summary["metric"] == metric) & summary["mean_diff"].notna()]
    records = []
    for row in chosen.itertuples(index=False):
        style = sweep_style(row.scenario, one_style)
        if style is not None and (style, row.steps) in moved.index:
            records.append({
                "pipeline": row.pipeline, "steps": row.steps, "style": style,
                "displacement_px": moved[(style, row.steps)], "metric": metric, "reference": row.reference,
                "mean_diff": row.mean_diff, "p_wilcoxon": row.p_wilcoxon,
            })  # fmt: skip
    return pd.DataFrame(records, columns=EFFECT_COLUMNS)
