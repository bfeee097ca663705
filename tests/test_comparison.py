"""Chapter 01's network comparison: the balanced beta, the runs on both networks, quantisation, the choice."""

import json
from dataclasses import replace

import numpy as np
import pytest

from helpers import data
from helpers.style import comparison, engine

SIZE = 32
PAIRS = [data.REPORT_EXAMPLES[0]]


@pytest.fixture(scope="module")
def contents():
    return {photo: data.load_photo(photo, SIZE) for photo, _ in PAIRS}


def test_quantise_keeps_256_levels_and_a_heavy_tailed_layer_within_a_few_percent():
    rng = np.random.default_rng(0)
    weights = rng.standard_t(3, size=(64, 32, 3, 3)).astype(np.float32)  # heavy-tailed, as VGG kernels are
    quantised = comparison.quantise(weights)
    assert quantised.shape == weights.shape and len(np.unique(quantised)) <= 256
    error = np.sqrt(np.mean((quantised - weights) ** 2) / np.mean(weights**2))
    assert error < 0.03  # quantile-placed centroids (equal counts) leave about 7 % here
    order = np.argsort(weights.ravel())
    assert np.all(np.diff(quantised.ravel()[order]) >= 0)  # nearest centroid: the order of the weights is kept
    few = rng.choice(np.linspace(-1, 1, 100), size=5000).astype(np.float32)
    np.testing.assert_array_equal(comparison.quantise(few), few)  # fewer values than levels: nothing changes


def test_balanced_beta_is_the_reference_for_the_same_network_and_scales_for_vgg19(contents):
    reference = engine.StyleSettings(beta=1e-5)
    same = comparison.balanced_beta(reference, "hed", contents, PAIRS)
    assert same["content_scale"] == pytest.approx(1) and same["beta"] == pytest.approx(1e-5)
    other = comparison.balanced_beta(reference, "vgg19", contents, PAIRS)
    assert other["content_scale"] > 1 and other["style_scale"] > 1  # VGG19's features are larger
    assert other["beta"] == pytest.approx(1e-5 * other["content_scale"] / other["style_scale"])
    with pytest.raises(ValueError, match="at least one"):
        comparison.balanced_beta(reference, "vgg19", contents, [])


def test_compare_networks_runs_both_on_the_same_pairs_and_checks_reused_results(contents, tmp_path):
    hed = engine.StyleSettings()
    settings = {"hed": hed, "vgg19": replace(hed, source="vgg19", beta=1e-4)}
    known = {PAIRS[0]: engine.stylize(contents[PAIRS[0][0]], PAIRS[0][1], 3, hed)}
    compared = comparison.compare_networks(
        contents, PAIRS, 3, settings, reuse={"hed": known}, progress=False, timing_steps=2, timing_rounds=1
    )
    assert compared.results["hed"][PAIRS[0]] is known[PAIRS[0]]  # reused, not run again
    assert compared.record["timing"] == {"pair": list(PAIRS[0]), "steps": 2, "rounds": 1}
    vgg19 = compared.results["vgg19"][PAIRS[0]]
    assert vgg19.settings["vgg"] == "vgg19" and vgg19.steps == 3
    for network in settings:
        numbers = compared.record["networks"][network]
        run = numbers["runs"][0]
        assert run["style_relative"] == pytest.approx(run["style_final"] / run["style_start"])
        assert 0 < run["content_departure"] < 1  # three steps leave x far nearer the photo than the painting
        assert 0 < numbers["style_relative_geomean"] < 1  # three steps already lower the style loss
        assert compared.relative_style(network)[PAIRS[0]][0] == 1 and numbers["seconds_per_step_median"] > 0
    choice = comparison.choose_default(compared.record)
    assert choice["network"] in settings and "time per step" in choice["reason"]
    comparison.write_comparison({"comparison": compared.record, "choice": choice}, tmp_path / "c.json")
    assert json.loads((tmp_path / "c.json").read_text())["choice"]["network"] == choice["network"]
    with pytest.raises(ValueError, match="reused result"):
        comparison.compare_networks(contents, PAIRS, 4, settings, reuse={"hed": known}, progress=False)


def test_choose_default_follows_its_rule():
    def record(style, seconds):
        return {
            "networks": {
                "hed": {"style_relative_geomean": 0.1, "seconds_per_step_median": 1.0},
                "vgg19": {"style_relative_geomean": style, "seconds_per_step_median": seconds},
            }
        }

    assert comparison.choose_default(record(0.05, 1.4))["network"] == "vgg19"
    assert comparison.choose_default(record(0.2, 1.0))["network"] == "hed"  # less style reached
    assert comparison.choose_default(record(0.05, 2.0))["network"] == "hed"  # too slow


def test_quantisation_effect_is_small_on_the_hed_network(contents):
    effect = comparison.quantisation_effect(contents, PAIRS, engine.StyleSettings())
    assert 0 < effect["weight_error_relative"] < 0.05
    assert effect["gradient_cosine_min"] > 0.95 and len(effect["pairs"]) == 1
