#!/usr/bin/env bash
# What only a GPU shows about the product, in one call on a lent CUDA machine, within 8 minutes:
# each part has a time limit (80 + 220 + 120 + 60 s). results/gpu/README.md reads the files.
#   1. the CUDA tests (cost volume on CUDA against CPU, autocast, the sync-free training step,
#      segment and fine-tuning on CUDA);
#   2. benchmarks/bench_paper.py: the paper step at batch 2 and 8 in every mode against the
#      release's structure, FLOPs, TFLOP/s, fraction of the bf16 peak, per-part table (paper.md);
#      then the torch.compile'd mode alone, under a time limit (paper_compiled.md);
#   3. benchmarks/bench_loader.py: pairs/s of one loader worker and the workers the measured
#      GPU rate needs (loader.md).
# Usage: OUT=results/gpu bash benchmarks/gpu_checks.sh        (emergence sweeps: research/gpu_sweep.sh)
set -u
export PYTHONUNBUFFERED=1
OUT=${OUT:-results/gpu}
mkdir -p "$OUT"
stamp() { echo "[$(date +%T)] $*"; }
stamp start
nvidia-smi -L
python3 -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__)"
timeout 80 python3 -m pytest -q -p no:cacheprovider -o addopts="" tests/test_correlation.py tests/test_speed_options.py \
  tests/test_segment_cli.py tests/test_finetune.py tests/test_plots.py 2>&1 | tail -n 3 | tee "$OUT/tests.txt"
stamp "tests done"
timeout 220 python3 benchmarks/bench_paper.py --device cuda --batch 2 8 --steps 20 --breakdown --out "$OUT/paper.md"
stamp "paper step done"
timeout 120 python3 benchmarks/bench_paper.py --device cuda --batch 8 --steps 20 \
  --modes "bf16 channels_last" "bf16 channels_last compiled" --out "$OUT/paper_compiled.md" \
  || echo "torch.compile: did not finish within 120 s (or failed); the eager modes stand" | tee "$OUT/paper_compiled.md"
stamp "compiled step done"
rate=$(python3 - "$OUT/paper.md" <<'PY'
import re, sys
rows = [line.split("|") for line in open(sys.argv[1]) if line.startswith("| bf16 channels_last | 8 |")]
print(rows[0][4].strip() if rows else 40)
PY
)
timeout 60 python3 benchmarks/bench_loader.py --workers 1 4 8 --gpu-pairs-per-second "$rate" --out "$OUT/loader.md"
stamp "loader done"
