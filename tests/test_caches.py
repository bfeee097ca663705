"""Caches that heal themselves: damaged files are reported by name and recomputed, other inputs give other files.

Stylised-slice cache (digest-named PNGs carrying their records), experiment units (JSON), Frangi graphs
(pickles), temporary files of killed writers, file permissions, and the provenance recorded with the results.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import pickle

import numpy as np
import pandas as pd
import pytest

from helpers import config, paths
from helpers.experiments import runner, scenarios, splits, unit_cache
from helpers.experiments.unit_graphs import GraphCache
from helpers.paths import CacheError, write_checked_json
from helpers.segmentation.pipeline import GraphData
from helpers.style import cache, engine, pngs
from helpers.style.settings import StyleSettings

KWARGS = {"crop": 32, "batch_size": 2, "progress": False}
SETTINGS_RECORD = cache.cached_settings(StyleSettings())


@pytest.fixture
def stylised(tmp_path, monkeypatch):
    """A cache with slices 0 and 1 stylised with painting 3 at 2 steps, and a counter of engine calls."""
    calls = []
    real = engine.stylize_batch

    def counting(contents, *args, **kwargs):
        calls.append(len(contents))
        return real(contents, *args, **kwargs)

    monkeypatch.setattr(engine, "stylize_batch", counting)
    assert cache.stylize_isbi(tmp_path, [0, 1], [3], [2], **KWARGS)["done"] == 2
    calls.clear()
    return tmp_path, calls


def _png(cache_root, slice_index=0, settings=SETTINGS_RECORD):
    return cache.entry(cache_root, settings, 3, slice_index, 32, 2)[1]


def test_each_image_is_one_file_named_by_its_inputs_and_carrying_its_record(stylised):
    root, _ = stylised
    files = sorted(path.name for path in cache.stylized_dir(root).iterdir())
    assert files == [_png(root, 0).name, _png(root, 1).name] and files[0].startswith("slice00_style03_steps002_crop32_")
    records = cache.stylized_records(root)
    assert sorted(records) == [_png(root, 0).stem, _png(root, 1).stem]
    record = records[_png(root, 1).stem]
    assert (record["slice"], record["style"], record["steps"], record["crop"]) == (1, 3, 2, 32)
    assert record["key"] == _png(root, 1).stem.rsplit("_", 1)[1] and record["settings"] == SETTINGS_RECORD
    assert record["pixels_sha256"] == pngs.pixel_digest(cache.load_stylized(root, 2, 3, [1], crop=32)[0])


def test_a_truncated_png_is_named_when_read_and_recomputed_by_the_next_run(stylised, caplog):
    root, calls = stylised
    intact = cache.load_stylized(root, 2, 3, [0, 1], crop=32)
    path = _png(root)
    path.write_bytes(path.read_bytes()[:-40])  # a write cut short by a full disk or a crash
    with pytest.raises(CacheError, match=f"damaged cache file {path}.*deleted: rerun the stylisation") as error:
        cache.load_stylized(root, 2, 3, [0, 1], crop=32)
    assert isinstance(error.value, ValueError) and error.value.path == path and not path.exists()
    path.write_bytes(b"\x89PNG half of it")  # damaged again, now found by the next run
    with caplog.at_level(logging.WARNING):
        summary = cache.stylize_isbi(root, [0, 1], [3], [2], **KWARGS)
    assert summary["done"] == 1 and summary["skipped"] == 1 and calls == [1]  # only the damaged image
    assert str(path) in caplog.text and "deleted, it is computed again" in caplog.text
    np.testing.assert_array_equal(cache.load_stylized(root, 2, 3, [0, 1], crop=32), intact)  # same image again


def test_a_png_of_another_shape_other_pixels_or_another_key_is_not_trusted(stylised, caplog):
    root, calls = stylised
    record = pngs.embedded_record(_png(root))
    _png(root).write_bytes(pngs.png_bytes(np.zeros((16, 16), np.uint8), record))  # e.g. copied from another crop
    with pytest.raises(CacheError, match=r"shape \(16, 16\), expected \(32, 32\)"):
        cache.load_stylized(root, 2, 3, [0], crop=32)
    other = _png(root, 1)
    other.write_bytes(pngs.png_bytes(np.zeros((32, 32), np.uint8), pngs.embedded_record(other)))  # other pixels
    with pytest.raises(CacheError, match="digest"):
        cache.load_stylized(root, 2, 3, [1], crop=32)
    assert cache.stylize_isbi(root, [0, 1], [3], [2], **KWARGS)["done"] == 2 and calls == [2]
    renamed = _png(root, 1).with_name(_png(root, 0).name)  # the right pixels and digest, under another key
    _png(root, 0).unlink()
    _png(root, 1).rename(renamed)
    with pytest.raises(CacheError, match="made from other inputs"):
        cache.load_stylized(root, 2, 3, [0], crop=32)
    assert cache.stylize_isbi(root, [0, 1], [3], [2], **KWARGS)["done"] == 2
    assert cache.load_stylized(root, 2, 3, [0, 1], crop=32).shape == (2, 32, 32)


def test_other_settings_or_engine_version_give_other_files_never_mixed(stylised, monkeypatch):
    root, calls = stylised
    first = cache.load_stylized(root, 2, 3, [0], crop=32)
    other = StyleSettings(init="noise")
    with pytest.raises(FileNotFoundError, match=r"stylised slices \[0\]"):
        cache.load_stylized(root, 2, 3, [0], crop=32, settings=other)
    assert cache.stylize_isbi(root, [0], [3], [2], settings=other, **KWARGS)["done"] == 1 and calls == [1]
    assert _png(root, 0, cache.cached_settings(other)) != _png(root, 0) and _png(root, 0).exists()
    assert not np.array_equal(cache.load_stylized(root, 2, 3, [0], crop=32, settings=other), first)
    np.testing.assert_array_equal(cache.load_stylized(root, 2, 3, [0], crop=32), first)  # the first run's image
    monkeypatch.setattr(cache, "ENGINE_VERSION", 2)  # a change to the engines that changes their pixels
    with pytest.raises(FileNotFoundError):
        cache.load_stylized(root, 2, 3, [0], crop=32)
    assert cache.stylize_isbi(root, [0, 1], [3], [2], **KWARGS)["done"] == 2


def test_a_nan_loss_never_marks_an_image_finished_and_heals_on_the_next_run(tmp_path, monkeypatch, caplog):
    real = engine.stylize_batch

    def diverging(*args, **kwargs):
        results = real(*args, **kwargs)
        results[0].snapshot_losses[2] = {"content": float("nan"), "style": float("inf"), "total": float("nan")}
        return results

    monkeypatch.setattr(engine, "stylize_batch", diverging)
    with caplog.at_level(logging.WARNING):
        summary = cache.stylize_isbi(tmp_path, [0, 1], [3], [2], **KWARGS)
    name = _png(tmp_path).stem
    assert summary["failed"] == [name] and summary["done"] == 1 and f"{name}.png: loss" in caplog.text
    assert not _png(tmp_path).exists() and list(cache.stylized_records(tmp_path)) == [_png(tmp_path, 1).stem]
    with pytest.raises(FileNotFoundError, match=r"stylised slices \[0\]"):
        cache.load_stylized(tmp_path, 2, 3, [0, 1], crop=32)
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):  # NaN never written
        pngs.write_entry(_png(tmp_path), np.zeros((32, 32), np.uint8), "k", {"losses": {"total": float("nan")}})
    assert not _png(tmp_path).exists()

    monkeypatch.setattr(engine, "stylize_batch", real)  # the next run: the optimiser behaves
    summary = cache.stylize_isbi(tmp_path, [0, 1], [3], [2], **KWARGS)
    assert summary["done"] == 1 and summary["skipped"] == 1 and summary["failed"] == []
    assert np.isfinite(cache.stylized_records(tmp_path)[name]["losses"]["total"])


def test_stale_temporary_files_of_a_killed_run_are_removed_and_live_ones_kept(stylised):
    root, _ = stylised
    folder = cache.stylized_dir(root)
    dead = folder / f".{_png(root, 0).name}.999999999.abcd1234.tmp"  # no such process
    live = folder / f".{_png(root, 1).name}.{os.getpid()}.efgh5678.tmp"  # a writer still at work
    old = folder / f".{_png(root, 1).name}.ijkl9012.tmp"  # the older naming, without a process id
    for path in (dead, live, old):
        path.write_bytes(b"half a png")
    os.utime(old, (0, 0))
    cache.stylize_isbi(root, [0, 1], [3], [2], **KWARGS)
    assert not dead.exists() and not old.exists() and live.exists()
    # a chapter killed while writing a result: its rerun's result_path removes the leftover
    run = dataclasses.replace(config.select("ci"), results=root / "results")
    leftover = root / "results" / ".scenarios.csv.999999999.mnop3456.tmp"
    leftover.parent.mkdir()
    leftover.write_text("half a table")
    assert run.result_path("scenarios.csv") == root / "results" / "scenarios.csv" and not leftover.exists()


def test_atomic_writes_get_the_permissions_of_a_normal_write(tmp_path):
    previous = os.umask(0o022)
    try:
        paths.atomic_write_text(tmp_path / "a.json", "{}")
        (tmp_path / "b.json").write_text("{}")
        os.umask(0o077)
        paths.atomic_write_bytes(tmp_path / "c.bin", b"")
    finally:
        os.umask(previous)
    mode = {name: (tmp_path / name).stat().st_mode & 0o777 for name in ("a.json", "b.json", "c.bin")}
    assert mode == {"a.json": 0o644, "b.json": 0o644, "c.bin": 0o600}


# --------------------------------------------------------------------------- experiment units and graphs

SETTINGS = runner.UnitSettings(styles=(3,), heldout=(13,), one_style=3, trees=10, max_samples=None)


def _fake_stylized(steps, style, slices, crop, darker=0):
    raw, _ = scenarios.load_training(list(slices))
    return np.stack([np.clip(r[:crop, :crop].astype(int) - style - darker, 0, 255).astype(np.uint8) for r in raw])


@pytest.fixture(scope="module")
def store():
    return scenarios.SliceStore(range(4), 96, _fake_stylized)


@pytest.fixture
def one_unit(store, tmp_path):
    split = splits.make_splits(tuple(range(4)), 2, (0,))[0]
    unit = runner.Unit("frangi", 4, "one_style", split)
    first = runner.run_all(store, [unit], tmp_path, SETTINGS, progress=False)
    return unit, first, runner.unit_path(tmp_path, store, unit, SETTINGS)


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_text(path.read_text()[:-30]),  # truncated
        lambda path: write_checked_json(path, json.loads(path.read_text())["value"][:-1]),  # a row short
        lambda path: path.write_text(path.read_text().replace('"vi": ', '"vi": NaN, "_": ', 1)),  # NaN score
        lambda path: path.write_text(path.read_text().replace('"rand_error": 0.', '"rand_error": 0.0', 1)),  # edited
        lambda path: path.write_text("{}"),  # not a list of rows
    ],
    ids=["truncated", "row missing", "NaN", "edited score", "not rows"],
)
def test_a_damaged_unit_file_is_named_and_recomputed(store, tmp_path, one_unit, damage, caplog):
    unit, first, path = one_unit
    damage(path)
    with pytest.raises(CacheError, match=str(path)):
        unit_cache.read_rows(path, unit, SETTINGS)
    with caplog.at_level(logging.WARNING):
        again = runner.run_all(store, [unit], tmp_path, SETTINGS, progress=False)
    assert (again.computed, again.loaded) == (1, 0) and str(path) in caplog.text
    pd.testing.assert_frame_equal(again.rows, first.rows)
    assert runner.run_all(store, [unit], tmp_path, SETTINGS, progress=False).loaded == 1  # healed for good


def test_a_stale_unit_is_detected_reported_and_recomputed_not_mixed(store, tmp_path, one_unit, caplog):
    unit, first, path = one_unit
    recomputed = scenarios.SliceStore(range(4), 96, lambda *a: _fake_stylized(*a, darker=20))  # new stylised cache
    with caplog.at_level(logging.WARNING):
        changed = runner.run_all(recomputed, [unit], tmp_path, SETTINGS, progress=False)
    assert (changed.computed, changed.loaded) == (1, 0)
    assert f"{path} is stale" in caplog.text and not path.exists()  # said so, and the old rows are gone
    assert [p.name for p in tmp_path.glob("*.json")] == [runner.unit_path(tmp_path, recomputed, unit, SETTINGS).name]
    assert changed.provenance["stylized_images"] != first.provenance["stylized_images"]
    assert changed.provenance["settings"] == first.provenance["settings"]
    other_trees = runner.UnitSettings(**{**SETTINGS.__dict__, "trees": 11})
    assert runner.unit_path(tmp_path, store, unit, other_trees) != path  # settings are part of the digest too


def test_results_record_their_provenance_and_a_changed_one_is_reported(store, tmp_path, one_unit, caplog):
    unit, first, _ = one_unit
    csv = tmp_path / "results" / "scenarios.csv"
    runner.write_rows(first.rows, csv, "ci")
    recorded = json.loads(runner.provenance_path(csv).read_text())
    assert recorded == {"profile": "ci", **first.provenance} and recorded["n_stylized_images"] == 2 + 2
    runner.write_rows(first.rows, csv, "ci")
    assert "digest" not in caplog.text  # same inputs: nothing to say
    recomputed = scenarios.SliceStore(range(4), 96, lambda *a: _fake_stylized(*a, darker=20))
    changed = runner.run_all(recomputed, [unit], tmp_path / "units2", SETTINGS, progress=False)
    with caplog.at_level(logging.WARNING):
        runner.write_rows(changed.rows, csv, "ci")
    assert f"stylized images with digest {first.provenance['stylized_images']}" in caplog.text
    assert changed.provenance["stylized_images"] in caplog.text


def test_a_damaged_graph_pickle_is_named_and_rebuilt(store, tmp_path, caplog):
    graphs = GraphCache(tmp_path)
    image = store.original(0)
    settings = unit_cache.pipeline_settings(runner.Unit("frangi", 4, "original", splits.Split("s", 0, 0, (0,), (1,))),
                                       SETTINGS)  # fmt: skip
    built = graphs.get(image, settings, True)
    (pickled,) = tmp_path.glob("*.pkl")
    pickled.write_bytes(pickled.read_bytes()[:50])
    with caplog.at_level(logging.WARNING):
        again = GraphCache(tmp_path).get(image, settings, True)
    assert str(pickled) in caplog.text and "built again" in caplog.text
    np.testing.assert_array_equal(again.superpixels, built.superpixels)
    pickled.write_bytes(pickle.dumps(store.original(1)))  # loads, but is no graph of this image
    with caplog.at_level(logging.WARNING):
        GraphCache(tmp_path).get(image, settings, True)
    assert "not the graph of this image" in caplog.text
    assert isinstance(pickle.loads(pickled.read_bytes()), GraphData)


def test_a_graph_pickle_of_another_graph_layout_is_never_read(store, monkeypatch):
    from helpers.experiments import unit_graphs

    image = store.original(0)
    settings = unit_cache.pipeline_settings(runner.Unit("frangi", 4, "original", splits.Split("s", 0, 0, (0,), (1,))),
                                       SETTINGS)  # fmt: skip
    assert all(field.name in unit_graphs.GRAPH_LAYOUT for field in dataclasses.fields(GraphData))
    before = GraphCache().name(image, settings, True)
    monkeypatch.setattr(unit_graphs, "GRAPH_LAYOUT", unit_graphs.GRAPH_LAYOUT.replace("features, ", ""))
    assert GraphCache().name(image, settings, True) != before  # a field less: another file
