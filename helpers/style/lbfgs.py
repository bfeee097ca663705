"""L-BFGS for many images at once: ``torch.optim.LBFGS`` (no line search) run independently per row.

One batched tensor in ``torch.optim.LBFGS`` would sum the losses and couple the curvature estimates. Here no
operation mixes rows (a history entry only other images accepted enters a row's recursion with weight exactly 0): given
the same gradients, a row takes bit for bit the steps it takes alone (``tests/test_style_engine.py``).
"""

from __future__ import annotations

import torch

CURVATURE_FLOOR = 1e-10  # torch.optim.LBFGS accepts a curvature pair only where y.s exceeds this


class BatchLBFGS:
    """``torch.optim.LBFGS`` (no line search) run independently for every row of a (B, D) tensor.

    Each image keeps its own curvature pairs, ``1/(y.s)``, Hessian scale ``y.s / y.y`` and step size, and accepts a pair
    only where ``y.s > 1e-10``, as PyTorch does.
    """

    def __init__(self, batch: int, lr: float = 1.0, history_size: int = 100) -> None:
        """Empty history for ``batch`` rows; ``lr``: step size after the first step; ``history_size``: pairs per row."""
        self.lr = float(lr)
        self.history_size = int(history_size)
        self.batch = batch
        self.dirs: list[torch.Tensor] = []  # y_i, (B, D)
        self.stps: list[torch.Tensor] = []  # s_i, (B, D)
        self.ros: list[torch.Tensor] = []  # 1 / (y_i . s_i), (B,), 0 where the pair was not accepted
        self.h_diag: torch.Tensor | None = None
        self.prev_grad: torch.Tensor | None = None
        self.d: torch.Tensor | None = None
        self.t: torch.Tensor | None = None
        self.n_iter = 0

    def direction(self, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Direction ``d`` (B, D) and step size ``t`` (B, 1) for the (B, D) gradients; the update is ``x + t * d``."""
        self.n_iter += 1
        if self.n_iter == 1:
            d = grad.neg()
            self.h_diag = torch.ones(grad.shape[0], 1, device=grad.device, dtype=grad.dtype)
            t = torch.clamp(1.0 / grad.abs().sum(1, keepdim=True), max=1.0) * self.lr
        else:
            self._remember(grad)
            d = self._two_loop(grad)
            t = torch.full((grad.shape[0], 1), self.lr, device=grad.device, dtype=grad.dtype)
        self.prev_grad = grad.clone()
        self.d, self.t = d, t
        return d, t

    def _remember(self, grad: torch.Tensor) -> None:
        """Store the curvature pair of the last step (accepted per image) and update the Hessian scale."""
        y = grad - self.prev_grad
        s = self.d * self.t
        ys = (y * s).sum(1)
        accept = ys > CURVATURE_FLOOR
        self.dirs.append(y)
        self.stps.append(s)
        self.ros.append(torch.where(accept, 1.0 / torch.where(accept, ys, torch.ones_like(ys)), torch.zeros_like(ys)))
        yy = (y * y).sum(1)
        scale = (ys / torch.where(accept, yy, torch.ones_like(yy)))[:, None]
        self.h_diag = torch.where(accept[:, None], scale, self.h_diag)
        self._trim()

    def _two_loop(self, grad: torch.Tensor) -> torch.Tensor:
        """The L-BFGS two-loop recursion: ``-H grad`` from the stored pairs, per image."""
        q = grad.neg()
        al: list[torch.Tensor | None] = [None] * len(self.dirs)
        for i in range(len(self.dirs) - 1, -1, -1):
            al[i] = (self.stps[i] * q).sum(1, keepdim=True) * self.ros[i][:, None]
            q = q - al[i] * self.dirs[i]
        r = q * self.h_diag
        for i in range(len(self.dirs)):
            be = (self.dirs[i] * r).sum(1, keepdim=True) * self.ros[i][:, None]
            r = r + (al[i] - be) * self.stps[i]
        return r

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
