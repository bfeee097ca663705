"""The augmentation experiments (notebook 06): scenarios, splits, appearance shifts, statistics.

Scenarios follow the report (Section 3.2, Figure 16): (1) the full augmented set, (2) the original set,
(3) the original set plus one specific style, (4) the selected styles [3, 10, 19, 21] of the report's code;
we add (5) plain augmentation (flips, 90-degree rotations, noise) as a baseline that any augmentation must beat.
Stylised slices always keep the *original* slice's ground truth, as in the report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage, stats

SCENARIOS = {
    "full": "1. full augmented set (originals + every style)",
    "original": "2. original set",
    "one_style": "3. originals + one specific style",
    "selected": "4. selected styles [3, 10, 19, 21] (+ originals)",
    "plain_aug": "5. plain augmentation (flips, rot90, noise)",
}
SHIFTS = ("clean", "low_contrast", "gamma_0.5", "gamma_2", "noise", "blur")


# --------------------------------------------------------------------------- splits


@dataclass(frozen=True)
class Split:
    """One train/test split of the 30 training slices."""

    name: str
    seed: int
    fold: int
    train: tuple[int, ...]
    test: tuple[int, ...]


def make_splits(slices: tuple[int, ...], n_folds: int, seeds: tuple[int, ...],
                report_split: tuple[tuple[int, ...], tuple[int, ...]] | None = None) -> list[Split]:
    """K-fold splits of ``slices`` for each seed (a seeded permutation), plus the report's split if given."""
    if n_folds < 2 or n_folds > len(slices):
        raise ValueError(f"n_folds must be between 2 and the number of slices ({len(slices)}), got {n_folds}")
    splits = []
    if report_split is not None:
        splits.append(Split("report", 0, 0, tuple(report_split[0]), tuple(report_split[1])))
    for seed in seeds:
        order = np.random.default_rng(seed).permutation(np.asarray(slices))
        for fold, test in enumerate(np.array_split(order, n_folds)):
            test_set = set(test.tolist())
            train = tuple(int(s) for s in slices if s not in test_set)
            splits.append(Split(f"seed{seed}-fold{fold}", seed, fold, train, tuple(sorted(int(s) for s in test))))
    return splits


# --------------------------------------------------------------------------- plain augmentation and shifts


def plain_augmentations(raw: np.ndarray, gt: np.ndarray, seed: int = 0, noise_sigma: float = 12.0) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """Four classic augmented copies of a slice with its (transformed) ground truth: flip, flip, rot90, noise."""
    rng = np.random.default_rng(seed)
    noisy = np.clip(raw.astype(np.float32) + rng.normal(0, noise_sigma, raw.shape), 0, 255).astype(np.uint8)
    return [
        (np.ascontiguousarray(raw[:, ::-1]), np.ascontiguousarray(gt[:, ::-1]), "flip_lr"),
        (np.ascontiguousarray(raw[::-1]), np.ascontiguousarray(gt[::-1]), "flip_ud"),
        (np.ascontiguousarray(np.rot90(raw)), np.ascontiguousarray(np.rot90(gt)), "rot90"),
        (noisy, gt, "noise"),
    ]


def appearance_shift(raw: np.ndarray, kind: str, seed: int = 0) -> np.ndarray:
    """A test slice under an appearance change that keeps every membrane in place (uint8 in, uint8 out).

    ``low_contrast``: intensities squeezed to 40% around the mean; ``gamma_0.5``/``gamma_2``: gamma curves;
    ``noise``: Gaussian noise, sigma 25 grey levels; ``blur``: Gaussian blur, sigma 2 px; ``clean``: unchanged.
    """
    image = raw.astype(np.float32)
    if kind == "clean":
        out = image
    elif kind == "low_contrast":
        out = image.mean() + 0.4 * (image - image.mean())
    elif kind.startswith("gamma_"):
        out = 255.0 * (image / 255.0) ** float(kind.split("_")[1])
    elif kind == "noise":
        out = image + np.random.default_rng(seed).normal(0, 25.0, image.shape)
    elif kind == "blur":
        out = ndimage.gaussian_filter(image, 2.0)
    else:
        raise KeyError(f"unknown appearance shift {kind!r}: choose one of {SHIFTS} or a held-out style")
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- does stylisation move membranes?


def membrane_map(image: np.ndarray) -> np.ndarray:
    """Frangi ridge response (dark ridges = membranes), normalised to [0, 1]."""
    from skimage.filters import frangi

    response = frangi(image.astype(np.float32) / 255.0, sigmas=(1, 2, 3), black_ridges=True)
    return response / (response.max() + 1e-12)


def _skeleton(membranes: np.ndarray, fraction: float) -> np.ndarray:
    from skimage.morphology import skeletonize

    return skeletonize(membranes >= np.quantile(membranes, 1.0 - fraction))


def membrane_displacement(original: np.ndarray, stylized: np.ndarray, fraction: float = 0.15) -> dict[str, float]:
    """How far stylisation moves the membranes of a slice.

    Both images' Frangi maps are thresholded at the same area fraction (the ISBI membranes cover ~20% of a
    slice) and skeletonised; ``displacement_px`` is the symmetric mean distance between the two skeletons
    (chamfer distance, pixels), ``map_correlation`` the Pearson correlation of the two Frangi maps.
    """
    if original.shape != stylized.shape:
        raise ValueError(f"original {original.shape} and stylised {stylized.shape} slices differ in shape")
    map_a, map_b = membrane_map(original), membrane_map(stylized)
    skel_a, skel_b = _skeleton(map_a, fraction), _skeleton(map_b, fraction)
    dist_a = ndimage.distance_transform_edt(~skel_a)
    dist_b = ndimage.distance_transform_edt(~skel_b)
    chamfer = 0.5 * (dist_a[skel_b].mean() + dist_b[skel_a].mean())
    return {"displacement_px": float(chamfer), "map_correlation": float(np.corrcoef(map_a.ravel(), map_b.ravel())[0, 1])}


# --------------------------------------------------------------------------- statistics


def mean_interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and its two-sided t-interval: (mean, low, high)."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.sem(values) * stats.t.ppf(0.5 + confidence / 2, len(values) - 1))
    return mean, mean - half, mean + half


def paired_comparison(values, reference) -> dict[str, float]:
    """Paired comparison of a scenario with the reference (same splits and slices, same order).

    Returns the mean difference (negative = lower error than the reference) with its 95% t-interval, the
    Wilcoxon signed-rank p-value, and the fraction of pairs where the scenario is better.
    """
    values, reference = np.asarray(values, float), np.asarray(reference, float)
    if values.shape != reference.shape:
        raise ValueError(f"paired values need the same shape, got {values.shape} and {reference.shape}")
    diff = values - reference
    mean, low, high = mean_interval(diff)
    if np.allclose(diff, 0):
        p_value = 1.0
    else:
        p_value = float(stats.wilcoxon(values, reference, zero_method="zsplit").pvalue)
    return {"mean_diff": mean, "diff_low": low, "diff_high": high, "p_wilcoxon": p_value,
            "frac_better": float(np.mean(diff < 0)), "n_pairs": int(len(diff))}
