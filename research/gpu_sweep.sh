#!/usr/bin/env bash
# An emergence sweep on a lent CUDA machine (research/README.md): SWEEP, a runs file of
# research/emergence_sweep.py, WORKERS runs side by side for SWEEP_MINUTES, iteration-matched.
# The sweep's data is generated first, on the CPU (DATA_WORKERS processes).
# SUPERVISED=file (same `NAME: options` lines, options of research/supervised_ceiling.py) starts
# those runs beside the sweep once its data is written, one thread each, stopped with it. The
# evaluations are packed into $OUT/sweep.tgz every minute, so a call cut short still brings back
# what was measured. The product's GPU checks are benchmarks/gpu_checks.sh.
# Usage: OUT=folder SWEEP=research/sweeps/gpu_round9.txt WORKERS=8 SWEEP_MINUTES=6 bash research/gpu_sweep.sh
set -u
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/gpu_sweep}
SWEEP=${SWEEP:-research/sweeps/gpu_round9.txt}
mkdir -p "$OUT"
stamp() { echo "[$(date +%T)] $*"; }
stamp start
nvidia-smi -L
python3 -c "import torch, torchvision, skimage, PIL; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'skimage', skimage.__version__, 'PIL', PIL.__version__)"
# CUDA MPS lets the sweep's processes share the GPU instead of time-slicing it; kept only if a
# CUDA call works under it.
if command -v nvidia-cuda-mps-control > /dev/null && timeout 20 nvidia-cuda-mps-control -d; then
  if timeout 60 python3 -c "import torch; torch.ones(1, device='cuda').sum().item()"; then stamp "MPS on"
  else timeout 20 sh -c 'echo quit | nvidia-cuda-mps-control'; stamp "MPS failed, off"; fi
else stamp "MPS not available"; fi
rm -rf data/generated
mkdir -p /tmp/sweep /tmp/sweep_sup
pack() { tar czf "$OUT/sweep.tgz.part" --exclude=checkpoint.pt --exclude=tensorboard -C /tmp sweep sweep_sup 2> /dev/null \
  && mv "$OUT/sweep.tgz.part" "$OUT/sweep.tgz"; }
python3 research/emergence_sweep.py "$SWEEP" --workers "${WORKERS:-8}" --threads 1 \
  --data-workers "${DATA_WORKERS:-12}" --minutes "${SWEEP_MINUTES:-6}" --out /tmp/sweep > "$OUT/sweep.log" 2>&1 &
SWEEP_PID=$!
(while sleep 60; do pack; done) &
PACK_PID=$!
if [ -n "${SUPERVISED:-}" ]; then
  until grep -q started "$OUT/sweep.log" 2> /dev/null || ! kill -0 $SWEEP_PID 2> /dev/null; do sleep 2; done  # data written
  seconds=$(python3 -c "print(int(60 * ${SWEEP_MINUTES:-6}) - 20)")
  while IFS=: read -r name options; do
    name=$(echo $name)
    [ -n "$name" ] || continue
    timeout "$seconds" python3 research/supervised_ceiling.py --threads 1 --out "/tmp/sweep_sup/$name" $options \
      > "/tmp/sweep_sup/$name.log" 2>&1 &
  done < <(sed -e 's/#.*//' "$SUPERVISED")
fi
wait $SWEEP_PID
kill $PACK_PID
stamp "sweep done"
wait  # the supervised runs stop by their own timeout
pack
tail -n 30 "$OUT/sweep.log"
for log in /tmp/sweep_sup/*.log; do [ -e "$log" ] && { echo "== $log"; tail -n 4 "$log"; }; done
