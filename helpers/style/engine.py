"""Gatys et al. style transfer as the report's section 2.1: one image at a time, or many at once.

The image ``x`` is found by minimising eq. 5 (:mod:`helpers.style.losses`) over its pixels, with the VGG16
features of :class:`helpers.vgg.VGGFeatures` (HED weights by default).

* **Steps** are function evaluations (one forward + backward pass per image), as in the PyTorch tutorial that
  the report's code follows: ``steps=75`` means 75 evaluations of eq. 5 and its gradient.
* As the tutorial's closure does, ``x`` is clamped to [0, 1] before every evaluation and once at the end; the
  final losses reported are those of the returned (clamped) image.

Two engines share one :class:`StyleSettings` (:mod:`helpers.style.settings`, re-exported here):

* :func:`stylize`: one image with ``torch.optim.LBFGS`` exactly as in the PyTorch tutorial (``max_iter=20`` per
  ``optimizer.step``, the closure counts evaluations). This is the reference.
* :func:`stylize_batch`: many (content, style) pairs at once with the per-image L-BFGS of
  :class:`helpers.style.lbfgs.BatchLBFGS` (same algorithm, a separate history and step size per image).
  Snapshots return the image after several step counts of one run (the 75-step image of a 150-step run is the
  75-step result, since the trajectory does not depend on where it stops).

On CUDA the batched engine runs the GPU path by default (``StyleSettings.execution``): the VGG pass and losses
compiled with ``torch.compile`` (forward and backward, once per run), bfloat16 autocast, channels-last memory and
as many pairs at once as fit the free GPU memory. On the CPU all of these are off unless asked for, and the
results are bit for bit those of :data:`~helpers.style.settings.ENGINE_VERSION`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from .. import checks
from .batching import batch_size, chunks, final_losses, optimise_batch, progress_hook
from .images import MIN_SIDE, Style, as_batch, check_image, resize_longest, to_grey
from .objective import Execution, batch_targets, evaluate, get_model, per_image
from .optimizers import initial_image, tutorial_lbfgs
from .settings import DEFAULT_SETTINGS, StyleSettings

__all__ = ["DEFAULT_SETTINGS", "StepHook", "StyleResult", "StyleSettings", "stylize", "stylize_batch"]

# stylize's per-evaluation hook: (evaluation k, the image as evaluated, its losses) -> stop now?
StepHook = Callable[[int, torch.Tensor, dict[str, float]], bool | None]


class _Stopped(Exception):
    """Raised inside the L-BFGS closure when the step hook asked to stop: the run ends with the image reached."""


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
    settings: StyleSettings, engine: str, steps: int, alpha: float, beta: float, execution: Execution, **run: object
) -> dict:
    """The settings of one image's run as a plain, JSON-ready dict (tuples as lists), with how its passes ran."""
    record = {
        "engine": engine,
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
        "precision": execution.precision,
        "compile": execution.compile,
        "channels_last": execution.channels_last,
        "device": str(execution.device),
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
    on_step: StepHook | None = None,
) -> StyleResult:
    """Stylise one image: minimise eq. 5 over the pixels of ``x`` for ``steps`` function evaluations.

    The optimiser is the PyTorch tutorial's loop: ``torch.optim.LBFGS(lr=1, max_iter=20)`` stepped until
    the closure has run ``steps`` times (the last call's ``max_iter`` is cut so that exactly ``steps``
    evaluations happen; tolerances are 0 so it never stops early).

    Args:
        content: (H, W) grey or (H, W, 3) RGB in [0, 1] (or uint8).
        style: an image, or a painting's report number or name (``20`` or ``'the_scream'``); fitted to the
            content size (:func:`helpers.style.images.fit_style`).
        steps: function evaluations.
        settings: the weights, layers and device; ``alpha`` and ``beta`` must be numbers here.
        size: resize the content first so that its longest side is ``size`` pixels.
        progress: show a progress bar.
        on_step: called after evaluation ``k`` (1, 2, ...) with ``(k, x, losses)``: ``x`` the (1, 3, H, W) image as
            evaluated (detached; do not change it), ``losses`` its eq. 1, 4 and 5. A true return value stops the
            run there: the result is then the image reached, with ``steps`` = the evaluations done (an interactive
            panel's Stop button).

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
    execution = settings.execution("sequential")
    device = execution.device
    alpha, beta = float(settings.alpha), float(settings.beta)
    content_image = check_image(content, "content image")
    if size is not None:
        content_image = resize_longest(content_image, int(size))
    model = get_model(settings.source, settings.pooling, str(device), execution.channels_last)
    p = as_batch([content_image], device)
    targets = batch_targets(model, p, [style], settings.content_layers, settings.style_layers)
    x = initial_image(p, settings.init, settings.seed).requires_grad_(True)
    history: dict[str, list[float]] = {"content": [], "style": [], "total": []}
    bar = tqdm(total=int(steps), desc="stylize", unit="step", disable=not progress, leave=False)
    stop = False

    def closure() -> torch.Tensor:
        nonlocal stop
        if stop:
            raise _Stopped
        with torch.no_grad():
            x.clamp_(0, 1)
        x.grad = None
        losses = evaluate(model, x, targets, alpha, beta, settings.style_weights, execution)
        losses[2].sum().backward()
        for name, value in zip(history, losses):
            history[name].append(float(value[0].detach()))
        bar.update(1)
        if on_step is not None:
            stop = bool(on_step(len(history["total"]), x.detach(), {n: v[-1] for n, v in history.items()}))
        return losses[2].sum()

    with contextlib.suppress(_Stopped):  # stopped by on_step: x is the image after the last evaluation's step
        tutorial_lbfgs(x, closure, int(steps), settings.step_size, settings.history_size)
    bar.close()
    steps = len(history["total"])
    with torch.no_grad():
        x.clamp_(0, 1)
    final = _losses(*final_losses(model, x, targets, alpha, beta, settings.style_weights, execution))
    image = x.detach()[0].permute(1, 2, 0).float().cpu().numpy()
    record = _record(settings, "sequential", steps, alpha, beta, execution, shape=image.shape[:2])
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

    *Independent* means: each image has its own L-BFGS history, curvature scale and step size, its own loss
    and gradient, and no reduction of the optimiser runs across images; given the same gradients, an image
    takes bit for bit the same steps alone or in any batch (:class:`~helpers.style.lbfgs.BatchLBFGS`). It does
    not mean the same bits: the batched VGG pass sums in another order than a pass of one image (the
    convolution kernels are chosen by batch size, oneDNN on the CPU, cuDNN on CUDA), so an image's gradient
    differs from its gradient alone in the last bits. ``tests/test_style_engine.py`` shows that this change is
    smaller than a 1e-6 perturbation of the input makes, and that it is the only coupling: with the VGG passes
    made one image at a time, an image's result in a batch is bit for bit its result alone. The tutorial's
    L-BFGS (fixed step, no line search) is chaotic and amplifies any such difference over tens of steps. How
    far the final losses then move is measured, not assumed: ``benchmarks/style_benchmark.py`` reruns each
    pair alone and compares the spread with the one-image loop's own on 1e-6-perturbed input (the noise
    floor) in the ``batch_independence`` block of its JSON (``within_noise_floor``, and a bootstrap interval
    of the difference of the medians with ``distinguishable_from_noise_floor``).

    Args:
        contents: images of one shape ((H, W) grey or (H, W, 3) RGB in [0, 1], or uint8).
        styles: one per content: images or report numbers/names (each distinct style's Gram is computed once
            per run of ``settings.batch_size`` pairs).
        steps: function evaluations per image.
        settings: as for :func:`stylize`; ``alpha`` and ``beta`` may be one number or one per pair.
        snapshots: other step counts whose images (and losses) to keep from the same run.
        on_step: called with ``k`` after evaluation ``k`` (for progress bars); when the pairs run in several
            batches (``settings.batch_size``), with k = 1..steps as they pass k/steps of the work.

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
    execution = settings.execution("batched")
    device = execution.device
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    images = [check_image(c, f"content image {i}") for i, c in enumerate(contents)]
    shapes = {image.shape for image in images}
    if len(shapes) != 1:
        raise ValueError(f"content images of one batch must share one shape, got {sorted(shapes)}: crop or resize them")
    shape = images[0].shape[:2]
    model = get_model(settings.source, settings.pooling, str(device), execution.channels_last)
    p = as_batch(images, device)
    alphas = per_image(settings.alpha, len(images), device)
    betas = per_image(settings.beta, len(images), device)
    starts = initial_image(p, settings.init, settings.seed)  # drawn for all pairs: the same however they are split
    runs = chunks(len(images), min(len(images), batch_size(settings, execution, model, shape, int(steps))))
    progress = progress_hook(on_step, len(runs))
    outcomes = [
        optimise_batch(
            model, p[run], starts[run], list(styles[run]), alphas[run], betas[run], steps, snapshots, settings,
            execution, progress,
        )
        for run in runs
    ]  # fmt: skip
    seconds = time.perf_counter() - started
    results = []
    for run, (images_after, losses_after, histories) in zip(runs, outcomes):
        for b in range(run.stop - run.start):
            record = _record(
                settings,
                "batched",
                steps,
                float(alphas[run.start + b]),
                float(betas[run.start + b]),
                execution,
                shape=shape,
                batch=run.stop - run.start,
            )
            losses_b = {s: _losses(*losses, index=b) for s, losses in losses_after.items()}
            results.append(
                StyleResult(
                    image=images_after[int(steps)][b],
                    steps=int(steps),
                    history={name: values[b] for name, values in histories.items()},
                    final=losses_b[int(steps)],
                    settings=record,
                    snapshots={s: images_after[s][b] for s in images_after},
                    snapshot_losses=losses_b,
                    seconds=seconds,
                )
            )
    return results
