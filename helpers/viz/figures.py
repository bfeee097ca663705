"""What every figure shares: saving, label colours and the pixel axes of EM images."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

PIXEL_UNIT = "pixels, 4 nm each"  # ISBI 2012: 4 x 4 nm pixels


def save(fig: plt.Figure, path: Path, dpi: int = 110) -> Path:
    """Save a figure (PNG, or PDF when the name ends in ``.pdf``).

    Args:
        fig: the figure.
        path: where to write it, usually ``config.figure_path(name)``.
        dpi: resolution of raster output.

    Returns:
        ``path``.
    """
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return Path(path)


def random_label_colors(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """One random colour per label id (0 stays black).

    Args:
        labels: integer label image.
        seed: seed of the palette.

    Returns:
        An RGB float image of shape ``labels.shape + (3,)``.
    """
    rng = np.random.default_rng(seed)
    palette = rng.uniform(0.15, 1.0, size=(int(labels.max()) + 1, 3))
    palette[0] = 0
    return palette[labels]


def label_pixel_axes(ax: plt.Axes, title: str) -> None:
    """Title an image panel and label its axes in pixels.

    Args:
        ax: the panel.
        title: its title.
    """
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(f"x ({PIXEL_UNIT})")
    ax.set_ylabel("y (pixels)")
