"""Chapter 08's experiment: U-Nets trained on four training sets, with and without intensity normalisation.

An *arm* is a training set (:data:`TRAINING_SETS`: the originals; originals plus stylised slices from the
stylisation cache; plain augmentation; both) with a per-slice intensity normalisation
(:func:`helpers.data.normalize_intensity`, applied to every image the U-Net and the edge forest read). Every
arm trains the same number of steps with the same seeds (:class:`.settings.UNetWork`). Its maps are scored as
pixels (ROC AUC and F1 at 0.5 against the membrane labels) and as segmentations: the U-Net map feeds the same
watershed, region graph, edge forest and multicut as every other boundary map; the edge forest learns from the
U-Net maps of the original training slices. The best segmentation the U-Net's superpixels allow (each takes the
ground-truth cell it overlaps most) is scored too: no edge forest or multicut can do better.

The edge forest learns from maps the U-Net has not been trained on, as chapter 06's edge forest learns from
out-of-fold pixel-forest maps: the last ``work.edge_slices`` training slices (:func:`split_training`) are kept
from the U-Net (originals and their stylised copies alike) and their maps train the edge forest. On its own
training slices a U-Net's map is cleaner than on any new slice, and an edge forest trained there learns to trust
the map more than it deserves.

Arms run one after the other, or ``work.workers`` at a time in worker processes (:func:`run_arms`); each
training is deterministic, so the results do not depend on the number of workers.

Test conditions: clean test slices, the appearance shifts of chapter 06, test slices stylised with held-out
paintings (where the cache holds them) and, optionally, a second dataset (FlyEM medulla: never trained on).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from ..config import UNetWork
from ..data import EMStack, normalize_intensity
from ..experiments.scenarios import UNSEEN_PREFIX
from ..experiments.shifts import SHIFTS, appearance_shift
from ..experiments.workers import run_in_workers
from ..paths import digest
from ..segmentation import metrics
from ..segmentation.evaluation import best_reachable
from ..segmentation.pipeline import PipelineSettings, graph_data, load_slices, segment_graph, train_edge_rf
from ..style.cache import load_stylized
from .data import MEMBRANE
from .predict import membrane_probability
from .train import TrainedUNet, train_unet

TRAINING_SETS = {  # name -> (adds the stylised slices, plain augmentation of every patch)
    "original": (False, False),
    "style": (True, False),
    "plain": (False, True),
    "style+plain": (True, True),
}
INTENSITIES = ("none", "percentile")  # no normalisation, the robust per-slice stretch
FLYEM = "flyem"  # the test condition of the second dataset
MAP_THRESHOLD = 0.5  # membrane probability above which a pixel counts as membrane for the F1 score


@dataclass(frozen=True)
class Slice:
    """One image with its labels: ``condition`` says what was done to ISBI slice (or FlyEM position) ``index``."""

    condition: str
    index: int
    raw: np.ndarray  # uint8
    membranes: np.ndarray  # 0 membrane, 255 cell
    gt: np.ndarray  # dense cell ids


@dataclass(frozen=True)
class Material:
    """Every image of the experiment."""

    originals: list[Slice]  # the training slices
    stylised: list[Slice]  # training slices stylised with the training paintings (crops)
    tests: list[Slice]  # every test condition


def arm_name(training: str, intensity: str) -> str:
    """The name of an arm, ``"<training set>/<intensity>"``, e.g. ``"style/percentile"``.

    Args:
        training: a key of :data:`TRAINING_SETS`.
        intensity: a normalisation of :data:`INTENSITIES`.

    Returns:
        The name.

    Raises:
        KeyError: for an unknown training set or normalisation.
    """
    if training not in TRAINING_SETS or intensity not in INTENSITIES:
        raise KeyError(f"unknown arm {training}/{intensity}: training sets {tuple(TRAINING_SETS)}, {INTENSITIES}")
    return f"{training}/{intensity}"


def _stylised(
    cache: Path, slices: Sequence[int], crop: int | None, steps: int, styles: Sequence[int], condition: str | None
) -> list[Slice]:
    """Cached stylised crops of ``slices`` (all of ``cache``'s slice list is read, the wanted ones kept)."""
    images = []
    _, labels, gts = load_slices(slices, crop)
    for style in styles:
        stack = load_stylized(cache, steps, style, tuple(slices), crop)
        for index, raw, label, gt in zip(slices, stack, labels, gts):
            images.append(Slice(condition or f"style{style:02d}", index, raw, label, gt))
    return images


def load_material(
    cache: Path,
    train_slices: Sequence[int],
    test_slices: Sequence[int],
    crop: int | None,
    style_slices: Sequence[int],
    style_crop: int | None,
    steps: int,
    styles: Sequence[int],
    heldout_styles: Sequence[int],
    flyem: EMStack | None = None,
) -> Material:
    """Training and test images of the experiment.

    Args:
        cache: the stylisation cache (``config.cache``).
        train_slices: ISBI training slices (``config.segmentation.train_slices``).
        test_slices: ISBI test slices (``config.segmentation.test_slices``).
        crop: crop of the original slices (``config.segmentation.crop``; None: whole slices).
        style_slices: the slices the cache holds stylised (``config.style.slices``).
        style_crop: their crop (``config.style.crop``).
        steps: the stylisation step count used.
        styles: the training paintings.
        heldout_styles: paintings never trained on: test slices stylised with them are test conditions.
        flyem: the second dataset's test slices (None: not tested).

    Returns:
        The material: stylised training crops only of training slices, held-out styles only of test slices.
    """
    raw, labels, gts = load_slices(train_slices, crop)
    originals = [Slice("original", index, *items) for index, *items in zip(train_slices, raw, labels, gts)]
    stylised_train = [index for index in style_slices if index in train_slices]
    stylised = _stylised(cache, stylised_train, style_crop, steps, styles, None) if stylised_train else []
    raw, labels, gts = load_slices(test_slices, crop)
    tests = [
        Slice(shift, index, appearance_shift(image, shift, seed=index), label, gt)
        for shift in SHIFTS
        for index, image, label, gt in zip(test_slices, raw, labels, gts)
    ]
    stylised_test = [index for index in style_slices if index in test_slices]
    for style in heldout_styles if stylised_test else ():
        tests += _stylised(cache, stylised_test, style_crop, steps, [style], f"{UNSEEN_PREFIX}{style:02d}")
    if flyem is not None:
        stack = zip(flyem.raw, flyem.membranes, flyem.gt)
        tests += [Slice(FLYEM, index, raw, membranes, gt) for index, (raw, membranes, gt) in enumerate(stack)]
    return Material(originals, stylised, tests)


def provenance(material: Material) -> dict:
    """Digests of the stylised images an experiment read, recorded with its results (as chapter 06 does).

    Args:
        material: the images (:func:`load_material`).

    Returns:
        ``{"stylized_images", "n_stylized_images"}``: a digest of every stylised training image and every test
        image stylised with a held-out painting (tag ``<condition>-<slice>`` and pixels, in tag order) and
        their number.
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


def pixel_scores(probability: np.ndarray, membranes: np.ndarray) -> dict[str, float]:
    """The map scored as pixels against membrane labels.

    Args:
        probability: the membrane probability.
        membranes: binary labels (0 membrane, 255 cell).

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
    """The best segmentation the superpixels allow, scored: no edge forest or multicut can do better.

    Args:
        superpixels: 2D ids consecutive from 0.
        gt: the slice's dense ground truth.

    Returns:
        ``reachable_rand_error`` and ``reachable_vi`` of :func:`helpers.segmentation.evaluation.best_reachable`.
    """
    scores = metrics.evaluate(best_reachable(superpixels, gt), gt)
    return {"reachable_rand_error": scores["rand_error"], "reachable_vi": scores["vi"]}


def edge_forest_slices(indices: Sequence[int], edge_slices: int) -> list[int]:
    """The training slices kept from the U-Net for the edge forest: the last ``edge_slices`` by index.

    Args:
        indices: the training slices.
        edge_slices: how many to keep from the U-Net (0: none).

    Returns:
        The held-out slices, ascending.

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


def split_training(material: Material, edge_slices: int) -> tuple[list[Slice], list[Slice]]:
    """The U-Net's training images and the edge forest's: the last ``edge_slices`` original slices go to the forest.

    Args:
        material: the images (:func:`load_material`).
        edge_slices: training slices kept from the U-Net (the last ones by index; 0: the forest learns from the
            U-Net's own training slices).

    Returns:
        ``(unet_images, edge_images)``: the U-Net's originals followed by the stylised copies of those slices only,
        and the held-out originals.

    Raises:
        ValueError: when ``edge_slices`` leaves the U-Net no slice.
    """
    held_out = set(edge_forest_slices([image.index for image in material.originals], edge_slices))
    unet = [image for image in material.originals + material.stylised if image.index not in held_out]
    edge = [image for image in material.originals if image.index in held_out] if held_out else material.originals
    return unet, edge


@dataclass
class ArmResult:
    """One arm with one seed: its rows and what the chapter shows of it."""

    rows: list[dict]  # one per test image: arm, training, intensity, seed, condition, slice, scores
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
    """Train one arm's U-Net, then score its maps and segmentations on every test image.

    Args:
        material: the images (:func:`load_material`).
        training: a training set of :data:`TRAINING_SETS`.
        intensity: a normalisation of :data:`INTENSITIES`.
        seed: the seed of the U-Net and of the edge forest.
        work: the U-Net's size and schedule (the same for every arm).
        settings: segmentation settings (watershed, forest, multicut); seed and intensity are set here.
        checkpoints: folder of the U-Net checkpoints (None: none).
        keep: (condition, slice) pairs whose maps are returned.
        progress: show the training's progress bar.

    Returns:
        The rows, the trained U-Net and the kept maps.
    """
    name = arm_name(training, intensity)
    with_styles, augment = TRAINING_SETS[training]
    unet_images, edge_images = split_training(material, work.edge_slices)
    images = [image for image in unet_images if with_styles or image.condition == "original"]
    trained = train_unet(
        [normalize_intensity(image.raw, intensity) for image in images], [image.membranes for image in images],
        work, seed, augment=augment, checkpoints=checkpoints, progress=progress, description=f"{name} seed {seed}",
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
    for image in material.tests:
        probability = boundary(image)
        if (image.condition, image.index) in keep:
            maps[(image.condition, image.index)] = probability
        graph = graph_data(image.raw, None, probability, settings)
        scores = metrics.evaluate(segment_graph(graph, forest, settings), image.gt, image.membranes)
        rows.append({
            "arm": name, "training": training, "intensity": intensity, "seed": seed, "condition": image.condition,
            "slice": image.index, **pixel_scores(probability, image.membranes), **scores,
            **reachable_scores(graph.superpixels, image.gt),
        })  # fmt: skip
    return ArmResult(rows, trained, maps)


def _arm_task(material: Material, *arguments: object) -> tuple[tuple, ArmResult]:
    """One arm in a worker process, ``run_arm(material, *arguments)`` without a progress bar, and its key.

    Returns:
        ``((training, intensity, seed), result)``.
    """
    return tuple(arguments[:3]), run_arm(material, *arguments, progress=False)


def run_arms(
    material: Material,
    arms: Sequence[tuple[str, str]],
    work: UNetWork,
    settings: PipelineSettings,
    checkpoints: Path | None = None,
    keep: Sequence[tuple[str, int]] = (),
) -> Iterator[tuple[tuple[str, str, int], ArmResult]]:
    """Every arm with every seed of ``work``: one after the other, or ``work.workers`` at a time.

    With one worker each training shows its own progress bar; with more, the arms run in worker processes that
    die with this one (:func:`helpers.experiments.workers.run_in_workers`) and each arm is yielded as it finishes.

    Args:
        material: the images (:func:`load_material`).
        arms: (training set, normalisation) pairs.
        work: the U-Net's size and schedule, its seeds and number of workers.
        settings: segmentation settings (as for :func:`run_arm`).
        checkpoints: folder of the U-Net checkpoints (None: none).
        keep: (condition, slice) pairs whose maps are returned.

    Yields:
        ``((training, intensity, seed), result)`` per arm and seed; the results equal those of one worker.
    """
    tasks = [(training, intensity, seed) for training, intensity in arms for seed in work.seeds]
    if work.workers == 1:
        for training, intensity, seed in tasks:
            yield (
                (training, intensity, seed),
                run_arm(material, training, intensity, seed, work, settings, checkpoints, keep),
            )
        return
    tasks = [(*task, work, settings, checkpoints, tuple(keep)) for task in tasks]
    yield from run_in_workers(_arm_task, tasks, min(work.workers, len(tasks)), shared=material)
