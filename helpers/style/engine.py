"""Gatys et al. style transfer as the report's section 2.1: one image at a time, or many at once.

The image ``x`` is found by minimising eq. 5 (:mod:`helpers.style.losses`) over its pixels, with the VGG16
features of :class:`helpers.vgg.VGGFeatures` (HED weights by default).

* **Steps** are function evaluations (one forward + backward pass per image), as in the PyTorch tutorial that
  the report's code follows: ``steps=75`` means 75 evaluations of eq. 5 and its gradient.
* As the tutorial's closure does, ``x`` is clamped to [0, 1] before every evaluation and once at the end; the
  final losses reported are those of the returned (clamped) image.

Two engines share one :class:`StyleSettings` (:mod:`helpers.style.settings`, re-exported here):

* :func:`stylize`: one image with ``torch.optim.LBFGS`` exactly as in the PyTorch tutorial (``max_iter=20`` per
  ``optimizer.step``, the closure counts evaluations), or Adam. This is the reference.
* :func:`stylize_batch`: many (content, style) pairs at once with the per-image L-BFGS of
  :class:`helpers.style.lbfgs.BatchLBFGS` (same algorithm, a separate history and step size per image).
  Snapshots return the image after several step counts of one run (the 75-step image of a 150-step run is the
  75-step result, since the trajectory does not depend on where it stops).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from .. import checks
from .images import MIN_SIDE, Style, as_batch, check_image, resize_longest, to_grey
from .objective import batch_targets, evaluate, get_model, per_image, resolve_precision
from .optimizers import BATCH_OPTIMIZERS, SEQUENTIAL_OPTIMIZERS, initial_image
from .settings import DEFAULT_SETTINGS, StyleSettings

__all__ = ["DEFAULT_SETTINGS", "StyleResult", "StyleSettings", "stylize", "stylize_batch"]


@dataclass
class StyleResult:
    """A stylised image with its loss history.

    Attributes:
        image: (H, W, 3) float32 RGB in [0, 1] after ``steps`` evaluations.
        steps: function evaluations of the run.
        history: per evaluation, arrays ``content``, ``style``, ``total`` (eq. 1, 4, 5).
        final: the losses of the returned image.
        settings: the settings of the run (plain dict).
        snapshots: images after other step counts of the same run (and after ``steps``).
        snapshot_losses: their losses.
        seconds: wall time of the run.
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


def _check_steps(steps: int, snapshots: Sequence[int] = ()) -> tuple[int, tuple[int, ...]]:
    """``steps`` (a whole number >= 1 of function evaluations) and the snapshots (whole numbers in 1..steps)."""
    steps = checks.integer(steps, "steps (function evaluations per image)", 1)
    snaps = tuple(checks.integer(s, f"snapshot {s!r}", None) for s in snapshots)
    bad = [s for s in snaps if not 1 <= s <= steps]
    if bad:
        raise ValueError(f"snapshots {bad} must lie in 1..steps={steps}")
    return steps, snaps


def _losses(content: torch.Tensor, style: torch.Tensor, total: torch.Tensor, index: int = 0) -> dict[str, float]:
    return {"content": float(content[index]), "style": float(style[index]), "total": float(total[index])}


def _record(
    settings: StyleSettings, engine: str, steps: int, alpha: float, beta: float, precision: str, **run: object
) -> dict:
    """The settings of one image's run as a plain, JSON-ready dict (tuples as lists)."""
    record = {
        "engine": engine,
        "optimizer": settings.optimizer,
        "init": settings.init,
        "alpha": alpha,
        "beta": beta,
        "steps": int(steps),
        "lr": settings.lr,
        "history_size": settings.history_size,
        "content_layers": settings.content_layers,
        "style_layers": settings.style_layers,
        "style_weights": settings.style_weights,
        "seed": int(settings.seed),
        "vgg": settings.source,
        "pooling": settings.pooling,
        "precision": precision,
        **run,
    }
    return {key: list(value) if isinstance(value, tuple) else value for key, value in record.items()}


def stylize(
    content: np.ndarray,
    style: Style,
    steps: int,
    settings: StyleSettings = DEFAULT_SETTINGS,
    *,
    size: int | None = None,
    progress: bool = False,
) -> StyleResult:
    """Stylise one image: minimise eq. 5 over the pixels of ``x`` for ``steps`` function evaluations.

    ``optimizer='lbfgs'`` is the PyTorch tutorial's loop: ``torch.optim.LBFGS(lr=1, max_iter=20)`` stepped until
    the closure has run ``steps`` times (the last call's ``max_iter`` is cut so that exactly ``steps``
    evaluations happen; tolerances are 0 so it never stops early). ``optimizer='adam'`` takes ``steps`` Adam steps.

    Args:
        content: (H, W) grey or (H, W, 3) RGB in [0, 1] (or uint8).
        style: an image, or a painting's report number or name (``20`` or ``'the_scream'``); fitted to the
            content size (:func:`helpers.style.images.fit_style`).
        steps: function evaluations.
        settings: the weights, layers, optimiser and device; ``alpha`` and ``beta`` must be numbers here.
        size: resize the content first so that its longest side is ``size`` pixels.
        progress: show a progress bar.

    Returns:
        The :class:`StyleResult`.

    Raises:
        ValueError: for bad images, steps or settings.
        KeyError: naming the choices, for an unknown painting.
    """
    steps, _ = _check_steps(steps)
    if size is not None:
        size = checks.integer(size, "size (longest side in pixels)", MIN_SIDE)
    if isinstance(settings.alpha, tuple) or isinstance(settings.beta, tuple):
        raise ValueError("stylize takes one alpha and one beta: use stylize_batch for one per pair")
    started = time.perf_counter()
    device = torch.device(settings.device)
    precision = "fp32" if settings.precision == "auto" else resolve_precision(settings.precision, device)
    alpha, beta = float(settings.alpha), float(settings.beta)
    content_image = check_image(content, "content image")
    if size is not None:
        content_image = resize_longest(content_image, int(size))
    model = get_model(settings.source, settings.pooling, str(device))
    p = as_batch([content_image], device)
    targets = batch_targets(model, p, [style], settings.content_layers, settings.style_layers)
    x = initial_image(p, settings.init, settings.seed).requires_grad_(True)
    history: dict[str, list[float]] = {"content": [], "style": [], "total": []}
    bar = tqdm(total=int(steps), desc="stylize", unit="step", disable=not progress, leave=False)

    def closure() -> torch.Tensor:
        with torch.no_grad():
            x.clamp_(0, 1)
        x.grad = None
        losses = evaluate(model, x, targets, alpha, beta, settings.style_weights, device, precision)
        losses[2].sum().backward()
        for name, value in zip(history, losses):
            history[name].append(float(value[0].detach()))
        bar.update(1)
        return losses[2].sum()

    SEQUENTIAL_OPTIMIZERS[settings.optimizer](x, closure, int(steps), settings.step_size, settings.history_size)
    bar.close()
    with torch.no_grad():
        x.clamp_(0, 1)
        final = _losses(*evaluate(model, x, targets, alpha, beta, settings.style_weights, device, precision))
    image = x.detach()[0].permute(1, 2, 0).float().cpu().numpy()
    record = _record(settings, "sequential", steps, alpha, beta, precision, device=str(device), shape=image.shape[:2])
    return StyleResult(
        image=image,
        steps=int(steps),
        history={name: np.asarray(values) for name, values in history.items()},
        final=final,
        settings=record,
        snapshots={int(steps): image},
        snapshot_losses={int(steps): final},
        seconds=time.perf_counter() - started,
    )


def stylize_batch(
    contents: Sequence[np.ndarray],
    styles: Sequence[Style],
    steps: int,
    settings: StyleSettings = DEFAULT_SETTINGS,
    *,
    snapshots: Sequence[int] = (),
    on_step: Callable[[int], None] | None = None,
) -> list[StyleResult]:
    """Stylise many (content, style) pairs at once; every image is optimised independently.

    Args:
        contents: images of one shape ((H, W) grey or (H, W, 3) RGB in [0, 1], or uint8).
        styles: one per content: images or report numbers/names (each distinct style's Gram is computed once).
        steps: function evaluations per image.
        settings: as for :func:`stylize`; ``alpha`` and ``beta`` may be one number or one per pair.
        snapshots: other step counts whose images (and losses) to keep from the same run.
        on_step: called with ``k`` after evaluation ``k`` (for progress bars).

    Returns:
        One :class:`StyleResult` per pair, in order.

    Raises:
        ValueError: for bad images, mixed shapes, mismatched lengths, steps, snapshots or settings.
        KeyError: naming the choices, for an unknown painting.
    """
    steps, snapshots = _check_steps(steps, snapshots)
    if len(contents) != len(styles) or len(contents) == 0:
        raise ValueError(
            f"need one style per content image and at least one pair, got {len(contents)} and {len(styles)}"
        )
    started = time.perf_counter()
    device = torch.device(settings.device)
    precision = resolve_precision(settings.precision, device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    images = [check_image(c, f"content image {i}") for i, c in enumerate(contents)]
    shapes = {image.shape for image in images}
    if len(shapes) != 1:
        raise ValueError(f"content images of one batch must share one shape, got {sorted(shapes)}: crop or resize them")
    shape = images[0].shape[:2]
    batch = len(images)
    model = get_model(settings.source, settings.pooling, str(device))
    p = as_batch(images, device)
    targets = batch_targets(model, p, styles, settings.content_layers, settings.style_layers)
    alphas = per_image(settings.alpha, batch, device)
    betas = per_image(settings.beta, batch, device)

    x = initial_image(p, settings.init, settings.seed)
    wanted = sorted({int(s) for s in snapshots} | {int(steps)})
    snaps: dict[int, torch.Tensor] = {}
    snap_losses: dict[int, tuple[torch.Tensor, ...]] = {}
    history: dict[str, list[torch.Tensor]] = {"content": [], "style": [], "total": []}
    optimizer = BATCH_OPTIMIZERS[settings.optimizer](x, settings.step_size, settings.history_size)
    for k in range(1, int(steps) + 1):
        with torch.no_grad():
            x.clamp_(0, 1)
        xg = x.detach().requires_grad_(True)
        losses = evaluate(model, xg, targets, alphas, betas, settings.style_weights, device, precision)
        grad = torch.autograd.grad(losses[2].sum(), xg)[0]
        if (k - 1) in wanted:  # x after k-1 updates, clamped: the snapshot of k-1 steps
            snaps[k - 1] = x.detach().clone()
            snap_losses[k - 1] = tuple(value.detach() for value in losses)
        for name, value in zip(history, losses):
            history[name].append(value.detach())
        with torch.no_grad():
            x = optimizer.step(x, grad)
        if on_step is not None:
            on_step(k)
    with torch.no_grad():
        x.clamp_(0, 1)
        snaps[int(steps)] = x.detach().clone()
        snap_losses[int(steps)] = evaluate(
            model, x.detach(), targets, alphas, betas, settings.style_weights, device, precision
        )
    seconds = time.perf_counter() - started
    histories = {name: torch.stack(values, 1).cpu().numpy() for name, values in history.items()}  # (B, steps)
    images_after = {s: snaps[s].permute(0, 2, 3, 1).float().cpu().numpy() for s in wanted}
    losses_after = {s: [value.cpu() for value in snap_losses[s]] for s in wanted}
    results = []
    for b in range(batch):
        record = _record(
            settings,
            "batched",
            steps,
            float(alphas[b]),
            float(betas[b]),
            precision,
            device=str(device),
            shape=shape,
            batch=batch,
        )
        losses_b = {s: _losses(*losses_after[s], index=b) for s in wanted}
        results.append(
            StyleResult(
                image=images_after[int(steps)][b],
                steps=int(steps),
                history={name: values[b] for name, values in histories.items()},
                final=losses_b[int(steps)],
                settings=record,
                snapshots={s: images_after[s][b] for s in wanted},
                snapshot_losses=losses_b,
                seconds=seconds,
            )
        )
    return results
