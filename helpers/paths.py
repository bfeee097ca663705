"""Project folders, found from the package's own location (no absolute paths)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
FIGURES = ROOT / "figures"
RESULTS = ROOT / "results"
CACHE = Path(os.environ.get("NSEM_CACHE", ROOT / "cache"))
# Outputs of the tiny `ci` profile (the tests) go to figures/ci/ and results/ci/ (git-ignored), so a test run
# never overwrites the committed figures and results of a real run. helpers.profile.select() sets this.
SCRATCH_PROFILES = ("ci",)
_active_profile: str | None = None


def set_active_profile(name: str | None) -> None:
    """Record the profile the notebooks run in (called by :func:`helpers.profile.select`)."""
    global _active_profile
    _active_profile = name


def _output_dir(base: Path) -> Path:
    folder = base / _active_profile if _active_profile in SCRATCH_PROFILES else base
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def figure_path(name: str) -> Path:
    """Path of a figure file under ``figures/`` (``figures/ci/`` in the ci profile; the folder is created)."""
    return _output_dir(FIGURES) / name


def result_path(name: str) -> Path:
    """Path of a machine-readable result under ``results/`` (``results/ci/`` in the ci profile)."""
    return _output_dir(RESULTS) / name


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` through a temporary file and a rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Text version of :func:`atomic_write_bytes` (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"))
