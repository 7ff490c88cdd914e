#!/usr/bin/env bash
# Fig. 5 on a GPU machine, one process per architecture, each stopped after SECONDS; every row that finishes
# leaves its JSON record (benchmarks/fig5_rows.py). Writes $OUT/fig5-PROFILE.tgz with the records and logs.
# Usage: [JOBS=n] benchmarks/fig5_device.sh PROFILE SECONDS ROWS... (each ROWS, e.g. "default,relu", is one
# process that runs its rows in turn)
set -u
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 REPTHEORY_CACHE=/tmp/rtc REPTHEORY_N_JOBS=${JOBS:-1} MPLBACKEND=Agg
prof=$1; secs=$2; shift 2
w=/tmp/fig5-$prof; mkdir -p $w
nvidia-smi -L; nproc
t0=$(date +%s)
for r in "$@"; do
  timeout "$secs" python3 benchmarks/fig5_rows.py --profile "$prof" --rows "$r" --out $w --device cuda >"$w/$r.log" 2>&1 &
done
( while sleep 20; do nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader >>$w/gpu.log; done ) &
mon=$!
wait $(jobs -p | grep -v "^$mon$") 2>/dev/null
kill $mon
echo "wall $(( $(date +%s) - t0 )) s"
for r in "$@"; do echo "== $r"; tail -n 3 "$w/$r.log"; done
tar -czf "$OUT/fig5-$prof.tgz" -C $w .
