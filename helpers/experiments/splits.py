"""Train/test splits of the stylised slices: k folds per seed, plus the report's own split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import checks
from ..config import ExperimentArm
from ..data import REPORT_TEST_SLICES, REPORT_TRAIN_SLICES


@dataclass(frozen=True)
class Split:
    """One train/test split of the ISBI training slices.

    Attributes:
        name: ``"report"`` or ``"seed<S>-fold<F>"``.
        seed: seed of the permutation (0 for the report's split); also seeds the forests trained on it.
        fold: index of the test fold.
        train: training slices.
        test: test slices, sorted.
    """

    name: str
    seed: int
    fold: int
    train: tuple[int, ...]
    test: tuple[int, ...]


def make_splits(
    slices: tuple[int, ...],
    n_folds: int,
    seeds: tuple[int, ...],
    report_split: tuple[tuple[int, ...], tuple[int, ...]] | None = None,
) -> list[Split]:
    """K-fold splits of ``slices`` for each seed (a seeded permutation), after the report's split if given.

    Args:
        slices: the slices to split.
        n_folds: folds per seed; every slice is tested exactly once per seed.
        seeds: one permutation per seed.
        report_split: (train, test) of a fixed split to put first, named ``"report"``.

    Returns:
        The splits, the report's first, then seed by seed and fold by fold.

    Raises:
        ValueError: for ``n_folds`` not a whole number from 2 to the number of slices, an empty, repeated or
            non-integral slice or seed list, or a negative seed.
    """
    slices = checks.integers(slices, "slices", 0)
    seeds = checks.integers(seeds, "seeds", 0)
    n_folds = checks.integer(n_folds, "n_folds", 2)
    if n_folds > len(slices):
        raise ValueError(f"n_folds must be between 2 and the number of slices ({len(slices)}), got {n_folds}")
    splits = []
    if report_split is not None:
        splits.append(Split("report", 0, 0, tuple(report_split[0]), tuple(report_split[1])))
    for seed in seeds:
        order = np.random.default_rng(seed).permutation(np.asarray(slices))
        for fold, test in enumerate(np.array_split(order, n_folds)):
            test_set = set(test.tolist())
            train = tuple(int(index) for index in slices if index not in test_set)
            test_slices = tuple(sorted(int(index) for index in test))
            splits.append(Split(f"seed{seed}-fold{fold}", seed, fold, train, test_slices))
    return splits


def experiment_splits(slices: tuple[int, ...], n_folds: int, seeds: tuple[int, ...]) -> list[Split]:
    """Chapter 06's splits: k-fold splits of ``slices``, after the report's split restricted to them.

    The report's split (:data:`helpers.data.REPORT_TRAIN_SLICES` against ``REPORT_TEST_SLICES``) comes only when both
    sides keep a slice.
    """
    train = tuple(index for index in slices if index in REPORT_TRAIN_SLICES)
    test = tuple(index for index in slices if index in REPORT_TEST_SLICES)
    return make_splits(tuple(slices), n_folds, seeds, (train, test) if train and test else None)


def arm_splits(arm: ExperimentArm) -> list[Split]:
    """One arm's splits: its k-fold splits, after the report's split if ``arm.report_split``."""
    if arm.report_split:
        return experiment_splits(arm.slices, arm.n_folds, arm.seeds)
    return make_splits(arm.slices, arm.n_folds, arm.seeds)
