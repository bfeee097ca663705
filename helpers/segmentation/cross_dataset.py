"""Train on one EM dataset, test on another: the runs of chapter 07 (segment your own data).

Each training set (an :class:`helpers.data.EMStack`) trains one edge forest per intensity normalisation; all
segment the same test slices, which are also scored for the baselines of their superpixels (no merges, all merged,
best reachable). Result: one tidy row per (training set, normalisation, test slice, method). A filter's test graphs
are shared by all training sets; ``pixel-rf`` trains its classifier per training set
(:func:`.boundaries.pixel_rf_boundaries`), so its test graphs and baselines belong to that training set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from tqdm.auto import tqdm

from ..data import EMStack, normalize_intensity
from .boundaries import PIXEL_RF, pixel_rf_boundaries
from .evaluation import best_reachable, trivial_labellings
from .metrics import evaluate
from .multicut import node_labels_to_segmentation
from .pipeline import GraphData, graph_data, segment_graph, train_edge_rf
from .settings import PipelineSettings

BASELINES = ("no merges", "all merged", "best reachable")  # methods of the "train" value None


@dataclass
class Transfer:
    """The forests, test graphs, segmentations and score rows of :func:`cross_dataset`."""

    rows: list[dict]  # train, intensity, slice, method, n_segments and the scores of metrics.evaluate
    forests: dict[tuple[str, str], RandomForestClassifier] = field(default_factory=dict)  # (train, intensity)
    # by intensity for a filter; by (train, intensity) for pixel-rf, whose test maps depend on the training set
    test_graphs: dict[str | tuple[str, str], list[GraphData]] = field(default_factory=dict)
    segmentations: dict[tuple[str, str, str], list[np.ndarray]] = field(default_factory=dict)  # (train, int., method)
    pixel_classifiers: dict[tuple[str, str], RandomForestClassifier] = field(default_factory=dict)  # pixel-rf only


def stack_graphs(
    stack: EMStack, settings: PipelineSettings, labelled: bool = True, progress: bool = False
) -> list[GraphData]:
    """The graph of every slice of a stack (with edge labels from its ground truth when ``labelled``).

    Args:
        stack: the slices.
        settings: the pipeline's settings (``intensity`` included).
        labelled: add the ground-truth edge labels (training graphs).
        progress: show a progress bar.
    """
    slices = tqdm(range(len(stack)), desc=f"graphs of {stack.name}", disable=not progress)
    return [graph_data(stack.raw[i], stack.gt[i] if labelled else None, settings=settings) for i in slices]


def pixel_rf_graphs(
    train: EMStack, test: EMStack, settings: PipelineSettings, progress: bool = False
) -> tuple[list[GraphData], list[GraphData], RandomForestClassifier]:
    """Graphs of a training and a test stack on pixel-classifier maps learnt from the training stack's membranes.

    As :func:`.pipeline.run`: raw normalised by ``settings.intensity``, out-of-fold maps for the training slices.

    Args:
        train: the training slices with their membrane labels and ground truth.
        test: the test slices.
        settings: the pipeline's settings (``pixel_trees``, ``pixel_folds``, ``seed``, ``intensity``...).
        progress: show a progress bar.

    Returns:
        ``(labelled training graphs, unlabelled test graphs, the pixel classifier)``.

    Raises:
        ValueError: for a training stack of fewer than 2 slices (out-of-fold maps need two folds).
    """
    if len(train) < 2:
        raise ValueError(
            f"boundary 'pixel-rf' maps the training slices out of fold: {train.name} has {len(train)} slice, give it "
            "at least 2 (or choose a filter boundary such as 'frangi')"
        )
    train_maps, test_maps, classifier = pixel_rf_boundaries(
        [normalize_intensity(raw, settings.intensity) for raw in train.raw],
        list(train.membranes),
        [normalize_intensity(raw, settings.intensity) for raw in test.raw],
        settings,
    )
    items = [(train, i, True, boundary) for i, boundary in enumerate(train_maps)]
    items += [(test, i, False, boundary) for i, boundary in enumerate(test_maps)]
    bar = tqdm(items, desc=f"graphs on the pixel maps of {train.name}", disable=not progress)
    graphs = [graph_data(stack.raw[i], stack.gt[i] if labelled else None, boundary, settings)
              for stack, i, labelled, boundary in bar]  # fmt: skip
    return graphs[: len(train)], graphs[len(train) :], classifier


def _row(train: str, intensity: str, index: int, method: str, segmentation: np.ndarray, stack: EMStack) -> dict:
    """One scored row."""
    scores = evaluate(segmentation, stack.gt[index])
    keys = {"train": train, "intensity": intensity, "slice": index, "method": method}
    return {**keys, "n_segments": int(len(np.unique(segmentation))), **scores}


def cross_dataset(
    train_sets: Mapping[str, EMStack],
    test: EMStack,
    settings: PipelineSettings,
    intensities: Sequence[str] = ("none", "percentile"),
    progress: bool = True,
) -> Transfer:
    """Every training set with every intensity normalisation, tested on the same slices, with the baselines.

    Args:
        train_sets: training stacks by any names (e.g. ``{"ISBI 2012": isbi, "FlyEM": flyem_train}``).
        test: the test slices with their ground truth.
        settings: the pipeline's settings, any boundary kind; ``intensity`` is replaced by each of ``intensities``.
        intensities: normalisations of :data:`helpers.data.NORMALIZATIONS` to compare.
        progress: show progress bars.

    Returns:
        Rows, forests, test graphs, segmentations (and ``pixel-rf``'s pixel classifiers). Baseline rows have train
        ``"-"`` with a filter; with ``pixel-rf`` each training set's baselines carry its name.

    Raises:
        ValueError: without training sets or test slices, for a training set named ``"-"``, or (``pixel-rf``) a
            training set of fewer than 2 slices.
    """
    if not train_sets or len(test) == 0:
        raise ValueError("cross_dataset needs at least one training set and one test slice")
    if "-" in train_sets:
        raise ValueError("cross_dataset: '-' names the baselines' rows; name the training set otherwise")
    short = [name for name, stack in train_sets.items() if len(stack) < 2]
    if settings.boundary == PIXEL_RF and short:
        raise ValueError(
            f"boundary 'pixel-rf' maps the training slices out of fold: training set {short[0]!r} has "
            f"{len(train_sets[short[0]])} slice, give it at least 2 (or choose a filter boundary such as 'frangi')"
        )
    result = Transfer(rows=[])
    for intensity in intensities:
        chosen = replace(settings, intensity=intensity)
        shared = None if chosen.boundary == PIXEL_RF else stack_graphs(test, chosen, labelled=False, progress=progress)
        if shared is not None:
            result.test_graphs[intensity] = shared
        for name, stack in train_sets.items():
            if shared is None:
                train_graphs, graphs, result.pixel_classifiers[name, intensity] = pixel_rf_graphs(
                    stack, test, chosen, progress
                )
                result.test_graphs[name, intensity] = graphs
                _baselines(result, name, intensity, graphs, test)
            else:
                train_graphs, graphs = stack_graphs(stack, chosen, progress=progress), shared
            forest = train_edge_rf(
                train_graphs,
                trees=chosen.rf_trees,
                seed=chosen.seed,
                max_samples=chosen.rf_max_samples,
                tree_fraction=chosen.rf_tree_fraction,
            )
            result.forests[name, intensity] = forest
            segmentations = [segment_graph(graph, forest, chosen) for graph in graphs]
            result.segmentations[name, intensity, "multicut"] = segmentations
            result.rows += [_row(name, intensity, i, "multicut", seg, test) for i, seg in enumerate(segmentations)]
        if shared is not None:
            _baselines(result, "-", intensity, shared, test)
    return result


def _baselines(result: Transfer, train: str, intensity: str, graphs: list[GraphData], test: EMStack) -> None:
    """Add the baselines of the test superpixels to ``result``."""
    for method in BASELINES:
        segmentations = [
            best_reachable(graph.superpixels, test.gt[i])
            if method == "best reachable"
            else node_labels_to_segmentation(graph.superpixels, trivial_labellings(graph.n_nodes)[method])
            for i, graph in enumerate(graphs)
        ]
        result.segmentations[train, intensity, method] = segmentations
        result.rows += [_row(train, intensity, i, method, seg, test) for i, seg in enumerate(segmentations)]


def summary(rows: list[dict]) -> pd.DataFrame:
    """Mean scores per (train, intensity, method) of :attr:`Transfer.rows`, in order, with ``n_slices``."""
    table = pd.DataFrame(rows).drop(columns="slice")
    groups = table.groupby(["train", "intensity", "method"], sort=False)
    return groups.mean().assign(n_slices=groups.size()).reset_index()
