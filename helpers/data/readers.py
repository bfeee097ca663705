"""Read an image stack of any size from a TIFF, a PNG (or a folder of them), HDF5, zarr or ``.npy``, gzipped or not.

:func:`read_volume` tells the format from the file's first bytes (not its name), reads only the requested slices and
returns one grey channel: grey + alpha, RGB or RGBA images pass when fully opaque with equal colour channels, and are
refused with the fix otherwise. Errors name the file; ``git checkout`` is advised only for the project's own files.
"""

from __future__ import annotations

import gzip
import logging
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import groupby
from pathlib import Path

import h5py
import numpy as np
import tifffile
import zarr
from PIL import Image

from .files import DataError, restore_hint
from .layouts import PLANAR_STACK_FIX, check_chunks, is_planar, samples_last, stack_slices

IMAGE_SUFFIXES = (".png", ".tif", ".tiff")  # the images of a folder stack
MAGIC = {
    b"\x89PNG": "png",
    b"II*\x00": "tiff",
    b"MM\x00*": "tiff",
    b"II+\x00": "tiff",
    b"MM\x00+": "tiff",
    b"\x89HDF": "hdf5",
    b"\x93NUMPY": "npy",
    b"\xff\xd8\xff": "jpeg",
}
ZARR_MARKERS = (".zarray", ".zgroup", "zarr.json")
Selection = slice | Sequence[int] | None


def volume_format(path: Path) -> str:
    """The format of a file or folder: ``tiff``, ``png``, ``jpeg``, ``hdf5``, ``npy``, ``zarr`` or ``folder``.

    A gzip file gives ``"gzip:<format of its content>"``.

    Raises:
        DataError: for a file of another format.
    """
    path = Path(path)
    if path.is_dir():
        zarr_store = path.suffix == ".zarr" or any((path / marker).exists() for marker in ZARR_MARKERS)
        return "zarr" if zarr_store else "folder"
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(b"\x1f\x8b"):
        with gzip.open(path, "rb") as handle:
            try:
                head = handle.read(8)
            except OSError as error:
                raise DataError(f"{path} is not a readable gzip file ({error}){restore_hint(path)}") from error
        inner = next((name for magic, name in MAGIC.items() if head.startswith(magic)), None)
        if inner is None:
            raise DataError(f"{path} is gzip-compressed, but its content is no TIFF, PNG, HDF5 or .npy file")
        return f"gzip:{inner}"
    for magic, name in MAGIC.items():
        if head.startswith(magic):
            return name
    raise DataError(
        f"{path} is no TIFF, PNG, JPEG, HDF5 or .npy file (first bytes {head!r}): save the stack as a (multi-page) "
        f"TIFF, a folder of PNGs, HDF5 or zarr{restore_hint(path)}"
    )


def natural_key(path: Path) -> list:
    """Sort key (the name split into text and numbers) that orders ``slice2.png`` before ``slice10.png``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def single_channel(array: np.ndarray, source: str) -> np.ndarray:
    """The first channel of (..., C) pixels, C = 2 (grey + alpha), 3 (RGB) or 4 (RGBA); ``source`` names them in errors.

    Raises:
        DataError: when the alpha channel is not fully opaque or the colour channels differ.
    """
    channels = array.shape[-1]
    names = {2: "grey + alpha", 3: "RGB", 4: "RGBA"}[channels]
    if channels in (2, 4):
        alpha = array[..., -1]
        opaque = np.iinfo(array.dtype).max if array.dtype.kind in "iu" else 1.0
        if not np.all(alpha == opaque):
            raise DataError(
                f"{source} has {channels} channels ({names}) and its alpha channel is not fully opaque: EM images "
                "and labels have one channel; save it as a single-channel greyscale image (8-bit, or 16-bit for "
                "more than 255 instance ids) without transparency"
            )
        array = array[..., :-1]
    if array.shape[-1] > 1 and not all(np.array_equal(array[..., 0], array[..., c]) for c in (1, 2)):
        raise DataError(
            f"{source} is a colour image ({names}, its channels differ): EM images and labels have one channel; "
            "convert raw images to greyscale (e.g. `Image.open(path).convert('L')`); save instance labels as one "
            "integer id per pixel, not as colours"
        )
    return array[..., 0]


def _channels_last(array: np.ndarray, source: str) -> np.ndarray:
    """Drop a trailing channel axis (see :func:`single_channel`) and check that a 2D or 3D stack is left."""
    if _has_channels(array.shape):
        array = single_channel(array, source)
    if array.ndim not in (2, 3):
        raise DataError(f"{source} has shape {array.shape}: expected one 2D image (y, x) or a 3D stack (z, y, x)")
    if array.size == 0:
        raise DataError(f"{source} holds no pixels (shape {array.shape})")
    return array


class _LoggedProblems(logging.Handler):
    """Collects the errors tifffile logs (and skips) while reading the damaged pages of a truncated file."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the message."""
        self.messages.append(record.getMessage())


@contextmanager
def _damaged(path: Path, source: str, what: str) -> Iterator[None]:
    """Report any error a reader library raises (or tifffile only logs) as a :class:`DataError` naming the file.

    Errors of the request itself pass unchanged: :class:`DataError`, and the ``IndexError``/``TypeError`` of a
    slice selection.
    """
    problems = _LoggedProblems()
    logger = logging.getLogger("tifffile")
    logger.addHandler(problems)
    try:
        yield
    except (DataError, IndexError, TypeError):
        raise
    except Exception as error:  # the libraries raise many types for damaged files (zlib.error, struct.error, ...)
        raise DataError(f"{source} is not a readable {what} ({error}){restore_hint(path)}") from error
    finally:
        logger.removeHandler(problems)
    if problems.messages:
        raise DataError(f"{source} is not a readable {what} ({problems.messages[0]}){restore_hint(path)}")


def read_image(path: Path) -> np.ndarray:
    """One 2D image file (PNG, JPEG or single-page TIFF) as one grey channel.

    PIL modes: ``1`` gives booleans, ``P`` its palette indices, ``L``/``I;16``/``I`` 8-, 16- and 32-bit integers;
    ``LA``, ``RGB`` and ``RGBA`` go through :func:`single_channel`.

    Raises:
        DataError: for an unreadable file or one that is not single-channel.
    """
    with _damaged(path, str(path), "image"), Image.open(path) as image:
        image.load()
        array = np.asarray(image)
    return _channels_last(array, str(path))


def _indices(selection: Selection, n_slices: int, source: str) -> list[int]:
    """The slice numbers of a selection, each checked to lie within the stack."""
    if selection is None:
        return list(range(n_slices))
    if isinstance(selection, slice):
        return list(range(n_slices))[selection]
    indices = [int(index) for index in selection]
    if any(index != value for index, value in zip(indices, selection)):
        raise TypeError(f"slice indices for {source} must be whole numbers, got {list(selection)}")
    bad = [index for index in indices if not 0 <= index < n_slices]
    if bad or not indices:
        raise IndexError(f"slice indices {bad or '[]'} are outside 0..{n_slices - 1} of {source}")
    return indices


def _has_channels(shape: tuple[int, ...]) -> bool:
    """Whether a shape ends in a channel axis: (y, x, C) or (z, y, x, C) with C of 2, 3 or 4."""
    return len(shape) in (3, 4) and shape[-1] in (2, 3, 4) and min(shape[-3:-1]) > 4


def _take(array: object, selection: Selection, source: str) -> np.ndarray:
    """Read the selected slices of a lazy array (h5py, zarr, memmap) one by one; None reads everything."""
    shape = tuple(array.shape)
    if selection is None:
        return np.asarray(array[...])
    if len(shape) - _has_channels(shape) != 3:
        raise DataError(f"{source} is one 2D image (shape {shape}): a slice selection needs a 3D stack")
    return np.stack([np.asarray(array[index]) for index in _indices(selection, shape[0], source)])


def choose_dataset(names: list[str], dataset: str | None, source: object, how: str = "dataset=...") -> str:
    """The dataset of an HDF5 or zarr file to read: the named one, or the only one.

    Args:
        names: the file's datasets.
        dataset: the one asked for (None: the only one).
        source: the file, for the message.
        how: how the caller names a dataset, for the message (e.g. ``--dataset NAME``).

    Returns:
        The dataset's name.

    Raises:
        DataError: for no choice among several datasets, or a dataset the file does not hold.
    """
    if dataset is None:
        if len(names) != 1:
            raise DataError(f"{source} holds the datasets {names}: name the one to read ({how})")
        return names[0]
    if dataset not in names:
        raise DataError(f"{source} has no dataset {dataset!r}: choose one of {names} ({how})")
    return dataset


def hdf5_dataset(handle: h5py.File, dataset: str | None, source: object, how: str = "dataset=...") -> h5py.Dataset:
    """The dataset (lazy) of an open HDF5 file: :func:`choose_dataset` (same arguments) among all its datasets."""
    names: list[str] = []
    handle.visititems(lambda name, item: names.append(name) if isinstance(item, h5py.Dataset) else None)
    return handle[choose_dataset(names, dataset, source, how)]


def zarr_array(path: Path, dataset: str | None, how: str = "dataset=...") -> tuple[zarr.Array, str | None]:
    """``(array, its name in the group or None)`` of a zarr store: the store if it is one array, else the chosen one.

    ``dataset`` must be None for a single array; ``how`` is as for :func:`choose_dataset`.

    Raises:
        DataError: for a dataset named in a single array, or a choice :func:`choose_dataset` refuses.
    """
    store = zarr.open(str(path), mode="r")
    if isinstance(store, zarr.Array):
        if dataset is not None:
            raise DataError(f"{path} is one zarr array: it has no dataset {dataset!r} (leave {how} out)")
        return store, None
    names = sorted(name for name, item in store.members(max_depth=None) if isinstance(item, zarr.Array))
    name = choose_dataset(names, dataset, path, how)
    return store[name], name


def _read_hdf5(path: Path, dataset: str | None, selection: Selection, source: str) -> np.ndarray:
    with _damaged(path, source, "HDF5 file"), h5py.File(path, "r") as handle:
        return _take(hdf5_dataset(handle, dataset, source), selection, source)


def _read_zarr(path: Path, dataset: str | None, selection: Selection) -> np.ndarray:
    with _damaged(path, str(path), "zarr store"):
        array, _ = zarr_array(path, dataset)
        stack = selection is not None and array.ndim - _has_channels(tuple(array.shape)) == 3
        check_chunks(array, path, _indices(selection, array.shape[0], str(path)) if stack else None)
        return _take(array, selection, str(path))


def _read_tiff(path: Path, selection: Selection, source: str) -> np.ndarray:
    """The first series of a TIFF: one slice per page (only the selected ones read); a planar RGB page: one, grey."""
    with _damaged(path, source, "TIFF"), tifffile.TiffFile(path) as tiff:
        if not tiff.series:
            raise DataError(f"{source} is not a readable TIFF (it holds no image data){restore_hint(path)}")
        series = tiff.series[0]
        n_slices, page_axes = stack_slices(series, source), series.keyframe.axes
        if n_slices > 1 and len(series.pages) == n_slices:
            chosen = [series.pages[index] for index in _indices(selection, n_slices, source)]
            array = np.stack([samples_last(page.asarray(), page_axes, source) for page in chosen])
            selection = None
        else:
            array = samples_last(series.asarray(), series.axes, source)
    if array.size == 0:
        raise DataError(f"{source} is not a readable TIFF (it holds no image data){restore_hint(path)}")
    if is_planar(page_axes):
        try:
            array = single_channel(array, source)
        except DataError as error:
            raise DataError(f"{error}; {PLANAR_STACK_FIX.format(source=source, n=array.shape[-1])}") from None
    return _take(array, selection, source)


def _slices_in(file: Path) -> int:
    """The slices a file of a folder stack holds: a TIFF's (one per page), else one."""
    if volume_format(file) != "tiff":
        return 1
    with _damaged(file, str(file), "TIFF"), tifffile.TiffFile(file) as tiff:
        return stack_slices(tiff.series[0], str(file)) if tiff.series else 1


def _file_slices(file: Path, pages: list[int], per_file: int) -> np.ndarray:
    """The given pages of one file of a folder stack, as a (k, y, x) grey stack."""
    if volume_format(file) != "tiff":
        pixels = read_image(file)
    else:
        pixels = _channels_last(_read_tiff(file, pages if per_file > 1 else None, str(file)), str(file))
    return pixels[None][[0] * len(pages)] if per_file == 1 else pixels


def _read_folder(path: Path, selection: Selection) -> np.ndarray:
    """Every page of every image in the folder (see :func:`read_volume`), files in name order, pages in order."""
    files = sorted((file for file in path.iterdir() if file.suffix.lower() in IMAGE_SUFFIXES), key=natural_key)
    if not files:
        raise DataError(f"folder {path} holds no {'/'.join(IMAGE_SUFFIXES)} images: one image per slice is expected")
    counts = [_slices_in(file) for file in files]
    for file, count in zip(files, counts):
        if count != counts[0]:
            raise DataError(
                f"{file} holds {count} slices (pages) but {files[0].name} holds {counts[0]}: a folder stack reads "
                "every page of every file in name order, so each file must hold as many; put one image per slice in "
                "the folder, or read each multi-page TIFF by itself"
            )
    per_file = counts[0]
    chosen = _indices(selection, len(files) * per_file, str(path))
    runs = [(key, [index % per_file for index in run]) for key, run in groupby(chosen, lambda i: i // per_file)]
    parts = [(files[key], _file_slices(files[key], pages, per_file)) for key, pages in runs]
    first_file, first = parts[0]
    for file, part in parts:
        if part.ndim != 3 or part.shape[1:] != first.shape[1:] or part.dtype != first.dtype:
            raise DataError(
                f"{file} has shape {part.shape[1:]} and dtype {part.dtype}, but {first_file.name} has "
                f"{first.shape[1:]}, {first.dtype}: every slice of a folder stack must be alike"
            )
    return np.concatenate([part for _, part in parts])


def _read_plain(path: Path, kind: str, dataset: str | None, selection: Selection, source: str) -> np.ndarray:
    """Read an uncompressed file of a known format."""
    if kind == "hdf5":
        return _read_hdf5(path, dataset, selection, source)
    if dataset is not None:
        raise DataError(f"{source} is a {kind.upper()} file: only HDF5 and zarr have datasets (dataset=None)")
    if kind == "tiff":
        return _read_tiff(path, selection, source)
    if kind == "npy":
        with _damaged(path, source, ".npy file"):
            return _take(np.load(path, mmap_mode="r", allow_pickle=False), selection, source)
    image = read_image(path)  # png, jpeg
    return _take(image, selection, source)


def read_volume(path: Path | str, dataset: str | None = None, z: Selection = None) -> np.ndarray:
    """An image or stack from a TIFF, PNG/JPEG, folder of PNG/TIFF slices, HDF5, zarr or ``.npy`` file.

    A gzipped file (``.tif.gz``, ``.h5.gz``...) is unpacked to a temporary file. Only the slices in ``z`` are read, so a
    large stack need not fit in memory. A TIFF gives one slice per page (a planar RGB page: one colour slice); a folder
    gives every page of every file in natural name order, each file holding as many pages.

    Args:
        path: the file or folder.
        dataset: the dataset inside an HDF5 file or zarr group (None: the only one).
        z: slices to read: a slice, a list of indices, or None for all.

    Returns:
        The pixels in their stored dtype, (y, x) or (z, y, x), one channel.

    Raises:
        FileNotFoundError: the path does not exist.
        DataError: for an unknown or damaged format, several datasets and none named, images that are not
            single-channel, a TIFF hyperstack, folder files of different page counts, or missing zarr chunks.
        IndexError: for slice indices outside the stack.
        TypeError: for slice indices that are not whole numbers.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist{restore_hint(path)}")
    kind = volume_format(path)
    if kind == "zarr":
        array = _read_zarr(path, dataset, z)
    elif kind == "folder":
        if dataset is not None:
            raise DataError(f"{path} is a folder of images: it has no dataset {dataset!r}")
        array = _read_folder(path, z)
    elif kind.startswith("gzip:"):
        with tempfile.TemporaryDirectory(prefix="nsem-gunzip-") as folder:
            plain = Path(folder) / path.name.removesuffix(".gz")
            try:
                with gzip.open(path, "rb") as packed, open(plain, "wb") as unpacked:
                    shutil.copyfileobj(packed, unpacked, 1 << 20)
            except (OSError, EOFError) as error:
                raise DataError(f"{path} is not a readable gzip file ({error}){restore_hint(path)}") from error
            array = _read_plain(plain, kind.removeprefix("gzip:"), dataset, z, str(path))
    else:
        array = _read_plain(path, kind, dataset, z, str(path))
    return _channels_last(np.asarray(array), str(path))
