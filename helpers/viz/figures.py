"""What every figure shares: saving and showing, label colours and the pixel axes of EM images.

A file name's ending chooses the format (:func:`save`); chapters show a screen-resolution copy (:func:`show`) so the
executed chapters stay small. :func:`publish` does both.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Image, display

PIXEL_UNIT = "pixels, 4 nm each"  # ISBI 2012: 4 x 4 nm pixels
FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".pdf": "pdf"}  # file name ending -> format
JPEG_QUALITY = 85  # image panels (EM slices, photos, overlays): a quarter of the PNG's size, no visible loss
INLINE_JPEG_QUALITY = 75  # the screen copy in an executed chapter
FILE_DPI = 110  # figures/ files
INLINE_DPI = 96  # the copy embedded in an executed chapter (and the book): one figure inch is 96 screen pixels
COLUMN_WIDTH_PX = 688  # the book's text column: a wider inline image would be shrunk, and its text with it
COLUMN_WIDTH_IN = COLUMN_WIDTH_PX / INLINE_DPI  # about 7 in: draw figures at most this wide, text at >= 9 pt


def save(fig: plt.Figure, path: Path, dpi: int = FILE_DPI) -> Path:
    """Save a figure to ``path`` (usually ``config.figure_path(name)``) in the format its name ends with; returns it.

    ``.jpg`` for image panels (EM slices, photos, overlays), ``.png`` for line and bar plots, ``.pdf`` only for a
    figure a paper would reuse; ``dpi`` is the raster resolution.

    Raises:
        ValueError: for a name that does not end in ``.png``, ``.jpg``/``.jpeg`` or ``.pdf``.
    """
    path = Path(path)
    fmt = _format_of(path)
    fig.savefig(path, dpi=dpi, bbox_inches="tight", format=fmt, **_format_options(fmt, JPEG_QUALITY))
    return path


def show(fig: plt.Figure, fmt: str = "png", dpi: int = INLINE_DPI) -> None:
    """Show a figure as a cell output at screen resolution, then close it (so it is not shown twice).

    Args:
        fig: the figure.
        fmt: ``"png"`` or ``"jpeg"`` (``"jpg"`` accepted).
        dpi: resolution of the embedded image.

    Raises:
        ValueError: for a figure wider than :data:`COLUMN_WIDTH_IN` (the book would shrink it and its text).
    """
    display(inline_image(fig, fmt, dpi))


def inline_image(fig: plt.Figure, fmt: str = "png", dpi: int = INLINE_DPI) -> Image:
    """The image :func:`show` embeds (for a display updated in place), closing the figure; arguments as :func:`show`.

    Raises:
        ValueError: for a figure wider than :data:`COLUMN_WIDTH_IN` (closed first).
    """
    fmt = "jpeg" if fmt == "jpg" else fmt
    width = fig.get_size_inches()[0]
    if width > 1.01 * COLUMN_WIDTH_IN:
        plt.close(fig)
        raise ValueError(
            f"a figure {width:.1f} in wide would be shrunk into the book's column, its text with it: draw it at most "
            f"helpers.viz.figures.COLUMN_WIDTH_IN ({COLUMN_WIDTH_IN:.2f} in) wide, or split it"
        )
    dpi = min(dpi, COLUMN_WIDTH_PX / width)
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=dpi, bbox_inches="tight", format=fmt, **_format_options(fmt, INLINE_JPEG_QUALITY))
    plt.close(fig)
    return Image(data=buffer.getvalue(), format=fmt)


def publish(fig: plt.Figure, path: Path) -> None:
    """Save a figure to ``path`` (:func:`save`) and show it (:func:`show`, same raster format); closes it."""
    save(fig, path)
    fmt = _format_of(Path(path))
    show(fig, "png" if fmt == "pdf" else fmt)


def settings_table(settings: object) -> pd.DataFrame:
    """Settings as a two-column table (setting, value) to show in a chapter instead of their repr.

    Args:
        settings: a dataclass (e.g. a :class:`helpers.config.Config` part or ``PipelineSettings``) or a mapping.

    Returns:
        One row per setting; sequences joined with commas, paths shown by their last two parts.
    """
    items = dataclasses.asdict(settings) if dataclasses.is_dataclass(settings) else dict(settings)
    return pd.DataFrame({"setting": list(items), "value": [_short(value) for value in items.values()]}).set_index(
        "setting"
    )


def _short(value: object) -> str:
    """A setting's value in a few characters."""
    if isinstance(value, Path):
        return "/".join(value.parts[-2:])
    if isinstance(value, list | tuple):
        shown = ", ".join(_short(item) for item in value[:8])
        return shown + (f", ... ({len(value)} in all)" if len(value) > 8 else "")
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_short(item)}" for key, item in value.items())
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _format_of(path: Path) -> str:
    """The matplotlib format for a file name."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise ValueError(f"{path.name}: a figure is saved as one of {sorted(FORMATS)}") from None


def _format_options(fmt: str, quality: int) -> dict:
    """Extra ``savefig`` arguments of a format (the JPEG quality)."""
    return {"pil_kwargs": {"quality": quality, "optimize": True}} if fmt == "jpeg" else {}


def random_label_colors(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """A random colour per label id (0 stays black): RGB float, ``labels.shape + (3,)``; ``seed`` fixes the palette."""
    rng = np.random.default_rng(seed)
    palette = rng.uniform(0.15, 1.0, size=(int(labels.max()) + 1, 3))
    palette[0] = 0
    return palette[labels]


def label_pixel_axes(ax: plt.Axes, title: str) -> None:
    """Title an image panel and label its axes in pixels."""
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(f"x ({PIXEL_UNIT})")
    ax.set_ylabel("y (pixels)")


def label_grid_axes(axes: np.ndarray, titles: list[str], columns: int) -> None:
    """Title the panels of a grid (row by row, ``columns`` a row); pixel labels on the outer panels only."""
    for index, (ax, title) in enumerate(zip(axes, titles)):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("" if index + columns < len(axes) else "x (pixels)")  # a panel below: no label
        ax.set_ylabel("" if index % columns else "y (pixels)")
