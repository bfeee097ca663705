"""The remote-GPU kit (benchmarks/gpu_kit.py) rehearsed on the CPU at ci size, its archive and its travelling size.

The rehearsal runs the whole kit as the device would (one process per call, a temporary cache, work folder and
OUT per call): a first call that the time limit interrupts, then calls that resume, until nothing is left. It is
the one slow test of this file (every chapter it runs is executed in the ci profile).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks import gpu_device, gpu_kit
from benchmarks.style_archive import lossy_entries, pack_stylized, unpack_stylized
from helpers import config, vgg
from helpers.style import cache as style_cache
from helpers.style.cache import load_stylized
from helpers.style.pngs import pixel_digest, read_entry, write_entry
from helpers.style.settings import StyleSettings
from tools import run_stamp as chapters

ROOT = Path(__file__).resolve().parents[1]
PACK_BYTES = 10_240  # ci images are ~3 KB as JPEG: several packs per painting, more files than one call returns


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """The two bundles the kit carries, with the weights exported as ``prepare`` does (wheels: listed sizes)."""
    folder = tmp_path_factory.mktemp("bundles")
    for bundle, source, name in (("style", "hed", "hed-conv5_1-float16.npz"), ("chapters", "vgg19", None)):
        (folder / bundle / "weights").mkdir(parents=True)
        target = folder / bundle / "weights" / (name or gpu_device.WEIGHT_FILES[source][0])
        if source == "hed":
            vgg.export_weights(target, "conv5_1", "float16")
        else:
            vgg.export_vgg19_weights(target, "conv5_1")
        (folder / bundle / "kit.json").write_text(json.dumps({"commit": "rehearsal", "bundle": bundle}))
    return folder


def test_vgg19_export_is_exact_up_to_conv5_1(bundles, monkeypatch):
    path = bundles / "chapters" / "weights" / gpu_device.WEIGHT_FILES["vgg19"][0]
    full, exported = vgg.read_vgg19_weights(), vgg.read_vgg19_weights(path)
    assert sorted(exported, key=list(full).index)[-2:] == ["conv5_1.weight", "conv5_1.bias"]
    assert all(np.array_equal(full[key], exported[key]) for key in exported)
    assert "conv5_2.weight" not in exported
    monkeypatch.setenv(vgg.VGG19_WEIGHTS_ENV, str(path))
    assert vgg.vgg19_weights_path() == path
    net = vgg.VGGFeatures("vgg19")  # reads the export through the variable
    with pytest.raises(ValueError, match=f"beyond the loaded weights.*{path.name}.*unset \\${vgg.VGG19_WEIGHTS_ENV}"):
        net(torch.zeros(1, 3, 32, 32), ["conv5_2"])


def test_travelling_bytes_counts_tracked_untracked_and_carried_not_ignored(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("/ignored/\n/.gpu/\n")
    (tmp_path / "tracked.txt").write_bytes(b"a" * 1000)
    subprocess.run(["git", "-C", str(tmp_path), "add", "tracked.txt", ".gitignore"], check=True)
    (tmp_path / "untracked.txt").write_bytes(b"b" * 300)
    (tmp_path / "ignored").mkdir()
    (tmp_path / "ignored" / "big.bin").write_bytes(b"c" * 5000)
    (tmp_path / ".gpu" / "style").mkdir(parents=True)
    (tmp_path / ".gpu" / "style" / "w.npz").write_bytes(b"d" * 700)
    tree = 1000 + 300 + len("/ignored/\n/.gpu/\n")
    assert gpu_kit.travelling_bytes(root=tmp_path) == tree
    assert gpu_kit.travelling_bytes([".gpu/style"], root=tmp_path) == tree + 700


def test_each_call_kind_travels_under_64_mib(bundles):
    tree = gpu_kit.travelling_bytes()
    weights = {s: (bundles / b / "weights" / gpu_device.WEIGHT_FILES[s][0]).stat().st_size
               for s, b in (("hed", "style"), ("vgg19", "chapters"))}  # fmt: skip
    wheels = {bundle: sum(sizes.values()) for bundle, sizes in gpu_kit.WHEELS.items()}
    for first, other in (("hed", "vgg19"), ("vgg19", "hed")):  # whichever network is the default travels first
        style_call = tree + weights[first] + wheels["style"]
        chapters_call = tree + weights[other] + wheels["chapters"]
        assert max(style_call, chapters_call) <= gpu_kit.TRAVEL_LIMIT, (first, style_call, chapters_call)
    assert weights["hed"] < 20e6 and weights["vgg19"] < 13e6


SETTINGS = style_cache.cached_settings(StyleSettings())


def _name(style: int, s: int) -> str:
    """The file name (without .png) of a 128 px, 4-step stylised slice."""
    return style_cache.entry(Path("unused"), SETTINGS, style, s, 128, 4)[1].stem


def _cache_with(folder: Path, images: dict[str, np.ndarray]) -> Path:
    """A cache holding the given images with minimal records."""
    for name, grey in images.items():
        path = style_cache.stylized_dir(folder) / f"{name}.png"
        write_entry(path, grey, name.rsplit("_", 1)[1], {"crop": 128, "settings": SETTINGS})
    return folder


def _read(folder: Path, name: str) -> tuple[np.ndarray, dict]:
    """A cached image and its record, checked."""
    return read_entry(style_cache.stylized_dir(folder) / f"{name}.png", name.rsplit("_", 1)[1], 128)


def test_archive_splits_packs_and_imports_lossy_copies_without_replacing_originals(tmp_path):
    rng = np.random.default_rng(0)
    images = {
        _name(style, s): np.clip(rng.normal(128 + 10 * s, 40, size=(128, 128)), 0, 255).astype(np.uint8)
        for style in (3, 10) for s in range(3)
    }  # fmt: skip
    source = _cache_with(tmp_path / "there", images)
    packs = pack_stylized(source, tmp_path / "packs", max_bytes=30_720)  # 3 images of ~15 KB per painting: split
    assert len(packs) == 4 and all(p.stat().st_size <= 30_720 for p in packs)
    assert {p.name.split("-")[2].split(".")[0] for p in packs} == {"style03", "style10"}
    home = tmp_path / "home"
    kept_key = _name(3, 0)
    _cache_with(home, {kept_key: images[kept_key]})  # a lossless original already here
    assert unpack_stylized(packs, home) == {"imported": 5, "kept": 1}
    assert set(lossy_entries(home)) == set(images) - {kept_key}
    for key, original in images.items():
        copy, record = _read(home, key)
        assert np.abs(copy.astype(int) - original).max() <= 16 and np.abs(copy.astype(int) - original).mean() < 3
        if key == kept_key:
            assert "lossy_copy" not in record and np.array_equal(copy, original)
        else:
            assert record["lossy_copy"]["original_pixels_sha256"] == pixel_digest(original)
    assert unpack_stylized(packs, home) == {"imported": 0, "kept": 6}
    with pytest.raises(ValueError, match="too small"):
        pack_stylized(source, tmp_path / "tiny", max_bytes=10_240)


# ---------------------------------------------------------------- the rehearsal (slow: runs chapters 01, 02, 06)


def _call(tmp: Path, number: int, *options: str) -> tuple[dict, Path]:
    """One device call: the kit in its own process, a fresh OUT; returns the status and the OUT folder."""
    out = tmp / f"out{number}"
    env = dict(os.environ, NSEM_CACHE=str(tmp / "cache"), MPLBACKEND="Agg")
    env.pop("NSEM_PROFILE", None)
    command = [sys.executable, "benchmarks/gpu_kit.py", "run", "--profile", "ci", "--out", str(out),
               "--work", str(tmp / "work"), "--bundles", str(tmp / "bundles"), "--pack-bytes", str(PACK_BYTES),
               *options]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "NEXT: " in done.stdout.splitlines()[-1]
    files = sorted(out.iterdir())
    assert len(files) <= gpu_device.FILES_PER_CALL and "kit-status.json" in {f.name for f in files}
    assert all(f.stat().st_size <= gpu_device.PACK_LIMIT for f in files)
    assert all(f.stat().st_size <= PACK_BYTES for f in files if f.name.startswith("stylized-"))
    assert sum(f.stat().st_size for f in files) <= gpu_device.BYTES_PER_CALL
    return json.loads((out / "kit-status.json").read_text()), out


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory, bundles):
    tmp = tmp_path_factory.mktemp("kit")
    (tmp / "bundles").symlink_to(bundles)
    statuses, outs = [], []
    for number, options in enumerate((("--budget", "16", "--min-step", "0"), ("--max-steps", "3"), ()), start=1):
        status, out = _call(tmp, number, *options)
        statuses.append(status)
        outs.append(out)
    while statuses[-1]["waiting"] and len(statuses) < 8:  # what is left to send
        status, out = _call(tmp, len(statuses) + 1)
        statuses.append(status)
        outs.append(out)
    tries = {step: entry["tries"] for step, entry in statuses[-1]["steps"].items()}
    final, final_out = _call(tmp, len(statuses) + 1)  # nothing left: redoes nothing, sends nothing
    return {"tmp": tmp, "statuses": statuses, "outs": outs, "tries": tries, "final": final, "final_out": final_out}


def test_rehearsal_interrupts_resumes_and_never_redoes_a_step(rehearsal):
    first, second = rehearsal["statuses"][:2]
    assert first["steps"]["benchmark"]["status"] == "interrupted" and first["new_machine"]
    assert first["sent_now"] == []
    assert [s for s in gpu_device.STEPS if second["steps"][s]["status"] == "done"] == [
        "benchmark",
        "stylize",
        "archive",
    ]
    assert not second["new_machine"]
    assert rehearsal["tries"] == {step: 2 if step == "benchmark" else 1 for step in gpu_device.STEPS}
    final = rehearsal["final"]
    assert final["pending"] == [] and final["waiting"] == [] and final["sent_now"] == []
    assert {step: entry["tries"] for step, entry in final["steps"].items()} == rehearsal["tries"]
    assert [f.name for f in rehearsal["final_out"].iterdir()] == ["kit-status.json"]
    assert len(second["sent_now"]) == gpu_device.FILES_PER_CALL - 1 and second["waiting"]  # the rest came later


def test_rehearsal_brings_everything_home(rehearsal, tmp_path):
    into, cache = tmp_path / "repo", tmp_path / "cache"
    sent = [name for status in rehearsal["statuses"] for name in status["sent_now"]]
    assert len(sent) == len(set(sent))
    for out in rehearsal["outs"]:
        gpu_kit.unpack(out, into, cache)
    run = config.select("ci")
    results = into / run.results.relative_to(ROOT)
    benchmark = json.loads((results / "style_benchmark.json").read_text())
    assert "batched" in benchmark or "sequential" in benchmark
    summary = json.loads((results / "stylize_summary.json").read_text())
    work = run.style
    assert summary["images_written"] == len(work.slices) * len(work.styles) * len(work.steps)
    for name in gpu_device.CHAPTERS.values():
        record = chapters.read_record(into / "notebooks" / "executed" / "ci" / f"{name}.ipynb")
        assert record.profile == "ci" and record.commit == "rehearsal"
    assert (results / "scenarios_summary.json").exists()
    assert any((into / run.figures.relative_to(ROOT)).glob("02_*"))
    with tarfile.open(next(rehearsal["outs"][2].glob("results-*.tar"))) as tar:
        assert all(not name.startswith(("/", "..")) for name in tar.getnames())


def test_rehearsal_stylised_slices_come_home_within_jpeg_tolerance(rehearsal, tmp_path):
    cache = tmp_path / "cache"
    for out in rehearsal["outs"]:
        gpu_kit.unpack(out, tmp_path / "repo", cache)
    there = rehearsal["tmp"] / "cache"
    originals, copies = style_cache.stylized_records(there), style_cache.stylized_records(cache)
    assert set(copies) == set(originals) and set(lossy_entries(cache)) == set(originals)
    exported = {name for name, _ in gpu_device.WEIGHT_FILES.values()}
    assert all(record["weights_file"] in exported for record in originals.values())  # the staged weights were used
    side = config.select("ci").style.crop
    for key in originals:
        original = read_entry(style_cache.stylized_dir(there) / f"{key}.png", originals[key]["key"], side)[0]
        copy = read_entry(style_cache.stylized_dir(cache) / f"{key}.png", copies[key]["key"], side)[0]
        error = np.abs(copy.astype(int) - original)
        assert error.max() <= copies[key]["lossy_copy"]["max_abs_error"] + 1 and error.mean() < 3
    work = config.select("ci").style
    images = load_stylized(cache, work.steps[0], work.styles[0], work.slices, work.crop)  # as chapters read them
    assert images.shape == (len(work.slices), work.crop, work.crop)
    summary = style_cache.stylize_isbi(cache, work.slices, work.styles, work.steps, crop=work.crop, max_batches=0)
    assert summary["skipped"] == summary["requested"] == len(copies)  # nothing to redo
    assert StyleSettings().source == next(iter(copies.values()))["settings"]["vgg"]


def test_kit_records_failures_skips_them_and_sends_at_most_eight_files(tmp_path, monkeypatch):
    outcomes = {"benchmark": ["failed"], "stylize": ["interrupted", "done"], "archive": ["done"], "results": ["done"]}
    ran = []

    def fake(step):
        def run_step(*_):
            ran.append(step)
            if step == "archive":  # many small files to send
                for number in range(12):
                    (kit.outbox / f"stylized-crop64-style{number:02d}.tar").write_bytes(b"x" * 100)
            return outcomes[step].pop(0)

        return run_step

    def new_kit():
        made = gpu_device.Kit(tmp_path / "work", "ci", 555, 0, bundles=tmp_path / "none")
        for step in ("benchmark", "stylize", "archive", "results"):
            monkeypatch.setattr(made, step, fake(step))
        monkeypatch.setattr(made, "chapter", lambda step: ran.append(step) or "done")
        return made

    kit = new_kit()
    first = kit.run(tmp_path / "out1", [])
    assert ran == ["benchmark", "stylize"] and first["steps"]["benchmark"]["status"] == "failed"
    assert "benchmark" in first["failures"] and first["pending"][0] == "stylize"
    kit = new_kit()
    second = kit.run(tmp_path / "out2", [])
    assert ran[2:] == ["stylize", "archive", "chapter01", "chapter02", "chapter06", "results"]
    assert len(list((tmp_path / "out2").iterdir())) == gpu_device.FILES_PER_CALL and len(second["waiting"]) == 5
    assert second["pending"] == [] and "FAILED ['benchmark']" in gpu_device.next_step(second, "ci")
    outcomes["benchmark"].append("done")
    kit = new_kit()
    third = kit.run(tmp_path / "out3", [], retry=["benchmark"])
    assert ran[8:] == ["benchmark"] and third["failures"] == {} and third["waiting"] == []
    assert "kit is finished" in gpu_device.next_step(third, "ci")
