"""Chapter 08's experiment: U-Nets trained on four training sets, with and without intensity normalisation.

An *arm* is a training set (:data:`TRAINING_SETS`), a per-slice intensity normalisation
(:func:`helpers.data.normalize_intensity`, applied to every image the U-Net and the edge forest read) and a target
(``UNetWork.target``). Every arm draws patches from the same windows of the original training slices; a style arm
swaps a patch, with probability ``UNetWork.style_probability``, for the same window stylised with a training
painting (feed-forward engine, whole slices, cropped like the originals), so arms differ only in appearance.

Maps are scored as pixels (ROC AUC, F1 at 0.5 against the membrane labels) and as segmentations through the same
watershed, region graph, edge forest and multicut as every boundary map (adapted Rand error, VI, and the ISBI
foreground-restricted V_rand and V_info), beside the best segmentation the superpixels allow and a flag for
trivial segmentations. As in chapter 06 (out-of-fold maps), the edge forest learns from maps of the last
``work.edge_slices`` training slices, kept from the U-Net (:func:`split_training`).

Arms run in turn or ``work.workers`` at a time as Dask tasks; each training is deterministic and checkpointed
(atomically, named by a digest of its inputs), so results do not depend on the workers and a killed run resumes.
Test conditions: clean slices, chapter 06's appearance shifts, slices stylised with held-out paintings by the same
engine, and optionally a second dataset (FlyEM medulla), never trained on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score
from tqdm.auto import tqdm

from ..config import UNetWork
from ..data import normalize_intensity
from ..parallel import run_tasks, runs_here
from ..segmentation import metrics
from ..segmentation.evaluation import best_reachable
from ..segmentation.pipeline import PipelineSettings, graph_data, segment_graph, train_edge_rf
from .data import MEMBRANE
from .material import Material, Slice, edge_forest_slices
from .predict import membrane_probability
from .train import TrainedUNet, train_unet

TRAINING_SETS = {  # name -> (adds the stylised slices, plain augmentation of every patch)
    "original": (False, False),
    "style": (True, False),
    "plain": (False, True),
    "style+plain": (True, True),
}
INTENSITIES = ("none", "percentile")  # no normalisation, the robust per-slice stretch
MAP_THRESHOLD = 0.5  # membrane probability above which a pixel counts as membrane for the F1 score


def arm_name(training: str, intensity: str) -> str:
    """The name of an arm, ``"<training set>/<intensity>"`` (keys of :data:`TRAINING_SETS`, :data:`INTENSITIES`).

    Raises:
        KeyError: for an unknown training set or normalisation.
    """
    if training not in TRAINING_SETS or intensity not in INTENSITIES:
        raise KeyError(f"unknown arm {training}/{intensity}: training sets {tuple(TRAINING_SETS)}, {INTENSITIES}")
    return f"{training}/{intensity}"


def pixel_scores(probability: np.ndarray, membranes: np.ndarray) -> dict[str, float]:
    """A membrane probability map scored as pixels against ``membranes`` (0 membrane, 255 cell).

    Returns:
        ``auc`` (ROC AUC of membrane vs cell) and ``f1`` (membrane = probability above 0.5).
    """
    truth = np.asarray(membranes).ravel() == MEMBRANE
    predicted = probability.ravel() > MAP_THRESHOLD
    true_positive = float(np.sum(truth & predicted))
    wrong = float(np.sum(truth ^ predicted))
    auc = float(roc_auc_score(truth, probability.ravel())) if 0 < truth.sum() < truth.size else float("nan")
    f1 = 2 * true_positive / (2 * true_positive + wrong) if true_positive + wrong else float("nan")
    return {"auc": auc, "f1": f1}


def reachable_scores(superpixels: np.ndarray, gt: np.ndarray) -> dict[str, float]:
    """``reachable_rand_error``, ``reachable_vi``: the best segmentation the superpixels (ids from 0) allow, scored."""
    scores = metrics.evaluate(best_reachable(superpixels, gt), gt)
    return {"reachable_rand_error": scores["rand_error"], "reachable_vi": scores["vi"]}


def split_training(material: Material, edge_slices: int) -> tuple[list[Slice], list[list[Slice]], list[Slice]]:
    """The U-Net's training images, their stylised copies and the edge forest's images.

    Args:
        material: the images (:func:`.material.load_material`).
        edge_slices: the last training slices, kept from the U-Net (0: the forest learns from the U-Net's own).

    Returns:
        ``(unet_images, copies, edge_images)``: the U-Net's originals; per painting (material order) a stylised copy
        of each of them; the held-out originals.

    Raises:
        ValueError: when ``edge_slices`` leaves the U-Net no slice, or a painting lacks a copy of a U-Net slice.
    """
    held_out = set(edge_forest_slices([image.index for image in material.originals], edge_slices))
    unet = [image for image in material.originals if image.index not in held_out]
    edge = [image for image in material.originals if image.index in held_out] if held_out else material.originals
    by_painting: dict[str, dict[int, Slice]] = {}
    for image in material.stylised:
        by_painting.setdefault(image.condition, {})[image.index] = image
    copies = []
    for condition, images in by_painting.items():
        missing = [image.index for image in unet if image.index not in images]
        if missing:
            raise ValueError(f"no {condition} copy of training slices {missing}: stylise every U-Net training slice")
        copies.append([images[image.index] for image in unet])
    return unet, copies, edge


def is_trivial(segmentation: np.ndarray) -> bool:
    """Whether a segmentation is trivial: one label, or as many labels as pixels."""
    count = len(np.unique(segmentation))
    return count == 1 or count == segmentation.size


@dataclass
class ArmResult:
    """One arm with one seed: its rows and what the chapter shows of it."""

    rows: list[dict]  # one per test image: arm, target, training, intensity, seed, condition, slice, scores
    trained: TrainedUNet
    maps: dict[tuple[str, int], np.ndarray]  # (condition, slice) -> membrane probability, for ``keep`` images


def run_arm(
    material: Material,
    training: str,
    intensity: str,
    seed: int,
    work: UNetWork,
    settings: PipelineSettings,
    checkpoints: Path | None = None,
    keep: Sequence[tuple[str, int]] = (),
    progress: bool = True,
) -> ArmResult:
    """Train one arm's U-Net (on ``work.target``), then score its maps and segmentations on every test image.

    Args:
        material: the images (:func:`.material.load_material`).
        training: a training set of :data:`TRAINING_SETS`.
        intensity: a normalisation of :data:`INTENSITIES`.
        seed: the seed of the U-Net and of the edge forest.
        work: the U-Net's size, schedule, target and style probability (the same for every arm).
        settings: segmentation settings (watershed, forest, multicut); seed and intensity are set here.
        checkpoints: folder of the U-Net checkpoints (None: none).
        keep: (condition, slice) pairs whose maps are returned.
        progress: show the training's progress bar.

    Returns:
        The rows (by condition and slice), the trained U-Net and the kept maps.
    """
    name = arm_name(training, intensity)
    with_styles, augment = TRAINING_SETS[training]
    unet_images, copies, edge_images = split_training(material, work.edge_slices)
    stylised = [[normalize_intensity(image.raw, intensity) for image in painting] for painting in copies]
    trained = train_unet(
        [normalize_intensity(image.raw, intensity) for image in unet_images],
        [image.membranes for image in unet_images], work, seed, augment=augment, checkpoints=checkpoints,
        progress=progress, description=f"{name} {work.target} seed {seed}", stylised=stylised if with_styles else (),
    )  # fmt: skip
    settings = replace(settings, seed=seed, intensity=intensity)

    def boundary(image: Slice) -> np.ndarray:
        pixels = normalize_intensity(image.raw, intensity)
        return membrane_probability(trained.model, pixels, work.tile, threads=work.threads)

    train_graphs = [graph_data(image.raw, image.gt, boundary(image), settings) for image in edge_images]
    forest = train_edge_rf(
        train_graphs, trees=settings.rf_trees, seed=seed, max_samples=settings.rf_max_samples,
        tree_fraction=settings.rf_tree_fraction, n_jobs=work.threads,
    )  # fmt: skip
    rows, maps = [], {}
    for image in sorted(material.tests, key=lambda test: (test.condition, test.index)):
        probability = boundary(image)
        if (image.condition, image.index) in keep:
            maps[(image.condition, image.index)] = probability
        graph = graph_data(image.raw, None, probability, settings)
        segmentation = segment_graph(graph, forest, settings)
        scores = metrics.evaluate(segmentation, image.gt, image.membranes)
        rows.append({
            "arm": name, "target": work.target, "training": training, "intensity": intensity, "seed": seed,
            "condition": image.condition, "slice": image.index, **pixel_scores(probability, image.membranes),
            **scores, **reachable_scores(graph.superpixels, image.gt), "trivial": is_trivial(segmentation),
        })  # fmt: skip
    return ArmResult(rows, trained, maps)


Task = tuple[str, str, str, int]  # (training set, normalisation, target, seed)


def _arm_task(material: Material, task: Task, *arguments: object) -> tuple[Task, ArmResult]:
    """One arm as a Dask task: ``(task, run_arm(...))`` with the task's target (last argument: show progress)."""
    training, intensity, target, seed = task
    work, *rest, progress = arguments
    return task, run_arm(material, training, intensity, seed, replace(work, target=target), *rest, progress=progress)


def run_arms(
    material: Material,
    arms: Sequence[tuple[str, str, str]],
    seeds: Sequence[int],
    work: UNetWork,
    settings: PipelineSettings,
    checkpoints: Path | None = None,
    keep: Sequence[tuple[str, int]] = (),
    progress: bool = True,
) -> dict[Task, ArmResult]:
    """Every arm with every seed, under one progress bar: in turn, or ``work.workers`` at a time as Dask tasks.

    Args:
        material: the images (:func:`.material.load_material`), scattered once to the workers.
        arms: (training set, normalisation, target) triples.
        seeds: the seeds each arm trains with.
        work: the U-Net's size, schedule and workers (its target is the arm's).
        settings: segmentation settings (as for :func:`run_arm`).
        checkpoints: folder of the U-Net checkpoints (None: none).
        keep: (condition, slice) pairs whose maps are returned.
        progress: show the progress bars (each training's too, with one worker).

    Returns:
        ``{(training, intensity, target, seed): result}`` in the order they finish; the results equal those of one
        worker.
    """
    tasks = [(training, intensity, target, seed) for training, intensity, target in arms for seed in seeds]
    shown = progress and runs_here(work.workers)  # a progress bar cannot travel to a Dask worker
    calls = [(task, work, settings, checkpoints, tuple(keep), shown) for task in tasks]
    finished = run_tasks(_arm_task, calls, min(work.workers, max(len(calls), 1)), shared=material)
    bar = tqdm(finished, total=len(calls), desc="U-Nets trained and scored", unit="U-Net", disable=not progress)
    return dict(result for _, result in bar)
