#!/bin/sh
# OVSDB control-plane benchmark: lanyard-dbd vs ovsdb-server in one run.
#   sh bench/dbd/run.sh BUILD_DIR [--quick]
set -eu
BUILD=${1:-${LANYARD_BUILD:-build}}
[ $# -gt 0 ] && shift
# The driver changes directory: hand it an absolute path.
BUILD=$(cd "$BUILD" && pwd)
exec /usr/bin/python3 "$(dirname "$0")/bench.py" "$BUILD" "$@"
