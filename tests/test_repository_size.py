"""The repository stays light: what git would commit (tracked and new, not ignored) stays under 40 MB."""

from __future__ import annotations

import subprocess

import pytest

from helpers.paths import ROOT

LIMIT_BYTES = 40_000_000  # a clone stays small; `git ls-files -z | xargs -0 du -cb | tail -1` measures the same


def committed_files() -> list[str]:
    """Tracked files and new files that are not ignored (what `git add -A` would commit)."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [name for name in listing.decode().split("\0") if name]


def test_repository_under_40_mb():
    sizes = {name: (ROOT / name).stat().st_size for name in committed_files() if (ROOT / name).is_file()}
    total = sum(sizes.values())
    largest = sorted(sizes.items(), key=lambda item: -item[1])[:8]
    assert total < LIMIT_BYTES, f"{total / 1e6:.1f} MB committed (limit {LIMIT_BYTES / 1e6:.0f} MB); largest: {largest}"


def test_executed_chapters_embed_small_images():
    """Inline figures are screen-resolution copies: no executed chapter should need more than 3 MB."""
    for chapter in sorted((ROOT / "notebooks").glob("[0-9A][0-9]_*.ipynb")):
        assert chapter.stat().st_size < 3_000_000, f"{chapter.name}: {chapter.stat().st_size / 1e6:.1f} MB"
