"""VGG conv features for style transfer (the HED VGG16 and the ImageNet VGG19), and the HED edge detector.

:mod:`.weights` and :mod:`.vgg19` read the two offline weights files, :mod:`.features` holds the feature extractor,
:mod:`.hed` the edge detector and its layout check; ``python -m helpers.vgg --export PATH [--source vgg19]`` writes a
small weights file that travels where the wheels cannot.
"""

from .features import HED_MEAN_BGR, IMAGENET_MEAN, IMAGENET_STD, POOLING, SOURCES, VGGFeatures
from .hed import HED, gradient_agreement, hed_edges, layout_check, shuffled_weights, to_tensor
from .vgg19 import (
    VGG19_MEAN_BGR,
    VGG19_WEIGHTS_ENV,
    bundled_vgg19_path,
    export_vgg19_weights,
    read_vgg19_weights,
    vgg19_weights_path,
)
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
    "VGG19_MEAN_BGR",
    "VGG19_WEIGHTS_ENV",
    "WEIGHTS_ENV",
    "VGGFeatures",
    "bundled_vgg19_path",
    "bundled_weights_path",
    "export_vgg19_weights",
    "export_weights",
    "gradient_agreement",
    "hed_edges",
    "layer_names",
    "layout_check",
    "read_exported_weights",
    "read_hed_weights",
    "read_vgg19_weights",
    "shuffled_weights",
    "to_tensor",
    "vgg19_weights_path",
    "weights_path",
]
