"""The command lines' convention (helpers.cli): a bad argument, file or folder ends in one line and status 2."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.gpu_device import GUARD
from helpers import checks, cli, config
from helpers.paths import ROOT, canonical_json
from helpers.style import cache, comparison, pngs
from tools import findings
from tools.run_stamp import shown_profile

ENTRY_POINTS = [  # (command, a bad argument, what the one line must name)
    (["-m", "helpers.style"], ["--styles", "3", "3"], "repeats [3]"),
    (["-m", "helpers.style"], ["--styles", "99"], "no painting number 99"),
    (["-m", "helpers.style"], ["--profile", ""], "unknown profile an empty name"),
    (["-m", "helpers.style"], ["--profile", "full"], "use --profile reduced"),
    (["-m", "helpers.vgg"], ["--export", "w.npz", "--last-layer", "conv9_9"], "unknown layer 'conv9_9'"),
    (["-m", "tools.run_stamp"], ["stamp", "missing.ipynb"], "missing.ipynb does not exist"),
    (["-m", "tools.findings"], ["--results", "reslts"], "--results reslts is not a folder"),
    (["benchmarks/style_benchmark.py"], ["--pairs", "0"], "argument --pairs"),
    (["benchmarks/panel_benchmark.py"], ["--beta-profile", "prfile"], "unknown profile 'prfile'"),
    (["benchmarks/chapter06_cost.py"], ["--samples", "x"], "argument --samples"),
    (["benchmarks/gpu_kit.py"], ["run", "--quality", "101"], "argument --quality"),
    (["benchmarks/gpu_kit.py"], ["unpack", "nowhere"], "nowhere is not a folder"),
    (["benchmarks/unet_bound.py"], ["--workers", "0"], "argument --workers"),
    (["benchmarks/feedforward_cost.py"], ["--threads", "0"], "argument --threads"),
    (["-m", "helpers.style"], ["--workers", "0"], "argument --workers"),
    (["-m", "helpers.segmentation"], ["segment", "missing.nsem", "raw.tif", "--out", "o.zarr"], "missing.nsem"),
    (["benchmarks/parallel_units.py"], ["--crop", "10"], "argument --crop"),
    (["benchmarks/segment_stack.py"], ["--repeat", "1"], "argument --repeat"),
    (["tools/compare_results.py"], ["results", "nowhere"], "nowhere is not a folder"),
]


@pytest.mark.parametrize(("command", "argv", "named"), ENTRY_POINTS)
def test_every_entry_point_ends_bad_input_in_one_line_with_status_2(command, argv, named, tmp_path):
    env = {**os.environ, "NSEM_CACHE": str(tmp_path / "cache"), "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([sys.executable, *command, *argv], cwd=ROOT, env=env, capture_output=True, text=True)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and named in lines[0] and ": error: " in lines[0], done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir()), "no work was started"


def test_debug_shows_the_traceback_instead():
    done = subprocess.run(
        [sys.executable, "-m", "tools.findings", "--results", "reslts", "--debug"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and "Traceback" in done.stderr and "reslts" in done.stderr


def test_an_unusable_cache_is_named_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path / "file"))
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(ValueError, match=r"NSEM_CACHE \(.*file\) is a file, not a folder: choose a folder"):
        cli.check_cache(config.select("ci").cache)
    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path / "full"))
    with pytest.raises(ValueError, match=r"NSEM_CACHE .* MiB free, less than .*: free some space"):
        cli.check_cache(config.select("ci").cache, min_free_bytes=2**62)  # a disk this full: every disk
    assert cli.check_cache(config.select("ci").cache) == tmp_path / "full"  # created when usable


def test_a_relative_or_home_cache_resolves_the_same_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(config.CACHE_ENV, "scratch/cache")
    monkeypatch.chdir(tmp_path)
    assert config.select("ci").cache == ROOT / "scratch" / "cache"
    monkeypatch.setenv(config.CACHE_ENV, "~/nsem-cache")
    assert config.select("ci").cache == Path.home() / "nsem-cache"


def test_an_empty_profile_is_refused_not_run_as_the_default(monkeypatch):
    monkeypatch.delenv(config.PROFILE_ENV, raising=False)
    with pytest.raises(ValueError, match="unknown profile an empty name: choose one of"):
        config.select("")
    monkeypatch.setenv(config.PROFILE_ENV, "ci")
    assert config.select(None).profile == "ci"


@pytest.mark.parametrize(
    ("injected", "message"),
    [
        ('profile = ""', r"profile = '' is not allowed: pass one of \['full', 'reduced', 'ci'\]"),
        ('profile = "prfile"', "profile = 'prfile' is not allowed"),
        ('pipelines = "frangi"', r"pipelines = 'frangi' is not allowed: pass a list such as \['frangi', 'pixel-rf'\]"),
        ("pipelines = [1]", "pipelines = \\[1\\] is not allowed"),
        ('live = "no"', "live = 'no' is not allowed: pass True or False"),
        ('live = "False"', "pass True or False"),
        ("one_style = 3.5", "one_style = 3.5 is not allowed: pass a whole number such as 3"),
    ],
)
def test_papermill_values_of_the_wrong_kind_are_refused(injected, message):
    declared = 'profile = None\npipelines = ["frangi", "pixel-rf"]\nlive = True\none_style = 3\n'
    config.check_parameters(["", declared, '# Parameters\nprofile = "ci"\npipelines = ["frangi"]\nlive = False\n'])
    with pytest.raises(ValueError, match=message):
        config.check_parameters(["", declared, f"# Parameters\n{injected}\n"])


def test_kind_checks_accept_what_the_default_allows():
    assert checks.kind_problem(2, 1.5) is None and checks.kind_problem(True, 1) is not None
    assert checks.kind_problem(None, None) is None and checks.kind_problem("x", None) is None
    assert checks.literal_assignments("a = 1\nb = f(x)\nc: int = 2") == {"a": 1, "c": 2}


def test_a_run_started_with_only_the_environment_is_stamped_with_its_profile():
    nbformat = pytest.importorskip("nbformat")
    printed = nbformat.v4.new_output("stream", name="stdout", text=f"profile: {config.select('ci').profile}\n")
    cell = nbformat.v4.new_code_cell("print('profile:', config.profile)", outputs=[printed])
    assert shown_profile(nbformat.v4.new_notebook(cells=[cell])) == "ci"
    assert shown_profile(nbformat.v4.new_notebook()) is None


def test_findings_refuse_an_incomplete_results_folder_and_leave_the_readme(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n{findings.START}\nkept\n{findings.END}\n")
    before = readme.read_text()
    for name in findings.RESULT_FILES[1:]:  # all but segmentation_baseline.json
        (tmp_path / name.replace("*", "")).write_text("{}")
    with pytest.raises(FileNotFoundError, match="segmentation_baseline.json is missing.*rerun what writes it"):
        findings.main(["--results", str(tmp_path), "--readme", str(readme)])
    (tmp_path / "segmentation_baseline.json").write_text("{not json")
    with pytest.raises(ValueError, match="segmentation_baseline.json: not valid JSON"):
        findings.main(["--results", str(tmp_path), "--readme", str(readme)])
    assert readme.read_text() == before


def test_the_choice_of_network_does_not_depend_on_timings():
    record = {"networks": {comparison.HED: {"style_relative_geomean": 0.1, "step_median_s": 1.0}}}
    record["networks"][comparison.VGG19_BALANCED] = {"style_relative_geomean": 0.05, "step_median_s": 1.0}
    fast = comparison.choose_default(record)
    record["networks"][comparison.VGG19_BALANCED]["step_median_s"] = 7.0
    slow = comparison.choose_default(record)
    assert fast["network"] == slow["network"] == comparison.VGG19_BALANCED and fast["reason"] == slow["reason"]
    assert slow["timings"]["slowdown"] == 7.0 and "seconds" not in slow["reason"]
    assert comparison.conv_cost("vgg19") > comparison.conv_cost("hed")  # four convs more in blocks 3 and 4


def test_canonical_json_sorts_keys_and_refuses_nan():
    assert (
        canonical_json({"b": 1, "a": [2.5]})
        == canonical_json({"a": [2.5], "b": 1})
        == '{\n "a": [\n  2.5\n ],\n "b": 1\n}\n'
    )
    with pytest.raises(ValueError, match="replace NaN"):
        canonical_json({"a": float("nan")})


def test_a_json_file_argument_must_exist_and_parse(tmp_path):
    (tmp_path / "bad.json").write_text("{")
    for name, message in (
        ("missing.json", "does not exist: pass an existing JSON file"),
        ("bad.json", "not valid JSON"),
    ):
        with pytest.raises(Exception, match=message):
            cli.json_file(str(tmp_path / name))
    (tmp_path / "ok.json").write_text(json.dumps({"a": 1}))
    assert cli.json_file(str(tmp_path / "ok.json")) == tmp_path / "ok.json"


def test_a_step_dies_with_the_kit_that_started_it(tmp_path):
    marker = tmp_path / "child.pid"
    step = f"import os, time; open({str(marker)!r}, 'w').write(str(os.getpid())); time.sleep(600)"
    parent = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', {GUARD!r}, sys.executable, '-c', {step!r}], "
        "stdin=subprocess.PIPE, start_new_session=True)\n"
        "time.sleep(600)\n"
    )
    kit = subprocess.Popen([sys.executable, "-c", parent])
    for _ in range(300):  # the step starts
        if marker.exists() and marker.read_text():
            break
        time.sleep(0.05)
    child = int(marker.read_text())
    kit.send_signal(signal.SIGKILL)
    kit.wait()
    for _ in range(300):  # the guard sees its pipe end and kills the step
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the step outlived the kit")


# ----------------------------------------------------------------------------- nothing computed is lost

STYLE = {"slices": [0, 1], "styles": [3], "steps": [2], "crop": 32, "batch_size": 1, "progress": False}
FIRST = "slice00_style03_steps002_crop32_"  # the first batch's image (its name, up to its key)


@pytest.mark.parametrize(
    ("failure", "status", "said"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), 2, "error: [Errno 28] No space left on device"),
        (KeyboardInterrupt(), 130, "interrupted; what was finished is kept"),
    ],
    ids=["cache full", "interrupted"],
)
def test_a_stylisation_stopped_in_its_second_batch_keeps_the_first(
    tmp_path, monkeypatch, capsys, failure, status, said
):
    real, writes = pngs.atomic_write_bytes, []

    def failing_second_write(path, payload):
        writes.append(path)
        if len(writes) == 2:
            raise failure
        real(path, payload)

    monkeypatch.setattr(pngs, "atomic_write_bytes", failing_second_write)
    with pytest.raises(SystemExit) as stopped:
        cli.run(lambda _argv: cache.stylize_isbi(tmp_path, **STYLE), "python -m helpers.style", [])
    lines = capsys.readouterr().err.strip().splitlines()
    assert stopped.value.code == status and len(lines) == 1 and said in lines[0]
    assert [name[: len(FIRST)] for name in cache.stylized_records(tmp_path)] == [FIRST]
    assert cache.load_stylized(tmp_path, 2, 3, [0], crop=32).shape == (1, 32, 32)  # whole, checked against its digest
    monkeypatch.setattr(pngs, "atomic_write_bytes", real)
    summary = cache.stylize_isbi(tmp_path, **STYLE)  # the rerun resumes: the first image is not made again
    assert summary["skipped"] == 1 and summary["done"] == 1


def test_an_unusable_cache_stops_the_style_command_before_any_work(tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache should be")
    env = {**os.environ, config.CACHE_ENV: str(blocker), "CUDA_VISIBLE_DEVICES": ""}
    argv = ["--profile", "ci", "--slices", "0", "--styles", "3", "--steps", "2", "--crop", "32"]
    done = subprocess.run(
        [sys.executable, "-m", "helpers.style", *argv], cwd=ROOT, env=env, capture_output=True, text=True
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "NSEM_CACHE" in lines[0] and "choose a folder" in lines[0]
    assert blocker.read_text() == "a file where the cache should be" and sorted(tmp_path.iterdir()) == [blocker]
    assert "stylize ISBI" not in done.stdout + done.stderr, "no stylisation was started"


def test_the_findings_command_on_an_incomplete_results_folder_leaves_the_readme_and_results(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n{findings.START}\nkept\n{findings.END}\n")
    results = tmp_path / "results"
    results.mkdir()
    for name in findings.RESULT_FILES[1:]:  # all but the first
        (results / name.replace("*", "")).write_text("{}")
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    command = [sys.executable, "-m", "tools.findings", "--results", str(results), "--readme", str(readme)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    lines = done.stderr.strip().splitlines()
    missing = findings.RESULT_FILES[0]
    assert done.returncode == 2 and len(lines) == 1 and f"{missing} is missing" in lines[0], done.stderr
    assert {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()} == before
