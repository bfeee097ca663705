"""How an image is stylised: :class:`StyleSettings`, shared by both engines, each setting checked on creation."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .. import checks, vgg
from .losses import DEFAULT_ALPHA, DEFAULT_BETA, DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS
from .objective import COMPILE_BACKENDS, PRECISIONS, Execution
from .optimizers import DEFAULT_LR, INITS

MAX_SEED = 2**32 - 1
# The version of the pixels the engines produce for given settings: raise it with any change to the engines that
# changes their results: it is part of every cached image's key (helpers.style.cache), so images of another
# version are never read.
ENGINE_VERSION = 1
# conv layers per block of each network (helpers.vgg.SOURCES): the layer names the settings accept
NETWORK_BLOCKS = {
    "hed": vgg.VGG16_BLOCKS,
    "vgg19": vgg.VGG19_BLOCKS,
    "torchvision-vgg16": vgg.VGG16_BLOCKS,
    "torchvision-vgg19": vgg.VGG19_BLOCKS,
}
ENGINES = ("sequential", "batched")


def loss_weights(value: object, name: str) -> float | tuple[float, ...]:
    """``alpha`` or ``beta`` (``name``): one finite number >= 0, or a non-empty sequence of them (one per pair).

    Raises:
        TypeError: for something that is neither a number nor a sequence of numbers.
        ValueError: for NaN, inf, a negative weight or an empty sequence.
    """
    if isinstance(value, np.ndarray | np.generic | torch.Tensor):
        value = value.tolist()
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return checks.number(value, f"StyleSettings.{name}", 0.0)
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(f"StyleSettings.{name} must be a number >= 0 or one per pair, got {value!r}")
    weights = tuple(checks.number(item, f"StyleSettings.{name} element {item!r}", 0.0) for item in value)
    if not weights:
        raise ValueError(f"StyleSettings.{name} is an empty sequence: pass one number, or one per pair")
    return weights


def _layers(value: Sequence[str], name: str, known: list[str]) -> tuple[str, ...]:
    """A non-empty tuple of VGG layer names that the network has."""
    layers = (value,) if isinstance(value, str) else tuple(value)
    unknown = [layer for layer in layers if layer not in known]
    if not layers or unknown:
        raise ValueError(
            f"StyleSettings.{name} must name at least one VGG layer, got {value!r}"
            + (f" ({unknown} unknown)" if unknown else "")
            + f": choose from {[layer for layer in known if layer.startswith('conv')]}"
        )
    return layers


def _auto_or_flag(value: object, name: str) -> str | bool:
    """``"auto"``, ``True`` or ``False`` (not 1, 0 or another string)."""
    if value == "auto" or isinstance(value, bool):
        return value
    raise ValueError(f"StyleSettings.{name} must be 'auto', True or False, got {value!r}")


@dataclass(frozen=True)
class StyleSettings:
    """How an image is stylised, for :func:`~helpers.style.engine.stylize` and ``stylize_batch``; checked on creation.

    Attributes:
        alpha: content weight of eq. 5, finite and >= 0; ``stylize_batch`` also takes one per pair.
        beta: style weight of eq. 5, likewise; per pair, alpha and beta must not both be 0.
        content_layers: VGG layers of eq. 1.
        style_layers: VGG layers of eq. 4.
        style_weights: per-layer weights of eq. 4, finite and >= 0 (None: equal, as the report).
        init: start from the ``"content"`` image or from white ``"noise"`` (drawn with ``seed``).
        lr: L-BFGS step size, finite and > 0 (None: 1, the tutorial's).
        seed: seed of the noise start, a whole number in [0, 2**32 - 1].
        device: ``"cpu"`` or ``"cuda"``.
        source: VGG weights (:data:`helpers.vgg.SOURCES`).
        pooling: ``"max"`` (the trained network) or ``"avg"``.
        precision: of the VGG passes: ``"fp32"``, ``"bf16"`` (autocast; Grams, losses, optimiser stay fp32) or
            ``"auto"`` (bf16 on CUDA in ``stylize_batch``, else fp32: the reference loop is the tutorial's fp32).
        history_size: curvature pairs L-BFGS keeps (per image), a whole number >= 1.
        compile: ``torch.compile`` of the VGG pass and losses: ``"inductor"``, ``"aot_eager"`` (traced graphs on
            PyTorch's kernels), ``"off"`` or ``"auto"`` (inductor on CUDA in ``stylize_batch``, else off).
        channels_last: the network and images in channels-last memory format (True/False), or ``"auto"``: on CUDA only.
        batch_size: at most this many pairs of a ``stylize_batch`` call optimised at once (results the same up to
            rounding), a whole number >= 1, or ``"auto"``: on CUDA as many as fit the free GPU memory, on the CPU all.

    The CPU defaults give bit for bit the results of :data:`ENGINE_VERSION`; the other options change them by rounding.
    """

    alpha: float | tuple[float, ...] = DEFAULT_ALPHA
    beta: float | tuple[float, ...] = DEFAULT_BETA
    content_layers: tuple[str, ...] = DEFAULT_CONTENT_LAYERS
    style_layers: tuple[str, ...] = DEFAULT_STYLE_LAYERS
    style_weights: dict[str, float] | None = None
    init: str = "content"
    lr: float | None = None
    seed: int = 0
    device: str = "cpu"
    source: str = "hed"
    pooling: str = "max"
    precision: str = "auto"
    history_size: int = 100
    compile: str = "auto"
    channels_last: str | bool = "auto"
    batch_size: str | int = "auto"

    def __post_init__(self) -> None:
        """Check every setting (and store numbers as plain ``float``/``int``, sequences as tuples).

        Raises:
            ValueError: for an unknown name (start, weights, pooling, precision, layer, device), a non-finite,
                negative or non-integral number, or alpha = beta = 0.
            TypeError: for a setting of the wrong kind (e.g. a string where a number belongs).
        """
        checks.known_name(self.init, INITS, "StyleSettings.init")
        checks.known_name(self.source, vgg.SOURCES, "StyleSettings.source (VGG weights)")
        checks.known_name(self.pooling, vgg.POOLING, "StyleSettings.pooling")
        checks.known_name(self.precision, PRECISIONS, "StyleSettings.precision")
        checks.known_name(self.compile, COMPILE_BACKENDS, "StyleSettings.compile (torch.compile backend)")
        try:
            torch.device(self.device)
        except (RuntimeError, TypeError, ValueError) as error:
            raise ValueError(
                f"StyleSettings.device {self.device!r} is not a torch device: use 'cpu' or 'cuda'"
            ) from error
        alpha, beta = loss_weights(self.alpha, "alpha"), loss_weights(self.beta, "beta")
        pairs = max(len(w) if isinstance(w, tuple) else 1 for w in (alpha, beta))
        as_list = [list(w) if isinstance(w, tuple) else [w] * pairs for w in (alpha, beta)]
        if len(as_list[0]) == len(as_list[1]) and any(a == 0 and b == 0 for a, b in zip(*as_list)):
            raise ValueError("StyleSettings.alpha and beta are both 0 (for a pair): eq. 5 is then 0 and nothing moves")
        known = vgg.layer_names(NETWORK_BLOCKS[self.source])
        style_layers = _layers(self.style_layers, "style_layers", known)
        if self.style_weights is not None:
            if not isinstance(self.style_weights, dict) or set(self.style_weights) - set(style_layers):
                raise ValueError(
                    f"StyleSettings.style_weights must map style layers {style_layers} to numbers, "
                    f"got {self.style_weights!r}"
                )
            for layer, weight in self.style_weights.items():
                checks.number(weight, f"StyleSettings.style_weights[{layer!r}]", 0.0)
        values = {
            "alpha": alpha,
            "beta": beta,
            "content_layers": _layers(self.content_layers, "content_layers", known),
            "style_layers": style_layers,
            "lr": None if self.lr is None else checks.number(self.lr, "StyleSettings.lr", 0.0, low_open=True),
            "seed": checks.integer(self.seed, "StyleSettings.seed", 0, MAX_SEED),
            "history_size": checks.integer(self.history_size, "StyleSettings.history_size", 1),
            "channels_last": _auto_or_flag(self.channels_last, "channels_last"),
            "batch_size": self.batch_size
            if self.batch_size == "auto"
            else checks.integer(self.batch_size, "StyleSettings.batch_size (pairs at once, or 'auto')", 1),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @property
    def step_size(self) -> float:
        """``lr``, or L-BFGS's default step size."""
        return DEFAULT_LR if self.lr is None else self.lr

    def execution(self, engine: str) -> Execution:
        """How the VGG passes run for ``engine`` (``"sequential"`` or ``"batched"``), each ``"auto"`` resolved.

        On CUDA the batched engine gets bfloat16, channels-last and inductor, the one-image loop float32, channels-last
        and no compilation; on the CPU every ``"auto"`` is off.

        Raises:
            ValueError: for another engine.
        """
        checks.known_name(engine, ENGINES, "engine")
        device = torch.device(self.device)
        gpu_batched = device.type == "cuda" and engine == "batched"
        precision = self.precision if self.precision != "auto" else ("bf16" if gpu_batched else "fp32")
        channels_last = self.channels_last if self.channels_last != "auto" else device.type == "cuda"
        compiled = self.compile if self.compile != "auto" else ("inductor" if gpu_batched else "off")
        return Execution(device, precision, bool(channels_last), compiled)


DEFAULT_SETTINGS = StyleSettings()
