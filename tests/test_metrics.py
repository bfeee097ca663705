"""Segmentation metrics: zero for identical segmentations, agreement with scikit-image and hand counts."""

from __future__ import annotations

import numpy as np
import pytest
from elf.evaluation import rand_index
from skimage.metrics import variation_of_information as skimage_vi

from helpers.data import dense_ground_truth, load_training
from helpers.segmentation import metrics


@pytest.fixture(scope="module")
def isbi_crop():
    _, labels = load_training([24])
    crop = labels[0, :128, :128]
    return crop, dense_ground_truth(crop)


def test_identical_segmentations_score_perfectly(isbi_crop):
    labels, gt = isbi_crop
    relabelled = (gt * 7 + 3).astype(np.uint32)  # same partition, other ids
    assert metrics.rand_error(relabelled, gt) == pytest.approx(0.0, abs=1e-12)
    split, merge = metrics.variation_of_information(relabelled, gt)
    assert split == pytest.approx(0.0, abs=1e-9) and merge == pytest.approx(0.0, abs=1e-9)
    isbi = metrics.isbi_scores(metrics.foreground_cells(labels), labels)
    assert isbi["v_rand"] == pytest.approx(1.0) and isbi["v_info"] == pytest.approx(1.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vi_matches_scikit_image_on_random_segmentations(seed):
    rng = np.random.default_rng(seed)
    gt = rng.integers(0, 6, (50, 60))
    seg = rng.integers(0, 9, (50, 60))
    split, merge = metrics.variation_of_information(seg, gt)
    expected_split, expected_merge = skimage_vi(gt, seg)  # H(seg|gt), H(gt|seg), bits
    assert split == pytest.approx(expected_split, rel=1e-9)
    assert merge == pytest.approx(expected_merge, rel=1e-9)
    assert split > 0.5 and merge > 0.5


def test_rand_error_by_hand_and_close_to_elf():
    gt = np.array([[1, 1, 2, 2]])
    seg = np.array([[1, 1, 1, 2]])
    # distinct pixel pairs together in gt: 2; in seg: 3; in both: 1 -> precision 1/3, recall 1/2
    precision, recall = 1 / 3, 1 / 2
    assert metrics.rand_error(seg, gt) == pytest.approx(1 - 2 * precision * recall / (precision + recall))
    rng = np.random.default_rng(3)
    gt = rng.integers(0, 4, (200, 200))
    seg = np.where(rng.random((200, 200)) < 0.8, gt, rng.integers(0, 4, (200, 200)))
    elf_error = rand_index(seg.astype(np.uint64), gt.astype(np.uint64))[0]
    assert metrics.rand_error(seg, gt) == pytest.approx(elf_error, abs=1e-3)


def test_trivial_segmentations_are_penalised_on_the_right_side(isbi_crop):
    _, gt = isbi_crop
    one = np.ones_like(gt)
    split, merge = metrics.variation_of_information(one, gt)
    assert split == pytest.approx(0.0, abs=1e-9) and merge > 1.0
    singletons = np.arange(gt.size).reshape(gt.shape)
    split, merge = metrics.variation_of_information(singletons, gt)
    assert merge == pytest.approx(0.0, abs=1e-9) and split > 5.0
    assert metrics.rand_error(one, gt) > 0.5 and metrics.rand_error(singletons, gt) == pytest.approx(1.0)


def test_isbi_scores_count_only_cell_pixels():
    labels = np.full((4, 7), 255, dtype=np.uint8)
    labels[:, 3] = 0  # a membrane column splits two cells of 12 pixels each
    cells = metrics.foreground_cells(labels)
    assert len(np.unique(cells)) == 3
    # a segmentation that is wrong only on the membrane is perfect for ISBI
    seg = np.where(labels == 0, 99, cells).astype(np.uint32)
    assert metrics.isbi_scores(seg, labels) == {"v_rand": pytest.approx(1.0), "v_info": pytest.approx(1.0)}
    # merging the two cells: p = (1/2, 1/2) in one segment -> V_rand = 0.5 / (0.5 * 1 + 0.5 * 0.5)
    merged = np.ones((4, 7), dtype=np.uint32)
    assert metrics.isbi_scores(merged, labels)["v_rand"] == pytest.approx(0.5 / 0.75)
    assert metrics.isbi_scores(merged, labels)["v_info"] == pytest.approx(0.0, abs=1e-12)


def test_mismatched_shapes_raise_a_clear_error():
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.rand_error(np.zeros((4, 4), int), np.zeros((4, 5), int))
    with pytest.raises(TypeError, match="integer labels"):
        metrics.variation_of_information(np.zeros((4, 4)), np.zeros((4, 4), int))


def test_the_placement_reference_grows_with_the_shift_and_is_zero_without_one():
    _, labels = load_training([24])
    gts = dense_ground_truth(labels)
    gt = gts[0]
    one, two = metrics.placement_reference(gt, shift=1), metrics.placement_reference(gt, shift=2)
    assert one["shift"] == 1 and 0 < one["vi"] < two["vi"] and 0 < one["rand_error"] < two["rand_error"]
    # by hand: the mean of the shifts along rows and columns, each scored on the pixels both cover
    rows = metrics.evaluate(gt[1:], gt[:-1])
    columns = metrics.evaluate(gt[:, 1:], gt[:, :-1])
    assert one["vi"] == pytest.approx((rows["vi"] + columns["vi"]) / 2)
    blocks = np.repeat(np.arange(4), 16)[:, None] * np.ones(64, dtype=int)  # horizontal bands: rows shift them
    banded = metrics.placement_reference(blocks, shift=1)
    assert banded["vi"] > 0 and metrics.evaluate(blocks[:, 1:], blocks[:, :-1])["vi"] == 0  # only the row shift costs
    with pytest.raises(ValueError, match="shift must be an integer from 1"):
        metrics.placement_reference(gt, shift=0)
    with pytest.raises(ValueError, match="one 2D ground truth"):
        metrics.placement_reference(gts, shift=1)
