#!/usr/bin/env bash
# What only a GPU shows, in one call on a lent CUDA machine (round 5, results/gpu/):
#   1. AMP: the paper profile's training step in fp32 / bf16 / fp16 (speed, memory, loss
#      agreement; benchmarks/bench_gpu.py);
#   2. the training loop end to end under fp16 (GradScaler) and bf16 (python -m amdlib.train);
#   3. the CUDA branch of the cost volume's tests;
#   4. an emergence sweep of the cpu profile's recipes, iteration-matched
#      (benchmarks/sweeps/gpu_round5.txt), for SWEEP_MINUTES.
# Usage: OUT=folder SWEEP_MINUTES=4.5 bash benchmarks/gpu_checks.sh
set -u
export PYTHONUNBUFFERED=1
OUT=${OUT:-results/gpu}
mkdir -p "$OUT"
nvidia-smi -L
python3 -c "import torch, torchvision, skimage, PIL; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'skimage', skimage.__version__, 'PIL', PIL.__version__)"
rm -rf data/generated
# generate_all writes one folder: never two generators at once
python3 benchmarks/emergence.py --prepare-only > "$OUT/prepare.log" 2>&1 &
python3 benchmarks/bench_gpu.py --profile paper --batch 2 8 --steps 10 --out "$OUT/bench_gpu_paper.md"
python3 -m pytest tests/test_correlation.py -q -p no:cacheprovider -o addopts="" 2>&1 | tail -n 1
wait
for amp in fp16 bf16; do
  (python3 -m amdlib.train --profile paper --amp $amp --iterations 20 --batch-size 2 --num-workers 2 \
    --checkpoint-every 10 --out "/tmp/paper_$amp" > "$OUT/train_paper_$amp.log" 2>&1;
   echo "train paper $amp: exit $?"; tail -n 2 "/tmp/paper_$amp/log.csv") &
done
python3 benchmarks/emergence_sweep.py benchmarks/sweeps/gpu_round5.txt --workers 12 --threads 1 \
  --minutes "${SWEEP_MINUTES:-4.5}" --out /tmp/sweep > "$OUT/sweep.log" 2>&1
wait
tar czf "$OUT/sweep.tgz" --exclude=checkpoint.pt --exclude=tensorboard -C /tmp sweep
tail -n 20 "$OUT/sweep.log"
