#!/bin/sh
# bench/datapath/run.sh [BUILD_DIR] — 64-byte pps and iperf3 TCP through
# three switches on the same veth topology, in one run, as ratios to the
# Linux bridge:
#   linux    Linux bridge (kernel)
#   ovs      Open vSwitch, userspace datapath (datapath_type=netdev) with a
#            private ovsdb-server/ovs-vswitchd run from a temp dir
#   lanyard  lanyard-dp (this tree), one forwarding thread
#
#   ns GEN: g0 --veth-- g1 \            / s1 --veth-- s0 : ns SINK
#                           [switch under test]
# Generator (blast.c, AF_PACKET sendmmsg) pinned to CPU0, switch on CPU1.
# pps = frames counted at s0 over the middle of the run.  TCP: iperf3
# GEN->SINK with default offloads.  Each measurement runs SECS (default 4)
# seconds.  Needs root.  Everything created carries a unique prefix and is
# removed on exit.
set -u
BUILD=${1:-$(dirname "$0")/../../build}
BUILD=$(cd "$BUILD" && pwd)
SECS=${SECS:-4}
HERE=$(cd "$(dirname "$0")" && pwd)
P=ldpb$(od -An -N2 -tx2 /dev/urandom | tr -d ' ')
T=$(mktemp -d)
GEN=${P}g SINK=${P}s
GMAC=02:00:00:00:00:01 SMAC=02:00:00:00:00:02
DP_PID=

cleanup() {
    [ -n "$DP_PID" ] && kill "$DP_PID" 2>/dev/null
    if [ -f "$T/ovs-vswitchd.pid" ]; then
        kill "$(cat "$T/ovs-vswitchd.pid")" 2>/dev/null
    fi
    if [ -f "$T/ovsdb-server.pid" ]; then
        kill "$(cat "$T/ovsdb-server.pid")" 2>/dev/null
    fi
    ip link del ${P}br 2>/dev/null
    ip netns del $GEN 2>/dev/null
    ip netns del $SINK 2>/dev/null
    ip link del ${P}g1 2>/dev/null
    ip link del ${P}s1 2>/dev/null
    sleep 0.5
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

cc -O2 -Wall -Wextra -o "$T/blast" "$HERE/blast.c" || exit 1

ip netns add $GEN && ip netns add $SINK || exit 1
for side in g s; do
    ns=${P}$side
    ip link add ${P}${side}0 type veth peer name ${P}${side}1
    ip link set ${P}${side}0 netns $ns
    ip -n $ns link set lo up
    ip -n $ns link set ${P}${side}1 up 2>/dev/null
    ip link set ${P}${side}1 up
done
ip -n $GEN link set ${P}g0 address $GMAC up
ip -n $SINK link set ${P}s0 address $SMAC up
ip -n $GEN addr add 10.251.0.1/24 dev ${P}g0
ip -n $SINK addr add 10.251.0.2/24 dev ${P}s0

rx() { ip netns exec $SINK cat /sys/class/net/${P}s0/statistics/rx_packets; }

# Prints the forwarded 64-byte rate in Mpps.
measure_pps() {
    # Teach the switch where the sink is, then blast at it.
    ip netns exec $SINK "$T/blast" ${P}s0 0 $GMAC $SMAC 3 >/dev/null
    sleep 0.2
    ip netns exec $GEN taskset -c 0 "$T/blast" ${P}g0 "$SECS" $SMAC $GMAC \
        >"$T/blast.out" &
    bp=$!
    sleep 1
    r1=$(rx); t1=$(date +%s.%N)
    sleep $((SECS - 2))
    r2=$(rx); t2=$(date +%s.%N)
    wait $bp
    echo "$r1 $r2 $t1 $t2" | awk '{printf "%.3f", ($2-$1)/($4-$3)/1e6}'
}

# Prints iperf3 TCP throughput GEN->SINK in Gbit/s (0 if it failed).
measure_tcp() {
    ip netns exec $SINK iperf3 -s -1 -D -I "$T/iperf.pid" >/dev/null 2>&1
    sleep 0.3
    ip netns exec $GEN timeout $((SECS + 10)) iperf3 -c 10.251.0.2 \
        -t "$SECS" --connect-timeout 3000 -J >"$T/iperf.json" 2>/dev/null
    [ -f "$T/iperf.pid" ] && kill "$(cat "$T/iperf.pid")" 2>/dev/null
    rm -f "$T/iperf.pid"
    /usr/bin/python3 -c '
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    print("%.2f" % (d["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception:
    print("0.00")' "$T/iperf.json"
}

run_linux() {
    ip link add ${P}br type bridge
    ip link set ${P}g1 master ${P}br
    ip link set ${P}s1 master ${P}br
    ip link set ${P}br up
    sleep 1
    LINUX_PPS=$(measure_pps); LINUX_TCP=$(measure_tcp)
    ip link del ${P}br
}

run_ovs() {
    export OVS_RUNDIR=$T OVS_LOGDIR=$T OVS_DBDIR=$T OVS_SYSCONFDIR=$T
    db="unix:$T/db.sock"
    ovsdb-tool create "$T/conf.db" \
        /usr/share/openvswitch/vswitch.ovsschema >/dev/null
    ovsdb-server "$T/conf.db" --remote=punix:$T/db.sock \
        --pidfile="$T/ovsdb-server.pid" --unixctl="$T/ovsdb-server.ctl" \
        --log-file="$T/ovsdb-server.log" --detach || return
    ovs-vsctl --db=$db --no-wait init
    taskset -c 1 ovs-vswitchd $db --pidfile="$T/ovs-vswitchd.pid" \
        --unixctl="$T/ovs-vswitchd.ctl" --log-file="$T/ovs-vswitchd.log" \
        --disable-system --detach || return
    ovs-vsctl --db=$db --timeout=20 add-br ${P}br \
        -- set bridge ${P}br datapath_type=netdev \
        -- add-port ${P}br ${P}g1 -- add-port ${P}br ${P}s1
    sleep 2
    OVS_PPS=$(measure_pps); OVS_TCP=$(measure_tcp)
    ovs-vsctl --db=$db --timeout=10 del-br ${P}br
    ovs-appctl -t "$T/ovs-vswitchd.ctl" exit 2>/dev/null
    ovs-appctl -t "$T/ovsdb-server.ctl" exit 2>/dev/null
    sleep 0.5
    rm -f "$T/ovs-vswitchd.pid" "$T/ovsdb-server.pid"
}

run_lanyard() {
    taskset -c 1 "$BUILD/datapath/lanyard-dp" --bridge br0 \
        --port ${P}g1 --port ${P}s1 >"$T/dp.out" 2>"$T/dp.err" &
    DP_PID=$!
    sleep 1
    LANYARD_PPS=$(measure_pps); LANYARD_TCP=$(measure_tcp)
    kill $DP_PID; wait $DP_PID; DP_PID=
}

run_linux
run_ovs
run_lanyard

ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2f", $1/$2; else print "-" }'; }
printf '%-10s %12s %10s %14s %10s\n' switch "64B Mpps" "vs linux" "TCP Gbit/s" "vs linux"
for s in linux ovs lanyard; do
    case $s in
    linux) pps=$LINUX_PPS tcp=$LINUX_TCP ;;
    ovs) pps=${OVS_PPS:-0} tcp=${OVS_TCP:-0} ;;
    lanyard) pps=$LANYARD_PPS tcp=$LANYARD_TCP ;;
    esac
    printf '%-10s %12s %10s %14s %10s\n' $s "$pps" "$(ratio "$pps" "$LINUX_PPS")" \
        "$tcp" "$(ratio "$tcp" "$LINUX_TCP")"
done
echo "(generator CPU0, switch CPU1 where pinnable; ${SECS}s per measurement;"
echo " OVS TCP 0 = no connection with default offloads)"
