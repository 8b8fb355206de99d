#!/bin/sh
# ovs-vsctl + ovsdb-server vs lanyard-vsctl + lanyard-dbd (and the cross
# pairs), side by side in one run.
#   sh bench/vsctl/run.sh BUILD_DIR [--quick] [--runs=N] [--dir=DIR]
set -eu
BUILD=${1:-${LANYARD_BUILD:-build}}
[ $# -gt 0 ] && shift
# The driver changes directory: hand it an absolute path.
BUILD=$(cd "$BUILD" && pwd)
exec /usr/bin/python3 "$(dirname "$0")/bench.py" "$BUILD" "$@"
