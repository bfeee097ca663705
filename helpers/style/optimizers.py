"""The L-BFGS optimisers of both engines and the start image.

:func:`tutorial_lbfgs` drives one image through a closure (the PyTorch tutorial's loop); :class:`BatchLBFGSStepper`
updates a whole batch from its gradients, each image on its own.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .lbfgs import BatchLBFGS

TUTORIAL_MAX_ITER = 20  # torch.optim.LBFGS default, used per optimizer.step() in the PyTorch tutorial
DEFAULT_LR = 1.0  # L-BFGS step size

Closure = Callable[[], torch.Tensor]


def _noise(content: torch.Tensor, seed: int) -> torch.Tensor:
    """White noise, drawn on the CPU so that every device starts from the same image."""
    return torch.rand(content.shape, generator=torch.Generator().manual_seed(int(seed))).to(content.device)


INITS: dict[str, Callable[[torch.Tensor, int], torch.Tensor]] = {
    "content": lambda content, seed: content.clone(),
    "noise": _noise,
}


def initial_image(content: torch.Tensor, init: str, seed: int) -> torch.Tensor:
    """The start image for a (B, 3, H, W) content batch: ``"content"`` (a copy) or ``"noise"`` (white, by ``seed``)."""
    return INITS[init](content, seed)


def tutorial_lbfgs(x: torch.Tensor, closure: Closure, steps: int, lr: float, history_size: int) -> None:
    """``torch.optim.LBFGS(max_iter=20)`` stepped until the closure has run exactly ``steps`` times.

    The last call's ``max_iter`` is cut to the evaluations left; tolerances are 0, so it never stops early.

    Args:
        x: the image being optimised (a leaf that requires grad).
        closure: evaluates eq. 5 at ``x``, fills ``x.grad`` and returns the loss.
        steps: function evaluations.
        lr: step size.
        history_size: curvature pairs kept.
    """
    optimizer = torch.optim.LBFGS(
        [x], lr=lr, max_iter=TUTORIAL_MAX_ITER, history_size=history_size, tolerance_grad=0.0, tolerance_change=0.0
    )
    evaluations = 0

    def counted() -> torch.Tensor:
        nonlocal evaluations
        evaluations += 1
        return closure()

    while evaluations < steps:  # every step() evaluates at least once
        optimizer.param_groups[0]["max_iter"] = min(TUTORIAL_MAX_ITER, steps - evaluations)
        optimizer.param_groups[0]["max_eval"] = optimizer.param_groups[0]["max_iter"] * 2
        optimizer.step(counted)


class BatchLBFGSStepper:
    """Per-image L-BFGS steps on a batch (:class:`helpers.style.lbfgs.BatchLBFGS`)."""

    def __init__(self, x: torch.Tensor, lr: float, history_size: int) -> None:
        """One L-BFGS state per image of the (B, 3, H, W) start images ``x``, keeping ``history_size`` pairs each."""
        self.lbfgs = BatchLBFGS(x.shape[0], lr, history_size)

    def step(self, x: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        """Move every image of (B, 3, H, W) ``x`` along its own L-BFGS direction from ``grad``; returns a new tensor."""
        batch = x.shape[0]
        d, t = self.lbfgs.direction(grad.reshape(batch, -1).float())
        return (x.reshape(batch, -1) + t * d).reshape(x.shape)
