"""A chapter opened, saved or run in JupyterLab changes no tracked file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import jupytext
import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager

from helpers.paths import ROOT

CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9A][0-9]_*.ipynb"))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_opening_and_saving_with_the_installed_kernel_changes_nothing(chapter: Path):
    """JupyterLab writes the running kernel's spec into the notebook; jupytext then saves the pair."""
    installed = KernelSpecManager().get_kernel_spec("python3")
    notebook = jupytext.read(chapter)
    shown = {"name": "python3", "display_name": installed.display_name, "language": installed.language}
    assert dict(notebook.metadata["kernelspec"]) == shown, "the committed kernelspec is not the installed one"
    assert jupytext.writes(notebook, fmt="py:percent") == chapter.with_suffix(".py").read_text()


def _status() -> str:
    return subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout


@pytest.mark.slow
def test_running_a_chapter_interactively_changes_no_tracked_file(monkeypatch):
    """As JupyterLab runs it: the default profile, no make, no papermill (nbclient, the notebook not saved)."""
    from nbclient import NotebookClient

    for name in ("NSEM_PROFILE", "NSEM_OUTPUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    before = _status()
    notebook = nbformat.read(ROOT / "notebooks" / "00_setup_check.ipynb", as_version=4)
    NotebookClient(notebook, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    assert any(output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs)
    assert _status() == before, "an interactive run changed tracked files"
    assert (ROOT / "outputs" / "figures").is_dir() and os.listdir(ROOT / "outputs" / "figures")
