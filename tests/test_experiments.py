"""Splits, augmentations, shifts, the membrane-displacement measure, the runner and the statistics of chapter 06."""

from __future__ import annotations

import multiprocessing
import time

import numpy as np
import pandas as pd
import pytest

from helpers import data
from helpers.config import select
from helpers.experiments import cost, displacement, graphs, report, runner, scenarios, shifts, splits, stats, units
from helpers.experiments.graphs import GRAPH_FOLDER, FrangiMaps, GraphCache
from helpers.segmentation.pipeline import graph_data, train_edge_rf


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


def test_statistics_on_known_numbers():
    mean, low, high = stats.mean_interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and low < 2.0 < high and high - 2.0 == pytest.approx(2.0 - low)
    better = stats.paired_comparison([0.1, 0.2, 0.3, 0.2, 0.1, 0.15], [0.2, 0.3, 0.4, 0.3, 0.2, 0.25])
    assert better["mean_diff"] == pytest.approx(-0.1) and better["frac_better"] == 1.0
    assert better["p_wilcoxon"] < 0.05
    same = stats.paired_comparison([0.1, 0.2], [0.1, 0.2])
    assert same["p_wilcoxon"] == 1.0 and same["mean_diff"] == 0.0
    with pytest.raises(ValueError, match="same shape"):
        stats.paired_comparison([1.0], [1.0, 2.0])


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
        for sc in ("original", "full", "one_style", "selected", "plain_aug", "one_style:10")
    }
    assert sizes == {"original": 3, "full": 12, "one_style": 6, "selected": 12, "plain_aug": 15, "one_style:10": 6}
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
    assert one["n"] == len(split.test) and one["reference"] == "original" and np.isfinite(one["mean_diff"])


def test_rows_are_written_as_the_committed_csv(small_store, tmp_path):
    split = splits.make_splits(tuple(range(4)), 2, (0,))[0]
    rows = runner.run_all(
        small_store, [runner.Unit("frangi", 4, "original", split)], tmp_path, SETTINGS, progress=False
    ).rows
    runner.write_rows(rows, tmp_path / "scenarios.csv", "ci")
    lines = (tmp_path / "scenarios.csv").read_bytes().split(b"\r\n")
    assert lines[0] == (
        b"profile,pipeline,scenario,steps,split,seed,fold,slice,condition,n_train_images,"
        b"rand_error,vi,vi_split,vi_merge"
    )
    first = rows.iloc[0]
    assert (
        lines[1]
        == (
            f"ci,frangi,original,4,{split.name},0,{split.fold},{first['slice']},clean,"
            f"{first['n_train_images']},{float(first['rand_error'])!r},{float(first['vi'])!r},{float(first['vi_split'])!r},"
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


def test_a_summary_against_another_reference_reads_right():
    rows = _synthetic_rows()
    default = stats.summarize(rows)
    clean = default[(default["condition"] == "clean") & (default["metric"] == "rand_error")].set_index("scenario")
    assert clean.loc["full", "mean_diff"] == pytest.approx(-0.05) and np.isnan(clean.loc["original", "mean_diff"])
    against_full = stats.summarize(rows, reference="full")
    assert set(against_full["reference"]) == {"full"}
    clean = against_full[(against_full["condition"] == "clean") & (against_full["metric"] == "rand_error")]
    clean = clean.set_index("scenario")
    assert clean.loc["original", "mean_diff"] == pytest.approx(0.05) and np.isnan(clean.loc["full", "mean_diff"])
    assert report.verdict(clean.loc["original"]) == "worse" and report.verdict(clean.loc["selected"]) == "worse"
    robust = stats.robustness_paired(rows, reference="full")
    assert set(robust["reference"]) == {"full"} and set(robust["scenario"]) == {"original", "selected"}
    text = report.conclusion(against_full, robust, "ci", 2)
    assert "Paired against the full training set" in text and "*2. original set*: 0.216 (change +0.050" in text
    assert "better than the full set in 0 of 1 (pipeline, steps, scenario) comparisons and clearly worse in 1" in text
    assert "than the full set (smaller paired" in text
    assert "less robust in 1; frangi/75/selected: +0.250 vs +0.200" in text
    lines = report.paired_lines(against_full)
    assert len(lines) == 2 and all(line.endswith("-> worse") for line in lines)
    assert "VI 0.431, change +0.100" in lines[0]
    assert all(" vs full " in line for line in report.scenario_lines(robust, report.PAIRED_ROBUSTNESS_LINE))
    with pytest.raises(ValueError, match="one reference"):
        report.conclusion(pd.concat([default, against_full]), robust, "ci", 2)


def test_paired_robustness_compares_error_increases_on_the_same_slices():
    rows = []
    for scenario, shift_error in (("original", 0.5), ("full", 0.3)):  # same clean error, "full" degrades less
        for split in ("a", "b"):
            for s in range(4):
                clean = 0.1 + 0.01 * s
                rows.append(
                    {
                        "pipeline": "frangi",
                        "steps": 75,
                        "scenario": scenario,
                        "split": split,
                        "slice": s,
                        "condition": "clean",
                        "rand_error": clean,
                    }
                )
                rows.append(
                    {
                        "pipeline": "frangi",
                        "steps": 75,
                        "scenario": scenario,
                        "split": split,
                        "slice": s,
                        "condition": "blur",
                        "rand_error": clean + shift_error + 0.01 * (s % 2),
                    }
                )
    (result,) = stats.robustness_paired(pd.DataFrame(rows)).to_dict("records")
    assert result["scenario"] == "full" and result["test"] == "shifts" and result["n_pairs"] == 8
    assert result["mean_diff"] == pytest.approx(-0.2) and result["diff_high"] < 0
    assert result["increase_mean"] == pytest.approx(result["reference_increase_mean"] - 0.2)


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
    assert report.displacement_lines(moved) == [
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
    settings = units.pipeline_settings(runner.Unit("frangi", 4, "original", splits.Split("s", 0, 0, (0,), (1,))),
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
    monkeypatch.setattr(graphs, "GRAPHS_IN_MEMORY", 1)  # memory stays bounded; the disk keeps everything
    bounded = GraphCache(tmp_path)
    for index in range(3):
        bounded.get(small_store.original(index), settings, False)
    assert len(bounded.graphs) == 1 and bounded.built == 3
    assert bounded.get(small_store.original(0), settings, False).n_edges and bounded.built == 3


def test_displacement_from_the_graphs_maps_equals_the_computed_one(small_store, tmp_path):
    settings = units.pipeline_settings(runner.Unit("frangi", 4, "original", splits.Split("s", 0, 0, (0,), (1,))),
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
    assert any((tmp_path / "run" / GRAPH_FOLDER).glob("*.pkl"))
    one = displacement.membrane_displacement(small_store.raw[3], small_store.stylized(3, 10, 4).raw)
    assert computed.iloc[-1][["displacement_px", "map_correlation"]].to_dict() == one


def test_cost_plan_counts_the_real_work_and_the_projection_adds_up(small_store, tmp_path):
    made = splits.make_splits(tuple(range(4)), 2, (0,))
    chosen = units.experiment_units(["frangi"], (4, 5), ["original", "one_style"], made[:1])
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


def test_chapter_units_keep_the_reduced_design_and_bound_the_full_one():
    reduced, full = select("reduced"), select("full")
    work = reduced.experiments
    made = splits.experiment_splits(reduced.style.slices, work.n_folds, work.seeds)
    before = units.experiment_units(["frangi", "pixel-rf"], work.steps, list(scenarios.SCENARIOS), made)
    before += units.experiment_units(
        ["frangi"], work.steps, [f"one_style:{s}" for s in work.styles if s != 3], [s for s in made if s.seed == 0]
    )
    assert units.chapter_units(work, ["frangi", "pixel-rf"], made, 3, True) == before  # the committed run's units
    work = full.experiments
    made = splits.experiment_splits(full.style.slices, work.n_folds, work.seeds)
    chosen = units.chapter_units(work, ["frangi", "pixel-rf"], made, 3, True)
    assert {u.steps for u in chosen if u.pipeline == "pixel-rf"} == set(work.pixel_rf_steps)
    assert {u.steps for u in chosen if u.scenario.startswith("one_style:")} == set(work.sweep_steps)
    assert {u.steps for u in chosen if u.pipeline == "frangi"} == set(work.steps)
