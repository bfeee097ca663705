"""Your own EM data: every format, every label kind and polarity, the dense ground truth, the z-block split."""

from __future__ import annotations

import gzip
import warnings

import h5py
import numpy as np
import pytest
import tifffile
import zarr
from own_data_images import cell_mask, write_png

from helpers import data
from helpers.data import PolarityWarning


@pytest.fixture
def stack() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (3, 32, 40), dtype=np.uint8)


# ----------------------------------------------------------------------------- formats


def test_tiff_png_folder_hdf5_zarr_npy_and_gzip_give_the_same_stack(tmp_path, stack):
    tifffile.imwrite(tmp_path / "s.tif", stack, photometric="minisblack")
    folder = tmp_path / "slices"
    folder.mkdir()
    for i, plane in enumerate(stack):  # slice2 must come before slice10: natural order
        write_png(folder / f"slice{[2, 10, 11][i]}.png", plane)
    with h5py.File(tmp_path / "s.h5", "w") as handle:
        handle["volume/raw"] = stack
    zarr.save_array(str(tmp_path / "s.zarr"), stack)
    group = zarr.open_group(str(tmp_path / "g.zarr"), mode="w")
    group.create_array("raw", data=stack)
    np.save(tmp_path / "s.npy", stack)
    for name in ("s.tif", "s.h5"):
        (tmp_path / f"{name}.gz").write_bytes(gzip.compress((tmp_path / name).read_bytes()))
    paths = ["s.tif", "slices", "s.h5", "s.zarr", "g.zarr", "s.npy", "s.tif.gz", "s.h5.gz"]
    for name in paths:
        np.testing.assert_array_equal(data.read_volume(tmp_path / name), stack, err_msg=name)
    assert data.volume_format(tmp_path / "s.h5.gz") == "gzip:hdf5"
    assert data.volume_format(tmp_path / "g.zarr") == "zarr"


@pytest.mark.parametrize("name", ["s.tif", "slices", "s.h5", "s.zarr", "s.npy", "s.h5.gz"])
def test_only_the_selected_slices_are_read(tmp_path, stack, name):
    tifffile.imwrite(tmp_path / "s.tif", stack, photometric="minisblack")
    (tmp_path / "slices").mkdir()
    for i, plane in enumerate(stack):
        write_png(tmp_path / "slices" / f"{i}.png", plane)
    with h5py.File(tmp_path / "s.h5", "w") as handle:
        handle["raw"] = stack
    (tmp_path / "s.h5.gz").write_bytes(gzip.compress((tmp_path / "s.h5").read_bytes()))
    zarr.save_array(str(tmp_path / "s.zarr"), stack)
    np.save(tmp_path / "s.npy", stack)
    np.testing.assert_array_equal(data.read_volume(tmp_path / name, z=[2, 0]), stack[[2, 0]])
    np.testing.assert_array_equal(data.read_volume(tmp_path / name, z=slice(1, None)), stack[1:])


def test_16_bit_and_2d_images_and_grey_saved_in_colour(tmp_path):
    deep = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 13
    write_png(tmp_path / "deep.png", deep)
    tifffile.imwrite(tmp_path / "deep.tif", deep)
    for name in ("deep.png", "deep.tif"):
        image = data.read_volume(tmp_path / name)
        assert image.dtype == np.uint16 and image.shape == (64, 64)
        np.testing.assert_array_equal(image, deep)
    grey = np.random.default_rng(1).integers(0, 256, (40, 40), dtype=np.uint8)
    opaque = np.full_like(grey, 255)
    write_png(tmp_path / "la.png", np.stack([grey, opaque], axis=-1), "LA")  # grey + opaque alpha: accepted
    write_png(tmp_path / "rgb.png", np.stack([grey] * 3, axis=-1))  # grey saved as RGB: accepted
    write_png(tmp_path / "rgba.png", np.stack([grey] * 3 + [opaque], axis=-1))
    for name in ("la.png", "rgb.png", "rgba.png"):
        np.testing.assert_array_equal(data.read_volume(tmp_path / name), grey, err_msg=name)
    write_png(tmp_path / "bool.png", np.arange(40 * 40).reshape(40, 40) % 3 == 0, "1")
    assert data.read_volume(tmp_path / "bool.png").dtype == bool


def test_load_em_stack_rescales_16_bit_raw_and_records_what_it_did(tmp_path):
    mask = np.stack([cell_mask()] * 2)
    raw = (np.where(mask == 0, 1000, 3000) + np.arange(128)).astype(np.uint16)
    tifffile.imwrite(tmp_path / "raw.tif", raw)
    (tmp_path / "labels").mkdir()
    for i, plane in enumerate(mask):
        write_png(tmp_path / "labels" / f"l{i}.png", plane)
    em = data.load_em_stack(tmp_path / "raw.tif", tmp_path / "labels", membrane=0)
    assert em.raw.dtype == np.float32 and em.raw.min() == 0.0 and em.raw.max() == 1.0
    assert "uint16 1000..3127 rescaled" in em.notes["raw_values"] and em.notes["kind"] == "mask"
    np.testing.assert_array_equal(em.membranes, mask)
    np.testing.assert_array_equal(em.gt, data.dense_ground_truth(mask))
    assert len(em) == 2 and len(em.take([1])) == 1
    cropped = data.load_em_stack(raw, mask, membrane="dark", crop=64, z=None)
    assert cropped.raw.shape == (2, 64, 64)


# ----------------------------------------------------------------------------- masks of either polarity


@pytest.mark.parametrize(
    ("convert", "membrane"),
    [
        (lambda m: m, 0),  # ISBI: 0 membrane, 255 cell
        (lambda m: 255 - m, 255),  # white membranes
        (lambda m: m == 0, True),  # boolean, True = membrane
        (lambda m: m == 255, False),  # boolean, True = cell
        (lambda m: (m == 0).astype(np.uint8), 1),  # 0/1, 1 = membrane
        (lambda m: (m == 255).astype(np.uint8), 0),  # 0/1, 0 = membrane
        (lambda m: 255 - m, "bright"),
        (lambda m: (m == 255).astype(np.uint16) * 65535, "dark"),
    ],
)
def test_every_mask_kind_and_polarity_gives_the_same_labels_and_ground_truth(convert, membrane):
    mask = cell_mask()
    labels = data.membrane_labels(convert(mask), membrane)
    np.testing.assert_array_equal(labels, mask)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a stated membrane value warns about nothing
        em = data.load_em_stack(np.zeros((128, 128), np.uint8) + 7 * (mask > 0), convert(mask), membrane=membrane)
    np.testing.assert_array_equal(em.gt[0], data.dense_ground_truth(mask))
    assert em.gt.max() == 64


@pytest.mark.parametrize("convert", [lambda m: m, lambda m: 255 - m, lambda m: m == 0, lambda m: (m == 255) * 1])
def test_an_unstated_polarity_is_detected_from_the_membrane_fraction_with_a_warning(convert):
    mask = cell_mask()
    with pytest.warns(PolarityWarning, match=r"taking value .* as membrane because it covers 23\.4% of the pixels"):
        labels = data.membrane_labels(convert(mask))
    np.testing.assert_array_equal(labels, mask)


# ----------------------------------------------------------------------------- instance ids


def test_instance_ids_become_the_same_dense_ground_truth_as_membrane_labels():
    _, labels = data.load_training([0])
    gt = data.dense_ground_truth(labels[0])
    rebuilt = data.instance_ground_truth(gt * 7 + 100, background=None, min_size=1)
    pairs = np.unique(np.stack([rebuilt.ravel(), gt.ravel()]), axis=1)
    assert pairs.shape[1] == gt.max() == rebuilt.max()  # the same cells (ids in another order)
    membranes = data.membranes_from_ground_truth(gt)
    assert set(np.unique(membranes).tolist()) == {0, 255}
    np.testing.assert_array_equal(data.dense_ground_truth(membranes) > 0, gt > 0)


def test_instances_fill_background_and_specks_and_split_disconnected_pieces():
    ids = np.zeros((40, 40), np.int64)
    ids[:, :20], ids[:, 20:] = 5, 9
    ids[10:12, 5:7] = 3  # a 4-pixel speck: joins its neighbour
    ids[:, 30:32] = 5  # body 5 appears again, cut off from its first piece: a second cell in 2D
    ids[0, 0] = 0  # background
    gt = data.instance_ground_truth(ids, background=0, min_size=10)
    assert gt.dtype == np.uint32 and gt.min() == 1 and gt.max() == 4
    assert gt[11, 6] == gt[0, 1] == gt[0, 0]
    assert len(np.unique(gt[:, 30:32])) == 1 and gt[0, 30] != gt[0, 0]


def test_supervoxel_to_body_table_as_rows_dict_or_dataset(tmp_path):
    supervoxels = np.repeat(np.arange(1, 5), 10 * 40).reshape(40, 40).T.copy()  # four vertical bands
    rows = np.array([[0, 0], [1, 10], [2, 10], [3, 30], [4, 40]])
    bodies = data.body_ids(supervoxels, rows)
    assert set(np.unique(bodies).tolist()) == {10, 30, 40}
    np.testing.assert_array_equal(data.body_ids(supervoxels, {1: 10, 2: 10, 3: 30, 4: 40}), bodies)
    with h5py.File(tmp_path / "gt.h5", "w") as handle:
        handle["stack"], handle["transforms"] = supervoxels[None], rows
    raw = np.random.default_rng(0).integers(0, 256, (1, 40, 40), dtype=np.uint8)
    em = data.load_em_stack(raw, tmp_path / "gt.h5", kind="instances", labels_dataset="stack", table="transforms")
    assert em.gt.max() == 3 and em.notes["table"] == "5 supervoxels"
    assert (em.membranes == 0).any()


def test_vendored_flyem_subset_loads_with_its_bodies():
    flyem = data.load_flyem()
    assert flyem.raw.shape == flyem.gt.shape == (16, 250, 250) and flyem.raw.dtype == np.uint8
    assert 40 <= flyem.gt[0].max() <= 100 and flyem.gt.min() == 1
    assert 0.05 < (flyem.membranes == 0).mean() < 0.2
    assert flyem.notes["labels"] == "data/flyem-medulla/groundtruth-subset.h5.gz"
    small = data.load_flyem([0, 15], crop=64)
    assert small.raw.shape == (2, 64, 64)
    np.testing.assert_array_equal(small.raw[1], flyem.raw[15, :64, :64])


# ----------------------------------------------------------------------------- the split


def test_z_block_split_tests_whole_blocks_and_leaves_a_gap():
    assert data.z_block_split(16, 4) == (tuple(range(12)), (12, 13, 14, 15))
    assert data.z_block_split(16, 4, gap=1) == (tuple(range(11)), (12, 13, 14, 15))
    train, test = data.z_block_split(10, 5, test_blocks=(1, 3), gap=1)
    assert test == (2, 3, 6, 7) and train == (0, 9)
    assert data.z_block_split(7, 3, test_blocks=(0,)) == ((3, 4, 5, 6), (0, 1, 2))
