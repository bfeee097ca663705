"""A small U-Net boundary detector (chapter 08): model, same-region training patches, training, prediction.

:func:`train_unet` learns the membrane mask or the dense ground truth's thin boundaries (``UNetWork.target``) from
grey slices, optionally swapping a patch for the same window of a stylised copy (resumable, deterministic on the
CPU); :func:`membrane_probability` gives the boundary map for the segmentation pipeline. The work is ``config.unet``.
Chapter 08's experiment: :mod:`.material` (images), :mod:`.experiment` (arms), :mod:`.analysis` (statistics,
results file), :mod:`.prose` (words).
"""

from .data import (
    augment_patch,
    boundary_target,
    draw_windows,
    membrane_targets,
    sample_batch,
    step_generator,
    training_targets,
)
from .model import UNet
from .predict import membrane_probability
from .train import TrainedUNet, deterministic_torch, train_unet

__all__ = [
    "TrainedUNet",
    "UNet",
    "augment_patch",
    "boundary_target",
    "deterministic_torch",
    "draw_windows",
    "membrane_probability",
    "membrane_targets",
    "sample_batch",
    "step_generator",
    "train_unet",
    "training_targets",
]
