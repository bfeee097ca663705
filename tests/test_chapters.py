"""Each chapter is a pair: its .py source (edited, reviewed, linted) and its .ipynb (executed, published)."""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest

from helpers.paths import ROOT

SOURCES = sorted((ROOT / "notebooks").glob("[0-9A][0-9]_*.py"))


def test_every_chapter_has_both_files():
    assert len(SOURCES) >= 7
    notebooks = sorted((ROOT / "notebooks").glob("[0-9A][0-9]_*.ipynb"))
    assert [p.stem for p in SOURCES] == [p.stem for p in notebooks]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_ipynb_cells_match_the_source(source: Path):
    """A chapter edited as text and not synced (`make sync`) would publish stale cells."""
    text = jupytext.read(source)
    executed = jupytext.read(source.with_suffix(".ipynb"))
    assert [(c.cell_type, c.source) for c in text.cells] == [(c.cell_type, c.source) for c in executed.cells]
    parameters = [c for c in text.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1 and parameters[0].source.startswith("profile = None")
