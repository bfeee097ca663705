"""The two style engines of the experiments: where each one's stylised slices come from, and stylising what is missing.

``gatys``: L-BFGS style transfer cached per (crop, steps, painting, slice) by :mod:`helpers.style.cache` (a GPU in
the full profile). ``feedforward``: one network pass per whole slice (:mod:`helpers.style.feedforward`, fast on a
CPU), cached per (slice, painting), steps :data:`helpers.config.FEEDFORWARD_STEPS`, cropped like the originals. Only
it stylises test slices with the held-out textures of ``data/styles/textures``, in memory.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..config import Config, ExperimentArm
from ..data import ISBI_SHAPE, load_style, load_training
from ..paths import CacheError
from ..style import cache as style_cache
from ..style import feedforward
from ..style.settings import StyleSettings


def feedforward_paintings(
    cache: Path, steps: int, painting: int, slices: tuple[int, ...], crop: int | None
) -> np.ndarray:
    """Slices stylised by the feed-forward engine with one painting: whole slices, then the top-left crop.

    Args:
        cache: root cache folder (``config.cache``); missing slices are stylised into it.
        steps: unused (no optimisation); it makes the function a :data:`~helpers.experiments.scenarios.StylizedLoader`.
        painting: the painting's report number.
        slices: ISBI training slices.
        crop: side of the top-left crop (None: whole slices).

    Returns:
        uint8 (n, side, side), in the order of ``slices``.
    """
    side = crop or ISBI_SHAPE[-1]
    return np.ascontiguousarray(np.asarray(feedforward.stylized_slices(cache, slices, painting))[:, :side, :side])


def feedforward_textures(texture: int, slices: tuple[int, ...], crop: int | None) -> np.ndarray:
    """Slices stylised by the feed-forward engine with a texture image (``data/styles/textures``), then cropped.

    Args:
        texture: the texture's number (:func:`helpers.data.style_names` with ``kind="textures"``).
        slices: ISBI training slices.
        crop: side of the top-left crop (None: whole slices).

    Returns:
        uint8 (n, side, side), in the order of ``slices``.

    Raises:
        KeyError: for an unknown texture, naming the choices.
    """
    vector = feedforward.style_vector(load_style(texture, kind="textures"))
    raw, _ = load_training(list(slices))
    side = crop or ISBI_SHAPE[-1]
    return np.stack([feedforward.stylize(image, vector)[:side, :side] for image in raw])


def _missing_gatys(
    cache: Path, styles: tuple[int, ...], steps: tuple[int, ...], slices: tuple[int, ...], crop: int | None
) -> list[tuple[int, int]]:
    """The (style, steps) stacks that the Gatys cache lacks or holds damaged."""
    missing = []
    for count in steps:
        for style in styles:
            try:
                style_cache.load_stylized(cache, count, style, slices, crop)
            except (FileNotFoundError, CacheError):  # missing or damaged: stylise_isbi recomputes it
                missing.append((style, count))
    return missing


def ensure_stylized(config: Config, styles: tuple[int, ...], arm: ExperimentArm | None = None) -> None:
    """Stylise, with its engine, the slices an arm needs that ``config.cache`` lacks.

    Feed-forward: on a CPU, one Dask task per painting. Gatys: missing or damaged (style, steps) stacks, resumable.

    Args:
        config: the run's configuration.
        styles: the paintings needed (training and held-out).
        arm: the arm (None: Gatys on ``config.style.slices`` / ``crop`` at every ``config.experiments.steps``, as
            chapter 08 reads them).

    Raises:
        RuntimeError: for Gatys in the full profile on a CPU, naming what to run on a GPU instead.
    """
    if arm is not None and arm.engine == "feedforward":
        feedforward.stylize_missing(config.cache, arm.slices, styles, config.experiments.workers or os.cpu_count())
        return
    steps = config.experiments.steps if arm is None else arm.steps
    slices, crop = (config.style.slices, config.style.crop) if arm is None else (arm.slices, arm.crop)
    missing = _missing_gatys(config.cache, styles, steps, slices, crop)
    if not missing:
        return
    if config.profile == "full" and config.device != "cuda":
        raise RuntimeError(
            f"{len(missing)} (style, steps) stacks of the full profile are not cached and stylising them needs a GPU: "
            "run notebooks/02_stylize_isbi.ipynb (or `python -m helpers.style --profile full`) on a GPU machine "
            "and copy cache/stylized here"
        )
    style_cache.stylize_isbi(
        config.cache,
        slices,
        sorted({style for style, _ in missing}),
        steps,
        crop=crop,
        batch_size=config.style.batch,
        settings=StyleSettings(device=config.device),
    )
