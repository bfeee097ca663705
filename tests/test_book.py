"""The book's pieces: the run stamp of executed chapters, numbers in the chapters' prose, figure formats, and the
static check of the built book (tools/check_book.py)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import jupytext
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers.paths import ROOT  # noqa: E402
from helpers.viz import figures  # noqa: E402
from tools import run_stamp as chapters  # noqa: E402

SOURCES = sorted((ROOT / "notebooks").glob("[0-9A][0-9]_*.py"))
BUILT = ROOT / "book" / "_build" / "html"


def _check_book():
    spec = importlib.util.spec_from_file_location("check_book", ROOT / "tools" / "check_book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _executed(tmp_path: Path, tags: list[str]) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("# run stamp", metadata={"tags": tags}),
        nbformat.v4.new_code_cell("profile = None", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell('profile = "ci"', metadata={"tags": ["injected-parameters"]}),
        nbformat.v4.new_code_cell("1", metadata={"tags": []}),
    ]
    notebook.metadata["papermill"] = {
        "parameters": {"profile": "ci"},
        "start_time": "2026-11-25T14:00:00+00:00",
        "end_time": "2026-11-25T14:07:11.5+00:00",
        "duration": 431.5,
        "exception": None,
    }
    path = tmp_path / ".partial-03_example.ipynb"
    nbformat.write(notebook, path)
    return path


def test_stamp_writes_the_run_at_the_top(tmp_path: Path):
    path = _executed(tmp_path, ["run-stamp", "remove-input"])
    record = chapters.stamp(path, commit="abc1234")
    assert (record.chapter, record.profile, record.commit, record.seconds) == ("03_example", "ci", "abc1234", 431.5)
    stamped = nbformat.read(path, as_version=4)
    assert [cell.source for cell in stamped.cells] == ["# run stamp", "profile = None", "1"]  # as in the .py source
    assert "tags" not in stamped.cells[2].metadata  # papermill's empty tags would reach the .py on a save
    text = stamped.cells[0].outputs[0]["data"]["text/markdown"]
    for part in ("profile `ci`", "2026-11-25 14:07 UTC", "commit `abc1234`", "7 min 12 s", record.device):
        assert part in text
    assert chapters.read_record(path) == record
    assert "| `03_example` | `ci` |" in chapters.run_table([path])


def test_stamp_drops_progress_bars_and_keeps_real_widgets(tmp_path: Path):
    path = _executed(tmp_path, ["run-stamp", "remove-input"])
    notebook = nbformat.read(path, as_version=4)
    view = "application/vnd.jupyter.widget-view+json"
    bar = {view: {"model_id": "b0", "version_major": 2}, "text/plain": "units:  40%|####  | 2/5 [00:01<00:01, 2.0it/s]"}
    slider = {view: {"model_id": "s0", "version_major": 2}, "text/plain": "FloatSlider(value=0.5)"}
    untotalled = {view: {"model_id": "b2", "version_major": 2}, "text/plain": "Frangi graphs: 0it [00:00, ?it/s]"}
    notebook.cells[3].outputs = [
        nbformat.v4.new_output("display_data", data=bar),
        nbformat.v4.new_output("display_data", data=untotalled),
        nbformat.v4.new_output("stream", name="stderr", text="graphs: 100%|##########| 4/4 [00:00<00:00, 9.1it/s]\n"),
        nbformat.v4.new_output("stream", name="stderr", text="a real warning\n"),
        nbformat.v4.new_output("display_data", data=slider),
        nbformat.v4.new_output("stream", name="stdout", text="12/30 [done] is printed text, kept\n"),
    ]
    state = {"b0": {"state": {"children": ["IPY_MODEL_b1"]}}, "b1": {"state": {}},
             "s0": {"state": {"layout": "IPY_MODEL_s1"}}, "s1": {"state": {}}}  # fmt: skip
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": state}}
    nbformat.write(notebook, path)
    chapters.stamp(path, commit="abc1234")
    stamped = nbformat.read(path, as_version=4)
    kept = stamped.cells[2].outputs
    assert [output.get("text", output.get("data", {}).get("text/plain")) for output in kept] == [
        "a real warning\n",
        "FloatSlider(value=0.5)",
        "12/30 [done] is printed text, kept\n",
    ]
    assert sorted(stamped.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]) == ["s0", "s1"]


def test_stamp_needs_its_cell(tmp_path: Path):
    with pytest.raises(ValueError, match="run-stamp"):
        chapters.stamp(_executed(tmp_path, []), commit="abc")


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_chapter_starts_with_the_run_stamp_cell(source: Path):
    first = jupytext.read(source).cells[0]
    assert first.cell_type == "code" and chapters.STAMP_TAG in first.metadata.get("tags", [])
    assert all(line.startswith("#") for line in first.source.splitlines()), "the stamp cell holds a comment only"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_no_measured_number_typed_in_the_prose(source: Path):
    """A score or a time in a Markdown cell must be rendered from the run (a cell showing Markdown), not typed."""
    for cell in jupytext.read(source).cells:
        if cell.cell_type != "markdown":
            continue
        prose = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`", "", cell.source, flags=re.S)  # maths and code aside
        typed = re.findall(r"\b\d+\.\d{2,}\b|\b\d+(?:\.\d+)? ?(?:s|min|seconds|minutes)\b(?! \w+ing)", prose)
        assert not typed, f"typed numbers in the prose: {typed}"


@pytest.mark.parametrize(("name", "magic"), [("a.jpg", b"\xff\xd8"), ("a.png", b"\x89PNG"), ("a.pdf", b"%PDF")])
def test_figure_format_follows_the_name(tmp_path: Path, name: str, magic: bytes):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1])
    assert figures.save(fig, tmp_path / name).read_bytes().startswith(magic)
    plt.close(fig)


def test_a_figure_wider_than_the_column_is_refused_before_its_text_shrinks():
    fig = plt.figure(figsize=(12, 4))
    with pytest.raises(ValueError, match="at most helpers.viz.figures.COLUMN_WIDTH_IN"):
        figures.show(fig)
    assert not plt.fignum_exists(fig.number)
    fitting = plt.figure(figsize=(figures.COLUMN_WIDTH_IN, 3))
    assert figures.inline_image(fitting).data.startswith(b"\x89PNG")


def test_image_grids_label_pixel_axes_on_the_outer_panels_only():
    from helpers.viz import unet as unet_figures

    raw, mask = np.zeros((32, 32)), np.zeros((32, 32))
    row = unet_figures.targets(raw, mask, mask, "slice 0").axes
    assert [ax.get_ylabel() for ax in row] == ["y (pixels)", "", ""]
    assert all(ax.get_xlabel() for ax in row)
    maps = {"a": mask, "b": mask}  # three panels in two columns: the second has no panel below it
    grid = [ax for ax in unet_figures.boundary_maps(raw, maps, "slice 0").axes if ax.axison]
    assert [bool(ax.get_xlabel()) for ax in grid] == [False, True, True]
    assert [bool(ax.get_ylabel()) for ax in grid] == [True, False, True]
    assert [ax.get_title() for ax in grid] == ["slice 0", "a", "b"]
    plt.close("all")


def test_figure_refuses_other_formats(tmp_path: Path):
    fig = plt.figure()
    with pytest.raises(ValueError, match="saved as one of"):
        figures.save(fig, tmp_path / "a.gif")
    plt.close(fig)


def test_static_check_finds_problems(tmp_path: Path):
    (tmp_path / "index.html").write_text(
        '<html><body id="top"><a href="other.html">gone</a><a href="#nowhere">anchor</a><a href="#top">ok</a>'
        '<img src="missing.png"><script src="https://cdn.example/x.js"></script>'
        '<p>costs $x + 1$ here</p><pre>echo $HOME and $PATH</pre><span class="math">\\(x\\)</span></body></html>'
    )
    problems = _check_book().check_static(tmp_path)
    assert len(problems) == 5, problems
    assert any("raw maths" in p for p in problems) and any("outside the book" in p for p in problems)


@pytest.mark.skipif(not (BUILT / "index.html").exists(), reason="no built book (make book)")
def test_built_book_passes_the_static_check():
    assert _check_book().check_static(BUILT) == []


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_saving_an_executed_chapter_leaves_its_source_clean(source: Path):
    """What JupyterLab (jupytext, notebooks/jupytext.toml) writes to the .py from an executed chapter is the source."""
    text = source.read_text()
    notebook = jupytext.reads(text, fmt="py:percent")
    notebook.metadata.update(
        papermill={"parameters": {"profile": "reduced"}, "duration": 1.0},
        nsem_run={"profile": "reduced"},
        widgets={"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2}},
        language_info={"name": "python"},
    )
    for cell in notebook.cells:
        cell.metadata.update(papermill={"duration": 0.1}, execution={"iopub.status.busy": "now"})
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": "**out**"})]
            cell.execution_count = 1
    assert jupytext.writes(notebook, fmt="py:percent") == text


def test_code_commit_ignores_a_runs_own_outputs_but_not_changed_sources(tmp_path):
    """A checkout whose only changes are figures, results, executed chapters and findings still runs its commit."""
    import subprocess

    from tools.run_stamp import code_commit

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    for name in ("figures/a.png", "results/b.json", "notebooks/c.ipynb", "README.md", "notebooks/c.py", "helpers/d.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("0")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x")
    for name in ("figures/a.png", "results/b.json", "notebooks/c.ipynb", "README.md"):  # README: the findings
        (tmp_path / name).write_text("1")
    assert not code_commit(tmp_path).endswith("+ local changes")
    (tmp_path / "helpers/d.py").write_text("1")
    assert code_commit(tmp_path).endswith("+ local changes")


def test_results_list_describes_every_committed_result():
    """The book's results page is built from every file in results/, whatever fields each record holds."""
    listing = chapters.results_list()
    committed = sorted(path.name for path in (ROOT / "results").iterdir() if path.suffix in (".json", ".csv"))
    assert [re.match(r"\* `results/([^`]+)`", line).group(1) for line in listing.splitlines()] == sorted(
        committed, key=lambda name: (name.endswith(".csv"), name)
    )
    assert "written by `benchmarks/style_benchmark.py`" in listing


def test_results_list_takes_records_without_device_or_date(tmp_path: Path):
    """A benchmark record may hold a command without device name or date (chapter06_cost.json has a machine)."""
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "a.json").write_text('{"command": "python x.py", "machine": {"cpu": "Some CPU"}}')
    (folder / "b.json").write_text('{"command": "python y.py", "profile": "ci"}')
    listing = chapters.results_list(folder, root=tmp_path)
    assert "* `results/a.json`: written by a run; measured on Some CPU: `python x.py`" in listing
    assert "* `results/b.json`: written by a run; profile `ci`; measured: `python y.py`" in listing
    (folder / "c.json").write_text("{not json")
    with pytest.raises(ValueError, match="c.json is not valid JSON"):
        chapters.results_list(folder, root=tmp_path)
