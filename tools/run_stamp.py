"""Executed chapters: the run stamp at their top, and the record of each run for the book's tables.

`make all` executes a chapter with papermill and then calls ``python -m tools.run_stamp stamp FILE``. The stamp
goes into the chapter's first cell, a code cell tagged ``run-stamp`` whose source is only a comment: its *output*
becomes a Markdown line with the profile, device, date, commit and run time, and the same facts are kept in the
notebook's metadata (``nsem_run``) for the book's tables. The chapter's ``.py`` source never changes (jupytext
keeps neither outputs nor that metadata), and the stamp also drops what papermill adds that JupyterLab would save
into the ``.py`` (its injected-parameters cell, empty tag lists), so a chapter saved in JupyterLab stays clean. It
drops the progress bars' outputs too (tqdm's widgets and terminal bars): they are for a run that is watched, and in
a published chapter they would be frozen residue.

The profile is the one the run itself resolved: every chapter prints ``profile: NAME`` after
``config = select(profile)`` in its first code cell, and that output is read back, so a run started with only
``NSEM_PROFILE=ci`` is stamped ``ci`` even when the stamp runs without that variable. Where no such output is
there, the profile comes from papermill's recorded parameters through :func:`helpers.config.select`; the device
is resolved in the same environment right after the run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import nbformat

from helpers import cli
from helpers.config import Config, select
from helpers.paths import RESULTS, ROOT

STAMP_TAG = "run-stamp"
INJECTED_TAG = "injected-parameters"  # papermill's cell with the parameters of a run
METADATA_KEY = "nsem_run"
STAMP_CELL = (  # the first cell of every chapter's .py source
    '# %% tags=["run-stamp", "remove-input"]\n'
    "# Run stamp: `make all` writes this run's profile, device, date, commit and run time as this cell's output.\n"
)
# Outputs of a run (not its code): a checkout that differs from its commit only here still runs that commit.
RUN_OUTPUTS = ("figures/", "results/", "notebooks/executed/", "README.md")  # README.md: its findings section
CONFIG_OUTPUT = re.compile(r"^(?:Config\(profile='|profile: )(\w+)")  # a chapter's shown profile
# tqdm: "3/30 [00:01<00:09, 2.9it/s]", " 10%|" or, with no total, "0it [00:00, ?it/s]"
PROGRESS_TEXT = re.compile(r"\d+/\d+ \[[^\]]*\]|\d+%\||\d+it \[[^\]]*\]")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


@dataclass(frozen=True)
class RunRecord:
    """What an executed chapter says about the run that produced it."""

    chapter: str  # the file's stem, e.g. "03_superpixels_and_graphs"
    profile: str
    device: str  # e.g. "CPU (2 cores)" or "GPU (NVIDIA H100 80GB HBM3)"
    finished: str  # ISO date and time (UTC) at which papermill finished
    seconds: float  # papermill's duration of the whole chapter
    commit: str  # short commit of the code, "+ local changes" when the sources differed from it


def describe_device(config: Config) -> str:
    """The compute device of a run in words.

    Args:
        config: the run's configuration.

    Returns:
        ``"GPU (<name>)"`` on CUDA, else ``"CPU (<n> cores)"``.
    """
    if config.device == "cuda":
        import torch  # lazy: heavy, and only the GPU's name needs it

        return f"GPU ({torch.cuda.get_device_name(0)})"
    return f"CPU ({os.cpu_count()} cores)"


def code_commit(root: Path = ROOT) -> str:
    """The commit of the code in ``root``, marked when its sources differ from it.

    Changes to a run's own outputs (:data:`RUN_OUTPUTS` and the executed ``notebooks/*.ipynb``) do not count.

    Args:
        root: the repository.

    Returns:
        A short commit hash, with ``" + local changes"`` appended where a source differs; ``"unknown"`` outside
        a git checkout.
    """
    try:
        commit = _git(root, "rev-parse", "--short=10", "HEAD")
        status = _git(root, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    changed = [line[3:] for line in status.splitlines() if line.strip()]
    sources = [
        path
        for path in changed
        if not path.startswith(RUN_OUTPUTS) and not (path.startswith("notebooks/") and path.endswith(".ipynb"))
    ]
    return f"{commit} + local changes" if sources else commit


def _git(root: Path, *args: str) -> str:
    """Output of one git command in ``root``, trailing newlines removed (leading spaces matter in ``status``)."""
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout.rstrip("\n")


def format_seconds(seconds: float) -> str:
    """A duration for people: ``"48 s"``, ``"7 min 11 s"``, ``"1 h 05 min"``.

    Args:
        seconds: the duration.

    Returns:
        The text.
    """
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def stamp_markdown(record: RunRecord) -> str:
    """The Markdown line shown at the top of an executed chapter.

    Args:
        record: the run.

    Returns:
        One Markdown paragraph.
    """
    finished = datetime.fromisoformat(record.finished).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"**This run:** profile `{record.profile}` · {record.device} · {finished} · commit `{record.commit}` · "
        f"run time {format_seconds(record.seconds)}"
    )


def record_from_papermill(notebook: nbformat.NotebookNode, chapter: str, commit: str) -> RunRecord:
    """The run record of a notebook that papermill has just executed here.

    Args:
        notebook: the executed notebook (with ``metadata.papermill``).
        chapter: the chapter's name.
        commit: the code's commit (:func:`code_commit`).

    Returns:
        The record.

    Raises:
        ValueError: if papermill did not execute the notebook to the end.
    """
    run = notebook.metadata.get("papermill") or {}
    if not run.get("end_time") or run.get("exception"):
        raise ValueError(f"{chapter}: not a complete papermill run (no end time, or an exception)")
    config = select(run.get("parameters", {}).get("profile"))
    return RunRecord(
        chapter=chapter,
        profile=shown_profile(notebook) or config.profile,
        device=describe_device(config),
        finished=run["end_time"],
        seconds=float(run["duration"]),
        commit=commit,
    )


def shown_profile(notebook: nbformat.NotebookNode) -> str | None:
    """The profile a chapter's run resolved, read from its first output line ``profile: NAME`` (or a ``Config`` repr).

    Args:
        notebook: an executed chapter.

    Returns:
        The profile's name, or None when no cell shows the configuration.
    """
    for cell in notebook.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            text = output.get("data", {}).get("text/plain", "") or output.get("text", "")
            found = CONFIG_OUTPUT.match("".join(text) if isinstance(text, list) else text)
            if found:
                return found.group(1)
    return None


def stamp(path: Path, commit: str | None = None) -> RunRecord:
    """Write the run stamp into an executed chapter (in place); drop what papermill added that is not in the source.

    Args:
        path: the ``.ipynb`` that papermill wrote.
        commit: the code's commit; None: :func:`code_commit` of the repository.

    Returns:
        The record that was written.

    Raises:
        ValueError: if the chapter has no first cell tagged ``run-stamp``, or the run was not complete.
    """
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    chapter = path.stem.removeprefix(".partial-")
    first = notebook.cells[0] if notebook.cells else None
    if first is None or first.cell_type != "code" or STAMP_TAG not in first.metadata.get("tags", []):
        raise ValueError(
            f"{path}: a chapter starts with its run-stamp cell; put these two lines first in its .py source:\n"
            f"{STAMP_CELL}"
        )
    record = record_from_papermill(notebook, chapter, code_commit() if commit is None else commit)
    # papermill's injected-parameters cell is not in the .py source: JupyterLab would save it there. The stamp
    # states the profile, and papermill's metadata keeps the parameters.
    notebook.cells = [cell for cell in notebook.cells if INJECTED_TAG not in cell.metadata.get("tags", [])]
    for cell in notebook.cells:  # papermill gives every cell a tags list: an empty one would reach the .py too
        if cell.metadata.get("tags") == []:
            del cell.metadata["tags"]
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [output for output in cell.outputs if not is_progress_bar(output)]
    _drop_unshown_widgets(notebook)
    text = stamp_markdown(record)
    first.outputs = [
        nbformat.v4.new_output("display_data", data={"text/markdown": text, "text/plain": text}, metadata={})
    ]
    notebook.metadata[METADATA_KEY] = asdict(record)
    nbformat.write(notebook, path)
    return record


def is_progress_bar(output: nbformat.NotebookNode) -> bool:
    """Whether a cell output is a progress bar: a tqdm widget, or tqdm's text on stderr.

    Args:
        output: one output of a code cell.

    Returns:
        True for a progress bar.
    """
    if output.get("output_type") == "stream":
        return (
            output.get("name") == "stderr"
            and all(PROGRESS_TEXT.search(line) for line in re.split(r"[\r\n]+", output.get("text", "")) if line.strip())
            and bool(output.get("text", "").strip())
        )
    data = output.get("data", {})
    return WIDGET_VIEW in data and bool(PROGRESS_TEXT.search(str(data.get("text/plain", ""))))


def _drop_unshown_widgets(notebook: nbformat.NotebookNode) -> None:
    """Keep only the saved widget state that an output still shows (with the models those models refer to)."""
    saved = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {})
    models = saved.get("state")
    if not models:
        return
    shown = [
        output["data"][WIDGET_VIEW]["model_id"]
        for cell in notebook.cells if cell.cell_type == "code"
        for output in cell.outputs if WIDGET_VIEW in output.get("data", {})
    ]  # fmt: skip
    kept, todo = set(), list(shown)
    while todo:
        model = todo.pop()
        if model in kept or model not in models:
            continue
        kept.add(model)
        todo += re.findall(r"IPY_MODEL_(\w+)", json.dumps(models[model]))
    saved["state"] = {model: state for model, state in models.items() if model in kept}


def read_record(path: Path) -> RunRecord | None:
    """The run record of an executed chapter.

    Args:
        path: the ``.ipynb``.

    Returns:
        The record, or None for a chapter that was never stamped (not executed by `make all`).
    """
    metadata = nbformat.read(Path(path), as_version=4).metadata.get(METADATA_KEY)
    return RunRecord(**metadata) if metadata else None


def run_table(paths: Sequence[Path]) -> str:
    """A Markdown table of the runs of the given executed chapters (for the book's reproduce page).

    Args:
        paths: executed chapters, in order.

    Returns:
        The table (a commit marked ``+`` ran with local changes to the sources); a chapter that was never stamped
        says so in its row.
    """
    lines = ["| chapter | profile | device | finished (UTC) | run time | commit |", "|---|---|---|---|---|---|"]
    total = 0.0
    for path in paths:
        record = read_record(path)
        if record is None:
            lines.append(f"| `{Path(path).stem}` | not executed by `make all` | | | | |")
            continue
        total += record.seconds
        finished = datetime.fromisoformat(record.finished).strftime("%Y-%m-%d %H:%M")
        commit = record.commit.replace(" + local changes", "+")
        lines.append(
            f"| `{record.chapter}` | `{record.profile}` | {record.device} | {finished} | "
            f"{format_seconds(record.seconds)} | `{commit}` |"
        )
    lines.append(f"| **all** | | | | **{format_seconds(total)}** | |")
    return "\n".join(lines)


def writer_of(name: str, root: Path = ROOT) -> str:
    """What writes a results file: the benchmark script named like it, else the chapter whose source names it.

    Args:
        name: the file's name, e.g. ``segmentation_baseline.json`` or ``style_benchmark_cpu128.json``.
        root: the repository (its ``benchmarks/`` and ``notebooks/``).

    Returns:
        E.g. ``"`benchmarks/style_benchmark.py`"`` or ``"chapter 05"``; empty when nothing names the file.
    """
    stem = name.split(".")[0]
    for script in sorted((root / "benchmarks").glob("*.py")):
        if stem == script.stem or stem.startswith(f"{script.stem}_"):
            return f"`benchmarks/{script.name}`"
    for source in sorted((root / "notebooks").glob("[0-9A][0-9]_*.py")):
        if name in source.read_text():
            return f"{'appendix' if source.name.startswith('A') else 'chapter'} {source.name[:2]}"
    return ""


def _measured_on(record: dict) -> str:
    """Where and when a benchmark record says it was measured (what it holds of device, machine and date)."""
    machine = record.get("machine")
    where = record.get("device_name") or (machine.get("cpu") if isinstance(machine, dict) else None)
    parts = [f"measured on {where}" if where else "measured", record.get("date")]
    return ", ".join(part for part in parts if part)


def results_list(folder: Path = RESULTS, root: Path = ROOT) -> str:
    """A Markdown list of the results files: what wrote each, in which profile, with which command.

    Args:
        folder: the results folder.
        root: the repository (to find each file's writer).

    Returns:
        One bullet per ``.json`` and ``.csv`` file.

    Raises:
        ValueError: naming a ``.json`` file that is not valid JSON.
    """
    lines = []
    for path in sorted(folder.glob("*.json")) + sorted(folder.glob("*.csv")):
        parts = [f"written by {writer_of(path.name, root) or 'a run'}"]
        if path.suffix == ".json":
            try:
                record = json.loads(path.read_text())
            except json.JSONDecodeError as error:
                raise ValueError(f"{path} is not valid JSON ({error}): rerun what writes it") from error
            recorded = record.get("profile")
            profile = (recorded.get("profile") or recorded.get("name")) if isinstance(recorded, dict) else recorded
            if profile:
                parts.append(f"profile `{profile}`")
            if "command" in record:
                parts.append(f"{_measured_on(record)}: `{record['command']}`")
            elif isinstance(record.get("seconds"), int | float):
                parts.append(f"{format_seconds(record['seconds'])} of experiment units")
        lines.append(f"* `results/{path.name}`: {'; '.join(parts)}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m tools.run_stamp stamp FILE...`` and ``python -m tools.run_stamp table FILE...``.

    Args:
        argv: the arguments (None: ``sys.argv``).

    Returns:
        The exit status.
    """
    parser = cli.ArgumentParser(prog="python -m tools.run_stamp", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["stamp", "table"])
    parser.add_argument("files", nargs="+", type=_notebook, help="executed chapters (.ipynb)")
    args = parser.parse_args(argv)
    if args.command == "table":
        print(run_table(args.files))
        return 0
    commit = code_commit()
    for path in args.files:
        print(f"{path}: {stamp_markdown(stamp(path, commit))}")
    return 0


def _notebook(text: str) -> Path:
    """An argparse type: an existing ``.ipynb`` file."""
    path = Path(text)
    if path.suffix != ".ipynb" or not path.is_file():
        what = "is not an .ipynb file" if path.is_file() or path.suffix != ".ipynb" else "does not exist"
        raise argparse.ArgumentTypeError(
            f"{path} {what}: pass an executed chapter, e.g. notebooks/00_setup_check.ipynb"
        )
    return path


if __name__ == "__main__":
    cli.run(main, "python -m tools.run_stamp")
