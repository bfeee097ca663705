"""One paragraph of the README's findings per question, every number and verdict word taken from the results."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..data import style_names
from ..paths import FIGURES
from .results import Results, profile_record

BLOW_UP = 100.0  # a loss this many times above the lowest one reached so far is a blow-up, not a spike


def _interval(row: dict) -> str:
    """``+0.002 [-0.009, +0.013]``: a paired mean difference and its 95% interval."""
    return f"{row['mean_diff']:+.3f} [{row['diff_low']:+.3f}, {row['diff_high']:+.3f}]"


def _changed(row: dict) -> bool:
    """Whether a paired 95% interval excludes zero."""
    return row["diff_high"] < 0 or row["diff_low"] > 0


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
    """Which runs the findings come from, and the key figure."""
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
        profile, splits = document["profile"], document["splits"]
        work, style = profile["experiments"], profile["style"]
        clean = [row for row in document["summary"] if row["condition"] == "clean" and row.get("n_pairs")]
        report_split = " plus the report's split"
        parts.append(
            f"notebook 06 in the `{profile['profile']}` profile ({style['crop'] or 512} px crops of "
            f"{len(style['slices'])} slices, {len(work['styles'])} training paintings + {len(work['heldout_styles'])} "
            f"held out, {'/'.join(str(s) for s in work['steps'])} steps, {len(splits)} train/test splits: "
            f"{_plural(work['n_folds'], 'fold')} x {_plural(len(work['seeds']), 'seed')}"
            f"{report_split if 'report' in splits else ''}; "
            f"{max(int(row['n_pairs']) for row in clean)} paired test slices per comparison)"
        )
    if parts:
        note = ""
        if results.scenarios and results.scenarios["profile"]["profile"] != "full":
            note = " A full-profile experiment (GPU stylisation) is not among these results."
        lines.append(f"*From the committed runs: {', '.join(parts)}.{note}*")
    if results.scenarios:
        name = f"06_figure16_steps{results.scenarios['profile']['experiments']['steps'][0]}.png"
        if (FIGURES / name).exists():
            lines.append(f"![Figure 16 with error bars](figures/{name})")
    return lines


def _row(rows: list[dict], **keys: object) -> dict | None:
    """The one row matching ``keys`` (None if there is none)."""
    found = [row for row in rows if all(row.get(key) == value for key, value in keys.items())]
    return found[0] if found else None


def answer(document: dict) -> str:
    """Chapter 06: does style augmentation change the clean test error?"""
    steps = document["profile"]["experiments"]["steps"][0]
    n_styles = len(document["profile"]["experiments"]["styles"])
    rows = [row for row in document["summary"] if row["steps"] == steps and row["condition"] == "clean"]
    rand = [row for row in rows if row["metric"] == "rand_error"]
    styled = [row for row in rand if row["scenario"] in ("full", "one_style", "selected")]
    changed = [row for row in styled if _changed(row)]
    pick = {(p, s): _row(rand, pipeline=p, scenario=s) for p in ("frangi", "pixel-rf") for s in ("full", "one_style")}
    vi_moves = max(
        abs(row["mean_diff"])
        for row in rows
        if row["metric"] == "vi" and row["scenario"] in ("full", "one_style", "selected")
    )
    plain = {p: _row(rand, pipeline=p, scenario="plain_aug") for p in ("frangi", "pixel-rf")}
    if changed:
        head = "**The report's answer needs a second look.** "
        verdict = (
            f"{len(changed)} of {len(styled)} style comparisons change the clean test error measurably ("
            + "; ".join(f"{row['pipeline']} {row['scenario']} {_interval(row)}" for row in changed)
            + f"); with {len(styled)} comparisons at 95 % each, about {0.05 * len(styled):.1f} such intervals are "
            "expected by chance alone."
        )
    else:
        head = "**The report's answer holds.** "
        verdict = "No style scenario changes the clean test error measurably."
    plain_words = "better" if any(_changed(row) and row["mean_diff"] < 0 for row in plain.values()) else "no better"
    return (
        f"* {head}{verdict} Paired against the original training set, the change of the adapted Rand error is "
        f"{_interval(pick['frangi', 'full'])} (all {n_styles} styles, Frangi pipeline), "
        f"{_interval(pick['pixel-rf', 'full'])} (all {n_styles} styles, pixel-classifier pipeline), "
        f"{pick['frangi', 'one_style']['mean_diff']:+.3f} and {pick['pixel-rf', 'one_style']['mean_diff']:+.3f} "
        f"for one style (Frangi, pixel classifier); VI moves by {vi_moves:.2f} bits or less. Plain augmentation "
        f"(flips, rotations, noise) does {plain_words} (Frangi {_interval(plain['frangi'])}, pixel-RF "
        f"{_interval(plain['pixel-rf'])}). Numbers: `results/scenarios_summary.json`."
    )


def pipelines(baseline: dict, document: dict | None) -> str:
    """The segmentation pipelines against each other, their baselines and their upper bound (chapter 05)."""
    runs = baseline["pipelines"]
    frangi, pixel = runs["frangi"]["methods"]["mean"], runs["pixel-rf"]["methods"]["mean"]
    trivial = [frangi["no merges"], frangi["all merged"]]
    gap = frangi["kl"]["rand_error"] - pixel["kl"]["rand_error"]
    largest_effect = 0.0
    if document:
        clean = [row for row in document["summary"] if row["condition"] == "clean" and row["metric"] == "rand_error"]
        largest_effect = max(abs(row["mean_diff"]) for row in clean if row["mean_diff"] is not None)
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
    steps = document["profile"]["experiments"]["steps"][0]
    n_styles = len(document["profile"]["experiments"]["styles"])
    paired = [row for row in document["robustness_paired"] if row["steps"] == steps and row["scenario"] == "full"]
    shifts = _row(paired, test="shifts", pipeline="frangi")
    unseen = _row(paired, test="unseen", pipeline="frangi")
    pixel = _row(paired, test="shifts", pipeline="pixel-rf")
    better = [row["diff_high"] < 0 for row in (shifts, unseen, pixel)]
    head = {0: ": not found", len(better): ": yes"}.get(sum(better), ", partly")
    words = {True: "less accuracy than", False: "about as much accuracy as"}
    if _changed(shifts) and shifts["mean_diff"] > 0:
        words[False] = "more accuracy than"
    pixel_words = "is not significant"
    if _changed(pixel):
        pixel_words = "holds" if pixel["mean_diff"] < 0 else "reverses"
    rand = [r for r in document["summary"] if r["metric"] == "rand_error" and r["steps"] == steps]
    shifted = sorted({r["condition"] for r in rand if r["condition"] != "clean" and "unseen" not in r["condition"]})
    reference = {
        c: np.mean([r["mean"] for r in rand if r["condition"] == c and r["scenario"] == "original"]) for c in shifted
    }
    hardest = sorted(shifted, key=lambda c: -reference[c])[:2]
    errors = [r["mean"] for r in rand if r["condition"] in hardest]
    return (
        f"* **The friend in another shirt{head}.** Under appearance shifts (contrast, gamma, noise, blur) the "
        f"Frangi pipeline trained with the {n_styles} styles loses {words[bool(better[0])]} the one trained on "
        f"originals: its Rand error rises by {shifts['increase_mean']:.3f} instead of "
        f"{shifts['reference_increase_mean']:.3f} (paired difference {_interval(shifts)}), and on test slices "
        f"stylised with a painting it never saw by {unseen['increase_mean']:.3f} instead of "
        f"{unseen['reference_increase_mean']:.3f} ({_interval(unseen)}). For the pixel-classifier pipeline the same "
        f"trend {pixel_words} ({_interval(pixel)}). The hardest shifts ({', '.join(f'`{c}`' for c in hardest)}) "
        f"raise the error of every training set to {_span(errors, '.2f')}."
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
                f"{_figure(f'02_{name}_losses.png')})."
            )
        else:
            pair, step, final, others = blow_up
            text += (
                f" Over {other['steps']} steps ({other['size']} px, {other['pairs']} pairs) the loss spikes now and "
                f"then, and on 1 of {other['pairs']} pairs the report's loop blew up near step {step} and ended at a "
                f"loss of {_number(final)} where the batched engine and the perturbed rerun ended near "
                f"{min(others):.0f}-{max(others):.0f} (`results/{name}.json`{_figure(f'02_{name}_losses.png')}): so "
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
            "per stylised crop, the Frangi membrane maps of original and stylised slice correlate at "
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
            f"the skeletonised Frangi membranes of a stylised crop lie {_span(list(measure.values()), '.1f')} px "
            f"from the original's on average, farthest for style {worst} "
            f'("{names.get(worst, "?")}")'
        )
    head = "does destroy membranes for some styles" if destroys else "keeps the membranes roughly in place"
    return (
        f"* **Stylisation {head}.** The report's suspicion is measurable: {found}; compare the washed-out crops of "
        f"`figures/02_washed_out.jpg`. With {len(effects)} styles in the sweep the link to the segmentation error is "
        f"{'not measurable' if len(effects) < 6 else 'drawn in'} (`figures/06_displacement_vs_effect.png`)."
    )
