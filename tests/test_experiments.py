"""Splits, augmentations, shifts, the membrane-displacement measure and the statistics of notebook 06."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import data, experiments


@pytest.fixture(scope="module")
def crop():
    raw, labels = data.load_training([0])
    return raw[0][:128, :128], data.dense_ground_truth(labels[0][:128, :128])


def test_kfold_splits_partition_the_slices_and_differ_by_seed():
    splits = experiments.make_splits(tuple(range(30)), n_folds=5, seeds=(0, 1), report_split=data.report_split())
    assert splits[0].name == "report" and splits[0].test == tuple(range(24, 30))
    for seed in (0, 1):
        folds = [s for s in splits if s.seed == seed and s.name != "report"]
        assert len(folds) == 5
        tests = sorted(i for s in folds for i in s.test)
        assert tests == list(range(30))  # every slice is tested exactly once per seed
        assert all(not set(s.train) & set(s.test) and len(s.train) == 24 for s in folds)
    assert [s.test for s in splits if s.seed == 0][1:] != [s.test for s in splits if s.seed == 1]
    with pytest.raises(ValueError, match="n_folds"):
        experiments.make_splits((0, 1, 2), n_folds=5, seeds=(0,))


def test_plain_augmentations_move_labels_with_the_image(crop):
    raw, gt = crop
    for image, labels, name in experiments.plain_augmentations(raw, gt, seed=0):
        assert image.shape == labels.shape == raw.shape and image.dtype == np.uint8
        if name == "noise":
            np.testing.assert_array_equal(labels, gt)
            assert np.abs(image.astype(int) - raw).mean() > 5
        else:  # a geometric copy: the same pixel permutation for image and labels
            inverse = {"flip_lr": lambda a: a[:, ::-1], "flip_ud": lambda a: a[::-1], "rot90": lambda a: np.rot90(a, -1)}[name]
            np.testing.assert_array_equal(inverse(image), raw)
            np.testing.assert_array_equal(inverse(labels), gt)


@pytest.mark.parametrize("kind", experiments.SHIFTS[1:])
def test_appearance_shifts_change_intensities_not_geometry(crop, kind):
    raw, _ = crop
    shifted = experiments.appearance_shift(raw, kind, seed=0)
    assert shifted.shape == raw.shape and shifted.dtype == np.uint8
    assert np.abs(shifted.astype(int) - raw).mean() > 3
    if kind != "noise":  # monotone or smoothing changes keep the dark membranes dark
        assert np.corrcoef(shifted.ravel(), raw.ravel())[0, 1] > 0.7
    with pytest.raises(KeyError, match="unknown appearance shift"):
        experiments.appearance_shift(raw, "sepia")


def test_membrane_displacement_is_zero_for_identity_and_grows_with_a_shift(crop):
    raw, _ = crop
    same = experiments.membrane_displacement(raw, raw)
    assert same["displacement_px"] == 0.0 and same["map_correlation"] == pytest.approx(1.0)
    moved = [experiments.membrane_displacement(raw, np.roll(raw, s, axis=1))["displacement_px"] for s in (1, 4)]
    assert 0 < moved[0] < moved[1]
    with pytest.raises(ValueError, match="differ in shape"):
        experiments.membrane_displacement(raw, raw[:64])


def test_statistics_on_known_numbers():
    mean, low, high = experiments.mean_interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and low < 2.0 < high and high - 2.0 == pytest.approx(2.0 - low)
    better = experiments.paired_comparison([0.1, 0.2, 0.3, 0.2, 0.1, 0.15], [0.2, 0.3, 0.4, 0.3, 0.2, 0.25])
    assert better["mean_diff"] == pytest.approx(-0.1) and better["frac_better"] == 1.0
    assert better["p_wilcoxon"] < 0.05
    same = experiments.paired_comparison([0.1, 0.2], [0.1, 0.2])
    assert same["p_wilcoxon"] == 1.0 and same["mean_diff"] == 0.0
    with pytest.raises(ValueError, match="same shape"):
        experiments.paired_comparison([1.0], [1.0, 2.0])
