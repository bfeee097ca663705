"""One paragraph of the README's findings per question, every number and verdict word taken from the results."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from helpers.data import style_names
from helpers.experiments.stats import format_interval
from helpers.experiments.stats import verdict as verdict_of
from helpers.paths import FIGURES
from helpers.unet.prose import family_rows

from .results import Results, profile_record

BLOW_UP = 100.0  # a loss this many times above the lowest one reached so far is a blow-up, not a spike


def _slices(numbers: Sequence[int]) -> str:
    """``slices 24-29`` for a run of consecutive slices, ``slice 24`` for one, else the list."""
    numbers = list(numbers)
    if len(numbers) == 1:
        return f"slice {numbers[0]}"
    if numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"slices {numbers[0]}-{numbers[-1]}"
    return "slices " + ", ".join(str(n) for n in numbers)


def _span(values: Sequence[float], spec: str) -> str:
    """``0.68-0.69`` for a range of values, ``0.68`` when they print alike."""
    low, high = format(min(values), spec), format(max(values), spec)
    return low if low == high else f"{low}-{high}"


def _plural(count: int, word: str) -> str:
    """``1 seed``, ``3 seeds``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def _number(value: float) -> str:
    """``1e-6``, ``3.4e7``: a power-of-ten style number without the exponent's padding."""
    mantissa, exponent = f"{value:.1e}".split("e")
    mantissa = mantissa.removesuffix(".0")
    return f"{mantissa}e{int(exponent)}"


def _figure(name: str) -> str:
    """A figure's path in backticks, if the figure exists (else nothing)."""
    return f", `figures/{name}`" if (FIGURES / name).exists() else ""


def intro(results: Results) -> list[str]:
    """Which runs the findings come from (one italic line, or none)."""
    parts = []
    if results.baseline:
        profile = profile_record(results.baseline["profile"])
        crop = profile["segmentation"]["crop"]
        parts.append(
            f"notebooks 03-05 in the `{profile['profile']}` profile on a {profile['device'].upper()} "
            f"({'whole 512 px slices' if crop is None else f'{crop} px crops'})"
        )
    lines = []
    if results.scenarios:
        document = results.scenarios
        main = document["arms"][document["main_arm"]]
        others = [
            f"arm `{name}`: {_arm_words(arm)}" for name, arm in document["arms"].items() if name != document["main_arm"]
        ]
        parts.append(
            f"notebook 06 in the `{document['profile']['profile']}` profile (main arm `{document['main_arm']}`: "
            f"{_arm_words(main)}" + "".join(f"; {other}" for other in others) + ")"
        )
    if parts:
        note = ""
        if results.scenarios and results.scenarios["profile"]["profile"] != "full":
            note = " A full-profile experiment (Gatys stylisation of every slice on a GPU) is not among these results."
        lines.append(f"*From the committed runs: {', '.join(parts)}.{note}*")
    return lines


def key_figure(results: Results) -> list[str]:
    """The report's Figure 16 re-done, as a Markdown image line (none without chapter 06's results or figure)."""
    if not results.scenarios:
        return []
    name = f"06_figure16_{results.scenarios['main_arm']}.png"
    return [f"![Figure 16 with error bars](figures/{name})"] if (FIGURES / name).exists() else []


def _arm_words(arm: dict) -> str:
    """``feed-forward engine, whole 512 px slices, 30 test slices x 6 runs, 24 paintings + 2 held out``."""
    engine = {"feedforward": "feed-forward engine", "gatys": "Gatys"}[arm["engine"]]
    steps = "" if arm["engine"] == "feedforward" else f" at {'/'.join(str(s) for s in arm['steps'])} steps"
    size = "whole 512 px slices" if arm["crop"] is None else f"{arm['crop']} px crops"
    return (
        f"{engine}{steps}, {size}, "
        f"{arm['n_slices']} independent test slices, each in up to {_plural(arm['n_runs'], 'training run')}, "
        f"{_plural(arm['n_paintings'], 'training painting')} + {_plural(arm['n_heldout'], 'held-out style')}"
    )


def family_comparisons(document: dict, name: str) -> list[dict]:
    """The comparisons of one family of chapter 06 (:func:`helpers.unet.prose.family_rows`, which 08 shares)."""
    return family_rows(document, name)[0]


def matching_row(rows: list[dict], **keys: object) -> dict | None:
    """The one row matching ``keys`` (None if there is none)."""
    found = [row for row in rows if all(row.get(key) == value for key, value in keys.items())]
    return found[0] if found else None


def _tested(row: dict | None) -> str:
    """``+0.002 [-0.009, +0.013], Holm p = 0.84``: a comparison with its interval and corrected p."""
    if row is None:
        return "n/a"
    return f"{format_interval(row['mean_diff'], row['diff_low'], row['diff_high'])}, Holm p = {row['p_holm']:.2f}"


STYLE_WORDS = {"full": "all {n} paintings", "one_style": "one painting", "selected": "the report's selected four"}
PIPELINE_WORDS = {"frangi": "Frangi pipeline", "pixel-rf": "pixel-classifier pipeline"}


def answer(document: dict) -> str:
    """Chapter 06: does style augmentation change the clean test error? Only a confirmatory family may say yes."""
    clean = family_comparisons(document, "scenarios on clean slices")
    supported = [row for row in clean if row["supported"]]
    rand = [row for row in clean if row["metric"] == "rand_error"]
    n_styles = document["arms"][document["main_arm"]]["n_paintings"]
    if supported:
        head = "**The report's answer needs a second look.** "
        verdict = (
            f"{len(supported)} of {len(clean)} comparisons of the confirmatory family change the clean error after "
            "Holm's correction: "
            + "; ".join(
                f"{r['pipeline']} {r['scenario']} {r['metric']} {_tested(r)} ({verdict_of(r)})" for r in supported
            )
            + "."
        )
    else:
        head = "**The report's answer holds, now with statistics.** "
        verdict = (
            f"None of the {len(clean)} comparisons of the confirmatory family (every scenario against the original "
            "set, both pipelines, Rand error and VI, Holm-corrected) changes the clean test error."
        )
    styled = [
        f"{STYLE_WORDS[r['scenario']].format(n=n_styles)} {_tested(r)} ({PIPELINE_WORDS[r['pipeline']]})"
        for r in rand
        if r["scenario"] in STYLE_WORDS
    ]
    augmented = [
        f"{r['scenario']} {_tested(r)} ({PIPELINE_WORDS[r['pipeline']]})"
        for r in rand
        if r["scenario"] in ("plain_aug", "appearance_aug")
    ]
    return (
        f"* {head}{verdict} Paired over test slices against the original training set, the change of the adapted "
        f"Rand error with stylised slices of "
        + "; ".join(styled)
        + ". Plain augmentation: "
        + "; ".join(augmented)
        + ". Numbers: `results/scenarios_summary.json`."
    )


def pipelines(baseline: dict, document: dict | None) -> str:
    """The segmentation pipelines against each other, their baselines and their upper bound (chapter 05)."""
    runs = baseline["pipelines"]
    frangi, pixel = runs["frangi"]["methods"]["mean"], runs["pixel-rf"]["methods"]["mean"]
    trivial = [frangi["no merges"], frangi["all merged"]]
    gap = frangi["kl"]["rand_error"] - pixel["kl"]["rand_error"]
    largest_effect = 0.0
    if document:
        clean = family_comparisons(document, "scenarios on clean slices")
        largest_effect = max(abs(row["mean_diff"]) for row in clean if row["metric"] == "rand_error")
    head = "matters far more than" if abs(gap) > 3 * largest_effect else "matters about as much as"
    profile = profile_record(baseline["profile"])
    crop = profile["segmentation"]["crop"]
    return (
        f"* **The pipeline {head} augmentation.** On {_slices(baseline['test_slices'])} "
        f"({'whole slices' if crop is None else f'{crop} px crops'}) the report-like Frangi pipeline reaches an "
        f"adapted Rand error of {frangi['kl']['rand_error']:.3f} / VI {frangi['kl']['vi']:.2f} bits; a pixel random "
        f"forest as boundary map {pixel['kl']['rand_error']:.3f} / {pixel['kl']['vi']:.2f}; trivial baselines "
        f"{_span([t['rand_error'] for t in trivial], '.2f')} / {_span([t['vi'] for t in trivial], '.1f')}; the best "
        "segmentation reachable "
        f"from Frangi superpixels {frangi['best reachable']['rand_error']:.3f} / {frangi['best reachable']['vi']:.2f} "
        "(`results/segmentation_baseline.json`)."
    )


def robustness(document: dict) -> str:
    """Chapter 06: does style augmentation make the segmentation robust to appearance shifts?"""
    family = family_comparisons(document, "robustness")
    n_styles = document["arms"][document["main_arm"]]["n_paintings"]
    supported = [row for row in family if row["supported"]]
    broadest = {}  # per (pipeline, test): the comparison of the most paintings the pipeline trained on
    for row in family:
        if (
            row["scenario"] in ("full", "selected")
            and broadest.get((row["pipeline"], row["test"]), {}).get("scenario") != "full"
        ):
            broadest[(row["pipeline"], row["test"])] = row
    matched = matching_row(family, pipeline="frangi", scenario="appearance_aug", test="shifts")
    conditions = family_comparisons(document, "robustness per condition")
    per_condition = [row for row in conditions if row["p_holm"] is not None]
    notable = sorted((r for r in per_condition if r["p_holm"] < 0.05), key=lambda r: r["p_holm"])[:3]
    trivial = document["trivial_conditions"]
    head = ": yes, in part" if supported else ": not shown"
    found = (
        "; ".join(f"{r['pipeline']} {r['scenario']} under {r['test']} {_tested(r)}" for r in supported)
        if supported
        else f"none of its {len(family)} comparisons is supported after Holm's correction"
    )
    return (
        f"* **The friend in another shirt{head}.** The confirmatory robustness family asks whether a training set "
        "makes the Rand error rise less than the original set does, from clean test slices to shifted ones "
        "(averaged over the shifts that are not trivial) and to slices stylised with unseen styles: "
        f"{found}. "
        + "; ".join(
            f"{PIPELINE_WORDS[pipeline]} with {STYLE_WORDS[row['scenario']].format(n=n_styles)}: {_tested(row)} under "
            f"{'shifts' if test == 'shifts' else 'unseen styles'}"
            for (pipeline, test), row in sorted(broadest.items())
        )
        + "."
        + (
            f" The matched baseline, plain augmentation with blur, gamma and contrast changes, lowers the rise under "
            f"shifts by {_tested(matched)} (Frangi pipeline), beside {_tested(broadest.get(('frangi', 'shifts')))} "
            "with the paintings; each is a comparison with the original set, not with the other."
            if matched
            else ""
        )
        + (
            f" Conditions where (almost) every training set returns one segment per slice, shown but left out of "
            f"the averages: {', '.join(f'`{c}`' for c in trivial)}."
            if trivial
            else ""
        )
        + (
            " Exploratory, per condition (not claimed): "
            + "; ".join(f"{r['pipeline']} {r['scenario']} under `{r['test']}` {_tested(r)}" for r in notable)
            + "."
            if notable
            else ""
        )
    )


def engines(document: dict) -> str | None:
    """Chapter 06: does the style engine change the answer? The smaller arms, exploratory (None without them)."""
    others = family_comparisons(document, "other arms")
    rows = [r for r in others if r["test"] == "clean" and r["metric"] == "rand_error"]
    if not rows:
        return None
    by_arm: dict[str, list[str]] = {}
    for row in rows:
        by_arm.setdefault(row["arm"], []).append(f"{row['scenario']} {_tested(row)}")
    return (
        "* **Does the engine change the answer?** On the same crops, slices and paintings (exploratory, clean Rand "
        "error against the original set): "
        + "; ".join(
            f"arm `{arm}` ({_arm_words(document['arms'][arm])}): {', '.join(found)}" for arm, found in by_arm.items()
        )
        + "."
    )


def _blow_up(benchmark: dict) -> tuple[int, int, float, list[float]] | None:
    """The first reference run that blew up: (pair, step, its final loss, the other runs' final losses)."""
    histories = benchmark["loss_histories"]
    for pair, history in enumerate(histories["sequential"]):
        losses = np.asarray(history)
        lowest = np.minimum.accumulate(losses)
        above = losses > BLOW_UP * lowest
        if above[-1]:
            step = int(len(above) - np.argmin(above[::-1]))  # from here on the loss never came back
            others = [h[pair][-1] for name, h in histories.items() if name != "sequential"]
            return pair, step, float(benchmark["sequential"]["final_losses"][pair]), others
    return None


def _verdict(criterion: dict) -> str:
    """The quality criterion's verdict on the batched engine, each of its two parts with its 95 % interval."""
    low, high = criterion["abs_log_ratio_median_difference_interval_95"]
    mean_low, mean_high = criterion["loss_ratio_geometric_mean_interval_95"]
    floor_low, floor_high = criterion["noise_floor_loss_ratio_geometric_mean_interval_95"]
    limit = criterion["max_loss_ratio_geometric_mean"]
    median_ok = criterion["batched_abs_log_ratio_median"] <= criterion["noise_floor_abs_log_ratio_median"]
    mean_ok = criterion["loss_ratio_geometric_mean"] <= limit
    undecided = (
        f" The interval of its geometric mean holds the limit {limit}, so {criterion['pairs']} pairs cannot settle "
        "that part of the rule."
        if mean_low <= limit <= mean_high
        else ""
    )
    return (
        f" By the series' criterion (over at least {criterion['min_pairs']} pairs, a median |ln ratio| no larger "
        f"than the noise floor's and a geometric-mean ratio of at most {limit}) it "
        f"{'passes' if criterion['passed'] else 'fails'}: the median is {'within' if median_ok else 'beyond'} the "
        f"floor (difference {criterion['abs_log_ratio_median_difference']:+.3f}, 95 % bootstrap interval "
        f"[{low:+.3f}, {high:+.3f}]), the geometric-mean ratio is {criterion['loss_ratio_geometric_mean']:.3f} "
        f"[{mean_low:.3f}, {mean_high:.3f}] ({'within' if mean_ok else 'above'} the limit; the reference against its "
        f"perturbed rerun: {criterion['noise_floor_loss_ratio_geometric_mean']:.3f} [{floor_low:.3f}, "
        f"{floor_high:.3f}]; below 1: lower losses than the reference).{undecided}"
    )


def optimiser(benchmarks: dict[str, dict]) -> str:
    """How chaotic the report's L-BFGS loop is, and how the batched engine compares (`make benchmark`)."""
    main_name = max(benchmarks, key=lambda name: (benchmarks[name]["pairs"], -benchmarks[name]["steps"]))
    main = benchmarks[main_name]
    floor, batched = main["sequential_noise_floor"], main["batched"]["fp32"]
    ratios = floor["per_image_loss_ratio"]
    criterion = batched.get("criterion")
    judged = criterion is not None and "loss_ratio_geometric_mean_interval_95" in criterion
    verdict = _verdict(criterion) if judged else ""
    closer = batched["abs_log_ratio_median"] <= floor["abs_log_ratio_median"]
    text = (
        "* **The report's optimiser is chaotic, so \"the same result\" needs a noise floor.** The PyTorch tutorial's "
        "L-BFGS loop (fixed step, no line search), which the report used, amplifies rounding: rerun on the same "
        f"slice plus noise of {_number(floor['noise_std'])} (far below one grey level), its final loss after "
        f"{main['steps']} steps moves by {100 * (min(ratios) - 1):+.0f}% to {100 * (max(ratios) - 1):+.0f}% per "
        f"image ({main['pairs']} pairs, {main['size']} px). Our batched engine (same algorithm, many images at "
        f"once) lands {'closer to' if closer else 'farther from'} the reference than that: median |ln ratio| "
        f"{batched['abs_log_ratio_median']:.3f} against the reference's own {floor['abs_log_ratio_median']:.3f} "
        f"(`results/{main_name}.json`).{verdict}"
    )
    for name, other in benchmarks.items():
        if name == main_name:
            continue
        entry, own = other["batched"]["fp32"], other["sequential_noise_floor"]
        blow_up = _blow_up(other)
        if blow_up is None:
            far = "closer" if entry["abs_log_ratio_median"] <= own["abs_log_ratio_median"] else "farther"
            text += (
                f" At {other['size']} px with {other['pairs']} pairs and {other['steps']} steps it was {far} "
                f"({entry['abs_log_ratio_median']:.3f} vs {own['abs_log_ratio_median']:.3f}; `results/{name}.json`"
                f"{_figure(f'A2_{name}_losses.png')})."
            )
        else:
            pair, step, final, others = blow_up
            text += (
                f" Over {other['steps']} steps ({other['size']} px, {other['pairs']} pairs) the loss spikes now and "
                f"then, and on 1 of {other['pairs']} pairs the report's loop blew up near step {step} and ended at a "
                f"loss of {_number(final)} where the batched engine and the perturbed rerun ended near "
                f"{min(others):.0f}-{max(others):.0f} (`results/{name}.json`{_figure(f'A2_{name}_losses.png')}): so "
                "a poor stylised slice may be the optimiser's failure rather than the painting's."
            )
    by_pairs = sorted(benchmarks.values(), key=lambda b: b["pairs"])  # per size, the benchmark with most pairs
    speedups = {b["size"]: b["batched"]["fp32"]["speedup_vs_sequential"] for b in by_pairs}
    gains = "nothing" if max(speedups.values()) < 1.1 else f"up to {max(speedups.values()):.2f}x"
    devices = sorted({b["device_name"].removeprefix("CPU: ") for b in benchmarks.values()})
    gpu = any(b["device"] == "cuda" for b in benchmarks.values())
    return text + (
        f" On the benchmarks' {'machine' if len(devices) == 1 else 'machines'} ({'; '.join(devices)}) batching "
        f"gains {gains} ("
        + ", ".join(f"{speedup:.2f}x at {size} px" for size, speedup in sorted(speedups.items()))
        + ")"
        + ("." if gpu else "; the GPU targets are unmeasured.")
    )


def membranes(document: dict) -> str:
    """Chapter 06: does stylisation move the membranes?"""
    names = style_names()
    effects = document["style_effects"]
    displacement = document.get("displacement")
    if displacement:
        styles = sorted({row["style"] for row in displacement})
        measure = {s: float(np.mean([r["map_correlation"] for r in displacement if r["style"] == s])) for s in styles}
        worst = min(styles, key=lambda s: measure[s])
        others = [s for s in styles if s != worst]
        destroys = measure[worst] < 0.5 * min(measure[s] for s in others) if others else False
        found = (
            "per stylised image, the Frangi membrane maps of original and stylised slice correlate at "
            f"{_span([measure[s] for s in others], '.2f')} for {'style' if len(others) == 1 else 'styles'} "
            f"{', '.join(str(s) for s in others)} but at {measure[worst]:.2f} for style {worst} "
            f'("{names.get(worst, "?")}")'
        )
    else:
        styles = sorted({row["style"] for row in effects})
        measure = {s: float(np.mean([r["displacement_px"] for r in effects if r["style"] == s])) for s in styles}
        worst = max(styles, key=lambda s: measure[s])
        destroys = measure[worst] > 2 * min(measure.values())
        found = (
            f"the skeletonised Frangi membranes of a stylised image lie {_span(list(measure.values()), '.1f')} px "
            f"from the original's on average, farthest for style {worst} "
            f'("{names.get(worst, "?")}")'
        )
    head = "does destroy membranes for some styles" if destroys else "keeps the membranes roughly in place"
    return (
        f"* **Stylisation {head}.** The report's suspicion is measurable: {found}; compare the washed-out crops of "
        f"`figures/02_washed_out.jpg`. With {len(effects)} styles in the sweep the link to the segmentation error is "
        f"{'not measurable' if len(effects) < 6 else 'drawn in'} (`figures/06_displacement_vs_effect.png`)."
    )
