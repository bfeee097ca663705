"""helpers.style engine options: the GPU path's switches exercised on the CPU, and what batching changes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import data, vgg
from helpers.style import batching, engine, lbfgs, objective, settings
from helpers.style.engine import StyleSettings
from helpers.style.images import as_batch, check_image
from helpers.style.objective import Execution

UDNIE = 21


@pytest.fixture(scope="module")
def crops():
    raw, _ = data.load_training([0, 1])
    return [raw[0][:32, :32], raw[1][:32, :32]]


# --------------------------------------------------------------------------- options and their defaults


def test_auto_options_resolve_by_device_and_engine():
    cpu = StyleSettings()
    for name in ("sequential", "batched"):  # the CPU: the reference path, bit for bit today's results
        assert cpu.execution(name) == Execution(torch.device("cpu"), "fp32", False, "off")
    gpu = StyleSettings(device="cuda")
    assert gpu.execution("batched") == Execution(torch.device("cuda"), "bf16", True, "inductor")
    assert gpu.execution("sequential") == Execution(torch.device("cuda"), "fp32", True, "off")  # the tutorial's
    explicit = StyleSettings(compile="aot_eager", channels_last=True, precision="bf16", batch_size=3.0)
    assert explicit.execution("sequential") == Execution(torch.device("cpu"), "bf16", True, "aot_eager")
    assert explicit.batch_size == 3 and isinstance(explicit.batch_size, int)
    with pytest.raises(ValueError, match="engine"):
        cpu.execution("parallel")


@pytest.mark.parametrize(
    "options, message",
    [
        ({"compile": "fast"}, r"torch.compile backend\) 'fast': choose one of \('auto', 'off', 'inductor'"),
        ({"compile": True}, r"torch.compile backend\) True"),
        ({"channels_last": 1}, "channels_last must be 'auto', True or False, got 1"),
        ({"batch_size": 0}, r"batch_size \(pairs at once, or 'auto'\) must be a whole number in \[1, inf\), got 0"),
        ({"batch_size": "all"}, "batch_size"),
    ],
)
def test_bad_gpu_options_are_refused(options, message):
    with pytest.raises((ValueError, TypeError), match=message):
        StyleSettings(**options)


def test_vgg19_takes_its_own_layers(crops):
    assert set(settings.NETWORK_BLOCKS) == set(vgg.SOURCES)
    deep = StyleSettings(source="vgg19", content_layers=("conv4_4",), style_layers=("conv3_4", "conv5_4"))
    assert settings.NETWORK_BLOCKS["vgg19"] == vgg.VGG19_BLOCKS
    assert vgg.layer_names(settings.NETWORK_BLOCKS["vgg19"]) == objective.get_model("vgg19").names
    with pytest.raises(ValueError, match=r"\['conv5_4'\] unknown"):
        StyleSettings(source="hed", style_layers=("conv5_4",))
    result = engine.stylize(crops[0], UDNIE, 2, deep)
    assert np.isfinite(result.final["total"]) and result.settings["style_layers"] == ["conv3_4", "conv5_4"]


# --------------------------------------------------------------------------- the compiled path on the CPU


def test_compile_and_channels_last_give_the_same_losses_to_rounding(crops):
    """torch.compile (forward and backward) and channels-last on a tiny run: the same losses to rounding.

    The backend is ``aot_eager``: Dynamo and AOTAutograd trace the same forward and backward graphs the GPU
    path compiles, but run them on PyTorch's kernels; inductor's C++ code generation takes minutes on a busy
    2-core CPU (it works here: ``StyleSettings(compile='inductor')`` gave the same losses to 3e-7).
    """
    gpu_path = StyleSettings(compile="aot_eager", channels_last=True)
    plain = engine.stylize_batch(crops[:1], [UDNIE], 4)[0]
    compiled = engine.stylize_batch(crops[:1], [UDNIE], 4, gpu_path)[0]
    assert compiled.settings["compile"] == "aot_eager" and compiled.settings["channels_last"] is True
    assert plain.settings["compile"] == "off" and plain.settings["channels_last"] is False
    # the first two evaluations to float rounding; the chaotic first L-BFGS steps then amplify it a little
    np.testing.assert_allclose(compiled.history["total"][:2], plain.history["total"][:2], rtol=1e-6)
    np.testing.assert_allclose(compiled.history["total"], plain.history["total"], rtol=1e-4)
    assert compiled.final["total"] == pytest.approx(plain.final["total"], rel=1e-4)
    assert np.abs(compiled.image - plain.image).max() < 1 / 255  # under one grey level
    one = engine.stylize(crops[0], UDNIE, 4, gpu_path)  # the one-image loop, same compiled graphs
    assert one.settings["compile"] == "aot_eager" and one.settings["engine"] == "sequential"
    assert one.final["total"] == pytest.approx(engine.stylize(crops[0], UDNIE, 4).final["total"], rel=1e-4)


def test_pairs_run_in_batches_of_batch_size(crops):
    steps = []
    split = engine.stylize_batch(
        crops, [UDNIE, 3], 3, StyleSettings(batch_size=1), snapshots=(2,), on_step=steps.append
    )
    assert steps == [1, 2, 3]  # progress still counts 1..steps over both batches
    for content, style, result in zip(crops, [UDNIE, 3], split):
        alone = engine.stylize_batch([content], [style], 3, snapshots=(2,))[0]
        assert result.settings["batch"] == 1
        assert np.array_equal(result.image, alone.image) and np.array_equal(result.snapshots[2], alone.snapshots[2])
        assert result.final == alone.final


def test_batch_size_from_free_memory():
    model = objective.get_model()
    # conv1_1: 64 x 32 x 32; then relu1_1, conv1_2, relu1_2 alike; pool1 (HED pools 'same'): 64 x 16 x 16
    assert objective.feature_elements(model, (32, 32), ["conv1_1"]) == 64 * 32 * 32
    assert objective.feature_elements(model, (32, 32), ["pool1"]) == 4 * 64 * 32 * 32 + 64 * 16 * 16
    assert objective.feature_elements(model, (33, 33), ["pool1"]) == 4 * 64 * 33 * 33 + 64 * 17 * 17
    layers = ["conv4_2", "conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"]
    bf16 = objective.image_bytes(model, (512, 512), layers, "bf16", 100)
    fp32 = objective.image_bytes(model, (512, 512), layers, "fp32", 100)
    lbfgs_part = 4 * 3 * 512 * 512 * (2 * 100 + objective.LBFGS_EXTRA_VECTORS)
    assert fp32 - lbfgs_part == 2 * (bf16 - lbfgs_part) and 1e9 < bf16 < 2e9
    free = 80 * 2**30  # an idle H100
    assert objective.batch_size_for_memory(free, bf16) == int(free * objective.GPU_MEMORY_FRACTION) // bf16
    assert objective.batch_size_for_memory(0, bf16) == 1


# --------------------------------------------------------------------------- are the images of a batch independent?


def _rows_path(rows: torch.Tensor, steps: int, history_size: int) -> list[torch.Tensor]:
    """Every iterate of BatchLBFGS on a non-convex function of each row (rejected curvature pairs happen)."""
    x, path = rows.clone(), []
    optimiser = lbfgs.BatchLBFGS(rows.shape[0], history_size=history_size)
    for _ in range(steps):
        xg = x.clone().requires_grad_(True)
        value = (torch.sin(3 * xg) + 0.05 * xg**2).sum(1)
        grad = torch.autograd.grad(value.sum(), xg)[0]
        d, t = optimiser.direction(grad)
        x = x + t * d
        path.append(x)
    return path


def test_batch_lbfgs_rows_never_interact_to_the_last_bit():
    """No step size, curvature test, history trim or reduction of BatchLBFGS mixes images: bit for bit."""
    rows = torch.rand(4, 3 * 32 * 32, generator=torch.Generator().manual_seed(0)) * 4
    together = _rows_path(rows, 25, history_size=3)
    for row in (0, 2):
        alone = _rows_path(rows[row : row + 1], 25, history_size=3)
        assert all(torch.equal(a[0], b[row]) for a, b in zip(alone, together))


def _first_gradient(model, contents, styles):
    p = as_batch([check_image(c) for c in contents], "cpu")
    targets = objective.batch_targets(model, p, styles, ("conv4_2",), StyleSettings().style_layers)
    x = p.clone().requires_grad_(True)
    losses = objective.evaluate(model, x, targets, 1.0, 1e-5, None, StyleSettings().execution("batched"))
    return torch.autograd.grad(losses[2].sum(), x)[0][0]


def test_a_batch_changes_an_image_by_rounding_less_than_a_1e6_perturbation(crops, monkeypatch):
    """Batching changes one image's gradient in the last bits only, less than a 1e-6 input perturbation does.

    And it is the only coupling: with the VGG passes (targets and losses) made one image at a time, the batched
    engine gives an image bit for bit its result alone. The chaotic L-BFGS then amplifies that last-bit
    difference as it amplifies a 1e-6 perturbation (the benchmark's noise floor, over 12 pairs).
    """
    model = objective.get_model()
    content = crops[0].astype(np.float32) / 255
    noisy = np.clip(content + 1e-6 * np.random.default_rng(0).standard_normal(content.shape), 0, 1)
    alone = _first_gradient(model, [content], [UDNIE])
    in_batch = _first_gradient(model, [content, crops[1]], [UDNIE, 3])
    perturbed = _first_gradient(model, [noisy.astype(np.float32)], [UDNIE])
    batch_change = float((in_batch - alone).norm() / alone.norm())
    perturbation_change = float((perturbed - alone).norm() / alone.norm())
    assert batch_change < 1e-6 and batch_change < perturbation_change  # a few float32 roundings (eps 6e-8)

    def _image(targets, i):
        return objective.Targets(
            {name: maps[i : i + 1] for name, maps in targets.content.items()},
            {name: gram[i : i + 1] for name, gram in targets.grams.items()},
        )

    def targets_one_at_a_time(model, content, styles, content_layers, style_layers):
        parts = [
            objective.batch_targets(model, content[i : i + 1], styles[i : i + 1], content_layers, style_layers)
            for i in range(content.shape[0])
        ]
        return objective.Targets(
            {name: torch.cat([part.content[name] for part in parts]) for name in content_layers},
            {name: torch.cat([part.grams[name] for part in parts]) for name in style_layers},
        )

    def evaluate_one_at_a_time(model, x, targets, alpha, beta, style_weights, execution):
        parts = [
            objective.evaluate(
                model, x[i : i + 1], _image(targets, i), alpha[i : i + 1], beta[i : i + 1], style_weights, execution
            )
            for i in range(x.shape[0])
        ]
        return tuple(torch.cat(values) for values in zip(*parts))

    monkeypatch.setattr(batching, "batch_targets", targets_one_at_a_time)
    monkeypatch.setattr(batching, "evaluate", evaluate_one_at_a_time)
    paired = engine.stylize_batch(crops, [UDNIE, 3], 4)[0]
    single = engine.stylize_batch(crops[:1], [UDNIE], 4)[0]
    assert np.array_equal(paired.image, single.image) and np.array_equal(
        paired.history["total"], single.history["total"]
    )
