"""Bad input to the data loaders: each kind gives a clear error (what, which file, the fix) or documented behaviour."""

from __future__ import annotations

import gzip
import warnings

import h5py
import numpy as np
import pytest
import tifffile
import zarr
from own_data_images import cell_mask, write_png
from PIL import Image

from helpers import data
from helpers.data import DataError
from helpers.segmentation import pipeline

GIT_HINT = "git checkout"


def test_unknown_stack_name_points_to_the_own_data_loader():
    with pytest.raises(KeyError, match=r"unknown ISBI stack 'my-data'.*load_em_stack\(raw, labels\)"):
        data.load_stack("my-data")


def test_read_tiff_on_a_users_png_says_what_it_is_and_gives_no_git_advice(tmp_path):
    path = write_png(tmp_path / "mine.png", np.zeros((8, 8), np.uint8))
    with pytest.raises(DataError, match=r"mine\.png is a PNG file, not a TIFF: .*read_volume") as error:
        data.read_tiff(path)
    assert GIT_HINT not in str(error.value)


def test_missing_or_damaged_user_files_get_no_git_advice_but_project_files_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist") as error:
        data.read_volume(tmp_path / "nowhere.tif")
    assert GIT_HINT not in str(error.value)
    (tmp_path / "broken.tif").write_bytes(b"II*\x00" + b"\x00" * 50)
    with pytest.raises(DataError, match="is not a readable TIFF") as error:
        data.read_volume(tmp_path / "broken.tif")
    assert GIT_HINT not in str(error.value)
    assert data.restore_hint(data.data_file("isbi2012/train-labels.tif")) == f"; {data.RESTORE_HINT}"


def test_two_channel_png_labels_with_transparency_are_refused_with_the_fix(tmp_path):
    grey = cell_mask(32, 8)
    path = write_png(tmp_path / "la.png", np.stack([grey, grey], axis=-1), "LA")  # alpha = the mask itself
    with pytest.raises(DataError, match=r"la\.png has 2 channels \(grey \+ alpha\) and its alpha .* single-channel"):
        data.load_em_stack(np.zeros((32, 32), np.uint8), path)


@pytest.mark.parametrize("channels", [3, 4])
def test_colour_png_labels_are_refused_with_the_fix(tmp_path, channels):
    rgb = np.random.default_rng(0).integers(0, 256, (32, 32, channels), dtype=np.uint8)
    if channels == 4:
        rgb[..., 3] = 255
    path = write_png(tmp_path / "colour.png", rgb)
    with pytest.raises(DataError, match=r"colour\.png is a colour image .* one integer id per pixel"):
        data.read_volume(path)


def test_inverted_labels_are_refused_not_silently_segmented():
    _, labels = data.load_training([0])
    with pytest.raises(DataError, match=r"look inverted: the membrane value 0 covers \d+% .*membrane=255"):
        data.dense_ground_truth(255 - labels[0])
    raw = data.load_training([0])[0][0]
    with pytest.raises(DataError, match="look inverted"):
        pipeline.run([raw], [255 - labels[0]], [raw], [labels[0]], progress=False)
    np.testing.assert_array_equal(data.dense_ground_truth(255 - labels[0], polarity_check=False) > 0, True)


def test_small_crops_are_not_judged_for_polarity():
    _, labels = data.load_training([0])
    crop = labels[0, 320:352, 320:352]  # mostly membrane, yet correct
    assert data.dense_ground_truth(crop).max() >= 1


def test_grey_labels_error_states_the_membrane_side_and_never_suggests_an_inverting_threshold():
    labels = np.full((8, 8), 255, np.uint8)
    labels[2, 2] = 128
    with pytest.raises(DataError, match=r"not binary: found values \[128, 255\].*membrane_labels") as error:
        data.dense_ground_truth(labels)
    assert "> 127) * 255" not in str(error.value)
    edged = cell_mask().astype(np.int32)
    edged[edged == 0] = 3  # a few grey values at the membrane edges
    edged[::7, 2] = 128
    with pytest.raises(DataError, match=r"not a binary mask: .*labels > 127, membrane=False\) when membranes are dark"):
        data.load_em_stack(np.zeros((128, 128), np.uint8), np.where(edged == 3, 0, edged).astype(np.uint8))


@pytest.mark.parametrize(
    ("labels", "kind", "message"),
    [
        (np.full((16, 16), 0.5), "auto", "dtype float64: labels are integer instance ids or a boolean/0-1 mask"),
        (np.random.default_rng(0).integers(0, 200, (16, 16)), "auto", "vary like an image, not like labels"),
        (np.random.default_rng(0).integers(0, 200, (16, 16)), "instances", "did you pass the raw images as labels"),
        (np.ones((16, 16), np.uint8), "mask", "single value \\[1\\]: state which value marks membranes"),
    ],
    ids=["float", "raw as labels", "raw as instances", "one value"],
)
def test_labels_that_are_no_labels_are_refused(labels, kind, message):
    with pytest.raises(DataError, match=message):
        data.load_em_stack(np.zeros((16, 16), np.uint8), labels, kind=kind)


def test_membrane_value_errors_name_the_values():
    half = np.zeros((16, 16), bool)
    half[:, :8] = True
    with pytest.raises(DataError, match=r"cannot tell membranes from cells: values \[False, True\] cover 50%"):
        data.membrane_labels(half)
    with pytest.raises(DataError, match=r"membrane=7 does not occur in labels, which hold the values \[0, 255\]"):
        data.membrane_labels(cell_mask(), membrane=7)
    with pytest.raises(ValueError, match="membrane='white'.*'dark', 'bright'"):
        data.membrane_labels(cell_mask(), membrane="white")
    with pytest.raises(ValueError, match="unknown label kind 'ids'"):
        data.label_kind(cell_mask(), "ids")


def test_raw_and_labels_of_different_shapes_name_both(tmp_path):
    tifffile.imwrite(tmp_path / "raw.tif", np.zeros((2, 32, 32), np.uint8))
    tifffile.imwrite(tmp_path / "lab.tif", np.zeros((3, 32, 32), np.uint8), photometric="minisblack")
    with pytest.raises(
        DataError,
        match=r"raw\.tif has shape \(2, 32, 32\) but .*lab\.tif have \(3, 32, 32\): pass the labels of the same",
    ):
        data.load_em_stack(tmp_path / "raw.tif", tmp_path / "lab.tif")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (np.full((1, 8, 8), 300, np.uint16), "constant \\(300 everywhere\\)"),
        (np.full((1, 8, 8), np.nan, np.float32), "NaN or inf"),
        (np.zeros((1, 8, 8), bool), "dtype bool: raw EM images are 8- or 16-bit"),
    ],
    ids=["constant", "nan", "bool"],
)
def test_unusable_raw_stacks_are_refused(raw, message):
    with pytest.raises(DataError, match=message):
        data.unit_raw(raw)


def test_unknown_damaged_and_ambiguous_files(tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(DataError, match=r"notes\.txt is no TIFF, PNG, JPEG, HDF5 or \.npy file"):
        data.read_volume(tmp_path / "notes.txt")
    packed = gzip.compress(b"\x89HDF\r\n\x1a\n" + np.random.default_rng(0).bytes(4000))
    (tmp_path / "cut.h5.gz").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(DataError, match=r"cut\.h5\.gz is not a readable gzip file"):
        data.read_volume(tmp_path / "cut.h5.gz")
    (tmp_path / "junk.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x01" * 200)
    with pytest.raises(DataError, match=r"junk\.h5 is not a readable HDF5 file"):
        data.read_volume(tmp_path / "junk.h5")
    with h5py.File(tmp_path / "two.h5", "w") as handle:
        handle["raw"], handle["labels"] = np.zeros((2, 8, 8)), np.zeros((2, 8, 8))
    with pytest.raises(DataError, match=r"holds the datasets \['labels', 'raw'\]: name the one to read"):
        data.read_volume(tmp_path / "two.h5")
    with pytest.raises(DataError, match=r"has no dataset 'volume': choose one of \['labels', 'raw'\]"):
        data.read_volume(tmp_path / "two.h5", "volume")
    with pytest.raises(DataError, match="only HDF5 and zarr have datasets"):
        data.read_volume(write_png(tmp_path / "a.png", np.zeros((8, 8), np.uint8)), "raw")


def test_folder_and_shape_problems(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no .png/.tif/.tiff images"):
        data.read_volume(tmp_path / "empty")
    (tmp_path / "mixed").mkdir()
    write_png(tmp_path / "mixed" / "1.png", np.zeros((8, 8), np.uint8))
    write_png(tmp_path / "mixed" / "2.png", np.zeros((8, 9), np.uint8))
    with pytest.raises(DataError, match=r"2\.png has shape \(8, 9\).*every slice of a folder stack must be alike"):
        data.read_volume(tmp_path / "mixed")
    np.save(tmp_path / "flat.npy", np.zeros(10))
    with pytest.raises(DataError, match=r"shape \(10,\): expected one 2D image"):
        data.read_volume(tmp_path / "flat.npy")
    with pytest.raises(DataError, match="one 2D image .*: a slice selection needs a 3D stack"):
        data.read_volume(tmp_path / "mixed" / "1.png", z=[0])


def test_slice_selection_out_of_range_or_fractional(tmp_path):
    tifffile.imwrite(tmp_path / "s.tif", np.zeros((3, 8, 8), np.uint8), photometric="minisblack")
    with pytest.raises(IndexError, match=r"slice indices \[5\] are outside 0..2"):
        data.read_volume(tmp_path / "s.tif", z=[0, 5])
    with pytest.raises(TypeError, match="must be whole numbers"):
        data.read_volume(tmp_path / "s.tif", z=[1.5])
    em = data.load_em_stack(np.zeros((2, 16, 16), np.uint8), np.stack([cell_mask(16, 8)] * 2), membrane=0)
    with pytest.raises(IndexError, match=r"\[4\] are outside 0..1"):
        em.take([4])
    with pytest.raises(ValueError, match="crop must be a whole number"):
        data.load_em_stack(np.zeros((16, 16), np.uint8), cell_mask(16, 8), membrane=0, crop=2.5)


def test_supervoxel_table_problems():
    ids = np.array([[1, 2], [3, 0]])
    with pytest.raises(DataError, match=r"1 supervoxel ids are not in the supervoxel-to-body table \(e\.g\. \[3\]\)"):
        data.body_ids(ids, {1: 5, 2: 5})
    with pytest.raises(DataError, match=r"gives supervoxels \[1\] more than one body"):
        data.body_ids(ids, np.array([[1, 5], [1, 6], [2, 5], [3, 5]]))
    with pytest.raises(DataError, match=r"has shape \(3,\) .*expected \(n, 2\) integers"):
        data.body_ids(ids, np.array([1, 2, 3]))
    with pytest.raises(DataError, match="names a dataset, but the labels were passed as an array"):
        data.load_em_stack(np.zeros((8, 8), np.uint8), np.kron(ids, np.ones((4, 4), int)), table="transforms")
    with pytest.raises(DataError, match="holds no cell of at least 10 pixels"):
        data.instance_ground_truth(np.zeros((8, 8), int), background=0)


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"n_slices": 8, "n_blocks": 2, "test_blocks": (0, 1)}, ValueError, "take all 2 blocks"),
        ({"n_slices": 4, "n_blocks": 2, "gap": 2}, ValueError, "gap=2 leaves no training slice"),
        ({"n_slices": 4, "n_blocks": 5}, ValueError, "n_blocks must be a whole number in \\[2, 4\\]"),
        ({"n_slices": 8, "n_blocks": 2.5}, ValueError, "n_blocks must be a whole number"),
        ({"n_slices": 8, "test_blocks": (7,)}, ValueError, "test_blocks element 7"),
    ],
    ids=["all blocks", "gap", "too many blocks", "fractional", "unknown block"],
)
def test_z_block_split_refuses_impossible_splits(arguments, error, message):
    with pytest.raises(error, match=message):
        data.z_block_split(**arguments)


def test_a_damaged_user_png_is_named_without_git_advice(tmp_path):
    path = tmp_path / "cut.png"
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(DataError, match=r"cut\.png is not a readable image") as error:
        data.read_volume(path)
    assert GIT_HINT not in str(error.value)


def test_a_mask_saved_as_jpeg_is_refused_not_read_as_instance_ids(tmp_path):
    _, labels = data.load_training([0])
    Image.fromarray(labels[0]).save(tmp_path / "mask.jpg", quality=75)
    lossy = np.asarray(Image.open(tmp_path / "mask.jpg"))
    assert len(np.unique(lossy)) > 2, "JPEG leaves grey values"
    with pytest.raises(DataError, match=r"binary mask saved with lossy compression \(JPEG\?\).*losslessly"):
        data.label_kind(lossy[None], source=str(tmp_path / "mask.jpg"))
    assert data.label_kind(labels) == "mask"  # the lossless mask itself is still a mask


def test_labels_that_are_all_membrane_are_refused():
    with pytest.raises(DataError, match="all membrane .* no cell to segment"):
        data.dense_ground_truth(np.zeros((32, 32), np.uint8), polarity_check=False)


def test_a_sixteen_bit_stack_with_one_hot_pixel_warns_loudly():
    raw, _ = data.load_training([0])
    stack = raw.astype(np.uint16) * 4
    stack[0, 5, 5] = 65535
    with pytest.warns(UserWarning, match=r"extreme pixels .* squeeze the contrast \d+-fold.*clip the stack"):
        pixels, note = data.unit_raw(stack, "stack.tif")
    assert pixels.max() == 1.0 and "rescaled linearly" in note
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data.unit_raw(raw.astype(np.uint16) * 4, "clean.tif")  # no hot pixel: no warning


# ----------------------------------------------------------------------------- silent cases made loud or right


def _slices(n: int, seed: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 24, 20), dtype=np.uint8)


def test_a_folder_of_multi_page_tiffs_gives_every_page_of_every_file_in_order(tmp_path):
    stack = _slices(6)
    folder = tmp_path / "pages"
    folder.mkdir()
    for number, start in ((2, 0), (10, 3)):  # natural order: part2 before part10
        tifffile.imwrite(folder / f"part{number}.tif", stack[start : start + 3], photometric="minisblack")
    np.testing.assert_array_equal(data.read_volume(folder), stack)
    np.testing.assert_array_equal(data.read_volume(folder, z=[4, 0, 3]), stack[[4, 0, 3]])
    np.testing.assert_array_equal(data.read_volume(folder, z=slice(2, 5)), stack[2:5])
    tifffile.imwrite(folder / "part11.tif", stack[:2], photometric="minisblack")
    with pytest.raises(
        DataError, match=r"part11\.tif holds 2 slices \(pages\) but part2\.tif holds 3: .*one image per"
    ):
        data.read_volume(folder)


def test_a_planar_rgb_tiff_is_one_colour_slice_not_three(tmp_path):
    grey = _slices(2)
    tifffile.imwrite(tmp_path / "one.tif", np.stack([grey[0]] * 3), photometric="rgb", planarconfig="separate")
    np.testing.assert_array_equal(data.read_volume(tmp_path / "one.tif"), grey[0])
    planar_pages = np.stack([np.stack([plane] * 3) for plane in grey])  # (2, 3, y, x): two planar RGB pages
    tifffile.imwrite(tmp_path / "two.tif", planar_pages, photometric="rgb", planarconfig="separate")
    np.testing.assert_array_equal(data.read_volume(tmp_path / "two.tif"), grey)
    np.testing.assert_array_equal(data.read_volume(tmp_path / "two.tif", z=[1]), grey[[1]])
    folder = tmp_path / "planar"
    folder.mkdir()
    for i, plane in enumerate(grey):
        tifffile.imwrite(folder / f"{i}.tif", np.stack([plane] * 3), photometric="rgb", planarconfig="separate")
    np.testing.assert_array_equal(data.read_volume(folder), grey)


def test_a_planar_rgb_tiff_in_colour_is_refused_naming_the_file_and_both_fixes(tmp_path):
    tifffile.imwrite(tmp_path / "rgb.tif", _slices(3), photometric="rgb", planarconfig="separate")
    with pytest.raises(DataError, match=r"rgb\.tif is a colour image .*greyscale.*photometric='minisblack'"):
        data.read_volume(tmp_path / "rgb.tif")
    folder = tmp_path / "slices"
    folder.mkdir()
    (folder / "0.tif").write_bytes((tmp_path / "rgb.tif").read_bytes())
    with pytest.raises(DataError, match=r"0\.tif is a colour image"):
        data.read_volume(folder)
    tifffile.imwrite(tmp_path / "grey.tif", _slices(3), photometric="minisblack")  # the fix: three grey slices
    assert data.read_volume(tmp_path / "grey.tif").shape == (3, 24, 20)


def test_a_tiff_hyperstack_with_channels_is_refused_not_read_as_slices(tmp_path):
    hyper = np.random.default_rng(3).integers(0, 256, (2, 3, 16, 16), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "zc.tif", hyper, imagej=True, metadata={"axes": "ZCYX"})
    with pytest.raises(DataError, match=r"zc\.tif holds ZCYX data of shape \(2, 3, 16, 16\).*a stack of its own"):
        data.read_volume(tmp_path / "zc.tif")


def _chunked_store(path, stack):
    return zarr.create_array(str(path), data=stack, chunks=(1, *stack.shape[1:]))


def test_a_zarr_store_missing_a_chunk_is_refused_not_filled_with_zeros(tmp_path):
    stack = _slices(4)
    array = _chunked_store(tmp_path / "s.zarr", stack)
    (tmp_path / "s.zarr" / array.metadata.encode_chunk_key((2, 0, 0))).unlink()  # a copy cut short
    with pytest.raises(DataError, match=r"s\.zarr lacks 1 of the 4 chunks read \(c/2/0/0\).*copy the store again"):
        data.read_volume(tmp_path / "s.zarr")
    with pytest.raises(DataError, match=r"lacks 1 of the 2 chunks read"):
        data.read_volume(tmp_path / "s.zarr", z=[1, 2])
    np.testing.assert_array_equal(data.read_volume(tmp_path / "s.zarr", z=[3, 0]), stack[[3, 0]])  # all there
    group = zarr.open_group(str(tmp_path / "g.zarr"), mode="w")
    group.create_array("em/raw", data=stack, chunks=(2, 24, 20))
    (tmp_path / "g.zarr" / "em" / "raw" / "c" / "0" / "0" / "0").unlink()
    with pytest.raises(DataError, match=r"g\.zarr/em/raw lacks 1 of the 2 chunks read"):
        data.read_volume(tmp_path / "g.zarr")


def test_a_zarr_store_written_without_its_empty_chunks_is_refused_and_the_stated_fix_works(tmp_path):
    stack = _slices(3)
    stack[1] = 0  # one slice of fill value: zarr leaves its chunk out by default
    _chunked_store(tmp_path / "sparse.zarr", stack)
    with pytest.raises(DataError, match=r"sparse\.zarr lacks 1 of the 3 chunks .*write_empty_chunks"):
        data.read_volume(tmp_path / "sparse.zarr")
    with zarr.config.set({"array.write_empty_chunks": True}):
        _chunked_store(tmp_path / "full.zarr", stack)
    np.testing.assert_array_equal(data.read_volume(tmp_path / "full.zarr"), stack)
