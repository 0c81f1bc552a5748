#!/usr/bin/env bash
# GPU figures of djax in one prepared run (well under 10 minutes on an H100/H200-class device).
#
# Runs with the accelerator image's own Python and JAX (jax >= 0.11 with CUDA, numpyro, optax; nothing is
# installed): djax is imported from this source tree. Results: $OUT/gpu-gpu.json and .md (or benchmarks/results/).
#
#   bash benchmarks/gpu.sh            # on the GPU machine, from the repository root
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-benchmarks/results}"
python3 -c 'import jax; print("jax", jax.__version__, jax.devices())'
PYTHONPATH=. timeout 540 python3 -m benchmarks.suite_gpu --out "$out"
