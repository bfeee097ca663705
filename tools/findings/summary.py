"""The findings' opening: the answer in three sentences and the key figure's caption, all from the results files."""

from __future__ import annotations

from helpers.unet.prose import GROUP_NAMES, family_rows, verdict

from .sections import STYLE_WORDS, family_comparisons, matching_row

SHIFT_WORDS = {"shifts": "appearance shifts", "unseen": "unseen painting styles"}


def _names(words: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" and {words[-1]}"


def classical(document: dict) -> str:
    """Sentence 1: the classical pipeline on clean test slices (the confirmatory family of chapter 06).

    Args:
        document: ``results/scenarios_summary.json``.

    Returns:
        One sentence.
    """
    clean = family_comparisons(document, "scenarios on clean slices")
    supported = [row for row in clean if row["supported"]]
    n_slices = int(min(row["n_slices"] for row in clean))
    pipeline = "the classical pipeline (Frangi filter, watershed, edge random forest, multicut)"
    if not supported:
        return (
            f"Training {pipeline} on stylised EM slices changes neither its Rand error nor its VI on clean test "
            f"slices: none of the {len(clean)} confirmatory comparisons with the original training set holds after "
            f"Holm's correction ({n_slices} test slices), so the report's \"no clear improvement\" stands."
        )
    words = _names([f"{row['scenario']} ({row['pipeline']}, {row['metric'].replace('_', ' ')})" for row in supported])
    return (
        f"Training {pipeline} on stylised EM slices changes its error on clean test slices in "
        f"{len(supported)} of {len(clean)} confirmatory comparisons with the original training set after Holm's "
        f"correction ({n_slices} test slices): {words}."
    )


def robust(document: dict) -> str:
    """Sentence 2: the classical pipeline under appearance shifts and unseen styles (the robustness family).

    Args:
        document: ``results/scenarios_summary.json``.

    Returns:
        One sentence; only the scenarios that train on paintings count as style augmentation.
    """
    family = family_comparisons(document, "robustness")
    styled = [row for row in family if row["scenario"] in STYLE_WORDS]
    parts = []
    for test, words in SHIFT_WORDS.items():
        rows = [row for row in styled if row["test"] == test]
        better = [row for row in rows if row["supported"] and row["mean_diff"] < 0]
        parts.append(f"under {words} in {len(better)} of {len(rows)}")
    plain_row = matching_row(family, scenario="appearance_aug", test="shifts")
    strongest = min((row for row in styled if row["test"] == "shifts"), key=lambda row: row["mean_diff"])
    baseline = ""
    if plain_row:
        relation = "as much or more" if plain_row["mean_diff"] <= strongest["mean_diff"] else "less"
        baseline = (
            f"; plain blur, gamma and contrast augmentation lowers that rise under shifts {relation} "
            f"({plain_row['mean_diff']:+.3f} against {strongest['mean_diff']:+.3f} with the best style scenario)"
        )
    return (
        "Stylised training does make the Rand error of that pipeline rise less when the test slices change "
        f"appearance: {' and '.join(parts)} confirmatory comparisons{baseline}."
    )


def learned(document: dict) -> str:
    """Sentence 3: a learned boundary detector (chapter 08's confirmatory comparisons of styles vs originals).

    Args:
        document: ``results/unet.json``.

    Returns:
        One sentence.
    """
    rows, supported = family_rows(document, "styles vs originals")
    groups = list(dict.fromkeys(row["group"] for row in rows))
    by_word: dict[str, list[str]] = {"better": [], "worse": [], "none": []}
    for group in groups:
        words = {verdict(row) for row in rows if row["group"] == group and row["supported"]}
        key = "worse" if "worse" in words else "better" if "better" in words else "none"
        by_word[key].append(GROUP_NAMES.get(group, group))
    clauses = []
    if by_word["better"]:
        clauses.append(f"raise its foreground V_rand on {_names(by_word['better'])}")
    if by_word["worse"]:
        clauses.append(f"lower it on {_names(by_word['worse'])}")
    if by_word["none"]:
        clauses.append(f"{'but ' if clauses else ''}change nothing clear on {_names(by_word['none'])}")
    return (
        f"For a learned boundary detector (a small U-Net, profile `{document['profile']}`), stylised training "
        f"patches {' '.join(clauses)} ({len(supported)} of {len(rows)} confirmatory comparisons hold after Holm's "
        "correction)."
    )


def caption(document: dict) -> str:
    """The key figure's caption: what it shows and what its two metrics mean.

    Args:
        document: ``results/scenarios_summary.json``.

    Returns:
        One italic Markdown paragraph.
    """
    arm = document["arms"][document["main_arm"]]
    engine = {"feedforward": "feed-forward style network", "gatys": "Gatys style transfer"}[arm["engine"]]
    return (
        f"*The report's Figure 16, re-done (chapter 06, profile `{document['profile']['profile']}`, {engine}): the "
        f"mean test error of each training scenario with its 95 % interval over {arm['n_slices']} test slices, for "
        "the Frangi pipeline and for a pixel random forest as boundary map. Left, the adapted Rand error: one minus "
        "the adapted Rand F-score of the segmentation against the ground truth. Right, the variation of "
        "information in bits: the conditional entropy of the segmentation given the ground truth (splits) plus "
        "that of the ground truth given the segmentation (merges). Lower is better; 0 is perfect.*"
    )
