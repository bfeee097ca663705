"""Chapter 08's control for the two forest pipelines: normalisation with and without styles, on the same images.

A *forest arm* is a boundary detector of chapter 06 (:data:`PIPELINES`: the Frangi filter, or the pixel forest)
trained on the originals or on the originals plus their stylised copies (:data:`TRAINING_SETS`), with a
per-slice intensity normalisation (:func:`helpers.data.normalize_intensity`) of every image it reads. As in
chapter 06, every training image (stylised ones included) trains the pixel forest (out-of-fold maps) and the
edge forest; the test images are those of :func:`.experiment.load_material`, so a forest arm's rows pair with
the U-Net arms' rows on the same (seed, condition, slice). Forest arms are named ``"<pipeline>:<training>/
<intensity>"`` (e.g. ``"frangi:style/percentile"``) beside the U-Net's ``"<training>/<intensity>"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import product

from tqdm.auto import tqdm

from ..data import normalize_intensity
from ..segmentation import metrics
from ..segmentation.boundaries import pixel_rf_boundaries
from ..segmentation.pipeline import GraphData, PipelineSettings, graph_data, segment_graph, train_edge_rf
from .experiment import INTENSITIES, Material, Slice

PIPELINES = ("frangi", "pixel-rf")  # chapter 06's boundary detectors
TRAINING_SETS = {"original": False, "style": True}  # name -> adds the stylised slices


def forest_arm_name(pipeline: str, training: str, intensity: str) -> str:
    """The name of a forest arm, ``"<pipeline>:<training set>/<intensity>"``.

    Args:
        pipeline: a boundary detector of :data:`PIPELINES`.
        training: a key of :data:`TRAINING_SETS`.
        intensity: a normalisation of :data:`.experiment.INTENSITIES`.

    Returns:
        The name, e.g. ``"pixel-rf:style/none"``.

    Raises:
        KeyError: for an unknown pipeline, training set or normalisation.
    """
    if pipeline not in PIPELINES or training not in TRAINING_SETS or intensity not in INTENSITIES:
        raise KeyError(
            f"unknown forest arm {pipeline}:{training}/{intensity}: pipelines {PIPELINES}, training sets "
            f"{tuple(TRAINING_SETS)}, normalisations {INTENSITIES}"
        )
    return f"{pipeline}:{training}/{intensity}"


FrangiGraphs = dict[tuple[str, int, str, bool], GraphData]  # (condition, slice, intensity, labelled) -> graph


def _frangi_graph(image: Slice, labelled: bool, settings: PipelineSettings, graphs: FrangiGraphs) -> GraphData:
    """The Frangi graph of an image, built once per normalisation (the Frangi map needs no training)."""
    key = (image.condition, image.index, settings.intensity, labelled)
    if key not in graphs:
        graphs[key] = graph_data(image.raw, image.gt if labelled else None, None, settings)
    return graphs[key]


def _graphs(
    train: list[Slice], tests: list[Slice], settings: PipelineSettings, n_jobs: int, frangi_graphs: FrangiGraphs
) -> tuple[list[GraphData], list[GraphData]]:
    """Training graphs (with labels) and test graphs of one pipeline; ``settings.intensity`` is applied."""
    if settings.boundary != "pixel-rf":
        return [_frangi_graph(image, True, settings, frangi_graphs) for image in train], [
            _frangi_graph(image, False, settings, frangi_graphs) for image in tests
        ]
    train_maps, test_maps, _ = pixel_rf_boundaries(
        [normalize_intensity(image.raw, settings.intensity) for image in train], [image.membranes for image in train],
        [normalize_intensity(image.raw, settings.intensity) for image in tests], settings, n_jobs=n_jobs,
    )  # fmt: skip
    return [graph_data(image.raw, image.gt, boundary, settings) for image, boundary in zip(train, train_maps)], [
        graph_data(image.raw, None, boundary, settings) for image, boundary in zip(tests, test_maps)
    ]


def run_forest_arm(
    material: Material,
    pipeline: str,
    training: str,
    intensity: str,
    seed: int,
    settings: PipelineSettings,
    n_jobs: int = 1,
    frangi_graphs: FrangiGraphs | None = None,
) -> list[dict]:
    """Train one forest arm (pixel forest where there is one, edge forest) and score it on every test image.

    Args:
        material: the images (:func:`.experiment.load_material`).
        pipeline: a boundary detector of :data:`PIPELINES`.
        training: a training set of :data:`TRAINING_SETS`.
        intensity: a normalisation of :data:`.experiment.INTENSITIES`.
        seed: the seed of the forests.
        settings: segmentation settings (watershed, forests, multicut); boundary, seed and intensity are set here.
        n_jobs: threads of the forests.
        frangi_graphs: Frangi graphs built by earlier arms, reused and added to (None: none kept; the graphs of
            the settings' watershed, so keep one dictionary per watershed setting).

    Returns:
        One row per test image: arm, training, intensity, seed, condition, slice and the segmentation scores
        (rand_error, vi, vi_split, vi_merge, v_rand, v_info); no pixel scores (the Frangi map is no probability).
    """
    name = forest_arm_name(pipeline, training, intensity)
    train = material.originals + (material.stylised if TRAINING_SETS[training] else [])
    settings = replace(settings, boundary=pipeline, seed=seed, intensity=intensity)
    train_graphs, test_graphs = _graphs(
        train, material.tests, settings, n_jobs, {} if frangi_graphs is None else frangi_graphs
    )
    forest = train_edge_rf(
        train_graphs, trees=settings.rf_trees, seed=seed, max_samples=settings.rf_max_samples,
        tree_fraction=settings.rf_tree_fraction, n_jobs=n_jobs,
    )  # fmt: skip
    rows = []
    for image, graph in zip(material.tests, test_graphs):
        scores = metrics.evaluate(segment_graph(graph, forest, settings), image.gt, image.membranes)
        rows.append({
            "arm": name, "training": training, "intensity": intensity, "seed": seed, "condition": image.condition,
            "slice": image.index, **scores,
        })  # fmt: skip
    return rows


def run_forest_arms(
    material: Material,
    intensities: Sequence[str],
    seeds: Sequence[int],
    settings: PipelineSettings,
    pipelines: Sequence[str] = PIPELINES,
    progress: bool = True,
) -> list[dict]:
    """Every forest arm: each pipeline, training set (:data:`TRAINING_SETS`), normalisation and seed.

    Args:
        material: the images (:func:`.experiment.load_material`).
        intensities: normalisations of :data:`.experiment.INTENSITIES`.
        seeds: seeds of the forests.
        settings: segmentation settings (see :func:`run_forest_arm`).
        pipelines: boundary detectors of :data:`PIPELINES`.
        progress: show a progress bar over the arms.

    Returns:
        The rows of every arm, in the order pipeline, training set, normalisation, seed. The Frangi graphs are
        built once per image and normalisation and shared by the arms.
    """
    arms = list(product(pipelines, TRAINING_SETS, intensities, seeds))
    rows, frangi_graphs = [], {}
    for pipeline, training, intensity, seed in tqdm(arms, desc="forest arms", disable=not progress):
        rows += run_forest_arm(material, pipeline, training, intensity, seed, settings, frangi_graphs=frangi_graphs)
    return rows
