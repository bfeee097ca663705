"""Deterministic, resumable training of the U-Net: a fixed number of Adam steps on random patches.

A training is a function of its inputs: weights from ``torch.manual_seed(seed)``, step ``i``'s patches from
``step_generator(seed, i)``, deterministic torch with fixed threads. A checkpoint (weights, optimiser state, losses,
step) is written atomically every ``work.checkpoint_every`` steps and at the end, named by a fingerprint of all it
depends on; a rerun resumes to the same weights as an uninterrupted run. Its first line is the SHA-256 of the rest,
so a changed byte is found on load and the file refused.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..config import UNetWork
from ..data import to_unit_float
from ..paths import CacheError, atomic_write_bytes, digest
from .data import check_patch_fits, check_stylised, sample_batch, step_generator, training_targets
from .model import UNet


@dataclass
class TrainedUNet:
    """The result of :func:`train_unet`."""

    model: UNet  # in evaluation mode, on the CPU
    losses: list[float]  # training loss of every step
    resumed_at: int  # the step a checkpoint was resumed from (0: trained from scratch)
    seconds: float  # wall time of this call's training steps
    fingerprint: str  # names the checkpoint: work, seed, augmentation and the training pixels


@contextmanager
def deterministic_torch(threads: int) -> Iterator[None]:
    """Run the block with deterministic torch algorithms and ``threads`` intra-op CPU threads, then restore both."""
    previous_threads = torch.get_num_threads()
    previous_mode = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous_mode)
        torch.set_num_threads(previous_threads)


# settings that do not change one training's result: how many run at once, which seeds the others use, the
# painting list (the stylised pixels themselves are digested)
NOT_FINGERPRINTED = ("workers", "seeds", "exploratory_seeds", "paintings")
SAMPLING = "same-region 1"  # the version of the patch draws (.data.draw_windows): a change retrains


def fingerprint(
    images: Sequence[np.ndarray],
    targets: Sequence[np.ndarray],
    work: UNetWork,
    seed: int,
    augment: bool,
    stylised: Sequence[Sequence[np.ndarray]] = (),
) -> str:
    """12-hex-digit digest of everything a training's result depends on (names its checkpoint).

    ``style_probability`` counts only with ``stylised`` copies; the worker count, seed lists and painting list never
    do (:data:`NOT_FINGERPRINTED`).
    """
    ignored = NOT_FINGERPRINTED if stylised else (*NOT_FINGERPRINTED, "style_probability")
    settings = {name: value for name, value in work.as_dict().items() if name not in ignored}
    record = json.dumps({"work": settings, "seed": seed, "augment": augment, "torch": torch.__version__,
                         "sampling": SAMPLING})  # fmt: skip
    shapes = json.dumps([list(image.shape) for image in images] + [len(stylised)])
    copies = [np.ascontiguousarray(copy).tobytes() for painting in stylised for copy in painting]
    return digest(record, shapes, *(np.ascontiguousarray(array).tobytes() for array in [*images, *targets]), *copies)


def _save(path: Path, model: UNet, optimizer: torch.optim.Optimizer, losses: list[float], key: str) -> None:
    """Write a checkpoint atomically: the SHA-256 of the content on the first line, then the content."""
    buffer = io.BytesIO()
    state = {"optimizer": optimizer.state_dict(), "losses": torch.tensor(losses, dtype=torch.float64)}
    torch.save({"fingerprint": key, "step": len(losses), "model": model.state_dict(), **state}, buffer)
    content = buffer.getvalue()
    atomic_write_bytes(path, hashlib.sha256(content).hexdigest().encode("ascii") + b"\n" + content)


def _verified(path: Path) -> bytes:
    """The content of a checkpoint whose recorded SHA-256 matches it (else CacheError)."""
    data = path.read_bytes()
    recorded, _, content = data.partition(b"\n")
    if len(recorded) != 64 or hashlib.sha256(content).hexdigest().encode("ascii") != recorded:
        raise CacheError(path, "its content does not match its recorded digest (damaged); delete it to train again")
    return content


def _load(path: Path, model: UNet, optimizer: torch.optim.Optimizer, key: str) -> list[float]:
    """Restore model and optimiser from a verified checkpoint; returns the losses of the steps it holds."""
    content = _verified(path)
    try:
        state = torch.load(io.BytesIO(content), map_location="cpu", weights_only=True)
        if state["fingerprint"] != key:
            raise CacheError(path, f"it belongs to training {state['fingerprint']}, not {key}")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        losses = state["losses"].tolist()
    except CacheError:
        raise
    except Exception as error:  # torch raises several types for a truncated or foreign file
        raise CacheError(path, f"not a readable U-Net checkpoint ({error}); delete it to train again") from error
    if len(losses) != state["step"]:
        raise CacheError(path, f"it records step {state['step']} but {len(losses)} losses; delete it")
    return losses


def stylised_copies(stylised: Sequence[Sequence[np.ndarray]], images: Sequence[np.ndarray]) -> list[list[np.ndarray]]:
    """Stylised copies (per painting, one per training image; uint8 or float in [0, 1]) as float32, checked.

    Raises:
        ValueError: for copies that do not match the images one to one, or pixels outside the contract.
    """
    copies = [[to_unit_float(np.asarray(copy), f"stylised copy {n}") for copy in painting]
              for n, painting in enumerate(stylised)]  # fmt: skip
    check_stylised(images, copies)
    return copies


def train_unet(
    raws: Sequence[np.ndarray],
    labels: Sequence[np.ndarray],
    work: UNetWork,
    seed: int,
    augment: bool = False,
    checkpoints: Path | None = None,
    progress: bool = True,
    on_step: Callable[[int, float], None] | None = None,
    description: str = "U-Net",
    stylised: Sequence[Sequence[np.ndarray]] = (),
) -> TrainedUNet:
    """Train a U-Net on membrane labels (or the boundaries they give), resuming from (and writing) checkpoints.

    Args:
        raws: grey 2D training slices (uint8, or float in [0, 1]), each at least ``work.patch`` pixels a side.
        labels: their binary membrane labels (0 membrane, 255 cell interior); the target is ``work.target``.
        work: iterations, patch, batch, width, depth, learning rate, checkpoints, threads, target, style probability.
        seed: seeds the initial weights and the patches.
        augment: plain augmentation of every patch (:func:`.data.augment_patch`).
        checkpoints: folder of the checkpoints (None: none written or read).
        progress: show a progress bar.
        on_step: called after every step with ``(step, loss)``, steps counted from 1.
        description: the progress bar's label.
        stylised: per painting, a stylised copy of every slice (same order and shapes; none: originals only); a patch
            takes the same window of a copy with probability ``work.style_probability``.

    Returns:
        The trained model (evaluation mode) with its losses.

    Raises:
        ValueError: for bad training data (see :func:`.data.training_targets`, :func:`.data.sample_batch`).
        CacheError: for a damaged checkpoint.
    """
    images, targets = training_targets(raws, labels, work.target)
    check_patch_fits(images, work.patch)
    copies = stylised_copies(stylised, images)
    key = fingerprint(images, targets, work, seed, augment, copies)
    path = None if checkpoints is None else Path(checkpoints) / f"unet-{key}.pt"
    with deterministic_torch(work.threads):
        torch.manual_seed(seed)
        model = UNet(work.width, work.depth)
        optimizer = torch.optim.Adam(model.parameters(), lr=work.learning_rate)
        losses = _load(path, model, optimizer, key) if path is not None and path.exists() else []
        resumed_at = len(losses)
        loss_function = torch.nn.BCEWithLogitsLoss()
        model.train()
        started = time.perf_counter()
        bar = tqdm(total=work.iterations, initial=resumed_at, desc=description, disable=not progress, leave=False)
        for step in range(resumed_at, work.iterations):
            pixels, target = sample_batch(
                images, targets, work.patch, work.batch, step_generator(seed, step), augment, copies,
                work.style_probability,
            )  # fmt: skip
            optimizer.zero_grad()
            loss = loss_function(model(torch.from_numpy(pixels)), torch.from_numpy(target))
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
            bar.update(1)
            if path is not None and (len(losses) % work.checkpoint_every == 0 or len(losses) == work.iterations):
                _save(path, model, optimizer, losses, key)
            if on_step is not None:
                on_step(len(losses), losses[-1])
        bar.close()
    model.eval()
    return TrainedUNet(model, losses, resumed_at, time.perf_counter() - started, key)
