"""How fast chapter 01's style-transfer panel answers: a click's run of 30 steps at 128 px, timed from the click.

One command (on a quiet machine; the target is for a 2-core CPU)::

    .venv/bin/python benchmarks/panel_benchmark.py                      # 128 px, 30 steps, cpu, 3 repeats

It builds the panel (``helpers.viz.widgets.style_transfer_panel``), runs it once to load the network (a user's
first click pays that once per session; its time is recorded too), then clicks the button ``--repeats`` times
as a user does: the run goes to the background thread, previews and progress bar update, and the benchmark
waits for it to end. It records, per click, the seconds to the first preview that differs from the photo and
to the end, and writes results/panel_benchmark.json with the command line, the machine and its load average
(numbers on a busy machine are only as good as the machine was quiet). Target: 30 steps within 5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.style_benchmark import device_name  # noqa: E402
from helpers.paths import RESULTS, atomic_write_text  # noqa: E402
from helpers.viz import widgets  # noqa: E402

TARGET_S = 5.0


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


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=128, help="the panel's size, longest side in pixels")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3, help="clicks timed (the median is the result)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--source", default=None, help="network (default: the engine's default)")
    parser.add_argument("--out", default=str(RESULTS / "panel_benchmark.json"))
    args = parser.parse_args(argv)
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
    seconds = sorted(click["seconds"] for click in clicks)[len(clicks) // 2]
    previews = sorted(c["first_preview_s"] for c in clicks if c["first_preview_s"] is not None)
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
        "first_preview_s_median": previews[len(previews) // 2] if previews else None,
        "first_load_s": round(first_load_s, 3),
        "target_s": TARGET_S,
        "within_target": seconds <= TARGET_S,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result, indent=1))
    atomic_write_text(Path(args.out), json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
