"""The settings of the segmentation pipeline: every parameter of every stage, as one frozen value."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .boundaries import KINDS
from .checks import known_name
from .multicut import SOLVERS
from .superpixels import WATERSHEDS

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
    weighting_exponent: float | None = None  # None: no edge-length weighting of the costs
    solver: str = "kl"  # a solver of helpers.segmentation.multicut.SOLVERS
    pixel_trees: int = 16  # pixel classifier (boundary="pixel-rf")
    pixel_folds: int = 4  # out-of-fold maps on the training images

    def __post_init__(self) -> None:
        """Check the names of the boundary map, watershed and solver."""
        known_name(self.boundary, KINDS, "boundary map")
        known_name(self.watershed, WATERSHEDS, "watershed method")
        known_name(self.solver, SOLVERS, "multicut solver")

    def as_dict(self) -> dict:
        """Plain-dict form, for the results files."""
        return asdict(self)

    def watershed_params(self) -> dict:
        """Keyword arguments of the configured watershed."""
        return {name: getattr(self, name) for name in WATERSHED_SETTINGS[self.watershed]}


DEFAULT_SETTINGS = PipelineSettings()  # the report's pipeline (Frangi, distance watershed, KL multicut)
