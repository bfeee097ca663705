"""The feed-forward style engine (helpers.style.feedforward) on real ISBI slices and the report's paintings.

The pinned reference ``tests/data/feedforward_slice0_style03.png`` is ISBI slice 0 stylised with painting 3 at
512 px, averaged over 4 x 4 blocks to 128 px; rewrite it (after a deliberate change of the engine) with
``.venv/bin/python tests/test_feedforward.py --write-reference``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import data
from helpers.style import feedforward, pngs

REFERENCE = Path(__file__).parent / "data" / "feedforward_slice0_style03.png"
BLOCK = 4  # 512 px -> 128 px
SAME = 1.0  # mean absolute difference (grey levels) another CPU's rounding may cause
DIFFERENT = 5.0  # at least this far for another painting or no style at all


def downsample(image: np.ndarray) -> np.ndarray:
    side = image.shape[0] // BLOCK
    blocks = image.astype(np.float64).reshape(side, BLOCK, side, BLOCK)
    return np.rint(blocks.mean(axis=(1, 3))).astype(np.uint8)


def mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean())


@pytest.fixture(scope="module")
def slice0() -> np.ndarray:
    return data.load_training([0])[0][0]


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return feedforward.painting_vectors([3, 10, 21])


def test_output_pinned_on_slice_0_with_painting_3(slice0, vectors):
    reference = np.asarray(Image.open(REFERENCE))
    out = feedforward.stylize(slice0, vectors[0])
    assert out.shape == (512, 512) and out.dtype == np.uint8
    assert mean_difference(downsample(out), reference) < SAME
    other = feedforward.stylize(slice0, vectors[1])
    assert mean_difference(downsample(other), reference) > DIFFERENT
    assert mean_difference(downsample(slice0), reference) > DIFFERENT


def test_style_vectors_differ_between_paintings_and_repeat(vectors):
    assert vectors.shape == (3, feedforward.VECTOR_LENGTH) and vectors.dtype == np.float32
    assert np.array_equal(vectors, feedforward.painting_vectors([3, 10, 21]))
    assert np.array_equal(vectors[0], feedforward.style_vector(data.load_style(3)))
    scale = np.linalg.norm(vectors, axis=1).min()
    for i in range(3):
        for j in range(i + 1, 3):
            assert np.linalg.norm(vectors[i] - vectors[j]) > 0.1 * scale


def test_cache_reads_back_and_recomputes_damaged_files(tmp_path, monkeypatch, caplog):
    first = feedforward.stylized_slices(tmp_path, [1], 3)
    assert first.shape == (1, 512, 512) and first.dtype == np.uint8
    (path,) = sorted((tmp_path / feedforward.FOLDER).glob("*.png"))
    assert path.name.startswith("slice01_style03_")
    real_stylize = feedforward.stylize

    def refuse(*args, **kwargs):
        raise AssertionError("stylize was called although the slice is cached")

    monkeypatch.setattr(feedforward, "stylize", refuse)
    assert np.array_equal(feedforward.stylized_slices(tmp_path, [1], 3), first)

    path.write_bytes(path.read_bytes()[:-200])  # truncated
    with pytest.raises(AssertionError, match="cached"):
        feedforward.stylized_slices(tmp_path, [1], 3)  # it noticed, and tried to recompute
    monkeypatch.setattr(feedforward, "stylize", real_stylize)
    with caplog.at_level(logging.WARNING, logger=feedforward.LOG.name):
        assert np.array_equal(feedforward.stylized_slices(tmp_path, [1], 3), first)
    assert "damaged cache file" in caplog.text
    assert np.array_equal(pngs.read_png(path), first[0])

    record = pngs.embedded_record(path)
    tampered = first[0].copy()
    tampered[:10, :10] ^= 0xFF
    path.write_bytes(pngs.png_bytes(tampered, record))  # whole PNG, record intact, other pixels
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=feedforward.LOG.name):
        assert np.array_equal(feedforward.stylized_slices(tmp_path, [1], 3), first)
    assert "digest" in caplog.text


def test_shapes_of_any_slice_size(slice0, vectors):
    out = feedforward.stylize(slice0[:100, :200], vectors[0])
    assert out.shape == (100, 200) and out.dtype == np.uint8
    assert 0.5 < feedforward.softening(slice0) <= 1.0
    assert feedforward.softening(slice0[:384, :384]) == pytest.approx(1.0)  # no resampling at the network's size


@pytest.mark.parametrize(
    ("image", "vector", "match"),
    [
        (np.zeros((2, 64, 64), np.uint8), np.zeros(100, np.float32), "image must be one grey"),
        (np.zeros((64, 64, 3), np.uint8), np.zeros(100, np.float32), "image must be one grey"),
        (np.zeros((8, 64), np.uint8), np.zeros(100, np.float32), "at least 16"),
        (np.zeros((64, 64), np.uint8), np.zeros(99, np.float32), "vector must hold 100"),
        (np.zeros((64, 64), np.uint8), np.full(100, np.nan, np.float32), "NaN"),
    ],
)
def test_bad_input_is_named(image, vector, match):
    with pytest.raises(ValueError, match=match):
        feedforward.stylize(image, vector)


def test_bad_paintings_and_vectors_are_named(vectors):
    with pytest.raises(ValueError, match="painting must be an RGB"):
        feedforward.style_vector(np.zeros((64, 64), np.uint8))
    with pytest.raises(ValueError, match="threads"):
        feedforward.style_vector(data.load_style(3), threads=0)
    with pytest.raises(TypeError, match="threads"):
        feedforward.style_vector(data.load_style(3), threads=True)
    with pytest.raises(KeyError, match="choose"):
        feedforward.painting_vectors([99])
    with pytest.raises(IndexError, match="outside"):
        feedforward.stylized_slices(Path("unused"), [30], 3)


def test_missing_wheel_names_make_setup(monkeypatch):
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="make setup"):
        feedforward.model_path("transform")


def write_reference() -> None:
    raw, _ = data.load_training([0])
    out = feedforward.stylize(raw[0], feedforward.painting_vectors([3])[0])
    REFERENCE.parent.mkdir(exist_ok=True)
    Image.fromarray(downsample(out), mode="L").save(REFERENCE, optimize=True)
    print(f"wrote {REFERENCE} ({REFERENCE.stat().st_size} bytes)")


if __name__ == "__main__" and sys.argv[1:] == ["--write-reference"]:
    write_reference()
