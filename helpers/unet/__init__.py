"""A small U-Net boundary detector (chapter 08): model, same-region training patches, training, prediction.

:func:`train_unet` trains on grey slices and their binary membrane labels, learning the membrane mask or the thin
boundaries of the dense ground truth (``UNetWork.target``), optionally with stylised copies of the same slices
that replace a patch's pixels by the same window (resumable, deterministic on the CPU);
:func:`membrane_probability` gives a slice's boundary map for the segmentation pipeline. How much work a profile
does is ``config.unet`` (:class:`helpers.config.UNetWork`). Chapter 08's experiment: :mod:`.material` (its
images), :mod:`.experiment` (its arms), :mod:`.analysis` (its statistics and results file), :mod:`.prose` (its
words).
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
