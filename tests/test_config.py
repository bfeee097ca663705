"""The configuration: argument > environment variable > automatic choice, returned as a value."""

from __future__ import annotations

import pytest

from helpers import config
from helpers.paths import FIGURES, RESULTS


def test_explicit_argument_beats_environment(monkeypatch):
    monkeypatch.setenv(config.PROFILE_ENV, "reduced")
    assert config.select("ci").profile == "ci"
    assert config.select().profile == "reduced"


def test_automatic_choice_follows_the_hardware(monkeypatch):
    monkeypatch.delenv(config.PROFILE_ENV, raising=False)
    monkeypatch.setattr(config, "cuda_available", lambda: False)
    chosen = config.select()
    assert chosen.profile == "reduced" and chosen.device == "cpu"
    monkeypatch.setattr(config, "cuda_available", lambda: True)
    chosen = config.select()
    assert chosen.profile == "full" and chosen.device == "cuda"


def test_profiles_grow_in_size():
    ci, reduced, full = (config.select(name) for name in ("ci", "reduced", "full"))
    assert len(ci.style.slices) < len(reduced.style.slices) <= len(full.style.slices) == 30
    assert ci.segmentation.rf_trees < full.segmentation.rf_trees == 200
    assert full.style.steps == (75, 150) and len(full.style.styles) == 24
    assert set(full.segmentation.train_slices) | set(full.segmentation.test_slices) == set(range(30))
    assert not set(full.experiments.styles) & set(full.experiments.heldout_styles)


def test_unknown_profile_is_reported():
    with pytest.raises(ValueError, match="unknown profile 'huge'.*NSEM_PROFILE"):
        config.select("huge")


def test_ci_outputs_never_overwrite_committed_figures_and_results(tmp_path, monkeypatch):
    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path))
    monkeypatch.setenv(config.OUTPUT_ENV, ".")  # as make all runs the chapters
    ci, reduced = config.select("ci"), config.select("reduced")
    assert ci.figures == FIGURES / "ci" and ci.results == RESULTS / "ci"
    assert reduced.figures == FIGURES and reduced.results == RESULTS
    assert ci.cache == tmp_path
    assert ci.result_path("x.json") == RESULTS / "ci" / "x.json"
    assert ci.as_dict()["results"] == "results/ci" and ci.as_dict()["cache"] == str(tmp_path)


def test_an_interactive_run_reads_an_earlier_chapter_s_committed_result(tmp_path, monkeypatch):
    monkeypatch.setenv(config.OUTPUT_ENV, str(tmp_path))
    interactive = config.select("reduced")
    assert interactive.earlier_result("flyem.json") == RESULTS / "flyem.json"  # committed, not in this run's folder
    (interactive.result_path("flyem.json")).write_text("{}")
    assert interactive.earlier_result("flyem.json") == tmp_path / "results" / "flyem.json"
    assert interactive.earlier_result("nothing.json") is None


def test_select_is_pure():
    """Selecting one profile changes nothing another selection sees, and the value cannot be changed."""
    before = config.select("reduced")
    config.select("ci")
    assert config.select("reduced") == before
    with pytest.raises(AttributeError):
        before.profile = "ci"  # type: ignore[misc]


def test_chapter06_forests_keep_the_reduced_results_and_check_their_steps():
    for name in ("reduced", "ci"):  # the committed reduced results came from the segmentation chapters' forests
        chosen = config.select(name)
        assert chosen.experiments.forest_trees == chosen.segmentation.rf_trees
        assert chosen.experiments.forest_max_samples == chosen.segmentation.rf_max_samples
    full = config.select("full").experiments
    assert set(full.pixel_rf_steps) <= set(full.steps) and set(full.sweep_steps) <= set(full.steps)
    fields = {**full.__dict__, "sweep_steps": (300,)}
    with pytest.raises(ValueError, match="sweep_steps holds \\[300\\]"):
        config.ExperimentWork(**fields)
    with pytest.raises(ValueError, match="forest_trees"):
        config.ExperimentWork(**{**full.__dict__, "forest_trees": 0})
