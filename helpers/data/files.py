"""The data folder: every file listed with its SHA-256 in ``data/SHA256SUMS`` and verified on load.

Bad input raises :class:`DataError` (a ``ValueError``) or ``FileNotFoundError`` naming the file and the fix.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from ..paths import DATA

RESTORE_HINT = "restore it with `git checkout -- data/` (or clone the repository again)"


class DataError(ValueError):
    """A data file exists but is not what the project expects."""


def restore_hint(path: Path, data_dir: Path = DATA) -> str:
    """The advice for a missing or damaged file: ``"; " + RESTORE_HINT`` inside ``data_dir``, else ``""``.

    A user's own file cannot be restored from git, so ``git checkout`` is advised only for the project's files.
    """
    inside = Path(path).resolve().is_relative_to(Path(data_dir).resolve())
    return f"; {RESTORE_HINT}" if inside else ""


@lru_cache(maxsize=1)
def _expected_checksums(data_dir: Path = DATA) -> dict[str, str]:
    sums = data_dir / "SHA256SUMS"
    if not sums.exists():
        raise FileNotFoundError(f"{sums} is missing: {RESTORE_HINT}")
    table = {}
    for line in sums.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            table[name.strip().lstrip("*")] = digest
    return table


def sha256(path: Path) -> str:
    """SHA-256 hex digest (64 characters) of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_VERIFIED: dict[tuple[str, int, int], bool] = {}


def data_file(relative: str, data_dir: Path = DATA, verify: bool = True) -> Path:
    """Path of ``data_dir/<relative>`` (as listed in ``SHA256SUMS``), checked to exist and, if ``verify``, its checksum.

    The checksum is computed once per process for each (file, size, modification time).

    Raises:
        FileNotFoundError: the file (or ``SHA256SUMS``) is missing.
        DataError: the file is not listed, or its checksum differs.
    """
    path = Path(data_dir) / relative
    if not path.exists():
        raise FileNotFoundError(f"data file {path} is missing: {RESTORE_HINT}")
    if verify:
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if key not in _VERIFIED:
            expected = _expected_checksums(Path(data_dir)).get(relative)
            if expected is None:
                raise DataError(f"{path} is not listed in {Path(data_dir) / 'SHA256SUMS'}: add its checksum there")
            if sha256(path) != expected:
                raise DataError(f"checksum mismatch for {path}: the file changed or is damaged; {RESTORE_HINT}")
            _VERIFIED[key] = True
    return path


def verify_all(data_dir: Path = DATA) -> dict[str, bool]:
    """Check every file of ``SHA256SUMS``: ``{relative path: checksum ok}``, never raising for a mismatch."""
    status = {}
    for relative, expected in _expected_checksums(Path(data_dir)).items():
        path = Path(data_dir) / relative
        status[relative] = path.exists() and sha256(path) == expected
    return status


def inventory(data_dir: Path = DATA) -> list[dict]:
    """The files of ``data_dir``: one dict each with ``file`` (relative path), ``bytes`` and ``checksum_ok``."""
    status = verify_all(data_dir)
    rows = []
    for relative, ok in status.items():
        path = Path(data_dir) / relative
        rows.append({"file": relative, "bytes": path.stat().st_size if path.exists() else 0, "checksum_ok": ok})
    return rows
