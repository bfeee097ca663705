"""The U-Net membrane detector on real ISBI crops: shapes, learning, determinism, resume, the map, bad input."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from helpers.config import UNetWork, select
from helpers.data import DataError, load_training
from helpers.experiments.shifts import appearance_shift
from helpers.paths import CacheError
from helpers.segmentation.pipeline import PipelineSettings, load_slices
from helpers.unet import (
    UNet,
    augment_patch,
    membrane_probability,
    membrane_targets,
    sample_batch,
    step_generator,
    train_unet,
)
from helpers.unet.analysis import comparison_line, comparisons, detector_of
from helpers.unet.experiment import Material, Slice, arm_name, pixel_scores, provenance, run_arms, split_training
from helpers.unet.forests import forest_arm_name, run_forest_arm, run_forest_arms

CROP = 96
WORK = UNetWork(
    iterations=40, patch=32, batch=4, width=4, depth=2, learning_rate=5e-3, seeds=(0,), checkpoint_every=10,
    tile=64, threads=1,
)  # fmt: skip


@pytest.fixture(scope="module")
def crops() -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Top-left 96 px crops of ISBI slices 0-3 (training) and 24 (held out, last)."""
    raw, labels = load_training([0, 1, 2, 3, 24])
    return [image[:CROP, :CROP] for image in raw], [label[:CROP, :CROP] for label in labels]


@pytest.fixture(scope="module")
def trained(crops):
    raws, labels = crops
    return train_unet(raws[:4], labels[:4], WORK, seed=0, progress=False)


def _weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: value.clone() for name, value in model.state_dict().items()}


def _same_weights(first: torch.nn.Module, second: torch.nn.Module) -> bool:
    one, two = _weights(first), _weights(second)
    return one.keys() == two.keys() and all(torch.equal(one[name], two[name]) for name in one)


def test_output_has_the_input_size():
    torch.manual_seed(0)
    model = UNet(width=4, depth=3).eval()
    with torch.no_grad():
        logits = model(torch.zeros(2, 1, 48, 64))
    assert logits.shape == (2, 1, 48, 64)


def test_patches_and_augmentation_keep_labels_binary_and_pixels_in_range(crops):
    images, targets = membrane_targets(*[items[:4] for items in crops])
    assert 0.1 < float(np.mean([target.mean() for target in targets])) < 0.4  # ISBI: about a fifth is membrane
    pixels, labels = sample_batch(images, targets, 32, 6, step_generator(0, 0), augment=True)
    assert pixels.shape == labels.shape == (6, 1, 32, 32)
    assert pixels.min() >= 0.0 and pixels.max() <= 1.0
    assert set(np.unique(labels).tolist()) <= {0.0, 1.0}
    again, _ = sample_batch(images, targets, 32, 6, step_generator(0, 0), augment=True)
    assert np.array_equal(pixels, again)
    other, _ = sample_batch(images, targets, 32, 6, step_generator(0, 1), augment=True)
    assert not np.array_equal(pixels, other)


def test_elastic_deformation_moves_pixels_and_labels_together(crops):
    images, targets = membrane_targets(crops[0][:1], crops[1][:1])
    image, target = images[0][:64, :64], targets[0][:64, :64]
    moved, moved_target = augment_patch(image, target, np.random.default_rng(3))
    assert not np.array_equal(moved_target, target)
    # the membrane label still sits on dark pixels after the deformation
    assert moved[moved_target == 1].mean() < moved[moved_target == 0].mean() - 0.1


def test_training_lowers_the_loss_on_real_crops(crops, trained):
    images, targets = membrane_targets(crops[0][:4], crops[1][:4])
    pixels, target = sample_batch(images, targets, 32, 16, np.random.default_rng(99))
    torch.manual_seed(0)
    untrained = UNet(WORK.width, WORK.depth).eval()
    loss = torch.nn.BCEWithLogitsLoss()
    with torch.no_grad():
        before = float(loss(untrained(torch.from_numpy(pixels)), torch.from_numpy(target)))
        after = float(loss(trained.model(torch.from_numpy(pixels)), torch.from_numpy(target)))
    assert after < 0.8 * before
    assert np.mean(trained.losses[-10:]) < np.mean(trained.losses[:10])


def test_two_runs_give_the_same_weights_and_another_seed_does_not(crops, trained):
    raws, labels = crops
    again = train_unet(raws[:4], labels[:4], WORK, seed=0, progress=False)
    assert _same_weights(again.model, trained.model)
    assert again.losses == trained.losses
    other = train_unet(raws[:4], labels[:4], replace(WORK, iterations=2), seed=1, progress=False)
    assert not torch.equal(other.model.head.weight, trained.model.head.weight)


def test_resume_after_an_interruption_equals_an_uninterrupted_run(crops, trained, tmp_path):
    raws, labels = crops

    def interrupt(step: int, loss: float) -> None:
        if step == 25:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_unet(raws[:4], labels[:4], WORK, seed=0, checkpoints=tmp_path, progress=False, on_step=interrupt)
    assert len(list(tmp_path.glob("unet-*.pt"))) == 1 and not list(tmp_path.glob(".*.tmp"))
    resumed = train_unet(raws[:4], labels[:4], WORK, seed=0, checkpoints=tmp_path, progress=False)
    assert resumed.resumed_at == 20  # the last checkpoint before step 25
    assert _same_weights(resumed.model, trained.model)
    assert resumed.losses == trained.losses
    loaded = train_unet(raws[:4], labels[:4], WORK, seed=0, checkpoints=tmp_path, progress=False)
    assert loaded.resumed_at == WORK.iterations and _same_weights(loaded.model, trained.model)


def test_a_damaged_checkpoint_is_named(crops, trained, tmp_path):
    raws, labels = crops
    path = tmp_path / f"unet-{trained.fingerprint}.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CacheError, match=path.name):
        train_unet(raws[:4], labels[:4], WORK, seed=0, checkpoints=tmp_path, progress=False)


def test_the_map_is_higher_on_membranes_than_in_cells_of_a_held_out_slice(crops, trained):
    raws, labels = crops
    probability = membrane_probability(trained.model, raws[4], tile=WORK.tile, threads=1)
    assert probability.shape == raws[4].shape and probability.dtype == np.float32
    assert probability.min() >= 0.0 and probability.max() <= 1.0
    membrane = labels[4] == 0
    assert probability[membrane].mean() > probability[~membrane].mean() + 0.1


def test_tiles_agree_with_one_pass_away_from_tile_borders(crops, trained):
    raw = crops[0][4]
    whole = membrane_probability(trained.model, raw, tile=256, halo=16)
    tiled = membrane_probability(trained.model, raw, tile=64, halo=16)
    assert np.abs(whole - tiled).mean() < 0.02


def test_bad_input_errors(crops):
    raws, labels = crops
    with pytest.raises(ValueError, match="differ"):
        train_unet(raws[:2], [labels[0][:50, :50], labels[1]], WORK, seed=0, progress=False)
    with pytest.raises(DataError, match="not binary"):
        train_unet(raws[:1], [np.full_like(labels[0], 7)], WORK, seed=0, progress=False)
    with pytest.raises(ValueError, match="smaller than the 32 px patch"):
        train_unet([raws[0][:20, :20]], [labels[0][:20, :20]], WORK, seed=0, progress=False)
    with pytest.raises(ValueError, match="no training images"):
        train_unet([], [], WORK, seed=0, progress=False)
    with pytest.raises(ValueError, match="2D"):
        membrane_probability(UNet(4, 2), np.stack(raws[:2]))
    with pytest.raises(ValueError, match="outside"):
        membrane_probability(UNet(4, 2), raws[0].astype(np.float32))
    with pytest.raises(ValueError, match="multiple"):
        UNet(4, 2)(torch.zeros(1, 1, 30, 32))
    with pytest.raises(ValueError, match="multiple of 2\\*\\*depth"):
        replace(WORK, patch=30)
    assert select("ci").unet.iterations < select("reduced").unet.iterations < select("full").unet.iterations


def test_pixel_scores_of_perfect_and_inverted_maps(crops):
    labels = crops[1][0]
    perfect = (labels == 0).astype(np.float32)
    assert pixel_scores(perfect, labels) == {"auc": 1.0, "f1": 1.0}
    inverted = pixel_scores(1.0 - perfect, labels)
    assert inverted["auc"] == 0.0 and inverted["f1"] == 0.0


def test_paired_comparisons_pair_arms_on_seed_condition_and_slice():
    rows = pd.DataFrame([
        {"arm": arm, "seed": seed, "condition": condition, "slice": index, "rand_error": error}
        for seed in (0, 1) for condition in ("clean", "noise") for index in (24, 25)
        for arm, error in (("original/none", 0.3 + 0.01 * index - 0.2), ("style/none", 0.2 + 0.01 * index - 0.2))
    ])  # fmt: skip
    table = comparisons(rows, pairs=[("style/none", "original/none")], metrics=["rand_error"])
    clean = table[table["group"] == "clean"].iloc[0]
    assert clean["n_pairs"] == 4 and clean["mean_diff"] == pytest.approx(-0.1)
    assert set(table["group"]) == {"clean", "shifts"}
    assert "(better)" in comparison_line(clean)
    with pytest.raises(KeyError, match="unknown arm"):
        arm_name("everything", "none")


@pytest.fixture(scope="module")
def small_material(crops) -> Material:
    """Crops of ISBI slices 0-3 for training (slice 3 also "stylised" by an inverted copy) and 24 for testing."""
    raws, labels = crops
    _, _, gts = load_slices([0, 1, 2, 3, 24], None)
    images = [Slice("original", index, raw, label, gt[:CROP, :CROP])
              for index, raw, label, gt in zip([0, 1, 2, 3, 24], raws, labels, gts)]  # fmt: skip
    stylised = [replace(images[3], condition="style03", raw=255 - images[3].raw)]
    tests = [
        replace(images[4], condition="clean"),
        replace(images[4], condition="gamma_2", raw=appearance_shift(images[4].raw, "gamma_2", 24)),
    ]
    return Material(images[:4], stylised, tests)


def test_forest_arms_score_every_test_image_and_styles_change_the_frangi_arm(small_material):
    settings = PipelineSettings(rf_trees=20)
    original = pd.DataFrame(run_forest_arm(small_material, "frangi", "original", "none", 0, settings))
    styled = pd.DataFrame(run_forest_arm(small_material, "frangi", "style", "percentile", 0, settings))
    assert list(original["condition"]) == ["clean", "gamma_2"] and set(original["arm"]) == {"frangi:original/none"}
    assert set(styled["arm"]) == {"frangi:style/percentile"} and set(styled["intensity"]) == {"percentile"}
    assert original["rand_error"].between(0, 1).all() and (original["v_rand"] > 0).all()
    assert not np.allclose(original["vi"], styled["vi"])
    rows = run_forest_arms(small_material, ["none"], [0], settings, pipelines=["pixel-rf"], progress=False)
    assert {row["arm"] for row in rows} == {"pixel-rf:original/none", "pixel-rf:style/none"} and len(rows) == 4
    with pytest.raises(KeyError, match="unknown forest arm"):
        forest_arm_name("unet", "original", "none")


def test_provenance_digests_the_stylised_pixels(small_material):
    record = provenance(small_material)
    assert record["n_stylized_images"] == 1 and len(record["stylized_images"]) == 12
    changed = replace(
        small_material, stylised=[replace(small_material.stylised[0], raw=small_material.stylised[0].raw // 2)]
    )
    assert provenance(changed)["stylized_images"] != record["stylized_images"]


def test_forest_arms_are_compared_per_detector():
    rows = pd.DataFrame([
        {"arm": arm, "seed": 0, "condition": "flyem", "slice": index, "rand_error": error + 0.01 * index}
        for index in range(4)
        for arm, error in (("frangi:original/none", 0.5), ("frangi:style/none", 0.4), ("style/none", 0.3))
    ])  # fmt: skip
    table = comparisons(rows, metrics=["rand_error"])
    assert list(table["arm"]) == ["frangi:style/none"] and list(table["detector"]) == ["frangi"]
    assert table.iloc[0]["mean_diff"] == pytest.approx(-0.1)
    assert detector_of("pixel-rf:style/none") == "pixel-rf" and detector_of("style+plain/none") == "U-Net"


def test_the_edge_forest_slices_are_kept_from_the_unet(small_material):
    """The last slices go to the edge forest only: neither they nor their stylised copies train the U-Net."""
    unet, edge = split_training(small_material, 1)
    assert [image.index for image in edge] == [3] and all(image.index != 3 for image in unet)
    assert [image.index for image in unet] == [0, 1, 2]  # slice 3's stylised copy left out too
    unet, edge = split_training(small_material, 0)
    assert edge == small_material.originals and len(unet) == 5
    with pytest.raises(ValueError, match="edge_slices = 4 leaves the U-Net none"):
        split_training(small_material, 4)


def test_arms_in_two_workers_give_the_rows_of_one(small_material):
    """Every training is deterministic: two worker processes give the rows of one process, bit for bit."""
    work = replace(WORK, seeds=(0, 1), edge_slices=1)
    settings = PipelineSettings(boundary="pixel-rf", rf_trees=20)
    arms = [("original", "none")]
    alone = dict(run_arms(small_material, arms, work, settings))
    together = dict(run_arms(small_material, arms, replace(work, workers=2), settings))
    assert sorted(alone) == sorted(together) == [("original", "none", 0), ("original", "none", 1)]
    for key, result in alone.items():
        assert result.rows == together[key].rows and result.trained.fingerprint == together[key].trained.fingerprint
    assert alone[("original", "none", 0)].rows != alone[("original", "none", 1)].rows
