"""helpers.data on the real vendored data, and one test per kind of bad input."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from helpers import data
from helpers.data import DataError


def test_pixel_contract_accepts_uint8_and_unit_floats_and_names_the_fix_otherwise():
    np.testing.assert_allclose(data.to_unit_float(np.array([0, 51, 255], np.uint8)), [0.0, 0.2, 1.0])
    np.testing.assert_allclose(data.to_unit_float(np.array([0.0, 1.0005])), [0.0, 1.0])  # rounding is clipped
    with pytest.raises(ValueError, match=r"raw slice has float values 0..255, outside \[0, 1\]: divide"):
        data.to_unit_float(np.array([0.0, 255.0]), "raw slice")
    with pytest.raises(ValueError, match="NaN or inf"):
        data.to_unit_float(np.array([0.5, np.nan]))
    with pytest.raises(ValueError, match="dtype uint16"):
        data.to_unit_float(np.zeros(3, np.uint16))


def test_vendored_files_match_shared_checksums():
    status = data.verify_all()
    assert len(status) >= 50
    assert all(status.values()), [name for name, ok in status.items() if not ok]


def test_training_volume_shapes_and_split():
    raw, labels = data.load_training()
    assert raw.shape == labels.shape == (30, 512, 512)
    assert raw.dtype == labels.dtype == np.uint8
    assert set(np.unique(labels).tolist()) == {0, 255}
    train, test = data.REPORT_TRAIN_SLICES, data.REPORT_TEST_SLICES
    assert train == tuple(range(24)) and test == tuple(range(24, 30))
    sub_raw, _ = data.load_training([24, 29])
    np.testing.assert_array_equal(sub_raw[1], raw[29])


def test_dense_ground_truth_covers_every_pixel_and_respects_interiors():
    _, labels = data.load_training([0])
    gt = data.dense_ground_truth(labels[0])
    assert gt.shape == (512, 512) and gt.min() >= 1  # no background left: membranes were assigned
    interior = labels[0] == 255
    # each interior component keeps a single id, and distinct components keep distinct ids
    from scipy import ndimage

    components, n = ndimage.label(interior)
    ids = ndimage.maximum(gt, components, index=np.arange(1, n + 1))
    lows = ndimage.minimum(gt, components, index=np.arange(1, n + 1))
    np.testing.assert_array_equal(ids, lows)
    assert len(np.unique(ids)) == n
    assert 50 < n < 400


def test_photos_and_styles_load_by_name_and_number():
    photo = data.load_photo("heidelberg2", size=128)
    assert photo.dtype == np.float32 and max(photo.shape[:2]) == 128 and photo.shape[2] == 3
    assert photo.min() >= 0.0 and photo.max() <= 1.0
    assert data.resolve_style(20) == (20, "the_scream")
    assert data.resolve_style("udnie") == (21, "udnie")
    assert data.resolve_style("09_mosaic_ducks_massimo")[0] == 9
    assert len(data.style_names()) == 24
    style = data.load_style("the_scream", size=64)
    assert max(style.shape[:2]) == 64


# ----------------------------------------------------------------------------- bad input


def test_missing_file_names_the_file_and_the_fix(data_copy):
    (data_copy / "isbi2012" / "train-labels.tif").unlink()
    with pytest.raises(FileNotFoundError, match=r"train-labels\.tif.*git checkout"):
        data.load_training(data_dir=data_copy)


def test_checksum_mismatch_is_reported(data_copy):
    path = data_copy / "photos" / "castle.jpg"
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(DataError, match=r"checksum mismatch for .*castle\.jpg"):
        data.load_photo("castle", data_dir=data_copy)


@pytest.mark.parametrize("damage", ["header only", "truncated"])
def test_corrupt_tiff_is_reported(data_copy, damage):
    path = data_copy / "isbi2012" / "train-volume.tif"
    payload = path.read_bytes()
    path.write_bytes(b"II*\x00" + b"\x00" * 100 if damage == "header only" else payload[: len(payload) // 3])
    with pytest.raises(DataError, match=r"train-volume\.tif is not a readable TIFF"):
        data.read_tiff(path)


def test_wrong_shape_and_dtype_are_reported(tmp_path):
    path = tmp_path / "small.tif"
    tifffile.imwrite(path, np.zeros((3, 64, 64), np.uint8), photometric="minisblack")
    with pytest.raises(DataError, match=r"small\.tif has shape \(3, 64, 64\), expected \(30, 512, 512\)"):
        data.read_tiff(path, data.ISBI_SHAPE)
    tifffile.imwrite(path, np.zeros((30, 512, 512), np.float32))
    with pytest.raises(DataError, match=r"dtype float32, expected uint8"):
        data.read_tiff(path, data.ISBI_SHAPE)


def test_non_binary_labels_are_reported():
    labels = np.full((8, 8), 255, np.uint8)
    labels[2, 2] = 128
    with pytest.raises(DataError, match=r"not binary: found values \[128, 255\]"):
        data.dense_ground_truth(labels)


def test_unknown_photo_and_style_names_list_the_choices():
    with pytest.raises(KeyError, match="unknown photo 'eiffel'.*heidelberg2"):
        data.load_photo("eiffel")
    with pytest.raises(KeyError, match="unknown paintings style 'mona_lisa'.*20=the_scream"):
        data.load_style("mona_lisa")
    with pytest.raises(KeyError, match="unknown paintings style 99"):
        data.resolve_style(99)


def test_mismatched_raw_and_labels_are_reported():
    with pytest.raises(ValueError, match="raw shape .* and label shape .* differ"):
        data.check_pair(np.zeros((4, 4)), np.zeros((4, 5)))


def test_out_of_range_slice_is_reported():
    with pytest.raises(IndexError, match=r"\[30\] are outside 0..29"):
        data.load_training([0, 30])
