#!/usr/bin/env bash
# Round 10 on a lent GPU, one call: the AMD sweep gpu_round10.txt (11 runs) and, once its data is
# generated, four runs of supervised_ceiling.py beside it (the same appearance pathway trained
# with the ground truth): how high does J on 50 videos go with labels, with 1,200 training videos,
# with a ResNet-18, with 128x128 crops? On 2 CPU cores the profile's network with labels scored
# 0.40 / 0.35 after 1,250 / 1,500 iterations, about what AMD reaches without them.
# Usage: OUT=folder SWEEP_MINUTES=6.5 bash benchmarks/sweeps/gpu_round10.sh
set -u
OUT=${OUT:-results/gpu/round10}
mkdir -p "$OUT" /tmp/sweep_sup
(
  until grep -q started "$OUT/sweep.log" 2> /dev/null; do sleep 2; done  # data generated
  seconds=$(python3 -c "print(int(60 * ${SWEEP_MINUTES:-6.5}) - 20)")  # stopped with the sweep's runs
  for run in "sup_profile" "sup_v1200 --videos 1200" "sup_r18_crop128 --backbone resnet18 --crop-size 128" \
             "sup_crop128 --crop-size 128"; do
    set -- $run
    name=$1; shift
    timeout "$seconds" python3 benchmarks/supervised_ceiling.py --val-videos 50 --threads 1 --iterations 100000 \
      --eval-every 2000 --minutes 60 --out "/tmp/sweep_sup/$name" "$@" > "/tmp/sweep_sup/$name.log" 2>&1 &
  done
  wait
) &
OUT=$OUT SWEEP=benchmarks/sweeps/gpu_round10.txt CHECKS=0 WORKERS=11 DATA_WORKERS=14 \
  SWEEP_MINUTES=${SWEEP_MINUTES:-6.5} bash benchmarks/gpu_checks.sh
wait
for log in /tmp/sweep_sup/*.log; do echo "== $log"; tail -n 4 "$log"; done
tar czf "$OUT/sweep.tgz" --exclude=checkpoint.pt --exclude=model.pt --exclude=tensorboard -C /tmp sweep sweep_sup
