"""Small images the own-data tests write to disk (shared by test_own_data.py and test_own_data_bad_inputs.py)."""

from __future__ import annotations

import numpy as np
from PIL import Image


def cell_mask(size: int = 128, cell: int = 16, wall: int = 2) -> np.ndarray:
    """A 0/255 membrane mask (ISBI convention): square cells of ``cell`` px behind ``wall`` px membranes."""
    mask = np.full((size, size), 255, np.uint8)
    for start in range(0, size, cell):
        mask[start : start + wall, :] = 0
        mask[:, start : start + wall] = 0
    return mask


def write_png(path, array, mode=None):
    Image.fromarray(array, mode).save(path)
    return path
