"""The findings of the chapters beyond the report: another EM dataset (07) and a learned boundary detector (08)."""

from __future__ import annotations

from .sections import _slices

UNET_GOALS = {"rand_error": 0.08, "vi": 0.6}  # issue 14: the U-Net pipeline on clean test slices, at most
GROUPS = {"clean": "clean test slices", "shifts": "appearance shifts", "unseen styles": "unseen paintings",
          "flyem": "FlyEM slices"}  # fmt: skip


def _call(row: dict) -> str:
    """``lower`` / ``higher`` / ``no clear change``, from a paired 95% interval of an error."""
    if row["diff_high"] < 0:
        return "lower"
    if row["diff_low"] > 0:
        return "higher"
    return "no clear change"


def own_data(flyem: dict) -> str:
    """Chapter 07 as one Markdown bullet: the FlyEM medulla segmented after training there and on ISBI.

    Args:
        flyem: ``results/flyem.json``.
    """
    means = {(row["train"], row["intensity"], row["method"]): row for row in flyem["mean"]}

    def score(train: str, intensity: str, method: str = "multicut") -> str:
        row = means[(train, intensity, method)]
        return f"{row['rand_error']:.3f} / {row['vi']:.2f}"

    isbi = means[("ISBI 2012", "none", "multicut")]
    n_slices = isbi["n_slices"]
    segments = f"{isbi['n_segments']:g} segment{'' if isbi['n_segments'] == 1 else 's'} per slice"
    return (
        f"* **Another EM dataset needs intensity normalisation.** On {n_slices} FlyEM medulla test slices (chapter 07, "
        f"profile `{flyem['profile']['profile']}`; adapted Rand error / VI in bits), the Frangi pipeline trained on "
        f"FlyEM itself reaches {score('FlyEM', 'none')}. Trained on ISBI it reaches {score('ISBI 2012', 'none')} "
        f"({segments}; all merged: {score('-', 'none', 'all merged')}), and "
        f"{score('ISBI 2012', 'percentile')} once both datasets' intensities are normalised (1st-99.8th percentile). "
        f"No merges: {score('-', 'none', 'no merges')}; best reachable from the superpixels: "
        f"{score('-', 'none', 'best reachable')} (`results/flyem.json`)."
    )


DETECTOR_PREFIXES = {"U-Net": "", "Frangi forest": "frangi:", "pixel forest": "pixel-rf:"}  # arm name prefixes
QUESTIONS = {  # what a paired comparison asks -> (arm, reference), without the detector's prefix
    "styles alone": ("style/none", "original/none"),
    "normalisation alone": ("original/percentile", "original/none"),
    "styles on top of normalisation": ("style/percentile", "original/percentile"),
}


def _comparisons(document: dict, metric: str = "rand_error") -> dict[tuple[str, str, str], dict]:
    """``(arm, reference, group) -> comparison row`` of one metric."""
    return {
        (row["arm"], row["reference"], row["group"]): row
        for row in document["comparisons"]
        if row["metric"] == metric and row["diff_low"] is not None
    }


def _interval(row: dict, digits: int = 3) -> str:
    """``+0.012 [-0.004, +0.028]``: a paired mean difference with its 95 % interval."""
    return f"{row['mean_diff']:+.{digits}f} [{row['diff_low']:+.{digits}f}, {row['diff_high']:+.{digits}f}]"


def _mean(document: dict, arm: str, group: str, metric: str) -> dict | None:
    """The mean row of an arm, group and metric (None if the run has none)."""
    return next(
        (row for row in document["means"] if (row["arm"], row["group"], row["metric"]) == (arm, group, metric)), None
    )


def _score(row: dict, digits: int = 3) -> str:
    """``0.093 [0.070, 0.117]``: a mean with its 95 % interval (``0.093 (n = 1)`` for one value)."""
    if row["low"] is None:
        return f"{row['mean']:.{digits}f} (n = {row['n']})"
    return f"{row['mean']:.{digits}f} [{row['low']:.{digits}f}, {row['high']:.{digits}f}]"


def style_table(document: dict, metric: str = "rand_error") -> str:
    """Paired effects of styles and normalisation per boundary detector and test group, as a Markdown table.

    Args:
        document: ``results/unet.json``.
        metric: the error compared.

    Returns:
        One row per (detector, question), one column per test group: mean difference [95 % interval] with the
        call (lower / higher / no clear change); empty cells where the run has no such pairs.
    """
    compared = _comparisons(document, metric)
    groups = [group for group in GROUPS if any(key[2] == group for key in compared)]
    lines = [
        "| detector | question | " + " | ".join(GROUPS[group] for group in groups) + " |",
        "|---|---|" + "---|" * len(groups),
    ]
    for detector, prefix in DETECTOR_PREFIXES.items():
        for question, (arm, reference) in QUESTIONS.items():
            cells = [compared.get((prefix + arm, prefix + reference, group)) for group in groups]
            if any(cells):
                text = [f"{_interval(row)} ({_call(row)})" if row else "" for row in cells]
                lines.append(f"| {detector} | {question} | " + " | ".join(text) + " |")
    return "\n".join(lines)


def _verdicts(document: dict, question: str) -> dict[str, list[str]]:
    """``lower`` / ``higher`` / ``no clear change`` -> the "detector on group" places of one question."""
    compared = _comparisons(document)
    arm, reference = QUESTIONS[question]
    verdicts: dict[str, list[str]] = {"lower": [], "higher": [], "no clear change": []}
    for detector, prefix in DETECTOR_PREFIXES.items():
        for group, words in GROUPS.items():
            row = compared.get((prefix + arm, prefix + reference, group))
            if row:
                verdicts[_call(row)].append(f"{detector} on {words} ({_interval(row)})")
    return verdicts


def _places(places: list[str]) -> str:
    """``on <place>; <place>``, or ``nowhere``."""
    return "on " + "; ".join(places) if places else "nowhere"


def unet_conclusion(document: dict) -> str:
    """Chapter 08's conclusion in Markdown: the clean scores, where styles help and where not, and FlyEM.

    Args:
        document: ``results/unet.json`` (or the record the chapter just wrote).

    Returns:
        Bullets and the table of :func:`style_table`; every number from ``document``.
    """
    clean = {metric: _mean(document, "original/none", "clean", metric) for metric in ("rand_error", "vi", "v_rand")}
    forest = _mean(document, "pixel-rf:original/none", "clean", "rand_error")
    reachable = _mean(document, "original/none", "clean", "reachable_rand_error")
    reachable_vi = _mean(document, "original/none", "clean", "reachable_vi")
    forest_vi = _mean(document, "pixel-rf:original/none", "clean", "vi")
    slices = document["config"]["segmentation"]["test_slices"]
    slices = f"{slices[0]}-{slices[-1]}" if len(slices) > 1 else f"{slices[0]}"
    lines = [
        f"* **Clean test slices {slices}** (profile `{document['profile']}`, mean [95 % interval]): "
        f"the U-Net pipeline trained on the originals reaches an adapted Rand error of {_score(clean['rand_error'])} "
        f"and a VI of {_score(clean['vi'], 2)} bits (goals: at most {UNET_GOALS['rand_error']:g} and "
        f"{UNET_GOALS['vi']:g}); foreground-restricted ISBI V_rand {_score(clean['v_rand'])}."
        + (
            f" The best segmentation its superpixels allow (each superpixel given its majority ground-truth cell) "
            f"scores {_score(reachable)} and {_score(reachable_vi, 2)} bits: the bound of the edge forest and multicut."
            if reachable and reachable_vi
            else ""
        )
        + (
            f" The pixel-forest pipeline on the same slices: {_score(forest)} and {_score(forest_vi, 2)} bits."
            if forest and forest_vi
            else ""
        ),
    ]
    for question in QUESTIONS:
        verdicts = _verdicts(document, question)
        lines.append(
            f"* **{question.capitalize()}** (paired change of the adapted Rand error, 95 % interval) lowers the error "
            f"{_places(verdicts['lower'])}; raises it {_places(verdicts['higher'])}; no clear change on "
            f"{len(verdicts['no clear change'])} other detector-test pairs."
        )
    flyem = _comparisons(document)
    for detector, prefix in DETECTOR_PREFIXES.items():
        alone = flyem.get((prefix + "style/none", prefix + "original/none", "flyem"))
        normalised = flyem.get((prefix + "style/percentile", prefix + "original/percentile", "flyem"))
        if alone and normalised:
            lines.append(
                f"* **Change of dataset (FlyEM, trained on ISBI only), {detector}:** styles change the adapted Rand "
                f"error by {_interval(alone)} ({_call(alone)}) without normalisation and by {_interval(normalised)} "
                f"({_call(normalised)}) on top of it."
            )
    return "\n".join(lines) + "\n\n" + style_table(document)


def unet(document: dict) -> str:
    """Chapter 08 for the README: the U-Net's clean scores, and where styles help it and the forests.

    Args:
        document: ``results/unet.json``.

    Returns:
        One Markdown bullet.
    """
    clean = {metric: _mean(document, "original/none", "clean", metric) for metric in ("rand_error", "vi", "v_rand")}
    reachable = _mean(document, "original/none", "clean", "reachable_rand_error")
    reachable_vi = _mean(document, "original/none", "clean", "reachable_vi")
    compared = _comparisons(document)
    flyem = [
        f"{detector} {_interval(row)}"
        for detector, prefix in DETECTOR_PREFIXES.items()
        if (row := compared.get((prefix + "style/none", prefix + "original/none", "flyem")))
    ]
    beyond = _verdicts(document, "styles on top of normalisation")
    alone = _verdicts(document, "styles alone")
    return (
        f"* **A learned boundary detector (chapter 08, profile `{document['profile']}`).** A small U-Net trained on "
        f"the originals reaches an adapted Rand error of {_score(clean['rand_error'])}, a VI of "
        f"{_score(clean['vi'], 2)} bits and a foreground V_rand of {_score(clean['v_rand'])} on clean test slices "
        "through the same multicut pipeline (mean [95 % interval]"
        + (
            f"; the best its superpixels allow: {reachable['mean']:.3f} and {reachable_vi['mean']:.2f} bits"
            if reachable and reachable_vi
            else ""
        )
        + "). Paired changes of the adapted Rand error: "
        f"stylised training slices alone lower it {_places(alone['lower'])} and raise it "
        f"{_places(alone['higher'])}; on top of per-slice intensity normalisation they lower it "
        f"{_places(beyond['lower'])} and raise it {_places(beyond['higher'])}; elsewhere no clear change. Under "
        "the change of dataset (FlyEM, trained on ISBI only) styles change it by "
        + ("; ".join(flyem) if flyem else "n/a")
        + " (`results/unet.json`)."
    )


def unet_bound(document: dict) -> str:
    """How low the U-Net pipeline's VI can go, as one Markdown bullet: the superpixels' bound over U-Net variants.

    Args:
        document: ``results/unet_bound.json`` (``benchmarks/unet_bound.py``).

    Returns:
        One Markdown bullet; every number from ``document``.
    """
    variants = {name: record["mean"]["reachable_vi"] for name, record in document["variants"].items()}
    grid = [row["reachable_vi"] for row in document["watershed_grid"]]
    lowest = min(variants, key=variants.get)
    bound = min(min(variants.values()), min(grid))
    goal = UNET_GOALS["vi"]
    verdict = (
        f"a VI of at most {goal:g} bits leaves the edge forest and multicut {goal - bound:.2f} bits above the lowest "
        "bound"
        if bound <= goal
        else f"the lowest bound is already {bound - goal:.2f} bits above a VI of {goal:g} bits"
    )
    return (
        f"* **How low the U-Net pipeline's VI can go (`benchmarks/unet_bound.py`, profile `{document['profile']}`).** "
        f"On training {_slices(document['measured_slices'])}, held out from the U-Net, the best segmentation its "
        "superpixels allow has a VI of "
        f"{min(variants.values()):.2f}-{max(variants.values()):.2f} bits over {len(variants)} readings of U-Nets "
        f"that each change one thing of the profile's ({'; '.join(variants)}; lowest: {lowest}, "
        f"{variants[lowest]:.2f}) and {min(grid):.2f}-{max(grid):.2f} bits over {len(grid)} distance-watershed "
        f"settings of the profile's map; the membrane labels as the map allow "
        f"{document['membrane_labels_as_map']['reachable_vi']:.2f} bits. On these slices {verdict} "
        "(`results/unet_bound.json`)."
    )
