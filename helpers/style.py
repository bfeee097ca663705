"""Gatys et al. neural style transfer, exactly as the report's section 2.1 (eq. 1-5), one image or many at once.

The image ``x`` is found by minimising, over its pixels, ::

    L_content(p, x) = sum_{l in L_content} 1/(N_l M_l)     sum_ij (F^l_ij - P^l_ij)^2        (eq. 1)
    A^l = S^l S^l^T,  G^l = F^l F^l^T                     (Gram matrices, N_l x N_l)          (eq. 2, 3)
    L_style(a, x)   = sum_{l in L_style}   1/(N_l^2 M_l^2) sum_ij (G^l_ij - A^l_ij)^2        (eq. 4)
    L(p, a, x)      = alpha * L_content + beta * L_style                                      (eq. 5)

with ``F^l, P^l, S^l`` the VGG16 feature maps (:class:`helpers.vgg.VGGFeatures`, HED weights by default) of
``x``, the content ``p`` and the style ``a``; ``N_l`` filters, ``M_l`` = height x width of the map.
Unlike Gatys et al. (1/2 and 1/4 factors, per-layer weights) the report uses these plain normalisations and
equal layer weights; so do we (``style_weights`` can change the per-layer weights).

Conventions

* **Steps** are function evaluations (one forward + backward pass per image), as in the PyTorch tutorial that
  the report's code follows: ``steps=75`` means 75 evaluations of eq. 5 and its gradient.
* Images are float arrays in [0, 1]: ``(H, W, 3)`` RGB or ``(H, W)`` grey (uint8 is accepted too). Grey EM
  slices go in as **three equal channels**. The stylised result is RGB (the painting's colours); it returns to
  one channel with :func:`to_grey`, the ITU-R BT.601 luminance ``0.299 R + 0.587 G + 0.114 B`` (what
  ``PIL.Image.convert('L')`` does).
* The style image is **fitted to the content size**: scaled (aspect kept) until it covers the content, then
  centre-cropped (:func:`fit_style`). Then ``M_l`` is the same for ``G`` and ``A`` and eq. 4 holds as written.
* As the tutorial's closure does, ``x`` is clamped to [0, 1] before every evaluation and once at the end; the
  final losses reported are those of the returned (clamped) image.

Two engines

* :func:`stylize` - one image at a time with ``torch.optim.LBFGS`` exactly as in the PyTorch tutorial
  (``max_iter=20`` per ``optimizer.step``, the closure counts evaluations), or Adam. This is the reference.
* :func:`stylize_batch` - many (content, style) pairs at once. The L-BFGS here is **per image**: the same
  algorithm as ``torch.optim.LBFGS`` (no line search, ``lr=1``, same history rule), but with a separate
  history, curvature scale and step size for every image, vectorised over the batch. (Handing one batched
  tensor to ``torch.optim.LBFGS`` would sum the images' losses and couple their curvature estimates.)
  Optional snapshots return the image after several step counts from one run (the 75-step image of a
  150-step run is the 75-step result, since the trajectory does not depend on where it stops).

:func:`stylize_isbi` runs the batched engine over ISBI slices x paintings and caches the results (one PNG per
image, written atomically, plus a manifest) so interrupted runs resume; :func:`load_stylized` reads them back.
"""

from __future__ import annotations

import io
import json
import math
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from . import data as _data
from .paths import CACHE, RESULTS, atomic_write_bytes, atomic_write_text
from .vgg import VGGFeatures

DEFAULT_CONTENT_LAYERS = ("conv4_2",)
DEFAULT_STYLE_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
DEFAULT_ALPHA = 1.0
DEFAULT_BETA = 1e-5  # alpha/beta = 1e5: clearly stylised photos that keep their content (see notebook 01)
LUMINANCE = (0.299, 0.587, 0.114)
TUTORIAL_MAX_ITER = 20  # torch.optim.LBFGS default, used per optimizer.step() in the PyTorch tutorial
STYLIZED_DIR = "stylized"
MANIFEST = "manifest.json"
MIN_SIDE = 16
LOSS_RATIO_TOLERANCE = 0.02  # batched vs one-at-a-time final losses, per image (issue 3's criterion)


# --------------------------------------------------------------------------- losses (eq. 1-5)


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Gram matrices ``G = F F^T`` of feature maps (B, N, H, W) -> (B, N, N), unnormalised (eq. 2, 3)."""
    if features.ndim != 4:
        raise ValueError(f"feature maps must have shape (B, N, H, W), got {tuple(features.shape)}")
    flat = features.reshape(features.shape[0], features.shape[1], -1)
    return torch.bmm(flat, flat.transpose(1, 2))


def content_loss(features: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]) -> torch.Tensor:
    """Eq. 1 per image, shape (B,): sum over layers of ``1/(N_l M_l) sum (F - P)^2`` (the per-layer MSE)."""
    total = None
    for name, target in targets.items():
        f = features[name].float()
        term = (f - target.float()).square().flatten(1).mean(1)
        total = term if total is None else total + term
    return total


def style_loss(
    features: dict[str, torch.Tensor], target_grams: dict[str, torch.Tensor], weights: dict[str, float] | None = None
) -> torch.Tensor:
    """Eq. 4 per image, shape (B,): sum over layers of ``w_l/(N_l^2 M_l^2) sum (G - A)^2`` (``w_l`` = 1 default).

    ``target_grams[l]`` is the (B, N, N) or (1, N, N) Gram of the style image(s), computed on maps of the same
    size as ``x``'s.
    """
    total = None
    for name, target in target_grams.items():
        f = features[name].float()
        n, m = f.shape[1], f.shape[2] * f.shape[3]
        # divide before squaring: raw Grams reach 1e9 and their squares would lose fp32 range
        diff = (gram_matrix(f) - target.float()) / (n * m)
        term = diff.square().sum((1, 2)) * (1.0 if weights is None else float(weights.get(name, 1.0)))
        total = term if total is None else total + term
    return total


def total_loss(content: torch.Tensor, style: torch.Tensor, alpha, beta) -> torch.Tensor:
    """Eq. 5: ``alpha * L_content + beta * L_style`` (alpha, beta: numbers or per-image tensors)."""
    return alpha * content + beta * style


# --------------------------------------------------------------------------- images


def check_image(image: np.ndarray, what: str = "image") -> np.ndarray:
    """Validate an (H, W) grey or (H, W, 3) RGB image; return it as float32 RGB in [0, 1]."""
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[0] in (1, 3) and array.shape[2] not in (1, 3):
        raise ValueError(
            f"{what} has shape {array.shape}, which looks channels-first: pass (H, W, 3) (e.g. `image.transpose(1, 2, 0)`)"
        )
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3)):
        raise ValueError(f"{what} must be (H, W) grey or (H, W, 3) RGB, got shape {array.shape}: pass one image, not a stack")
    if min(array.shape[:2]) < MIN_SIDE:
        raise ValueError(f"{what} is {array.shape[0]}x{array.shape[1]} pixels: use at least {MIN_SIDE} per side (VGG pools 4 times)")
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / 255.0
    elif not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"{what} has dtype {array.dtype}: pass uint8 or float in [0, 1]")
    array = array.astype(np.float32)
    if not np.isfinite(array).all() or array.min() < -1e-3 or array.max() > 1 + 1e-3:
        raise ValueError(f"{what} values must be finite and in [0, 1] (got {array.min():.3g}..{array.max():.3g}): divide by 255?")
    array = np.clip(array, 0.0, 1.0)
    if array.ndim == 2:  # grey EM slice: three equal channels
        array = np.repeat(array[..., None], 3, axis=2)
    return array


def _as_batch(images: Sequence[np.ndarray], device) -> torch.Tensor:
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous().to(device)


def resize_longest(image: np.ndarray, size: int) -> np.ndarray:
    """Resize an RGB float image so its longest side is ``size`` pixels (aspect kept, antialiased)."""
    h, w = image.shape[:2]
    scale = size / max(h, w)
    shape = (max(1, round(h * scale)), max(1, round(w * scale)))
    return _resize(image, shape)


def _resize(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if tuple(image.shape[:2]) == tuple(shape):
        return image
    t = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None]
    out = F.interpolate(t, size=shape, mode="bilinear", antialias=True, align_corners=False)
    return out[0].permute(1, 2, 0).clamp(0, 1).numpy()


def fit_style(style: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Scale an RGB style image (aspect kept) to cover ``shape`` = (H, W), then centre-crop it to ``shape``."""
    h, w = style.shape[:2]
    scale = max(shape[0] / h, shape[1] / w)
    scaled = _resize(style, (max(shape[0], math.ceil(h * scale - 1e-6)), max(shape[1], math.ceil(w * scale - 1e-6))))
    top = (scaled.shape[0] - shape[0]) // 2
    left = (scaled.shape[1] - shape[1]) // 2
    return np.ascontiguousarray(scaled[top : top + shape[0], left : left + shape[1]])


def to_grey(rgb: np.ndarray) -> np.ndarray:
    """One channel from a stylised RGB image: BT.601 luminance ``0.299 R + 0.587 G + 0.114 B`` (same dtype range)."""
    rgb = np.asarray(rgb)
    if rgb.ndim < 3 or rgb.shape[-1] != 3:
        raise ValueError(f"to_grey expects (..., 3) RGB, got shape {rgb.shape}")
    return rgb.astype(np.float32) @ np.asarray(LUMINANCE, dtype=np.float32)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Float image in [0, 1] -> uint8 (rounded)."""
    return np.clip(np.rint(np.asarray(image, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)


def _style_image(style, shape: tuple[int, int]) -> np.ndarray:
    """A style given as report number/name (loaded from data/) or as an array, fitted to ``shape``."""
    if isinstance(style, (int, np.integer, str)):
        style = _data.load_style(style, size=None)  # KeyError naming the choices for an unknown style
    return fit_style(check_image(style, "style image"), shape)


# --------------------------------------------------------------------------- model and targets


@lru_cache(maxsize=8)
def get_model(source: str = "hed", pooling: str = "max", device: str = "cpu") -> VGGFeatures:
    """The VGG feature extractor, built once per (source, pooling, device)."""
    model = VGGFeatures(source=source, pooling=pooling).to(device)
    if str(device).startswith("cuda"):
        model = model.to(memory_format=torch.channels_last)
    return model


def _autocast(device: torch.device, precision: str):
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return torch.autocast(device_type=device.type, enabled=False)


def resolve_precision(precision: str, device) -> str:
    """``'auto'`` -> ``'bf16'`` (bfloat16 autocast for the VGG passes) on CUDA, ``'fp32'`` elsewhere."""
    if precision == "auto":
        return "bf16" if torch.device(device).type == "cuda" else "fp32"
    if precision not in ("fp32", "bf16"):
        raise ValueError(f"precision must be 'auto', 'fp32' or 'bf16', got {precision!r}")
    return precision


@dataclass
class _Targets:
    content: dict[str, torch.Tensor]
    grams: dict[str, torch.Tensor]


@torch.no_grad()
def _targets(model, content: torch.Tensor, style: torch.Tensor, content_layers, style_layers) -> _Targets:
    """Content features P^l and style Grams A^l (computed once, in fp32)."""
    pc = model(content, list(content_layers))
    ps = model(style, list(style_layers))
    return _Targets({k: pc[k].float() for k in content_layers}, {k: gram_matrix(ps[k].float()) for k in style_layers})


def _evaluate(model, x, targets: _Targets, alpha, beta, style_weights, device, precision):
    """Per-image (content, style, total) losses, each (B,)."""
    layers = list(dict.fromkeys(list(targets.content) + list(targets.grams)))
    with _autocast(device, precision):
        feats = model(x.contiguous(memory_format=torch.channels_last) if device.type == "cuda" else x, layers)
    lc = content_loss(feats, targets.content)
    ls = style_loss(feats, targets.grams, style_weights)
    return lc, ls, total_loss(lc, ls, alpha, beta)


# --------------------------------------------------------------------------- results


@dataclass
class StyleResult:
    """A stylised image with its loss history.

    ``image``: (H, W, 3) float32 RGB in [0, 1] after ``steps`` evaluations; ``history``: per evaluation, arrays
    ``content``, ``style``, ``total`` (eq. 1, 4, 5); ``final``: the losses of the returned image;
    ``snapshots``/``snapshot_losses``: images and losses after other step counts of the same run.
    """

    image: np.ndarray
    steps: int
    history: dict[str, np.ndarray]
    final: dict[str, float]
    settings: dict
    snapshots: dict[int, np.ndarray] = field(default_factory=dict)
    snapshot_losses: dict[int, dict[str, float]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def grey(self) -> np.ndarray:
        """The image as one channel (BT.601 luminance), float32 in [0, 1]."""
        return to_grey(self.image)


def _settings(**kwargs) -> dict:
    out = {}
    for key, value in kwargs.items():
        out[key] = list(value) if isinstance(value, tuple) else value
    return out


def _init(content: torch.Tensor, init: str, seed: int) -> torch.Tensor:
    if init == "content":
        return content.clone()
    if init == "noise":  # white noise, drawn on the CPU so every device starts from the same image
        gen = torch.Generator().manual_seed(int(seed))
        return torch.rand(content.shape, generator=gen).to(content.device)
    raise ValueError(f"init must be 'content' or 'noise', got {init!r}")


def _check_common(steps, optimizer, snapshots=()):
    if int(steps) < 1:
        raise ValueError(f"steps must be >= 1 (function evaluations per image), got {steps}")
    if optimizer not in ("lbfgs", "adam"):
        raise ValueError(f"optimizer must be 'lbfgs' (the report's) or 'adam', got {optimizer!r}")
    bad = [s for s in snapshots if not 1 <= int(s) <= int(steps)]
    if bad:
        raise ValueError(f"snapshots {bad} must lie in 1..steps={steps}")


# --------------------------------------------------------------------------- one image at a time (reference)


def stylize(
    content: np.ndarray,
    style,
    *,
    steps: int = 100,
    alpha: float = DEFAULT_ALPHA,
    beta: float = DEFAULT_BETA,
    size: int | None = None,
    optimizer: str = "lbfgs",
    init: str = "content",
    lr: float | None = None,
    content_layers: Sequence[str] = DEFAULT_CONTENT_LAYERS,
    style_layers: Sequence[str] = DEFAULT_STYLE_LAYERS,
    style_weights: dict[str, float] | None = None,
    seed: int = 0,
    device: str = "cpu",
    source: str = "hed",
    pooling: str = "max",
    precision: str = "fp32",
    progress: bool = False,
) -> StyleResult:
    """Stylise one image: minimise eq. 5 over the pixels of ``x`` for ``steps`` function evaluations.

    ``content``: (H, W) grey or (H, W, 3) RGB in [0, 1] (or uint8); ``size``: resize it first so the longest side
    is ``size`` pixels. ``style``: an array, or a painting's report number / name (``20`` or ``'the_scream'``);
    fitted to the content size (:func:`fit_style`). ``optimizer='lbfgs'`` is the PyTorch tutorial's loop:
    ``torch.optim.LBFGS(lr=1, max_iter=20)`` stepped until the closure has run ``steps`` times (the last call's
    ``max_iter`` is cut so that exactly ``steps`` evaluations happen; tolerances are 0 so it never stops early).
    ``optimizer='adam'`` takes ``steps`` Adam steps with ``lr`` (default 0.02 per pixel). ``init``: start from
    the content image or white noise (``seed``).
    """
    _check_common(steps, optimizer)
    started = time.perf_counter()
    dev = torch.device(device)
    precision = resolve_precision(precision, dev)
    content_img = check_image(content, "content image")
    if size is not None:
        content_img = resize_longest(content_img, int(size))
    style_img = _style_image(style, content_img.shape[:2])
    model = get_model(source, pooling, str(dev))
    p = _as_batch([content_img], dev)
    a = _as_batch([style_img], dev)
    targets = _targets(model, p, a, content_layers, style_layers)
    x = _init(p, init, seed).requires_grad_(True)
    history = {"content": [], "style": [], "total": []}

    def closure():
        with torch.no_grad():
            x.clamp_(0, 1)
        opt.zero_grad()
        lc, ls, lt = _evaluate(model, x, targets, alpha, beta, style_weights, dev, precision)
        lt.sum().backward()
        history["content"].append(float(lc[0].detach()))
        history["style"].append(float(ls[0].detach()))
        history["total"].append(float(lt[0].detach()))
        bar.update(1)
        return lt.sum()

    from tqdm.auto import tqdm

    bar = tqdm(total=int(steps), desc="stylize", unit="step", disable=not progress, leave=False)
    if optimizer == "lbfgs":
        opt = torch.optim.LBFGS([x], lr=1.0 if lr is None else lr, max_iter=TUTORIAL_MAX_ITER, tolerance_grad=0.0, tolerance_change=0.0)
        while len(history["total"]) < steps:
            opt.param_groups[0]["max_iter"] = min(TUTORIAL_MAX_ITER, steps - len(history["total"]))
            opt.param_groups[0]["max_eval"] = opt.param_groups[0]["max_iter"] * 2
            before = len(history["total"])
            opt.step(closure)
            if len(history["total"]) == before:  # pragma: no cover - cannot happen with zero tolerances
                break
    else:
        opt = torch.optim.Adam([x], lr=0.02 if lr is None else lr)
        for _ in range(int(steps)):
            closure()
            opt.step()
    bar.close()
    with torch.no_grad():
        x.clamp_(0, 1)
        lc, ls, lt = _evaluate(model, x, targets, alpha, beta, style_weights, dev, precision)
    image = x.detach()[0].permute(1, 2, 0).float().cpu().numpy()
    final = {"content": float(lc[0]), "style": float(ls[0]), "total": float(lt[0])}
    settings = _settings(
        engine="sequential", optimizer=optimizer, init=init, alpha=float(alpha), beta=float(beta), steps=int(steps),
        lr=lr, content_layers=tuple(content_layers), style_layers=tuple(style_layers), style_weights=style_weights,
        seed=int(seed), vgg=source, pooling=pooling, precision=precision, device=str(dev), shape=list(image.shape[:2]),
    )
    return StyleResult(
        image=image, steps=int(steps), history={k: np.asarray(v) for k, v in history.items()}, final=final,
        settings=settings, snapshots={int(steps): image}, snapshot_losses={int(steps): final},
        seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------- many images at once


class BatchLBFGS:
    """``torch.optim.LBFGS`` (no line search) run independently for every row of a (B, D) tensor.

    Each image keeps its own curvature pairs (s, y), ``1/(y.s)``, Hessian scale ``y.s / y.y`` and step size,
    and accepts a pair only where ``y.s > 1e-10`` - the same rules as PyTorch's implementation, so each row
    follows the trajectory that ``torch.optim.LBFGS`` would give that image alone (up to float rounding).
    """

    def __init__(self, batch: int, lr: float = 1.0, history_size: int = 100):
        self.lr = float(lr)
        self.history_size = int(history_size)
        self.batch = batch
        self.dirs: list[torch.Tensor] = []  # y_i, (B, D)
        self.stps: list[torch.Tensor] = []  # s_i, (B, D)
        self.ros: list[torch.Tensor] = []  # 1 / (y_i . s_i), (B,), 0 where the pair was not accepted
        self.h_diag = None
        self.prev_grad = None
        self.d = None
        self.t = None
        self.n_iter = 0

    def direction(self, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Search direction ``d`` (B, D) and step size ``t`` (B, 1) for the current gradients (B, D)."""
        self.n_iter += 1
        if self.n_iter == 1:
            d = grad.neg()
            self.h_diag = torch.ones(grad.shape[0], 1, device=grad.device, dtype=grad.dtype)
            t = torch.clamp(1.0 / grad.abs().sum(1, keepdim=True), max=1.0) * self.lr
        else:
            y = grad - self.prev_grad
            s = self.d * self.t
            ys = (y * s).sum(1)
            accept = ys > 1e-10
            self.dirs.append(y)
            self.stps.append(s)
            self.ros.append(torch.where(accept, 1.0 / torch.where(accept, ys, torch.ones_like(ys)), torch.zeros_like(ys)))
            yy = (y * y).sum(1)
            self.h_diag = torch.where(accept[:, None], (ys / torch.where(accept, yy, torch.ones_like(yy)))[:, None], self.h_diag)
            self._trim()
            q = grad.neg()
            al = [None] * len(self.dirs)
            for i in range(len(self.dirs) - 1, -1, -1):
                al[i] = (self.stps[i] * q).sum(1, keepdim=True) * self.ros[i][:, None]
                q = q - al[i] * self.dirs[i]
            r = q * self.h_diag
            for i in range(len(self.dirs)):
                be = (self.dirs[i] * r).sum(1, keepdim=True) * self.ros[i][:, None]
                r = r + (al[i] - be) * self.stps[i]
            d = r
            t = torch.full((grad.shape[0], 1), self.lr, device=grad.device, dtype=grad.dtype)
        self.prev_grad = grad.clone()
        self.d, self.t = d, t
        return d, t

    def _trim(self) -> None:
        """Keep at most ``history_size`` accepted pairs per image; drop entries no image uses any more."""
        valid = torch.stack([ro != 0 for ro in self.ros])  # (K, B)
        newer = valid.flip(0).cumsum(0).flip(0)  # accepted pairs at this entry or newer, per image
        too_old = valid & (newer > self.history_size)
        if too_old.any():
            for k in torch.nonzero(too_old.any(1)).flatten().tolist():
                self.ros[k] = torch.where(too_old[k], torch.zeros_like(self.ros[k]), self.ros[k])
        while self.ros and not bool((self.ros[0] != 0).any()):
            self.dirs.pop(0)
            self.stps.pop(0)
            self.ros.pop(0)


def _per_image(value, batch: int, device) -> torch.Tensor:
    t = torch.as_tensor(value, dtype=torch.float32, device=device).flatten()
    if t.numel() == 1:
        t = t.repeat(batch)
    if t.numel() != batch:
        raise ValueError(f"alpha/beta must be one number or one per pair ({batch}), got {t.numel()}")
    return t


def stylize_batch(
    contents: Sequence[np.ndarray],
    styles: Sequence,
    *,
    steps: int = 100,
    snapshots: Sequence[int] = (),
    alpha=DEFAULT_ALPHA,
    beta=DEFAULT_BETA,
    optimizer: str = "lbfgs",
    init: str = "content",
    lr: float | None = None,
    history_size: int = 100,
    content_layers: Sequence[str] = DEFAULT_CONTENT_LAYERS,
    style_layers: Sequence[str] = DEFAULT_STYLE_LAYERS,
    style_weights: dict[str, float] | None = None,
    seed: int = 0,
    device: str = "cpu",
    source: str = "hed",
    pooling: str = "max",
    precision: str = "auto",
    on_step: Callable[[int], None] | None = None,
) -> list[StyleResult]:
    """Stylise many (content, style) pairs at once; every image is optimised independently (per-image L-BFGS).

    ``contents``: images of one shape ((H, W) grey or (H, W, 3) RGB in [0, 1]); ``styles``: one per content
    (arrays or report numbers/names; each distinct style's Gram is computed once). ``alpha``/``beta``: numbers
    or one per pair. ``steps`` evaluations per image; ``snapshots``: other step counts whose images (and losses)
    to keep from the same run. ``precision='auto'`` runs the VGG passes in bfloat16 autocast on CUDA (Grams,
    losses and the L-BFGS state stay fp32) and fp32 on the CPU. ``on_step(k)`` is called after evaluation ``k``
    (for progress bars). Returns one :class:`StyleResult` per pair, in order.
    """
    _check_common(steps, optimizer, snapshots)
    if len(contents) != len(styles) or len(contents) == 0:
        raise ValueError(f"need one style per content image and at least one pair, got {len(contents)} and {len(styles)}")
    started = time.perf_counter()
    dev = torch.device(device)
    precision = resolve_precision(precision, dev)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
    images = [check_image(c, f"content image {i}") for i, c in enumerate(contents)]
    shapes = {im.shape for im in images}
    if len(shapes) != 1:
        raise ValueError(f"content images of one batch must share one shape, got {sorted(shapes)}: crop or resize them")
    shape = images[0].shape[:2]
    batch = len(images)
    model = get_model(source, pooling, str(dev))
    p = _as_batch(images, dev)
    # one Gram per distinct style (keyed by number/name, or by identity for arrays)
    keys = [s if isinstance(s, (int, np.integer, str)) else id(s) for s in styles]
    unique = {}
    for key, s in zip(keys, styles):
        if key not in unique:
            unique[key] = _style_image(s, shape)
    with torch.no_grad():
        grams_by_key = {}
        for key, img in unique.items():
            feats = model(_as_batch([img], dev), list(style_layers))
            grams_by_key[key] = {k: gram_matrix(feats[k].float()) for k in style_layers}
        pc = model(p, list(content_layers))
    targets = _Targets(
        {k: pc[k].float() for k in content_layers},
        {k: torch.cat([grams_by_key[key][k] for key in keys]) for k in style_layers},
    )
    alphas = _per_image(alpha, batch, dev)
    betas = _per_image(beta, batch, dev)

    x = _init(p, init, seed)
    wanted = sorted({int(s) for s in snapshots} | {int(steps)})
    snaps: dict[int, torch.Tensor] = {}
    snap_losses: dict[int, tuple] = {}
    history = {"content": [], "style": [], "total": []}
    lbfgs = BatchLBFGS(batch, 1.0 if lr is None else lr, history_size) if optimizer == "lbfgs" else None
    if optimizer == "adam":
        x.requires_grad_(True)
        adam = torch.optim.Adam([x], lr=0.02 if lr is None else lr)
    for k in range(1, int(steps) + 1):
        with torch.no_grad():
            x.clamp_(0, 1)
        if (k - 1) in wanted:  # x after k-1 updates, clamped: the snapshot of k-1 steps
            snaps[k - 1] = x.detach().clone()
        xg = x if optimizer == "adam" else x.detach().requires_grad_(True)
        if optimizer == "adam":
            adam.zero_grad()
        lc, ls, lt = _evaluate(model, xg, targets, alphas, betas, style_weights, dev, precision)
        grad = torch.autograd.grad(lt.sum(), xg)[0]
        if (k - 1) in wanted:
            snap_losses[k - 1] = (lc.detach(), ls.detach(), lt.detach())
        history["content"].append(lc.detach())
        history["style"].append(ls.detach())
        history["total"].append(lt.detach())
        with torch.no_grad():
            if optimizer == "lbfgs":
                d, t = lbfgs.direction(grad.reshape(batch, -1).float())
                x = (x.reshape(batch, -1) + t * d).reshape(x.shape)
            else:
                x.grad = grad
                adam.step()
        if on_step is not None:
            on_step(k)
    with torch.no_grad():
        x.clamp_(0, 1)
        snaps[int(steps)] = x.detach().clone()
        lc, ls, lt = _evaluate(model, x.detach(), targets, alphas, betas, style_weights, dev, precision)
        snap_losses[int(steps)] = (lc, ls, lt)
    seconds = time.perf_counter() - started
    hist = {name: torch.stack(values, 1).cpu().numpy() for name, values in history.items()}  # (B, steps)
    snap_np = {s: v.permute(0, 2, 3, 1).float().cpu().numpy() for s, v in snaps.items()}
    loss_np = {s: [v.cpu().numpy() for v in vals] for s, vals in snap_losses.items()}
    results = []
    for b in range(batch):
        settings = _settings(
            engine="batched", optimizer=optimizer, init=init, alpha=float(alphas[b]), beta=float(betas[b]),
            steps=int(steps), lr=lr, history_size=history_size, content_layers=tuple(content_layers),
            style_layers=tuple(style_layers), style_weights=style_weights, seed=int(seed), vgg=source,
            pooling=pooling, precision=precision, device=str(dev), shape=list(shape), batch=batch,
        )
        snapshots_b = {s: snap_np[s][b] for s in wanted}
        losses_b = {s: {"content": float(loss_np[s][0][b]), "style": float(loss_np[s][1][b]), "total": float(loss_np[s][2][b])} for s in wanted}
        results.append(
            StyleResult(
                image=snapshots_b[int(steps)], steps=int(steps), history={n: h[b] for n, h in hist.items()},
                final=losses_b[int(steps)], settings=settings, snapshots=snapshots_b, snapshot_losses=losses_b,
                seconds=seconds,
            )
        )
    return results


# --------------------------------------------------------------------------- stylising the ISBI volume, cached


def stylized_dir(cache_dir: Path | None = None) -> Path:
    """Root of the stylised-slice cache: ``$NSEM_CACHE/stylized`` (``cache/stylized`` by default, gitignored)."""
    return Path(cache_dir) if cache_dir is not None else CACHE / STYLIZED_DIR


def entry_key(crop: int | None, steps: int, style: int, slice_index: int) -> str:
    """Manifest key and relative path (without ``.png``): ``crop128/steps075/style03/slice00``."""
    return f"crop{crop or 512}/steps{int(steps):03d}/style{int(style):02d}/slice{int(slice_index):02d}"


def read_manifest(cache_dir: Path | None = None) -> dict:
    """The cache manifest ``{key: record}`` (empty when nothing was stylised yet)."""
    path = stylized_dir(cache_dir) / MANIFEST
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())["entries"]
    except (ValueError, KeyError) as error:
        raise ValueError(f"{path} is not a stylisation manifest ({error}): delete it and re-run the stylisation") from error


def _write_manifest(new_entries: dict, cache_dir: Path | None) -> dict:
    """Merge ``new_entries`` into the manifest on disk and write it atomically; returns the merged entries.

    The read-merge-write runs under an exclusive lock (``manifest.json.lock``), so two processes stylising into
    the same cache (e.g. different crops or profiles) never drop each other's entries.
    """
    import fcntl

    root = stylized_dir(cache_dir)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f"{MANIFEST}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            entries = {**read_manifest(cache_dir), **new_entries}
            payload = {"format": "neural-style-em stylised ISBI slices v1", "entries": dict(sorted(entries.items()))}
            atomic_write_text(root / MANIFEST, json.dumps(payload, indent=1))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return entries


def _png_bytes(grey_uint8: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(grey_uint8, mode="L").save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def _read_png(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("L"))


MATCHED = ("alpha", "beta", "optimizer", "init", "content_layers", "style_layers", "style_weights", "vgg", "pooling", "seed", "history_size")


def _finished(entries: dict, key: str, settings: dict, cache_dir: Path | None) -> bool:
    record = entries.get(key)
    if record is None or not (stylized_dir(cache_dir) / f"{key}.png").exists():
        return False
    clash = {k: (record["settings"].get(k), settings.get(k)) for k in MATCHED if record["settings"].get(k) != settings.get(k)}
    if clash:
        raise ValueError(
            f"{key} in {stylized_dir(cache_dir)} was stylised with other settings {clash} (cached, requested): "
            "delete that folder or point NSEM_CACHE elsewhere to stylise with the new settings"
        )
    return True


def plan_isbi(slices, styles, steps, crop: int | None, settings: dict, cache_dir: Path | None = None) -> list[tuple[int, int, tuple[int, ...]]]:
    """The (slice, style, missing step counts) still to do; finished (slice, style, steps) entries are skipped."""
    entries = read_manifest(cache_dir)
    todo = []
    for style in styles:
        for s in slices:
            missing = tuple(sorted(st for st in steps if not _finished(entries, entry_key(crop, st, style, s), settings, cache_dir)))
            if missing:
                todo.append((int(s), int(style), missing))
    return todo


def _weights_file(source: str) -> str:
    """Which weights a cached image was made with (the HED file, or a ``$NSEM_VGG_WEIGHTS`` export)."""
    from .vgg import weights_path

    return weights_path().name if source == "hed" else source


def stylize_isbi(
    slices: Sequence[int],
    styles: Sequence[int],
    steps: Sequence[int] = (75, 150),
    *,
    crop: int | None = None,
    batch_size: int = 4,
    alpha: float = DEFAULT_ALPHA,
    beta: float = DEFAULT_BETA,
    seed: int = 0,
    device: str = "cpu",
    precision: str = "auto",
    cache_dir: Path | None = None,
    progress: bool = True,
    max_batches: int | None = None,
    **engine,
) -> dict:
    """Stylise ISBI training slices with paintings at several step counts, caching each image as it finishes.

    Each (slice, style) pair is optimised once, for ``max(steps)`` evaluations, with snapshots at the other
    step counts (same trajectory). ``crop``: side of the top-left crop (None: the whole 512 x 512 slice).
    Results are grey uint8 PNGs (BT.601 luminance of the RGB result) at ``<cache>/<entry_key>.png``, each
    written atomically, and the manifest ``<cache>/manifest.json`` (atomic) records per image: slice, style,
    steps, crop, settings (alpha, beta, seed, layers, VGG weights, ...), final losses, the final total loss over
    the lowest one seen during the run (1: still descending; far above 1: the fixed-step L-BFGS spiked or blew
    up), device and time.
    A rerun skips every finished (slice, style, steps) entry, so an interrupted run resumes where it stopped
    (at most the batch in flight is lost). ``max_batches`` stops early (tests, timing). Returns a summary.
    """
    from tqdm.auto import tqdm

    steps = tuple(sorted({int(s) for s in steps}))
    styles = [_data.resolve_style(s)[0] for s in styles]  # KeyError naming the choices for an unknown style
    precision = resolve_precision(precision, device)
    settings = _settings(
        alpha=float(alpha), beta=float(beta), seed=int(seed), optimizer=engine.get("optimizer", "lbfgs"),
        init=engine.get("init", "content"), content_layers=tuple(engine.get("content_layers", DEFAULT_CONTENT_LAYERS)),
        style_layers=tuple(engine.get("style_layers", DEFAULT_STYLE_LAYERS)), style_weights=engine.get("style_weights"),
        vgg=engine.get("source", "hed"), pooling=engine.get("pooling", "max"), history_size=int(engine.get("history_size", 100)),
    )
    todo = plan_isbi(slices, styles, steps, crop, settings, cache_dir)
    summary = {"requested": len(slices) * len(styles) * len(steps), "skipped": 0, "done": 0, "seconds": 0.0}
    summary["skipped"] = summary["requested"] - sum(len(m) for _, _, m in todo)
    if not todo:
        return summary
    raw, _ = _data.load_training(sorted({s for s, _, _ in todo}))
    raw_by_slice = dict(zip(sorted({s for s, _, _ in todo}), raw))
    side = crop or raw.shape[-1]
    # group pairs that need the same step counts, then cut into batches
    groups: dict[tuple[int, ...], list] = {}
    for s, style, missing in todo:
        groups.setdefault(missing, []).append((s, style))
    batches = [(missing, pairs[i : i + batch_size]) for missing, pairs in groups.items() for i in range(0, len(pairs), batch_size)]
    if max_batches is not None:
        batches = batches[: int(max_batches)]
    total = sum(len(pairs) * max(missing) for missing, pairs in batches)
    bar = tqdm(total=total, desc="stylize ISBI", unit="img-step", disable=not progress)
    written: dict = {}
    weights_file = _weights_file(engine.get("source", "hed"))
    started = time.perf_counter()
    try:
        for missing, pairs in batches:
            contents = [raw_by_slice[s][:side, :side] for s, _ in pairs]
            results = stylize_batch(
                contents, [style for _, style in pairs], steps=max(missing), snapshots=missing, alpha=alpha, beta=beta,
                seed=seed, device=device, precision=precision, on_step=lambda k, n=len(pairs): bar.update(n), **engine,
            )
            for (s, style), result in zip(pairs, results):
                for st in missing:
                    key = entry_key(crop, st, style, s)
                    lowest = min(float(result.history["total"][:st].min()), result.snapshot_losses[st]["total"])
                    atomic_write_bytes(stylized_dir(cache_dir) / f"{key}.png", _png_bytes(to_uint8(to_grey(result.snapshots[st]))))
                    written[key] = {
                        "slice": s, "style": style, "style_name": _data.style_names()[style], "steps": st, "crop": crop,
                        "size": [side, side], "settings": settings, "losses": result.snapshot_losses[st],
                        # > 1: the run had been lower before (an L-BFGS spike or blow-up, not convergence)
                        "final_over_lowest_total": result.snapshot_losses[st]["total"] / max(lowest, 1e-30),
                        "device": result.settings["device"], "precision": precision, "batch": len(pairs),
                        "weights_file": weights_file,
                        "seconds_per_batch": round(result.seconds, 3),
                    }
                    summary["done"] += 1
            _write_manifest(written, cache_dir)
    finally:
        bar.close()
        summary["seconds"] = time.perf_counter() - started
    return summary


def load_stylized(steps: int, style, slices: Sequence[int] | None = None, crop: int | None = None, cache_dir: Path | None = None) -> np.ndarray:
    """Stylised ISBI training slices from the cache as uint8 (n, side, side) grey images.

    ``steps``: 75 or 150 (any cached count); ``style``: report number or name; ``slices``: indices (default all
    30); ``crop``: the crop side they were stylised at (None: whole 512 slices). Raises ``FileNotFoundError``
    naming the command that produces missing entries.
    """
    number, _ = _data.resolve_style(style)
    slices = list(range(30)) if slices is None else [int(s) for s in slices]
    entries = read_manifest(cache_dir)
    keys = [entry_key(crop, steps, number, s) for s in slices]
    missing = [s for s, key in zip(slices, keys) if key not in entries or not (stylized_dir(cache_dir) / f"{key}.png").exists()]
    if missing:
        crop_arg = f" --crop {crop}" if crop else ""
        raise FileNotFoundError(
            f"stylised slices {missing} (style {number}, {steps} steps, crop {crop or 512}) are not in {stylized_dir(cache_dir)}: "
            f"run `python -m helpers.style --styles {number} --steps {steps}{crop_arg} --slices {' '.join(map(str, missing))}` "
            "(or notebooks/02_stylize_isbi.ipynb with a profile that covers them)"
        )
    return np.stack([_read_png(stylized_dir(cache_dir) / f"{key}.png") for key in keys])


# --------------------------------------------------------------------------- "washed out" results (report Fig. 15)


def washout_scores(original: np.ndarray, stylised: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """How much of the membranes survives stylisation, per slice (arrays of n values for (n, h, w) stacks).

    ``contrast``: grey-level std of the stylised slice / std of the original. ``correlation``: Pearson
    correlation of stylised and original pixels. ``membrane_contrast``: |mean(interior) - mean(membrane)| / std,
    the separability of the ground-truth membrane pixels (label 0) from the cell interiors (label 255), of the
    stylised slice divided by that of the original - near 1 the membranes stand out as before, near 0 they
    are washed out (the report's Figure 15 failures).
    """
    original = np.asarray(original, dtype=np.float64)
    stylised = np.asarray(stylised, dtype=np.float64)
    labels = np.asarray(labels)
    if original.shape != stylised.shape or labels.shape != original.shape:
        raise ValueError(f"original {original.shape}, stylised {stylised.shape} and labels {labels.shape} must match: crop them alike")
    if original.ndim == 2:
        original, stylised, labels = original[None], stylised[None], labels[None]
    membrane = labels == 0

    def separability(stack):
        return np.array([abs(img[~m].mean() - img[m].mean()) / max(img.std(), 1e-9) for img, m in zip(stack, membrane)])

    flat_o = original.reshape(len(original), -1)
    flat_s = stylised.reshape(len(stylised), -1)
    co, cs = flat_o - flat_o.mean(1, keepdims=True), flat_s - flat_s.mean(1, keepdims=True)
    correlation = (co * cs).sum(1) / np.maximum(np.sqrt((co**2).sum(1) * (cs**2).sum(1)), 1e-12)
    return {
        "contrast": flat_s.std(1) / np.maximum(flat_o.std(1), 1e-9),
        "correlation": correlation,
        "membrane_contrast": separability(stylised) / np.maximum(separability(original), 1e-9),
    }


def washout_table(slices: Sequence[int], styles: Sequence[int], steps: Sequence[int], crop: int | None = None,
                  cache_dir: Path | None = None) -> list[dict]:
    """One row per cached (style, steps, slice): the :func:`washout_scores` of that stylised slice.

    Rows are sorted from most to least washed out (lowest ``membrane_contrast`` first).
    """
    raw, labels = _data.load_training(list(slices))
    side = crop or raw.shape[-1]
    raw, labels = raw[:, :side, :side], labels[:, :side, :side]
    rows = []
    for number in styles:
        for st in steps:
            scores = washout_scores(raw, load_stylized(st, number, slices, crop, cache_dir), labels)
            for i, s in enumerate(slices):
                rows.append({"style": int(number), "style_name": _data.style_names()[int(number)], "steps": int(st), "slice": int(s),
                             **{name: float(values[i]) for name, values in scores.items()}})
    return sorted(rows, key=lambda row: row["membrane_contrast"])


# --------------------------------------------------------------------------- the benchmark's verdict (benchmarks/)


def read_benchmark(path: Path | None = None) -> dict:
    """The committed result of ``benchmarks/style_benchmark.py`` (``results/style_benchmark.json``)."""
    path = Path(path) if path is not None else RESULTS / "style_benchmark.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `make benchmark` (or benchmarks/style_benchmark.py) to measure it")
    return json.loads(path.read_text())


def read_benchmarks() -> dict[str, dict]:
    """Every committed benchmark result, ``{file stem: result}`` for ``results/style_benchmark*.json``, the
    default-named one first."""
    paths = sorted(RESULTS.glob("style_benchmark*.json"), key=lambda p: (p.name != "style_benchmark.json", p.name))
    if not paths:
        raise FileNotFoundError(f"no style_benchmark*.json in {RESULTS}: run `make benchmark` to measure one")
    return {p.stem: read_benchmark(p) for p in paths}


def within_tolerance(ratios: Sequence[float], tolerance: float = LOSS_RATIO_TOLERANCE) -> int:
    """How many final-loss ratios lie within ``tolerance`` of 1 (the issue's "within 2 %" per image)."""
    return int(sum(abs(r - 1) <= tolerance for r in ratios))


def benchmark_lines(result: dict) -> list[str]:
    """Plain-language summary of a benchmark result: speed of both engines and how far their losses agree."""
    seq = result["sequential"]
    lines = [f"{result['device_name']}, {result['pairs']} pairs x {result['steps']} steps at {result['size']} px "
             f"({result['date']}; `{result['command']}`)",
             f"sequential (tutorial loop): {seq['image_iterations_per_s']:.2f} image-iterations/s"]
    floor = result.get("sequential_noise_floor")
    for precision, entry in result["batched"].items():
        lines.append(f"batched {precision}, batch {result['batch']}: {entry['image_iterations_per_s']:.2f} image-iterations/s "
                     f"= {entry['speedup_vs_sequential']:.2f}x; final-loss ratio to sequential per pair "
                     f"{', '.join(f'{r:.3f}' for r in entry['per_image_loss_ratio'])}")
    if floor:
        lines.append(f"sequential vs itself on input + {floor['noise_std']:g} noise: ratios "
                     f"{', '.join(f'{r:.3f}' for r in floor['per_image_loss_ratio'])} (the noise floor)")
        for precision, entry in result["batched"].items():
            verdict = "within" if entry.get("within_noise_floor") else "outside"
            lines.append(f"batched {precision}: median |ln ratio| {entry['abs_log_ratio_median']:.3f} vs noise floor "
                         f"{floor['abs_log_ratio_median']:.3f} -> {verdict} the noise floor (largest: "
                         f"{entry['abs_log_ratio_max']:.3f} vs {floor['abs_log_ratio_max']:.3f}); pairs within 2 %: "
                         f"{within_tolerance(entry['per_image_loss_ratio'])} of {len(entry['per_image_loss_ratio'])} "
                         f"(reference vs itself: {within_tolerance(floor['per_image_loss_ratio'])})")
    return lines


# --------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> dict:
    """``python -m helpers.style [--profile reduced] [--styles ...] [--steps ...] [--slices ...] [--crop N]``."""
    import argparse

    from .profile import select

    parser = argparse.ArgumentParser(description="Stylise ISBI training slices into the cache (resumable).")
    parser.add_argument("--profile", default=None, help="full | reduced | ci (default: $NSEM_PROFILE or automatic)")
    parser.add_argument("--styles", type=int, nargs="+", help="painting numbers (default: the profile's)")
    parser.add_argument("--steps", type=int, nargs="+", help="step counts (default: the profile's)")
    parser.add_argument("--slices", type=int, nargs="+", help="slice indices (default: the profile's)")
    parser.add_argument("--crop", type=int, default=None, help="top-left crop side (default: the profile's; 0 = whole slice)")
    parser.add_argument("--batch", type=int, default=None, help="pairs per batch (default: the profile's)")
    args = parser.parse_args(argv)
    prof = select(args.profile)
    crop = prof.stylize_crop if args.crop is None else (args.crop or None)
    summary = stylize_isbi(
        args.slices or prof.stylize_slices, args.styles or prof.stylize_styles, args.steps or prof.stylize_steps,
        crop=crop, batch_size=args.batch or prof.stylize_batch, device=prof.device,
    )
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()

