"""Images in and out of style transfer: the input check, resizing, style fitting, grey <-> RGB.

Images are float in [0, 1] (or uint8), ``(H, W, 3)`` RGB or ``(H, W)`` grey; grey EM slices go in as three equal
channels, and the RGB result returns to grey with :func:`to_grey`. The style image is fitted to the content size
(:func:`fit_style`) so that ``M_l`` is the same in both Gram matrices and eq. 4 holds as written.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as functional

from .. import data

MIN_SIDE = 16  # VGG pools four times before conv5_1
LUMINANCE = (0.299, 0.587, 0.114)

Style = int | str | np.ndarray  # a painting's report number or name, or an image


def check_image(image: np.ndarray, what: str = "image") -> np.ndarray:
    """Validate an (H, W) grey or (H, W, 3) RGB image and return it as float32 (H, W, 3) RGB in [0, 1].

    Args:
        image: uint8, or float in [0, 1] (:func:`helpers.data.to_unit_float`); (H, W), (H, W, 1) or (H, W, 3).
        what: how error messages name the image.

    Raises:
        ValueError: for a channels-first array, a stack or other shape, a side below :data:`MIN_SIDE` pixels, or values
            outside the pixel contract.
    """
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[0] in (1, 3) and array.shape[2] not in (1, 3):
        raise ValueError(
            f"{what} has shape {array.shape}, which looks channels-first: pass (H, W, 3) "
            "(e.g. `image.transpose(1, 2, 0)`)"
        )
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3)):
        raise ValueError(
            f"{what} must be (H, W) grey or (H, W, 3) RGB, got shape {array.shape}: pass one image, not a stack"
        )
    if min(array.shape[:2]) < MIN_SIDE:
        raise ValueError(
            f"{what} is {array.shape[0]}x{array.shape[1]} pixels: use at least {MIN_SIDE} per side (VGG pools 4 times)"
        )
    array = data.to_unit_float(array, what)
    if array.ndim == 2:  # grey EM slice: three equal channels
        array = np.repeat(array[..., None], 3, axis=2)
    return array


def as_batch(images: Sequence[np.ndarray], device: torch.device | str) -> torch.Tensor:
    """Stack RGB float32 (H, W, 3) images of one shape into one (B, 3, H, W) tensor on ``device``."""
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous().to(device)


def resize(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize an (H, W, 3) float image in [0, 1] to ``shape`` (bilinear, antialiased, clipped; unchanged if it fits)."""
    if tuple(image.shape[:2]) == tuple(shape):
        return image
    tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None]
    out = functional.interpolate(tensor, size=shape, mode="bilinear", antialias=True, align_corners=False)
    return out[0].permute(1, 2, 0).clamp(0, 1).numpy()


def resize_longest(image: np.ndarray, size: int) -> np.ndarray:
    """Resize an (H, W, 3) float image in [0, 1] so that its longest side is ``size`` pixels (aspect kept)."""
    height, width = image.shape[:2]
    scale = size / max(height, width)
    return resize(image, (max(1, round(height * scale)), max(1, round(width * scale))))


def fit_style(style: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Scale an (h, w, 3) style image (aspect kept) until it covers ``shape``, then centre-crop it to ``shape``."""
    height, width = style.shape[:2]
    scale = max(shape[0] / height, shape[1] / width)
    scaled = resize(
        style,
        (max(shape[0], math.ceil(height * scale - 1e-6)), max(shape[1], math.ceil(width * scale - 1e-6))),
    )
    top = (scaled.shape[0] - shape[0]) // 2
    left = (scaled.shape[1] - shape[1]) // 2
    return np.ascontiguousarray(scaled[top : top + shape[0], left : left + shape[1]])


def style_image(style: Style, shape: tuple[int, int]) -> np.ndarray:
    """A style, as painting number (``20``), name (``'the_scream'``) or image, fitted to ``shape`` (the content's).

    Raises:
        KeyError: naming the choices, for an unknown painting.
        ValueError: for an image that fails :func:`check_image`.
    """
    if isinstance(style, (int, np.integer, str)):
        style = data.load_style(style, size=None)
    return fit_style(check_image(style, "style image"), shape)


def to_grey(rgb: np.ndarray) -> np.ndarray:
    """One channel from RGB: the BT.601 luminance ``0.299 R + 0.587 G + 0.114 B`` (as ``PIL.Image.convert('L')``).

    Args:
        rgb: (..., 3) RGB image(s).

    Returns:
        float32 (...) luminance, in the value range of the input.

    Raises:
        ValueError: if the last axis does not hold three channels.
    """
    rgb = np.asarray(rgb)
    if rgb.ndim < 3 or rgb.shape[-1] != 3:
        raise ValueError(f"to_grey expects (..., 3) RGB, got shape {rgb.shape}")
    return rgb.astype(np.float32) @ np.asarray(LUMINANCE, dtype=np.float32)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """A float image in [0, 1] as uint8 (rounded, clipped)."""
    return np.clip(np.rint(np.asarray(image, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)
