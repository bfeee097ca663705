"""The profile switch: argument > environment variable > automatic choice."""

from __future__ import annotations

import pytest

from helpers import profile


def test_explicit_argument_beats_environment(monkeypatch):
    monkeypatch.setenv(profile.ENV_VAR, "reduced")
    assert profile.select("ci").name == "ci"
    assert profile.select().name == "reduced"


def test_automatic_choice_follows_the_hardware(monkeypatch):
    monkeypatch.delenv(profile.ENV_VAR, raising=False)
    monkeypatch.setattr(profile, "_cuda_available", lambda: False)
    chosen = profile.select()
    assert chosen.name == "reduced" and chosen.device == "cpu"
    monkeypatch.setattr(profile, "_cuda_available", lambda: True)
    chosen = profile.select()
    assert chosen.name == "full" and chosen.device == "cuda"


def test_profiles_grow_in_size():
    ci, reduced, full = (profile.PROFILES[n] for n in ("ci", "reduced", "full"))
    assert len(ci.stylize_slices) < len(reduced.stylize_slices) <= len(full.stylize_slices) == 30
    assert ci.rf_trees < full.rf_trees == 200
    assert full.stylize_steps == (75, 150) and len(full.stylize_styles) == 24
    assert set(full.train_slices) | set(full.test_slices) == set(range(30))


def test_unknown_profile_is_reported():
    with pytest.raises(ValueError, match="unknown profile 'huge'.*NSEM_PROFILE"):
        profile.select("huge")


def test_ci_outputs_never_overwrite_committed_figures_and_results():
    from helpers import paths

    try:
        profile.select("ci")
        assert paths.figure_path("x.png").parent == paths.FIGURES / "ci"
        assert paths.result_path("x.json").parent == paths.RESULTS / "ci"
        profile.select("reduced")
        assert paths.figure_path("x.png").parent == paths.FIGURES
        assert paths.result_path("x.json").parent == paths.RESULTS
    finally:
        paths.set_active_profile(None)
