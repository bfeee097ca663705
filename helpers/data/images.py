"""Images: the one pixel-value contract, the report's Heidelberg photos and its style images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ..paths import DATA
from .files import RESTORE_HINT, DataError, data_file

# The report's "selected styles" scenario and its three style-transfer examples (Figures 4-6): (photo, painting).
SELECTED_STYLES = (3, 10, 19, 21)
REPORT_EXAMPLES = (("heidelberg2", 20), ("marktplatz", 21), ("mathematikon", 9))


def to_unit_float(image: np.ndarray, what: str = "image") -> np.ndarray:
    """The one pixel-value contract: uint8 in [0, 255] or float in [0, 1]; every stage reads images through it.

    Returns float32 in [0, 1], any shape (uint8 / 255; floats within 1e-3 of the range clipped); ``what`` names the
    image in errors.

    Raises:
        ValueError: for another dtype, NaN or inf, or floats outside [0, 1].
    """
    array = np.asarray(image)
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"{what} has dtype {array.dtype}: pass uint8 in [0, 255] or float in [0, 1]")
    array = array.astype(np.float32)
    if not np.isfinite(array).all():
        raise ValueError(f"{what} contains NaN or inf values: clean the image first")
    low, high = float(array.min(initial=0.0)), float(array.max(initial=0.0))
    if low < -1e-3 or high > 1 + 1e-3:
        raise ValueError(
            f"{what} has float values {low:.3g}..{high:.3g}, outside [0, 1]: divide 8-bit values by 255 "
            "(or rescale, e.g. `(x - x.min()) / (x.max() - x.min())`)"
        )
    return np.clip(array, 0.0, 1.0)


def _names(folder: str, data_dir: Path = DATA) -> dict[str, Path]:
    return {path.stem: path for path in sorted((Path(data_dir) / folder).glob("*.jpg"))}


def photo_names(data_dir: Path = DATA) -> list[str]:
    """Sorted file stems of the Heidelberg photos in ``data_dir``."""
    return list(_names("photos", data_dir))


def style_names(kind: str = "paintings", data_dir: Path = DATA) -> dict[int, str]:
    """Styles of ``kind`` (``"paintings"`` or ``"textures"``) as ``{report number: name}``, e.g. ``{20: 'the_scream'}``.

    Raises:
        KeyError: for an unknown kind.
    """
    if kind not in ("paintings", "textures"):
        raise KeyError(f"unknown style kind {kind!r}: choose 'paintings' or 'textures'")
    table = {}
    for stem in _names(f"styles/{kind}", data_dir):
        number, _, name = stem.partition("_")
        table[int(number)] = name
    return table


def resolve_style(style: int | str, kind: str = "paintings", data_dir: Path = DATA) -> tuple[int, str]:
    """``(number, name)`` of a style given by number (``20``), name (``'the_scream'``) or stem (``'20_the_scream'``).

    Raises:
        KeyError: for an unknown style, listing the choices.
    """
    table = style_names(kind, data_dir)
    if isinstance(style, (int, np.integer)) and int(style) in table:
        return int(style), table[int(style)]
    if isinstance(style, str):
        key = style.strip().lower()
        for number, name in table.items():
            if key in (name.lower(), f"{number:02d}_{name}".lower(), str(number)):
                return number, name
    choices = ", ".join(f"{n}={name}" for n, name in table.items())
    raise KeyError(f"unknown {kind} style {style!r}: choose a number or name from {choices}")


def _load_rgb(path: Path, size: int | None) -> np.ndarray:
    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            if size is not None:
                scale = size / max(image.size)
                image = image.resize(
                    (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.LANCZOS
                )
            return np.asarray(image, dtype=np.float32) / 255.0
    except OSError as error:
        raise DataError(f"{path} is not a readable image ({error}); {RESTORE_HINT}") from error


def load_photo(name: str, size: int | None = None, data_dir: Path = DATA) -> np.ndarray:
    """A Heidelberg photo by file stem, checksum-verified: float32 RGB in [0, 1], (H, W, 3), longest side ``size``.

    ``size`` None keeps the stored size.

    Raises:
        KeyError: for an unknown photo, listing the choices.
        DataError: for an unreadable or changed file.
    """
    table = _names("photos", data_dir)
    if name not in table:
        raise KeyError(f"unknown photo {name!r}: choose one of {sorted(table)}")
    return _load_rgb(data_file(f"photos/{table[name].name}", data_dir), size)


def load_style(style: int | str, size: int | None = None, kind: str = "paintings", data_dir: Path = DATA) -> np.ndarray:
    """A style (:func:`resolve_style`), checksum-verified: float32 RGB in [0, 1], (H, W, 3), longest side ``size``.

    Raises:
        KeyError: for an unknown style.
        DataError: for an unreadable or changed file.
    """
    number, name = resolve_style(style, kind, data_dir)
    return _load_rgb(data_file(f"styles/{kind}/{number:02d}_{name}.jpg", data_dir), size)
