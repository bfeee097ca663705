"""Shared fixtures: a scratch copy of the data folder for bad-input tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers.paths import DATA


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A throw-away copy of data/ (ISBI stacks, SHA256SUMS and a few images) that tests may damage."""
    target = tmp_path / "data"
    (target / "isbi2012").mkdir(parents=True)
    for name in ("train-volume.tif", "train-labels.tif"):
        shutil.copy(DATA / "isbi2012" / name, target / "isbi2012" / name)
    shutil.copytree(DATA / "photos", target / "photos")
    shutil.copytree(DATA / "styles", target / "styles")
    shutil.copy(DATA / "SHA256SUMS", target / "SHA256SUMS")
    return target
