"""The settings of the segmentation pipeline: every parameter of every stage, as one frozen value."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from .. import checks
from ..data import NORMALIZATIONS
from .boundaries import KINDS
from .multicut import SOLVERS
from .superpixels import WATERSHEDS

MAX_SEED = 2**32 - 1  # scikit-learn's and numpy's seeds
# (low, high, low_open, high_open) of every float setting; None where the setting may be None
FLOATS = {
    "threshold": (0.0, 1.0, False, False), "sigma_seeds": (0.0, None, False, False),
    "sigma_weights": (0.0, None, False, False), "label_low": (0.0, 1.0, False, False),
    "label_high": (0.0, 1.0, False, False), "rf_tree_fraction": (0.0, 1.0, True, False), "beta": (0.0, 1.0, True, True),
}  # fmt: skip
# (low, high) of every whole-number setting
INTEGERS = {"min_size": (0, None), "rf_trees": (1, None), "rf_max_samples": (1, None), "seed": (0, MAX_SEED),
            "pixel_trees": (1, None), "pixel_folds": (2, None)}  # fmt: skip
OPTIONAL = ("rf_max_samples", "rf_tree_fraction")
# the settings that each watershed of helpers.segmentation.superpixels.WATERSHEDS takes
WATERSHED_SETTINGS = {"distance": ("threshold", "sigma_seeds", "sigma_weights", "min_size"), "seeded": ("min_size",)}


@dataclass(frozen=True)
class PipelineSettings:
    """Every parameter of the pipeline, as plain data (printable, storable)."""

    boundary: str = "frangi"  # a kind of helpers.segmentation.boundaries.KINDS (frangi: the report)
    watershed: str = "distance"  # distance (report) | seeded
    threshold: float = 0.3  # distance watershed: threshold of the boundary map (report: 0.3)
    sigma_seeds: float = 3.0  # smoothing of the distance transform: larger, fewer superpixels
    sigma_weights: float = 2.0
    min_size: int = 25  # smallest superpixel, pixels
    label_low: float = 0.2  # confident merge edges: cut fraction below this (report: 0.2)
    label_high: float = 0.8  # confident cut edges: cut fraction above this (report: 0.8)
    rf_trees: int = 200
    rf_max_samples: int | None = None  # cap on training edges (random subset)
    rf_tree_fraction: float | None = 0.3  # bootstrap sample of each tree, as a fraction of the edges
    seed: int = 0
    beta: float = 0.5  # boundary bias of the costs
    solver: str = "kl"  # a solver of helpers.segmentation.multicut.SOLVERS
    pixel_trees: int = 16  # pixel classifier (boundary="pixel-rf")
    pixel_folds: int = 4  # out-of-fold maps on the training images
    intensity: str = "none"  # per-slice intensity normalisation, helpers.data.NORMALIZATIONS (none: the report)

    def __post_init__(self) -> None:
        """Check the names of boundary map, watershed, solver and normalisation, and each number's range.

        Raises:
            ValueError: unknown name, non-finite, out-of-range or non-integral number, or ``label_low > label_high``.
            TypeError: a setting that is not a number where one is needed.
        """
        checks.known_name(self.boundary, KINDS, "boundary map")
        checks.known_name(self.watershed, WATERSHEDS, "watershed method")
        checks.known_name(self.solver, SOLVERS, "multicut solver")
        checks.known_name(self.intensity, NORMALIZATIONS, "intensity normalisation")
        for name, (low, high, low_open, high_open) in FLOATS.items():
            value = getattr(self, name)
            if not (value is None and name in OPTIONAL):
                checked = checks.number(
                    value, f"PipelineSettings.{name}", low, high, low_open=low_open, high_open=high_open
                )
                object.__setattr__(self, name, checked)
        for name, (low, high) in INTEGERS.items():
            value = getattr(self, name)
            if not (value is None and name in OPTIONAL):
                object.__setattr__(self, name, checks.integer(value, f"PipelineSettings.{name}", low, high))
        if self.label_low > self.label_high:
            raise ValueError(
                f"PipelineSettings.label_low ({self.label_low}) is above label_high ({self.label_high}): edges with a "
                "cut fraction below label_low are merges, above label_high cuts, so label_low <= label_high"
            )

    def as_dict(self) -> dict:
        """Plain-dict form, for the results files."""
        return asdict(self)

    def digest(self) -> str:
        """A digest of every setting, recorded with results computed with them (12 hex digits)."""
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()[:12]

    def watershed_params(self) -> dict:
        """Keyword arguments of the configured watershed."""
        return {name: getattr(self, name) for name in WATERSHED_SETTINGS[self.watershed]}


DEFAULT_SETTINGS = PipelineSettings()  # the report's pipeline (Frangi, distance watershed, KL multicut)
