"""Intensity normalisation: the functions, the pipeline option (default: unchanged), and training across datasets."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import data
from helpers.segmentation import cross_dataset, pipeline
from helpers.segmentation.settings import PipelineSettings


@pytest.fixture(scope="module")
def isbi_crop() -> data.EMStack:
    return data.isbi_stack([0, 1, 24], crop=96)


def test_none_returns_the_slice_itself_and_is_the_default():
    raw = np.arange(16, dtype=np.uint8).reshape(4, 4)
    assert data.normalize_intensity(raw) is raw
    assert PipelineSettings().intensity == "none"
    assert set(data.NORMALIZATIONS) == {"none", "percentile"}


def test_percentile_stretch_maps_any_dtype_into_the_unit_range():
    rng = np.random.default_rng(0)
    deep = rng.integers(1000, 5000, (64, 64)).astype(np.uint16)
    stretched = data.normalize_intensity(deep, "percentile")
    assert stretched.dtype == np.float32 and stretched.min() == 0.0 and stretched.max() == 1.0
    low, high = np.percentile(deep, (1, 99.8))
    np.testing.assert_allclose(stretched[deep == deep.max()], 1.0)
    assert np.isclose(np.mean(deep <= low), np.mean(stretched == 0.0), atol=0.01)
    assert np.all(data.normalize_intensity(np.full((4, 4), 7.0), "percentile") == 0.0)


@pytest.mark.parametrize("method", ["percentile"])
def test_a_contrast_change_leaves_normalised_slices_and_edge_features_unchanged(isbi_crop, method):
    raw = isbi_crop.raw[0]
    shifted = raw / 255.0 * 0.6 + 0.15  # another microscope: greyer, brighter
    settings = PipelineSettings(intensity=method)
    before = pipeline.graph_data(raw, settings=settings)
    after = pipeline.graph_data(shifted, settings=settings)
    assert before.n_nodes == after.n_nodes
    np.testing.assert_allclose(after.features, before.features, rtol=1e-3, atol=1e-4)
    plain = [pipeline.graph_data(image, settings=PipelineSettings()) for image in (raw, shifted)]
    assert plain[0].n_nodes != plain[1].n_nodes or not np.allclose(plain[0].features, plain[1].features, atol=0.05)


def test_16_bit_slices_run_through_the_pipeline_with_normalisation(isbi_crop):
    deep = [(image.astype(np.uint16) * 200 + 1000) for image in isbi_crop.raw]
    settings = PipelineSettings(intensity="percentile", rf_trees=5)
    result = pipeline.run(deep[:2], isbi_crop.membranes[:2], deep[2:], isbi_crop.membranes[2:], settings, False)
    assert result.scores[0]["rand_error"] < 0.9
    with pytest.raises(ValueError, match="dtype uint16"):  # without it, the pixel contract still holds
        pipeline.graph_data(deep[0])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: data.normalize_intensity(np.zeros((4, 4)), "zscore"), ValueError, "unknown intensity normalisation"),
        (lambda: data.normalize_intensity(np.full((4, 4), np.nan), "percentile"), ValueError, "NaN or inf"),
        (lambda: data.normalize_intensity(np.zeros((4, 4), bool), "percentile"), ValueError, "must hold numbers"),
        (lambda: PipelineSettings(intensity="zscore"), ValueError, "unknown intensity normalisation 'zscore'"),
    ],
    ids=["unknown method", "nan", "bool", "unknown setting"],
)
def test_bad_normalisation_requests_are_refused(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_cross_dataset_runs_every_training_set_and_normalisation_against_the_baselines(isbi_crop):
    flyem = data.load_flyem([0, 15], crop=96)
    settings = PipelineSettings(rf_trees=5)
    runs = cross_dataset.cross_dataset(
        {"ISBI 2012": isbi_crop, "FlyEM": flyem.take([0])}, flyem.take([1]), settings, progress=False
    )
    assert len(runs.rows) == 2 * (2 + len(cross_dataset.BASELINES))
    means = cross_dataset.summary(runs.rows).set_index(["train", "intensity", "method"])
    assert means.loc[("-", "none", "all merged"), "n_segments"] == 1
    assert means.loc[("-", "percentile", "best reachable"), "rand_error"] < 0.3
    assert set(runs.forests) == {(n, i) for n in ("ISBI 2012", "FlyEM") for i in ("none", "percentile")}
    with pytest.raises(ValueError, match="at least one training set"):
        cross_dataset.cross_dataset({}, flyem, settings)
