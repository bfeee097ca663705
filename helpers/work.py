"""How much work each stage does: frozen, self-checking dataclasses a profile fills in (:mod:`helpers.config`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from . import checks

HELDOUT_STYLES = (13, 22)  # rain princess, wave: kept out of every training set of the full profile
FULL_FOREST_TREES = 50  # chapter 06's edge forests in the full profile (chapters 03-05 keep the report's 200)
FULL_FOREST_EDGES = 50_000  # ... and their training edges at most (chapters 03-05: 100,000; reduced: 50,000)
ENGINES = ("gatys", "feedforward")  # the style engines of chapter 06's arms
# the feed-forward engine does no optimisation over the pixels (one network pass): its units and rows carry steps 0
FEEDFORWARD_STEPS = 0
HELDOUT_TEXTURES = (2, 4)  # the first texture images of data/styles/textures: unseen styles when all 24 paintings train


@dataclass(frozen=True)
class StyleWork:
    """How much style transfer chapters 01 and 02 do."""

    photo_size: int  # longest side of the Heidelberg photos, pixels
    photo_steps: int  # optimisation steps for the report's three examples
    widget_size: int  # size of the interactive panel's result (answers in seconds on a CPU)
    slices: tuple[int, ...]  # ISBI training slices that are stylised (chapter 06 works on these)
    styles: tuple[int, ...]  # paintings, by report number
    steps: tuple[int, ...]  # L-BFGS step counts that are cached
    crop: int | None  # side of the top-left crop that is stylised (None: the whole 512 px slice)
    batch: int  # (content, style) pairs optimised at once


@dataclass(frozen=True)
class SegmentationWork:
    """How much segmentation chapters 03-05 do (chapter 06 uses the same forest settings)."""

    crop: int | None  # side of the top-left crop of each slice (None: whole slice)
    train_slices: tuple[int, ...]
    test_slices: tuple[int, ...]
    rf_trees: int  # trees of the edge random forest (the report: 200)
    rf_max_samples: int | None  # cap on training edges per forest (bounds the cost)


@dataclass(frozen=True)
class ExperimentArm:
    """One arm of chapter 06: a style engine on its slices (and crop), paintings, pipelines and scenarios."""

    name: str  # names the arm's unit folder and its rows
    engine: str  # one of ENGINES
    crop: int | None  # side of the top-left crop (None: whole slices; feed-forward crops its whole-slice images)
    slices: tuple[int, ...]  # ISBI training slices, split into folds
    styles: tuple[int, ...]  # training paintings: scenario "full", and the style sweep's one painting each
    heldout_styles: tuple[int, ...]  # paintings never trained on: test conditions unseen_styleNN
    heldout_textures: tuple[int, ...]  # textures never trained on (feed-forward only): unseen_style_textureNN
    steps: tuple[int, ...]  # Gatys L-BFGS step counts; (FEEDFORWARD_STEPS,) for the feed-forward engine
    pipelines: tuple[str, ...]  # segmentation pipelines (helpers.experiments.unit_graphs.PIPELINES)
    scenarios: tuple[str, ...]  # training scenarios (helpers.experiments.scenarios.SCENARIOS)
    n_folds: int
    seeds: tuple[int, ...]
    report_split: bool = True  # add the report's split (0-23 / 24-29, restricted to the slices)
    pixel_rf_steps: tuple[int, ...] | None = None  # step counts of the pixel-classifier pipeline (None: steps)
    pixel_rf_scenarios: tuple[str, ...] | None = None  # its scenarios (None: scenarios)
    sweep_steps: tuple[int, ...] = ()  # step counts of the style sweep "originals + style N" (empty: no sweep)
    sweep_folds: int | None = None  # the sweep runs on the first seed's first folds (None: every fold)

    def __post_init__(self) -> None:
        """Check the engine, its step counts and textures, the held-out paintings and the costlier parts' subsets.

        Raises:
            ValueError: naming the arm and the field that is out of place.
        """
        where = f"ExperimentArm {self.name!r}"
        if self.engine not in ENGINES:
            raise ValueError(f"{where}: engine {self.engine!r} is not one of {ENGINES}")
        gatys = self.engine == "gatys"
        if gatys and (not self.steps or min(self.steps) < 1) or not gatys and self.steps != (FEEDFORWARD_STEPS,):
            raise ValueError(
                f"{where}: steps {self.steps}: Gatys needs counts >= 1, feed-forward {(FEEDFORWARD_STEPS,)}"
            )
        if gatys and self.heldout_textures:
            raise ValueError(f"{where}: held-out textures need the feed-forward engine (Gatys caches paintings only)")
        if set(self.heldout_styles) & set(self.styles):
            raise ValueError(f"{where}: held-out paintings {self.heldout_styles} are also among the training ones")
        checks.integer(self.n_folds, f"{where}.n_folds", 2, len(self.slices))
        checks.optional_integer(self.sweep_folds, f"{where}.sweep_folds", 1, self.n_folds)
        for name in ("pixel_rf_steps", "sweep_steps"):
            extra = sorted(set(getattr(self, name) or ()) - set(self.steps))
            if extra:
                raise ValueError(f"{where}.{name} holds {extra}, not among steps {self.steps}: use a subset")
        extra = sorted(set(self.pixel_rf_scenarios or ()) - set(self.scenarios))
        if extra:
            raise ValueError(f"{where}.pixel_rf_scenarios holds {extra}, not among scenarios: use a subset")


@dataclass(frozen=True)
class ExperimentWork:
    """How much the augmentation experiments of chapter 06 do."""

    steps: tuple[int, ...]  # stylisation step counts compared
    styles: tuple[int, ...]  # styles of scenario 1 ("full augmented set")
    heldout_styles: tuple[int, ...]  # never trained on: test slices stylised with them probe unseen styles
    n_folds: int
    seeds: tuple[int, ...]
    max_train_images: int | None  # cap on the pixel-classifier pipeline's training images per unit
    workers: int  # parallel processes for the experiment units (0: one per CPU core)
    forest_trees: int  # trees of each unit's edge random forest
    forest_max_samples: int | None  # cap on each unit's training edges (a seeded random subset)
    pixel_rf_steps: tuple[int, ...]  # step counts at which the pixel-classifier pipeline runs (a subset of steps)
    sweep_steps: tuple[int, ...]  # step counts of the style sweep "originals + style N" (a subset of steps)
    arms: tuple[ExperimentArm, ...] = ()  # chapter 06's arms (helpers.experiments.arms); the fields above: Gatys'

    def __post_init__(self) -> None:
        """Check the forest and that the costlier arms' step counts are among the compared ones.

        Raises:
            ValueError: no tree or edge, ``pixel_rf_steps``/``sweep_steps`` not in ``steps``, or two arms of one name.
        """
        checks.integer(self.forest_trees, "ExperimentWork.forest_trees", 1)
        checks.optional_integer(self.forest_max_samples, "ExperimentWork.forest_max_samples", 1)
        for name in ("pixel_rf_steps", "sweep_steps"):
            extra = sorted(set(getattr(self, name)) - set(self.steps))
            if extra:
                raise ValueError(f"ExperimentWork.{name} holds {extra}, not among steps {self.steps}: use a subset")
        names = [arm.name for arm in self.arms]
        if len(set(names)) != len(names):
            raise ValueError(f"ExperimentWork.arms repeats a name among {names}: give every arm its own name")


@dataclass(frozen=True)
class OwnDataWork:
    """How much chapter 07 (segment your own data: the FlyEM medulla subset, ISBI 2012 as the other dataset) does."""

    slices: tuple[int, ...] | None  # positions in the 16-slice FlyEM subset (None: all)
    crop: int | None  # side of the top-left FlyEM crop (None: whole 250 px slices)
    n_blocks: int  # z-blocks of those slices; the last one is tested, the others train
    gap: int  # slices left out next to the test block
    isbi_slices: tuple[int, ...]  # ISBI training slices of the cross-dataset forest
    isbi_crop: int | None  # side of the top-left ISBI crop (None: whole slices)


@dataclass(frozen=True)
class UNetWork:
    """How much U-Net training chapter 08 does: the same size and schedule for every arm."""

    TARGETS = ("membranes", "boundaries")  # what a U-Net can learn (not a field: no annotation)

    iterations: int  # optimiser steps per training (fixed: no early stopping)
    patch: int  # side of the square training patches, pixels (a multiple of 2**depth)
    batch: int  # patches per step
    width: int  # channels of the first level (doubled per level down)
    depth: int  # poolings between the finest and the coarsest level
    learning_rate: float  # Adam's step size
    seeds: tuple[int, ...]  # one training per seed (weights and patch draws)
    checkpoint_every: int  # steps between atomic checkpoints
    tile: int  # side of the tiles of a prediction (larger images are predicted tile by tile)
    threads: int  # torch CPU threads during training and prediction (fixed: same numbers every run)
    # the last training slices, never seen by the U-Net, whose maps train the edge forest (0: the U-Net's own)
    edge_slices: int = 0
    workers: int = 1  # arms trained and scored at once, one process each (results do not depend on it)
    # what the U-Net learns: "membranes" (the thick ISBI membrane mask) or "boundaries" (the thin boundaries of
    # the dense ground truth: pixels with a 4-neighbour of another cell, helpers.unet.data.boundary_target)
    target: str = "membranes"
    # a style arm replaces a patch with this probability by the same window of a stylised copy of its slice
    style_probability: float = 0.5
    # training paintings of the style arms (None: the report's 24 but the profile's held-out ones)
    paintings: tuple[int, ...] | None = None
    exploratory_seeds: tuple[int, ...] = (0,)  # seeds of the arms outside the confirmatory families

    def __post_init__(self) -> None:
        """Check every field.

        Raises:
            ValueError: a number out of range, no seeds, or a patch or tile that is not a multiple of ``2**depth``.
            TypeError: a field that is not a number where one is needed.
        """
        for name, low in (("iterations", 1), ("patch", 8), ("batch", 1), ("width", 1), ("depth", 1)):
            checks.integer(getattr(self, name), f"UNetWork.{name}", low)
        checks.integer(self.checkpoint_every, "UNetWork.checkpoint_every", 1)
        checks.integer(self.threads, "UNetWork.threads", 1)
        checks.integer(self.edge_slices, "UNetWork.edge_slices", 0)
        checks.integer(self.workers, "UNetWork.workers", 1)
        checks.number(self.learning_rate, "UNetWork.learning_rate", 0.0, None, low_open=True)
        if not self.seeds:
            raise ValueError("UNetWork.seeds is empty: give at least one seed")
        if not self.exploratory_seeds:
            raise ValueError("UNetWork.exploratory_seeds is empty: give at least one seed")
        for seed in (*self.seeds, *self.exploratory_seeds):
            checks.integer(seed, "UNetWork.seeds", 0, 2**32 - 1)
        if self.target not in self.TARGETS:
            raise ValueError(f"UNetWork.target = {self.target!r}: choose one of {self.TARGETS}")
        checks.number(self.style_probability, "UNetWork.style_probability", 0.0, 1.0)
        if self.paintings is not None and not self.paintings:
            raise ValueError("UNetWork.paintings is empty: give paintings, or None for all but the held-out ones")
        step = 2**self.depth
        for name in ("patch", "tile"):
            value = getattr(self, name)
            if value % step:
                raise ValueError(f"UNetWork.{name} = {value} is not a multiple of 2**depth = {step}")

    def as_dict(self) -> dict:
        """Plain-dict form, for results files and checkpoint fingerprints."""
        return asdict(self)
