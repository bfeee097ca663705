"""Boundary maps and watershed superpixels on real ISBI crops."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.data import load_training
from helpers.segmentation import boundaries, superpixels


@pytest.fixture(scope="module")
def crop():
    raw, labels = load_training([0])
    return raw[0, :128, :128], labels[0, :128, :128]


@pytest.mark.parametrize("kind", ["frangi", "hessian", "raw", "hed"])
def test_boundary_maps_are_high_on_membranes(crop, kind):
    raw, labels = crop
    boundary = boundaries.boundary_map(raw, kind)
    assert boundary.shape == raw.shape and boundary.dtype == np.float32
    assert boundary.min() >= 0.0 and boundary.max() <= 1.0
    assert boundary[labels == 0].mean() > 1.5 * boundary[labels == 255].mean()


def test_frangi_polarity_matters(crop):
    """Dark ridges (black_ridges=True) are the membranes; the inverted image must score lower there."""
    raw, labels = crop
    right = boundaries.frangi_boundary(raw)
    wrong = boundaries.frangi_boundary(255 - raw)
    assert right[labels == 0].mean() > wrong[labels == 0].mean()


@pytest.mark.parametrize("method", ["distance", "seeded"])
def test_oversegment_gives_consecutive_ids_from_zero(crop, method):
    raw, _ = crop
    segments = superpixels.oversegment(boundaries.frangi_boundary(raw), method)
    ids = np.unique(segments)
    assert segments.shape == raw.shape and segments.dtype == np.uint32
    assert ids[0] == 0 and np.array_equal(ids, np.arange(len(ids)))
    assert 10 < len(ids) < raw.size / 25


def test_watershed_parameters_change_the_count(crop):
    raw, _ = crop
    boundary = boundaries.frangi_boundary(raw)
    fine = superpixels.superpixel_count(superpixels.distance_watershed(boundary, sigma_seeds=1.0))
    coarse = superpixels.superpixel_count(superpixels.distance_watershed(boundary, sigma_seeds=4.0))
    assert coarse < fine
    no_filter = superpixels.superpixel_count(
        superpixels.distance_watershed(boundaries.raw_boundary(raw), sigma_seeds=1.0)
    )
    assert no_filter > 0


def test_min_size_is_respected(crop):
    raw, _ = crop
    segments = superpixels.seeded_watershed(boundaries.frangi_boundary(raw), min_size=40)
    assert np.bincount(segments.ravel()).min() >= 40


def test_bad_input_raises_clear_errors(crop):
    raw, _ = crop
    with pytest.raises(ValueError, match="2D grey slice"):
        boundaries.frangi_boundary(np.stack([raw, raw]))
    with pytest.raises(ValueError, match=r"outside \[0, 1\]"):  # 0-255 floats are refused, not rescaled
        boundaries.frangi_boundary(raw.astype(np.float32))
    with pytest.raises(ValueError, match="unknown boundary map"):
        boundaries.boundary_map(raw, "sobel")
    with pytest.raises(ValueError, match="unknown watershed method"):
        superpixels.oversegment(boundaries.frangi_boundary(raw), "slic")
