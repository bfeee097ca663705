"""Training patches for the U-Net: images and targets, same-region patches of originals and stylised copies.

Images follow the pixel contract (uint8, or float in [0, 1]); ISBI labels (0 membrane, 255 cell) become a target, 1
on boundaries (:func:`training_targets`): ``"membranes"`` (the thick ISBI mask) or ``"boundaries"`` (thin, from the
dense ground truth). Step ``i``'s patches come from a generator seeded by ``(seed, i)``, so a resumed training
draws what an uninterrupted one would. Same-region sampling (:func:`draw_windows`): every patch is a window of an
original slice; with probability ``style_probability`` its pixels come from the SAME window of a stylised copy, its
target from the original. Every draw is made whatever the arm, so same-seed arms see the same windows and differ
only in appearance. Plain augmentation (:func:`augment_patch`): flip, rot90, elastic deformation, intensity change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.segmentation import find_boundaries

from .. import checks
from ..config import UNetWork
from ..data import check_binary_labels, check_pair, dense_ground_truth, to_unit_float

TARGETS = UNetWork.TARGETS  # what a U-Net learns (UNetWork.target)
MEMBRANE = 0  # the ISBI label value of membrane pixels (255: cell interior)
ELASTIC_MAX_SHIFT = 4.0  # pixels: the largest displacement of the elastic deformation
ELASTIC_SMOOTHING = 6.0  # pixels: Gaussian smoothing of the random displacement field
CONTRAST_RANGE = (0.7, 1.4)  # factor around the patch mean
BRIGHTNESS_RANGE = (-0.1, 0.1)  # added, in units of the full grey range
GAMMA_RANGE = (0.7, 1.4)
NOISE_MAX_SIGMA = 0.04  # the largest standard deviation of the added Gaussian noise (full range = 1)


def boundary_target(gt: np.ndarray) -> np.ndarray:
    """Thin boundaries of a dense ground truth (2D cell ids): float32, 1 where a 4-neighbour is another cell, else 0.

    Both sides of a contact are marked (2 px along rows or columns, 1-2 px at diagonals): thinner than the ISBI mask
    and centred where :func:`helpers.data.dense_ground_truth` splits each membrane between its cells.
    """
    return find_boundaries(np.asarray(gt), connectivity=1, mode="inner").astype(np.float32)


def training_targets(
    raws: Sequence[np.ndarray], labels: Sequence[np.ndarray], target: str = "membranes"
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Training images as float32 in [0, 1] and their targets (1 on membranes or boundaries, 0 elsewhere).

    Args:
        raws: grey 2D slices (uint8, or float in [0, 1]); sizes may differ.
        labels: their binary membrane labels (0 membrane, 255 cell interior).
        target: ``"membranes"`` (the mask) or ``"boundaries"`` (:func:`boundary_target` of the dense ground truth).

    Returns:
        ``(images, targets)``, float32 lists of the same shapes.

    Raises:
        ValueError: for an unknown target, no images, lists of different lengths, a slice not 2D, a slice and labels
            of different shapes, or pixels outside the contract.
        DataError: for labels that are not binary.
    """
    if target not in TARGETS:
        raise ValueError(f"unknown U-Net target {target!r}: choose one of {TARGETS} (UNetWork.target)")
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
        if target == "membranes":
            targets.append((np.asarray(label) == MEMBRANE).astype(np.float32))
        else:
            targets.append(boundary_target(dense_ground_truth(np.asarray(label))))
    return images, targets


def membrane_targets(
    raws: Sequence[np.ndarray], labels: Sequence[np.ndarray]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """:func:`training_targets` with ``target="membranes"``."""
    return training_targets(raws, labels, "membranes")


def step_generator(seed: int, step: int) -> np.random.Generator:
    """The NumPy generator of training step ``step`` (from 0): the same ``(seed, step)`` draws the same patches."""
    return np.random.default_rng([seed, step])


def elastic_deform(
    image: np.ndarray, target: np.ndarray, rng: np.random.Generator, max_shift: float = ELASTIC_MAX_SHIFT
) -> tuple[np.ndarray, np.ndarray]:
    """Move a float32 patch and its target by one smooth random displacement field of at most ``max_shift`` pixels.

    The target moves by nearest neighbour, so it stays binary.

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
    """Random contrast, brightness, gamma and Gaussian noise for a float32 patch in [0, 1], clipped to [0, 1]."""
    mean = float(image.mean())
    changed = mean + rng.uniform(*CONTRAST_RANGE) * (image - mean) + rng.uniform(*BRIGHTNESS_RANGE)
    changed = np.clip(changed, 0.0, 1.0) ** rng.uniform(*GAMMA_RANGE)
    changed = changed + rng.normal(0.0, rng.uniform(0.0, NOISE_MAX_SIGMA), image.shape)
    return np.clip(changed, 0.0, 1.0).astype(np.float32)


def augment_patch(image: np.ndarray, target: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Plain augmentation of one square float32 patch and its target: flip, rotation, elastic deformation, intensity.

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


@dataclass(frozen=True)
class Window:
    """Where one training patch comes from: a window of original slice ``image``, in stylised copy ``style``."""

    image: int  # index of the slice among the training images
    top: int
    left: int
    style: int  # index of the stylised copy among the paintings (-1: the original's pixels)


def check_stylised(images: Sequence[np.ndarray], stylised: Sequence[Sequence[np.ndarray]]) -> None:
    """Check that every painting's stylised copies (per painting, one per image) match the ``images`` one to one.

    Raises:
        ValueError: for a painting with another number of copies or a copy of another shape.
    """
    for painting, copies in enumerate(stylised):
        if len(copies) != len(images):
            raise ValueError(
                f"stylised copies {painting} hold {len(copies)} images for {len(images)} training images: "
                "give one copy of every training slice per painting, in the same order"
            )
        for index, (copy, image) in enumerate(zip(copies, images)):
            if np.shape(copy) != np.shape(image):
                raise ValueError(
                    f"stylised copy {painting} of training image {index} has shape {np.shape(copy)}, the original "
                    f"{np.shape(image)}: stylise the same slice at the same size"
                )


def draw_windows(
    shapes: Sequence[tuple[int, int]], patch: int, batch: int, rng: np.random.Generator, n_styles: int = 0,
    style_probability: float = 0.0,
) -> list[Window]:  # fmt: skip
    """Same-region draws: a slice (uniform), a position in it (uniform), then whether and which stylised copy.

    Every patch draws slice, position, a uniform number and a painting whatever ``n_styles`` and
    ``style_probability``, so arms with the same generator draw the same windows.

    Args:
        shapes: the training images' shapes.
        patch: side of the patches, pixels.
        batch: number of patches.
        rng: the random generator (:func:`step_generator`).
        n_styles: the number of stylised copies of every slice (0: none).
        style_probability: the probability that a patch takes its pixels from a stylised copy.

    Returns:
        One :class:`Window` per patch.
    """
    windows = []
    for _ in range(batch):
        image = int(rng.integers(len(shapes)))
        top = int(rng.integers(shapes[image][0] - patch + 1))
        left = int(rng.integers(shapes[image][1] - patch + 1))
        # two uniform numbers whatever n_styles (rng.integers(1) would draw nothing and shift later draws)
        stylise, pick = float(rng.random()), float(rng.random())
        painting = min(int(pick * n_styles), n_styles - 1)
        windows.append(Window(image, top, left, painting if n_styles and stylise < style_probability else -1))
    return windows


def sample_batch(
    images: Sequence[np.ndarray],
    targets: Sequence[np.ndarray],
    patch: int,
    batch: int,
    rng: np.random.Generator,
    augment: bool = False,
    stylised: Sequence[Sequence[np.ndarray]] = (),
    style_probability: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Random square patches drawn by :func:`draw_windows`, each with its target, optionally augmented.

    Args:
        images: float32 training images (:func:`training_targets`).
        targets: their targets.
        patch: side of the patches, pixels.
        batch: number of patches.
        rng: the random generator (:func:`step_generator`).
        augment: apply :func:`augment_patch` to each patch.
        stylised: per painting, a float32 stylised copy of every training image (same order and shapes).
        style_probability: the probability that a patch's pixels come from a stylised copy.

    Returns:
        ``(patches, target patches)``, each float32 of shape (batch, 1, patch, patch).

    Raises:
        ValueError: for no images, an image smaller than the patch, or stylised copies that do not match.
    """
    check_patch_fits(images, patch)
    check_stylised(images, stylised)
    pixels, labels = [], []
    windows = draw_windows([image.shape for image in images], patch, batch, rng, len(stylised), style_probability)
    for window in windows:
        area = (slice(window.top, window.top + patch), slice(window.left, window.left + patch))
        source = images[window.image] if window.style < 0 else stylised[window.style][window.image]
        image, target = source[area], targets[window.image][area]
        if augment:
            image, target = augment_patch(image, target, rng)
        pixels.append(image)
        labels.append(target)
    return np.stack(pixels)[:, None].astype(np.float32), np.stack(labels)[:, None].astype(np.float32)
