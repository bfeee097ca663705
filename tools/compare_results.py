"""Do two results folders hold the same results, apart from timings?

``python tools/compare_results.py BEFORE AFTER`` compares every ``*.json`` and ``*.csv`` file the two folders share
(not their sub-folders): JSON files with their timings left out (every ``timings`` key and every ``*_s`` field,
:func:`helpers.paths.without_timings`), other files byte for byte. It prints one line per file (``same``,
``differs: ...`` with the first differing path, or ``only in ...``) and exits with 1 if any file differs, 2 for a
folder that does not exist. Use it to check that a clean clone's ``make all`` reproduces the committed
``results/``::

    git worktree add ../check HEAD && (cd ../check && make all)
    python tools/compare_results.py results ../check/results
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers import cli  # noqa: E402
from helpers.paths import without_timings  # noqa: E402

KINDS = ("*.json", "*.csv")


def first_difference(before: object, after: object, where: str = "") -> str | None:
    """The first path at which two JSON values differ (None: equal).

    Args:
        before: a JSON value.
        after: another.
        where: the path so far.

    Returns:
        A path such as ``/means/3/rand_error: 0.21 != 0.22``, or None.
    """
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            if key not in before or key not in after:
                return f"{where}/{key}: only in {'after' if key not in before else 'before'}"
            found = first_difference(before[key], after[key], f"{where}/{key}")
            if found:
                return found
        return None
    if isinstance(before, list) and isinstance(after, list):
        if len(before) != len(after):
            return f"{where}: {len(before)} != {len(after)} items"
        for index, (one, other) in enumerate(zip(before, after)):
            found = first_difference(one, other, f"{where}/{index}")
            if found:
                return found
        return None
    return None if before == after and type(before) is type(after) else f"{where}: {before!r} != {after!r}"


def compare(before: Path, after: Path) -> dict[str, str]:
    """Each results file's verdict: ``same``, ``differs: ...`` or ``only in ...``.

    Args:
        before: one results folder.
        after: the other.

    Returns:
        By file name, sorted.
    """
    names = {path.name for kind in KINDS for folder in (before, after) for path in folder.glob(kind)}
    verdicts = {}
    for name in sorted(names):
        one, other = before / name, after / name
        if not one.exists() or not other.exists():
            verdicts[name] = f"only in {one.parent if one.exists() else other.parent}"
        elif name.endswith(".json"):
            found = first_difference(
                without_timings(json.loads(one.read_text())), without_timings(json.loads(other.read_text()))
            )
            verdicts[name] = "same" if found is None else f"differs: {found[:200]}"
        else:
            verdicts[name] = "same" if one.read_bytes() == other.read_bytes() else "differs (bytes)"
    return verdicts


def main(argv: list[str] | None = None) -> int:
    """Compare the two folders given on the command line; 0 if every shared file is the same."""
    parser = cli.ArgumentParser(prog="tools/compare_results.py", description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="a results folder (e.g. results)")
    parser.add_argument("after", type=Path, help="another results folder (e.g. ../check/results)")
    arguments = parser.parse_args(argv)
    for folder in (arguments.before, arguments.after):
        if not folder.is_dir():
            parser.error(f"{folder} is not a folder: give two results folders")
    verdicts = compare(arguments.before, arguments.after)
    for name, verdict in verdicts.items():
        print(f"{name}: {verdict}")
    return int(any(verdict != "same" for verdict in verdicts.values()))


if __name__ == "__main__":
    cli.run(main, "tools/compare_results.py")
