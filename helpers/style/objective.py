"""The objective both engines minimise: the VGG model, the fixed targets P^l and A^l, and eq. 5 for a batch.

An :class:`Execution` says how the VGG passes run (precision, memory format, ``torch.compile``); with float32, the
standard layout and no compilation (the CPU defaults) the CPU results stay bit for bit those of the cached images.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from ..vgg import VGGFeatures
from .images import Style, as_batch, style_image
from .losses import content_loss, gram_matrix, style_loss, total_loss

PRECISIONS = ("auto", "fp32", "bf16")
# "off", or the torch.compile backend of the VGG passes: "inductor" generates kernels (a C++ compiler on the CPU,
# Triton on CUDA); "aot_eager" traces the same forward and backward graphs (Dynamo + AOTAutograd) and runs them
# with PyTorch's own kernels, for machines without a compiler and for quick tests
COMPILE_BACKENDS = ("auto", "off", "inductor", "aot_eager")
GPU_MEMORY_FRACTION = 0.8  # of the free GPU memory a batch may plan to use (the rest: allocator, cuDNN workspaces)
ACTIVATION_COPIES = 3  # feature maps kept for the backward pass, their gradients, autocast copies (an upper bound)
LBFGS_EXTRA_VECTORS = 6  # image-sized vectors of L-BFGS besides its history: x, gradient, previous gradient, d, q, r


@dataclass(frozen=True)
class Execution:
    """How the VGG passes of a run execute, each ``"auto"`` resolved (:meth:`.settings.StyleSettings.execution`).

    Attributes:
        device: where the passes run.
        precision: ``"fp32"`` or ``"bf16"`` (bfloat16 autocast of the VGG passes; Grams and losses in fp32).
        channels_last: the network and its input in channels-last memory format.
        compile: ``"off"``, or the ``torch.compile`` backend of the passes (forward and backward).
    """

    device: torch.device
    precision: str
    channels_last: bool
    compile: str


@lru_cache(maxsize=8)
def get_model(
    source: str = "hed", pooling: str = "max", device: str = "cpu", channels_last: bool | None = None
) -> VGGFeatures:
    """The frozen :class:`helpers.vgg.VGGFeatures`, built once per (source, pooling, device, memory format).

    Args:
        source: weights, see :class:`helpers.vgg.VGGFeatures`.
        pooling: ``"max"`` or ``"avg"``.
        device: where the model lives.
        channels_last: its weights in channels-last memory format (None: on CUDA only).
    """
    model = VGGFeatures(source=source, pooling=pooling).to(device)
    if str(device).startswith("cuda") if channels_last is None else channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """``"fp32"`` or ``"bf16"`` for the VGG passes on ``device``: ``"auto"`` is bfloat16 autocast on CUDA, else float32.

    Raises:
        ValueError: for a precision other than ``"auto"``, ``"fp32"`` or ``"bf16"``.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be 'auto', 'fp32' or 'bf16', got {precision!r}")
    if precision == "auto":
        return "bf16" if torch.device(device).type == "cuda" else "fp32"
    return precision


def autocast(device: torch.device, precision: str) -> AbstractContextManager:
    """The autocast context of a resolved precision on ``device`` (``"bf16"``: bfloat16; ``"fp32"``: autocast off)."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return torch.autocast(device_type=device.type, enabled=False)


@dataclass
class Targets:
    """The fixed targets of eqs. 1 and 4: content features P^l and style Grams A^l (fp32)."""

    content: dict[str, torch.Tensor]
    grams: dict[str, torch.Tensor]


def per_image(value: float | Sequence[float], batch: int, device: torch.device) -> torch.Tensor:
    """A loss weight (alpha or beta), one number or one per image, as float32 (batch,) weights on ``device``.

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
    """The fp32 :class:`Targets` of a (B, 3, H, W) RGB content batch in [0, 1]: P^l, and one style Gram A^l per image.

    ``styles`` (one per content) are images or paintings' numbers or names; equal ones share one Gram, computed once.

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


def _loss_terms(
    model: VGGFeatures,
    x: torch.Tensor,
    content_targets: dict[str, torch.Tensor],
    grams: dict[str, torch.Tensor],
    style_weights: dict[str, float] | None,
    precision: str,
    channels_last: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Eqs. 1 and 4 per image: the VGG pass of ``x`` and its losses (what ``torch.compile`` compiles)."""
    layers = list(dict.fromkeys(list(content_targets) + list(grams)))
    with autocast(x.device, precision):
        maps = model(x.contiguous(memory_format=torch.channels_last) if channels_last else x, layers)
    return content_loss(maps, content_targets), style_loss(maps, grams, style_weights)


@lru_cache(maxsize=len(COMPILE_BACKENDS))
def compiled_loss_terms(backend: str) -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
    """``_loss_terms`` compiled by ``torch.compile`` with ``backend`` (e.g. ``"inductor"``), once per backend/process.

    The graphs are built at the first call (forward) and first gradient (backward) and reused while the shape stays
    (``dynamic=False``: a run keeps its shape); a new batch shape compiles again.
    """
    return torch.compile(_loss_terms, backend=backend, dynamic=False)


def evaluate(
    model: VGGFeatures,
    x: torch.Tensor,
    targets: Targets,
    alpha: float | torch.Tensor,
    beta: float | torch.Tensor,
    style_weights: dict[str, float] | None,
    execution: Execution,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Eqs. 1, 4 and 5 for every image of the (B, 3, H, W) batch ``x``: ``(content, style, total)``, each of shape (B,).

    ``alpha`` and ``beta`` are one number or one per image; ``style_weights`` None means equal layer weights;
    ``execution`` sets precision, memory format and compilation of the VGG pass.
    """
    terms = _loss_terms if execution.compile == "off" else compiled_loss_terms(execution.compile)
    content, style = terms(
        model, x, targets.content, targets.grams, style_weights, execution.precision, execution.channels_last
    )
    return content, style, total_loss(content, style, alpha, beta)


def feature_elements(model: VGGFeatures, shape: tuple[int, int], layers: Sequence[str]) -> int:
    """Elements of all feature maps one (height, width) image makes up to the deepest of ``layers``, summed."""
    height, width = shape
    channels, total = 3, 0
    last = max(model.names.index(name) for name in layers)
    for name, layer in zip(model.names[: last + 1], model.layers):
        if name.startswith("conv"):
            channels = layer.out_channels
        elif name.startswith("pool"):
            rounding = math.ceil if layer.ceil_mode else math.floor
            height, width = rounding(height / 2), rounding(width / 2)
        total += channels * height * width
    return total


def image_bytes(
    model: VGGFeatures, shape: tuple[int, int], layers: Sequence[str], precision: str, history_size: int
) -> int:
    """An upper estimate of the device memory (bytes) one (height, width) image of a batched L-BFGS run takes.

    Counts :data:`ACTIVATION_COPIES` copies of every layer's output up to the deepest of ``layers`` (2 bytes per element
    for ``"bf16"``, 4 for ``"fp32"``) and L-BFGS's float32 image-sized vectors: ``2 * history_size`` (at most the run's
    steps) and :data:`LBFGS_EXTRA_VECTORS` more.
    """
    element = 2 if precision == "bf16" else 4
    pixels = 3 * shape[0] * shape[1]
    maps = ACTIVATION_COPIES * element * feature_elements(model, shape, layers)
    return maps + 4 * pixels * (2 * history_size + LBFGS_EXTRA_VECTORS)


def batch_size_for_memory(free_bytes: int, bytes_per_image: int, fraction: float = GPU_MEMORY_FRACTION) -> int:
    """How many images of ``bytes_per_image`` (:func:`image_bytes`) fit ``fraction`` of ``free_bytes`` (at least 1)."""
    return max(1, int(free_bytes * fraction) // max(1, bytes_per_image))
