"""How fast the chapters' panels answer: chapter 01's style transfer (a click's 30 steps) and chapter 05's beta slider.

One command (on a quiet machine; the targets are for a 2-core CPU)::

    .venv/bin/python benchmarks/panel_benchmark.py          # 128 px, 30 steps, cpu, 3 repeats; reduced 05, 5 changes

Style transfer. It builds the panel (``helpers.viz.widgets.style_transfer_panel``), runs it once to load the
network (a user's first click pays that once per session; its time is recorded too), then clicks the button
``--repeats`` times as a user does: the run goes to the background thread, previews and progress bar update, and
the benchmark waits for it to end. It records, per click, the seconds to the first preview that differs from the
photo and to the end. Target: 30 steps within 5 s.

Beta slider. It builds chapter 05's panel (``helpers.viz.widgets.beta_panel``) as the chapter does in
``--beta-profile`` (default ``reduced``: the Frangi pipeline trained on slices 0-23, whole 512 px test slice 24),
calls its ``run`` once as the chapter does, then moves the slider ``--beta-changes`` + 1 times. Each change is
timed from the new value to the end of the slider's handler: multicut re-solved, scored, figure drawn and rendered
to PNG as Jupyter's inline backend renders it (an IPython shell without a kernel stands in for the kernel). The
first change is recorded apart from the median of the others. Target: both within 1 s.

It writes results/panel_benchmark.json with the command line, the machine and its load average (numbers on a busy
machine are only as good as the machine was quiet). A smoke run: ``--size 32 --steps 2 --repeats 1 --beta-profile
ci --beta-changes 2 --out /tmp/panel.json``.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path

import ipywidgets
import matplotlib.pyplot as plt
import torch
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.pylabtools import select_figure_formats
from IPython.utils.capture import capture_output

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.style_benchmark import device_name  # noqa: E402
from helpers import cli  # noqa: E402
from helpers.config import select  # noqa: E402
from helpers.paths import RESULTS, atomic_write_text  # noqa: E402
from helpers.segmentation import pipeline  # noqa: E402
from helpers.viz import widgets  # noqa: E402

TARGET_S = 5.0
BETA_TARGET_S = 1.0
BETA_VALUES = (0.3, 0.7, 0.4, 0.6, 0.35, 0.65, 0.45, 0.55)  # slider positions visited in turn (start: 0.5)


def median(values: list[float]) -> float:
    """The middle value (of an even count, the upper of the two middle ones).

    Args:
        values: at least one number.

    Returns:
        The median.
    """
    return sorted(values)[len(values) // 2]


def timed_click(panel: widgets.StyleTransferPanel) -> dict:
    """Click once and time the first changed preview and the end of the run."""
    first_preview: list[float] = []
    start_image = panel.preview.value

    def on_preview(change: dict) -> None:
        if not first_preview and change["new"] != start_image:
            first_preview.append(time.perf_counter())

    panel.preview.observe(on_preview, names="value")
    started = time.perf_counter()
    panel.click()
    panel.wait()
    ended = time.perf_counter()
    panel.preview.unobserve(on_preview, names="value")
    panel.preview.value = start_image
    return {
        "seconds": round(ended - started, 3),
        "first_preview_s": round(first_preview[0] - started, 3) if first_preview else None,
        "steps_done": panel.progress.value,
    }


def beta_panel(profile: str) -> tuple[ipywidgets.VBox, pipeline.Run]:
    """Chapter 05's beta panel, built as the chapter builds it (Frangi pipeline, the profile's first test slice).

    Args:
        profile: the profile whose segmentation work (slices, crop, forest size) the chapter runs.

    Returns:
        The panel, after its headless ``run`` at the start beta as the chapter calls it, and the pipeline's run
        (trained on the training slices, applied to the first test slice only: the slice the panel shows).
    """
    work = select(profile).segmentation
    (train_raw, train_labels, _), (test_raw, test_labels, test_gt) = pipeline.load_split(work)
    settings = pipeline.PipelineSettings(
        boundary="frangi", watershed="distance", rf_trees=work.rf_trees, seed=0, rf_max_samples=work.rf_max_samples
    )
    run = pipeline.run(train_raw, train_labels, test_raw[:1], test_labels[:1], settings, progress=False)
    panel, rerun = widgets.beta_panel(test_raw[0], run.test_graphs[0], run.forest, test_gt[0], run.settings)
    rerun(settings.beta)
    return panel, run


def timed_change(slider: ipywidgets.FloatSlider, beta: float) -> dict:
    """Move the slider to ``beta`` and time it until the panel's new figure is rendered as a PNG.

    Args:
        slider: the beta panel's slider (its handler re-solves, scores and shows the figure).
        beta: the new value (different from the current one, or nothing happens).

    Returns:
        The value and the seconds it took.

    Raises:
        RuntimeError: if the change showed no PNG figure.
    """
    started = time.perf_counter()
    with capture_output() as shown:
        slider.value = beta
    seconds = time.perf_counter() - started
    if not any("image/png" in output.data for output in shown.outputs):
        raise RuntimeError(f"moving the beta slider to {beta} showed no figure")
    return {"beta": beta, "seconds": round(seconds, 3)}


def measure_beta_slider(profile: str, changes: int) -> dict:
    """Time chapter 05's beta slider: the first change, then the median of ``changes`` more.

    Args:
        profile: the profile whose chapter 05 the panel is built from.
        changes: changes timed after the first.

    Returns:
        The panel's slice and graph, the pipeline's build time, each change, the median and the target.
    """
    select_figure_formats(InteractiveShell.instance(), {"png"})  # display(fig) renders a PNG, as in Jupyter
    started = time.perf_counter()
    panel, run = beta_panel(profile)
    build_s = time.perf_counter() - started
    slider = panel.children[0]
    first, *rest = [timed_change(slider, BETA_VALUES[k % len(BETA_VALUES)]) for k in range(changes + 1)]
    seconds = median([change["seconds"] for change in rest]) if rest else None
    graph = run.test_graphs[0]
    return {
        "profile": profile,
        "slice": select(profile).segmentation.test_slices[0],
        "shape": list(graph.superpixels.shape),
        "nodes": graph.n_nodes,
        "edges": graph.n_edges,
        "trees": run.settings.rf_trees,
        "build_s": round(build_s, 3),
        "first_change": first,
        "changes": rest,
        "seconds_median": seconds,
        "target_s": BETA_TARGET_S,
        "within_target": first["seconds"] <= BETA_TARGET_S and (seconds is None or seconds <= BETA_TARGET_S),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = cli.ArgumentParser(prog="benchmarks/panel_benchmark.py", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--size", type=cli.whole("size", 16), default=128, help="the panel's size, longest side in pixels"
    )
    parser.add_argument("--steps", type=cli.whole("steps", 1), default=30)
    parser.add_argument(
        "--repeats", type=cli.whole("repeats", 1), default=3, help="clicks timed (the median is the result)"
    )
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument(
        "--source",
        default=None,
        choices=("hed", "vgg19", "torchvision-vgg16", "torchvision-vgg19"),
        help="network (default: the engine's default)",
    )
    parser.add_argument(
        "--beta-profile", type=cli.profile, default="reduced", help="profile whose chapter 05 the beta panel is from"
    )
    parser.add_argument(
        "--beta-changes", type=cli.whole("beta changes", 1), default=5, help="slider changes after the first (median)"
    )
    parser.add_argument("--out", default=str(RESULTS / "panel_benchmark.json"))
    args = parser.parse_args(argv)
    cli.check_output_folder(Path(args.out).expanduser().parent, "--out's folder")
    from helpers.style import engine

    settings = engine.DEFAULT_SETTINGS if args.source is None else engine.StyleSettings(source=args.source)
    started = time.perf_counter()
    panel, run = widgets.style_transfer_panel(args.size, args.device, args.steps, settings)
    panel.steps.value = 1
    warm, fig = run()
    plt.close(fig)
    first_load_s = time.perf_counter() - started
    panel.steps.value = args.steps
    clicks = [timed_click(panel) for _ in range(args.repeats)]
    seconds = median([click["seconds"] for click in clicks])
    previews = [c["first_preview_s"] for c in clicks if c["first_preview_s"] is not None]
    result = {
        "command": shlex.join(
            [".venv/bin/python", "benchmarks/panel_benchmark.py", *(sys.argv[1:] if argv is None else argv)]
        ),
        "device": args.device,
        "device_name": device_name(args.device),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "network": settings.source,
        "size": args.size,
        "shape": list(warm.image.shape[:2]),
        "steps": args.steps,
        "clicks": clicks,
        "seconds_median": seconds,
        "seconds_per_step": round(seconds / args.steps, 4),
        "first_preview_s_median": median(previews) if previews else None,
        "first_load_s": round(first_load_s, 3),
        "target_s": TARGET_S,
        "within_target": seconds <= TARGET_S,
        "beta_slider": measure_beta_slider(args.beta_profile, args.beta_changes),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result, indent=1))
    atomic_write_text(Path(args.out), json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    cli.run(main, "benchmarks/panel_benchmark.py")
