"""The committed results of ``benchmarks/style_benchmark.py``, the quality criterion and their plain-language summary.

The quality criterion (what the measurements so far support; a per-image "within 2 %" rule cannot judge anything,
since the one-image loop fails it against itself on most pairs): over at least :data:`MIN_PAIRS` (content, style)
pairs at the report's settings, the batched engine passes if its median |ln(final-loss ratio)| against the
one-image loop is no larger than the one-image loop's own against a rerun on 1e-6-perturbed input (the noise
floor), and the geometric mean of its ratios is at most :data:`MAX_GEOMETRIC_MEAN` (it does not end higher on
average by more than 2 %).
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


def quality_criterion(batched_ratios: Sequence[float], floor_ratios: Sequence[float]) -> dict:
    """The quality criterion of the batched engine (:data:`CRITERION_RULE`) and the numbers it rests on.

    Args:
        batched_ratios: per pair, the batched engine's final loss / the one-image loop's.
        floor_ratios: per pair, the one-image loop's final loss on 1e-6-perturbed input / on the input.

    Returns:
        JSON-ready: ``pairs``, ``enough_pairs``, both runs' |ln ratio| per pair and their medians, the
        geometric-mean ratio, the thresholds and ``passed`` (False also when there are too few pairs).

    Raises:
        ValueError: if the two lists differ in length or are empty.
    """
    if len(batched_ratios) != len(floor_ratios) or not len(batched_ratios):
        raise ValueError(
            f"need one noise-floor ratio per batched ratio, got {len(batched_ratios)} and {len(floor_ratios)}"
        )
    batched, floor = _abs_log(batched_ratios), _abs_log(floor_ratios)
    geometric_mean = float(np.exp(np.mean(np.log(np.maximum(np.asarray(batched_ratios, float), SMALLEST_RATIO)))))
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
        "max_loss_ratio_geometric_mean": MAX_GEOMETRIC_MEAN,
        "within_noise_floor": median <= floor_median,
        "passed": bool(enough and median <= floor_median and geometric_mean <= MAX_GEOMETRIC_MEAN),
    }


def criterion_of(result: dict, precision: str) -> dict | None:
    """The quality criterion of one batched run of a result: as written, or computed from its ratios.

    Args:
        result: one benchmark result.
        precision: which batched run (``"fp32"``, ``"bf16"``).

    Returns:
        :func:`quality_criterion`'s dict, or None for a result without a noise-floor run.
    """
    entry, floor = result["batched"][precision], result.get("sequential_noise_floor")
    if "criterion" in entry:
        return entry["criterion"]
    if not floor:
        return None
    return quality_criterion(entry["per_image_loss_ratio"], floor["per_image_loss_ratio"])


def criterion_line(name: str, criterion: dict) -> str:
    """One plain-language line: the criterion's verdict on a batched run and the numbers behind it.

    Args:
        name: what was judged, e.g. ``"batched fp32"``.
        criterion: :func:`quality_criterion`'s dict.

    Returns:
        The line.
    """
    numbers = (
        f"median |ln(final-loss ratio)| {criterion['batched_abs_log_ratio_median']:.3f} against the one-image "
        f"loop's own noise floor {criterion['noise_floor_abs_log_ratio_median']:.3f} "
        f"({'within' if criterion['within_noise_floor'] else 'above'} it), geometric-mean loss ratio "
        f"{criterion['loss_ratio_geometric_mean']:.3f} (at most {criterion['max_loss_ratio_geometric_mean']})"
    )
    if not criterion["enough_pairs"]:
        return (
            f"{name}: {numbers}; not judged: {criterion['pairs']} pairs, the criterion needs at least "
            f"{criterion['min_pairs']}"
        )
    return f"{name}: {numbers} over {criterion['pairs']} pairs -> {'PASSED' if criterion['passed'] else 'FAILED'}"


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
    independence = result.get("batch_independence")
    if independence:
        line = (
            f"batch independence ({independence['precision']}): each pair in the batch of {independence['batch']} "
            f"vs alone, median |ln(final-loss ratio)| {independence['abs_log_ratio_median']:.3f}"
        )
        if "within_noise_floor" in independence:
            line += (
                f", the one-image loop's noise floor {independence['noise_floor_abs_log_ratio_median']:.3f} "
                f"({'within' if independence['within_noise_floor'] else 'above'} it)"
            )
        lines.append(line)
    return lines
