"""Another lab's data end to end: grey-edged masks, slice and window choices, transfer with any boundary, outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile
from own_data_images import write_png
from PIL import Image

from helpers import config as configuration
from helpers import data
from helpers.data import DataError
from helpers.paths import ROOT
from helpers.segmentation import cross_dataset
from helpers.segmentation.pixel_classifier import membrane_probability
from helpers.segmentation.settings import PipelineSettings
from helpers.unet import analysis
from helpers.unet.material import FLYEM, load_material


@pytest.fixture(scope="module")
def isbi() -> tuple[np.ndarray, np.ndarray]:
    """ISBI slices 0-3 (raw, labels: 0 membrane, 255 cell)."""
    return data.load_training([0, 1, 2, 3])


def anti_aliased(labels: np.ndarray, factor: int = 4) -> np.ndarray:
    """White membranes with grey edges: each pixel the mean of a window of the 4x finer mask shifted by 1 fine pixel."""
    fine = np.kron(255 - labels, np.ones((factor, factor))).astype(float)
    shifted = np.pad(fine, ((0, 1), (0, 1)), mode="edge")[1:, 1:]
    height, width = labels.shape
    return shifted.reshape(height, factor, width, factor).mean(axis=(1, 3)).round().astype(np.uint8)


@pytest.fixture
def grey_folder(tmp_path, isbi) -> tuple[Path, Path, np.ndarray]:
    """A folder of raw PNGs and one of anti-aliased white-membrane PNG masks (192 px crops of ISBI 0-2)."""
    raw, labels = isbi
    (tmp_path / "raw").mkdir()
    (tmp_path / "masks").mkdir()
    masks = []
    for i in range(3):
        write_png(tmp_path / "raw" / f"slice{i}.png", raw[i, :192, :192])
        masks.append(anti_aliased(labels[i, :192, :192]))
        write_png(tmp_path / "masks" / f"mask{i}.png", masks[-1])
    return tmp_path / "raw", tmp_path / "masks", np.stack(masks)


# ----------------------------------------------------------------------------- 1: grey masks and polarity hints


def test_a_grey_edged_mask_is_refused_naming_threshold_and_loads_with_it(grey_folder, isbi):
    raw, masks, grey = grey_folder
    assert len(np.unique(grey)) > 10, "the scaled masks hold grey edge values"
    with pytest.raises(DataError, match=r"not a binary mask: found \d+ values.*pass threshold=128"):
        data.load_em_stack(raw, masks, membrane="bright")
    em = data.load_em_stack(raw, masks, membrane="bright", threshold=128)
    np.testing.assert_array_equal(em.membranes, np.where(grey > 128, 0, 255))
    assert em.notes["kind"] == "mask" and em.notes["threshold"] == 128
    original = isbi[1][:3, :192, :192]
    assert np.mean(em.membranes == original) > 0.9  # the thresholded mask is the ISBI mask, up to its edges
    same = data.load_em_stack(raw, masks, membrane=255, threshold=128)  # a grey value: its side of the threshold
    np.testing.assert_array_equal(same.membranes, em.membranes)
    np.testing.assert_array_equal(same.gt, data.dense_ground_truth(em.membranes))
    one_thread = data.load_em_stack(raw, masks, membrane="bright", threshold=128, workers=1)
    np.testing.assert_array_equal(
        one_thread.gt, data.load_em_stack(raw, masks, membrane=255, threshold=128, workers=3).gt
    )
    with pytest.raises(ValueError, match="workers must be a whole number"):
        data.load_em_stack(raw, masks, membrane="bright", threshold=128, workers=0)


def test_threshold_errors_name_the_threshold(grey_folder):
    raw, masks, grey = grey_folder
    with pytest.raises(DataError, match=r"threshold=255 leaves every pixel .* at or below it"):
        data.membrane_labels(grey, "bright", threshold=255)
    with pytest.raises(DataError, match=r"threshold=128 reads .* kind='instances'"):
        data.load_em_stack(raw, masks, kind="instances", threshold=128)
    with pytest.raises(TypeError, match="threshold must be a number"):
        data.membrane_labels(grey, "bright", threshold="128")


def test_the_jpeg_refusal_names_threshold_too(tmp_path, isbi):
    Image.fromarray(isbi[1][0]).save(tmp_path / "mask.jpg", quality=75)
    lossy = np.asarray(Image.open(tmp_path / "mask.jpg"))
    with pytest.raises(DataError, match=r"lossy compression.*threshold=128"):
        data.load_em_stack(isbi[0][0], lossy)
    em = data.load_em_stack(isbi[0][0], lossy, membrane="dark", threshold=128)
    assert np.mean(em.membranes[0] == isbi[1][0]) > 0.99


@pytest.mark.parametrize(
    ("mask", "wrong", "suggested"),
    [
        (lambda labels: labels == 0, False, "membrane=True"),  # boolean, True = membrane
        (lambda labels: np.where(labels == 0, 7, 3).astype(np.uint8), 3, "membrane=7"),
    ],
    ids=["boolean", "values 3 and 7"],
)
def test_an_inverted_polarity_is_fixed_in_the_values_the_mask_holds(isbi, mask, wrong, suggested):
    raw, labels = isbi
    with pytest.raises(DataError, match="look inverted") as error:
        data.load_em_stack(raw[0], mask(labels[0]), membrane=wrong)
    assert suggested in str(error.value) and "membrane=255" not in str(error.value)
    right = data.load_em_stack(raw[0], mask(labels[0]), membrane=not wrong if isinstance(wrong, bool) else 7)
    np.testing.assert_array_equal(right.membranes[0], labels[0])


# ----------------------------------------------------------------------------- 2: z and crop windows


def test_z_selects_the_same_slices_of_files_and_arrays(tmp_path, isbi):
    raw, labels = isbi
    tifffile.imwrite(tmp_path / "raw.tif", raw[:, :96, :96], photometric="minisblack")
    chosen = data.load_em_stack(tmp_path / "raw.tif", labels[:, :96, :96], membrane=0, z=[1, 3])
    both_arrays = data.load_em_stack(raw[:, :96, :96], labels[:, :96, :96], membrane=0, z=slice(1, None, 2))
    np.testing.assert_array_equal(chosen.raw, raw[[1, 3], :96, :96])
    np.testing.assert_array_equal(chosen.membranes, labels[[1, 3], :96, :96])
    np.testing.assert_array_equal(chosen.gt, both_arrays.gt)
    with pytest.raises(IndexError, match=r"z=\[1, 3\]: slice indices \[3\] are outside 0..1 of labels \(array\)"):
        data.load_em_stack(tmp_path / "raw.tif", labels[[1, 3], :96, :96], membrane=0, z=[1, 3])
    with pytest.raises(DataError, match=r"z=\[0, 1\] selects the same slices of both"):
        data.load_em_stack(tmp_path / "raw.tif", labels[:2, :64, :64], membrane=0, z=[0, 1])
    with pytest.raises(DataError, match=r"z=\[0\] selects slices, but labels \(array\) is one 2D image"):
        data.load_em_stack(raw[:1, :96, :96], labels[0, :96, :96], membrane=0, z=[0])
    with pytest.raises(IndexError, match=r"\[7\] are outside 0..3"):
        data.load_em_stack(raw, labels, membrane=0, z=[7])


def test_a_crop_window_at_an_offset_cuts_raw_and_labels_alike(tmp_path, isbi):
    raw, labels = isbi
    tifffile.imwrite(tmp_path / "labels.tif", labels, photometric="minisblack")
    em = data.load_em_stack(raw, tmp_path / "labels.tif", membrane=0, crop=(160, 200), offset=(100, 250))
    np.testing.assert_array_equal(em.raw, raw[:, 100:260, 250:450])
    np.testing.assert_array_equal(em.membranes, labels[:, 100:260, 250:450])
    np.testing.assert_array_equal(em.gt, data.dense_ground_truth(labels[:, 100:260, 250:450]))
    assert em.notes["crop"] == "rows 100..259, columns 250..449"
    square = data.load_em_stack(raw, labels, membrane=0, crop=128, offset=(384, 0))
    np.testing.assert_array_equal(square.raw, raw[:, 384:, :128])
    assert "crop" not in data.load_em_stack(raw, labels, membrane=0).notes
    with pytest.raises(ValueError, match=r"crop=\(160, 200\) from offset=\(400, 0\) reaches beyond .* 512 x 512"):
        data.load_em_stack(raw, labels, membrane=0, crop=(160, 200), offset=(400, 0))
    with pytest.raises(ValueError, match=r"crop=600 from offset=\(0, 0\) reaches beyond"):
        data.load_em_stack(raw, labels, membrane=0, crop=600)
    with pytest.raises(ValueError, match="offset must be a pair"):
        data.load_em_stack(raw, labels, membrane=0, crop=64, offset=5)


# ----------------------------------------------------------------------------- 3: transfer with a pixel classifier


def test_cross_dataset_trains_the_pixel_classifier_on_each_training_set():
    lab_a = data.isbi_stack([0, 1, 2], crop=96)
    flyem = data.load_flyem([0, 1, 15], crop=96)
    mine, test = flyem.take([0, 1]), flyem.take([2])
    settings = PipelineSettings(boundary="pixel-rf", rf_trees=10, pixel_trees=4, pixel_folds=2)
    result = cross_dataset.cross_dataset({"lab A": lab_a, "my stack": mine}, test, settings, ("none",), progress=False)
    rows = pd.DataFrame(result.rows)
    assert set(rows["train"]) == {"lab A", "my stack"}  # each set's baselines carry its name: its own superpixels
    assert sorted(rows.groupby("train")["method"].unique().map(sorted).iloc[0]) == sorted(
        ["multicut", *cross_dataset.BASELINES]
    )
    for name in ("lab A", "my stack"):
        classifier = result.pixel_classifiers[name, "none"]
        (graph,) = result.test_graphs[name, "none"]
        np.testing.assert_allclose(graph.boundary, membrane_probability(classifier, test.raw[0]), atol=1e-6)
        no_merges = rows[(rows["train"] == name) & (rows["method"] == "no merges")]
        assert no_merges["n_segments"].tolist() == [graph.n_nodes]  # the baseline of this set's own superpixels
    maps = [result.test_graphs[name, "none"][0].boundary for name in ("lab A", "my stack")]
    assert not np.array_equal(*maps)  # two training sets, two classifiers
    with pytest.raises(ValueError, match="training set 'lab A' has 1 slice, give it at least 2"):
        cross_dataset.cross_dataset({"lab A": lab_a.take([0])}, test, settings, ("none",), progress=False)


def test_cross_dataset_with_a_filter_shares_the_test_graphs_and_baselines():
    lab_a, flyem = data.isbi_stack([0, 1], crop=96), data.load_flyem([0, 15], crop=96)
    settings = PipelineSettings(rf_trees=10)
    result = cross_dataset.cross_dataset(
        {"a": lab_a, "b": flyem.take([0])}, flyem.take([1]), settings, ("none",), False
    )
    rows = pd.DataFrame(result.rows)
    assert list(result.test_graphs) == ["none"] and not result.pixel_classifiers
    assert set(rows[rows["method"] != "multicut"]["train"]) == {"-"}
    with pytest.raises(ValueError, match="'-' names the baselines"):
        cross_dataset.cross_dataset({"-": lab_a}, flyem.take([1]), settings, ("none",), False)


# ----------------------------------------------------------------------------- 4: chapter 08 with any second dataset


def test_chapter_08_material_takes_any_named_dataset(tmp_path):
    flyem = data.load_flyem([0, 15], crop=64)
    mine = data.isbi_stack([5], crop=64)
    material = load_material(tmp_path, [0, 1], [24], 64, (), (), 0, flyem, others={"my-lab": mine})
    conditions = [image.condition for image in material.tests]
    assert conditions.count(FLYEM) == 2 and conditions.count("my-lab") == 1
    (image,) = [image for image in material.tests if image.condition == "my-lab"]
    np.testing.assert_array_equal(image.raw, mine.raw[0])
    only = load_material(tmp_path, [0, 1], [24], 64, (), (), 0, others={"other": flyem})
    assert {image.condition for image in only.tests} >= {"other"} and FLYEM not in {i.condition for i in only.tests}
    for taken in ("clean", "noise", "unseen_style13", "flyem"):
        with pytest.raises(ValueError, match=f"the dataset name '{taken}' is taken"):
            load_material(tmp_path, [0, 1], [24], 64, (), (), 0, flyem, others={taken: mine})


def _forest_rows(condition: str) -> pd.DataFrame:
    """Rows as an edge-forest arm gives them: no U-Net map (no auc, f1), no target, no trivial flag."""
    rng = np.random.default_rng(0)
    return pd.DataFrame([
        {"arm": arm, "seed": seed, "condition": where, "slice": index, "v_rand": 0.8 + 0.01 * index + shift,
         "vi": 1.0 - shift + 0.01 * rng.random()}
        for arm, shift in (("original/none", 0.0), ("style/none", 0.02)) for seed in (0, 1)
        for where in ("clean", condition) for index in range(24, 28)
    ])  # fmt: skip


def test_comparisons_of_forest_rows_compare_what_the_rows_hold():
    rows = _forest_rows("my-lab")
    table = analysis.comparisons(rows, "membranes")
    assert set(table["metric"]) == {"v_rand", "vi"}  # no auc or f1 looked up
    assert set(table["group"]) == {"clean", "my-lab"}  # a second dataset of any name is a group of its own
    primary = table[(table["metric"] == "v_rand") & (table["family"] == "styles vs originals")]
    assert primary["mean_diff"].to_numpy() == pytest.approx([0.02, 0.02]) and (primary["n_slices"] == 4).all()
    assert not (table["arm_target"] != table["reference_target"]).any()  # one target: no target comparison
    means = analysis.arm_means(rows)
    assert set(means["group"]) == {"clean", "my-lab"} and set(means["metric"]) == {"v_rand", "vi"}
    assert analysis.group_of("noise") == "shifts" and analysis.group_of(FLYEM) == FLYEM


# ----------------------------------------------------------------------------- 5: outputs of a run elsewhere


def test_nsem_output_sends_figures_and_results_elsewhere(tmp_path, monkeypatch):
    monkeypatch.delenv(configuration.OUTPUT_ENV, raising=False)
    default = configuration.select("reduced")  # an interactive run: a git-ignored folder
    assert (default.figures, default.results) == (ROOT / "outputs" / "figures", ROOT / "outputs" / "results")
    monkeypatch.setenv(configuration.OUTPUT_ENV, ".")  # make all: the committed folders
    committed = configuration.select("reduced")
    assert (committed.figures, committed.results) == (ROOT / "figures", ROOT / "results")
    monkeypatch.setenv(configuration.OUTPUT_ENV, str(tmp_path / "run"))
    moved = configuration.select("reduced")
    assert moved.result_path("flyem.json") == tmp_path / "run" / "results" / "flyem.json"
    assert moved.figure_path("07_transfer_scores.png").parent.is_dir()
    assert configuration.select("ci").results == tmp_path / "run" / "results" / "ci"  # ci keeps its own folder
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv(configuration.OUTPUT_ENV, "~/elsewhere")
    assert configuration.select("reduced").figures == tmp_path / "elsewhere" / "figures"
    monkeypatch.setenv(configuration.OUTPUT_ENV, "my-runs")
    assert configuration.select("reduced").results == ROOT / "my-runs" / "results"  # relative: to the repository
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv(configuration.OUTPUT_ENV, str(tmp_path / "a-file"))
    with pytest.raises(ValueError, match=r"NSEM_OUTPUT \(.*a-file\) is a file, not a folder"):
        configuration.select("reduced")
