"""Checks of every numeric parameter and name where it enters the public API: one place, one wording.

Each check returns the value in plain Python form or raises an error naming the parameter, the given value and what
is allowed. Booleans are not numbers here; an integral parameter takes ``3`` or ``3.0``, never ``2.7``.
"""

from __future__ import annotations

import ast
import math
import numbers
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np


def _range_text(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    """``[0, 1)``-style text of a range (``inf`` where unbounded)."""
    left = "(" if low_open or low is None else "["
    right = ")" if high_open or high is None else "]"
    return f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"


def number(
    value: object,
    name: str,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real number within ``[low, high]``, returned as ``float``.

    Args:
        value: the given value.
        name: the parameter's name, for the error.
        low: smallest allowed value (None: no bound).
        high: largest allowed value (None: no bound).
        low_open: ``low`` itself is not allowed.
        high_open: ``high`` itself is not allowed.

    Raises:
        TypeError: for a bool, a string or anything that is not a real number.
        ValueError: for NaN, inf or a value outside the range.
    """
    allowed = _range_text(low, high, low_open, high_open)
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in {allowed}, got {value!r} ({type(value).__name__})")
    result = float(value)
    too_low = low is not None and (result < low or (low_open and result == low))
    too_high = high is not None and (result > high or (high_open and result == high))
    if not math.isfinite(result) or too_low or too_high:
        raise ValueError(f"{name} must be a finite number in {allowed}, got {value!r}")
    return result


def integer(value: object, name: str, low: int | None = None, high: int | None = None) -> int:
    """A whole number within ``[low, high]`` (``3``, ``np.int64(3)`` or ``3.0``), returned as ``int``.

    Args:
        value: the given value.
        name: the parameter's name, for the error.
        low: smallest allowed value (None: no bound).
        high: largest allowed value (None: no bound).

    Raises:
        TypeError: for a bool, a string or anything that is not a real number.
        ValueError: for a non-integral, non-finite or out-of-range value.
    """
    allowed = _range_text(low, high, False, False)
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a whole number in {allowed}, got {value!r} ({type(value).__name__})")
    if isinstance(value, numbers.Integral):
        result = int(value)
    elif math.isfinite(float(value)) and float(value).is_integer():
        result = int(float(value))
    else:
        hint = f": pass a whole number such as {round(float(value))}" if math.isfinite(float(value)) else ""
        raise ValueError(f"{name} must be a whole number in {allowed}, got {value!r}{hint}")
    if (low is not None and result < low) or (high is not None and result > high):
        raise ValueError(f"{name} must be a whole number in {allowed}, got {value!r}")
    return result


def optional_integer(value: object, name: str, low: int | None = None, high: int | None = None) -> int | None:
    """None, or :func:`integer` ``(value, name, low, high)``."""
    return None if value is None else integer(value, name, low, high)


def integers(
    values: object, name: str, low: int | None = None, high: int | None = None, *, unique: bool = True
) -> tuple[int, ...]:
    """A non-empty sequence of whole numbers, each in ``[low, high]``, as a tuple of ``int`` in the given order.

    Args:
        values: the given sequence (a single number is refused: pass ``[3]``).
        name: the parameter's name, for the error.
        low: smallest allowed value.
        high: largest allowed value.
        unique: refuse repeated values.

    Raises:
        TypeError: for a single number, a string, or an element that is no number.
        ValueError: for an empty sequence, a non-integral or out-of-range element, or (``unique``) repeats.
    """
    if isinstance(values, str | bytes | numbers.Number) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a list of whole numbers, got {values!r}: pass e.g. [{values!r}]")
    result = tuple(integer(value, f"{name} element {value!r}", low, high) for value in values)
    if not result:
        raise ValueError(f"{name} is empty: pass at least one value")
    repeated = sorted(value for value, count in Counter(result).items() if count > 1)
    if unique and repeated:
        raise ValueError(f"{name} repeats {repeated}: pass each value once")
    return result


def same_lengths(name_a: str, a: Sequence, name_b: str, b: Sequence) -> None:
    """Refuse (ValueError) sequences ``a``, ``b`` (named ``name_a``, ``name_b``) that pair up but differ in length."""
    if len(a) != len(b):
        raise ValueError(
            f"{name_a} has {len(a)} items but {name_b} has {len(b)}: they pair up one to one, so pass as many of "
            "each (nothing is dropped silently)"
        )


def known_name(name: str, options: Iterable[str], what: str) -> str:
    """``name`` if one of ``options``, else a ValueError listing them; ``what`` names them (``"multicut solver"``)."""
    options = tuple(options)
    if name not in options:
        raise ValueError(f"unknown {what} {name!r}: choose one of {options}")
    return name


def literal_assignments(source: str) -> dict[str, object]:
    """``{name: value}`` of each top-level ``name = <literal>`` in ``source`` (a papermill parameters cell)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            try:
                value = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            values.update({target.id: value for target in targets if isinstance(target, ast.Name)})
    return values


def profile_problem(value: object, profiles: Sequence[str], variable: str) -> str | None:
    """None when ``value`` is None or a known profile, else the allowed values in words (an empty name is not allowed).

    Args:
        value: the given value.
        profiles: the known profiles.
        variable: the environment variable that chooses the profile when none is given.
    """
    if value is None or (isinstance(value, str) and value.strip().lower() in profiles):
        return None
    return f"one of {list(profiles)} (or leave it out: ${variable} or automatic)"


def kind_problem(value: object, default: object) -> str | None:
    """None when ``value`` fits its declared ``default``'s kind, else the allowed values in words.

    A bool default takes only ``True``/``False`` (never ``"no"``), a number a number (whole for an int), a text a
    non-empty text, a list a list of the default elements' type; a None default takes anything.
    """
    if default is None:
        return None
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "True or False (papermill: -p NAME True)"
    if isinstance(default, int | float):
        whole = isinstance(default, int)
        fits = isinstance(value, int if whole else int | float) and not isinstance(value, bool)
        return None if fits else f"a {'whole ' if whole else ''}number such as {default!r}"
    if isinstance(default, str):
        return None if isinstance(value, str) and value.strip() else f"a non-empty text such as {default!r}"
    if isinstance(default, list | tuple):
        example = f"a list such as {list(default)!r} (papermill: -y 'NAME: [...]')"
        kinds = {type(element) for element in default}
        if not isinstance(value, list | tuple) or (len(kinds) == 1 and any(type(v) not in kinds for v in value)):
            return example
    return None
