"""Does stylisation move the membranes, and does a style that moves them more hurt more?"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import ndimage
from skimage.morphology import skeletonize

from .. import checks
from ..parallel import run_tasks
from ..segmentation.boundaries import frangi_boundary
from .scenarios import Image, SliceStore, sweep_style

MEMBRANE_FRACTION = 0.15  # area fraction kept of each Frangi map (the ISBI membranes cover ~20% of a slice)
DISPLACEMENT_COLUMNS = ["engine", "style", "steps", "slice", "displacement_px", "map_correlation"]
EFFECT_COLUMNS = [
    "pipeline", "steps", "style", "displacement_px", "metric", "reference", "mean_diff", "p_value", "n_slices",
]  # fmt: skip


def _skeleton(membranes: np.ndarray, fraction: float) -> np.ndarray:
    """Skeleton of the ``fraction`` of pixels with the highest membrane response."""
    return skeletonize(membranes >= np.quantile(membranes, 1.0 - fraction))


def membrane_displacement(
    original: np.ndarray, stylized: np.ndarray, fraction: float = MEMBRANE_FRACTION
) -> dict[str, float]:
    """How far stylisation moves the membranes of a slice.

    Both slices' Frangi maps (the Frangi pipeline's boundary map) are thresholded at the same area fraction and
    skeletonised.

    Args:
        original: the original grey slice.
        stylized: the same slice stylised.
        fraction: area fraction of each map taken as membrane.

    Returns:
        ``displacement_px``: symmetric mean (chamfer) distance between the skeletons, pixels; ``map_correlation``:
        Pearson correlation of the two Frangi maps.

    Raises:
        ValueError: if the two slices differ in shape.
    """
    if original.shape != stylized.shape:
        raise ValueError(f"original {original.shape} and stylised {stylized.shape} slices differ in shape")
    return map_displacement(frangi_boundary(original), frangi_boundary(stylized), fraction)


def map_displacement(
    map_original: np.ndarray, map_stylized: np.ndarray, fraction: float = MEMBRANE_FRACTION
) -> dict[str, float]:
    """:func:`membrane_displacement` from the two slices' Frangi maps (e.g. those their graphs were built on)."""
    skeleton_original, skeleton_stylized = _skeleton(map_original, fraction), _skeleton(map_stylized, fraction)
    distance_to_original = ndimage.distance_transform_edt(~skeleton_original)
    distance_to_stylized = ndimage.distance_transform_edt(~skeleton_stylized)
    chamfer = 0.5 * (distance_to_original[skeleton_stylized].mean() + distance_to_stylized[skeleton_original].mean())
    correlation = np.corrcoef(map_original.ravel(), map_stylized.ravel())[0, 1]
    return {"displacement_px": float(chamfer), "map_correlation": float(correlation)}


def _style_rows(
    store: SliceStore, style: int, steps: int, frangi_map: Callable[[Image], np.ndarray] | None
) -> list[dict]:
    """The displacement rows of one (style, steps), slice by slice."""
    compute = frangi_map or (lambda image: frangi_boundary(image.raw))
    return [
        {"engine": store.engine, "style": style, "steps": steps, "slice": index,
         **map_displacement(compute(store.original(index)), compute(store.stylized(index, style, steps)))}
        for index in store.slices
    ]  # fmt: skip


def displacement_table(
    store: SliceStore,
    styles: tuple[int, ...],
    steps: tuple[int, ...],
    frangi_map: Callable[[Image], np.ndarray] | None = None,
    workers: int = 1,
) -> pd.DataFrame:
    """Membrane displacement and Frangi-map correlation of every stylised slice against its original.

    Args:
        store: the slices of one engine, with a stylised-slice loader.
        styles: the styles.
        steps: the step counts (``(FEEDFORWARD_STEPS,)`` for a feed-forward store).
        frangi_map: an image's Frangi map, e.g. :class:`~helpers.experiments.unit_graphs.FrangiMaps` (picklable
            when ``workers`` > 1); None: computed here.
        workers: worker processes, one (style, steps) per Dask task.

    Returns:
        :data:`DISPLACEMENT_COLUMNS`, one row per stylised slice by style, steps and slice, whatever the workers.
    """
    workers = checks.integer(workers, "workers", 1)
    pairs = [(style, count) for style in styles for count in steps]
    parts = dict(run_tasks(_style_rows, [(style, count, frangi_map) for style, count in pairs], workers, store))
    rows = [row for index in range(len(pairs)) for row in parts[index]]
    return pd.DataFrame(rows, columns=DISPLACEMENT_COLUMNS)


def style_effects(
    summary: pd.DataFrame, displacement: pd.DataFrame, one_style: int, metric: str = "rand_error"
) -> pd.DataFrame:
    """Per style of the sweep: its membrane displacement against the paired change of the clean error.

    The change is that of the clean test error when the style is added to the originals (``one_style``,
    ``one_style:NN``). Pass one arm's summary and displacement table; an ``engine`` column restricts the summary.

    Args:
        summary: :func:`helpers.experiments.stats.summarize` (its ``reference`` says what the change is against).
        displacement: the table of :func:`displacement_table`.
        one_style: the style of scenario ``one_style``.
        metric: the error.

    Returns:
        :data:`EFFECT_COLUMNS` (``p_value``: paired t-test over slices, uncorrected), one row per tested (pipeline,
        steps, style) with a measured displacement.
    """
    grouped = displacement.groupby(["style", "steps"])["displacement_px"]
    moved = grouped.apply(lambda values: float(np.mean(values.to_numpy())))
    chosen = summary[(summary["condition"] == "clean") & (summary["metric"] == metric) & summary["mean_diff"].notna()]
    if "engine" in chosen and "engine" in displacement:
        chosen = chosen[chosen["engine"].isin(set(displacement["engine"]))]
    records = []
    for row in chosen.itertuples(index=False):
        style = sweep_style(row.scenario, one_style)
        if style is not None and (style, row.steps) in moved.index:
            records.append({
                "pipeline": row.pipeline, "steps": row.steps, "style": style,
                "displacement_px": moved[(style, row.steps)], "metric": metric, "reference": row.reference,
                "mean_diff": row.mean_diff, "p_value": row.p_value, "n_slices": row.n_slices,
            })  # fmt: skip
    return pd.DataFrame(records, columns=EFFECT_COLUMNS)
