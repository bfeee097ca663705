"""Project folders (found from the package's location), atomic file writes and the care of cache folders.

:func:`atomic_write_bytes` writes a temporary ``.<name>.<pid>.<random>.tmp`` file and renames it, so readers never
see half a file (permissions as a plain ``open``: ``0o666 & ~umask``); :func:`remove_stale_temporaries` deletes
those of killed writers. :class:`CacheError` names a damaged cached file. :func:`write_json` writes canonical JSON,
so the same content gives the same bytes everywhere. Run folders come from :func:`helpers.config.select`.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
FIGURES = ROOT / "figures"
RESULTS = ROOT / "results"

LOG = logging.getLogger(__name__)
ORPHAN_AGE_S = 24 * 3600  # a temporary file without a writer's pid counts as stale after a day


class CacheError(ValueError):
    """A cached file is damaged or does not hold what it should; the message names the file."""

    def __init__(self, path: Path, problem: str) -> None:
        """Name the damaged file ``path`` and the ``problem`` (e.g. ``"truncated PNG"``)."""
        self.path, self.problem = Path(path), problem
        super().__init__(f"damaged cache file {self.path}: {problem}")


def _umask() -> int:
    """The process's umask, read without changing it where Linux tells it (/proc), else set and restored."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:  # pragma: no cover - not Linux
        pass
    mask = os.umask(0o022)  # pragma: no cover
    os.umask(mask)  # pragma: no cover
    return mask  # pragma: no cover


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` (folder created) through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o666 & ~_umask())
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """UTF-8 ``text`` version of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _writer_alive(pid: int) -> bool:
    """Whether a process with this id runs (on this machine)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_temporaries(folder: Path, name: str | None = None) -> list[Path]:
    """Delete the temporary files of killed :func:`atomic_write_bytes` writers under ``folder``; returns them.

    Stale: the process named in it is gone (without a pid: older than a day). Live writers' files stay, so two runs
    may share a cache.

    Args:
        folder: a cache folder (searched recursively; a missing folder holds nothing).
        name: only the temporary files of this file name (None: of every file).
    """
    removed = []
    pattern = ".*.tmp" if name is None else f".{glob.escape(name)}.*.tmp"
    for path in Path(folder).rglob(pattern) if Path(folder).is_dir() else []:
        parts = path.name[1:-4].rsplit(".", 2)  # <name>.<pid>.<random>, or <name>.<random> (older writes)
        pid = parts[1] if len(parts) == 3 and parts[1].isdigit() else None
        if not path.is_file():
            continue
        try:
            stale = not _writer_alive(int(pid)) if pid else time.time() - path.stat().st_mtime > ORPHAN_AGE_S
            if stale:
                path.unlink()
                removed.append(path)
        except FileNotFoundError:  # its writer renamed it meanwhile
            continue
    if removed:
        LOG.warning("removed %d stale temporary file(s) of interrupted writes under %s", len(removed), folder)
    return removed


def _refuse_constant(name: str) -> float:
    """``json.loads`` hook: NaN and infinities are not JSON, so a cached file holding them is damaged."""
    raise ValueError(f"non-finite number {name}")


def read_json(path: Path) -> object:
    """A cached JSON file's content, strictly.

    Raises:
        CacheError: naming ``path`` when it is not valid JSON with finite numbers.
    """
    try:
        return json.loads(Path(path).read_text(), parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as error:
        raise CacheError(path, f"not valid JSON ({error})") from error


def canonical_json(document: object, sort_keys: bool = True) -> str:
    """The canonical JSON text of a document: keys sorted, one-space indent, a final newline.

    Args:
        document: JSON-ready content (dicts, lists, strings, finite numbers, bools, None).
        sort_keys: sort every dict's keys (False only where their order carries meaning, e.g. a table's rows).

    Raises:
        ValueError: for NaN or an infinity (not JSON), naming the fix.
    """
    try:
        return json.dumps(document, indent=1, sort_keys=sort_keys, allow_nan=False) + "\n"
    except ValueError as error:
        raise ValueError(f"{error}: replace NaN and infinities by None before writing JSON") from error


def write_json(path: Path, document: object, sort_keys: bool = True) -> None:
    """Write ``document`` to ``path`` as :func:`canonical_json` (``sort_keys`` as there), atomically."""
    atomic_write_text(path, canonical_json(document, sort_keys))


def digest(*parts: bytes | str) -> str:
    """SHA-256 of ``parts`` in order (strings as UTF-8) as 12 hex digits: names cache entries and results."""
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part.encode("utf-8") if isinstance(part, str) else part)
    return hasher.hexdigest()[:12]


def write_checked_json(path: Path, value: object) -> None:
    """Write ``value`` as JSON with the SHA-256 of its canonical form, atomically; see :func:`read_checked_json`."""
    text = canonical_json(value)
    atomic_write_text(path, json.dumps({"value": value, "sha256": hashlib.sha256(text.encode()).hexdigest()}))


def read_checked_json(path: Path) -> object:
    """A value written by :func:`write_checked_json`, checked against its digest.

    Raises:
        CacheError: naming ``path`` when it does not parse, lacks its digest, or was changed after it was written.
    """
    document = read_json(path)
    if not isinstance(document, dict) or set(document) != {"value", "sha256"}:
        raise CacheError(path, "not a file with a value and its digest (written by another version?)")
    if hashlib.sha256(canonical_json(document["value"]).encode()).hexdigest() != document["sha256"]:
        raise CacheError(path, "its content does not match its digest: the file was changed after it was written")
    return document["value"]


def without_timings(record: object) -> object:
    """A copy of a results record without every ``timings`` key and ``*_s`` field, at any depth.

    Two runs of the same inputs and seeds then give the same record (``tools/compare_results.py``).
    """
    if isinstance(record, dict):
        return {key: without_timings(value) for key, value in record.items()
                if key != "timings" and not key.endswith("_s")}  # fmt: skip
    if isinstance(record, list):
        return [without_timings(value) for value in record]
    return record
