#!/bin/sh
# lanyard-switchd control-plane benchmark: idle CPU with 0 and 1,000 ports,
# and the cost of adding port 10 vs port 10,000.
#   sh bench/switchd/run.sh BUILD_DIR [--quick]
set -eu
BUILD=${1:-${LANYARD_BUILD:-build}}
[ $# -gt 0 ] && shift
# The driver changes directory: hand it an absolute path.
BUILD=$(cd "$BUILD" && pwd)
exec /usr/bin/python3 "$(dirname "$0")/bench.py" "$BUILD" "$@"
