"""A small U-Net membrane detector (chapter 08): model, training patches, deterministic training, prediction.

:func:`train_unet` trains on grey slices and their binary membrane labels (resumable, deterministic on the
CPU); :func:`membrane_probability` gives a slice's boundary map for the segmentation pipeline. How much work a
profile does is ``config.unet`` (:class:`helpers.config.UNetWork`).
"""

from .data import augment_patch, membrane_targets, sample_batch, step_generator
from .model import UNet
from .predict import membrane_probability
from .train import TrainedUNet, deterministic_torch, train_unet

__all__ = [
    "TrainedUNet",
    "UNet",
    "augment_patch",
    "deterministic_torch",
    "membrane_probability",
    "membrane_targets",
    "sample_batch",
    "step_generator",
    "train_unet",
]
