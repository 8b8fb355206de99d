#!/bin/sh
# Runs every benchmark that exists: bench/*/run.sh BUILD_DIR, in order.
#   sh bench/run.sh BUILD_DIR     (what `make bench` runs)
set -u
BUILD=${1:-${LANYARD_BUILD:-build}}
HERE=$(cd "$(dirname "$0")" && pwd)
status=0
for script in "$HERE"/*/run.sh; do
    [ -f "$script" ] || continue
    echo "=== $(basename "$(dirname "$script")")"
    sh "$script" "$BUILD" || { echo "bench: $script failed" >&2; status=1; }
done
exit $status
