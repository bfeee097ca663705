"""How files lay out a stack's pixels: a TIFF's slices and colour samples, a zarr array's chunks on disk.

tifffile names each axis: ``Y``/``X`` the image, ``S`` a pixel's samples (colour channels; first in a planar TIFF,
last otherwise), others (``Q``, ``I``, ``Z``, ``T``, ``C``...) number the pages. A zarr array's missing chunk reads as
its fill value without a word: :func:`check_chunks` refuses it instead.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import numpy as np
import tifffile
import zarr

from .files import DataError

PLANAR_STACK_FIX = (
    "if {source} is a stack of {n} grey slices, write it again with tifffile.imwrite(path, stack, "
    "photometric='minisblack'): tifffile.imwrite stores a (3, y, x) or (4, y, x) array as one planar RGB(A) image "
    "unless told otherwise"
)  # added to the colour refusal of a planar TIFF


def samples_last(array: np.ndarray, axes: str, source: str) -> np.ndarray:
    """``array`` with tifffile's samples axis ``S`` (of ``axes``) moved last, (..., y, x, S); unchanged without one.

    Raises:
        DataError: for more than 4 samples per pixel (``source`` names the file).
    """
    if "S" not in axes:
        return array
    array = np.moveaxis(array, axes.index("S"), -1)
    if array.shape[-1] not in (2, 3, 4):
        raise DataError(f"{source} has {array.shape[-1]} samples per pixel: save it as one grey channel per pixel")
    return array


def is_planar(axes: str) -> bool:
    """Whether a page's tifffile ``axes`` put the samples before the rows (planar, channels-first, e.g. (3, y, x))."""
    return "S" in axes and axes.index("S") < axes.index("Y")


def stack_slices(series: tifffile.TiffPageSeries, source: str) -> int:
    """The slices of a TIFF series: the size of its one axis other than y, x and samples (1 without one).

    Raises:
        DataError: for a hyperstack (two such axes, e.g. z and channels) or channels (``C``) stored as pages.
    """
    stack = [(axis, size) for axis, size in zip(series.axes, series.shape) if axis not in "YXS" and size > 1]
    if len(stack) > 1 or (stack and stack[0][0] == "C"):
        raise DataError(
            f"{source} holds {series.axes} data of shape {series.shape} (tifffile's axes; C: channels): a stack is "
            "one grey channel along one axis (z, y, x); save each channel or time point as a stack of its own"
        )
    return int(np.prod([size for _, size in stack], dtype=int))


def check_chunks(array: zarr.Array, root: Path, z_indices: Collection[int] | None = None) -> None:
    """Refuse a zarr array (in a folder store) lacking a chunk or shard that a read needs (zarr would read it as zeros).

    Args:
        array: the array, opened from the folder ``root``.
        root: the store's folder.
        z_indices: the slices read (positions along the first axis); None: the whole array.

    Raises:
        DataError: naming the array's folder, the missing chunks and the fix.
    """
    shape, grid = tuple(array.shape), tuple(array.shards or array.chunks)
    coords = list(np.ndindex(*(-(-size // step) for size, step in zip(shape, grid))))
    if z_indices is not None:
        wanted = {index // grid[0] for index in z_indices}
        coords = [coord for coord in coords if coord[0] in wanted]
    folder = root / array.path if array.path else root
    missing = [key for key in map(array.metadata.encode_chunk_key, coords) if not (folder / key).is_file()]
    if missing:
        shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        raise DataError(
            f"{folder} lacks {len(missing)} of the {len(coords)} chunks read ({shown}), which zarr would fill with "
            f"{array.fill_value}: copy the store again if a copy or download was cut short; if they were left out "
            "because they hold only the fill value (zarr's write_empty_chunks=False), write the array again with "
            "every chunk stored (within zarr.config.set({'array.write_empty_chunks': True}))"
        )
