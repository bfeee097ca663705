"""What quantising every conv kernel to 256 levels changes (the offline VGG19 file is quantised so).

The VGG19's full-precision original is not offline, so the effect is measured on the HED VGG16 against itself
quantised by :func:`quantise` (1D k-means per layer, as the VGG19 file was made).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import torch

from ..vgg import VGG16_BLOCKS, VGGFeatures, layer_names, read_hed_weights
from .comparison import Pair, start_losses
from .images import as_batch, check_image, style_image
from .objective import Targets, batch_targets, evaluate
from .settings import StyleSettings

QUANTISATION_LEVELS = 256  # the VGG19 file's levels per layer
KMEANS_ITERATIONS = 12

__all__ = ["QUANTISATION_LEVELS", "quantisation_effect", "quantise"]


def quantise(weights: np.ndarray, levels: int = QUANTISATION_LEVELS) -> np.ndarray:
    """A float array with its values replaced by the nearest of at most ``levels`` centroids (1D k-means), float32.

    Centroids start where a least-squares quantiser puts them (density ~ cube root of the weights' density), since VGG
    kernels are heavy-tailed; a few Lloyd iterations refine them.
    """
    flat = np.asarray(weights, dtype=np.float64).ravel()
    counts, edges = np.histogram(flat, bins=16 * levels)
    density = np.cumsum(counts ** (1 / 3))
    centroids = np.unique(np.interp((np.arange(levels) + 0.5) / levels, density / density[-1], edges[1:]))
    for _ in range(KMEANS_ITERATIONS):
        index = np.searchsorted((centroids[1:] + centroids[:-1]) / 2, flat)
        counts = np.bincount(index, minlength=len(centroids))
        sums = np.bincount(index, weights=flat, minlength=len(centroids))
        centroids = np.where(counts > 0, sums / np.maximum(counts, 1), centroids)
    index = np.searchsorted((centroids[1:] + centroids[:-1]) / 2, flat)
    return centroids[index].reshape(np.shape(weights)).astype(np.float32)


def quantisation_effect(contents: Mapping[str, np.ndarray], pairs: Sequence[Pair], settings: StyleSettings) -> dict:
    """What 256-level quantisation of every conv kernel changes, on the HED VGG16 (full precision vs quantised).

    Per pair: the relative change of the start losses (``L_content(p, a)``, ``L_style(a, p)``) and the cosine between
    the two networks' eq. 5 gradients at the photo moved 10 % towards the painting (so the content term is not 0).

    Args:
        contents: photos by name, RGB in [0, 1].
        pairs: (photo, painting) pairs.
        settings: alpha, beta, layers and device (``source`` is ignored: HED is used).

    Returns:
        JSON-ready ``{"levels", "weight_error_relative", "pairs": [{"content_change", "style_change",
        "gradient_cosine"}], "style_change_max", "content_change_max", "gradient_cosine_min"}``;
        ``weight_error_relative`` is the largest per-layer RMS weight error over RMS weight, over the quantised layers
        (those up to the deepest the losses use).
    """
    full = read_hed_weights()
    names = layer_names(VGG16_BLOCKS)
    deepest = max(names.index(layer) for layer in (*settings.content_layers, *settings.style_layers))
    conv = [f"{name}.weight" for name in names[: deepest + 1] if name.startswith("conv")]  # the layers used
    quantised = {key: quantise(value) if key in conv else value for key, value in full.items()}
    weight_error = max(
        float(np.sqrt(np.mean((quantised[key] - full[key]) ** 2)) / np.sqrt(np.mean(full[key] ** 2))) for key in conv
    )
    settings = replace(settings, source="hed", precision="fp32", compile="off", channels_last=False)
    execution = settings.execution("sequential")
    device = execution.device
    models = {
        "full": VGGFeatures("hed", settings.pooling, weights=full).to(device),
        "quantised": VGGFeatures("hed", settings.pooling, weights=quantised).to(device),
    }
    rows = []
    for photo, number in pairs:
        start = {name: start_losses(model, contents[photo], number, settings) for name, model in models.items()}
        p = as_batch([check_image(contents[photo], "content image")], device)
        a = as_batch([style_image(number, tuple(p.shape[-2:]))], device)
        x = (0.9 * p + 0.1 * a).requires_grad_(True)
        gradients = []
        for model in models.values():
            targets: Targets = batch_targets(model, p, [number], settings.content_layers, settings.style_layers)
            total = evaluate(model, x, targets, settings.alpha, settings.beta, settings.style_weights, execution)[2]
            gradients.append(torch.autograd.grad(total.sum(), x)[0].flatten())
        rows.append(
            {
                "pair": [photo, number],
                "content_change": start["quantised"][0] / start["full"][0] - 1,
                "style_change": start["quantised"][1] / start["full"][1] - 1,
                "gradient_cosine": float(torch.nn.functional.cosine_similarity(*gradients, dim=0)),
            }
        )
    return {
        "levels": QUANTISATION_LEVELS,
        "weight_error_relative": weight_error,
        "pairs": rows,
        "style_change_max": max(abs(row["style_change"]) for row in rows),
        "content_change_max": max(abs(row["content_change"]) for row in rows),
        "gradient_cosine_min": min(row["gradient_cosine"] for row in rows),
    }
