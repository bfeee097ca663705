"""Bad input to the style, segmentation and experiment APIs: each case a clear error that names the argument.

Every case here is refused before any work starts (no VGG pass, no training), so the whole table runs in
seconds. The data loaders' own cases (files, labels, pixel values) are in tests/test_data.py.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from helpers import checks, config
from helpers.experiments import runner, scenarios, splits
from helpers.paths import ROOT
from helpers.segmentation import boundaries, evaluation, pipeline
from helpers.segmentation.settings import PipelineSettings
from helpers.style import cache, engine
from helpers.style.__main__ import main as style_main
from helpers.style.engine import StyleSettings

NAN, INF = math.nan, math.inf
CROP = np.zeros((32, 32), dtype=np.uint8)
GREY_255 = np.full((32, 32), 200.0, dtype=np.float32)  # float pixels on the 8-bit scale
SPLIT = splits.Split("s", 0, 0, (0,), (1,))
ONE_SLICE_RUN = pipeline.Run(PipelineSettings(), [], [None], None, [CROP], [{"rand_error": 0.5}])
UNIT_SETTINGS = {"styles": (3,), "heldout": (13,), "one_style": 3, "trees": 10, "max_samples": None}


def _unit_settings(**changed):
    return runner.UnitSettings(**{**UNIT_SETTINGS, **changed})


@pytest.fixture(scope="module")
def tiny_store():
    return scenarios.SliceStore(range(2), 32)


# (id, call, error type, message pattern): the message names the argument and what is allowed
CASES = [
    # StyleSettings: every weight, count and name
    ("alpha NaN", lambda: StyleSettings(alpha=NAN), ValueError, r"alpha must be a finite number in \[0.0, inf\)"),
    ("alpha inf", lambda: StyleSettings(alpha=INF), ValueError, "alpha must be a finite number"),
    ("beta inf", lambda: StyleSettings(beta=INF), ValueError, "beta must be a finite number"),
    ("beta NaN", lambda: StyleSettings(beta=NAN), ValueError, "beta must be a finite number"),
    ("alpha negative", lambda: StyleSettings(alpha=-1.0), ValueError, r"alpha must be .* \[0.0, inf\), got -1.0"),
    ("beta negative", lambda: StyleSettings(beta=-1e-5), ValueError, "beta must be a finite number"),
    ("beta per pair NaN", lambda: StyleSettings(beta=(1e-5, NAN)), ValueError, "beta element nan"),
    ("alpha and beta 0", lambda: StyleSettings(alpha=0, beta=0), ValueError, "both 0"),
    ("alpha a string", lambda: StyleSettings(alpha="1"), TypeError, "alpha must be a number"),
    ("beta empty", lambda: StyleSettings(beta=()), ValueError, "beta is an empty sequence"),
    ("lr zero", lambda: StyleSettings(lr=0.0), ValueError, r"lr must be a finite number in \(0.0, inf\)"),
    ("lr NaN", lambda: StyleSettings(lr=NAN), ValueError, "lr must be a finite number"),
    ("seed non-integral", lambda: StyleSettings(seed=1.5), ValueError, "seed must be a whole number"),
    ("seed negative", lambda: StyleSettings(seed=-3), ValueError, "seed must be a whole number"),
    ("history_size 0", lambda: StyleSettings(history_size=0), ValueError, "history_size must be a whole number"),
    ("unknown layer", lambda: StyleSettings(content_layers=("conv9_9",)), ValueError, r"\['conv9_9'\] unknown"),
    ("no style layer", lambda: StyleSettings(style_layers=()), ValueError, "style_layers must name at least one"),
    ("style weight < 0", lambda: StyleSettings(style_weights={"conv1_1": -1}), ValueError, "style_weights"),
    ("device typo", lambda: StyleSettings(device="gpu"), ValueError, "device 'gpu' is not a torch device"),
    ("precision typo", lambda: StyleSettings(precision="fp16"), ValueError, "unknown StyleSettings.precision"),
    # the engines' arguments
    ("steps 2.7", lambda: engine.stylize(CROP, 3, 2.7), ValueError, "steps .* must be a whole number.*got 2.7"),
    ("steps 0", lambda: engine.stylize_batch([CROP], [3], 0), ValueError, r"steps .* whole number in \[1, inf\)"),
    ("steps a bool", lambda: engine.stylize(CROP, 3, True), TypeError, "steps .* whole number"),
    ("snapshot 1.5", lambda: engine.stylize_batch([CROP], [3], 3, snapshots=(1.5,)), ValueError, "snapshot 1.5"),
    ("snapshot > steps", lambda: engine.stylize_batch([CROP], [3], 3, snapshots=(4,)), ValueError, "1..steps=3"),
    ("size -5", lambda: engine.stylize(CROP, 3, 2, size=-5), ValueError, "size .* whole number"),
    ("stylize per pair", lambda: engine.stylize(CROP, 3, 2, StyleSettings(beta=(1e-5, 1e-6))), ValueError, "one"),
    # the ISBI stylisation and its cache
    ("crop -5", lambda: cache.stylize_isbi("unused", [0], [3], [2], crop=-5), ValueError, r"crop .* \[16, 512\]"),
    ("crop 1000", lambda: cache.stylize_isbi("unused", [0], [3], [2], crop=1000), ValueError, "got 1000"),
    ("crop 2.5", lambda: cache.stylize_isbi("unused", [0], [3], [2], crop=32.5), ValueError, "crop .* whole"),
    ("batch -1", lambda: cache.stylize_isbi("unused", [0], [3], [2], batch_size=-1), ValueError, "batch_size"),
    ("slice 1.5", lambda: cache.stylize_isbi("unused", [1.5], [3], [2]), ValueError, "slices element 1.5"),
    ("slices empty", lambda: cache.stylize_isbi("unused", [], [3], [2]), ValueError, "slices is empty"),
    ("slice repeated", lambda: cache.stylize_isbi("unused", [3, 3], [3], [2]), ValueError, r"slices repeats \[3\]"),
    ("slice 30", lambda: cache.stylize_isbi("unused", [30], [3], [2]), ValueError, r"\[0, 29\], got 30"),
    ("slices a number", lambda: cache.stylize_isbi("unused", 3, [3], [2]), TypeError, r"pass e.g. \[3\]"),
    ("styles empty", lambda: cache.stylize_isbi("unused", [0], [], [2]), ValueError, "styles must be a non-empty"),
    ("steps list 2.7", lambda: cache.stylize_isbi("unused", [0], [3], [2.7]), ValueError, "steps element 2.7"),
    ("max_batches -1", lambda: cache.stylize_isbi("unused", [0], [3], [2], max_batches=-1), ValueError, "max_batch"),
    (
        "cache per pair",
        lambda: cache.stylize_isbi("u", [0], [3], [2], settings=StyleSettings(beta=(1, 2))),
        ValueError,
        "one alpha and one beta",
    ),  # fmt: skip
    ("load steps 2.7", lambda: cache.load_stylized("unused", 2.7, 3, [0]), ValueError, "steps must be a whole"),
    ("load slices []", lambda: cache.load_stylized("unused", 2, 3, []), ValueError, "slices is empty"),
    ("load crop 0", lambda: cache.load_stylized("unused", 2, 3, [0], crop=0), ValueError, r"crop .* \[16, 512\]"),
    # the segmentation pipeline
    ("threshold NaN", lambda: PipelineSettings(threshold=NAN), ValueError, r"threshold must be .* \[0.0, 1.0\]"),
    ("beta 1", lambda: PipelineSettings(beta=1.0), ValueError, r"beta must be a finite number in \(0.0, 1.0\)"),
    ("rf_trees 2.5", lambda: PipelineSettings(rf_trees=2.5), ValueError, "rf_trees must be a whole number"),
    ("rf_trees True", lambda: PipelineSettings(rf_trees=True), TypeError, "rf_trees must be a whole number"),
    ("labels crossed", lambda: PipelineSettings(label_low=0.9), ValueError, "label_low .* is above label_high"),
    ("seed -1", lambda: PipelineSettings(seed=-1), ValueError, "seed must be a whole number"),
    ("tree fraction 0", lambda: PipelineSettings(rf_tree_fraction=0.0), ValueError, "rf_tree_fraction"),
    ("sigma negative", lambda: PipelineSettings(sigma_seeds=-1.0), ValueError, "sigma_seeds"),
    ("pixel_folds 1", lambda: PipelineSettings(pixel_folds=1), ValueError, r"pixel_folds .* \[2, inf\)"),
    (
        "run: fewer labels",
        lambda: pipeline.run([CROP, CROP], [CROP], [CROP], [CROP], progress=False),
        ValueError,
        "train_raws has 2 items but train_labels has 1",
    ),  # fmt: skip
    (
        "run: fewer test labels",
        lambda: pipeline.run([CROP], [CROP], [CROP, CROP], [], progress=False),
        ValueError,
        "test_raws has 2 items but test_labels has 0",
    ),  # fmt: skip
    ("run: no training", lambda: pipeline.run([], [], [CROP], [CROP], progress=False), ValueError, "at least one"),
    ("solvers: gts short", lambda: evaluation.compare_solvers(ONE_SLICE_RUN, []), ValueError, "has 1 items but gts"),
    ("record: slices long", lambda: evaluation.run_record(ONE_SLICE_RUN, [24, 25]), ValueError, "test_slices has 2"),
    ("record: slice 1.5", lambda: evaluation.run_record(ONE_SLICE_RUN, [1.5]), ValueError, "test_slices element"),
    ("float 0..255 to segmentation", lambda: boundaries.boundary_map(GREY_255, "frangi"), ValueError, r"\[0, 1\]"),
    ("float 0..255 to style", lambda: engine.stylize(GREY_255, 3, 2), ValueError, r"\[0, 1\]"),
    ("load_slices 1.5", lambda: pipeline.load_slices([0, 1.5]), ValueError, "slices element 1.5"),
    ("load_slices []", lambda: pipeline.load_slices([]), ValueError, "slices is empty"),
    ("load_slices crop -5", lambda: pipeline.load_slices([0], crop=-5), ValueError, "crop must be a whole number"),
    # the experiments
    ("n_folds 2.5", lambda: splits.make_splits((0, 1, 2), 2.5, (0,)), ValueError, "n_folds must be a whole number"),
    ("n_folds > slices", lambda: splits.make_splits((0, 1), 3, (0,)), ValueError, "n_folds must be between"),
    ("seeds empty", lambda: splits.make_splits((0, 1, 2), 2, ()), ValueError, "seeds is empty"),
    ("split slice 1.5", lambda: splits.make_splits((0, 1.5, 2), 2, (0,)), ValueError, "slices element 1.5"),
    ("trees 0", lambda: _unit_settings(trees=0), ValueError, "UnitSettings.trees"),
    ("held-out trained", lambda: _unit_settings(heldout=(3,)), ValueError, r"held-out styles \[3\] are also trained"),
    ("unit styles empty", lambda: _unit_settings(styles=()), ValueError, "UnitSettings.styles is empty"),
    ("max_train_images 0", lambda: _unit_settings(max_train_images=0), ValueError, "max_train_images"),
    ("unit steps 2.7", lambda: runner.Unit("frangi", 2.7, "original", SPLIT), ValueError, "Unit.steps"),
    ("unit scenario typo", lambda: runner.Unit("frangi", 4, "orignal", SPLIT), KeyError, "unknown scenario"),
    ("store crop -5", lambda: scenarios.SliceStore(range(2), -5), ValueError, "crop"),
    ("store crop 1000", lambda: scenarios.SliceStore(range(2), 1000), ValueError, "got 1000"),
    ("store slice 1.5", lambda: scenarios.SliceStore([0, 1.5], 32), ValueError, "slices element 1.5"),
    ("store no slices", lambda: scenarios.SliceStore([], 32), ValueError, "slices is empty"),
    # the generic checks
    ("integer NaN", lambda: checks.integer(NAN, "n"), ValueError, "n must be a whole number"),
    ("number a string", lambda: checks.number("0.5", "x"), TypeError, "x must be a number"),
]


@pytest.mark.parametrize(("call", "error", "message"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input_is_refused_with_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_the_table_is_large_and_its_names_are_unique():
    names = [case[0] for case in CASES]
    assert len(names) == len(set(names)) >= 70


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--crop", "-5"], r"argument --crop: crop .* \[16, 512\], got -5"),
        (["--crop", "1000"], "got 1000"),
        (["--batch", "-1"], r"argument --batch: batch must be a whole number in \[1, inf\), got -1"),
        (["--batch", "0"], "argument --batch"),
        (["--steps", "2.7"], "argument --steps: not a whole number: '2.7'"),
        (["--slices", "30"], r"argument --slices: slice index must be .* \[0, 29\]"),
        (["--profile", "prfile"], "unknown profile 'prfile'"),
    ],
)
def test_style_command_line_refuses_bad_arguments_with_status_2(argv, message, capsys):
    with pytest.raises(SystemExit) as stop:
        style_main(["--profile", "ci", *argv])
    assert stop.value.code == 2
    assert re.search(message, capsys.readouterr().err)


def test_run_all_refuses_bad_workers_and_empty_work(tiny_store, tmp_path):
    units = [runner.Unit("frangi", 4, "original", SPLIT)]
    for workers, error in ((-1, ValueError), (1.5, ValueError), ("2", TypeError)):
        with pytest.raises(error, match="workers"):
            runner.run_all(tiny_store, units, tmp_path, _unit_settings(), workers=workers, progress=False)
    with pytest.raises(ValueError, match="no units to run"):
        runner.run_all(tiny_store, [], tmp_path, _unit_settings(), progress=False)
    with pytest.raises(KeyError, match="unknown pipeline 'hessian'"):
        runner.run_all(tiny_store, [runner.Unit("hessian", 4, "original", SPLIT)], tmp_path, _unit_settings())
    assert not any(tmp_path.iterdir()), "nothing was computed or written"


def test_a_stylised_loader_of_the_wrong_shape_is_refused():
    store = scenarios.SliceStore(range(2), 32, lambda steps, style, slices, crop: np.zeros((2, 16, 16), np.uint8))
    with pytest.raises(ValueError, match=r"loader gave shape \(2, 16, 16\) .* expected \(2, 32, 32\)"):
        store.stylized(0, 3, 4)


def test_valid_numbers_in_other_types_are_accepted_as_plain_values():
    settings = StyleSettings(beta=[1e-5, 1e-6], seed=np.int64(3), history_size=10.0)
    assert settings.beta == (1e-5, 1e-6) and settings.seed == 3 and type(settings.history_size) is int
    assert PipelineSettings(rf_trees=np.int32(20), threshold=np.float32(0.5)).rf_trees == 20
    assert _unit_settings(heldout=()).heldout == ()


def test_unknown_papermill_parameter_is_refused():
    parameters_cell = 'profile = None  # the profile\npipelines = ["frangi"]\n'
    config.check_parameters(["", parameters_cell, '# Parameters\nprofile = "ci"\n'])  # a declared one: fine
    config.check_parameters(["", parameters_cell])  # no papermill (JupyterLab, nbval): nothing to check
    with pytest.raises(ValueError, match=r"unknown papermill parameter\(s\) \['prfile'\].*\['profile', 'pipelines'\]"):
        config.check_parameters(["", parameters_cell, '# Parameters\nprfile = "ci"\n'])
    with pytest.raises(ValueError, match="parameters are none"):
        config.check_parameters(['# Parameters\nprofile = "ci"\n'])


@pytest.mark.slow
def test_unknown_papermill_parameter_fails_a_real_papermill_run(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    papermill = pytest.importorskip("papermill")
    notebook = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}
    )
    notebook.cells = [
        nbformat.v4.new_code_cell("profile = None", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("from helpers.config import check_parameters\ncheck_parameters()"),
    ]
    nbformat.write(notebook, tmp_path / "chapter.ipynb")
    run = {"kernel_name": "python3", "progress_bar": False, "cwd": str(tmp_path)}
    papermill.execute_notebook(tmp_path / "chapter.ipynb", tmp_path / "ok.ipynb", parameters={"profile": "ci"}, **run)
    with pytest.raises(papermill.PapermillExecutionError, match="unknown papermill parameter"):
        papermill.execute_notebook(
            tmp_path / "chapter.ipynb", tmp_path / "bad.ipynb", parameters={"prfile": "ci"}, **run
        )


@pytest.mark.slow
def test_chapter05_runs_with_a_valid_subset_of_solvers(tmp_path, monkeypatch):
    """Without the ILP there is no gap to it, and without Kernighan-Lin the chapter still runs it (its pipeline's)."""
    papermill = pytest.importorskip("papermill")
    monkeypatch.setenv("NSEM_PROFILE", "ci")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    chapter = ROOT / "notebooks" / "05_multicut_inference.ipynb"
    executed = papermill.execute_notebook(
        chapter, tmp_path / "05.ipynb", parameters={"profile": "ci", "solvers": ["gaec", "fusion"]},
        kernel_name="python3", progress_bar=False, cwd=str(ROOT / "notebooks"),
    )  # fmt: skip
    outputs = [output for cell in executed.cells for output in cell.get("outputs", [])]
    text = "".join(output.get("text", "") + output.get("data", {}).get("text/plain", "") for output in outputs)
    assert "gaec" in text and "fusion" in text and "gap_to_ilp" not in text
