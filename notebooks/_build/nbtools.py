"""Shared by the notebook-writing scripts: cells and the notebook file (written without outputs)."""

from pathlib import Path

import nbformat as nbf

NOTEBOOKS = Path(__file__).resolve().parents[1]


def md(text: str):
    """A Markdown cell."""
    return nbf.v4.new_markdown_cell(text.strip())


def code(text: str, tags=None):
    """A code cell; ``tags=["parameters"]`` marks papermill's parameters cell."""
    cell = nbf.v4.new_code_cell(text.strip())
    if tags:
        cell.metadata["tags"] = tags
    return cell


def write(name: str, cells) -> Path:
    """Write ``notebooks/<name>`` with the python3 kernel."""
    nb = nbf.v4.new_notebook()
    for index, cell in enumerate(cells):
        cell.id = f"cell-{index:02d}"  # stable ids: regenerating a notebook changes only what changed
    nb.cells = cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    path = NOTEBOOKS / name
    nbf.write(nb, path)
    print("wrote", path)
    return path
