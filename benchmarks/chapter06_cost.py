"""Chapter 06's cost in a profile (default: full), projected from timed samples: results/chapter06_cost.json.

One command (nice it on a shared machine)::

    nice -n 10 .venv/bin/python benchmarks/chapter06_cost.py                 # full profile, 2 tasks of each kind

It builds the profile's units exactly as chapter 06 does (:func:`helpers.experiments.unit_cache.chapter_units`),
groups them into tasks as :func:`helpers.experiments.runner.run_all` does, and counts tasks per kind, distinct
Frangi graphs and displacement slices (:func:`benchmarks.chapter06_plan.make_plan`). Then it times, one thread,
at full size (512 px slices, the profile's forest):

* the parent's bookkeeping (every unit's digest and its task key, the provenance of the rows);
* a sample of Frangi graph builds (every graph the sampled Frangi tasks read, built once into a disk cache);
* ``--samples`` tasks of every kind, each reading its graphs back from that disk cache (as a worker does);
* a sample of the membrane-displacement table's slices (maps read from the graph cache, as the chapter's workers
  do);

and projects the whole run's wall-clock time on 2 and 16 cores (:func:`benchmarks.chapter06_plan.project`).

Without a GPU the full profile's stylised slices do not exist: every (style, steps) stack is stood in by the
original slices plus seeded Gaussian noise (sigma 8 grey levels, a seed per style and step count), same size and
membranes, distinct pixels (so no cache serves one stand-in for another). The cost of a unit depends on the
number of images, superpixels and edges, not on their content; noise stand-ins have about as many graph edges as
the originals, more than most stylised slices (checked on the reduced profile's 128 px stylised crops), so the
projection errs on the slow side. The JSON says so (``stand_in``).
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import chapter06_plan as cost  # noqa: E402
from helpers import cli  # noqa: E402
from helpers.config import Config, select  # noqa: E402
from helpers.data import ISBI_SHAPE, load_training  # noqa: E402
from helpers.experiments import displacement, runner, splits, unit_cache  # noqa: E402
from helpers.experiments.scenarios import SliceStore  # noqa: E402
from helpers.experiments.unit_graphs import GRAPH_FOLDER, FrangiMaps, GraphCache  # noqa: E402
from helpers.paths import RESULTS, atomic_write_text  # noqa: E402

BUDGET_MINUTES_2_CORES = 60.0  # the goal: chapter 06 in the full profile within an hour on 2 cores
STAND_IN_NOISE = 8.0  # grey levels
PIPELINES = ["frangi", "pixel-rf"]  # chapter 06's default
ONE_STYLE = 3  # chapter 06's default
STAND_IN = (
    "no stylised slices of the full profile exist here (they need a GPU): each (style, steps) stack is the "
    f"original slices plus seeded Gaussian noise (sigma {STAND_IN_NOISE:g} grey levels), same size (512 px) and "
    "membranes, distinct pixels; the cost depends on the numbers of images, superpixels and edges, not on content"
)


def stand_in_stylized(steps: int, style: int, slices: tuple[int, ...], crop: int | None) -> np.ndarray:
    """Same-size stand-ins for the stylised slices: originals plus noise seeded by (style, steps)."""
    raw, _ = load_training(list(slices))
    side = crop or ISBI_SHAPE[-1]
    noise = np.random.default_rng(1000 * style + steps).normal(0.0, STAND_IN_NOISE, (len(slices), side, side))
    return np.clip(raw[:, :side, :side] + noise, 0, 255).astype(np.uint8)


def machine() -> dict:
    """CPU model, cores and load average (the numbers are only as good as the machine was quiet)."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "load_average": list(os.getloadavg()), "python": sys.version}


def timed(function, *arguments):
    """(result, wall seconds, process CPU seconds) of ``function(*arguments)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*arguments)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def sample_tasks(tasks: list[list[unit_cache.Unit]], per_kind: int) -> list[list[unit_cache.Unit]]:
    """Up to ``per_kind`` tasks of every kind, from different splits where possible (the first ones)."""
    chosen: dict[str, list[list[unit_cache.Unit]]] = {}
    for task in tasks:
        picked = chosen.setdefault(cost.kind_of(task[0]), [])
        if len(picked) < per_kind and task[0].split.name not in {other[0].split.name for other in picked}:
            picked.append(task)
    return [task for picked in chosen.values() for task in picked]


def main(argv: list[str] | None = None) -> None:
    """Count, time a sample, project, and write the JSON.

    Args:
        argv: the arguments (None: ``sys.argv[1:]``).
    """
    parser = cli.ArgumentParser(prog="benchmarks/chapter06_cost.py", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--profile", type=cli.profile, default="full", help="profile whose chapter 06 is projected (default: full)"
    )
    parser.add_argument(
        "--samples", type=cli.whole("samples", 1), default=2, help="timed tasks of each kind (default: 2)"
    )
    parser.add_argument(
        "--displacement-samples",
        type=cli.whole("displacement samples", 1),
        default=20,
        help="timed displacement slices",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "chapter06_cost.json", help="the JSON file")
    parser.add_argument("--scratch", type=Path, default=None, help="graph cache folder (default: a temporary one)")
    parser.add_argument(
        "--no-forest-check",
        dest="forest_check",
        action="store_false",
        help="skip the comparison of chapter 06's forest with the report's 200 trees",
    )
    parser.add_argument(
        "--reproject", action="store_true", help="only recompute the projection of --out from the samples it holds"
    )
    args = parser.parse_args(argv)
    if args.reproject:
        cli.json_file(str(args.out))  # a missing or damaged --out: one line naming it, before any work
        reproject(args.out)
        return
    cli.check_output_folder(args.out.expanduser().parent, "--out's folder")
    if args.scratch is not None:
        cli.check_output_folder(args.scratch, "--scratch")
    config = select(args.profile)
    cli.check_cache(config.cache)
    work = config.experiments
    store = SliceStore(config.style.slices, config.style.crop, stand_in_stylized)
    all_splits = splits.experiment_splits(config.style.slices, work.n_folds, work.seeds)
    gatys_arm = next(arm for arm in work.arms if arm.engine == "gatys")  # this benchmark times the Gatys arm
    chapter_units = unit_cache.arm_units(gatys_arm, ONE_STYLE, style_sweep=True, pipelines=PIPELINES)
    settings = runner.UnitSettings(
        styles=work.styles, heldout=work.heldout_styles, one_style=ONE_STYLE, trees=work.forest_trees,
        max_samples=work.forest_max_samples, max_train_images=work.max_train_images,
    )  # fmt: skip
    displacement_styles = tuple(sorted(set(work.styles) | {ONE_STYLE}))
    n_displacement = len(displacement_styles) * len(work.steps) * len(store.slices)

    # the parent's bookkeeping, as run_all does it: every unit's digest, the tasks, the provenance
    started, started_cpu = time.perf_counter(), time.process_time()
    prints = [unit_cache.fingerprint(store, unit, settings) for unit in chapter_units]
    plan, tasks = cost.make_plan(store, chapter_units, settings, n_displacement)
    unit_cache.provenance(store, chapter_units, settings, prints)
    bookkeeping = {"cpu": time.process_time() - started_cpu, "wall": time.perf_counter() - started}
    print(f"{len(chapter_units)} units in {len(tasks)} tasks, {plan.graphs} graphs; bookkeeping {bookkeeping} s")

    scratch = Path(args.scratch or tempfile.mkdtemp(prefix="chapter06_cost_"))
    sampled = sample_tasks(tasks, args.samples)
    graph_cache = GraphCache(scratch / GRAPH_FOLDER)
    graph_settings = unit_cache.pipeline_settings(chapter_units[0], settings)
    graph_seconds: dict[str, list[float]] = {"cpu": [], "wall": []}
    wanted = set().union(*(cost.frangi_graph_images(store, task, settings) for task in sampled))
    images = {image.tag: image for task in sampled for image in _task_images(store, task, settings)}
    for number, (tag, with_labels) in enumerate(sorted(wanted), 1):
        built_before = graph_cache.built
        _, wall, cpu = timed(graph_cache.get, images[tag], graph_settings, with_labels)
        if graph_cache.built > built_before:
            graph_seconds["cpu"].append(cpu)
            graph_seconds["wall"].append(wall)
        if number % 100 == 0:
            print(f"graphs {number}/{len(wanted)}: {np.mean(graph_seconds['cpu']):.2f} s cpu each", flush=True)

    task_seconds: dict[str, dict[str, list[float]]] = {"cpu": {}, "wall": {}}
    task_records = []
    for task in sampled:
        kind = cost.kind_of(task[0])
        fresh = GraphCache(scratch / GRAPH_FOLDER)  # a worker's: graphs read back from the disk
        _, wall, cpu = timed(runner.run_units, store, task, settings, fresh, 1)
        task_seconds["cpu"].setdefault(kind, []).append(cpu)
        task_seconds["wall"].setdefault(kind, []).append(wall)
        task_records.append({
            "kind": kind, "units": [f"{unit.scenario}/steps{unit.steps}/{unit.split.name}" for unit in task],
            "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "graphs_built": fresh.built,
        })  # fmt: skip
        print(f"{kind:22s} {len(task)} unit(s) {wall:6.1f} s wall {cpu:6.1f} s cpu", flush=True)

    maps = FrangiMaps(scratch, settings)
    chosen = [(style, steps) for style in displacement_styles for steps in work.steps][: args.displacement_samples]
    chosen = chosen or [(displacement_styles[0], work.steps[0])]
    sample_store = SliceStore(store.slices[:1], config.style.crop, stand_in_stylized)
    _, displacement_wall, displacement_cpu = timed(
        lambda: [displacement.displacement_table(sample_store, (style,), (steps,), maps) for style, steps in chosen]
    )
    displacement_seconds = {"cpu": displacement_cpu / len(chosen), "wall": displacement_wall / len(chosen)}
    forest_check = check_forests(store, config, all_splits[0], settings, scratch) if args.forest_check else None
    document = {
        "command": shlex.join([sys.executable.rsplit("/", 1)[-1], *sys.argv]),
        "profile": config.profile,
        "machine": machine(),
        "threads_per_task": 1,
        "stand_in": STAND_IN,
        "settings": {
            "splits": [split.name for split in all_splits],
            "steps": work.steps,
            "pixel_rf_steps": work.pixel_rf_steps,
            "sweep_steps": work.sweep_steps,
            "forest_trees": work.forest_trees,
            "forest_max_samples": work.forest_max_samples,
            "max_train_images": work.max_train_images,
            "pipelines": PIPELINES,
            "one_style": ONE_STYLE,
        },  # fmt: skip
        "plan": {**plan.as_dict(), "units_total": len(chapter_units), "tasks_total": len(tasks)},
        "samples": {
            "tasks": task_records,
            "graph_builds": len(graph_seconds["cpu"]),
            "graph_seconds_mean": {clock: float(np.mean(values)) for clock, values in graph_seconds.items()},
            "displacement_slices": len(chosen),
            "displacement_seconds_per_slice": displacement_seconds,
            "bookkeeping_seconds": bookkeeping,
        },
        "forest_check": forest_check,
    }
    document.update(projection_fields(document))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(document, indent=1))
    if args.scratch is None:
        shutil.rmtree(scratch, ignore_errors=True)
    report(document, args.out)


def report(document: dict, path: Path) -> None:
    """Print the projection's verdict."""
    two, sixteen = document["projection"]["2"], document["projection"]["16"]
    print(f"projected: {two['wall_minutes']:.1f} min on 2 cores, {sixteen['wall_minutes']:.1f} min on 16 -> {path}")


def projection_fields(document: dict) -> dict:
    """The projection and verdict of a benchmark document, from its plan and samples (cost.project)."""
    samples = document["samples"]
    plan = cost.Plan(**{key: document["plan"][key] for key in ("units", "tasks", "graphs", "displacement_slices")})
    fields: dict = {}
    for clock, name in (("cpu", "projection"), ("wall", "projection_wall_busy")):
        task_seconds: dict[str, list[float]] = {}
        for record in samples["tasks"]:
            task_seconds.setdefault(record["kind"], []).append(record[f"{clock}_s"])
        fields[name] = {
            str(cores): cost.project(
                plan, task_seconds, [samples["graph_seconds_mean"][clock]], samples["bookkeeping_seconds"][clock],
                cores, samples["displacement_seconds_per_slice"][clock],
            )
            for cores in sorted({2, 16, document["machine"]["cores"] or 2})
        }  # fmt: skip
    two, sixteen = fields["projection"]["2"], fields["projection"]["16"]
    return {
        **fields,
        "clock": "projection: each sample's process CPU time (what one quiet core takes; this machine was shared, "
        "see machine.load_average); projection_wall_busy: the same from wall-clock times on this busy machine",
        "budget_minutes_2_cores": BUDGET_MINUTES_2_CORES,
        "within_budget": bool(two["wall_minutes"] <= BUDGET_MINUTES_2_CORES),
        "budget_minutes_16_cores": BUDGET_MINUTES_2_CORES * 2 / 16,
        "within_budget_16_cores": bool(sixteen["wall_minutes"] <= BUDGET_MINUTES_2_CORES * 2 / 16),
        "formula": "wall = bookkeeping + (sum over kinds of tasks x mean task seconds + graphs x mean graph "
        "seconds + displacement slices x seconds per slice) / cores + longest sampled task",
    }


def reproject(path: Path) -> None:
    """Recompute the projection of a benchmark JSON from its own samples (after a change of the formula)."""
    document = json.loads(path.read_text())
    document.update(projection_fields(document))
    document["reprojected_by"] = shlex.join([sys.executable.rsplit("/", 1)[-1], *sys.argv])
    atomic_write_text(path, json.dumps(document, indent=1))
    report(document, path)


def check_forests(
    store: SliceStore, config: Config, split: splits.Split, settings: runner.UnitSettings, scratch: Path
) -> dict:
    """Chapter 06's forest against that of chapters 03-05: clean Rand error of the originals of one split.

    Trained on the split's original training slices (every confident edge up to the cap), tested on its test
    slices, with two forest seeds each: the seed's own spread shows what difference is noise.
    """
    from helpers.segmentation import metrics
    from helpers.segmentation.pipeline import segment_graph, train_edge_rf

    work = config.experiments
    graph_settings = unit_cache.pipeline_settings(unit_cache.Unit("frangi", work.steps[0], "original", split), settings)
    graphs = GraphCache(scratch / GRAPH_FOLDER)
    train = [graphs.get(store.original(index), graph_settings, True) for index in split.train]
    test = [graphs.get(store.original(index), graph_settings, False) for index in split.test]
    forests = {
        "chapters 03-05": (config.segmentation.rf_trees, config.segmentation.rf_max_samples),
        "chapter 06": (work.forest_trees, work.forest_max_samples),
    }
    records = []
    for name, (trees, cap) in forests.items():
        for seed in (0, 1):
            forest, _, cpu = timed(
                lambda: train_edge_rf(train, trees=trees, seed=seed, max_samples=cap, n_jobs=1)  # noqa: B023
            )
            errors = [
                metrics.evaluate(segment_graph(graph, forest, graph_settings), store.gt[index])["rand_error"]
                for graph, index in zip(test, split.test)
            ]
            records.append({
                "forest": name, "trees": trees, "max_samples": cap, "seed": seed, "train_cpu_s": round(cpu, 2),
                "rand_error_mean": float(np.mean(errors)), "rand_error": [round(float(e), 4) for e in errors],
            })  # fmt: skip
            print(f"forest {name}: seed {seed} mean Rand error {np.mean(errors):.4f}, {cpu:.1f} s cpu", flush=True)
    return {"split": split.name, "train": split.train, "test": split.test, "records": records}


def _task_images(store: SliceStore, task: list[unit_cache.Unit], settings: runner.UnitSettings) -> list:
    """Every image a task reads (training set and each unit's test conditions)."""
    return [image for unit in task for image in unit_cache.unit_images(store, unit, settings)]


if __name__ == "__main__":
    cli.run(main, "benchmarks/chapter06_cost.py")
