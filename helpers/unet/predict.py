"""The U-Net's boundary map of a slice: membrane probability in [0, 1], tile by tile for large slices.

The map is float32 of the slice's shape, high on membranes, so it feeds ``graph_data(..., boundary=map)`` like any
boundary map. Large slices are cut into overlapping tiles whose outer ``halo`` pixels (where the convolutions see
padding) are dropped before the centres are stitched.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .. import checks
from ..segmentation.checks import grey_slice
from .model import UNet
from .train import deterministic_torch

DEFAULT_HALO = 16  # pixels dropped at each inner tile border


def _round_up(value: int, multiple: int) -> int:
    """The smallest multiple of ``multiple`` that is at least ``value``."""
    return multiple * math.ceil(value / multiple)


def membrane_probability(
    model: UNet, raw: np.ndarray, tile: int = 256, halo: int = DEFAULT_HALO, threads: int = 1
) -> np.ndarray:
    """Membrane probability of one grey slice.

    Args:
        model: a trained U-Net (:func:`.train.train_unet`); it is put in evaluation mode.
        raw: one 2D grey slice (uint8, or float in [0, 1]).
        tile: the largest tile side, pixels (a multiple of ``2**model.depth``).
        halo: pixels of context dropped at each tile border.
        threads: torch CPU threads.

    Returns:
        float32 in [0, 1] of the slice's shape, high on membranes.

    Raises:
        ValueError: for a slice not 2D or breaking the pixel contract, a tile not a multiple of ``2**model.depth``,
            or a halo that leaves no tile centre.
    """
    image = grey_slice(raw)
    tile = checks.integer(tile, "tile", model.multiple)
    halo = checks.integer(halo, "halo", 0)
    if tile % model.multiple:
        raise ValueError(f"tile {tile} is not a multiple of the U-Net's 2**depth = {model.multiple}")
    if tile <= 2 * halo:
        raise ValueError(f"tile {tile} leaves no centre inside a halo of {halo} pixels: use a larger tile")
    sides = [min(tile, _round_up(length + 2 * halo, model.multiple)) for length in image.shape]
    steps = [side - 2 * halo for side in sides]
    counts = [math.ceil(length / step) for length, step in zip(image.shape, steps)]
    pad = [(halo, count * step + halo - length) for length, step, count in zip(image.shape, steps, counts)]
    padded = np.pad(image, pad, mode="reflect")
    result = np.zeros([count * step for count, step in zip(counts, steps)], dtype=np.float32)
    device = next(model.parameters()).device
    model.eval()
    with deterministic_torch(threads), torch.inference_mode():
        for row in range(counts[0]):
            for column in range(counts[1]):
                top, left = row * steps[0], column * steps[1]
                window = padded[top : top + sides[0], left : left + sides[1]]
                logits = model(torch.from_numpy(np.ascontiguousarray(window))[None, None].to(device))
                probability = torch.sigmoid(logits)[0, 0].cpu().numpy()
                result[top : top + steps[0], left : left + steps[1]] = probability[
                    halo : halo + steps[0], halo : halo + steps[1]
                ]
    return np.clip(result[: image.shape[0], : image.shape[1]], 0.0, 1.0)
