"""A raw stack read one slice at a time: never the whole stack in memory, whatever its length.

:func:`open_stack` reads only a file's header (TIFF, folder of slices, HDF5, zarr, ``.npy``) into a :class:`LazyStack`,
whose :meth:`LazyStack.read` reads one slice; it holds only the path, so it pickles small and each worker process reads
its own slices. :func:`stack_scale` finds the rescaling of :func:`helpers.data.unit_raw` in one pass and
:func:`unit_slice` applies it, so a slice's pixels do not depend on how the stack is cut.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import tifffile
import zarr

from .files import DataError
from .layouts import samples_last, stack_slices
from .readers import (
    IMAGE_SUFFIXES,
    hdf5_dataset,
    natural_key,
    read_image,
    single_channel,
    volume_format,
    zarr_array,
)

LAZY_FORMATS = ("tiff", "folder", "hdf5", "zarr", "npy", "png", "jpeg")
Scale = tuple[float, float] | None  # (low, high) of a linear rescaling to [0, 1]; None: uint8 or float in [0, 1]


@dataclass(frozen=True)
class LazyStack:
    """A raw stack on disk, read slice by slice (:meth:`read`); its shape and dtype come from the file's header."""

    path: Path
    kind: str  # a format of LAZY_FORMATS
    shape: tuple[int, int, int]  # (z, y, x)
    dtype: str
    dataset: str | None = None  # HDF5 dataset / zarr array inside a group
    files: tuple[str, ...] = ()  # a folder stack's file names, in slice order

    def __len__(self) -> int:
        """Number of slices."""
        return self.shape[0]

    def read(self, index: int) -> np.ndarray:
        """One slice (0..len-1) as stored: (y, x) pixels of one grey channel in the stack's dtype.

        Raises:
            IndexError: for a position outside the stack.
            DataError: for a slice that cannot be read or differs from the stack's shape or dtype.
        """
        if not 0 <= int(index) < len(self):
            raise IndexError(f"slice {index} is outside 0..{len(self) - 1} of {self.path}")
        index = int(index)
        try:
            pixels = self._read(index)
        except (DataError, IndexError):
            raise
        except Exception as error:  # the reader libraries raise many types for a damaged file
            raise DataError(f"slice {index} of {self.path} is not readable ({error}): check the file") from error
        if pixels.ndim == 3 and pixels.shape[-1] in (2, 3, 4):
            pixels = single_channel(pixels, f"slice {index} of {self.path}")
        if pixels.shape != self.shape[1:] or str(pixels.dtype) != self.dtype:
            raise DataError(
                f"slice {index} of {self.path} has shape {pixels.shape} and dtype {pixels.dtype}, the stack "
                f"{self.shape[1:]} and {self.dtype}: every slice of a stack must be alike"
            )
        return pixels

    def _read(self, index: int) -> np.ndarray:
        """The slice's pixels from the file (shape and dtype checked by :meth:`read`)."""
        if self.kind == "tiff":
            with tifffile.TiffFile(self.path) as tiff:
                series = tiff.series[0]
                if len(series.pages) == len(self) > 1:  # one page per slice: read only this one
                    return samples_last(series.pages[index].asarray(), series.keyframe.axes, str(self.path))
                pixels = samples_last(series.asarray(), series.axes, str(self.path))  # one page, or a rare layout
                plane = 2 + ("S" in series.axes)  # (y, x) or (y, x, samples)
                return pixels.reshape(-1, *pixels.shape[pixels.ndim - plane :])[index]
        if self.kind == "folder":
            return read_image(self.path / self.files[index])
        if self.kind in ("png", "jpeg"):
            return read_image(self.path)
        if self.kind == "hdf5":
            with h5py.File(self.path, "r") as handle:
                dataset = handle[self.dataset]
                return np.asarray(dataset[index] if dataset.ndim == 3 else dataset[...])
        array = _open_array(self.path, self.kind, self.dataset)
        return np.asarray(array[index] if len(array.shape) == 3 else array[...])

    def identity(self) -> dict:
        """A JSON-ready dict naming the content: file name, format, shape, dtype and a SHA-256 of three slices."""
        picks = sorted({0, len(self) // 2, len(self) - 1})
        hasher = hashlib.sha256(repr((self.shape, self.dtype)).encode())
        for index in picks:
            hasher.update(np.ascontiguousarray(self.read(index)).tobytes())
        return {
            "name": self.path.name,
            "format": self.kind,
            "dataset": self.dataset,
            "shape": list(self.shape),
            "dtype": self.dtype,
            "sampled_sha256": hasher.hexdigest(),
        }


def _open_array(path: Path, kind: str, dataset: str | None) -> object:
    """A zarr array or a ``.npy`` memory map (both read lazily)."""
    if kind == "npy":
        return np.load(path, mmap_mode="r", allow_pickle=False)
    store = zarr.open(str(path), mode="r")
    return store if isinstance(store, zarr.Array) else store[dataset]


def _stack_shape(shape: tuple[int, ...], source: Path) -> tuple[int, int, int]:
    """(z, y, x) of an array's shape: a 2D image is a stack of one slice; a trailing colour axis is dropped."""
    if len(shape) in (3, 4) and shape[-1] in (2, 3, 4) and min(shape[-3:-1]) > 4:
        shape = shape[:-1]
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) != 3 or 0 in shape:
        raise DataError(f"{source} has shape {shape}: expected one 2D image (y, x) or a 3D stack (z, y, x)")
    return tuple(int(size) for size in shape)


def open_stack(path: Path | str, dataset: str | None = None) -> LazyStack:
    """Open a raw stack for reading slice by slice (only its header is read).

    Args:
        path: a (multi-page) TIFF, a folder of PNG/TIFF slices (one per file, in natural name order), an HDF5 file, a
            zarr store, a ``.npy`` file, or one PNG/JPEG image.
        dataset: the dataset inside an HDF5 file or zarr group (None: the only one).

    Returns:
        The stack.

    Raises:
        FileNotFoundError: the path does not exist.
        DataError: for a gzipped file (unpack it first), an unknown or damaged format, several datasets and none named,
            a TIFF hyperstack, or a folder of multi-page files.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: pass an existing raw stack")
    kind = volume_format(path)
    if kind.startswith("gzip:"):
        raise DataError(f"{path} is gzip-compressed, which cannot be read slice by slice: unpack it first (gunzip)")
    if dataset is not None and kind not in ("hdf5", "zarr"):
        raise DataError(f"{path} is a {kind} stack: only HDF5 and zarr have datasets (leave --dataset out)")
    try:
        return _open(path, kind, dataset)
    except (DataError, FileNotFoundError):
        raise
    except Exception as error:  # damaged headers
        raise DataError(f"{path} is not a readable {kind} stack ({error}): check the file") from error


def _open(path: Path, kind: str, dataset: str | None) -> LazyStack:
    """The :class:`LazyStack` of a file of a known format."""
    if kind == "tiff":
        with tifffile.TiffFile(path) as tiff:
            if not tiff.series:
                raise DataError(f"{path} is not a readable TIFF (it holds no image data)")
            series = tiff.series[0]
            n_slices = stack_slices(series, str(path))
            page = series.keyframe
            plane = tuple(size for axis, size in zip(page.axes, page.shape) if axis in "YX")
            return LazyStack(path, kind, (n_slices, *plane), str(page.dtype))
    if kind == "folder":
        files = sorted((f for f in path.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES), key=natural_key)
        if not files:
            raise DataError(
                f"folder {path} holds no {'/'.join(IMAGE_SUFFIXES)} images: one image per slice is expected"
            )
        first = read_image(files[0])
        if first.ndim != 2:
            raise DataError(f"{files[0]} holds several slices: a folder stack holds one image per slice")
        return LazyStack(path, kind, (len(files), *first.shape), str(first.dtype), None, tuple(f.name for f in files))
    if kind in ("png", "jpeg"):
        first = read_image(path)
        return LazyStack(path, kind, (1, *first.shape), str(first.dtype))
    if kind == "hdf5":
        with h5py.File(path, "r") as handle:
            array = hdf5_dataset(handle, dataset, path, "--dataset NAME")
            return LazyStack(path, kind, _stack_shape(array.shape, path), str(array.dtype), array.name.lstrip("/"))
    if kind == "zarr":
        array, name = zarr_array(path, dataset, "--dataset NAME")
        return LazyStack(path, kind, _stack_shape(tuple(array.shape), path), str(array.dtype), name)
    if kind == "npy":
        array = _open_array(path, kind, None)
        return LazyStack(path, kind, _stack_shape(array.shape, path), str(array.dtype))
    raise DataError(f"{path} is a {kind} file: save the stack as a TIFF, a folder of PNGs, HDF5 or zarr")


def stack_scale(stack: LazyStack, progress: bool = False) -> Scale:
    """The rescaling of :func:`helpers.data.unit_raw` for the whole stack, one slice at a time (``progress``: a bar).

    Returns None for uint8 or floats within [0, 1] (kept), else the stack's (min, max).

    Raises:
        DataError: for boolean or non-numeric pixels, NaN/inf, or a constant stack.
    """
    dtype = np.dtype(stack.dtype)
    if dtype == np.uint8:
        return None
    if dtype.kind not in "iuf":  # booleans (kind "b") too
        raise DataError(f"{stack.path} has dtype {dtype}: raw EM images are 8- or 16-bit integers or floats")
    from tqdm.auto import tqdm

    low, high = np.inf, -np.inf
    for index in tqdm(range(len(stack)), desc="intensity range", disable=not progress):
        values = stack.read(index).astype(np.float32)
        if not np.isfinite(values).all():
            raise DataError(f"slice {index} of {stack.path} contains NaN or inf values: clean the stack first")
        low, high = min(low, float(values.min())), max(high, float(values.max()))
    if dtype.kind == "f" and low >= 0.0 and high <= 1.0:
        return None
    if high <= low:
        raise DataError(f"{stack.path} is constant ({low:g} everywhere): there is nothing to segment")
    return low, high


def unit_slice(pixels: np.ndarray, scale: Scale) -> np.ndarray:
    """A slice in the pixel contract by ``scale`` (:func:`stack_scale`): uint8 kept, else float32 in [0, 1]."""
    if scale is None:
        return pixels if pixels.dtype == np.uint8 else pixels.astype(np.float32)
    low, high = scale
    return (pixels.astype(np.float32) - low) / (high - low)
