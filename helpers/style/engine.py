"""Gatys et al. style transfer as the report's section 2.1: one image at a time, or many at once.

``x`` minimises eq. 5 (:mod:`helpers.style.losses`) over its pixels, with :class:`helpers.vgg.VGGFeatures`.
**Steps** are function evaluations (one forward + backward pass), as in the PyTorch tutorial the report follows;
``x`` is clamped to [0, 1] before every evaluation and at the end, and the final losses are the returned image's.

* :func:`stylize`: one image with ``torch.optim.LBFGS`` exactly as in the tutorial: the reference.
* :func:`stylize_batch`: many pairs at once with the per-image L-BFGS of :class:`helpers.style.lbfgs.BatchLBFGS`;
  snapshots keep the image after several step counts of one run (the trajectory does not depend on where it stops).

On CUDA the batched engine compiles the VGG pass and losses, uses bfloat16 autocast, channels-last memory and as many
pairs as fit the GPU (``StyleSettings.execution``); on the CPU these are off unless asked for, and results are bit for
bit those of :data:`~helpers.style.settings.ENGINE_VERSION`.
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
    """Raised inside the L-BFGS closure when the step hook asked to stop."""


@dataclass
class StyleResult:
    """A stylised image with its loss history.

    Attributes:
        image: (H, W, 3) float32 RGB in [0, 1] after ``steps`` evaluations.
        steps: function evaluations of the run.
        history: per evaluation, arrays ``content``, ``style``, ``total`` (eqs. 1, 4, 5).
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
    """``steps`` (a whole number >= 1) and the snapshots (whole numbers in 1..steps), checked."""
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
    """The settings of one image's run as a JSON-ready dict, with how its passes ran."""
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

    The tutorial's loop: ``torch.optim.LBFGS(lr=1, max_iter=20)`` stepped until the closure ran ``steps`` times (the
    last ``max_iter`` is cut to match; tolerances 0, so it never stops early).

    Args:
        content: (H, W) grey or (H, W, 3) RGB in [0, 1] (or uint8).
        style: an image, or a painting's report number or name; fitted to the content
            (:func:`helpers.style.images.fit_style`).
        steps: function evaluations.
        settings: weights, layers and device; ``alpha`` and ``beta`` must be numbers here.
        size: resize the content first so that its longest side is ``size`` pixels.
        progress: show a progress bar.
        on_step: called after evaluation ``k`` with ``(k, x, losses)`` (``x`` the detached (1, 3, H, W) image, do not
            change it); a true return stops the run with the image reached (e.g. a Stop button).

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

    Each image has its own L-BFGS history, step size, loss and gradient; given the same gradients it takes bit for bit
    the same steps alone or in any batch. The batched VGG pass sums in another order (kernels chosen by batch size), so
    gradients differ in the last bits, which the chaotic fixed-step L-BFGS amplifies; ``tests/test_style_engine.py``
    shows this is the only coupling, and ``benchmarks/style_benchmark.py`` measures its effect on final losses against
    the noise floor of 1e-6-perturbed input (``batch_independence`` in its JSON).

    Args:
        contents: images of one shape ((H, W) grey or (H, W, 3) RGB in [0, 1], or uint8).
        styles: one per content: images or report numbers/names (a distinct style's Gram is computed once per run).
        steps: function evaluations per image.
        settings: as for :func:`stylize`; ``alpha`` and ``beta`` may be one number or one per pair.
        snapshots: other step counts whose images and losses to keep from the same run.
        on_step: called with ``k`` after evaluation ``k``; over several runs (``settings.batch_size``), with
            k = 1..steps as the pairs pass k/steps of the work.

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
