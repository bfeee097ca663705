"""One convention for every command line of the project: a user's mistake ends in one line, status 2.

Every entry point builds its parser with :class:`ArgumentParser` and is started by :func:`run`: a bad argument,
a missing or damaged file or an unusable folder ends in ``<prog>: error: <what, naming the argument or file>: <the
fix>`` on stderr, never a traceback (``--debug`` anywhere shows it). The ``type=`` validators (:func:`whole`,
:func:`painting`, :func:`profile`, :func:`layer`, :func:`json_file`, :func:`folder`) and :class:`Unique` refuse bad
values while parsing; :func:`check_output_folder` checks every output folder before the first expensive step.
Only the standard library is imported at the top, so scripts run before setup (``benchmarks/gpu_kit.py``) can use it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

DEBUG_FLAG = "--debug"
MIN_FREE_BYTES = 64 * 2**20  # a folder that a command writes to needs at least this much free space
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, OSError)  # DataError, CacheError, JSONDecodeError too


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser whose errors are one line (no usage block) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Print ``<prog>: error: <message> (see --help)`` on one line and exit with status 2.

        Args:
            message: argparse's message (names the argument).

        Raises:
            SystemExit: always, with status 2.
        """
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def one_line(message: object) -> str:
    """An exception's or text's message on one line (lines joined with "; ")."""
    text = str(message)
    return "; ".join(part.strip() for part in text.splitlines() if part.strip()) or type(message).__name__


def run(main: Callable[[list[str]], object], prog: str, argv: Sequence[str] | None = None) -> NoReturn:
    """Run ``main(argv)`` under the convention and exit with its status (an int, else 0).

    The user's errors (:data:`USER_ERRORS`, including ``DataError``, ``CacheError``, ``FileNotFoundError``,
    ``json.JSONDecodeError``) become one line on stderr and status 2.

    Args:
        main: the command's function of its arguments.
        prog: the command's name, first on the error line.
        argv: the arguments (None: ``sys.argv[1:]``).

    Raises:
        SystemExit: always, with the command's status.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    debug = DEBUG_FLAG in arguments
    arguments = [argument for argument in arguments if argument != DEBUG_FLAG]
    try:
        status = main(arguments)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; what was finished is kept (rerun to resume)", file=sys.stderr)
        raise SystemExit(130) from None
    except USER_ERRORS as error:
        if debug:
            raise
        print(f"{prog}: error: {one_line(error)} (add {DEBUG_FLAG} for the traceback)", file=sys.stderr)
        raise SystemExit(2) from None
    raise SystemExit(status if isinstance(status, int) and not isinstance(status, bool) else 0)


def _type(name: str, check: Callable[[str], object]) -> Callable[[str], object]:
    """An argparse ``type=`` from a check that raises ValueError/TypeError (its message becomes argparse's)."""

    def parse(text: str) -> object:
        try:
            return check(text)
        except (TypeError, ValueError, OSError) as error:
            raise argparse.ArgumentTypeError(one_line(error)) from error

    parse.__name__ = name  # argparse names the type in some messages
    return parse


def whole(name: str, low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number in ``[low, high]`` (None: unbounded); ``name`` names it in messages."""

    def check(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError(f"{name} must be a whole number, got {text!r}: pass e.g. {low or 1}") from None
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"
            raise ValueError(f"{name} must be a whole number in {bounds}, got {value}")
        return value

    return _type(name, check)


def real(name: str, low: float | None = None, high: float | None = None) -> Callable[[str], float]:
    """An argparse type: a finite real number in ``[low, high]`` (None: unbounded); ``name`` names it in messages."""

    def check(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{name} must be a number, got {text!r}") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{name} must be a finite number, got {text!r}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"{name} must be in [{low}, {high}], got {value:g}")
        return value

    return _type(name, check)


def _painting(text: str) -> int:
    """A painting's report number (0..23), checked against the paintings in ``data/``."""
    from .data import style_names  # lazy: helpers.data needs the project's dependencies

    known = sorted(style_names("paintings"))
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"painting number must be a whole number, got {text!r}: choose from {known}") from None
    if value not in known:
        raise ValueError(f"no painting number {value}: choose from {known[0]}..{known[-1]}")
    return value


painting = _type("painting number", _painting)


def _profile(text: str) -> str:
    """A profile name (``full``, ``reduced``, ``ci``); an empty name is refused, not taken as the default."""
    from .config import PROFILE_ENV, PROFILES  # lazy: helpers.config imports helpers.data

    name = text.strip().lower()
    if name not in PROFILES:
        shown = "an empty name" if not name else repr(text)
        raise ValueError(f"unknown profile {shown}: choose one of {list(PROFILES)} (or leave it out: ${PROFILE_ENV})")
    return name


profile = _type("profile", _profile)


def _layer(text: str) -> str:
    """A VGG layer name of either offline network (``conv1_1`` ... ``pool5``)."""
    from .vgg.weights import VGG19_BLOCKS, layer_names  # lazy: h5py and numpy

    names = layer_names(VGG19_BLOCKS)  # VGG19's names include every VGG16 name
    if text not in names:
        convs = [name for name in names if name.startswith("conv")]
        raise ValueError(f"unknown layer {text!r}: choose a VGG layer name such as {convs[0]} .. {convs[-1]}")
    return text


layer = _type("layer", _layer)


def _json_file(text: str) -> Path:
    """An existing, readable JSON file."""
    path = Path(text).expanduser()
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise ValueError(f"{path} {what}: pass an existing JSON file")
    try:
        json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON ({one_line(error)}): pass the JSON file a run wrote") from None
    return path


json_file = _type("JSON file", _json_file)


def check_output_folder(path: Path, name: str, min_free_bytes: int = MIN_FREE_BYTES) -> Path:
    """Refuse an unusable output folder before any work is done; returns the folder.

    A missing folder is created (with parents); it must not be a file, must be writable (tested by creating a
    temporary file: ``os.access`` is wrong for root and on some mounts) and have ``min_free_bytes`` free.

    Args:
        path: the folder.
        name: what names it for the user (``"--out's folder"``, ``"NSEM_CACHE"``...).
        min_free_bytes: the free space needed.

    Raises:
        ValueError: naming ``name``, the folder and the fix.
    """
    folder = Path(path).expanduser()  # a quoted ~ means the home folder, never a folder named '~'
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{name} ({folder}) is a file, not a folder: choose a folder, or remove the file")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise ValueError(
            f"{name} ({folder}) is not writable ({error.strerror or error}): choose a folder you can write to"
        ) from None
    free = shutil.disk_usage(folder).free
    if free < min_free_bytes:
        raise ValueError(
            f"{name} ({folder}) has {free / 2**20:.0f} MiB free, less than the {min_free_bytes / 2**20:.0f} MiB "
            "needed: free some space there or choose another folder"
        )
    return folder


def _folder(text: str) -> Path:
    """An output folder: a folder (or creatable), writable, with free space."""
    return check_output_folder(Path(text), "the folder")


folder = _type("folder", _folder)


def check_cache(cache: Path, min_free_bytes: int = MIN_FREE_BYTES) -> Path:
    """:func:`check_output_folder` for the run's ``cache`` (``config.cache``), naming ``NSEM_CACHE`` if it chose it."""
    from .config import CACHE_ENV  # lazy: helpers.config imports helpers.data

    name = f"the cache {CACHE_ENV}" if os.environ.get(CACHE_ENV) else "the cache folder"
    return check_output_folder(cache, name, min_free_bytes)


class Unique(argparse.Action):
    """An ``nargs="+"`` action that refuses a repeated value (``--styles 3 3``), naming the argument."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        """Store the values, or end with the one-line error naming the repeats."""
        values = list(values) if isinstance(values, list | tuple) else [values]
        repeated = sorted({value for value in values if values.count(value) > 1})
        if repeated:
            parser.error(f"argument {option_string or self.dest}: repeats {repeated}: pass each value once")
        setattr(namespace, self.dest, values)
