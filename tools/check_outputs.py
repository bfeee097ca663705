"""Output noise in executed chapters: machine paths, object reprs, progress-bar residue, tracebacks.

``python tools/check_outputs.py CHAPTER.ipynb ...`` prints one line per offending output (chapter, cell, what was
found) and exits with 1 if there is any; the pre-commit hook runs it on the chapters a commit changes.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

NOISE = {
    "a machine path": re.compile(r"(?<![\w.])/(?:tmp|work|home|root|Users)/"),
    "an object repr": re.compile(r"\b(?:PosixPath|WindowsPath)\(|\b[A-Z]\w*(?:Work|Settings|Config)\(\w+="),
    "progress-bar residue": re.compile(r"(?:\d+(?:\.\d+)?|\?)(?:it/s|s/it)\]|\|\s*\d+/\d+ \["),
    "a traceback": re.compile(r"Traceback \(most recent call last\)"),
}


def output_texts(cell: dict) -> list[str]:
    """The text a code cell shows: its streams, plain-text results and errors.

    Args:
        cell: a notebook cell (nbformat 4 JSON).

    Returns:
        One string per output.
    """
    texts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            texts.append("".join(output.get("text", "")))
        elif output.get("output_type") == "error":
            texts.append("Traceback (most recent call last)\n" + output.get("ename", ""))
        else:
            texts.append("".join(output.get("data", {}).get("text/plain", "")))
    return texts


def problems(path: Path) -> list[str]:
    """What a chapter's outputs show that a reader should not see.

    Args:
        path: an executed ``.ipynb``.

    Returns:
        One line per finding: ``<file>: cell <n>: <what> (<the matched text>)``.
    """
    notebook = json.loads(Path(path).read_text())
    found = []
    for number, cell in enumerate(notebook.get("cells", []), start=1):
        for text in output_texts(cell) if cell.get("cell_type") == "code" else []:
            for what, pattern in NOISE.items():
                match = pattern.search(text)
                if match:
                    found.append(f"{path}: cell {number}: {what} ({match.group(0)!r})")
    return found


def main(argv: list[str]) -> int:
    """Check the chapters named; print the findings.

    Args:
        argv: the chapters' paths.

    Returns:
        0 when no chapter shows noise, else 1.
    """
    found = [line for name in argv for line in problems(Path(name))]
    print("\n".join(found) if found else f"{len(argv)} chapter(s): no output noise")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
