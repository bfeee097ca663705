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


def _fake_stylized(steps, style, slices, crop):
    """Stand-in for the style cache: a gamma curve per 'style' (tests must not need a stylisation run)."""
    store_raw, _ = data.load_training(slices)
    side = crop or 512
    kind = "gamma_2" if style % 2 else "gamma_0.5"
    return np.stack([experiments.appearance_shift(r[:side, :side], kind) for r in store_raw])


@pytest.fixture(scope="module")
def small_store():
    return experiments.SliceStore(range(4), 96, _fake_stylized)


def test_training_sets_hold_the_scenarios_images(small_store):
    train = (0, 1, 2)
    sizes = {sc: len(experiments.training_set(small_store, sc, train, 4, (3, 10, 21), one_style=3))
             for sc in ("original", "full", "one_style", "selected", "plain_aug", "one_style:10")}
    assert sizes == {"original": 3, "full": 12, "one_style": 6, "selected": 12, "plain_aug": 15, "one_style:10": 6}
    images = experiments.training_set(small_store, "full", train, 4, (3, 10, 21), one_style=3)
    assert [im.slice for im in images] == [0] * 4 + [1] * 4 + [2] * 4  # grouped by slice (out-of-fold maps)
    assert all(np.array_equal(im.gt, small_store.gt[im.slice]) for im in images)  # stylised keep the original GT
    with pytest.raises(KeyError, match="unknown scenario"):
        experiments.training_set(small_store, "everything", train, 4, (3,), one_style=3)


def test_runner_is_deterministic_and_resumes_from_its_cache(small_store, tmp_path, monkeypatch):
    split = experiments.make_splits(tuple(range(4)), 2, (0,))[0]
    units = [{"pipeline": "frangi", "scenario": sc, "steps": 4, "split": split} for sc in ("original", "one_style")]
    common = dict(styles=(3,), heldout=(13,), one_style=3, trees=10, max_samples=None)
    first = experiments.run_all(small_store, units, tmp_path / "a", progress=False, **common)
    again = experiments.run_all(small_store, units, tmp_path / "b", progress=False, **common)
    assert first == again  # same inputs and seed, same numbers
    assert len(first) == 2 * len(split.test) * (len(experiments.SHIFTS) + 1)
    assert all(0.0 <= r["rand_error"] <= 1.0 and r["vi"] >= 0.0 for r in first)
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert len(files) == 2
    # resume: a finished unit is read back, not recomputed
    def must_not_run(*args, **kwargs):
        raise AssertionError("a finished unit was recomputed")

    monkeypatch.setattr(experiments, "run_unit", must_not_run)
    assert experiments.run_all(small_store, units, tmp_path / "a", progress=False, **common) == first
    # ... but only for identical inputs: recomputed stylised slices invalidate the units that read them
    changed = experiments.SliceStore(range(4), 96, lambda *a: _fake_stylized(*a) // 2)
    with pytest.raises(AssertionError, match="recomputed"):
        experiments.run_all(changed, units, tmp_path / "a", progress=False, **common)
    records = experiments.summarize(first)
    one = [r for r in records if r["scenario"] == "one_style" and r["condition"] == "clean"][0]
    assert one["n"] == len(split.test) and "rand_error_vs_original_mean_diff" in one


def test_paired_robustness_compares_error_increases_on_the_same_slices():
    rows = []
    for scenario, shift_error in (("original", 0.5), ("full", 0.3)):  # same clean error, "full" degrades less
        for split in ("a", "b"):
            for s in range(4):
                clean = 0.1 + 0.01 * s
                rows.append({"pipeline": "frangi", "steps": 75, "scenario": scenario, "split": split, "slice": s,
                             "condition": "clean", "rand_error": clean})
                rows.append({"pipeline": "frangi", "steps": 75, "scenario": scenario, "split": split, "slice": s,
                             "condition": "blur", "rand_error": clean + shift_error + 0.01 * (s % 2)})
    (result,) = experiments.robustness_paired(rows)
    assert result["scenario"] == "full" and result["test"] == "shifts" and result["n_pairs"] == 8
    assert result["mean_diff"] == pytest.approx(-0.2) and result["diff_high"] < 0
    assert result["increase_mean"] == pytest.approx(result["reference_increase_mean"] - 0.2)


def test_parallel_workers_give_the_same_rows_in_the_same_order(small_store, tmp_path):
    splits = experiments.make_splits(tuple(range(4)), 2, (0,))
    units = experiments.experiment_units(["frangi", "pixel-rf"], (4,), ["original", "one_style"], splits)
    common = dict(styles=(3,), heldout=(13,), one_style=3, trees=10, max_samples=None, max_train_images=3)
    serial = experiments.run_all(small_store, units, tmp_path / "serial", progress=False, **common)
    stats = {}
    parallel = experiments.run_all(small_store, units, tmp_path / "parallel", progress=False, stats=stats, workers=2, **common)
    assert stats == {"computed": len(units), "loaded": 0}
    assert parallel == serial
    assert any((tmp_path / "parallel" / "graphs").iterdir())  # Frangi graphs shared through the disk


def test_cap_images_keeps_every_original(small_store):
    images = experiments.training_set(small_store, "full", (0, 1, 2), 4, (3, 10, 21), one_style=3)
    capped = experiments.cap_images(images, 5, seed=0)
    assert len(capped) == 5 and sum(im.tag.startswith("orig/") for im in capped) == 3
    assert experiments.cap_images(images, 5, seed=0) == capped and experiments.cap_images(images, None, 0) == images
