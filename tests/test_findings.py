"""The README's "What we found" is what results/ says (tools.findings), never typed by hand."""

from __future__ import annotations

from pathlib import Path

from helpers.paths import RESULTS
from tools import findings
from tools.findings.results import load
from tools.findings.sections import _number, _slices


def test_readme_findings_match_the_results():
    readme = findings.README.read_text()
    expected = findings.replace_section(readme, findings.render(findings.load()))
    assert readme == expected, "README.md's findings differ from results/: run `python -m tools.findings`"


def test_no_results_no_findings(tmp_path: Path):
    assert findings.render(load(tmp_path)) == "\n"


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
    """A results/unet.json of made-up rows: styles raise V_rand on FlyEM by 0.05 on every slice, nothing else moves."""
    import pandas as pd

    from helpers.unet.analysis import METRICS, choose_target, results_record

    arms = [("original/none", "membranes"), ("original/none", "boundaries"), ("style/none", "membranes"),
            ("original/percentile", "membranes"), ("style/percentile", "membranes")]  # fmt: skip
    rows = pd.DataFrame([
        {"arm": arm, "target": target, "seed": seed, "condition": condition, "slice": index, "trivial": False,
         **dict.fromkeys(METRICS, 0.5),
         "v_rand": 0.9 + 0.01 * index + 0.001 * seed + (0.05 if arm == "style/none" and condition == "flyem" else 0),
         "vi": 0.7 + 0.01 * index}
        for arm, target in arms for seed in range(2) for condition in ("clean", "flyem") for index in range(6)
    ])  # fmt: skip
    placement = {"shift": 1, "rand_error": 0.05, "vi": 0.33}
    return results_record({"profile": "ci"}, rows, choose_target(rows), placement, {"run_s": 1.0})


def test_unet_findings_claim_only_what_a_confirmatory_family_supports():
    from tools.findings.beyond import unet

    bullet = unet(_unet_document())
    assert bullet.startswith("* **A learned boundary detector (chapter 08, profile `ci`).**")
    assert "with membranes as target (6 slices x 2 seeds; goal at least 0.97: not reached" in bullet
    assert "A 1 px shift of the dense ground truth against itself already costs 0.33 bits" in bullet
    supported = '"styles vs originals" supports 1 of its 4 comparisons (style/none vs original/none on FlyEM slices'
    assert supported in bullet
    assert "foreground V_rand +0.050 [+0.050, +0.050]" in bullet
    assert '"target" supports none of its 1 comparisons' in bullet


def _bound_document(lowest_vi: float) -> dict:
    """A results/unet_bound.json of made-up means: two U-Net readings, two watershed settings."""
    return {
        "profile": "ci", "measured_slices": [18, 19, 20],
        "variants": {"profile": {"mean": {"reachable_vi": lowest_vi + 0.1}},
                     "width x2": {"mean": {"reachable_vi": lowest_vi}}},
        "watershed_grid": [{"reachable_vi": lowest_vi + 0.05}, {"reachable_vi": lowest_vi + 0.2}],
        "membrane_labels_as_map": {"reachable_vi": 0.17},
    }  # fmt: skip


def test_unet_bound_finding_gives_the_ranges_and_the_placement_reference():
    from tools.findings.beyond import unet_bound

    text = unet_bound(_bound_document(0.5), {"shift": 1, "vi": 0.33})
    assert "On training slices 18-20" in text and "VI of 0.50-0.60 bits over 2 readings" in text
    assert "lowest: width x2, 0.50) and 0.55-0.70 bits over 2 distance-watershed settings" in text
    assert "labels as the map allow 0.17 bits" in text
    assert "A 1 px shift of the dense ground truth against itself costs 0.33 bits" in text
    assert "shift" not in unet_bound(_bound_document(0.5))


def test_the_three_sentences_follow_the_families():
    import copy
    import json

    from tools.findings.summary import classical, learned, robust

    document = json.loads((RESULTS / "scenarios_summary.json").read_text())
    clean = [row for row in document["comparisons"] if row["family"] == "scenarios on clean slices"]
    for row in clean:
        row["supported"] = False
    assert "none of the" in classical(document) and "no clear improvement" in classical(document)
    changed = copy.deepcopy(document)
    first = next(row for row in changed["comparisons"] if row["family"] == "scenarios on clean slices")
    first["supported"] = True
    assert f"in 1 of {len(clean)} confirmatory comparisons" in classical(changed)
    assert f"{first['scenario']} ({first['pipeline']}" in classical(changed)
    for row in changed["comparisons"]:
        if row["family"] == "robustness":
            row["supported"] = False
    assert "under appearance shifts in 0 of" in robust(changed)
    assert learned(_unet_document()).count("raise its foreground V_rand on FlyEM slices but change nothing clear on")
    assert "(1 of 4 confirmatory comparisons hold" in learned(_unet_document())
