"""The README's "What we found" is what results/ says (helpers.findings), never typed by hand."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import findings
from helpers.findings.results import load
from helpers.findings.sections import _number, _slices
from helpers.paths import RESULTS


def test_readme_findings_match_the_results():
    readme = findings.README.read_text()
    expected = findings.replace_section(readme, findings.render(findings.load()))
    assert readme == expected, "README.md's findings differ from results/: run `python -m helpers.findings`"


def test_no_results_no_findings(tmp_path: Path):
    assert findings.render(load(tmp_path)) == "\n"


def test_earlier_layout_is_read_as_the_current_one(tmp_path: Path):
    record = {
        "pipeline": "frangi", "steps": 75, "scenario": "full", "condition": "clean", "n": 4,
        "rand_error_mean": 0.2, "rand_error_low": 0.1, "rand_error_high": 0.3, "rand_error_vs_original_mean_diff": 0.01,
        "rand_error_vs_original_diff_low": -0.02, "rand_error_vs_original_diff_high": 0.04,
        "vi_mean": 1.0, "vi_low": 0.9, "vi_high": 1.1,
    }  # fmt: skip
    profile = {
        "name": "reduced", "device": "cpu", "stylize_slices": [0, 3], "stylize_crop": 128, "stylize_steps": [75],
        "seg_crop": None, "test_slices": [24], "exp_styles": [3, 10], "heldout_styles": [13], "exp_steps": [75],
        "n_folds": 2, "seeds": [0],
    }  # fmt: skip
    document = {"records": [record], "style_effects": [{"style": 3, "delta_rand_error": 0.5}], "profile": profile}
    (tmp_path / "scenarios_summary.json").write_text(json.dumps(document))
    current = load(tmp_path).scenarios
    rows = {row["metric"]: row for row in current["summary"]}
    assert rows["rand_error"]["mean"] == 0.2 and rows["rand_error"]["diff_high"] == 0.04
    assert rows["vi"]["mean_diff"] is None
    assert current["style_effects"][0]["mean_diff"] == 0.5
    assert current["profile"]["experiments"]["styles"] == [3, 10]


def test_number_words():
    assert _slices([24, 25, 26]) == "slices 24-26"
    assert _slices([24]) == "slice 24"
    assert _slices([1, 5]) == "slices 1, 5"
    assert _number(1e-6) == "1e-6"
    assert _number(33771280.0) == "3.4e7"


def test_findings_name_their_files():
    text = findings.render(findings.load())
    for name in ("scenarios_summary.json", "segmentation_baseline.json"):
        if (RESULTS / name).exists():
            assert f"results/{name}" in text


def _unet_document() -> dict:
    """A results/unet.json of made-up rows: styles lower the Frangi forest's error on FlyEM by ~0.1, nothing else."""
    import pandas as pd

    from helpers.unet.analysis import _records, arm_means, comparisons

    arms = [prefix + arm for prefix in ("", "frangi:") for arm in ("original/none", "style/none", "original/percentile",
                                                                  "style/percentile")]  # fmt: skip
    rows = pd.DataFrame([
        {"arm": arm, "seed": 0, "condition": condition, "slice": index,
         "rand_error": 0.2 + 0.01 * index - (0.1 if arm == "frangi:style/none" and condition == "flyem" else 0.0)
         + 0.001 * (index % 2) * (arm.count("style") - 0.5), "vi": 1.0, "v_rand": 0.9}
        for arm in arms for condition in ("clean", "flyem") for index in range(6)
    ])  # fmt: skip
    return {
        "profile": "ci", "config": {"segmentation": {"test_slices": [24, 25]}},
        "means": _records(arm_means(rows, ["rand_error", "vi", "v_rand"])),
        "comparisons": _records(comparisons(rows, metrics=["rand_error"])),
    }  # fmt: skip


def test_unet_findings_say_where_styles_help_with_intervals():
    from helpers.findings.beyond import style_table, unet, unet_conclusion

    document = _unet_document()
    conclusion = unet_conclusion(document)
    assert "lowers the error on Frangi forest on FlyEM slices (-0.099 [" in conclusion
    assert (
        "Change of dataset (FlyEM, trained on ISBI only), Frangi forest:** styles change the adapted Rand error by -0.0"
        in conclusion
    )
    assert "(goals: at most 0.08 and 0.6)" in conclusion and "slices 24-25" in conclusion
    table = style_table(document).splitlines()
    assert table[0] == "| detector | question | clean test slices | FlyEM slices |"
    assert len(table) == 2 + 2 * 3  # U-Net and Frangi forest, three questions each
    bullet = unet(document)
    assert bullet.startswith("* **A learned boundary detector (chapter 08, profile `ci`).**")
    assert "Frangi forest -0.099 [" in bullet and "raise it nowhere" in bullet


def _bound_document(lowest_vi: float) -> dict:
    """A results/unet_bound.json of made-up means: two U-Net readings, two watershed settings."""
    return {
        "profile": "ci", "measured_slices": [18, 19, 20],
        "variants": {"profile": {"mean": {"reachable_vi": lowest_vi + 0.1}},
                     "width x2": {"mean": {"reachable_vi": lowest_vi}}},
        "watershed_grid": [{"reachable_vi": lowest_vi + 0.05}, {"reachable_vi": lowest_vi + 0.2}],
        "membrane_labels_as_map": {"reachable_vi": 0.17},
    }  # fmt: skip


def test_unet_bound_finding_gives_the_ranges_and_what_the_goal_leaves():
    from helpers.findings.beyond import unet_bound

    below = unet_bound(_bound_document(0.5))
    assert "On training slices 18-20" in below and "VI of 0.50-0.60 bits over 2 readings" in below
    assert "lowest: width x2, 0.50) and 0.55-0.70 bits over 2 distance-watershed settings" in below
    assert "labels as the map allow 0.17 bits" in below
    assert "a VI of at most 0.6 bits leaves the edge forest and multicut 0.10 bits above the lowest bound" in below
    above = unet_bound(_bound_document(0.75))
    assert "the lowest bound is already 0.15 bits above a VI of 0.6 bits" in above
