"""Binary membrane masks of either polarity, grey-edged ones too, as the project's labels (0 membrane, 255 cell).

A mask's membrane value is stated (``membrane=0``, ``True``, ``"bright"``...) or detected as the rarer value (with a
:class:`PolarityWarning`). A grey-edged mask (anti-aliased, resized, JPEG) is read as two values with ``threshold=``:
pixels above it are the bright side.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import checks
from .files import DataError

MEMBRANE, CELL = 0, 255  # the project's membrane labels (ISBI 2012)
AMBIGUOUS_FRACTION = 0.4  # a mask whose rarer value covers more than this cannot tell its membranes
COUNTED_DTYPES = (np.dtype(bool), np.dtype(np.uint8), np.dtype(np.uint16))  # counted by np.bincount, not sorted


class PolarityWarning(UserWarning):
    """The membrane value of a mask was guessed from the membrane fraction: state it to be sure."""


def value_counts(mask: np.ndarray) -> tuple[list, np.ndarray]:
    """``(values as Python scalars, counts)`` of a mask, ascending, as ``np.unique(..., return_counts=True)``.

    Booleans and 8- or 16-bit integers are counted by ``np.bincount`` (one pass) instead of being sorted.
    """
    mask = np.asarray(mask)
    if mask.dtype not in COUNTED_DTYPES or mask.size == 0:
        values, counts = np.unique(mask, return_counts=True)
        return values.tolist(), counts
    flat = mask.reshape(-1)
    counts = np.bincount(flat.view(np.uint8) if mask.dtype == bool else flat)
    present = np.flatnonzero(counts)
    values = [bool(value) for value in present] if mask.dtype == bool else present.tolist()
    return values, counts[present]


def threshold_mask(mask: np.ndarray, threshold: float, source: str = "labels") -> np.ndarray:
    """A grey mask as booleans: True above ``threshold`` (the bright side); ``source`` names the mask in errors.

    Raises:
        TypeError: for a threshold that is not a number.
        ValueError: for NaN or inf.
        DataError: for a non-numeric mask, or a threshold that leaves every pixel on one side.
    """
    threshold = checks.number(threshold, "threshold")
    mask = np.asarray(mask)
    if mask.dtype != bool and mask.dtype.kind not in "iuf":
        raise DataError(f"{source} have dtype {mask.dtype}: a mask to threshold holds numbers")
    bright = mask > threshold
    share = float(bright.mean()) if bright.size else 0.0
    if share in (0.0, 1.0):
        low, high = (float(mask.min()), float(mask.max())) if mask.size else (0.0, 0.0)
        raise DataError(
            f"threshold={threshold:g} leaves every pixel of {source} {'above' if share else 'at or below'} it (values "
            f"{low:g}..{high:g}): choose a grey value between the mask's two sides, e.g. threshold={(low + high) / 2:g}"
        )
    return bright


def suggested_threshold(values: list) -> float | int:
    """The grey value halfway up a mask's ascending ``values`` (128 for 0..255), as the grey-mask refusal suggests it.

    Returns an integer for integer masks whose top exceeds 1, else half the top value.
    """
    high = values[-1]
    return round(high / 2) if isinstance(high, int) and high > 1 else float(high) / 2


def _membrane_value(values: list, membrane: int | bool | str | None, fractions: dict, source: str) -> object:
    """The value of a two-valued mask that marks membranes: stated, or the rarer one (with a warning)."""
    if isinstance(membrane, str):
        if membrane not in ("dark", "bright"):
            raise ValueError(f"membrane={membrane!r} for {source}: pass 'dark', 'bright' or the membrane's value")
        return values[0] if membrane == "dark" else values[-1]
    if membrane is not None:
        if membrane not in values:
            raise DataError(f"membrane={membrane!r} does not occur in {source}, which hold the values {values}")
        return membrane
    if len(values) < 2:
        raise DataError(f"{source} hold the single value {values}: state which value marks membranes (membrane=...)")
    rare = min(values, key=lambda value: fractions[value])
    if fractions[rare] > AMBIGUOUS_FRACTION:
        raise DataError(
            f"{source} cannot tell membranes from cells: values {values} cover {fractions[values[0]]:.0%} and "
            f"{fractions[values[-1]]:.0%} of the pixels; state it, e.g. membrane={values[0]!r} or 'dark'"
        )
    other = next(value for value in values if value != rare)
    warnings.warn(
        f"{source}: taking value {rare!r} as membrane because it covers {fractions[rare]:.1%} of the pixels "
        f"against {fractions[other]:.1%} for {other!r} (membranes are the minority in EM labels); pass "
        f"membrane={rare!r} to confirm and silence this warning, or membrane={other!r} if that is wrong",
        PolarityWarning,
        stacklevel=4,
    )
    return rare


def _grey_error(values: list, source: str) -> DataError:
    """The refusal of a mask with more than two values, naming ``threshold=`` as the fix."""
    cut = suggested_threshold(values)
    shown = f"{values[:8]}{'...' if len(values) > 8 else ''}"
    return DataError(
        f"{source} are not a binary mask: found {len(values)} values {shown}. A mask saved with grey edges "
        f"(anti-aliased, resized, JPEG) is read by thresholding it: pass threshold={cut} (pixels above it are bright) "
        f"and state the membrane side, e.g. load_em_stack(raw, labels, threshold={cut}, membrane='bright') for white "
        f"membranes, or membrane_labels(labels, membrane='dark', threshold={cut}); by hand: "
        "membrane_labels(labels > 127, membrane=False) when membranes are dark (ISBI), membrane=True when they are "
        "bright; instance ids go through instance_ground_truth (kind='instances')"
    )


def mask_membranes(
    mask: np.ndarray,
    membrane: int | float | bool | str | None = None,
    source: str = "labels",
    threshold: float | None = None,
) -> tuple[np.ndarray, list, object]:
    """:func:`membrane_labels` (same arguments, errors) returning ``(labels, mask's two values, membrane value)``."""
    mask = np.asarray(mask)
    if threshold is not None:
        mask = threshold_mask(mask, threshold, source)
        if isinstance(membrane, int | float | np.number) and not isinstance(membrane, bool | np.bool_):
            membrane = bool(membrane > threshold)  # a value of the grey mask: its side of the threshold
    values, counts = value_counts(mask)
    if len(values) > 2:
        raise _grey_error(values, source)
    fractions = dict(zip(values, (counts / mask.size).tolist()))
    value = _membrane_value(values, membrane, fractions, source)
    return np.where(mask == value, MEMBRANE, CELL).astype(np.uint8), values, value


def membrane_labels(
    mask: np.ndarray,
    membrane: int | float | bool | str | None = None,
    source: str = "labels",
    threshold: float | None = None,
) -> np.ndarray:
    """Any binary membrane mask as the project's membrane labels.

    Args:
        mask: boolean, or integers with two values (0/1, 0/255, 0/65535, ...), 2D or 3D; with ``threshold``, any grey
            mask or probability map.
        membrane: the membrane value (``0`` for ISBI, ``255`` or ``True`` for white membranes), ``"dark"`` (the lower
            value) or ``"bright"``; None: the rarer value, with a :class:`PolarityWarning`. With ``threshold``, a grey
            value means its side (``membrane=255, threshold=128``: the bright side).
        source: how messages name the mask.
        threshold: pixels above it are the bright side (None: the mask must hold two values).

    Returns:
        uint8 labels, 0 = membrane, 255 = cell.

    Raises:
        DataError: for more than two values (naming ``threshold=``), a stated value that does not occur, two values of
            similar shares, or a threshold outside the mask's values.
        ValueError: for an unknown polarity word, or a threshold that is NaN or inf.
        TypeError: for a threshold that is not a number.
    """
    return mask_membranes(mask, membrane, source, threshold)[0]


def inverted_fix(values: list, taken: object, thresholded: bool = False) -> str:
    """The remedy for labels that look inverted, worded in the values the user's mask holds.

    Args:
        values: the mask's values (after a threshold: ``[False, True]``).
        taken: the value taken as membrane.
        thresholded: the mask was thresholded (its values are the dark/bright sides).

    Returns:
        A sentence such as ``"if your membranes are the bright value, pass membrane=True (or 'bright')"``.
    """
    others = [value for value in values if value != taken]
    if not others:
        return "state the membrane value that marks your membranes (membrane=...)"
    other = others[0]
    side = "bright" if other == values[-1] else "dark"
    if thresholded:
        return f"if your membranes are the {side} side of the threshold, pass membrane={side!r}"
    return (
        f"if your membranes are the {side} value, pass membrane={other!r} (or {side!r}); the value {taken!r} was "
        "taken as membrane"
    )
