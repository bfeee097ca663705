"""Splits, augmentations, shifts, the membrane-displacement measure, the runner and the statistics of chapter 06."""

from __future__ import annotations

import dataclasses
import multiprocessing
import time

import numpy as np
import pandas as pd
import pytest

from benchmarks import chapter06_plan as cost
from helpers import data
from helpers.config import CACHE_ENV, FEEDFORWARD_STEPS, select
from helpers.experiments import (
    arms,
    displacement,
    engines,
    prose,
    runner,
    scenarios,
    shifts,
    splits,
    stats,
    unit_cache,
    unit_graphs,
)
from helpers.experiments.unit_graphs import GRAPH_FOLDER, FrangiMaps, GraphCache
from helpers.segmentation.pipeline import graph_data, train_edge_rf
from helpers.style import feedforward


@pytest.fixture(scope="module")
def crop():
    raw, labels = data.load_training([0])
    return raw[0][:128, :128], data.dense_ground_truth(labels[0][:128, :128])


def test_kfold_splits_partition_the_slices_and_differ_by_seed():
    report_split = (data.REPORT_TRAIN_SLICES, data.REPORT_TEST_SLICES)
    made = splits.make_splits(tuple(range(30)), n_folds=5, seeds=(0, 1), report_split=report_split)
    assert made[0].name == "report" and made[0].test == tuple(range(24, 30))
    for seed in (0, 1):
        folds = [s for s in made if s.seed == seed and s.name != "report"]
        assert len(folds) == 5
        tests = sorted(i for s in folds for i in s.test)
        assert tests == list(range(30))  # every slice is tested exactly once per seed
        assert all(not set(s.train) & set(s.test) and len(s.train) == 24 for s in folds)
    assert [s.test for s in made if s.seed == 0][1:] != [s.test for s in made if s.seed == 1]
    with pytest.raises(ValueError, match="n_folds"):
        splits.make_splits((0, 1, 2), n_folds=5, seeds=(0,))


def test_experiment_splits_restrict_the_report_split_to_the_stylised_slices():
    made = splits.experiment_splits(tuple(range(0, 30, 3)), 5, (0,))
    assert made[0].name == "report" and made[0].train == (0, 3, 6, 9, 12, 15, 18, 21) and made[0].test == (24, 27)
    assert [s.name for s in splits.experiment_splits((0, 1, 2, 3), 2, (0,))] == ["seed0-fold0", "seed0-fold1"]


def test_plain_augmentations_move_labels_with_the_image(crop):
    raw, gt = crop
    for image, labels, name in shifts.plain_augmentations(raw, gt, seed=0):
        assert image.shape == labels.shape == raw.shape and image.dtype == np.uint8
        if name == "noise":
            np.testing.assert_array_equal(labels, gt)
            assert np.abs(image.astype(int) - raw).mean() > 5
        else:  # a geometric copy: the same pixel permutation for image and labels
            inverse = {
                "flip_lr": lambda a: a[:, ::-1],
                "flip_ud": lambda a: a[::-1],
                "rot90": lambda a: np.rot90(a, -1),
            }[name]
            np.testing.assert_array_equal(inverse(image), raw)
            np.testing.assert_array_equal(inverse(labels), gt)
    with pytest.raises(KeyError, match="unknown plain augmentation"):
        shifts.transform_like(raw, "shear")


@pytest.mark.parametrize("kind", shifts.SHIFTS[1:])
def test_appearance_shifts_change_intensities_not_geometry(crop, kind):
    raw, _ = crop
    shifted = shifts.appearance_shift(raw, kind, seed=0)
    assert shifted.shape == raw.shape and shifted.dtype == np.uint8
    assert np.abs(shifted.astype(int) - raw).mean() > 3
    if kind != "noise":  # monotone or smoothing changes keep the dark membranes dark
        assert np.corrcoef(shifted.ravel(), raw.ravel())[0, 1] > 0.7
    with pytest.raises(KeyError, match="unknown appearance shift"):
        shifts.appearance_shift(raw, "sepia")


def test_membrane_displacement_is_zero_for_identity_and_grows_with_a_shift(crop):
    raw, _ = crop
    same = displacement.membrane_displacement(raw, raw)
    assert same["displacement_px"] == 0.0 and same["map_correlation"] == pytest.approx(1.0)
    moved = [displacement.membrane_displacement(raw, np.roll(raw, s, axis=1))["displacement_px"] for s in (1, 4)]
    assert 0 < moved[0] < moved[1]
    with pytest.raises(ValueError, match="differ in shape"):
        displacement.membrane_displacement(raw, raw[:64])


def _fake_stylized(steps, style, slices, crop):
    """Stand-in for the style cache: a gamma curve per 'style' (tests must not need a stylisation run)."""
    store_raw, _ = data.load_training(slices)
    side = crop or 512
    kind = "gamma_2" if style % 2 else "gamma_0.5"
    return np.stack([shifts.appearance_shift(r[:side, :side], kind) for r in store_raw])


@pytest.fixture(scope="module")
def small_store():
    return scenarios.SliceStore(range(4), 96, _fake_stylized)


def test_training_sets_hold_the_scenarios_images(small_store):
    train = (0, 1, 2)
    sizes = {
        sc: len(scenarios.training_set(small_store, sc, train, 4, (3, 10, 21), one_style=3))
        for sc in ("original", "full", "one_style", "selected", "plain_aug", "appearance_aug", "one_style:10")
    }
    assert sizes == {
        "original": 3, "full": 12, "one_style": 6, "selected": 12, "plain_aug": 15, "appearance_aug": 24,
        "one_style:10": 6,
    }  # fmt: skip
    images = scenarios.training_set(small_store, "full", train, 4, (3, 10, 21), one_style=3)
    assert [im.slice for im in images] == [0] * 4 + [1] * 4 + [2] * 4  # grouped by slice (out-of-fold maps)
    assert all(np.array_equal(im.gt, small_store.gt[im.slice]) for im in images)  # stylised keep the original GT
    with pytest.raises(KeyError, match="unknown scenario"):
        scenarios.training_set(small_store, "everything", train, 4, (3,), one_style=3)


SETTINGS = runner.UnitSettings(styles=(3,), heldout=(13,), one_style=3, trees=10, max_samples=None)


def test_runner_is_deterministic_and_resumes_from_its_cache(small_store, tmp_path, monkeypatch):
    split = splits.make_splits(tuple(range(4)), 2, (0,))[0]
    units = [runner.Unit("frangi", 4, sc, split) for sc in ("original", "one_style")]
    first = runner.run_all(small_store, units, tmp_path / "a", SETTINGS, progress=False).rows
    again = runner.run_all(small_store, units, tmp_path / "b", SETTINGS, progress=False).rows
    pd.testing.assert_frame_equal(first, again)  # same inputs and seed, same numbers
    assert len(first) == 2 * len(split.test) * (len(shifts.SHIFTS) + 1)
    assert ((first["rand_error"] >= 0.0) & (first["rand_error"] <= 1.0) & (first["vi"] >= 0.0)).all()
    files = sorted(p.name for p in (tmp_path / "a").glob("*.json"))
    assert len(files) == 2
    assert any((tmp_path / "a" / GRAPH_FOLDER).glob("*.pkl"))  # graphs kept for the next run

    # resume: a finished unit is read back, not recomputed
    def must_not_run(*args, **kwargs):
        raise AssertionError("a finished unit was recomputed")

    monkeypatch.setattr(runner, "run_units", must_not_run)
    pd.testing.assert_frame_equal(
        runner.run_all(small_store, units, tmp_path / "a", SETTINGS, progress=False).rows, first
    )
    # ... but only for identical inputs: recomputed stylised slices invalidate the units that read them
    changed = scenarios.SliceStore(range(4), 96, lambda *a: _fake_stylized(*a) // 2)
    with pytest.raises(AssertionError, match="recomputed"):
        runner.run_all(changed, units, tmp_path / "a", SETTINGS, progress=False)
    summary = stats.summarize(first)
    one = summary[
        (summary["scenario"] == "one_style") & (summary["condition"] == "clean") & (summary["metric"] == "rand_error")
    ].iloc[0]
    assert one["n_slices_tested"] == len(split.test) and one["reference"] == "original"
    assert np.isfinite(one["mean_diff"])
    assert set(first["engine"]) == {"gatys"} and first["n_segments"].map(type).eq(int).all()
    assert (first["n_segments"] >= 1).all()
    with pytest.raises(ValueError, match="cannot read a gatys SliceStore"):  # a unit runs on its engine's store
        runner.fingerprint(small_store, runner.Unit("frangi", 0, "original", split, "feedforward"), SETTINGS)


def test_rows_are_written_as_the_committed_csv(small_store, tmp_path):
    split = splits.make_splits(tuple(range(4)), 2, (0,))[0]
    rows = runner.run_all(
        small_store, [runner.Unit("frangi", 4, "original", split)], tmp_path, SETTINGS, progress=False
    ).rows
    runner.write_rows(rows, tmp_path / "scenarios.csv", "ci")
    lines = (tmp_path / "scenarios.csv").read_bytes().split(b"\r\n")
    assert lines[0] == (
        b"profile,engine,pipeline,scenario,steps,split,seed,fold,slice,condition,n_train_images,n_segments,"
        b"rand_error,vi,vi_split,vi_merge"
    )
    first = rows.iloc[0]
    assert (
        lines[1]
        == (
            f"ci,gatys,frangi,original,4,{split.name},0,{split.fold},{first['slice']},clean,"
            f"{first['n_train_images']},{first['n_segments']},{float(first['rand_error'])!r},{float(first['vi'])!r},{float(first['vi_split'])!r},"
            f"{float(first['vi_merge'])!r}"
        ).encode()
    )
    assert len(lines) == len(rows) + 2 and lines[-1] == b""


def _synthetic_rows():
    """Rows of three scenarios on 2 splits x 4 slices: 'full' is 0.05 better than 'original' on every clean
    slice, 'selected' 0.02 worse than 'full' (so 0.03 better than 'original'); blur adds 0.3, 0.2 and 0.25."""
    rows = []
    for scenario, offset, blur in (("original", 0.0, 0.3), ("full", -0.05, 0.2), ("selected", -0.03, 0.25)):
        for split in ("a", "b"):
            for s in range(4):
                for condition, extra in (("clean", 0.0), ("blur", blur)):
                    error = 0.2 + 0.01 * s + offset + extra + 0.001 * (split == "b")
                    rows.append(
                        {
                            "pipeline": "frangi",
                            "steps": 75,
                            "scenario": scenario,
                            "split": split,
                            "slice": s,
                            "condition": condition,
                            "rand_error": error,
                            "vi": 2 * error,
                        }
                    )
    return pd.DataFrame(rows)


def test_parallel_workers_give_the_same_rows_in_the_same_order(small_store, tmp_path):
    made = splits.make_splits(tuple(range(4)), 2, (0,))
    units = runner.experiment_units(["frangi", "pixel-rf"], (4,), ["original", "one_style"], made)
    settings = runner.UnitSettings(
        styles=(3,), heldout=(13,), one_style=3, trees=10, max_samples=None, max_train_images=3
    )
    serial = runner.run_all(small_store, units, tmp_path / "serial", settings, progress=False)
    parallel = runner.run_all(small_store, units, tmp_path / "parallel", settings, progress=False, workers=2)
    assert (parallel.computed, parallel.loaded) == (len(units), 0)
    assert not multiprocessing.active_children()  # the workers ended with the run (no idle pool left behind)
    pd.testing.assert_frame_equal(parallel.rows, serial.rows)
    assert any((tmp_path / "parallel" / "graphs").iterdir())  # Frangi graphs shared through the disk
    with pytest.raises(KeyError, match="unknown pipeline"):
        runner.run_unit(small_store, runner.Unit("hessian", 4, "original", made[0]), settings)


def test_cap_images_keeps_every_original(small_store):
    images = scenarios.training_set(small_store, "full", (0, 1, 2), 4, (3, 10, 21), one_style=3)
    capped = scenarios.cap_images(images, 5, seed=0)
    assert len(capped) == 5 and sum(im.tag.startswith("orig/") for im in capped) == 3
    assert scenarios.cap_images(images, 5, seed=0) == capped and scenarios.cap_images(images, None, 0) == images


def test_style_effects_relate_displacement_to_the_paired_change():
    rows = _synthetic_rows().replace({"scenario": {"full": "one_style:10", "selected": "one_style"}})
    moved = pd.DataFrame(
        [
            {"style": style, "steps": 75, "slice": s, "displacement_px": float(style + s), "map_correlation": 0.9}
            for style in (3, 10)
            for s in range(2)
        ]
    )
    effects = displacement.style_effects(stats.summarize(rows), moved, one_style=3)
    assert effects[["style", "displacement_px"]].values.tolist() == [[3, 3.5], [10, 10.5]]
    assert effects["mean_diff"].tolist() == pytest.approx([-0.03, -0.05]) and set(effects["reference"]) == {"original"}
    assert effects["n_slices"].tolist() == [4, 4] and (effects["p_value"] < 0.05).all()
    assert prose.displacement_lines(moved) == [
        "style  3 (75 steps): displacement 3.50 px, membrane-map correlation 0.90",
        "style 10 (75 steps): displacement 10.50 px, membrane-map correlation 0.90",
    ]


def test_units_sharing_a_training_set_train_one_forest_and_give_the_rows_of_separate_runs(
    small_store, tmp_path, monkeypatch
):
    split = splits.make_splits(tuple(range(4)), 2, (0,))[0]
    made = [runner.Unit("frangi", steps, scenario, split) for steps in (4, 5) for scenario in ("original", "full")]
    tasks = runner.tasks_of(small_store, made, SETTINGS)
    # the original set is the same at both step counts; the full set is not (its stylised images differ in tag)
    assert [[(u.scenario, u.steps) for u in task] for task in tasks] == [
        [("original", 4), ("original", 5)], [("full", 4)], [("full", 5)],
    ]  # fmt: skip
    separate = [runner.run_unit(small_store, unit, SETTINGS) for unit in tasks[0]]
    trained = []
    monkeypatch.setattr(runner, "train_edge_rf", lambda *a, **k: trained.append(1) or train_edge_rf(*a, **k))
    together = runner.run_units(small_store, tasks[0], SETTINGS)
    assert len(trained) == 1 and together == separate  # one forest, exactly the rows of two runs
    with pytest.raises(ValueError, match="train on different images"):
        runner.run_units(small_store, [made[0], made[1]], SETTINGS)
    run = runner.run_all(small_store, made, tmp_path, SETTINGS, progress=False)
    assert run.computed == 4 and len(trained) == 1 + 3  # three tasks for four units
    assert run.rows.to_dict("records") == [row for unit in made for row in runner.run_unit(small_store, unit, SETTINGS)]


def test_graph_cache_hits_on_a_second_run_and_equals_an_uncached_graph(small_store, tmp_path, monkeypatch):
    image = small_store.stylized(1, 3, 4)
    settings = unit_cache.pipeline_settings(runner.Unit("frangi", 4, "original", splits.Split("s", 0, 0, (0,), (1,))),
                                       SETTINGS)  # fmt: skip
    first = GraphCache(tmp_path)
    built = first.get(image, settings, True)
    second = GraphCache(tmp_path)  # another process or a later run: reads the pickle
    again = second.get(image, settings, True)
    assert (first.built, second.built) == (1, 0)
    uncached = graph_data(image.raw, image.gt, settings=settings)
    for name in ("superpixels", "boundary", "uv_ids", "features", "labels", "confident"):
        np.testing.assert_array_equal(getattr(again, name), getattr(uncached, name))
        np.testing.assert_array_equal(getattr(built, name), getattr(uncached, name))
    other = scenarios.Image(image.tag, image.slice, image.raw // 2, image.gt, image.membranes)  # same tag, new pixels
    assert GraphCache(tmp_path).get(other, settings, True).n_edges != 0 and len(list(tmp_path.glob("*"))) == 2
    monkeypatch.setattr(unit_graphs, "GRAPHS_IN_MEMORY", 1)  # memory stays bounded; the disk keeps everything
    bounded = GraphCache(tmp_path)
    for index in range(3):
        bounded.get(small_store.original(index), settings, False)
    assert len(bounded.graphs) == 1 and bounded.built == 3
    assert bounded.get(small_store.original(0), settings, False).n_edges and bounded.built == 3


def test_displacement_from_the_graphs_maps_equals_the_computed_one(small_store, tmp_path):
    settings = unit_cache.pipeline_settings(runner.Unit("frangi", 4, "original", splits.Split("s", 0, 0, (0,), (1,))),
                                       SETTINGS)  # fmt: skip
    graph_cache = GraphCache(tmp_path)
    computed = displacement.displacement_table(small_store, (3, 10), (4,))
    from_graphs = displacement.displacement_table(
        small_store, (3, 10), (4,), lambda image: graph_cache.get(image, settings, True).boundary
    )
    pd.testing.assert_frame_equal(computed, from_graphs)
    in_workers = displacement.displacement_table(
        small_store, (3, 10), (4,), FrangiMaps(tmp_path / "run", SETTINGS), workers=2
    )
    pd.testing.assert_frame_equal(computed, in_workers)  # same rows in the same order from two processes
    assert not (tmp_path / "run" / GRAPH_FOLDER).exists()  # tasks read the run's graphs, only the run writes them
    one = displacement.membrane_displacement(small_store.raw[3], small_store.stylized(3, 10, 4).raw)
    assert computed.iloc[-1][["displacement_px", "map_correlation"]].to_dict() == one


def test_cost_plan_counts_the_real_work_and_the_projection_adds_up(small_store, tmp_path):
    made = splits.make_splits(tuple(range(4)), 2, (0,))
    chosen = unit_cache.experiment_units(["frangi"], (4, 5), ["original", "one_style"], made[:1])
    plan, tasks = cost.make_plan(small_store, chosen, SETTINGS, displacement_slices=8)
    assert plan.units == {"frangi:original": 2, "frangi:one_style": 2}
    assert plan.tasks == {"frangi:original": 1, "frangi:one_style": 2} and len(tasks) == 3
    graph_cache = GraphCache(tmp_path)
    seconds: dict[str, list[float]] = {}
    for task in tasks:  # a real tiny sample: every task timed
        started = time.perf_counter()
        runner.run_units(small_store, task, SETTINGS, graph_cache, 1)
        seconds.setdefault(cost.kind_of(task[0]), []).append(time.perf_counter() - started)
    assert graph_cache.built == plan.graphs  # the plan counts exactly the graphs the tasks build
    projection = cost.project(plan, seconds, [0.5, 1.5], serial_seconds=3.0, cores=2, displacement_seconds=0.25)
    parallel = sum(seconds["frangi:original"]) + 2 * np.mean(seconds["frangi:one_style"]) + plan.graphs * 1.0 + 2.0
    longest = max(max(values) for values in seconds.values())
    assert projection["parallel_core_seconds"] == pytest.approx(parallel)
    assert projection["wall_seconds"] == pytest.approx(3.0 + parallel / 2 + longest)
    assert projection["wall_minutes"] == pytest.approx(projection["wall_seconds"] / 60)
    assert (
        cost.project(plan, seconds, [1.0], 3.0, cores=4, displacement_seconds=0.25)["wall_seconds"]
        < (projection["wall_seconds"])
    )
    with pytest.raises(ValueError, match="frangi:one_style"):
        cost.project(plan, {"frangi:original": [1.0]}, [1.0], 0.0, cores=2)
    sweep = runner.Unit("frangi", 4, "one_style:10", made[0])
    assert cost.kind_of(sweep) == "frangi:sweep"


def test_appearance_augmentations_blur_change_gamma_and_contrast_unlike_the_test_shifts(crop, small_store):
    raw, gt = crop
    copies = shifts.appearance_augmentations(raw, seed=5)
    assert [name for _, _, name in copies] == ["aug_blur", "aug_gamma", "aug_contrast"]
    again = shifts.appearance_augmentations(raw, seed=5)
    other = shifts.appearance_augmentations(raw, seed=6)
    for (image, parameter, name), (same, _, _), (_, moved, _) in zip(copies, again, other):
        assert image.shape == raw.shape and image.dtype == np.uint8 and np.array_equal(image, same)  # seeded
        low, high = shifts.APPEARANCE_RANGES[name]
        assert low <= parameter <= high and parameter != moved  # drawn per seed, within its range
        np.testing.assert_array_equal(shifts.transform_like(gt, name), gt)  # the labels stay where they are
        assert np.corrcoef(image.ravel(), raw.ravel())[0, 1] > 0.7  # the membranes stay in place
    blurred, gamma, contrast = (image.astype(float) for image, _, _ in copies)
    assert np.abs(np.diff(blurred, axis=1)).mean() < 0.8 * np.abs(np.diff(raw.astype(float), axis=1)).mean()
    assert gamma.mean() != pytest.approx(raw.mean(), abs=1.0)
    assert contrast.std() < 0.9 * raw.std() and contrast.mean() == pytest.approx(raw.mean(), abs=1.0)
    # the test shifts' own values lie outside the training ranges: the shifted test slices are never trained on
    assert (
        not shifts.APPEARANCE_RANGES["aug_blur"][0]
        <= shifts.SHIFT_BLUR_SIGMA
        <= shifts.APPEARANCE_RANGES["aug_blur"][1]
    )
    assert all(not low <= g <= high for g in (0.5, 2.0) for low, high in [shifts.APPEARANCE_RANGES["aug_gamma"]])
    assert shifts.APPEARANCE_RANGES["aug_contrast"][0] > shifts.LOW_CONTRAST
    images = small_store.appearance(1, seed=0)
    assert [im.tag for im in images][-3:] == ["aug_blur/s01", "aug_gamma/s01", "aug_contrast/s01"]
    assert [im.tag.split("/")[0] for im in images][:4] == list(shifts.AUGMENTATIONS)  # the plain copies first
    tags = {im.tag for im in images} | {small_store.shifted(1, kind).tag for kind in shifts.SHIFTS[1:]}
    assert len(tags) == len(images) + len(shifts.SHIFTS) - 2  # no training copy shares a test shift's tag ...
    assert "noise/s01" in tags  # ... but the plain noise copy, whose tag the noise shift has always had


def _fake_feedforward(cache, slices, painting):
    """Stand-in for the feed-forward engine's cache: whole slices, inverted and shifted per painting."""
    raw, _ = data.load_training(list(slices))
    return np.clip(255 - raw.astype(int) + painting, 0, 255).astype(np.uint8)


def test_the_two_engines_never_share_a_tag_or_a_unit_file(small_store, tmp_path, monkeypatch):
    monkeypatch.setattr(feedforward, "stylized_slices", _fake_feedforward)
    fast = scenarios.SliceStore.from_feedforward(tmp_path, tuple(range(4)), 96)
    assert fast.engine == "feedforward" and small_store.engine == "gatys"
    np.testing.assert_array_equal(
        fast.stylized(2, 3, FEEDFORWARD_STEPS).raw, _fake_feedforward(None, [2], 3)[0][:96, :96]
    )
    with pytest.raises(ValueError, match="feed-forward store's slices have steps 0"):
        fast.stylized(2, 3, 75)
    with pytest.raises(ValueError, match="held-out textures need the feed-forward engine"):
        small_store.texture(2, 2)
    split = splits.make_splits(tuple(range(4)), 2, (0,))[0]
    gatys = runner.Unit("frangi", 4, "full", split)
    fed = runner.Unit("frangi", FEEDFORWARD_STEPS, "full", split, "feedforward")
    with pytest.raises(ValueError, match="Unit.steps of a feedforward unit"):
        runner.Unit("frangi", 4, "full", split, "feedforward")
    with pytest.raises(ValueError, match="Unit.steps of a gatys unit"):
        runner.Unit("frangi", 0, "full", split)
    slow_tags = {im.tag for im in unit_cache.unit_images(small_store, gatys, SETTINGS)}
    fast_tags = {im.tag for im in unit_cache.unit_images(fast, fed, SETTINGS)}
    stylised = {tag for tag in slow_tags | fast_tags if tag.startswith(scenarios.STYLISED_PREFIXES)}
    assert stylised and not {t for t in slow_tags & fast_tags if t.startswith(scenarios.STYLISED_PREFIXES)}
    assert {tag.split("/")[1] for tag in stylised} == {"gatys004", "feedforward"}
    assert slow_tags - stylised == fast_tags - stylised  # the originals and shifts are the same images
    slow_path = unit_cache.unit_path(tmp_path, small_store, gatys, SETTINGS)
    fast_path = unit_cache.unit_path(tmp_path, fast, fed, SETTINGS)
    assert (
        slow_path != fast_path and slow_path.name.startswith("gatys__") and fast_path.name.startswith("feedforward__")
    )
    assert runner.training_key(small_store, gatys, SETTINGS) != runner.training_key(fast, fed, SETTINGS)


def test_a_unit_of_each_engine_runs_at_ci_size(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    config = select("ci")
    plans = arms.plan_arms(config, one_style=3)
    assert [plan.arm.name for plan in plans] == [arm.name for arm in config.experiments.arms]
    arms.ensure_stylized(config, [plan for plan in plans if plan.arm.engine == "feedforward"], 3)
    cached = {path.name.split("_")[1] for path in (tmp_path / "cache" / feedforward.FOLDER).glob("*.png")}
    assert cached == {"style03", "style10", "style13"}  # the paintings of both feed-forward arms, held-out 13 too
    chosen = []
    for plan in plans:
        unit = next(u for u in plan.units if u.scenario == "one_style" and u.pipeline == "frangi")
        store = plan.store
        if plan.arm.engine == "gatys":  # the Gatys cache is made by chapter 02 (tests stand in for it)
            store = scenarios.SliceStore(plan.arm.slices, plan.arm.crop, _fake_stylized)
        chosen.append(dataclasses.replace(plan, store=store, units=[unit]))
    runs = arms.run_arms(chosen, progress=False)
    rows = arms.arm_rows(runs)
    assert list(rows.columns[:2]) == ["arm", "engine"] and set(rows["arm"]) == set(runs)
    assert rows["n_segments"].map(type).eq(int).all() and (rows["n_segments"] >= 1).all()
    by_arm = {name: group for name, group in rows.groupby("arm")}
    main = by_arm["feedforward"]
    assert set(main["engine"]) == {"feedforward"} and set(main["steps"]) == {FEEDFORWARD_STEPS}
    assert {c for c in main["condition"] if c.startswith(scenarios.UNSEEN_PREFIX)} == {"unseen_style_texture02"}
    for name in ("gatys-crops", "feedforward-crops"):  # the engines compared on the same crops and conditions
        assert set(by_arm[name]["condition"]) == set(shifts.SHIFTS) | {"unseen_style13"}
    assert set(by_arm["gatys-crops"]["steps"]) == {4} and set(by_arm["feedforward-crops"]["steps"]) == {0}
    assert rows.attrs["provenance"]["arms"].keys() == runs.keys()
    monkeypatch.setattr(feedforward, "stylize", lambda *a, **k: pytest.fail("a cached slice was stylised again"))
    engines.ensure_stylized(config, (3, 10), config.experiments.arms[0])  # all cached: nothing to stylise


def test_full_and_selected_with_the_same_paintings_are_found_to_be_one_run(small_store, tmp_path):
    split = splits.make_splits(tuple(range(4)), 2, (0,))[0]
    settings = runner.UnitSettings(styles=(3, 10), heldout=(13,), one_style=3, trees=10, max_samples=None)
    made = [runner.Unit("frangi", 4, scenario, split) for scenario in ("full", "selected", "one_style", "original")]
    assert len(runner.tasks_of(small_store, made, settings)) == 3  # full and selected train one forest
    rows = runner.run_all(small_store, made, tmp_path, settings, progress=False).rows
    assert stats.duplicate_scenarios(rows) == {"selected": "full"}


def test_chapter_units_build_the_arms_of_each_profile():
    for name in ("ci", "reduced", "full"):
        work = select(name).experiments
        built = unit_cache.chapter_units(work, one_style=3)
        assert list(built) == [arm.name for arm in work.arms]
        for arm in work.arms:
            made = built[arm.name]
            assert {u.engine for u in made} == {arm.engine} and {u.steps for u in made} == set(arm.steps)
            assert {u.pipeline for u in made} == set(arm.pipelines)
            main = [u for u in made if not u.scenario.startswith(scenarios.SWEEP_PREFIX)]
            assert {u.scenario for u in main if u.pipeline == "frangi"} == set(arm.scenarios)
            assert {u.scenario for u in main if u.pipeline != "frangi"} <= set(arm.pixel_rf_scenarios or arm.scenarios)
            arm_split_names = {split.name for split in splits.arm_splits(arm)}
            assert {u.split.name for u in main} == arm_split_names
            sweep = [u for u in made if u.scenario.startswith(scenarios.SWEEP_PREFIX)]
            if arm.sweep_steps:
                folds = arm.sweep_folds or arm.n_folds
                assert {scenarios.sweep_style(u.scenario, 3) for u in sweep} == set(arm.styles) - {3}
                assert {u.split.fold for u in sweep} == set(range(folds)) and {u.pipeline for u in sweep} == {"frangi"}
            else:
                assert not sweep
        assert not any(unit_cache.chapter_units(work, 3, pipelines=["hessian"]).values())  # only the chosen pipelines
    reduced = select("reduced").experiments
    main, slow, fast = reduced.arms
    assert main.engine == "feedforward" and main.crop is None and main.slices == data.ISBI_SLICES
    assert main.styles == tuple(range(24)) and not main.heldout_styles and main.heldout_textures
    tested = [s for split in splits.arm_splits(main) if split.name != "report" for s in split.test]
    assert sorted(tested) == list(range(30))  # 5 folds x 1 seed: every slice tested once
    assert (slow.engine, fast.engine) == ("gatys", "feedforward") and slow.steps == (75,)
    same = ("crop", "slices", "styles", "heldout_styles", "pipelines", "scenarios", "n_folds", "seeds")
    assert all(getattr(slow, field) == getattr(fast, field) for field in same)  # the same crops, paintings, splits
    full = select("full").experiments
    assert [arm.engine for arm in full.arms] == ["gatys", "feedforward"] and full.arms[0].crop is None


def test_a_family_table_indexes_what_differs_and_names_what_is_shared():
    rows = [
        {"family": "f", "label": "confirmatory", "arm": "a", "engine": "gatys", "pipeline": "frangi",
         "scenario": scenario, "test": "clean", "metric": metric, "mean_diff": diff, "diff_low": diff - 0.01,
         "diff_high": diff + 0.01, "p_value": 0.01, "p_holm": p_holm}
        for scenario, metric, diff, p_holm in [("selected", "vi", -0.2, 0.01), ("full", "vi", 0.1, 0.5),
                                               ("full", "rand_error", 0.0, 0.9)]
    ]  # fmt: skip
    shown = prose.family_table(pd.DataFrame(rows + [{**rows[0], "family": "other"}]), "f")
    assert shown.index.names == ["scenario", "metric"] and shown.columns.name == "test: clean, pipeline: frangi"
    assert list(shown.columns) == ["change [95 % CI]", "p (Holm)", "verdict"]
    assert list(shown.index) == [("full", "rand_error"), ("full", "vi"), ("selected", "vi")]
    assert shown.loc[("selected", "vi"), "verdict"] == "better" and shown.loc[("full", "vi"), "p (Holm)"] == "0.500"
