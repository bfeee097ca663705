"""The U-Net boundary detector on real ISBI crops: shapes, targets, same-region patches, learning, determinism,
resume, checkpoint digests, the map, chapter 08's arms and canonical results, bad input."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from helpers.config import UNetWork, select
from helpers.data import DataError, dense_ground_truth, load_training
from helpers.experiments.shifts import appearance_shift
from helpers.paths import CacheError, without_timings
from helpers.segmentation.pipeline import PipelineSettings, load_slices
from helpers.unet import (
    UNet,
    analysis,
    augment_patch,
    boundary_target,
    draw_windows,
    membrane_probability,
    membrane_targets,
    prose,
    sample_batch,
    step_generator,
    train_unet,
    training_targets,
)
from helpers.unet.experiment import arm_name, is_trivial, pixel_scores, run_arms, split_training
from helpers.unet.material import Material, Slice, provenance, training_paintings

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


@pytest.fixture(scope="module")
def small_material(crops) -> Material:
    """Crops of ISBI slices 0-3 for training ("stylised" by two inverted copies) and 24 for testing."""
    raws, labels = crops
    _, _, gts = load_slices([0, 1, 2, 3, 24], None)
    images = [Slice("original", index, raw, label, gt[:CROP, :CROP])
              for index, raw, label, gt in zip([0, 1, 2, 3, 24], raws, labels, gts)]  # fmt: skip
    stylised = [replace(image, condition=f"style{painting:02d}", raw=(255 - image.raw) // divisor)
                for painting, divisor in ((3, 1), (10, 2)) for image in images[:4]]  # fmt: skip
    tests = [
        replace(images[4], condition="clean"),
        replace(images[4], condition="gamma_2", raw=appearance_shift(images[4].raw, "gamma_2", 24)),
    ]
    return Material(images[:4], stylised, tests)


def test_provenance_digests_the_stylised_pixels(small_material):
    record = provenance(small_material)
    assert record["n_stylized_images"] == 8 and len(record["stylized_images"]) == 12
    changed = replace(
        small_material, stylised=[replace(small_material.stylised[0], raw=small_material.stylised[0].raw // 2)]
    )
    assert provenance(changed)["stylized_images"] != record["stylized_images"]


def test_the_edge_forest_slices_are_kept_from_the_unet(small_material):
    """The last slices go to the edge forest only: neither they nor their stylised copies train the U-Net."""
    unet, copies, edge = split_training(small_material, 1)
    assert [image.index for image in edge] == [3] and [image.index for image in unet] == [0, 1, 2]
    assert [[image.index for image in painting] for painting in copies] == [[0, 1, 2], [0, 1, 2]]
    assert [painting[0].condition for painting in copies] == ["style03", "style10"]
    unet, copies, edge = split_training(small_material, 0)
    assert edge == small_material.originals and len(unet) == 4 and len(copies[0]) == 4
    with pytest.raises(ValueError, match="edge_slices = 4 leaves the U-Net none"):
        split_training(small_material, 4)
    with pytest.raises(ValueError, match="no style03 copy of training slices \\[1\\]"):
        kept = [image for image in small_material.stylised if (image.condition, image.index) != ("style03", 1)]
        split_training(replace(small_material, stylised=kept), 1)


def test_the_boundary_target_is_thin_and_on_the_dense_ground_truths_cell_borders(crops):
    raws, labels = crops
    _, (membranes,) = training_targets(raws[:1], labels[:1], "membranes")
    _, (thin,) = training_targets(raws[:1], labels[:1], "boundaries")
    gt = dense_ground_truth(labels[0])  # of the crop, as the target is made
    assert set(np.unique(thin).tolist()) == {0.0, 1.0}
    assert 0.2 * membranes.mean() < thin.mean() < 0.8 * membranes.mean()  # thinner than the membrane mask
    marked = np.flatnonzero(thin.ravel())
    rows, cols = np.unravel_index(marked, thin.shape)
    # every marked pixel has a 4-neighbour of another cell, every unmarked one has none
    neighbours = np.pad(gt, 1, mode="edge")
    differs = np.zeros(gt.shape, bool)
    for dr, dc in ((0, 1), (2, 1), (1, 0), (1, 2)):
        differs |= neighbours[dr : dr + gt.shape[0], dc : dc + gt.shape[1]] != gt
    assert np.array_equal(differs, thin == 1) and len(rows) == len(cols) > 0
    assert np.array_equal(boundary_target(gt), thin)
    with pytest.raises(ValueError, match="unknown U-Net target 'cells'"):
        training_targets(raws[:1], labels[:1], "cells")
    with pytest.raises(ValueError, match="UNetWork.target"):
        replace(WORK, target="cells")


def test_a_style_patch_is_the_same_window_of_a_stylised_copy_of_the_same_slice(crops):
    images, targets = membrane_targets(*[items[:4] for items in crops])
    copies = [[np.full_like(image, 0.25 * (painting + 1)) + 0.001 * image for image in images] for painting in range(3)]
    batch, probability = 400, 0.3
    draws = draw_windows([image.shape for image in images], 32, batch, step_generator(5, 0), 3, probability)
    plain, plain_targets = sample_batch(images, targets, 32, batch, step_generator(5, 0))
    styled, styled_targets = sample_batch(images, targets, 32, batch, step_generator(5, 0), False, copies, probability)
    assert np.array_equal(plain_targets, styled_targets)  # the same windows, the targets of the originals
    for draw, original, patch in zip(draws, plain[:, 0], styled[:, 0]):
        window = (slice(draw.top, draw.top + 32), slice(draw.left, draw.left + 32))
        assert np.array_equal(original, images[draw.image][window])  # the originals arm: always the original
        source = images[draw.image] if draw.style < 0 else copies[draw.style][draw.image]
        assert np.array_equal(patch, source[window])
    styles = np.array([draw.style for draw in draws])
    share = float(np.mean(styles >= 0))
    assert abs(share - probability) < 3 * np.sqrt(probability * (1 - probability) / batch)
    assert set(styles[styles >= 0].tolist()) == {0, 1, 2}
    assert {draw.image for draw in draws} == {0, 1, 2, 3}
    never = draw_windows([image.shape for image in images], 32, batch, step_generator(5, 0), 0, 1.0)
    assert all(draw.style == -1 for draw in never)  # no copies: never a stylised patch
    with pytest.raises(ValueError, match="hold 3 images for 4"):
        sample_batch(images, targets, 32, 2, step_generator(0, 0), stylised=[copies[0][:3]], style_probability=0.5)


def test_the_style_arm_trains_on_its_copies_and_the_originals_arm_ignores_none(crops):
    raws, labels = crops
    work = replace(WORK, iterations=3)
    inverted = [[255 - raw for raw in raws[:4]]]
    plain = train_unet(raws[:4], labels[:4], work, seed=0, progress=False)
    styled = train_unet(raws[:4], labels[:4], work, seed=0, progress=False, stylised=inverted)
    assert plain.fingerprint != styled.fingerprint
    assert not torch.equal(plain.model.head.weight, styled.model.head.weight)
    unstyled = train_unet(raws[:4], labels[:4], replace(work, style_probability=0.0), seed=0, progress=False,
                          stylised=inverted)  # fmt: skip
    assert _same_weights(unstyled.model, plain.model)  # probability 0: the same patches as the originals arm


def test_a_bit_flipped_checkpoint_is_refused(crops, trained, tmp_path):
    raws, labels = crops
    work = replace(WORK, iterations=20)
    train_unet(raws[:4], labels[:4], work, seed=0, checkpoints=tmp_path, progress=False)
    (path,) = tmp_path.glob("unet-*.pt")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(CacheError, match="does not match its recorded digest"):
        train_unet(raws[:4], labels[:4], work, seed=0, checkpoints=tmp_path, progress=False)


def test_trivial_segmentations_and_conditions_are_flagged():
    assert is_trivial(np.zeros((4, 4), int)) and is_trivial(np.arange(16).reshape(4, 4))
    assert not is_trivial(np.array([[0, 0], [1, 1]]))
    rows = pd.DataFrame([
        {"condition": condition, "arm": arm, "trivial": trivial}
        for arm in ("original/none", "style/none")
        for condition, trivial in (("clean", True), ("noise", True), ("blur", arm == "style/none"), ("flyem", True))
    ])  # fmt: skip
    assert analysis.trivial_conditions(rows) == ["noise"]  # clean and FlyEM are not shifts; blur not for every arm
    with pytest.raises(KeyError, match="unknown arm"):
        arm_name("everything", "none")


def _rows(differences: dict[int, float], seeds=(0, 1)) -> pd.DataFrame:
    """Rows of two arms on clean slices 24-29: style/none = original/none + the slice's difference (+ seed noise)."""
    return pd.DataFrame([
        {"arm": arm, "target": "membranes", "seed": seed, "condition": "clean", "slice": index, "trivial": False,
         "v_rand": 0.9 + 0.001 * index + (difference if arm == "style/none" else 0.0) + 0.01 * seed}
        for index, difference in differences.items() for seed in seeds
        for arm in ("original/none", "style/none")
    ])  # fmt: skip


def test_comparisons_pair_arms_on_slices_with_seeds_averaged_and_holm_within_the_family():
    rows = _rows({24: 0.02, 25: 0.03, 26: 0.025, 27: 0.02, 28: 0.035, 29: 0.03})
    table = analysis.comparisons(rows, "membranes")
    (row,) = table.to_dict(orient="records")
    assert (row["arm"], row["reference"], row["group"], row["family"]) == ("style/none", "original/none", "clean",
                                                                           "styles vs originals")  # fmt: skip
    assert row["n_slices"] == 6 and row["n_seeds"] == 2 and row["label"] == "confirmatory"
    assert row["mean_diff"] == pytest.approx(0.16 / 6) and row["frac_better"] == 1.0
    assert row["p_holm"] == pytest.approx(row["p_value"]) and row["supported"]  # one testable comparison
    assert prose.verdict(row) == "better"  # a higher V_rand
    table = prose.comparison_table([row])
    assert table.count("\n") == 2 and "| styles vs originals (confirmatory) |" in table
    assert table.splitlines()[2].startswith("| style/none vs original/none (membranes), clean test slices, ")
    assert table.splitlines()[2].count("|") == 6  # comparison, family (label), difference, p (Holm), verdict


def test_arm_bars_clip_the_intervals_at_zero_and_the_means_table_is_narrow():
    from helpers.viz.unet import arm_bars

    rows = _rows({24: 0.02, 25: -0.03, 26: 0.025}).assign(vi=lambda table: 0.01 * (table["slice"] - 25))
    means = analysis.arm_means(rows, metrics=("v_rand", "vi"))
    assert (means[means["metric"] == "vi"]["low"] < 0).all()  # the t-interval of a VI near 0 reaches below it
    fig = arm_bars(means)
    for ax in fig.axes:
        bars = [line for container in ax.containers if hasattr(container, "lines") for line in container.lines[2]]
        assert bars and min(segment[:, 1].min() for line in bars for segment in line.get_segments()) >= 0
    assert fig.get_size_inches()[0] <= 7.2
    table = prose.means_table(means)
    assert list(table.columns) == ["foreground V_rand", "VI (bits)"]
    assert table.iloc[0, 0] == "0.930"  # original/none: 0.9 + slice / 1000 + 0.005 (seeds), 3 digits kept


def test_results_are_canonical_whatever_the_order_of_the_rows():
    rows = _rows({24: 0.02, 25: -0.01, 26: 0.0})
    both = pd.concat([rows, rows.assign(target="boundaries")], ignore_index=True)
    choice = analysis.choose_target(both)
    assert choice["chosen"] == "membranes"  # a tie goes to the membrane mask
    placement = {"shift": 1, "n_slices": 3, "vi": 0.3, "rand_error": 0.02}
    one = analysis.results_record({"profile": "ci"}, both, choice, placement, {"total_s": 1.0})
    other = analysis.results_record({"profile": "ci"}, both.sample(frac=1, random_state=0), choice, placement,
                                    {"total_s": 2.0})  # fmt: skip
    assert json.dumps(without_timings(one)) == json.dumps(without_timings(other))
    assert [row["slice"] for row in one["rows"][:3]] == [24, 25, 26] and one["unit"] == "slice"
    assert "supported" in prose.conclusion(one) or "nothing is claimed" in prose.conclusion(one)


def test_training_paintings_leave_the_held_out_ones_out():
    assert 13 not in training_paintings(None, (13,)) and len(training_paintings(None, (13,))) == 23
    assert training_paintings((10, 3), (13,)) == (3, 10)
    with pytest.raises(ValueError, match="held-out paintings \\[13\\]"):
        training_paintings((3, 13), (13,))


def test_arms_in_two_workers_give_the_record_of_one(small_material):
    """Every training is deterministic: two worker processes give the results record of one, bit for bit."""
    work = replace(WORK, iterations=80, edge_slices=1)  # 40 steps leave the thin-boundary map without edges
    settings = PipelineSettings(boundary="pixel-rf", rf_trees=20)
    arms = [("original", "none", "membranes"), ("original", "none", "boundaries"), ("style", "none", "membranes")]
    alone = run_arms(small_material, arms, (0, 1), work, settings)
    together = run_arms(small_material, arms, (0, 1), replace(work, workers=2), settings)
    assert sorted(alone) == sorted(together) and len(alone) == 6
    records = []
    for results in (alone, together):
        rows = pd.DataFrame([row for result in results.values() for row in result.rows])
        choice = analysis.choose_target(rows)
        timings = {"seconds": {str(key): result.trained.seconds for key, result in results.items()}}
        record = analysis.results_record({"profile": "test"}, rows, choice, {"shift": 1, "vi": 0.3}, timings)
        records.append(json.dumps(without_timings(record), indent=1))
    assert records[0] == records[1]
    assert alone[("original", "none", "membranes", 0)].rows != alone[("original", "none", "boundaries", 0)].rows
    assert alone[("style", "none", "membranes", 0)].rows != alone[("original", "none", "membranes", 0)].rows
