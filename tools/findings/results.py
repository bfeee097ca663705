"""The results files that the README's findings are written from, read into one value."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from helpers.paths import RESULTS


@dataclass(frozen=True)
class Results:
    """The committed results files the findings are written from (None or empty: not there)."""

    baseline: dict | None  # segmentation_baseline.json (chapter 05)
    scenarios: dict | None  # scenarios_summary.json (chapter 06)
    benchmarks: dict[str, dict]  # style_benchmark*.json by file stem (`make benchmark`)
    flyem: dict | None  # flyem.json (chapter 07)
    unet: dict | None  # unet.json (chapter 08)
    unet_bound: dict | None  # unet_bound.json (benchmarks/unet_bound.py)
    folder: Path


def load(folder: Path = RESULTS) -> Results:
    """Read the results files.

    Args:
        folder: the results folder.

    Returns:
        The results.
    """
    folder = Path(folder)

    def read(name: str) -> dict | None:
        path = folder / name
        return json.loads(path.read_text()) if path.exists() else None

    benchmarks = {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("style_benchmark*.json"))}
    return Results(
        baseline=read("segmentation_baseline.json"),
        scenarios=read("scenarios_summary.json"),
        benchmarks=benchmarks,
        flyem=read("flyem.json"),
        unet=read("unet.json"),
        unet_bound=read("unet_bound.json"),
        folder=folder,
    )


def profile_record(flat: dict) -> dict:
    """An earlier flat profile record in the layout of :meth:`helpers.config.Config.as_dict`."""
    if "experiments" in flat:
        return flat
    return {
        "profile": flat["name"],
        "device": flat["device"],
        "style": {"slices": flat["stylize_slices"], "crop": flat["stylize_crop"], "steps": flat["stylize_steps"]},
        "segmentation": {"crop": flat["seg_crop"], "test_slices": flat["test_slices"]},
        "experiments": {
            "styles": flat["exp_styles"],
            "heldout_styles": flat["heldout_styles"],
            "steps": flat["exp_steps"],
            "n_folds": flat["n_folds"],
            "seeds": flat["seeds"],
        },
    }
