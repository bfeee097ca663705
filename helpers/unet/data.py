"""Training patches for the U-Net: images and membrane targets, random patches and plain augmentation.

Images follow the project's pixel contract (:func:`helpers.data.to_unit_float`: uint8, or float in [0, 1]);
labels are the ISBI binary membrane labels (0 membrane, 255 cell interior), turned into targets that are 1 on
membranes. The patches of training step ``i`` are drawn from a generator seeded by ``(seed, i)``
(:func:`step_generator`), so a training resumed at step ``i`` draws exactly what an uninterrupted one would.

Plain augmentation (:func:`augment_patch`): a random flip and 90-degree rotation, an elastic deformation
(smooth random displacements, labels moved by nearest neighbour) and an intensity change (contrast, brightness,
gamma, Gaussian noise).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from .. import checks
from ..data import check_binary_labels, check_pair, to_unit_float

MEMBRANE = 0  # the ISBI label value of membrane pixels (255: cell interior)
ELASTIC_MAX_SHIFT = 4.0  # pixels: the largest displacement of the elastic deformation
ELASTIC_SMOOTHING = 6.0  # pixels: Gaussian smoothing of the random displacement field
CONTRAST_RANGE = (0.7, 1.4)  # factor around the patch mean
BRIGHTNESS_RANGE = (-0.1, 0.1)  # added, in units of the full grey range
GAMMA_RANGE = (0.7, 1.4)
NOISE_MAX_SIGMA = 0.04  # the largest standard deviation of the added Gaussian noise (full range = 1)


def membrane_targets(
    raws: Sequence[np.ndarray], labels: Sequence[np.ndarray]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Training images as float32 in [0, 1] and their membrane targets (1 membrane, 0 cell).

    Args:
        raws: grey 2D slices (uint8, or float in [0, 1]); sizes may differ between slices.
        labels: their binary membrane labels (0 membrane, 255 cell interior).

    Returns:
        ``(images, targets)``, float32 lists of the same shapes.

    Raises:
        ValueError: for no images, lists of different lengths, a slice that is not 2D, a slice and its labels
            of different shapes, or pixel values outside the contract.
        DataError: for labels that are not binary.
    """
    raws, labels = list(raws), list(labels)
    checks.same_lengths("raws", raws, "labels", labels)
    if not raws:
        raise ValueError("no training images given")
    images, targets = [], []
    for index, (raw, label) in enumerate(zip(raws, labels)):
        raw = np.asarray(raw)
        if raw.ndim != 2:
            raise ValueError(f"training image {index} must be one 2D grey slice, got shape {raw.shape}")
        check_pair(raw, label)
        check_binary_labels(np.asarray(label), f"labels of training image {index}")
        images.append(to_unit_float(raw, f"training image {index}"))
        targets.append((np.asarray(label) == MEMBRANE).astype(np.float32))
    return images, targets


def step_generator(seed: int, step: int) -> np.random.Generator:
    """The random generator of one training step: the same ``(seed, step)`` always draws the same patches.

    Args:
        seed: the training's seed.
        step: the step's index from 0.

    Returns:
        A NumPy generator.
    """
    return np.random.default_rng([seed, step])


def elastic_deform(
    image: np.ndarray, target: np.ndarray, rng: np.random.Generator, max_shift: float = ELASTIC_MAX_SHIFT
) -> tuple[np.ndarray, np.ndarray]:
    """Move the pixels of a patch and its target by one smooth random displacement field.

    Args:
        image: float32 patch.
        target: its membrane target (moved by nearest neighbour, so it stays binary).
        rng: the random generator.
        max_shift: the largest displacement, pixels.

    Returns:
        ``(image, target)`` deformed, float32.
    """
    grid = np.meshgrid(*(np.arange(side, dtype=np.float32) for side in image.shape), indexing="ij")
    coordinates = []
    for axis_grid in grid:
        field = ndimage.gaussian_filter(rng.uniform(-1.0, 1.0, image.shape), ELASTIC_SMOOTHING)
        peak = float(np.abs(field).max())
        coordinates.append(axis_grid + (max_shift * field / peak if peak > 0 else 0.0))
    moved = ndimage.map_coordinates(image, coordinates, order=1, mode="reflect")
    moved_target = ndimage.map_coordinates(target, coordinates, order=0, mode="reflect")
    return moved.astype(np.float32), moved_target.astype(np.float32)


def jitter_intensity(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random contrast, brightness and gamma change and Gaussian noise, clipped to [0, 1].

    Args:
        image: float32 patch in [0, 1].
        rng: the random generator.

    Returns:
        The changed patch, float32 in [0, 1].
    """
    mean = float(image.mean())
    changed = mean + rng.uniform(*CONTRAST_RANGE) * (image - mean) + rng.uniform(*BRIGHTNESS_RANGE)
    changed = np.clip(changed, 0.0, 1.0) ** rng.uniform(*GAMMA_RANGE)
    changed = changed + rng.normal(0.0, rng.uniform(0.0, NOISE_MAX_SIGMA), image.shape)
    return np.clip(changed, 0.0, 1.0).astype(np.float32)


def augment_patch(image: np.ndarray, target: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Plain augmentation of one square patch: flip, rotation, elastic deformation, intensity.

    Args:
        image: float32 patch in [0, 1].
        target: its membrane target.
        rng: the random generator.

    Returns:
        ``(image, target)`` augmented, float32, C-contiguous.
    """
    turns, flip = int(rng.integers(4)), bool(rng.integers(2))
    image, target = np.rot90(image, turns), np.rot90(target, turns)
    if flip:
        image, target = image[:, ::-1], target[:, ::-1]
    image, target = elastic_deform(np.ascontiguousarray(image), np.ascontiguousarray(target), rng)
    return jitter_intensity(image, rng), target


def check_patch_fits(images: Sequence[np.ndarray], patch: int) -> None:
    """Check that there are images and that each holds a ``patch`` x ``patch`` square.

    Args:
        images: the training images.
        patch: side of the patches, pixels.

    Raises:
        ValueError: for no images, or an image smaller than the patch.
    """
    if not images:
        raise ValueError("no training images given")
    small = [index for index, image in enumerate(images) if min(image.shape) < patch]
    if small:
        raise ValueError(
            f"training images {small} are smaller than the {patch} px patch: use larger crops or a smaller patch"
        )


def sample_batch(
    images: Sequence[np.ndarray],
    targets: Sequence[np.ndarray],
    patch: int,
    batch: int,
    rng: np.random.Generator,
    augment: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Random square patches: each from an image chosen uniformly, at a uniform position in it.

    Args:
        images: float32 training images (:func:`membrane_targets`).
        targets: their membrane targets.
        patch: side of the patches, pixels.
        batch: number of patches.
        rng: the random generator (:func:`step_generator`).
        augment: apply :func:`augment_patch` to each patch.

    Returns:
        ``(patches, target patches)``, each float32 of shape (batch, 1, patch, patch).

    Raises:
        ValueError: for no images, or an image smaller than the patch.
    """
    check_patch_fits(images, patch)
    pixels, labels = [], []
    for _ in range(batch):
        index = int(rng.integers(len(images)))
        top = int(rng.integers(images[index].shape[0] - patch + 1))
        left = int(rng.integers(images[index].shape[1] - patch + 1))
        window = (slice(top, top + patch), slice(left, left + patch))
        image, target = images[index][window], targets[index][window]
        if augment:
            image, target = augment_patch(image, target, rng)
        pixels.append(image)
        labels.append(target)
    return np.stack(pixels)[:, None].astype(np.float32), np.stack(labels)[:, None].astype(np.float32)
