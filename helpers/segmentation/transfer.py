"""Train on one EM dataset, test on another: the runs of chapter 07 (segment your own data).

Each training set (an :class:`helpers.data.EMStack`, e.g. ISBI 2012 or the training blocks of your own stack)
trains one edge forest per intensity normalisation; every forest segments the same test slices, which are
also scored for the trivial labellings of their superpixels (no merges, all merged) and the best
segmentation the superpixels allow. The result is one tidy row per (training set, normalisation, test
slice, method).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from tqdm.auto import tqdm

from ..data import EMStack
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
    test_graphs: dict[str, list[GraphData]] = field(default_factory=dict)  # by intensity
    segmentations: dict[tuple[str, str, str], list[np.ndarray]] = field(default_factory=dict)  # (train, int., method)


def stack_graphs(
    stack: EMStack, settings: PipelineSettings, labelled: bool = True, progress: bool = False
) -> list[GraphData]:
    """The graph of every slice of a stack (with edge labels from its ground truth when ``labelled``).

    Args:
        stack: the slices.
        settings: the pipeline's settings (``intensity`` included).
        labelled: add the ground-truth edge labels (training graphs).
        progress: show a progress bar.

    Returns:
        One graph per slice.
    """
    slices = tqdm(range(len(stack)), desc=f"graphs of {stack.name}", disable=not progress)
    return [graph_data(stack.raw[i], stack.gt[i] if labelled else None, settings=settings) for i in slices]


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
        train_sets: training stacks by name (e.g. ``{"ISBI 2012": isbi, "FlyEM": flyem_train}``).
        test: the test slices with their ground truth.
        settings: the pipeline's settings; its ``intensity`` is replaced by each of ``intensities``.
        intensities: normalisations of :data:`helpers.data.NORMALIZATIONS` to compare.
        progress: show progress bars.

    Returns:
        The rows (train ``"-"`` for the baselines, which depend only on the test superpixels), forests, test
        graphs and segmentations.

    Raises:
        ValueError: without training sets or test slices.
    """
    if not train_sets or len(test) == 0:
        raise ValueError("cross_dataset needs at least one training set and one test slice")
    result = Transfer(rows=[])
    for intensity in intensities:
        chosen = replace(settings, intensity=intensity)
        graphs = stack_graphs(test, chosen, labelled=False, progress=progress)
        result.test_graphs[intensity] = graphs
        for name, stack in train_sets.items():
            forest = train_edge_rf(
                stack_graphs(stack, chosen, progress=progress),
                trees=chosen.rf_trees,
                seed=chosen.seed,
                max_samples=chosen.rf_max_samples,
                tree_fraction=chosen.rf_tree_fraction,
            )
            result.forests[name, intensity] = forest
            segmentations = [segment_graph(graph, forest, chosen) for graph in graphs]
            result.segmentations[name, intensity, "multicut"] = segmentations
            result.rows += [_row(name, intensity, i, "multicut", seg, test) for i, seg in enumerate(segmentations)]
        for method in BASELINES:
            segmentations = [
                best_reachable(graph.superpixels, test.gt[i])
                if method == "best reachable"
                else node_labels_to_segmentation(graph.superpixels, trivial_labellings(graph.n_nodes)[method])
                for i, graph in enumerate(graphs)
            ]
            result.segmentations["-", intensity, method] = segmentations
            result.rows += [_row("-", intensity, i, method, seg, test) for i, seg in enumerate(segmentations)]
    return result


def summary(rows: list[dict]) -> pd.DataFrame:
    """Mean scores per (training set, intensity, method), in the rows' order.

    Args:
        rows: :attr:`Transfer.rows`.

    Returns:
        One row per group: ``train``, ``intensity``, ``method``, ``n_slices`` and the mean of every score and of
        ``n_segments``.
    """
    table = pd.DataFrame(rows).drop(columns="slice")
    groups = table.groupby(["train", "intensity", "method"], sort=False)
    return groups.mean().assign(n_slices=groups.size()).reset_index()
