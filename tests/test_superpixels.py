"""Boundary maps and watershed superpixels on real ISBI crops."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import superpixels as S
from helpers.data import load_training


@pytest.fixture(scope="module")
def crop():
    raw, labels = load_training([0])
    return raw[0, :128, :128], labels[0, :128, :128]


@pytest.mark.parametrize("kind", ["frangi", "hessian", "raw", "hed"])
def test_boundary_maps_are_high_on_membranes(crop, kind):
    raw, labels = crop
    boundary = S.boundary_map(raw, kind)
    assert boundary.shape == raw.shape and boundary.dtype == np.float32
    assert 0.0 <= boundary.min() and boundary.max() <= 1.0
    assert boundary[labels == 0].mean() > 1.5 * boundary[labels == 255].mean()


def test_frangi_polarity_matters(crop):
    """Dark ridges (black_ridges=True) are the membranes; the inverted image must score lower there."""
    raw, labels = crop
    right = S.frangi_boundary(raw)
    wrong = S.frangi_boundary(255 - raw)
    assert right[labels == 0].mean() > wrong[labels == 0].mean()


@pytest.mark.parametrize("method", ["distance", "seeded"])
def test_oversegment_gives_consecutive_ids_from_zero(crop, method):
    raw, _ = crop
    superpixels = S.oversegment(S.frangi_boundary(raw), method)
    ids = np.unique(superpixels)
    assert superpixels.shape == raw.shape and superpixels.dtype == np.uint32
    assert ids[0] == 0 and np.array_equal(ids, np.arange(len(ids)))
    assert 10 < len(ids) < raw.size / 25


def test_watershed_parameters_change_the_count(crop):
    raw, _ = crop
    boundary = S.frangi_boundary(raw)
    fine = S.superpixel_count(S.distance_watershed(boundary, sigma_seeds=1.0))
    coarse = S.superpixel_count(S.distance_watershed(boundary, sigma_seeds=4.0))
    assert coarse < fine
    no_filter = S.superpixel_count(S.distance_watershed(S.raw_boundary(raw), sigma_seeds=1.0))
    assert no_filter > 0


def test_min_size_is_respected(crop):
    raw, _ = crop
    superpixels = S.seeded_watershed(S.frangi_boundary(raw), min_size=40)
    assert np.bincount(superpixels.ravel()).min() >= 40


def test_bad_input_raises_clear_errors(crop):
    raw, _ = crop
    with pytest.raises(ValueError, match="2D grey slice"):
        S.frangi_boundary(np.stack([raw, raw]))
    with pytest.raises(ValueError, match="unknown boundary map"):
        S.boundary_map(raw, "sobel")
    with pytest.raises(ValueError, match="unknown watershed method"):
        S.oversegment(S.frangi_boundary(raw), "slic")
