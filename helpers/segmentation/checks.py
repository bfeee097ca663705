"""Input contracts of the segmentation stages: grey slices, boundary maps, label images and chosen names.

Pixel values follow :func:`helpers.data.to_unit_float` (uint8, or float in [0, 1]); slices are one 2D image.
:func:`helpers.checks.known_name` is re-exported for the dispatch tables.
"""

from __future__ import annotations

import numpy as np

from ..checks import known_name
from ..data import to_unit_float

__all__ = ["LABEL_DTYPES", "boundary_image", "grey_slice", "known_name", "label_image"]

LABEL_DTYPES = (np.uint32, np.uint64, np.int32, np.int64)  # what bioimage-cpp's graph functions accept


def grey_slice(image: np.ndarray, what: str = "raw") -> np.ndarray:
    """One 2D grey slice as float32 in [0, 1] (uint8 divided by 255).

    Args:
        image: uint8, or float in [0, 1], of shape (H, W).
        what: how error messages name the image.

    Raises:
        ValueError: for anything but one 2D slice, or values outside :func:`helpers.data.to_unit_float`'s contract.
    """
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"{what} must be one 2D grey slice, got shape {image.shape}: pass raw[i], not the stack")
    return to_unit_float(image, what)


def boundary_image(boundary: np.ndarray) -> np.ndarray:
    """A boundary map (high on membranes) as a finite float32 2D image.

    Raises:
        ValueError: when it is not 2D or holds NaN or inf.
    """
    boundary = np.asarray(boundary, dtype=np.float32)
    if boundary.ndim != 2:
        raise ValueError(f"boundary map must be 2D, got shape {boundary.shape}")
    if not np.isfinite(boundary).all():
        raise ValueError("boundary map contains NaN or inf values")
    return boundary


def label_image(superpixels: np.ndarray) -> np.ndarray:
    """A 2D integer label image, C-contiguous, in a dtype bioimage-cpp accepts (other integers become uint32).

    Raises:
        ValueError: when the image is not 2D.
        TypeError: when the labels are not integers.
    """
    superpixels = np.asarray(superpixels)
    if superpixels.ndim != 2:
        raise ValueError(f"superpixels must be a 2D label image, got shape {superpixels.shape}")
    if superpixels.dtype.kind not in "iu":
        raise TypeError(f"superpixels must be integer labels, got dtype {superpixels.dtype}")
    if superpixels.dtype not in LABEL_DTYPES:
        superpixels = superpixels.astype(np.uint32)
    return np.ascontiguousarray(superpixels)
