"""benchmarks.readers: the bootstrap interval against the noise floor, batch independence, old results read; the
appendix's table of the committed results agrees with them."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest

from benchmarks import readers
from helpers.paths import RESULTS
from helpers.viz import figures
from helpers.viz import style as style_figures


def _abs_log_sample(seed: int, pairs: int, shift: float = 0.0) -> np.ndarray:
    """|ln ratio| of chaotic runs: heavy-tailed, a few percent typical, plus ``shift``."""
    return np.abs(np.random.default_rng(seed).standard_t(2, pairs)) * 0.08 + shift


def test_interval_covers_zero_for_one_distribution_and_excludes_it_for_clearly_different_ones():
    floor = _abs_log_sample(1, 12)
    same = readers.noise_floor_comparison(_abs_log_sample(2, 12), floor)
    low, high = same["abs_log_ratio_median_difference_interval_95"]
    assert low < 0 < high and not same["distinguishable_from_noise_floor"]
    above = readers.noise_floor_comparison(_abs_log_sample(2, 12, shift=0.5), floor)
    assert above["abs_log_ratio_median_difference_interval_95"][0] > 0 and above["distinguishable_from_noise_floor"]
    below = readers.noise_floor_comparison(floor, _abs_log_sample(2, 12, shift=0.5))
    assert below["abs_log_ratio_median_difference_interval_95"][1] < 0 and below["distinguishable_from_noise_floor"]


def test_interval_covers_zero_for_most_draws_from_one_distribution():
    covered = [
        not readers.noise_floor_comparison(_abs_log_sample(seed, 12), _abs_log_sample(seed + 100, 12), 2000)[
            "distinguishable_from_noise_floor"
        ]
        for seed in range(40)
    ]
    assert sum(covered) >= 34  # a 95 % interval: about 38 of 40


def test_interval_resamples_pairs_together():
    """Each pair ends 0.01 above its floor: every paired resample differs by exactly 0.01, unpaired ones would not."""
    floor = _abs_log_sample(3, 12)
    comparison = readers.noise_floor_comparison(floor + 0.01, floor)
    assert comparison["abs_log_ratio_median_difference_interval_95"] == pytest.approx([0.01, 0.01], abs=1e-5)
    assert comparison["distinguishable_from_noise_floor"]


def test_interval_is_deterministic_for_a_fixed_seed():
    values, floor = _abs_log_sample(4, 12), _abs_log_sample(5, 12)
    first = readers.noise_floor_comparison(values, floor)
    assert first == readers.noise_floor_comparison(values, floor)
    assert first["bootstrap_seed"] == readers.BOOTSTRAP_SEED
    assert first["bootstrap_resamples"] == readers.BOOTSTRAP_RESAMPLES
    other = readers.noise_floor_comparison(values, floor, seed=1)
    assert other["abs_log_ratio_median_difference"] == first["abs_log_ratio_median_difference"]
    assert other["abs_log_ratio_median_difference_interval_95"] != first["abs_log_ratio_median_difference_interval_95"]
    with pytest.raises(ValueError, match="one noise-floor value per pair"):
        readers.noise_floor_comparison(values, floor[:3])


def test_criterion_carries_the_interval_without_changing_its_verdict():
    floor = [1.1, 0.9, 1.2, 0.8] * 3
    close = [1.05, 0.96, 1.0, 1.02] * 3
    verdict = readers.quality_criterion(close, floor)
    assert verdict["passed"] and verdict["within_noise_floor"]
    assert verdict["abs_log_ratio_median_difference"] == pytest.approx(
        verdict["batched_abs_log_ratio_median"] - verdict["noise_floor_abs_log_ratio_median"], abs=1e-4
    )
    line = readers.criterion_line("batched fp32", verdict)
    assert line.startswith("batched fp32: PASSED: median |ln r|") and "95 % bootstrap interval over 12 pairs" in line
    few = readers.criterion_line("batched fp32", readers.quality_criterion(close[:4], floor[:4]))
    assert "not judged (4 pairs < 12)" in few and "bootstrap interval over 4 pairs" in few


def test_batch_independence_block_against_the_noise_floor():
    ratios, floor = np.exp(_abs_log_sample(6, 12)), np.exp(-_abs_log_sample(7, 12))
    block = readers.batch_independence("fp32", 12, ratios, floor)
    assert block["precision"] == "fp32" and block["batch"] == 12 and len(block["abs_log_ratio_per_pair"]) == 12
    assert block["within_noise_floor"] == (block["abs_log_ratio_median"] <= block["noise_floor_abs_log_ratio_median"])
    assert "distinguishable_from_noise_floor" in block and "note" in block
    alone = readers.batch_independence("fp32", 12, ratios)
    assert "noise_floor_abs_log_ratio_median" not in alone and "distinguishable_from_noise_floor" not in alone


def _legacy_result() -> dict:
    """A result in the first schema: 4 pairs, no written criterion, no batch independence."""
    return {
        "device_name": "CPU: test",
        "pairs": 4,
        "steps": 50,
        "size": 128,
        "date": "2026-11-24",
        "command": "benchmarks/style_benchmark.py --pairs 4",
        "batch": 4,
        "sequential": {"image_iterations_per_s": 1.0},
        "batched": {"fp32": {"image_iterations_per_s": 1.0, "speedup_vs_sequential": 1.0}},
        "sequential_noise_floor": {"noise_std": 1e-6, "per_image_loss_ratio": [0.0, 1.2, 1.0, 0.95]},
    }


def test_legacy_results_are_read_and_summarised(tmp_path):
    legacy = _legacy_result()
    legacy["batched"]["fp32"]["per_image_loss_ratio"] = [0.0, 1.1, 0.9, 1.0]  # a blow-up, read back as 0
    path = tmp_path / "style_benchmark_old.json"
    path.write_text(json.dumps(legacy))
    lines = readers.benchmark_lines(readers.read_benchmark(path))
    criterion = next(line for line in lines if line.startswith("quality criterion"))
    assert "not judged (4 pairs < 12)" in criterion and "bootstrap interval over 4 pairs" in criterion
    assert not any(line.startswith("batch independence") for line in lines)


def test_a_written_criterion_and_independence_without_the_interval_get_it_on_reading():
    result = _legacy_result()
    ratios, floor = [1.1, 0.9, 1.05, 0.97] * 3, [1.2, 0.85, 1.0, 1.1] * 3
    result["batched"]["fp32"]["per_image_loss_ratio"] = ratios
    result["sequential_noise_floor"]["per_image_loss_ratio"] = floor
    interval = set(readers.noise_floor_comparison(ratios, floor))
    full = readers.quality_criterion(ratios, floor)
    result["batched"]["fp32"]["criterion"] = {k: v for k, v in full.items() if k not in interval}
    block = readers.batch_independence("fp32", 12, ratios, floor)
    result["batch_independence"] = {k: v for k, v in block.items() if k not in interval}
    for read, written in ((readers.criterion_of(result, "fp32"), full), (readers.independence_of(result), block)):
        assert read.keys() == written.keys()  # computed from the rounded per-pair values: the last digit may differ
        key = "abs_log_ratio_median_difference_interval_95"
        assert read[key] == pytest.approx(written[key], abs=2e-5)
    assert any(line.startswith("batch independence") and "bootstrap interval over 12 pairs" in line
               for line in readers.benchmark_lines(result))  # fmt: skip


def test_every_committed_result_is_summarised():
    for result in readers.read_benchmarks().values():
        lines = readers.benchmark_lines(result)
        for line in lines:
            if line.startswith("quality criterion"):
                assert "bootstrap interval" in line
                if result["pairs"] < readers.MIN_PAIRS:
                    assert f"not judged ({result['pairs']} pairs < {readers.MIN_PAIRS})" in line


def test_geometric_mean_interval_holds_the_mean_and_narrows_with_more_pairs():
    """The interval of the geometric mean contains it, and 16x the pairs give a clearly narrower interval."""
    rng = np.random.default_rng(3)
    few = np.exp(rng.normal(0.0, 0.3, 12))
    many = np.exp(rng.normal(0.0, 0.3, 192))
    low, high = readers.geometric_mean_interval(few)
    assert low < float(np.exp(np.log(few).mean())) < high
    wide_few, wide_many = high - low, np.subtract(*readers.geometric_mean_interval(many)[::-1])
    assert wide_many < 0.5 * wide_few
    criterion = readers.quality_criterion(few, many[:12])
    assert criterion["loss_ratio_geometric_mean_interval_95"] == [low, high]
    assert criterion["noise_floor_loss_ratio_geometric_mean"] == round(float(np.exp(np.log(many[:12]).mean())), 5)


def test_the_appendix_table_shows_the_recorded_verdicts_of_the_committed_results():
    """The table drawn from the plain JSON agrees with the readers' judgement wherever a verdict was recorded."""
    results = {path.stem: json.loads(path.read_text()) for path in sorted(RESULTS.glob("style_benchmark*.json"))}
    table = style_figures.benchmark_table(results)
    assert table.shape[1] == len(results) >= 1
    for (name, result), column in zip(results.items(), table.columns):
        verdict = table.loc["quality criterion", column]
        if "criterion" in result["batched"]["fp32"]:
            judged = readers.criterion_of(result, "fp32")
            expected = ("passed" if judged["passed"] else "failed") if judged["enough_pairs"] else "not judged"
            assert verdict.startswith(expected), name
        else:
            assert verdict == f"not judged ({result['pairs']} pairs)", name
        median = result["batched"]["fp32"]["abs_log_ratio_median"]
        assert table.loc["median |ln r|: batched", column] == f"{median:.3g}"
        fig = style_figures.show_benchmark_losses(result)
        assert fig.get_size_inches()[0] <= figures.COLUMN_WIDTH_IN  # drawn for the book's column
        assert len(fig.axes) >= result["pairs"]
        plt.close(fig)
