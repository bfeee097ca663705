"""VGG conv features for style transfer: the HED VGG16, the original ImageNet VGG19, or torchvision's (online).

The offline sources (``"hed"``: HED's fine-tuned VGG16, ``"vgg19"``: Gatys et al.'s ImageNet VGG19) expect BGR in
0-255 minus a Caffe mean pixel, torchvision's RGB normalised by the ImageNet mean/std; :class:`VGGFeatures` takes RGB
in [0, 1] and converts it itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .vgg19 import VGG19_MEAN_BGR, VGG19_WEIGHTS_ENV, read_vgg19_weights, vgg19_weights_path
from .weights import VGG16_BLOCKS, VGG19_BLOCKS, WEIGHTS_ENV, layer_names, read_hed_weights, weights_path

HED_MEAN_BGR = (104.00699, 116.66877, 122.67892)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
SOURCES = ("hed", "vgg19", "torchvision-vgg16", "torchvision-vgg19")
# offline sources: their weights reader and the mean pixel their BGR 0-255 input is centred on
OFFLINE = {"hed": (read_hed_weights, HED_MEAN_BGR), "vgg19": (read_vgg19_weights, VGG19_MEAN_BGR)}
POOLING = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


class VGGFeatures(nn.Module):
    """VGG conv stack mapping RGB images in [0, 1], shape (B, 3, H, W), to named feature maps.

    ``pooling='max'`` is the trained network; ``'avg'`` is Gatys et al.'s variant for smoother gradients. Only the
    layers up to the deepest requested one are evaluated.
    """

    def __init__(self, source: str = "hed", pooling: str = "max", weights: dict[str, np.ndarray] | None = None) -> None:
        """Build the network and load its weights.

        Args:
            source: one of :data:`SOURCES`; ``"hed"`` and ``"vgg19"`` are offline, the torchvision ones download.
            pooling: ``"max"`` or ``"avg"``.
            weights: tensors of an offline source (:func:`read_hed_weights`, :func:`read_vgg19_weights`); None reads the
                source's own file.

        Raises:
            ValueError: for an unknown source or pooling.
            RuntimeError: if torchvision's weights are neither cached nor downloadable.
        """
        super().__init__()
        if source not in SOURCES:
            raise ValueError(f"unknown VGG source {source!r}: choose one of {SOURCES}")
        if pooling not in POOLING:
            raise ValueError(f"pooling must be 'max' or 'avg', got {pooling!r}")
        self.source = source
        self.names = layer_names(VGG19_BLOCKS if source.endswith("vgg19") else VGG16_BLOCKS)
        self.depth = len(self.names)  # layers with weights; a partial export (see export_weights) stops earlier
        layers = []
        channels = 3
        for name in self.names:
            if name.startswith("conv"):
                width = min(64 * 2 ** (int(name[4]) - 1), 512)
                layers.append(nn.Conv2d(channels, width, 3, padding=1))
                channels = width
            elif name.startswith("relu"):
                layers.append(nn.ReLU(inplace=False))
            else:  # HED's Keras 'same' pooling == ceil_mode for odd sizes; VGG19 pools 'valid' (floor)
                layers.append(POOLING[pooling](2, 2, ceil_mode=source == "hed"))
        self.layers = nn.ModuleList(layers)
        if source in OFFLINE:
            read, mean_bgr = OFFLINE[source]
            self._load_offline(weights if weights is not None else read())
            self.register_buffer("mean", torch.tensor(mean_bgr).view(1, 3, 1, 1))
        else:
            self._load_torchvision(source)
            self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def _conv_layers(self) -> list[tuple[str, nn.Conv2d]]:
        return [(name, layer) for name, layer in zip(self.names, self.layers) if name.startswith("conv")]

    def _load_offline(self, weights: dict[str, np.ndarray]) -> None:
        """Copy the conv weights; a partial export stops the usable network early (``self.depth``)."""
        for name, layer in self._conv_layers():
            if f"{name}.weight" not in weights:
                self.depth = self.names.index(name)
                break
            copy_conv(layer, weights, name)

    def _load_torchvision(self, source: str) -> None:
        import torchvision  # lazy: heavy (seconds), and only the optional online sources need it

        arch = source.split("-")[1]
        enum = {"vgg16": torchvision.models.VGG16_Weights, "vgg19": torchvision.models.VGG19_Weights}[arch]
        try:
            model = getattr(torchvision.models, arch)(weights=enum.IMAGENET1K_V1)
        except Exception as error:
            raise RuntimeError(
                f"torchvision's ImageNet {arch.upper()} weights are not cached and cannot be downloaded here "
                f"({type(error).__name__}): use source='hed' (offline default) or run once with internet access"
            ) from error
        torchvision_convs = [module for module in model.features if isinstance(module, nn.Conv2d)]
        for (_name, layer), trained in zip(self._conv_layers(), torchvision_convs):
            layer.weight.data.copy_(trained.weight.data)
            layer.bias.data.copy_(trained.bias.data)

    def preprocess(self, rgb: torch.Tensor) -> torch.Tensor:
        """RGB (B, 3, H, W) in [0, 1] -> Caffe BGR 0-255 minus the mean pixel (offline) or ImageNet-normalised RGB."""
        if self.source in OFFLINE:
            return rgb.flip(1) * 255.0 - self.mean
        return (rgb - self.mean) / self.std

    def forward(self, rgb: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        """Feature maps of the requested layers.

        Args:
            rgb: (B, 3, H, W) RGB images in [0, 1].
            layers: names as in :func:`layer_names`.

        Returns:
            ``{layer: (B, N, h, w) maps}``.

        Raises:
            ValueError: for a wrong input shape, or a layer beyond a partial export's weights.
            KeyError: for an unknown layer name.
        """
        if rgb.ndim != 4 or rgb.shape[1] != 3:
            raise ValueError(f"expected RGB images of shape (B, 3, H, W), got {tuple(rgb.shape)}")
        unknown = [name for name in layers if name not in self.names]
        if unknown:
            raise KeyError(f"unknown VGG layers {unknown}: choose from {self.names}")
        wanted = set(layers)
        last = max(self.names.index(name) for name in layers)
        if last >= self.depth:
            vgg19 = self.source == "vgg19"
            path, variable = (vgg19_weights_path(), VGG19_WEIGHTS_ENV) if vgg19 else (weights_path(), WEIGHTS_ENV)
            raise ValueError(
                f"layer {self.names[last]} lies beyond the loaded weights, which stop before {self.names[self.depth]} "
                f"({path} is a partial export): export deeper layers or unset ${variable}"
            )
        out = {}
        x = self.preprocess(rgb)
        for name, layer in zip(self.names[: last + 1], self.layers):
            x = layer(x)
            if name in wanted:
                out[name] = x
        return out


def copy_conv(layer: nn.Conv2d, weights: dict[str, np.ndarray], name: str) -> None:
    """Copy ``weights["<name>.weight"]`` and ``["<name>.bias"]`` (PyTorch layout) into ``layer``."""
    layer.weight.data.copy_(torch.from_numpy(np.ascontiguousarray(weights[f"{name}.weight"])))
    layer.bias.data.copy_(torch.from_numpy(weights[f"{name}.bias"]))
