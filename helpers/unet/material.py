"""Chapter 08's images: the training slices, their stylised copies and every test condition.

Stylised copies are whole ISBI slices stylised by the feed-forward engine (cached) with each training painting,
cropped like the originals; only the U-Net's own training slices are stylised (not the edge forest's). Unseen
styles: test slices stylised by the same engine with held-out paintings. Second datasets (FlyEM, or your own
:class:`helpers.data.EMStack`) are test conditions named by the dataset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..data import EMStack, style_names
from ..experiments.scenarios import UNSEEN_PREFIX
from ..experiments.shifts import SHIFTS, appearance_shift
from ..paths import digest
from ..segmentation.pipeline import load_slices
from ..style.feedforward import stylized_slices

if TYPE_CHECKING:
    from ..config import Config

FLYEM = "flyem"  # the test condition of the second dataset (FlyEM medulla)


@dataclass(frozen=True)
class Slice:
    """One image with its labels: ``condition`` says what was done to ISBI slice ``index`` (or names a dataset)."""

    condition: str
    index: int
    raw: np.ndarray  # uint8
    membranes: np.ndarray  # 0 membrane, 255 cell
    gt: np.ndarray  # dense cell ids


@dataclass(frozen=True)
class Material:
    """Every image of the experiment."""

    originals: list[Slice]  # the training slices
    stylised: list[Slice]  # the U-Net's training slices stylised with each training painting ("styleNN")
    tests: list[Slice]  # every test condition


def edge_forest_slices(indices: Sequence[int], edge_slices: int) -> list[int]:
    """The training slices kept from the U-Net for the edge forest: the last ``edge_slices`` (0: none), ascending.

    Raises:
        ValueError: when ``edge_slices`` leaves the U-Net no slice.
    """
    indices = sorted(set(indices))
    if edge_slices >= len(indices):
        raise ValueError(
            f"UNetWork.edge_slices = {edge_slices} leaves the U-Net none of the {len(indices)} training slices: "
            "hold out fewer"
        )
    return indices[len(indices) - edge_slices :] if edge_slices else []


def training_paintings(paintings: Sequence[int] | None, heldout: Sequence[int]) -> tuple[int, ...]:
    """The paintings of the style arms, ascending: ``paintings`` (None: every report painting) but the ``heldout``.

    Raises:
        ValueError: for a held-out painting among the given ones, or none left.
    """
    chosen = sorted(style_names()) if paintings is None else sorted(set(paintings))
    overlap = sorted(set(paintings or ()) & set(heldout))
    if overlap:
        raise ValueError(f"UNetWork.paintings holds held-out paintings {overlap}: train on the others")
    chosen = [painting for painting in chosen if painting not in heldout]
    if not chosen:
        raise ValueError("no training painting is left once the held-out ones are removed: give UNetWork.paintings")
    return tuple(chosen)


def _stylised(cache: Path, slices: Sequence[int], crop: int | None, painting: int, condition: str) -> list[Slice]:
    """ISBI slices stylised with one painting by the feed-forward engine (cached), cropped like the originals."""
    _, labels, gts = load_slices(slices, crop)
    stack = stylized_slices(cache, slices, painting)
    if crop is not None:
        stack = stack[:, :crop, :crop]
    return [Slice(condition, index, raw, label, gt) for index, raw, label, gt in zip(slices, stack, labels, gts)]


def second_datasets(flyem: EMStack | None, others: Mapping[str, EMStack] | None) -> dict[str, EMStack]:
    """The second datasets of the test conditions by name: ``flyem`` as ``"flyem"``, then ``others`` (None: none).

    Raises:
        ValueError: for a name that is empty, given twice, or already a condition of ISBI's test slices.
    """
    datasets = {} if flyem is None else {FLYEM: flyem}
    for name, stack in dict(others or {}).items():
        taken = name in datasets or name in SHIFTS or str(name).startswith(UNSEEN_PREFIX)
        if not isinstance(name, str) or not name.strip() or taken:
            raise ValueError(
                f"others: the dataset name {name!r} is {'empty' if not str(name).strip() else 'taken'} (conditions "
                f"of the ISBI test slices: {list(SHIFTS)}, {UNSEEN_PREFIX}NN, and {FLYEM!r} for flyem=): name it "
                "otherwise"
            )
        datasets[name] = stack
    return datasets


def load_material(
    cache: Path,
    train_slices: Sequence[int],
    test_slices: Sequence[int],
    crop: int | None,
    paintings: Sequence[int],
    heldout_paintings: Sequence[int],
    edge_slices: int,
    flyem: EMStack | None = None,
    others: Mapping[str, EMStack] | None = None,
) -> Material:
    """Training and test images of the experiment.

    Args:
        cache: the cache of the feed-forward stylisation (``config.cache``).
        train_slices: ISBI training slices (``config.segmentation.train_slices``).
        test_slices: ISBI test slices (``config.segmentation.test_slices``).
        crop: crop of every slice (``config.segmentation.crop``; None: whole slices).
        paintings: the training paintings (:func:`training_paintings`).
        heldout_paintings: paintings never trained on; test slices stylised with them are test conditions.
        edge_slices: training slices kept from the U-Net (``UNetWork.edge_slices``): not stylised.
        flyem: the FlyEM test slices, condition ``"flyem"`` (None: not tested).
        others: more test datasets by name, e.g. ``{"my-lab": load_em_stack(...)}``; each name is a condition,
            compared wherever FlyEM is (:func:`helpers.unet.analysis.group_of`).

    Returns:
        The material.

    Raises:
        ValueError: for a dataset name that is taken (:func:`second_datasets`).
    """
    datasets = second_datasets(flyem, others)
    raw, labels, gts = load_slices(train_slices, crop)
    originals = [Slice("original", index, *items) for index, *items in zip(train_slices, raw, labels, gts)]
    held = set(edge_forest_slices(train_slices, edge_slices))
    unet_slices = [index for index in train_slices if index not in held]
    stylised = [image for painting in paintings
                for image in _stylised(cache, unet_slices, crop, painting, f"style{painting:02d}")]  # fmt: skip
    raw, labels, gts = load_slices(test_slices, crop)
    tests = [
        Slice(shift, index, appearance_shift(image, shift, seed=index), label, gt)
        for shift in SHIFTS
        for index, image, label, gt in zip(test_slices, raw, labels, gts)
    ]
    for painting in heldout_paintings:
        tests += _stylised(cache, test_slices, crop, painting, f"{UNSEEN_PREFIX}{painting:02d}")
    for name, dataset in datasets.items():
        stack = zip(dataset.raw, dataset.membranes, dataset.gt)
        tests += [Slice(name, index, raw, membranes, gt) for index, (raw, membranes, gt) in enumerate(stack)]
    return Material(originals, stylised, tests)


def from_config(config: Config, flyem: EMStack | None = None, others: Mapping[str, EMStack] | None = None) -> Material:
    """:func:`load_material` with a configuration's slices, crop, U-Net and held-out paintings, edge slices and cache.

    Args:
        config: the configuration (:func:`helpers.config.select`).
        flyem: the FlyEM test slices (None: not tested).
        others: more test datasets by name (see :func:`load_material`).

    Returns:
        The material.

    Raises:
        ValueError: for a held-out training painting (:func:`training_paintings`) or a taken dataset name.
    """
    segmentation, heldout = config.segmentation, config.experiments.heldout_styles
    return load_material(
        config.cache, segmentation.train_slices, segmentation.test_slices, segmentation.crop,
        training_paintings(config.unet.paintings, heldout), heldout, config.unet.edge_slices, flyem, others,
    )  # fmt: skip


def provenance(material: Material) -> dict:
    """Digests of the stylised images an experiment read, recorded with its results (as chapter 06 does).

    Returns:
        ``stylized_images``: digest of every stylised training image and held-out-painting test image (tag
        ``<condition>-<slice>`` and pixels, in tag order); ``n_stylized_images``: their number.
    """
    stylised = material.stylised + [image for image in material.tests if image.condition.startswith(UNSEEN_PREFIX)]
    tagged = sorted(
        ((f"{image.condition}-{image.index:02d}", image.raw) for image in stylised), key=lambda pair: pair[0]
    )
    return {
        "stylized_images": digest(
            *[part for tag, raw in tagged for part in (tag, np.ascontiguousarray(raw).tobytes())]
        ),
        "n_stylized_images": len(tagged),
    }
