"""What publishing needs: licences, a valid citation, CI workflows and Binder pins in step with requirements.txt."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers.paths import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import check_outputs  # noqa: E402

CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def _pins(path: Path) -> dict[str, str]:
    """``{package: version}`` of a requirements file (comments and options left out)."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            name, version = line.split("==")
            pins[name.lower()] = version
    return pins


def _validate(schema: str, *paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", schema, *map(str, paths)], capture_output=True, text=True
    )


def test_licences_are_there_and_named():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert "CC BY 4.0" in (ROOT / "LICENSE-CONTENT.md").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "`LICENSE`" in readme and "CC BY 4.0" in readme and "data/README.md" in readme
    conf = (ROOT / "book" / "conf.py").read_text()
    assert "LICENSE-CONTENT.md" in conf and "CC BY 4.0" in conf


def test_citation_is_valid_and_cites_what_the_series_rebuilds():
    assert _validate("vendor.citation-file-format", ROOT / "CITATION.cff").returncode == 0
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    titles = " ".join(reference["title"] for reference in citation["references"])
    for work in ("Neuron Segmentation using Deep Style Transfer", "connectomics", "neuroproof", "Artistic Style",
                 "arbitrary neural artistic stylization", "scikit-image", "PyTorch"):  # fmt: skip
        assert work in titles
    assert citation["license"] == "MIT"


def test_citation_check_fails_on_a_broken_file(tmp_path: Path):
    broken = tmp_path / "CITATION.cff"
    broken.write_text((ROOT / "CITATION.cff").read_text().replace("cff-version: 1.2.0", "cff-version: 9"))
    assert _validate("vendor.citation-file-format", broken).returncode == 1


def test_workflows_are_valid_and_run_the_projects_own_commands(tmp_path: Path):
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert len(workflows) == 2
    assert _validate("vendor.github-workflows", *workflows).returncode == 0
    runs = [step.get("run", "") for path in workflows for job in yaml.safe_load(path.read_text())["jobs"].values()
            for step in job.get("steps", [])]  # fmt: skip
    assert "bash .ci/run" in runs and "make book" in runs and "make linkcheck" in runs
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    assert _validate("vendor.github-workflows", broken).returncode == 1


def test_binder_installs_the_same_pins_with_cpu_torch():
    project, binder = _pins(ROOT / "requirements.txt"), _pins(ROOT / "binder" / "requirements.txt")
    assert binder.keys() == project.keys()
    for name in ("torch", "torchvision"):
        assert binder.pop(name) == project.pop(name) + "+cpu"
    assert binder == project
    post_build = (ROOT / "binder" / "postBuild").read_text()
    assert "--no-deps -r requirements-nodeps.txt" in post_build
    assert 'NSEM_PROFILE="${NSEM_PROFILE:-ci}"' in (ROOT / "binder" / "start").read_text()
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"


def test_pre_commit_hooks_are_local_and_call_what_exists():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    entries = [hook["entry"] for hook in config["repos"][0]["hooks"]]
    assert any("ruff check" in e for e in entries) and any("ruff format --check" in e for e in entries)
    assert any("jupytext --sync" in e for e in entries)
    assert any("tools/check_outputs.py" in e for e in entries) and (ROOT / "tools" / "check_outputs.py").exists()


def _chapter(tmp_path: Path, *texts: str) -> Path:
    cells = [{"cell_type": "code", "source": "x", "metadata": {}, "execution_count": 1,
              "outputs": [{"output_type": "stream", "name": "stdout", "text": text}]} for text in texts]  # fmt: skip
    path = tmp_path / "01_example.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("wrote /tmp/abc/results/x.json", "a machine path"),
        ("Config(profile='ci', cache=PosixPath('cache'))", "an object repr"),
        ("units: 100%|##########| 17/17 [00:03<00:00,  5.1it/s]", "progress-bar residue"),
        ("Frangi graphs: 0it [00:00, ?it/s]", "progress-bar residue"),  # a bar without a total
        ("Traceback (most recent call last):", "a traceback"),
    ],
)
def test_output_noise_is_found(tmp_path: Path, text: str, what: str):
    (found,) = check_outputs.problems(_chapter(tmp_path, "a clean line", text))
    assert f"cell 2: {what}" in found


def test_clean_outputs_pass(tmp_path: Path):
    path = _chapter(tmp_path, "406 rows: 29 units computed", "figures/06_figure16.png (a relative path)")
    assert check_outputs.problems(path) == [] and check_outputs.main([str(path)]) == 0


def test_built_book_shows_the_launch_button_and_the_licence():
    html = ROOT / "book" / "_build" / "html"
    if not (html / "index.html").exists():
        pytest.skip("no built book (make book)")
    chapter = (html / "notebooks" / "06_augmentation_experiments.html").read_text()
    assert "mybinder.org/v2/gh/" in chapter
    assert "urlpath=lab/tree/notebooks/06_augmentation_experiments.ipynb" in chapter
    assert "CC BY 4.0" in (html / "index.html").read_text() and "CC BY 4.0" in chapter
