"""The batched engine's parts: how many pairs run at once, and one batch optimised by per-image L-BFGS."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .images import Style
from .objective import Execution, Targets, batch_size_for_memory, batch_targets, evaluate, image_bytes
from .optimizers import BatchLBFGSStepper
from .settings import StyleSettings

MAX_PAIRS = 2**31 - 1  # batch size "all of them"

__all__ = ["MAX_PAIRS", "batch_size", "chunks", "final_losses", "optimise_batch", "progress_hook"]


def final_losses(
    model: torch.nn.Module,
    x: torch.Tensor,
    targets: Targets,
    alpha: float | torch.Tensor,
    beta: float | torch.Tensor,
    style_weights: dict[str, float] | None,
    execution: Execution,
) -> tuple[torch.Tensor, ...]:
    """The losses of the returned images, without their gradients.

    A compiled pass is called with gradients on (never computed) so that it is not compiled again for inference.
    """
    if execution.compile == "off":
        with torch.no_grad():
            return evaluate(model, x.detach(), targets, alpha, beta, style_weights, execution)
    losses = evaluate(model, x.detach().requires_grad_(True), targets, alpha, beta, style_weights, execution)
    return tuple(value.detach() for value in losses)


def batch_size(settings: StyleSettings, execution: Execution, model: torch.nn.Module, shape: tuple, steps: int) -> int:
    """Pairs optimised at once: ``settings.batch_size``, or on CUDA as many as fit the free GPU memory."""
    if settings.batch_size != "auto":
        return int(settings.batch_size)
    if execution.device.type != "cuda":
        return MAX_PAIRS
    free, _total = torch.cuda.mem_get_info(execution.device)
    layers = list(dict.fromkeys((*settings.content_layers, *settings.style_layers)))
    history = min(settings.history_size, steps)
    return batch_size_for_memory(free, image_bytes(model, shape, layers, execution.precision, history))


def chunks(pairs: int, batch_size: int) -> list[slice]:
    """``pairs`` split into the fewest runs of at most ``batch_size``, of sizes differing by at most 1."""
    runs = -(-pairs // batch_size)
    bounds = [round(i * pairs / runs) for i in range(runs + 1)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def progress_hook(on_step: Callable[[int], None] | None, runs: int) -> Callable[[int], None] | None:
    """``on_step`` called with k = 1..steps as the pairs pass k/steps of their work (every ``runs`` evaluations)."""
    if on_step is None:
        return None
    done = 0

    def evaluated(_evaluation: int) -> None:
        nonlocal done
        done += 1
        if done % runs == 0:
            on_step(done // runs)

    return evaluated


def optimise_batch(
    model: torch.nn.Module,
    p: torch.Tensor,
    start: torch.Tensor,
    styles: list[Style],
    alphas: torch.Tensor,
    betas: torch.Tensor,
    steps: int,
    snapshots: tuple[int, ...],
    settings: StyleSettings,
    execution: Execution,
    on_step: Callable[[int], None] | None,
) -> tuple[dict[int, np.ndarray], dict[int, list[torch.Tensor]], dict[str, np.ndarray]]:
    """One batch of pairs optimised together: its images and losses at every snapshot and its loss histories.

    ``p`` and ``start`` are the (B, 3, H, W) contents and start images, ``styles`` one per content, ``alphas`` and
    ``betas`` (B,) weights, ``steps`` function evaluations per image, ``snapshots`` other step counts to keep;
    ``on_step`` is called with ``k`` after evaluation ``k``.

    Returns:
        ``{steps: (B, H, W, 3) images}``, ``{steps: [content, style, total] (B,) losses}`` (for the snapshots and
        ``steps``) and ``{loss name: (B, steps) history}``.
    """
    targets = batch_targets(model, p, styles, settings.content_layers, settings.style_layers)
    x = start.clone()
    wanted = sorted({int(s) for s in snapshots} | {int(steps)})
    snaps: dict[int, torch.Tensor] = {}
    snap_losses: dict[int, tuple[torch.Tensor, ...]] = {}
    history: dict[str, list[torch.Tensor]] = {"content": [], "style": [], "total": []}
    optimizer = BatchLBFGSStepper(x, settings.step_size, settings.history_size)
    for k in range(1, int(steps) + 1):
        with torch.no_grad():
            x.clamp_(0, 1)
        xg = x.detach().requires_grad_(True)
        losses = evaluate(model, xg, targets, alphas, betas, settings.style_weights, execution)
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
    snap_losses[int(steps)] = final_losses(model, x, targets, alphas, betas, settings.style_weights, execution)
    histories = {name: torch.stack(values, 1).cpu().numpy() for name, values in history.items()}  # (B, steps)
    images_after = {s: snaps[s].permute(0, 2, 3, 1).float().cpu().numpy() for s in wanted}
    losses_after = {s: [value.cpu() for value in snap_losses[s]] for s in wanted}
    return images_after, losses_after, histories
