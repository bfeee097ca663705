"""Style-transfer speed and quality: the report's one-image-at-a-time L-BFGS loop vs the batched engine.

One command, e.g. on a GPU (the defaults)::

    .venv/bin/python benchmarks/style_benchmark.py                      # 512 px, 24 pairs, 50 steps, cuda

or small on a CPU::

    .venv/bin/python benchmarks/style_benchmark.py --size 256 --pairs 4 --steps 30 --device cpu

Both engines stylise the same (ISBI slice crop, painting) pairs for the same number of steps (function
evaluations). (a) ``helpers.style.stylize``: torch.optim.LBFGS, one image after the other, as in the PyTorch
tutorial the report used; (b) ``helpers.style.stylize_batch``: per-image L-BFGS vectorised over the batch.
It measures image-iterations per second (pairs x steps / wall time) of each, their ratio, and the per-image
ratio of final losses (batched / sequential; 1.0 = same quality), and writes results/style_benchmark.json
with the exact command line. The report's workload (30 slices x 24 paintings at 75 and 150 steps; the
75-step image is a snapshot of the 150-step run) is extrapolated from the batched rate.
"""

from __future__ import annotations

import argparse
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

from helpers import data, style  # noqa: E402
from helpers.paths import atomic_write_text, result_path  # noqa: E402

REPORT_WORKLOAD = {"slices": 30, "styles": 24, "steps": (75, 150)}
TARGETS = {"batched_image_iterations_per_s_h100": 1000, "report_workload_s_h100": 150, "speedup_floor": 5, "loss_ratio_within": 0.02}


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


def run_sequential(contents, styles, steps: int, device: str) -> tuple[float, list[float]]:
    """Seconds and final losses of the one-at-a-time tutorial loop (fp32, as the tutorial)."""
    style.stylize(contents[0], styles[0], steps=2, device=device)  # warm-up (cuDNN autotuning, allocator)
    _sync(device)
    started = time.perf_counter()
    losses = [style.stylize(c, s, steps=steps, device=device).final["total"] for c, s in zip(contents, styles)]
    _sync(device)
    return time.perf_counter() - started, losses


def run_batched(contents, styles, steps: int, device: str, batch: int, precision: str) -> tuple[float, list[float]]:
    """Seconds and final losses of the batched engine, ``batch`` pairs at a time."""
    style.stylize_batch(contents[:batch], styles[:batch], steps=2, device=device, precision=precision)  # warm-up
    _sync(device)
    started = time.perf_counter()
    losses = []
    for i in range(0, len(contents), batch):
        results = style.stylize_batch(contents[i : i + batch], styles[i : i + batch], steps=steps, device=device, precision=precision)
        losses += [r.final["total"] for r in results]
    _sync(device)
    return time.perf_counter() - started, losses


def main(argv=None) -> dict:
    gpu = torch.cuda.is_available()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=512, help="side of the square content crops (default 512)")
    parser.add_argument("--pairs", type=int, default=24 if gpu else 4, help="(content, style) pairs (default 24 on a GPU)")
    parser.add_argument("--steps", type=int, default=50, help="function evaluations per image (default 50)")
    parser.add_argument("--device", default="cuda" if gpu else "cpu")
    parser.add_argument("--batch", type=int, default=None, help="pairs per batch of the batched engine (default: all)")
    parser.add_argument("--precisions", nargs="+", default=None, help="batched precisions to measure (default: bf16 fp32 on cuda, fp32 on cpu)")
    parser.add_argument("--noise-floor", type=float, default=0.0,
                        help="also rerun the sequential loop on contents + this much Gaussian noise (e.g. 1e-6) and record "
                             "its loss ratios: how far apart two equally valid runs end (0: skip)")
    parser.add_argument("--out", default=str(result_path("style_benchmark.json")))
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not gpu:
        raise SystemExit("--device cuda but no CUDA GPU is visible: use --device cpu")
    precisions = args.precisions or (["bf16", "fp32"] if args.device.startswith("cuda") else ["fp32"])
    batch = args.batch or args.pairs
    contents, styles = make_pairs(args.pairs, args.size)
    image_iterations = args.pairs * args.steps

    print(f"sequential: {args.pairs} pairs x {args.steps} steps at {args.size} px on {args.device} ...", flush=True)
    seq_s, seq_losses = run_sequential(contents, styles, args.steps, args.device)
    seq_rate = image_iterations / seq_s
    print(f"  {seq_rate:.2f} image-iterations/s ({seq_s:.1f} s)", flush=True)
    batched = {}
    for precision in precisions:
        print(f"batched ({precision}, batch {batch}) ...", flush=True)
        bat_s, bat_losses = run_batched(contents, styles, args.steps, args.device, batch, precision)
        ratios = np.asarray(bat_losses) / np.asarray(seq_losses)
        rate = image_iterations / bat_s
        workload_evals = REPORT_WORKLOAD["slices"] * REPORT_WORKLOAD["styles"] * max(REPORT_WORKLOAD["steps"])
        batched[precision] = {
            "dtype": {"bf16": "bfloat16 autocast (VGG passes), fp32 Grams/losses/L-BFGS", "fp32": "float32"}[precision],
            "seconds": round(bat_s, 3),
            "image_iterations_per_s": round(rate, 3),
            "speedup_vs_sequential": round(rate / seq_rate, 3),
            "per_image_loss_ratio": [round(float(r), 5) for r in ratios],
            "loss_ratio_mean": round(float(ratios.mean()), 5),
            "loss_ratio_min": round(float(ratios.min()), 5),
            "loss_ratio_max": round(float(ratios.max()), 5),
            "all_within_2_percent": bool(np.all(np.abs(ratios - 1) <= TARGETS["loss_ratio_within"])),
            "report_workload_estimate_s": round(workload_evals / rate, 1),
        }
        print(f"  {rate:.2f} image-iterations/s, x{rate / seq_rate:.2f}, loss ratio {ratios.mean():.4f} "
              f"({ratios.min():.4f}..{ratios.max():.4f})", flush=True)
    floor = None
    if args.noise_floor > 0:
        rng = np.random.default_rng(0)
        noisy = [np.clip(c.astype(np.float32) / 255 + args.noise_floor * rng.standard_normal(c.shape).astype(np.float32), 0, 1) for c in contents]
        print(f"noise floor: sequential again on contents + N(0, {args.noise_floor:g}) ...", flush=True)
        _, noisy_losses = run_sequential(noisy, styles, args.steps, args.device)
        noise_ratios = np.asarray(noisy_losses) / np.asarray(seq_losses)
        floor = {"noise_std": args.noise_floor, "per_image_loss_ratio": [round(float(r), 5) for r in noise_ratios],
                 "note": "sequential vs sequential on inputs perturbed far below one grey level: the spread any engine must be judged against"}
    measured_gpu = args.device.startswith("cuda")
    result = {
        "command": " ".join(shlex.quote(a) for a in [".venv/bin/python", "benchmarks/style_benchmark.py", *(argv if argv is not None else sys.argv[1:])]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "device": args.device,
        "device_name": device_name(args.device),
        "torch": torch.__version__,
        "load_average_1_5_15min_at_end": [round(v, 2) for v in os.getloadavg()],
        "size": args.size,
        "pairs": args.pairs,
        "steps": args.steps,
        "batch": batch,
        "steps_are": "function evaluations (forward + backward) per image",
        "sequential": {
            "engine": "helpers.style.stylize: torch.optim.LBFGS(max_iter=20) per optimizer.step, one image at a time (PyTorch tutorial)",
            "dtype": "float32",
            "seconds": round(seq_s, 3),
            "image_iterations_per_s": round(seq_rate, 3),
            "final_losses": [round(float(v), 4) for v in seq_losses],
        },
        "batched": batched,
        "sequential_noise_floor": floor,
        "report_workload": {**REPORT_WORKLOAD, "image_iterations": REPORT_WORKLOAD["slices"] * REPORT_WORKLOAD["styles"] * max(REPORT_WORKLOAD["steps"]),
                            "note": "one 150-step run per (slice, style) with a snapshot at 75 steps"},
        "targets": TARGETS,
        "note": (
            "measured on a GPU" if measured_gpu else
            "measured on the CPU only: the H100 targets (>= 1000 image-iterations/s at 512 px, report workload < 2.5 min) "
            "were NOT measured in this session; run this script on a GPU with its defaults to measure them"
        ),
    }
    atomic_write_text(Path(args.out), json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
