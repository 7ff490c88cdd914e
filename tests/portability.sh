#!/usr/bin/env bash
# The portability check (`make portability`): every notebook, then the whole unit suite, on numba's generic CPU
# target and torch's portable kernels, with an empty result cache, against the committed outputs. An output
# that nbval compares must not hinge on the CPU's vector instructions; this is how that is shown.
# Usage: tests/portability.sh [python]    (exit status 0 only when both parts pass)
set -u
py=${1:-.venv/bin/python}
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
export NUMBA_CPU_NAME=generic ATEN_CPU_CAPABILITY=default REPTHEORY_CACHE=$cache NUMBA_CACHE_DIR=$cache/numba
start=$(date +%s)
echo "portability: NUMBA_CPU_NAME=$NUMBA_CPU_NAME ATEN_CPU_CAPABILITY=$ATEN_CPU_CAPABILITY, empty cache $cache"
timeout 7200 "$py" -m pytest -q -p no:cacheprovider --nbval --nbval-current-env --nbval-cell-timeout 3600 \
    --nbval-sanitize-with tests/nbval_sanitize.cfg --durations=0 book/
notebooks=$?
mid=$(date +%s)
echo "portability: notebooks exit $notebooks, $(( (mid - start) / 60 )) min"
"$py" -m pytest -q -n 2 -p no:cacheprovider tests
unit=$?
end=$(date +%s)
echo "portability: unit tests exit $unit, $(( (end - mid) / 60 )) min; total $(( (end - start) / 60 )) min"
[ "$notebooks" -eq 0 ] && [ "$unit" -eq 0 ]
