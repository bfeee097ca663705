"""The committed results of ``benchmarks/style_benchmark.py``, the quality criterion and their plain-language summary.

The quality criterion (what the measurements so far support; a per-image "within 2 %" rule cannot judge anything,
since the one-image loop fails it against itself on most pairs): over at least :data:`MIN_PAIRS` (content, style)
pairs at the report's settings, the batched engine passes if its median |ln(final-loss ratio)| against the
one-image loop is no larger than the one-image loop's own against a rerun on 1e-6-perturbed input (the noise
floor), and the geometric mean of its ratios is at most :data:`MAX_GEOMETRIC_MEAN` (it does not end higher on
average by more than 2 %).

Both samples of |ln ratio| come from chaotic runs, so a comparison of two medians over a dozen pairs can go either
way by chance. Beside the verdict (which it does not change), each comparison with the noise floor therefore
carries a paired bootstrap interval of the difference of the medians (:func:`noise_floor_comparison`): an
interval that includes 0 says the measurement cannot tell the batched engine's spread from the floor's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from helpers.paths import RESULTS

BENCHMARK_FILE = "style_benchmark.json"
MIN_PAIRS = 12  # pairs the quality criterion needs before it judges
MAX_GEOMETRIC_MEAN = 1.02  # of the batched / one-image final-loss ratios
SMALLEST_RATIO = 1e-12  # ratios read back rounded to 0 (a reference run that blew up) count as this
BOOTSTRAP_RESAMPLES = 10_000  # resamples of the pairs for the interval of the difference of medians
BOOTSTRAP_SEED = 0
CRITERION_RULE = (
    f"passed: over >= {MIN_PAIRS} pairs, the batched engine's median |ln(final-loss ratio to the one-image loop)| "
    "is no larger than the one-image loop's own median |ln ratio| against a rerun on 1e-6-perturbed input (the "
    f"noise floor), and the geometric mean of its ratios is at most {MAX_GEOMETRIC_MEAN}"
)


def read_benchmark(path: Path = RESULTS / BENCHMARK_FILE) -> dict:
    """One benchmark result.

    Args:
        path: the JSON file (default: the committed ``results/style_benchmark.json``).

    Returns:
        The result as written by ``benchmarks/style_benchmark.py``.

    Raises:
        FileNotFoundError: naming the command that measures it.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: run `make benchmark` (or benchmarks/style_benchmark.py) to measure it"
        )
    return json.loads(path.read_text())


def read_benchmarks(folder: Path = RESULTS) -> dict[str, dict]:
    """Every committed benchmark result.

    Args:
        folder: where the results lie (default: ``results/``).

    Returns:
        ``{file stem: result}`` for ``style_benchmark*.json``, the default-named one first.

    Raises:
        FileNotFoundError: if there is none.
    """
    paths = sorted(Path(folder).glob("style_benchmark*.json"), key=lambda p: (p.name != BENCHMARK_FILE, p.name))
    if not paths:
        raise FileNotFoundError(f"no style_benchmark*.json in {folder}: run `make benchmark` to measure one")
    return {path.stem: read_benchmark(path) for path in paths}


def _abs_log(ratios: Sequence[float]) -> np.ndarray:
    return np.abs(np.log(np.maximum(np.asarray(ratios, dtype=float), SMALLEST_RATIO)))


def noise_floor_comparison(
    abs_log_ratios: Sequence[float],
    floor_abs_log_ratios: Sequence[float],
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> dict:
    """How surely a median |ln ratio| differs from the noise floor's: a paired bootstrap of the difference.

    The pairs are resampled with replacement (both values of a pair together); each resample gives
    ``median(abs_log_ratios) - median(floor_abs_log_ratios)``, and the interval holds the central 95 % of them.

    Args:
        abs_log_ratios: per pair, the |ln final-loss ratio| under test.
        floor_abs_log_ratios: per pair (the same pairs), the one-image loop's |ln ratio| against its perturbed rerun.
        resamples: bootstrap resamples.
        seed: of the resampling (the same numbers give the same interval).

    Returns:
        JSON-ready: ``abs_log_ratio_median_difference``, ``..._interval_95`` ([low, high]),
        ``distinguishable_from_noise_floor`` (the interval excludes 0), ``bootstrap_resamples`` and ``bootstrap_seed``.

    Raises:
        ValueError: if the two lists differ in length or are empty.
    """
    values, floor = np.asarray(abs_log_ratios, dtype=float), np.asarray(floor_abs_log_ratios, dtype=float)
    if values.shape != floor.shape or not values.size:
        raise ValueError(f"need one noise-floor value per pair, got {values.size} and {floor.size}")
    picks = np.random.default_rng(seed).integers(0, values.size, size=(resamples, values.size))
    differences = np.median(values[picks], axis=1) - np.median(floor[picks], axis=1)
    low, high = (float(v) for v in np.quantile(differences, [0.025, 0.975]))
    return {
        "abs_log_ratio_median_difference": round(float(np.median(values) - np.median(floor)), 5),
        "abs_log_ratio_median_difference_interval_95": [round(low, 5), round(high, 5)],
        "distinguishable_from_noise_floor": not low <= 0 <= high,
        "bootstrap_resamples": resamples,
        "bootstrap_seed": seed,
    }


def geometric_mean_interval(
    ratios: Sequence[float], resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> list[float]:
    """A bootstrap 95 % interval of the geometric mean of per-pair loss ratios (pairs resampled with replacement).

    Args:
        ratios: per pair, a final-loss ratio.
        resamples: bootstrap resamples.
        seed: of the resampling.

    Returns:
        ``[low, high]``, rounded to 5 digits.

    Raises:
        ValueError: for no ratios.
    """
    logs = np.log(np.maximum(np.asarray(ratios, dtype=float), SMALLEST_RATIO))
    if not logs.size:
        raise ValueError("need at least one loss ratio")
    picks = np.random.default_rng(seed).integers(0, logs.size, size=(resamples, logs.size))
    low, high = np.exp(np.quantile(logs[picks].mean(axis=1), [0.025, 0.975]))
    return [round(float(low), 5), round(float(high), 5)]


def quality_criterion(batched_ratios: Sequence[float], floor_ratios: Sequence[float]) -> dict:
    """The quality criterion of the batched engine (:data:`CRITERION_RULE`) and the numbers it rests on.

    Args:
        batched_ratios: per pair, the batched engine's final loss / the one-image loop's.
        floor_ratios: per pair, the one-image loop's final loss on 1e-6-perturbed input / on the input.

    Returns:
        JSON-ready: ``pairs``, ``enough_pairs``, both runs' |ln ratio| per pair and their medians, the
        geometric-mean ratio, the thresholds, ``passed`` (False also when there are too few pairs) and, which
        ``passed`` ignores, :func:`noise_floor_comparison`'s interval of the difference of the medians, the
        noise floor's own geometric-mean ratio and both geometric means' intervals
        (:func:`geometric_mean_interval`).

    Raises:
        ValueError: if the two lists differ in length or are empty.
    """
    if len(batched_ratios) != len(floor_ratios) or not len(batched_ratios):
        raise ValueError(
            f"need one noise-floor ratio per batched ratio, got {len(batched_ratios)} and {len(floor_ratios)}"
        )
    batched, floor = _abs_log(batched_ratios), _abs_log(floor_ratios)
    geometric_mean = float(np.exp(np.mean(np.log(np.maximum(np.asarray(batched_ratios, float), SMALLEST_RATIO)))))
    floor_geometric_mean = float(np.exp(np.mean(np.log(np.maximum(np.asarray(floor_ratios, float), SMALLEST_RATIO)))))
    enough = len(batched) >= MIN_PAIRS
    median, floor_median = float(np.median(batched)), float(np.median(floor))
    return {
        "rule": CRITERION_RULE,
        "pairs": len(batched),
        "min_pairs": MIN_PAIRS,
        "enough_pairs": enough,
        "noise_floor_abs_log_ratio_per_pair": [round(float(v), 5) for v in floor],
        "noise_floor_abs_log_ratio_median": round(floor_median, 5),
        "batched_abs_log_ratio_per_pair": [round(float(v), 5) for v in batched],
        "batched_abs_log_ratio_median": round(median, 5),
        "loss_ratio_geometric_mean": round(geometric_mean, 5),
        "loss_ratio_geometric_mean_interval_95": geometric_mean_interval(batched_ratios),
        "noise_floor_loss_ratio_geometric_mean": round(floor_geometric_mean, 5),
        "noise_floor_loss_ratio_geometric_mean_interval_95": geometric_mean_interval(floor_ratios),
        "max_loss_ratio_geometric_mean": MAX_GEOMETRIC_MEAN,
        "within_noise_floor": median <= floor_median,
        "passed": bool(enough and median <= floor_median and geometric_mean <= MAX_GEOMETRIC_MEAN),
        **noise_floor_comparison(batched, floor),
    }


def criterion_of(result: dict, precision: str) -> dict | None:
    """The quality criterion of one batched run of a result, judged now from its recorded loss ratios.

    The verdict is a function of the measurement: it is computed by :func:`quality_criterion` from the run's
    per-pair ratios and the noise floor's, so results written before a field existed are judged alike.

    Args:
        result: one benchmark result.
        precision: which batched run (``"fp32"``, ``"bf16"``).

    Returns:
        :func:`quality_criterion`'s dict, or None for a result without a noise-floor run.
    """
    floor = result.get("sequential_noise_floor")
    if not floor:
        return None
    return quality_criterion(result["batched"][precision]["per_image_loss_ratio"], floor["per_image_loss_ratio"])


def batch_independence(
    precision: str, batch: int, ratios: Sequence[float], floor_ratios: Sequence[float] | None = None
) -> dict:
    """The ``batch_independence`` block of a result: each pair in the batch against the same pair run alone.

    Args:
        precision: the batched run's precision (``"fp32"``, ``"bf16"``).
        batch: its batch size.
        ratios: per pair, final loss in the batch / final loss alone (batch of 1), both by the batched engine.
        floor_ratios: per pair, the one-image loop's final loss on 1e-6-perturbed input / on the input, or None
            without a noise-floor run.

    Returns:
        JSON-ready: the ratios, their |ln| per pair and median, a note and, with ``floor_ratios``, the noise
        floor's median, ``within_noise_floor`` and :func:`noise_floor_comparison`'s interval.
    """
    spread = _abs_log(ratios)
    block = {
        "precision": precision,
        "batch": batch,
        "per_image_loss_ratio": [round(float(r), 5) for r in ratios],
        "abs_log_ratio_per_pair": [round(float(v), 5) for v in spread],
        "abs_log_ratio_median": round(float(np.median(spread)), 5),
        "note": "final loss of each pair in the batch / the same pair run alone (batch of 1) by the batched "
        "engine: the batch changes only the VGG pass's rounding, which the chaotic L-BFGS amplifies",
    }
    if floor_ratios is None:
        return block
    floor = _abs_log(floor_ratios)
    return {
        **block,
        "noise_floor_abs_log_ratio_median": round(float(np.median(floor)), 5),
        "within_noise_floor": bool(np.median(spread) <= np.median(floor)),
        **noise_floor_comparison(spread, floor),
    }


def independence_of(result: dict) -> dict | None:
    """The ``batch_independence`` block of a result, judged now from its recorded ratios (as :func:`criterion_of`).

    Args:
        result: one benchmark result.

    Returns:
        :func:`batch_independence`'s dict, or None for a result without one.
    """
    independence, floor = result.get("batch_independence"), result.get("sequential_noise_floor")
    if not independence:
        return None
    floor_ratios = floor["per_image_loss_ratio"] if floor else None
    return batch_independence(
        independence["precision"], independence["batch"], independence["per_image_loss_ratio"], floor_ratios
    )


def _against_floor(comparison: dict, pairs: int) -> str:
    """The difference from the noise floor and its interval, in words."""
    low, high = comparison["abs_log_ratio_median_difference_interval_95"]
    difference = comparison["abs_log_ratio_median_difference"]
    if comparison["distinguishable_from_noise_floor"]:
        meaning = f"distinguishable from the floor, {'above' if low > 0 else 'below'} it"
    else:
        meaning = "not distinguishable from the floor"
    return (
        f"difference {difference:+.3f}, 95 % bootstrap interval over {pairs} pairs [{low:+.3f}, {high:+.3f}]: {meaning}"
    )


def criterion_line(name: str, criterion: dict) -> str:
    """One plain-language line: the criterion's verdict on a batched run and the numbers behind it.

    Args:
        name: what was judged, e.g. ``"batched fp32"``.
        criterion: :func:`quality_criterion`'s dict (as :func:`criterion_of` returns it).

    Returns:
        The line, e.g. ``"...: FAILED: median |ln r| 0.096 vs noise floor 0.069 (difference +0.027, 95 % bootstrap
        interval ...: not distinguishable from the floor), geometric-mean loss ratio 0.894 [0.78, 1.02] (at most 1.02;
        the noise floor's own ...)"``.
    """
    if criterion["enough_pairs"]:
        verdict = "PASSED" if criterion["passed"] else "FAILED"
    else:
        verdict = f"not judged ({criterion['pairs']} pairs < {criterion['min_pairs']})"
    low, high = criterion["loss_ratio_geometric_mean_interval_95"]
    floor_mean = criterion["noise_floor_loss_ratio_geometric_mean"]
    floor_low, floor_high = criterion["noise_floor_loss_ratio_geometric_mean_interval_95"]
    return (
        f"{name}: {verdict}: median |ln r| {criterion['batched_abs_log_ratio_median']:.3f} vs noise floor "
        f"{criterion['noise_floor_abs_log_ratio_median']:.3f} ({_against_floor(criterion, criterion['pairs'])}), "
        f"geometric-mean loss ratio {criterion['loss_ratio_geometric_mean']:.3f} [{low:.3f}, {high:.3f}] (at most "
        f"{criterion['max_loss_ratio_geometric_mean']}; the noise floor's own {floor_mean:.3f} "
        f"[{floor_low:.3f}, {floor_high:.3f}], 95 % bootstrap intervals)"
    )


def benchmark_lines(result: dict) -> list[str]:
    """Plain-language summary of a benchmark result: speed of both engines and the quality criterion.

    Args:
        result: one benchmark result.

    Returns:
        Lines to print.
    """
    sequential = result["sequential"]
    lines = [
        f"{result['device_name']}, {result['pairs']} pairs x {result['steps']} steps at {result['size']} px "
        f"({result['date']}; `{result['command']}`)",
        f"sequential (tutorial loop): {sequential['image_iterations_per_s']:.2f} image-iterations/s",
    ]
    floor = result.get("sequential_noise_floor")
    for precision, entry in result["batched"].items():
        how = entry.get("execution")
        options = f" (compile {how['compile']}, channels-last {'on' if how['channels_last'] else 'off'})" if how else ""
        lines.append(
            f"batched {precision}, batch {entry.get('batch', result['batch'])}{options}: "
            f"{entry['image_iterations_per_s']:.2f} image-iterations/s = {entry['speedup_vs_sequential']:.2f}x; "
            f"final-loss ratio to sequential per pair {', '.join(f'{r:.3f}' for r in entry['per_image_loss_ratio'])}"
        )
    if floor:
        lines.append(
            f"sequential vs itself on input + {floor['noise_std']:g} noise: ratios "
            f"{', '.join(f'{r:.3f}' for r in floor['per_image_loss_ratio'])} (the noise floor)"
        )
        for precision in result["batched"]:
            lines.append(criterion_line(f"quality criterion, batched {precision}", criterion_of(result, precision)))
    independence = independence_of(result)
    if independence:
        line = (
            f"batch independence ({independence['precision']}): each pair in the batch of {independence['batch']} "
            f"vs alone, median |ln r| {independence['abs_log_ratio_median']:.3f}"
        )
        if "distinguishable_from_noise_floor" in independence:
            pairs = len(independence["abs_log_ratio_per_pair"])
            line += (
                f" vs noise floor {independence['noise_floor_abs_log_ratio_median']:.3f} "
                f"({_against_floor(independence, pairs)})"
            )
        lines.append(line)
    return lines
