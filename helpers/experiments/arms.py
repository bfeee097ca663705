"""Chapter 06's arms: each one's store, splits, units and shared settings, stylised, run and tabled in a few calls.

An arm (:class:`helpers.config.ExperimentArm`) is one style engine on its slices (and crop), paintings, pipelines
and scenarios; each runs in its own resumable unit folder::

    plans = arms.plan_arms(config, one_style, style_sweep, pipelines)
    arms.ensure_stylized(config, plans, one_style)
    runs = arms.run_arms(plans, workers=config.experiments.workers or os.cpu_count())
    rows = arms.arm_rows(runs)  # an "arm" column first; the statistics take one arm's rows at a time

The ``reduced`` profile's arms are cut down for a laptop's CPU: the cuts went to the pixel classifier's scenarios,
the sweep's folds and the trees, never to the main arm's slices or paintings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..config import Config, ExperimentArm, ExperimentWork
from ..paths import digest
from . import engines, runner
from .scenarios import SliceStore
from .splits import Split, arm_splits
from .unit_cache import Unit, UnitSettings, arm_units

ARM_COLUMN = "arm"


@dataclass(frozen=True)
class ArmPlan:
    """Everything one arm runs on.

    Attributes:
        arm: the arm.
        store: its slices, stylised by its engine.
        splits: its train/test splits.
        units: its units (:func:`~helpers.experiments.unit_cache.arm_units`).
        settings: what its units share.
        folder: its unit cache.
    """

    arm: ExperimentArm
    store: SliceStore
    splits: list[Split]
    units: list[Unit]
    settings: UnitSettings
    folder: Path


def arm_settings(work: ExperimentWork, arm: ExperimentArm, one_style: int) -> UnitSettings:
    """What an arm's units share: its paintings and held-out styles, ``work``'s forest and image cap, ``one_style``."""
    return UnitSettings(
        styles=arm.styles, heldout=arm.heldout_styles, one_style=one_style, trees=work.forest_trees,
        max_samples=work.forest_max_samples, max_train_images=work.max_train_images, textures=arm.heldout_textures,
    )  # fmt: skip


def arm_store(cache: Path, arm: ExperimentArm) -> SliceStore:
    """An arm's slice store: Gatys' from ``<cache>/stylized``, or feed-forward."""
    if arm.engine == "feedforward":
        return SliceStore.from_feedforward(cache, arm.slices, arm.crop)
    return SliceStore.from_cache(cache, arm.slices, arm.crop)


def arm_folder(config: Config, arm: ExperimentArm) -> Path:
    """An arm's unit cache (not created): ``<cache>/experiments/<profile>-<arm>-crop<side>-trees<trees>``."""
    name = f"{config.profile}-{arm.name}-crop{arm.crop or 512}-trees{config.experiments.forest_trees}"
    return config.cache / "experiments" / name


def plan_arms(
    config: Config, one_style: int, style_sweep: bool = True, pipelines: list[str] | None = None
) -> list[ArmPlan]:
    """Every arm of the profile with its store, splits, units, settings and unit folder.

    Args:
        config: the run's configuration (``config.experiments.arms``).
        one_style: the style of scenario ``one_style``.
        style_sweep: add each arm's style sweep.
        pipelines: the pipelines to run (None: each arm's).

    Returns:
        One plan per arm in the profile's order; arms left without a unit are left out.
    """
    plans = []
    for arm in config.experiments.arms:
        units = arm_units(arm, one_style, style_sweep, pipelines)
        if units:
            settings = arm_settings(config.experiments, arm, one_style)
            store = arm_store(config.cache, arm)
            plans.append(ArmPlan(arm, store, arm_splits(arm), units, settings, arm_folder(config, arm)))
    return plans


def ensure_stylized(config: Config, plans: list[ArmPlan], one_style: int) -> None:
    """Stylise what every arm of ``plans`` needs (its paintings, held-out styles and ``one_style``) with its engine.

    Raises:
        RuntimeError: for a Gatys arm of the full profile on a CPU with stylisations missing.
    """
    for plan in plans:
        styles = tuple(sorted({*plan.arm.styles, *plan.arm.heldout_styles, one_style}))
        engines.ensure_stylized(config, styles, plan.arm)


def run_arms(plans: list[ArmPlan], *, workers: int = 1, progress: bool = True) -> dict[str, runner.Run]:
    """Run every arm's units (:func:`~helpers.experiments.runner.run_all`), each in its own unit folder.

    Args:
        plans: the arms (:func:`plan_arms`).
        workers: parallel processes per arm.
        progress: show a progress bar per arm.

    Returns:
        ``{arm name: Run}``, in the order of ``plans``.
    """
    return {
        plan.arm.name: runner.run_all(
            plan.store, plan.units, plan.folder, plan.settings, workers=workers, progress=progress
        )
        for plan in plans
    }


def arm_rows(runs: dict[str, runner.Run]) -> pd.DataFrame:
    """Every arm's rows of ``runs`` in one table, the arm's name as first column.

    ``attrs["provenance"]`` digests every arm's provenance (as ``write_rows`` records it) and keeps each under
    ``"arms"``.
    """
    tables = []
    for name, run in runs.items():
        table = run.rows.copy()
        table.insert(0, ARM_COLUMN, name)
        tables.append(table)
    rows = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=[ARM_COLUMN])
    each = {name: run.provenance for name, run in runs.items()}
    rows.attrs["provenance"] = {
        **{key: digest(*[str(record.get(key)) for record in each.values()]) for key in ("stylized_images", "settings")},
        "n_stylized_images": sum(int(record.get("n_stylized_images", 0)) for record in each.values()),
        "units": digest(*[str(record.get("units")) for record in each.values()]),
        "arms": each,
    }
    return rows


def arm_record(plan: ArmPlan, rows: pd.DataFrame) -> dict:
    """What an arm ran on, for the results file.

    Args:
        plan: the arm (:func:`plan_arms`).
        rows: the run's rows (:func:`arm_rows`).

    Returns:
        ``engine``, ``steps``, ``crop``, ``slices``, ``n_slices`` (distinct test slices in the rows), ``n_paintings``,
        ``n_heldout``, ``splits``, ``n_runs`` (most training runs one test slice was tested in).
    """
    mine = rows[(rows[ARM_COLUMN] == plan.arm.name) & (rows["condition"] == "clean")]
    per_slice = mine.groupby(["pipeline", "scenario", "slice"]).size()
    return {
        "engine": plan.arm.engine, "steps": list(plan.arm.steps), "crop": plan.arm.crop,
        "slices": sorted(int(index) for index in mine["slice"].unique()), "n_slices": int(mine["slice"].nunique()),
        "n_paintings": len(plan.arm.styles), "n_heldout": len(plan.arm.heldout_styles) + len(plan.arm.heldout_textures),
        "splits": [split.name for split in plan.splits], "n_runs": int(per_slice.max()) if len(per_slice) else 0,
    }  # fmt: skip
