"""The units of the experiments and their cache: what a unit is, where its rows lie, and how they are checked.

A unit's rows are cached as JSON named by a digest of everything it reads (split, shared and pipeline settings,
images' tags and pixels), so a changed input is never served from the cache. A file that does not parse or hold the
unit's rows, or a stale file of the same unit with another digest, is reported by name, deleted and recomputed:
never mixed in. :func:`provenance` digests what a run's rows come from. Every unit, row and file names its style
engine, so the engines' results never share a file; :func:`chapter_units` gives every arm of a profile its units.
"""

from __future__ import annotations

import glob
import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .. import checks
from ..config import ENGINES, FEEDFORWARD_STEPS, ExperimentArm, ExperimentWork
from ..paths import CacheError, digest, read_checked_json
from ..segmentation.pipeline import PipelineSettings
from .scenarios import SCENARIOS, STYLISED_PREFIXES, SWEEP_PREFIX, Image, SliceStore, test_conditions, training_set
from .shifts import SHIFTS
from .splits import Split, arm_splits

LOG = logging.getLogger(__name__)
SCORES = ("rand_error", "vi", "vi_split", "vi_merge")
ROW_KEYS = (
    "engine", "pipeline", "scenario", "steps", "split", "seed", "fold", "slice", "condition", "n_train_images",
    "n_segments", *SCORES,
)  # fmt: skip


@dataclass(frozen=True)
class Unit:
    """One piece of work: train ``scenario`` on ``split`` with ``pipeline`` on ``engine``'s stylised slices.

    ``steps``: Gatys' L-BFGS steps (>= 1), or :data:`helpers.config.FEEDFORWARD_STEPS` for the feed-forward engine.

    Raises:
        KeyError: for an unknown scenario.
        ValueError: for an unknown engine or a step count that does not fit it.
    """

    pipeline: str
    steps: int
    scenario: str
    split: Split
    engine: str = "gatys"

    def __post_init__(self) -> None:
        """Check the engine, the step count and the scenario's name."""
        if self.engine not in ENGINES:
            raise ValueError(f"Unit.engine {self.engine!r} is unknown: choose one of {ENGINES}")
        feedforward = self.engine == "feedforward"
        low, high = (FEEDFORWARD_STEPS, FEEDFORWARD_STEPS) if feedforward else (1, None)
        object.__setattr__(self, "steps", checks.integer(self.steps, f"Unit.steps of a {self.engine} unit", low, high))
        sweep = self.scenario.startswith(SWEEP_PREFIX) and self.scenario.removeprefix(SWEEP_PREFIX).isdigit()
        if self.scenario not in SCENARIOS and not sweep:
            raise KeyError(f"unknown scenario {self.scenario!r}: choose one of {list(SCENARIOS)} or '{SWEEP_PREFIX}NN'")


@dataclass(frozen=True)
class UnitSettings:
    """What every unit of a run shares.

    Attributes:
        styles: the styles of scenario ``full``.
        heldout: styles never trained on (conditions ``unseen_styleNN``); none of ``styles`` or ``one_style``.
        one_style: the style of scenario ``one_style``.
        trees: trees of the edge random forest (>= 1).
        max_samples: cap on a forest's training edges (None: all).
        max_train_images: cap on the pixel-classifier pipeline's training images (None: all; see ``cap_images``).
        textures: texture images never trained on (``unseen_style_textureNN``; feed-forward stores only).

    Raises:
        ValueError: for an empty, repeated or non-integral style list, a held-out style also trained on, or a count
            below 1.
    """

    styles: tuple[int, ...]
    heldout: tuple[int, ...]
    one_style: int
    trees: int
    max_samples: int | None
    max_train_images: int | None = None
    textures: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        """Check every setting (and keep them as plain ints and tuples)."""
        values = {
            "textures": () if not self.textures else checks.integers(self.textures, "UnitSettings.textures", 0),
            "styles": checks.integers(self.styles, "UnitSettings.styles", 0),
            "heldout": () if not self.heldout else checks.integers(self.heldout, "UnitSettings.heldout", 0),
            "one_style": checks.integer(self.one_style, "UnitSettings.one_style", 0),
            "trees": checks.integer(self.trees, "UnitSettings.trees", 1),
            "max_samples": checks.optional_integer(self.max_samples, "UnitSettings.max_samples", 1),
            "max_train_images": checks.optional_integer(self.max_train_images, "UnitSettings.max_train_images", 1),
        }
        trained = set(values["heldout"]) & (set(values["styles"]) | {values["one_style"]})
        if trained:
            raise ValueError(f"held-out styles {sorted(trained)} are also trained on: a held-out style must be unseen")
        for name, value in values.items():
            object.__setattr__(self, name, value)


def experiment_units(
    pipelines: list[str], steps: tuple[int, ...], scenarios: list[str], splits: list[Split], engine: str = "gatys"
) -> list[Unit]:
    """Every (pipeline, steps, scenario, split) on ``engine``, nested in that order (pipelines: ``PIPELINES`` keys)."""
    return [
        Unit(pipeline, count, scenario, split, engine)
        for pipeline in pipelines
        for count in steps
        for scenario in scenarios
        for split in splits
    ]


def arm_units(
    arm: ExperimentArm, one_style: int, style_sweep: bool = True, pipelines: Sequence[str] | None = None
) -> list[Unit]:
    """The units of one arm of chapter 06, in a stable order.

    Every scenario on every split (:func:`~helpers.experiments.splits.arm_splits`): Frangi at ``arm.steps``, other
    pipelines at ``arm.pixel_rf_steps`` with ``arm.pixel_rf_scenarios``; then, with ``style_sweep`` and
    ``arm.sweep_steps``, "originals + style N" for every other painting, Frangi only, on the first ``arm.sweep_folds``
    folds of the first seed.

    Args:
        arm: the arm (``config.experiments.arms``).
        one_style: the style of scenario ``one_style`` (left out of the sweep, which would repeat it).
        style_sweep: add the style sweep.
        pipelines: the pipelines to run, among the arm's (None: the arm's).

    Returns:
        The units.
    """
    splits = arm_splits(arm)
    chosen = [pipeline for pipeline in arm.pipelines if pipelines is None or pipeline in pipelines]
    units = []
    for pipeline in chosen:
        frangi = pipeline == "frangi"
        steps = arm.steps if frangi else arm.pixel_rf_steps or arm.steps
        scenarios = list(arm.scenarios if frangi else arm.pixel_rf_scenarios or arm.scenarios)
        units += experiment_units([pipeline], steps, scenarios, splits, arm.engine)
    if style_sweep and arm.sweep_steps and "frangi" in chosen:
        sweep = [f"{SWEEP_PREFIX}{style}" for style in arm.styles if style != one_style]
        folds = arm.n_folds if arm.sweep_folds is None else arm.sweep_folds
        first = [
            split for split in splits if split.name != "report" and split.seed == arm.seeds[0] and split.fold < folds
        ]
        units += experiment_units(["frangi"], arm.sweep_steps, sweep, first, arm.engine)
    return units


def chapter_units(
    work: ExperimentWork, one_style: int, style_sweep: bool = True, pipelines: Sequence[str] | None = None
) -> dict[str, list[Unit]]:
    """Chapter 06's units in a profile's ``work``: ``{arm name: arm_units(arm, ...)}`` in the order of ``work.arms``."""
    return {arm.name: arm_units(arm, one_style, style_sweep, pipelines) for arm in work.arms}


def pipeline_settings(unit: Unit, settings: UnitSettings) -> PipelineSettings:
    """A unit's segmentation settings: its pipeline, the shared forest size, the split's seed."""
    return PipelineSettings(
        boundary=unit.pipeline, rf_trees=settings.trees, seed=unit.split.seed, rf_max_samples=settings.max_samples
    )


def check_engine(store: SliceStore, unit: Unit) -> None:
    """Refuse a unit of another engine than the store's.

    Raises:
        ValueError: naming both engines.
    """
    if unit.engine != store.engine:
        raise ValueError(
            f"a {unit.engine} unit cannot read a {store.engine} SliceStore: run each arm's units on its own store "
            "(helpers.experiments.arms.plan_arms)"
        )


def unit_conditions(store: SliceStore, unit: Unit, settings: UnitSettings) -> list[tuple[str, Image]]:
    """A unit's test conditions: its test slices clean, shifted and stylised with each held-out style and texture."""
    check_engine(store, unit)
    return test_conditions(store, unit.split.test, settings.heldout, unit.steps, settings.textures)


def unit_images(store: SliceStore, unit: Unit, settings: UnitSettings) -> list[Image]:
    """Every image a unit reads: its training set, then its test conditions."""
    split = unit.split
    check_engine(store, unit)
    images = training_set(
        store, unit.scenario, split.train, unit.steps, settings.styles, settings.one_style, split.seed
    )
    return images + [image for _, image in unit_conditions(store, unit, settings)]


def fingerprint(store: SliceStore, unit: Unit, settings: UnitSettings) -> str:
    """12-hex-digit digest of everything a unit reads: split, shared and pipeline settings, images' tags and pixels."""
    parts = [
        repr((unit.engine, unit.split, sorted(asdict(settings).items()))),
        pipeline_settings(unit, settings).digest(),
    ]
    for image in unit_images(store, unit, settings):
        parts += [image.tag, np.ascontiguousarray(image.raw).tobytes()]
    return digest(*parts)


def _stem(unit: Unit) -> str:
    """The digest-free part of a unit's file name."""
    scenario = unit.scenario.replace(":", "-")
    return f"{unit.engine}__{unit.pipeline}__{scenario}__steps{unit.steps:03d}__{unit.split.name}"


def unit_path(
    folder: Path, store: SliceStore, unit: Unit, settings: UnitSettings, known_fingerprint: str | None = None
) -> Path:
    """Where a unit's rows are cached: ``<folder>/<engine>__<pipeline>__<scenario>__steps<NNN>__<split>__<key>.json``.

    Args:
        folder: the run's unit folder.
        store: the images.
        unit: the unit.
        settings: what every unit shares.
        known_fingerprint: the unit's :func:`fingerprint` if already computed (None: computed here).

    Returns:
        The JSON file's path.
    """
    return Path(folder) / f"{_stem(unit)}__{known_fingerprint or fingerprint(store, unit, settings)}.json"


def expected_rows(unit: Unit, settings: UnitSettings) -> int:
    """How many rows a unit has: one per test slice and condition (every shift, held-out style and texture)."""
    return len(unit.split.test) * (len(SHIFTS) + len(settings.heldout) + len(settings.textures))


def read_rows(path: Path, unit: Unit, settings: UnitSettings) -> list[dict]:
    """A unit's cached rows (written by :func:`helpers.paths.write_checked_json`), checked.

    They must parse, match their digest, and be the unit's rows with finite scores.

    Raises:
        CacheError: naming the file, when it is damaged, was edited, or holds other rows.
    """
    rows = read_checked_json(path)
    expected = expected_rows(unit, settings)
    if not isinstance(rows, list) or len(rows) != expected:
        raise CacheError(path, f"{len(rows) if isinstance(rows, list) else 'no'} rows, expected {expected}")
    for row in rows:
        if not isinstance(row, dict) or set(row) != set(ROW_KEYS):
            raise CacheError(path, f"a row without the columns {ROW_KEYS}: {row!r}")
        if (row["engine"], row["pipeline"], row["scenario"], row["steps"], row["split"]) != (
            unit.engine, unit.pipeline, unit.scenario, unit.steps, unit.split.name,
        ):  # fmt: skip
            raise CacheError(path, f"a row of another unit: {row!r}")
        if not isinstance(row["n_segments"], int) or row["n_segments"] < 1:
            raise CacheError(path, f"a segment count that is not a whole number >= 1: {row!r}")
        if not all(isinstance(row[key], int | float) and math.isfinite(row[key]) for key in SCORES):
            raise CacheError(path, f"a score that is not a finite number: {row!r}")
    return rows


def cached_rows(path: Path, unit: Unit, settings: UnitSettings) -> list[dict] | None:
    """A unit's rows if cached intact at ``path`` (:func:`unit_path`), else None; damaged or stale files are deleted."""
    for stale in sorted(Path(path).parent.glob(f"{glob.escape(_stem(unit))}__*.json")):
        if stale != path:
            LOG.warning(
                "%s is stale: it was computed from other inputs (the stylised images, the slices or the settings "
                "changed; its digest is not %s); deleted, the unit is computed again",
                stale, path.stem.rsplit("__", 1)[-1],
            )  # fmt: skip
            stale.unlink(missing_ok=True)
    if not path.exists():
        return None
    try:
        return read_rows(path, unit, settings)
    except CacheError as error:
        LOG.warning("%s: deleted, the unit is computed again", error)
        path.unlink(missing_ok=True)
        return None


def provenance(
    store: SliceStore, units: list[Unit], settings: UnitSettings, fingerprints: list[str] | None = None
) -> dict:
    """What a run's rows were computed from, as digests: recorded with the results, compared on the next run.

    Args:
        store: the images.
        units: the run's units.
        settings: what every unit shares.
        fingerprints: every unit's :func:`fingerprint` if already computed, in order (None: computed here).

    Returns:
        ``stylized_images`` (digest of every stylised image read, tags and pixels), ``n_stylized_images``,
        ``settings`` (shared and every pipeline's) and ``units`` (digest of the fingerprints).
    """
    stylised = {image.tag: image.raw for unit in units for image in unit_images(store, unit, settings)}
    stylised = {tag: raw for tag, raw in stylised.items() if tag.startswith(STYLISED_PREFIXES)}
    pipelines = sorted({pipeline_settings(unit, settings).digest() for unit in units})
    return {
        "stylized_images": digest(*[part for tag in sorted(stylised) for part in (tag, stylised[tag].tobytes())]),
        "n_stylized_images": len(stylised),
        "settings": digest(repr(sorted(asdict(settings).items())), *pipelines),
        "units": digest(*(fingerprints or [fingerprint(store, unit, settings) for unit in units])),
    }
