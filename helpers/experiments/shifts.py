"""Plain augmentation of training slices and appearance shifts of test slices (uint8 in, uint8 out).

Plain augmentation (flips, rot90, noise; labels move with the pixels) is the baseline any augmentation must beat.
Appearance augmentation (blur, gamma, contrast, drawn per slice from ranges that leave out the test shifts' values)
is the matched baseline for what a painting may teach the forest. Appearance shifts change intensities only, so
the original ground truth still fits.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import ndimage

PLAIN_NOISE_SIGMA = 12.0  # grey levels of the plain-augmentation noise
SHIFT_NOISE_SIGMA = 25.0  # grey levels of the "noise" appearance shift
SHIFT_BLUR_SIGMA = 2.0  # pixels of the "blur" appearance shift
LOW_CONTRAST = 0.4  # the "low_contrast" shift squeezes intensities to this fraction around the mean
# appearance augmentation of a training slice: each parameter drawn uniformly from its range, seeded per slice like
# the noise copy; every range leaves out the test shifts' values (blur 2 px, gamma 0.5 and 2, contrast 0.4), so
# the shifted test slices are never the training copies
APPEARANCE_RANGES = {
    "aug_blur": (0.5, 1.5),  # Gaussian blur sigma, pixels
    "aug_gamma": (0.67, 1.5),  # gamma exponent (a gamma below or above 1 by the draw)
    "aug_contrast": (0.6, 0.85),  # intensities squeezed to this fraction around the mean
}

AUGMENTATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "flip_lr": lambda array: array[:, ::-1],
    "flip_ud": lambda array: array[::-1],
    "rot90": np.rot90,
    "noise": lambda array: array,  # noise changes pixels only: the labels stay where they are
}

SHIFT_CURVES: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "clean": lambda image, seed: image,
    "low_contrast": lambda image, seed: image.mean() + LOW_CONTRAST * (image - image.mean()),
    "gamma_0.5": lambda image, seed: 255.0 * (image / 255.0) ** 0.5,
    "gamma_2": lambda image, seed: 255.0 * (image / 255.0) ** 2.0,
    "noise": lambda image, seed: image + np.random.default_rng(seed).normal(0, SHIFT_NOISE_SIGMA, image.shape),
    "blur": lambda image, seed: ndimage.gaussian_filter(image, SHIFT_BLUR_SIGMA),
}
SHIFTS = tuple(SHIFT_CURVES)
APPEARANCE_CURVES: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "aug_blur": lambda image, sigma: ndimage.gaussian_filter(image, sigma),
    "aug_gamma": lambda image, gamma: 255.0 * (image / 255.0) ** gamma,
    "aug_contrast": lambda image, factor: image.mean() + factor * (image - image.mean()),
}


def transform_like(array: np.ndarray, name: str) -> np.ndarray:
    """The geometric part of augmentation ``name`` (:data:`AUGMENTATIONS`), for pixels or labels; C-contiguous.

    Raises:
        KeyError: for an unknown augmentation.
    """
    if name in APPEARANCE_CURVES:  # intensity changes only: the labels stay where they are
        return np.ascontiguousarray(array)
    if name not in AUGMENTATIONS:
        raise KeyError(
            f"unknown plain augmentation {name!r}: choose one of {tuple(AUGMENTATIONS)} or {tuple(APPEARANCE_CURVES)}"
        )
    return np.ascontiguousarray(AUGMENTATIONS[name](array))


def plain_augmentations(
    raw: np.ndarray, gt: np.ndarray, seed: int = 0, noise_sigma: float = PLAIN_NOISE_SIGMA
) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """Four classic augmented copies of a slice with its (transformed) ground truth.

    Args:
        raw: grey uint8 slice.
        gt: its ground truth (any label image of the same shape).
        seed: seed of the noise.
        noise_sigma: standard deviation of the noise, grey levels.

    Returns:
        ``(image, labels, name)`` for flip_lr, flip_ud, rot90, noise.
    """
    rng = np.random.default_rng(seed)
    noisy = np.clip(raw.astype(np.float32) + rng.normal(0, noise_sigma, raw.shape), 0, 255).astype(np.uint8)
    return [
        (noisy if name == "noise" else transform_like(raw, name), transform_like(gt, name), name)
        for name in AUGMENTATIONS
    ]


def appearance_augmentations(raw: np.ndarray, seed: int = 0) -> list[tuple[np.ndarray, float, str]]:
    """A blurred, a gamma-changed and a contrast-changed copy of a uint8 training slice; labels stay the slice's own.

    Each parameter is drawn uniformly from :data:`APPEARANCE_RANGES` with ``seed`` (the noise copy's seed).

    Returns:
        ``(uint8 image, parameter, name)`` for ``aug_blur``, ``aug_gamma``, ``aug_contrast``.
    """
    rng = np.random.default_rng(seed)
    image = raw.astype(np.float32)
    copies = []
    for name, (low, high) in APPEARANCE_RANGES.items():
        parameter = float(rng.uniform(low, high))
        changed = APPEARANCE_CURVES[name](image, parameter)
        copies.append((np.clip(np.round(changed), 0, 255).astype(np.uint8), parameter, name))
    return copies


def appearance_shift(raw: np.ndarray, kind: str, seed: int = 0) -> np.ndarray:
    """A uint8 test slice under an appearance change (one of :data:`SHIFTS`) that keeps every membrane in place.

    ``low_contrast``: intensities squeezed around the mean; ``gamma_0.5``/``gamma_2``; ``noise``: Gaussian noise
    (seeded by ``seed``); ``blur``: Gaussian blur; ``clean``: unchanged (parameters: the module's constants).

    Returns:
        The shifted slice, uint8, same shape.

    Raises:
        KeyError: for an unknown shift.
    """
    if kind not in SHIFT_CURVES:
        raise KeyError(f"unknown appearance shift {kind!r}: choose one of {SHIFTS} or a held-out style")
    shifted = SHIFT_CURVES[kind](raw.astype(np.float32), seed)
    return np.clip(np.round(shifted), 0, 255).astype(np.uint8)
