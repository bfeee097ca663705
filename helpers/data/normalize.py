"""Intensity normalisation per slice, so that a forest trained on one EM dataset sees comparable values on another.

Two microscopes give the same membranes other grey values (ISBI 2012 slices span 0-255, a FlyEM slice 26-217), so
features on absolute intensities mean different things. Methods (:data:`NORMALIZATIONS`):

* ``none``: the slice as it is (the report's pipeline and the default);
* ``percentile``: 1st percentile to 0, 99.8th to 1, clipped (CSBDeep's defaults, Weigert et al. 2018).

Chosen by ``PipelineSettings(intensity=...)`` (:mod:`helpers.segmentation.settings`) wherever raw pixels are read.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

PERCENTILES = (1.0, 99.8)  # CSBDeep's normalize() defaults


def _finite(image: np.ndarray) -> np.ndarray:
    """The slice as float64, refusing booleans, non-numbers and NaN/inf."""
    image = np.asarray(image)
    if image.dtype == bool or image.dtype.kind not in "iuf":
        raise ValueError(f"an image to normalise must hold numbers, got dtype {image.dtype}")
    values = image.astype(np.float64)
    if not np.isfinite(values).all():
        raise ValueError("an image to normalise contains NaN or inf values: clean it first")
    return values


def percentile_stretch(image: np.ndarray, percentiles: tuple[float, float] = PERCENTILES) -> np.ndarray:
    """Robust min-max of one slice: the low percentile becomes 0, the high one 1, values beyond clipped.

    Returns float32 in [0, 1]; all zeros for a constant slice.

    Raises:
        ValueError: for a non-numeric dtype or NaN/inf values.
    """
    values = _finite(image)
    low, high = np.percentile(values, percentiles)
    if high <= low:
        return np.zeros(values.shape, dtype=np.float32)
    return np.clip((values - low) / (high - low), 0.0, 1.0).astype(np.float32)


NORMALIZATIONS: dict[str, Callable[[np.ndarray], np.ndarray] | None] = {
    "none": None,
    "percentile": percentile_stretch,
}


def normalize_intensity(image: np.ndarray, method: str = "none") -> np.ndarray:
    """One slice normalised by ``method`` (``"none"``: ``image`` itself; ``"percentile"``: float32 in [0, 1]).

    Raises:
        ValueError: for an unknown method, a non-numeric dtype or NaN/inf values.
    """
    if method not in NORMALIZATIONS:
        raise ValueError(f"unknown intensity normalisation {method!r}: choose one of {tuple(NORMALIZATIONS)}")
    function = NORMALIZATIONS[method]
    return image if function is None else function(image)
