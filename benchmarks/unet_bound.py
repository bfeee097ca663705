"""The superpixels' bound on chapter 08's VI over U-Net variants and watershed settings: results/unet_bound.json.

One command (nice it on a shared machine)::

    nice -n 10 .venv/bin/python benchmarks/unet_bound.py --profile reduced --workers 2

No edge forest or multicut can do better than the best segmentation its superpixels allow (each superpixel takes
the ground-truth cell it overlaps most, :func:`helpers.segmentation.evaluation.best_reachable`); chapter 08 reports
that bound beside every score. Here it is measured for U-Nets that differ from the profile's in one thing each:
twice the width, one level deeper, three times the steps, patches twice as large (a quarter of the batch: the
same pixels per step), plain augmentation, and the profile's U-Net read with a test-time average over the eight
flips and rotations. Then for the profile's map through a grid of distance-watershed settings, and for the
membrane labels themselves as the map (what a perfect detector would allow).

The U-Nets train as in chapter 08 (the profile's first seed, the originals only, no normalisation) on the
training slices but the last ``edge_slices``, and are measured on those held-out slices: never trained on by the
U-Net, never a test slice. Checkpoints go to ``<cache>/unet_bound``, so an interrupted run resumes.
"""

from __future__ import annotations

import itertools
import json
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.chapter06_cost import machine  # noqa: E402
from helpers import cli  # noqa: E402
from helpers.config import Config, UNetWork, select  # noqa: E402
from helpers.parallel import run_tasks  # noqa: E402
from helpers.paths import RESULTS, atomic_write_text  # noqa: E402
from helpers.segmentation.metrics import mean_scores  # noqa: E402
from helpers.segmentation.pipeline import load_slices  # noqa: E402
from helpers.segmentation.settings import DEFAULT_SETTINGS  # noqa: E402
from helpers.segmentation.superpixels import distance_watershed  # noqa: E402
from helpers.unet.data import MEMBRANE  # noqa: E402
from helpers.unet.experiment import edge_forest_slices, pixel_scores, reachable_scores  # noqa: E402
from helpers.unet.model import UNet  # noqa: E402
from helpers.unet.predict import membrane_probability  # noqa: E402
from helpers.unet.train import train_unet  # noqa: E402

PROFILE_VARIANT = "profile"
TEST_TIME_AVERAGE = "profile (8-fold test-time average)"
WATERSHED_GRID = {"threshold": (0.3, 0.5), "sigma_seeds": (2.0, 3.0, 4.0), "sigma_weights": (1.0, 2.0, 4.0)}


def variants(work: UNetWork) -> dict[str, tuple[UNetWork, bool]]:
    """The U-Nets trained: name -> (work, plain augmentation); each differs from the profile's in one thing."""
    return {
        PROFILE_VARIANT: (work, False),
        "width x2": (replace(work, width=2 * work.width), False),
        "depth +1": (replace(work, depth=work.depth + 1), False),
        "steps x3": (replace(work, iterations=3 * work.iterations), False),
        "patch x2 (batch / 4)": (replace(work, patch=2 * work.patch, batch=max(1, work.batch // 4)), False),
        "plain augmentation": (work, True),
    }


def dihedral_average(model: UNet, raw: np.ndarray, work: UNetWork) -> np.ndarray:
    """The membrane probability averaged over the eight flips and rotations of the slice, each turned back."""
    total = np.zeros(raw.shape, dtype=np.float64)
    for turns, flip in itertools.product(range(4), (False, True)):
        image = np.rot90(raw, turns)
        image = image[:, ::-1] if flip else image
        probability = membrane_probability(model, np.ascontiguousarray(image), work.tile, threads=work.threads)
        total += np.rot90(probability[:, ::-1] if flip else probability, -turns)
    return (total / 8).astype(np.float32)


def reachable(probability: np.ndarray, gt: np.ndarray, **watershed: float) -> dict[str, float]:
    """Best-reachable adapted Rand error and VI of the distance watershed (chapter 08's settings unless given)."""
    params = {**DEFAULT_SETTINGS.watershed_params(), **watershed}
    return reachable_scores(distance_watershed(probability, **params), gt)


def measure(
    name: str, work: UNetWork, augment: bool, seed: int, train: tuple, held_out: tuple, checkpoints: Path
) -> tuple[str, dict, dict[int, np.ndarray]]:
    """Train one variant and measure its maps of the held-out slices (a worker task).

    Returns:
        ``(name, record, maps)``: the record holds the work, the training seconds (of the steps this call ran, from
        ``resumed_at_step`` on), the per-slice and mean pixel and reachable scores; the maps (slice -> probability)
        only for the profile's variant.
    """
    raws, labels = train
    trained = train_unet(list(raws), list(labels), work, seed, augment, checkpoints, progress=False, description=name)
    readings = {name: lambda raw: membrane_probability(trained.model, raw, work.tile, threads=work.threads)}
    if name == PROFILE_VARIANT:
        readings[TEST_TIME_AVERAGE] = lambda raw: dihedral_average(trained.model, raw, work)
    records, maps = {}, {}
    for reading, predict in readings.items():
        scores = []
        for index, raw, membranes, gt in zip(*held_out):
            probability = predict(raw)
            if reading == PROFILE_VARIANT:
                maps[index] = probability
            scores.append({**pixel_scores(probability, membranes), **reachable(probability, gt)})
        records[reading] = {
            "work": work.as_dict(), "augment": augment, "training_seconds": round(trained.seconds, 1),
            "resumed_at_step": trained.resumed_at, "mean": mean_scores(scores),
            "slices": [{"slice": index, **row} for index, row in zip(held_out[0], scores)],
        }  # fmt: skip
    return name, records, maps


def watershed_grid(maps: dict[int, np.ndarray], gts: dict[int, np.ndarray]) -> list[dict]:
    """Mean reachable scores of the profile's maps for every setting of :data:`WATERSHED_GRID`."""
    rows = []
    for values in itertools.product(*WATERSHED_GRID.values()):
        setting = dict(zip(WATERSHED_GRID, values))
        rows.append({**setting, **mean_scores([reachable(maps[index], gts[index], **setting) for index in maps])})
    return rows


def run(config: Config, workers: int) -> dict:
    """Every variant, the watershed grid and the perfect map for ``config``'s profile.

    Args:
        config: the profile's configuration (its segmentation split and U-Net work).
        workers: variants trained at once (Dask workers, one process each).

    Returns:
        The record written to the JSON file.
    """
    work, split = config.unet, config.segmentation
    held_slices = edge_forest_slices(split.train_slices, work.edge_slices)
    if not held_slices:
        raise ValueError(f"UNetWork.edge_slices = {work.edge_slices}: hold out at least one slice to measure on")
    train_slices = [index for index in split.train_slices if index not in held_slices]
    raws, labels, _ = load_slices(train_slices, split.crop)
    held = load_slices(held_slices, split.crop)
    held_out = (tuple(held_slices), *held)
    checkpoints = config.cache / "unet_bound"
    seed = work.seeds[0]
    tasks = [
        (name, variant_work, augment, seed, (raws, labels), held_out, checkpoints)
        for name, (variant_work, augment) in variants(work).items()
    ]
    records, maps = {}, {}
    for _, (name, variant_records, variant_maps) in run_tasks(measure, tasks, min(workers, len(tasks))):
        print(f"{name}: {variant_records[name]['mean']}", flush=True)
        records.update(variant_records)
        maps.update(variant_maps)
    gts = dict(zip(held_slices, held[2]))
    perfect = [reachable((membranes == MEMBRANE).astype(np.float32), gts[index])
               for index, membranes in zip(held_slices, held[1])]  # fmt: skip
    return {
        "profile": config.profile, "seed": seed, "train_slices": list(train_slices),
        "measured_slices": list(held_slices), "crop": split.crop, "watershed": DEFAULT_SETTINGS.watershed_params(),
        "variants": {name: records[name] for name in [*variants(work), TEST_TIME_AVERAGE]},
        "watershed_grid": watershed_grid(maps, gts),
        "membrane_labels_as_map": mean_scores(perfect),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, run, write the JSON.

    Args:
        argv: the arguments (None: ``sys.argv[1:]``).
    """
    parser = cli.ArgumentParser(prog="benchmarks/unet_bound.py", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--profile", type=cli.profile, default="reduced", help="profile whose U-Net is varied (default: reduced)"
    )
    parser.add_argument(
        "--workers", type=cli.whole("workers", 1), default=2, help="variants trained at once (default: 2)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "unet_bound.json", help="the JSON file")
    arguments = parser.parse_args(argv)
    cli.check_output_folder(arguments.out.expanduser().parent, "--out's folder")
    config = select(arguments.profile)
    cli.check_cache(config.cache)
    started = time.perf_counter()
    record = run(config, arguments.workers)
    record.update({
        "command": shlex.join([sys.executable.rsplit("/", 1)[-1], *sys.argv]), "machine": machine(),
        "seconds": round(time.perf_counter() - started, 1),
    })  # fmt: skip
    atomic_write_text(arguments.out, json.dumps(record, indent=1) + "\n")
    print(f"wrote {arguments.out}")


if __name__ == "__main__":
    cli.run(main, "benchmarks/unet_bound.py")
