"""Style-transfer speed and quality: the report's one-image-at-a-time L-BFGS loop vs the batched engine.

One command, e.g. on a GPU (the defaults)::

    .venv/bin/python benchmarks/style_benchmark.py                      # 512 px, 24 pairs, 75 steps, cuda

or small on a CPU::

    .venv/bin/python benchmarks/style_benchmark.py --size 128 --pairs 12 --steps 75 --device cpu

More pairs (``--pairs 24``: slices 0-23, paintings 0-23) narrow the bootstrap intervals below.

Both engines stylise the same (ISBI slice crop, painting) pairs for the same number of steps (function
evaluations). (a) ``helpers.style.engine.stylize``: torch.optim.LBFGS, one image after the other, as in the PyTorch
tutorial the report used; (b) ``helpers.style.engine.stylize_batch``: per-image L-BFGS vectorised over the
batch.
It measures image-iterations per second (pairs x steps / wall time) of each, their ratio, and the per-image
ratio of final losses (batched / sequential; 1.0 = same quality), and writes results/style_benchmark.json
with the exact command line. The report's workload (30 slices x 24 paintings at 75 and 150 steps; the
75-step image is a snapshot of the 150-step run) is extrapolated from the batched rate.

Quality is judged by the criterion of ``benchmarks.readers.quality_criterion`` (at least 12 pairs: the batched
engine's median |ln(loss ratio)| no larger than the one-image loop's against a rerun on 1e-6-perturbed input,
geometric-mean ratio at most 1.02); each batched run's ``criterion`` holds its fields and ``passed``. The batched
engine runs each pair once more alone (``batch_independence``, :func:`benchmarks.readers.batch_independence`): how
much the batch changes a result, against the same noise floor. Both comparisons with the floor carry a paired
bootstrap 95 % interval of the difference of the medians and ``distinguishable_from_noise_floor`` (the interval
excludes 0), which says whether the pairs measured can tell the two spreads apart at all; ``passed`` ignores it.
The batched engine's GPU options (torch.compile, channels-last, batch size) are the
settings' ``auto`` unless given, and are recorded with each run.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import readers  # noqa: E402
from helpers import cli, data  # noqa: E402
from helpers.paths import RESULTS, atomic_write_text  # noqa: E402
from helpers.style import engine  # noqa: E402
from helpers.style.engine import StyleSettings  # noqa: E402
from helpers.style.objective import COMPILE_BACKENDS, PRECISIONS  # noqa: E402

REPORT_WORKLOAD = {"slices": 30, "styles": 24, "steps": (75, 150)}
TARGETS = {
    "batched_image_iterations_per_s_h100": 1000,
    "report_workload_s_h100": 150,
    "speedup_floor": 5,
    "quality": readers.CRITERION_RULE,
}


def device_name(device: str) -> str:
    """Human-readable name of the device that ran the benchmark."""
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"CPU: {line.split(':', 1)[1].strip()} ({torch.get_num_threads()} threads)"
    except OSError:
        pass
    return f"CPU: {platform.processor() or platform.machine()} ({torch.get_num_threads()} threads)"


def make_pairs(n: int, size: int) -> tuple[list[np.ndarray], list[int]]:
    """``n`` (content, style) pairs: top-left ``size`` crops of ISBI slices 0, 1, ... and paintings 0, 1, ..."""
    if not 16 <= size <= 512:
        raise SystemExit(f"--size must be within 16..512 (ISBI slices are 512 x 512), got {size}")
    raw, _ = data.load_training([i % 30 for i in range(n)])
    return [r[:size, :size] for r in raw], [i % 24 for i in range(n)]


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def run_sequential(contents, styles, steps: int, device: str) -> tuple[float, list[float], list[np.ndarray]]:
    """Seconds, final losses and loss histories of the one-at-a-time tutorial loop (fp32, as the tutorial)."""
    settings = StyleSettings(device=device, precision="fp32", compile="off")
    engine.stylize(contents[0], styles[0], 2, settings)  # warm-up (cuDNN autotuning, allocator)
    _sync(device)
    started = time.perf_counter()
    results = [engine.stylize(c, s, steps, settings) for c, s in zip(contents, styles)]
    _sync(device)
    return time.perf_counter() - started, [r.final["total"] for r in results], [r.history["total"] for r in results]


def run_batched(contents, styles, steps: int, settings: StyleSettings) -> dict:
    """The batched engine on all pairs (``settings.batch_size`` at a time): seconds, losses, how it ran.

    A 2-step call with the same shapes goes first: it compiles the passes (when compiled) and warms up; its
    time is ``warmup_s``.
    """
    started = time.perf_counter()
    engine.stylize_batch(contents, styles, 2, settings)
    _sync(settings.device)
    warmup = time.perf_counter() - started
    started = time.perf_counter()
    results = engine.stylize_batch(contents, styles, steps, settings)
    _sync(settings.device)
    record = results[0].settings
    return {
        "seconds": time.perf_counter() - started,
        "warmup_s": warmup,
        "losses": [r.final["total"] for r in results],
        "histories": [r.history["total"] for r in results],
        "execution": {name: record[name] for name in ("precision", "compile", "channels_last")},
        "batch": max(r.settings["batch"] for r in results),
    }


def loss_agreement(losses, histories, reference_losses, reference_histories) -> dict:
    """How closely one run's per-image losses follow the reference's.

    ``per_image_loss_ratio``: final loss / reference final loss. ``best_loss_ratio``: the lowest loss seen along
    each run / the reference's (blind to a late spike). ``abs_log_ratio_median``/``_max``: the spread of the
    final ratios on a symmetric scale (|ln r|; 0.02 is about 2 %).
    """
    ratios = np.asarray(losses, dtype=float) / np.asarray(reference_losses, dtype=float)
    best = np.asarray([np.min(h) for h in histories]) / np.asarray([np.min(h) for h in reference_histories])
    spread = np.abs(np.log(np.maximum(ratios, readers.SMALLEST_RATIO)))
    return {
        "per_image_loss_ratio": [round(float(r), 5) for r in ratios],
        "loss_ratio_geometric_mean": round(float(np.exp(np.log(ratios).mean())), 5),
        "loss_ratio_min": round(float(ratios.min()), 5),
        "loss_ratio_max": round(float(ratios.max()), 5),
        "abs_log_ratio_median": round(float(np.median(spread)), 5),
        "abs_log_ratio_max": round(float(spread.max()), 5),
        "best_loss_ratio": [round(float(r), 5) for r in best],
    }


def _rounded(histories) -> list[list[float]]:
    return [[float(f"{v:.5g}") for v in h] for h in histories]


def _batch(text: str) -> str | int:
    """``--batch``: ``auto`` or a whole number >= 1."""
    return text if text == "auto" else cli.whole("--batch (or auto)", 1)(text)


def main(argv=None) -> dict:
    gpu = torch.cuda.is_available()
    parser = cli.ArgumentParser(prog="benchmarks/style_benchmark.py", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--size", type=cli.whole("size", 16), default=512, help="side of the square content crops (default 512)"
    )
    parser.add_argument(
        "--pairs",
        type=cli.whole("pairs", 1),
        default=24 if gpu else readers.MIN_PAIRS,
        help=f"(content, style) pairs (default 24 on a GPU, {readers.MIN_PAIRS} on the CPU; the quality criterion "
        f"needs at least {readers.MIN_PAIRS})",
    )
    parser.add_argument(
        "--steps", type=cli.whole("steps", 1), default=75, help="function evaluations per image (default 75)"
    )
    parser.add_argument("--device", default="cuda" if gpu else "cpu")
    parser.add_argument(
        "--batch",
        type=_batch,
        default="auto",
        help="pairs per batch of the batched engine: a number, or auto (all on the CPU, what fits the free "
        "memory on a GPU)",
    )
    parser.add_argument(
        "--compile",
        default="auto",
        choices=COMPILE_BACKENDS,
        help="torch.compile of the batched engine's VGG passes (auto: inductor on CUDA, off on the CPU)",
    )
    parser.add_argument(
        "--channels-last",
        default="auto",
        choices=("auto", "on", "off"),
        help="channels-last memory of the batched engine (auto: on CUDA only)",
    )
    parser.add_argument(
        "--no-batch-independence",
        action="store_true",
        help="skip rerunning each pair alone in the batched engine (how much the batch changes a result)",
    )
    parser.add_argument(
        "--precisions",
        nargs="+",
        default=None,
        choices=[p for p in PRECISIONS if p != "auto"],
        action=cli.Unique,
        help="batched precisions to measure (default: bf16 fp32 on cuda, fp32 on cpu)",
    )
    parser.add_argument(
        "--noise-floor",
        type=cli.real("noise floor", 0.0),
        default=1e-6,
        help="also rerun the sequential loop on contents + this much Gaussian noise (e.g. 1e-6) and record "
        "its loss ratios: how far apart two equally valid runs end (default 1e-6; 0: skip)",
    )
    parser.add_argument("--out", default=str(RESULTS / readers.BENCHMARK_FILE))
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not gpu:
        parser.error("argument --device: cuda, but no CUDA GPU is visible: use --device cpu")
    if not (args.device == "cpu" or args.device.startswith("cuda")):
        parser.error(f"argument --device: unknown device {args.device!r}: use cpu or cuda")
    cli.check_output_folder(Path(args.out).expanduser().parent, "--out's folder")
    precisions = args.precisions or (["bf16", "fp32"] if args.device.startswith("cuda") else ["fp32"])
    options = {
        "device": args.device,
        "compile": args.compile,
        "channels_last": {"auto": "auto", "on": True, "off": False}[args.channels_last],
        "batch_size": args.batch,
    }
    contents, styles = make_pairs(args.pairs, args.size)
    image_iterations = args.pairs * args.steps

    print(f"sequential: {args.pairs} pairs x {args.steps} steps at {args.size} px on {args.device} ...", flush=True)
    seq_s, seq_losses, seq_hist = run_sequential(contents, styles, args.steps, args.device)
    seq_rate = image_iterations / seq_s
    print(f"  {seq_rate:.2f} image-iterations/s ({seq_s:.1f} s)", flush=True)
    histories = {"sequential": _rounded(seq_hist)}
    batched, batched_losses = {}, {}
    for precision in precisions:
        print(f"batched ({precision}, batch {args.batch}, compile {args.compile}) ...", flush=True)
        run = run_batched(contents, styles, args.steps, StyleSettings(precision=precision, **options))
        rate = image_iterations / run["seconds"]
        workload_evals = REPORT_WORKLOAD["slices"] * REPORT_WORKLOAD["styles"] * max(REPORT_WORKLOAD["steps"])
        agreement = loss_agreement(run["losses"], run["histories"], seq_losses, seq_hist)
        batched_losses[precision] = run["losses"]
        batched[precision] = {
            "dtype": {"bf16": "bfloat16 autocast (VGG passes), fp32 Grams/losses/L-BFGS", "fp32": "float32"}[precision],
            "execution": run["execution"],
            "batch": run["batch"],
            "warmup_s": round(run["warmup_s"], 3),
            "seconds": round(run["seconds"], 3),
            "image_iterations_per_s": round(rate, 3),
            "speedup_vs_sequential": round(rate / seq_rate, 3),
            **agreement,
            "report_workload_estimate_s": round(workload_evals / rate, 1),
        }
        histories[f"batched_{precision}"] = _rounded(run["histories"])
        print(
            f"  {rate:.2f} image-iterations/s, x{rate / seq_rate:.2f}, loss ratios {agreement['per_image_loss_ratio']}",
            flush=True,
        )
    floor, floor_ratios = None, None
    if args.noise_floor > 0:
        rng = np.random.default_rng(0)
        noisy = [
            np.clip(
                c.astype(np.float32) / 255 + args.noise_floor * rng.standard_normal(c.shape).astype(np.float32), 0, 1
            )
            for c in contents
        ]
        print(f"noise floor: sequential again on contents + N(0, {args.noise_floor:g}) ...", flush=True)
        _, noisy_losses, noisy_hist = run_sequential(noisy, styles, args.steps, args.device)
        histories["sequential_noisy_input"] = _rounded(noisy_hist)
        floor = {
            "noise_std": args.noise_floor,
            **loss_agreement(noisy_losses, noisy_hist, seq_losses, seq_hist),
            "note": "the sequential loop against itself on inputs perturbed far below one grey level (1/255): "
            "how far apart two equally valid runs of the reference end, the spread any engine must be judged against",
        }
        floor_ratios = np.asarray(noisy_losses, dtype=float) / np.asarray(seq_losses, dtype=float)
        for precision, entry in batched.items():
            ratios = np.asarray(batched_losses[precision], dtype=float) / np.asarray(seq_losses, dtype=float)
            entry["criterion"] = readers.quality_criterion(ratios, floor_ratios)
            print(f"  {readers.criterion_line(f'batched {precision}', entry['criterion'])}", flush=True)
        print(f"  loss ratios {floor['per_image_loss_ratio']}", flush=True)
    independence = None
    if not args.no_batch_independence and args.pairs > 1:
        precision = precisions[0]
        print(f"batch independence: batched ({precision}) again, each pair alone ...", flush=True)
        alone = run_batched(
            contents, styles, args.steps, StyleSettings(precision=precision, **{**options, "batch_size": 1})
        )
        ratios = np.asarray(batched_losses[precision], dtype=float) / np.asarray(alone["losses"], dtype=float)
        independence = readers.batch_independence(precision, batched[precision]["batch"], ratios, floor_ratios)
        print(f"  loss ratios (batch / alone) {independence['per_image_loss_ratio']}", flush=True)
    measured_gpu = args.device.startswith("cuda")
    result = {
        "command": " ".join(
            shlex.quote(a)
            for a in [
                ".venv/bin/python",
                "benchmarks/style_benchmark.py",
                *(argv if argv is not None else sys.argv[1:]),
            ]
        ),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "device": args.device,
        "device_name": device_name(args.device),
        "torch": torch.__version__,
        "load_average_1_5_15min_at_end": [round(v, 2) for v in os.getloadavg()],
        "size": args.size,
        "pairs": args.pairs,
        "steps": args.steps,
        "batch": max(entry["batch"] for entry in batched.values()),
        "styles": styles,
        "settings": {
            name: value if not isinstance(value, tuple) else list(value)
            for name, value in vars(StyleSettings(**options)).items()
        },
        "steps_are": "function evaluations (forward + backward) per image",
        "sequential": {
            "engine": "helpers.style.engine.stylize: torch.optim.LBFGS(max_iter=20) per optimizer.step, "
            "one image at a time (PyTorch tutorial)",
            "dtype": "float32",
            "seconds": round(seq_s, 3),
            "image_iterations_per_s": round(seq_rate, 3),
            "final_losses": [round(float(v), 4) for v in seq_losses],
        },
        "batched": batched,
        "sequential_noise_floor": floor,
        "batch_independence": independence,
        "verdict_rule": readers.CRITERION_RULE,
        "report_workload": {
            **REPORT_WORKLOAD,
            "image_iterations": REPORT_WORKLOAD["slices"] * REPORT_WORKLOAD["styles"] * max(REPORT_WORKLOAD["steps"]),
            "note": "one 150-step run per (slice, style) with a snapshot at 75 steps",
        },
        "targets": TARGETS,
        "loss_histories": histories,
        "note": (
            "measured on a GPU"
            if measured_gpu
            else "measured on the CPU only: the H100 targets (>= 1000 image-iterations/s at 512 px, report workload "
            "< 2.5 min) were NOT measured; run this script on a GPU with its defaults to measure them"
        ),
    }
    atomic_write_text(Path(args.out), json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")

    return result


if __name__ == "__main__":
    cli.run(main, "benchmarks/style_benchmark.py")
