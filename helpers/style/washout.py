"""How much of the membranes survives stylisation: "washed out" results measured, not picked by eye (Fig. 15)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import data
from .cache import load_stylized


def _separability(stack: np.ndarray, membrane: np.ndarray) -> np.ndarray:
    """|mean(interior) - mean(membrane)| / std per image of a stack."""
    return np.array([abs(img[~m].mean() - img[m].mean()) / max(img.std(), 1e-9) for img, m in zip(stack, membrane)])


def washout_scores(original: np.ndarray, stylised: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """How much of the membranes survives stylisation, per slice.

    ``contrast``: std of the stylised slice over the original's. ``correlation``: Pearson correlation of their pixels.
    ``membrane_contrast``: separability ``|mean(interior) - mean(membrane)| / std`` of the stylised slice over the
    original's: near 1 the membranes stand out as before, near 0 they are washed out (the report's Fig. 15 failures).

    Args:
        original: (n, h, w) or (h, w) grey slices.
        stylised: the same slices stylised, same shape.
        labels: their membrane labels (0 membrane, 255 cell), same shape.

    Returns:
        ``{"contrast", "correlation", "membrane_contrast"}``, each an array of n values.

    Raises:
        ValueError: if the shapes differ.
    """
    original = np.asarray(original, dtype=np.float64)
    stylised = np.asarray(stylised, dtype=np.float64)
    labels = np.asarray(labels)
    if original.shape != stylised.shape or labels.shape != original.shape:
        raise ValueError(
            f"original {original.shape}, stylised {stylised.shape} and labels {labels.shape} must match: "
            "crop them alike"
        )
    if original.ndim == 2:
        original, stylised, labels = original[None], stylised[None], labels[None]
    membrane = labels == 0
    flat_o = original.reshape(len(original), -1)
    flat_s = stylised.reshape(len(stylised), -1)
    co, cs = flat_o - flat_o.mean(1, keepdims=True), flat_s - flat_s.mean(1, keepdims=True)
    correlation = (co * cs).sum(1) / np.maximum(np.sqrt((co**2).sum(1) * (cs**2).sum(1)), 1e-12)
    return {
        "contrast": flat_s.std(1) / np.maximum(flat_o.std(1), 1e-9),
        "correlation": correlation,
        "membrane_contrast": _separability(stylised, membrane) / np.maximum(_separability(original, membrane), 1e-9),
    }


def washout_table(
    cache: Path, slices: Sequence[int], styles: Sequence[int], steps: Sequence[int], crop: int | None = None
) -> list[dict]:
    """The :func:`washout_scores` of every cached (style, steps, slice), lowest ``membrane_contrast`` first.

    Args:
        cache: the root cache folder.
        slices: ISBI training slices.
        styles: painting numbers.
        steps: step counts.
        crop: the crop side they were stylised at (None: whole slices).

    Returns:
        One row per image: ``style``, ``style_name``, ``steps``, ``slice`` and the scores.

    Raises:
        FileNotFoundError: if the cache lacks one of them.
    """
    raw, labels = data.load_training(list(slices))
    side = crop or raw.shape[-1]
    raw, labels = raw[:, :side, :side], labels[:, :side, :side]
    names = data.style_names()
    rows = []
    for number in styles:
        for st in steps:
            scores = washout_scores(raw, load_stylized(cache, st, number, slices, crop), labels)
            for i, s in enumerate(slices):
                row = {"style": int(number), "style_name": names[int(number)], "steps": int(st), "slice": int(s)}
                rows.append({**row, **{name: float(values[i]) for name, values in scores.items()}})
    return sorted(rows, key=lambda row: row["membrane_contrast"])
