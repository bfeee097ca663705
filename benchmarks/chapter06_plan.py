"""What chapter 06 costs: its work counted by kind, and a projection of its run time from timed samples.

The chapter's parallel work is a list of *tasks* (units that train the same forest,
:func:`helpers.experiments.runner.tasks_of`), each of a *kind* (pipeline and scenario, the style sweep as one
kind), plus the Frangi graphs of every distinct image (built once, as tasks of their own), the membrane-displacement
table (also in the workers) and, in the parent process, the bookkeeping (digests of every unit's inputs). ``benchmarks/
chapter06_cost.py`` times a sample of each and :func:`project` turns the counts and times into wall-clock time
on a number of cores:

    parallel = sum over kinds (tasks x mean task seconds) + graphs x mean graph seconds
               + displacement slices x mean seconds per slice
    wall(cores) = serial + parallel / cores + longest sampled task

The last term bounds the time the slowest task can run alone at the end (greedy list scheduling finishes
within ``sum / cores + longest``), so the projection errs on the slow side.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from helpers import checks
from helpers.experiments.runner import UnitSettings, tasks_of
from helpers.experiments.scenarios import SWEEP_PREFIX, SliceStore, test_conditions, training_set
from helpers.experiments.unit_cache import Unit
from helpers.experiments.unit_graphs import PIPELINES

SWEEP_KIND = "sweep"


def kind_of(unit: Unit) -> str:
    """The kind of a unit: ``<pipeline>:<scenario>``, every "originals + style N" of the sweep as ``sweep``.

    Args:
        unit: the unit.

    Returns:
        E.g. ``frangi:full``, ``pixel-rf:original``, ``frangi:sweep``.
    """
    scenario = SWEEP_KIND if unit.scenario.startswith(SWEEP_PREFIX) else unit.scenario
    return f"{unit.pipeline}:{scenario}"


@dataclass(frozen=True)
class Plan:
    """How much work a run of chapter 06 holds.

    Attributes:
        units: units per kind.
        tasks: tasks per kind (units sharing a training set are one task, counted under its first unit's kind).
        graphs: distinct Frangi graphs (image, with or without edge labels) the Frangi tasks read.
        displacement_slices: stylised slices of the membrane-displacement table.
    """

    units: dict[str, int]
    tasks: dict[str, int]
    graphs: int
    displacement_slices: int

    def as_dict(self) -> dict:
        """Plain-dict form, for the results file."""
        return asdict(self)


def frangi_graph_images(store: SliceStore, task: list[Unit], settings: UnitSettings) -> set[tuple[str, bool]]:
    """The (image tag, with edge labels) pairs whose Frangi graphs a task reads (none for another pipeline).

    Args:
        store: the images.
        task: units of one task.
        settings: what every unit shares.

    Returns:
        The pairs.
    """
    unit = task[0]
    if PIPELINES[unit.pipeline].capped or unit.pipeline != "frangi":
        return set()
    split = unit.split
    train = training_set(store, unit.scenario, split.train, unit.steps, settings.styles, settings.one_style, split.seed)
    pairs = {(image.tag, True) for image in train}
    for member in task:
        pairs |= {(image.tag, False) for _, image in test_conditions(store, split.test, settings.heldout, member.steps)}
    return pairs


def make_plan(
    store: SliceStore, units: list[Unit], settings: UnitSettings, displacement_slices: int
) -> tuple[Plan, list[list[Unit]]]:
    """Count the work of a run, and give its tasks.

    Args:
        store: the images (the run's, or same-size stand-ins: only tags and sizes matter here).
        units: the run's units.
        settings: what every unit shares.
        displacement_slices: stylised slices of the displacement table (styles x steps x slices).

    Returns:
        The plan and the tasks (:func:`helpers.experiments.runner.tasks_of`).
    """
    tasks = tasks_of(store, units, settings)
    count_units: dict[str, int] = {}
    count_tasks: dict[str, int] = {}
    graphs: set[tuple[str, bool]] = set()
    for task in tasks:
        for unit in task:
            count_units[kind_of(unit)] = count_units.get(kind_of(unit), 0) + 1
        count_tasks[kind_of(task[0])] = count_tasks.get(kind_of(task[0]), 0) + 1
        graphs |= frangi_graph_images(store, task, settings)
    plan = Plan(count_units, count_tasks, len(graphs), checks.integer(displacement_slices, "displacement_slices", 0))
    return plan, tasks


def project(
    plan: Plan,
    task_seconds: dict[str, list[float]],
    graph_seconds: list[float],
    serial_seconds: float,
    cores: int,
    displacement_seconds: float = 0.0,
) -> dict:
    """Wall-clock time of a run of chapter 06 on ``cores`` cores, from the plan and timed samples.

    Args:
        plan: the run's work (:func:`make_plan`).
        task_seconds: per kind, the seconds of each sampled task (graphs already built).
        graph_seconds: the seconds of each sampled Frangi graph build.
        serial_seconds: the work of the parent process (the bookkeeping), seconds.
        cores: worker processes, one per core (>= 1).
        displacement_seconds: seconds per slice of the displacement table (run in the workers too).

    Returns:
        ``{"cores", "task_seconds_mean", "parallel_core_seconds", "serial_seconds", "longest_task_seconds",
        "wall_seconds", "wall_minutes"}``.

    Raises:
        ValueError: for a kind of the plan without a timed sample, no graph sample where graphs are needed, or
            a bad number of cores.
    """
    cores = checks.integer(cores, "cores", 1)
    missing = sorted(kind for kind in plan.tasks if not task_seconds.get(kind))
    if missing:
        raise ValueError(f"no timed sample of the task kinds {missing}: time at least one task of each kind")
    if plan.graphs and not graph_seconds:
        raise ValueError("the plan builds Frangi graphs but no graph build was timed")
    means = {kind: float(np.mean(task_seconds[kind])) for kind in plan.tasks}
    graph_mean = float(np.mean(graph_seconds)) if graph_seconds else 0.0
    parallel = sum(plan.tasks[kind] * means[kind] for kind in plan.tasks) + plan.graphs * graph_mean
    parallel += plan.displacement_slices * float(displacement_seconds)
    longest = max(max(task_seconds[kind]) for kind in plan.tasks)
    wall = float(serial_seconds) + parallel / cores + longest
    return {
        "cores": cores,
        "task_seconds_mean": means,
        "graph_seconds_mean": graph_mean,
        "parallel_core_seconds": parallel,
        "serial_seconds": float(serial_seconds),
        "longest_task_seconds": longest,
        "wall_seconds": wall,
        "wall_minutes": wall / 60.0,
    }
