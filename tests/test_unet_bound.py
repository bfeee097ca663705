"""benchmarks/unet_bound.py at ci size: the variants, the test-time average and the perfect map's bound."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from benchmarks import unet_bound
from helpers.config import select
from helpers.segmentation.pipeline import load_slices
from helpers.unet.predict import membrane_probability
from helpers.unet.train import train_unet


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    config = replace(select("ci"), cache=tmp_path_factory.mktemp("cache"))
    return unet_bound.run(config, workers=1)


def test_each_variant_differs_from_the_profile_in_the_one_thing_it_names():
    work = select("reduced").unet
    variants = unet_bound.variants(work)
    changed = {
        name: {key for key, value in variant.as_dict().items() if value != work.as_dict()[key]}
        | ({"augment"} if augment else set())
        for name, (variant, augment) in variants.items()
    }
    assert changed == {
        "profile": set(), "width x2": {"width"}, "depth +1": {"depth"}, "steps x3": {"iterations"},
        "patch x2 (batch / 4)": {"patch", "batch"}, "plain augmentation": {"augment"},
    }  # fmt: skip
    patch_work = variants["patch x2 (batch / 4)"][0]
    assert patch_work.patch**2 * patch_work.batch == work.patch**2 * work.batch  # the same pixels per step


def test_the_test_time_average_turns_with_the_slice_where_one_reading_does_not(tmp_path):
    work = select("ci").unet
    raws, labels, _ = load_slices([0, 1], 96)
    model = train_unet(list(raws), list(labels), work, seed=0, progress=False).model
    raw = load_slices([2], 96)[0][0]
    turned = np.ascontiguousarray(np.rot90(raw))
    averaged = unet_bound.dihedral_average(model, raw, work)
    np.testing.assert_allclose(np.rot90(unet_bound.dihedral_average(model, turned, work), -1), averaged, atol=1e-6)
    one = membrane_probability(model, raw, work.tile)
    assert np.abs(np.rot90(membrane_probability(model, turned, work.tile), -1) - one).max() > 1e-4


def test_the_record_holds_every_variant_the_grid_and_a_perfect_map_below_every_unet(record):
    config = select("ci")
    assert record["profile"] == "ci"
    assert record["measured_slices"] == list(config.segmentation.train_slices[-config.unet.edge_slices :])
    assert not set(record["measured_slices"]) & set(record["train_slices"])
    assert list(record["variants"]) == [*unet_bound.variants(config.unet), unet_bound.TEST_TIME_AVERAGE]
    assert len(record["watershed_grid"]) == np.prod([len(values) for values in unet_bound.WATERSHED_GRID.values()])
    perfect = record["membrane_labels_as_map"]["reachable_vi"]
    assert all(perfect < variant["mean"]["reachable_vi"] for variant in record["variants"].values())
    assert all(0.5 < variant["mean"]["auc"] <= 1 for variant in record["variants"].values())
