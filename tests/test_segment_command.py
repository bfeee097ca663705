"""`python -m helpers.segmentation train/segment`: the model file, lazy reading, scores, cut runs, resume, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np
import pytest
import tifffile
import zarr
from PIL import Image

from helpers import cli, data
from helpers.data.lazy import open_stack, stack_scale, unit_slice
from helpers.paths import ROOT
from helpers.segmentation import __main__ as command
from helpers.segmentation import cross_dataset, model_file, stack
from helpers.segmentation.learning import positive_probability
from helpers.segmentation.metrics import evaluate
from helpers.segmentation.pipeline import train_edge_rf
from helpers.segmentation.settings import PipelineSettings

CROP, TREES, MAX_SAMPLES = 96, 5, 5000
SETTINGS = PipelineSettings(rf_trees=TREES, rf_max_samples=MAX_SAMPLES, seed=0)
TRAIN, TEST = [0, 1, 2], [12, 13, 14]


@pytest.fixture(scope="module")
def flyem() -> data.EMStack:
    return data.load_flyem(crop=CROP)


@pytest.fixture(scope="module")
def model(flyem, tmp_path_factory) -> tuple[Path, model_file.SegmentationModel]:
    forest = train_edge_rf(
        cross_dataset.stack_graphs(flyem.take(TRAIN), SETTINGS), trees=TREES, seed=0, max_samples=MAX_SAMPLES
    )
    path = tmp_path_factory.mktemp("model") / "flyem.nsem"
    model_file.save_model(path, model_file.SegmentationModel(forest, SETTINGS, {"slices": len(TRAIN)}))
    return path, model_file.load_model(path)


def _cli(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "helpers.segmentation", *arguments], cwd=ROOT, capture_output=True, text=True
    )


def _tiff(path: Path, pixels: np.ndarray) -> Path:
    tifffile.imwrite(path, pixels, photometric="minisblack")
    return path


# ---- the model file ------------------------------------------------------------------------------------------


def test_model_file_round_trip_keeps_forest_and_settings(model, flyem):
    path, loaded = model
    graph = cross_dataset.stack_graphs(flyem.take([TEST[0]]), SETTINGS, labelled=False)[0]
    again = model_file.load_model(path)
    assert again.settings == SETTINGS and again.digest == loaded.digest and len(again.digest) == 64
    # positive_probability adds the trees' votes in a fixed order (threaded predict_proba does not)
    assert np.array_equal(
        positive_probability(again.forest, graph.features), positive_probability(loaded.forest, graph.features)
    )
    assert model_file.read_header(path)["version"] == model_file.VERSION


def test_model_file_refuses_other_versions_damage_and_other_files(model, tmp_path):
    path, _ = model
    with zipfile.ZipFile(path) as archive:
        header, forest = json.loads(archive.read(model_file.HEADER)), archive.read(model_file.FOREST)

    def write(name: str, head: dict, payload: bytes) -> Path:
        target = tmp_path / name
        with zipfile.ZipFile(target, "w") as archive:
            archive.writestr(model_file.HEADER, json.dumps(head))
            archive.writestr(model_file.FOREST, payload)
        return target

    newer = write("newer.nsem", header | {"version": model_file.VERSION + 1}, forest)
    damaged = write("damaged.nsem", header, forest[:-10] + b"0123456789")
    other = write("other.nsem", header | {"format": "something else"}, forest)
    not_zip = _tiff(tmp_path / "raw.tif", np.zeros((8, 8), np.uint8))
    problems = [
        (newer, f"version {model_file.VERSION + 1}"),
        (damaged, "digest"),
        (other, "format"),
        (not_zip, "not a model"),
    ]
    for bad, problem in problems:
        with pytest.raises(model_file.ModelFileError, match=problem) as error:
            model_file.load_model(bad)
        assert str(bad) in str(error.value) and "train it again" in str(error.value)


# ---- lazy reading ------------------------------------------------------------------------------------------------


def test_lazy_stack_reads_every_format_slice_by_slice(flyem, tmp_path):
    pixels = flyem.raw[:3]
    folder = tmp_path / "slices"
    folder.mkdir()
    for i, image in enumerate(pixels):
        Image.fromarray(image).save(folder / f"s{i * 5}.png")  # natural order: s0, s5, s10
    with h5py.File(tmp_path / "raw.h5", "w") as handle:
        handle["group/raw"] = pixels
        handle["other"] = np.zeros(3)
    zarr.create_array(str(tmp_path / "raw.zarr"), data=pixels, chunks=(1, CROP, CROP))
    np.save(tmp_path / "raw.npy", pixels)
    sources = [(_tiff(tmp_path / "raw.tif", pixels), None), (folder, None), (tmp_path / "raw.h5", "group/raw")]
    sources += [(tmp_path / "raw.zarr", None), (tmp_path / "raw.npy", None)]
    for path, dataset in sources:
        lazy = open_stack(path, dataset)
        assert lazy.shape == pixels.shape and lazy.dtype == "uint8", path
        for index in (2, 0):
            assert np.array_equal(lazy.read(index), pixels[index]), path
    for single in (pixels[0], pixels[:1]):  # a 2D image and a stack of one page
        lazy = open_stack(_tiff(tmp_path / "single.tif", single))
        assert lazy.shape == (1, CROP, CROP) and np.array_equal(lazy.read(0), pixels[0])
    with pytest.raises(data.DataError, match="--dataset"):
        open_stack(tmp_path / "raw.h5")


def test_stack_scale_matches_the_whole_stack_contract(flyem, tmp_path):
    wide = flyem.raw[:3].astype(np.uint16) * 200 + 1000
    lazy = open_stack(_tiff(tmp_path / "wide.tif", wide))
    scale = stack_scale(lazy)
    expected, _ = data.unit_raw(wide)
    assert scale == (float(wide.min()), float(wide.max()))
    assert all(np.array_equal(unit_slice(lazy.read(i), scale), expected[i]) for i in range(3))


# ---- the commands ------------------------------------------------------------------------------------------------


def test_train_and_segment_reproduce_cross_dataset_scores(flyem, tmp_path):
    train, test = flyem.take(TRAIN), flyem.take(TEST)
    _tiff(tmp_path / "train.tif", train.raw)
    _tiff(tmp_path / "train-gt.tif", train.gt)
    _tiff(tmp_path / "test.tif", test.raw)
    trained = _cli(
        "train", "--raw", str(tmp_path / "train.tif"), "--labels", str(tmp_path / "train-gt.tif"), "--kind",
        "instances", "--trees", str(TREES), "--max-samples", str(MAX_SAMPLES), "--out", str(tmp_path / "m.nsem"),
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    out = tmp_path / "test.zarr"
    done = _cli("segment", str(tmp_path / "m.nsem"), str(tmp_path / "test.tif"), "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    runs = cross_dataset.cross_dataset({"FlyEM": train}, test, SETTINGS, ("none",), progress=False)
    expected = [row for row in runs.rows if row["method"] == "multicut"]
    group = zarr.open_group(str(out), mode="r")
    labels = np.asarray(group["labels"][:])
    scored = [evaluate(labels[i], test.gt[i]) for i in range(len(test))]
    assert len(expected) == len(scored) == len(TEST)
    for row, scores in zip(expected, scored):
        assert {key: row[key] for key in scores} == scores
    assert group.attrs["settings"] == SETTINGS.as_dict()
    assert group.attrs["model_sha256"] == model_file.load_model(tmp_path / "m.nsem").digest
    assert group.attrs["raw"]["name"] == "test.tif" and group.attrs["scale"] is None


def test_segment_in_two_runs_equals_one_run(model, flyem, tmp_path):
    path, _ = model
    wide = _tiff(tmp_path / "wide.tif", flyem.raw[TEST[0] : TEST[0] + 4].astype(np.uint16) * 200 + 1000)
    cut = tmp_path / "cut.zarr"
    for z in ("0:2", "2:4"):
        result = _cli("segment", str(path), str(wide), "--out", str(cut), "--z", z, "--quiet")
        assert result.returncode == 0, result.stderr
    whole = stack.segment_stack(model[1], open_stack(wide), tmp_path / "whole.zarr", progress=False)
    assert whole.segmented == (0, 1, 2, 3)
    cut_group, whole_group = (zarr.open_group(str(p), mode="r") for p in (cut, tmp_path / "whole.zarr"))
    assert np.array_equal(cut_group["labels"][:], whole_group["labels"][:])
    assert cut_group["labels"][:].min() >= 1
    assert list(stack.finished(cut_group)) == [1, 1, 2, 2] and cut_group.attrs["scale"] == whole_group.attrs["scale"]


def test_resume_after_kill_redoes_no_finished_slice(model, tmp_path):
    path, loaded = model
    full = data.load_flyem()
    raw = _tiff(tmp_path / "long.tif", np.concatenate([full.raw] * 2))
    out = tmp_path / "long.zarr"
    process = subprocess.Popen(
        [sys.executable, "-m", "helpers.segmentation", "segment", str(path), str(raw), "--out", str(out), "--quiet"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (out / "done" / "c" / "0").exists():
                break
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    before = stack.finished(zarr.open_group(str(out), mode="r"))
    finished = np.flatnonzero(before)
    assert 0 < len(finished) < len(before), "the kill came before the first slice or after the last"
    stamps = {i: (out / "labels" / "c" / str(i) / "0" / "0").stat().st_mtime_ns for i in finished}
    result = stack.segment_stack(loaded, open_stack(raw), out, progress=False)
    assert set(result.skipped) == set(finished) and not set(result.segmented) & set(finished)
    after = stack.finished(zarr.open_group(str(out), mode="r"))
    assert all(after[finished] == 1) and all(after[np.flatnonzero(before == 0)] == 2)
    assert all((out / "labels" / "c" / str(i) / "0" / "0").stat().st_mtime_ns == stamps[i] for i in finished)
    reference = stack.segment_stack(loaded, open_stack(raw), tmp_path / "ref.zarr", progress=False)
    assert reference.segmented == tuple(range(len(before)))
    labels = [zarr.open_group(str(p), mode="r")["labels"][:] for p in (out, tmp_path / "ref.zarr")]
    assert np.array_equal(*labels)


def test_resume_with_another_model_is_refused_unless_overwrite(model, flyem, tmp_path, capsys):
    path, loaded = model
    raw = _tiff(tmp_path / "raw.tif", flyem.raw[:2])
    stack.segment_stack(loaded, open_stack(raw), tmp_path / "out.zarr", progress=False)
    other = replace(loaded, settings=replace(SETTINGS, beta=0.4))
    other_path = tmp_path / "other.nsem"
    model_file.save_model(other_path, other)
    arguments = ["segment", str(other_path), str(raw), "--out", str(tmp_path / "out.zarr"), "--quiet"]
    status, lines = _run_in_process(arguments, capsys)
    assert status == 2 and "another model" in lines[0] and "--overwrite" in lines[0]
    status, _ = _run_in_process([*arguments, "--overwrite"], capsys)
    group = zarr.open_group(str(tmp_path / "out.zarr"), mode="r")
    assert status == 0 and group.attrs["settings"]["beta"] == 0.4 and list(stack.finished(group)) == [1, 1]


def _run_in_process(arguments: list[str], capsys) -> tuple[int, list[str]]:
    with pytest.raises(SystemExit) as stopped:
        cli.run(command.main, command.PROG, arguments)
    lines = capsys.readouterr().err.strip().splitlines()
    return stopped.value.code, lines


def test_bad_input_ends_in_one_line(model, flyem, tmp_path, capsys):
    path, _ = model
    raw = _tiff(tmp_path / "raw.tif", flyem.raw[:1])
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    cases = [
        (["segment", str(path), str(tmp_path / "missing.tif"), "--out", str(tmp_path / "o.zarr")], "missing.tif"),
        (["segment", str(raw), str(raw), "--out", str(tmp_path / "o.zarr")], "not a usable segmentation model"),
        (["segment", str(path), str(raw), "--out", str(blocker / "o.zarr")], "--out's folder"),
        (["segment", str(path), str(raw), "--out", str(tmp_path / "o.zarr"), "--z", "5:9"], "--z"),
        (["train", "--raw", str(raw), "--labels", str(tmp_path / "none.tif"), "--out", str(path)], "none.tif"),
    ]
    for arguments, named in cases:
        status, lines = _run_in_process(arguments, capsys)
        assert status == 2 and len(lines) == 1 and named in lines[0], (arguments, lines)
        assert "Traceback" not in lines[0]
    result = _cli("segment", str(raw), str(raw), "--out", str(tmp_path / "o.zarr"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "raw.tif" in result.stderr
