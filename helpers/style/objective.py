"""The objective both engines minimise: the VGG model, the fixed targets P^l and A^l, and eq. 5 for a batch."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from ..vgg import VGGFeatures
from .images import Style, as_batch, style_image
from .losses import content_loss, gram_matrix, style_loss, total_loss

PRECISIONS = ("auto", "fp32", "bf16")


@lru_cache(maxsize=8)
def get_model(source: str = "hed", pooling: str = "max", device: str = "cpu") -> VGGFeatures:
    """The VGG feature extractor, built once per (source, pooling, device).

    Args:
        source: weights, see :class:`helpers.vgg.VGGFeatures`.
        pooling: ``"max"`` or ``"avg"``.
        device: where the model lives.

    Returns:
        The frozen model (channels-last memory on CUDA).
    """
    model = VGGFeatures(source=source, pooling=pooling).to(device)
    if str(device).startswith("cuda"):
        model = model.to(memory_format=torch.channels_last)
    return model


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """The precision of the VGG passes: ``'auto'`` is bfloat16 autocast on CUDA and float32 elsewhere.

    Args:
        precision: ``"auto"``, ``"fp32"`` or ``"bf16"``.
        device: the device the passes run on.

    Returns:
        ``"fp32"`` or ``"bf16"``.

    Raises:
        ValueError: for another precision.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be 'auto', 'fp32' or 'bf16', got {precision!r}")
    if precision == "auto":
        return "bf16" if torch.device(device).type == "cuda" else "fp32"
    return precision


def autocast(device: torch.device, precision: str) -> AbstractContextManager:
    """The autocast context of a resolved precision (``"bf16"``: bfloat16; ``"fp32"``: autocast off).

    Args:
        device: the device the passes run on.
        precision: ``"fp32"`` or ``"bf16"``.

    Returns:
        A context manager.
    """
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return torch.autocast(device_type=device.type, enabled=False)


@dataclass
class Targets:
    """The fixed targets of eq. 1 and 4: content features P^l and style Grams A^l (fp32)."""

    content: dict[str, torch.Tensor]
    grams: dict[str, torch.Tensor]


def per_image(value: float | Sequence[float], batch: int, device: torch.device) -> torch.Tensor:
    """A loss weight (alpha or beta) as one value per image.

    Args:
        value: one number, or one per image.
        batch: images in the batch.
        device: where the weights go.

    Returns:
        float32 (batch,) weights.

    Raises:
        ValueError: for neither one nor ``batch`` values.
    """
    weights = torch.as_tensor(value, dtype=torch.float32, device=device).flatten()
    if weights.numel() == 1:
        weights = weights.repeat(batch)
    if weights.numel() != batch:
        raise ValueError(f"alpha/beta must be one number or one per pair ({batch}), got {weights.numel()}")
    return weights


@torch.no_grad()
def batch_targets(
    model: VGGFeatures,
    content: torch.Tensor,
    styles: Sequence[Style],
    content_layers: Sequence[str],
    style_layers: Sequence[str],
) -> Targets:
    """Content features P^l of a batch and one style Gram A^l per image, each distinct style computed once.

    Args:
        model: the VGG features.
        content: (B, 3, H, W) RGB contents in [0, 1].
        styles: one per content: images, or paintings' report numbers or names (equal ones share a Gram).
        content_layers: the layers of eq. 1.
        style_layers: the layers of eq. 4.

    Returns:
        The fp32 :class:`Targets`.

    Raises:
        KeyError: naming the choices, for an unknown painting.
    """
    shape = tuple(content.shape[-2:])
    keys = [s if isinstance(s, (int, np.integer, str)) else id(s) for s in styles]  # images: by identity
    fitted = {}
    for key, style in zip(keys, styles):
        if key not in fitted:
            fitted[key] = style_image(style, shape)
    grams = {}
    for key, image in fitted.items():
        maps = model(as_batch([image], content.device), list(style_layers))
        grams[key] = {name: gram_matrix(maps[name].float()) for name in style_layers}
    maps = model(content, list(content_layers))
    return Targets(
        {name: maps[name].float() for name in content_layers},
        {name: torch.cat([grams[key][name] for key in keys]) for name in style_layers},
    )


def evaluate(
    model: VGGFeatures,
    x: torch.Tensor,
    targets: Targets,
    alpha: float | torch.Tensor,
    beta: float | torch.Tensor,
    style_weights: dict[str, float] | None,
    device: torch.device,
    precision: str,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Eq. 1, 4 and 5 for every image of the batch ``x``.

    Args:
        model: the VGG features.
        x: (B, 3, H, W) images being optimised.
        targets: the content and style targets.
        alpha: content weight, a number or one per image.
        beta: style weight, a number or one per image.
        style_weights: per-layer style weights (None: equal).
        device: the device of ``x``.
        precision: resolved precision of the VGG pass.

    Returns:
        ``(content, style, total)`` losses, each of shape (B,).
    """
    layers = list(dict.fromkeys(list(targets.content) + list(targets.grams)))
    with autocast(device, precision):
        maps = model(x.contiguous(memory_format=torch.channels_last) if device.type == "cuda" else x, layers)
    content = content_loss(maps, targets.content)
    style = style_loss(maps, targets.grams, style_weights)
    return content, style, total_loss(content, style, alpha, beta)
