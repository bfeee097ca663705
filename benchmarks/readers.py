"""The committed results of ``benchmarks/style_benchmark.py`` and their plain-language summary."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from helpers.paths import RESULTS

BENCHMARK_FILE = "style_benchmark.json"
LOSS_RATIO_TOLERANCE = 0.02  # batched vs one-at-a-time final losses, per image: "within 2 %"


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


def within_tolerance(ratios: Sequence[float], tolerance: float = LOSS_RATIO_TOLERANCE) -> int:
    """How many final-loss ratios lie within ``tolerance`` of 1.

    Args:
        ratios: batched / sequential final losses, per image.
        tolerance: the allowed relative difference.

    Returns:
        The count.
    """
    return int(sum(abs(ratio - 1) <= tolerance for ratio in ratios))


def benchmark_lines(result: dict) -> list[str]:
    """Plain-language summary of a benchmark result: speed of both engines and how far their losses agree.

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
        lines.append(
            f"batched {precision}, batch {result['batch']}: {entry['image_iterations_per_s']:.2f} image-iterations/s "
            f"= {entry['speedup_vs_sequential']:.2f}x; final-loss ratio to sequential per pair "
            f"{', '.join(f'{r:.3f}' for r in entry['per_image_loss_ratio'])}"
        )
    if floor:
        lines.append(
            f"sequential vs itself on input + {floor['noise_std']:g} noise: ratios "
            f"{', '.join(f'{r:.3f}' for r in floor['per_image_loss_ratio'])} (the noise floor)"
        )
        for precision, entry in result["batched"].items():
            verdict = "within" if entry.get("within_noise_floor") else "outside"
            lines.append(
                f"batched {precision}: median |ln ratio| {entry['abs_log_ratio_median']:.3f} vs noise floor "
                f"{floor['abs_log_ratio_median']:.3f} -> {verdict} the noise floor (largest: "
                f"{entry['abs_log_ratio_max']:.3f} vs {floor['abs_log_ratio_max']:.3f}); pairs within 2 %: "
                f"{within_tolerance(entry['per_image_loss_ratio'])} of {len(entry['per_image_loss_ratio'])} "
                f"(reference vs itself: {within_tolerance(floor['per_image_loss_ratio'])})"
            )
    return lines
