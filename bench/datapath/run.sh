#!/bin/sh
# bench/datapath/run.sh [BUILD_DIR] — the same veth topology through four
# switches, side by side in one run, as ratios to the Linux bridge:
#   linux    Linux bridge (kernel)
#   ovs      Open vSwitch, userspace datapath (datapath_type=netdev), a
#            private ovsdb-server/ovs-vswitchd run from a temp dir
#   ovs-tso  the same with other_config:userspace-tso-enable=true
#   lanyard  lanyard-dp (this tree), one forwarding thread
#
#   ns GEN: g0 --veth-- g1 \            / s1 --veth-- s0 : ns SINK
#                           [switch under test]
#
# Measurements (SECS seconds each, default 4; ROUNDS rounds, default 3,
# each round running every switch in turn so that load from other work on
# the machine hits them alike; the table shows per-round medians):
#   64B      64-byte frames from blast.c (TX ring) pinned to CPU0, switch
#            pinned to CPU1; rate = frames counted at s0 over the middle of
#            the run.  The frames go to a MAC the sink does not own, so the
#            sink's kernel drops them at once instead of spending CPU1 on
#            routing them (which measured the sink, not the switch).
#   100k     the same with source MACs drawn at random from 100,000: the
#            switch learns and refreshes a 100,000-entry MAC table.
#   TCP      iperf3 GEN->SINK, default offloads, nothing pinned; with it
#            the CPU time the switch process spent per GB received
#            ("s/GB TCP"), which, unlike the rate, holds still when other
#            work on the machine takes CPU from the switch.
#   RTT      ping GEN->SINK, 200 echoes, median round trip in microseconds.
# A "veth" row gives the raw ceiling: blast into one veth pair, no switch.
# SWITCHES="linux lanyard" (say) runs a subset; linux must be in it for
# the ratios.  BASE_BUILD=DIR adds a row "base" for lanyard-dp from another
# build (say, before a change), measured in the same rounds.  NICE=N (e.g. -10) runs the
# generator and the switch's threads at that nice value during the frame-rate
# measurements, so that on a machine shared with other work they keep most
# of their CPUs (every switch gets the same; the Linux bridge forwards in
# the generator's context).  Needs root.  Everything created carries a unique prefix and is removed on
# exit.
set -u
BUILD=${1:-$(dirname "$0")/../../build}
BUILD=$(cd "$BUILD" && pwd)
SECS=${SECS:-4}
ROUNDS=${ROUNDS:-3}
N_MACS=100000
NICE=${NICE:-0}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
P=ldpb$(od -An -N2 -tx2 /dev/urandom | tr -d ' ')
T=$(mktemp -d)
GEN=${P}g SINK=${P}s
GMAC=02:00:00:00:00:01 SMAC=02:00:00:00:00:02
# The address the switch learns for the sink (taught by a frame from s0)
# but that s0 does not own; and the base of the many source MACs.
XMAC=02:00:00:00:00:99 MANY=02:00:01:00:00:00
DP_PID= SW_PID=

cleanup() {
    [ -n "$DP_PID" ] && kill "$DP_PID" 2>/dev/null
    stop_ovs
    ip link del ${P}br 2>/dev/null
    ip netns del $GEN 2>/dev/null
    ip netns del $SINK 2>/dev/null
    ip link del ${P}g1 2>/dev/null
    ip link del ${P}s1 2>/dev/null
    sleep 0.5
    rm -rf "$T"
}

stop_ovs() {
    for d in ovs-vswitchd ovsdb-server; do
        if [ -f "$T/$d.pid" ]; then
            kill "$(cat "$T/$d.pid")" 2>/dev/null
            rm -f "$T/$d.pid"
        fi
    done
}
trap cleanup EXIT INT TERM

cc -O2 -Wall -Wextra -o "$T/blast" "$HERE/blast.c" || exit 1

ip netns add $GEN && ip netns add $SINK || exit 1
for side in g s; do
    ns=${P}$side
    ip link add ${P}${side}0 type veth peer name ${P}${side}1
    ip link set ${P}${side}0 netns $ns
    ip -n $ns link set lo up
    ip link set ${P}${side}1 up
done
ip -n $GEN link set ${P}g0 address $GMAC up
ip -n $SINK link set ${P}s0 address $SMAC up
ip -n $GEN addr add 10.251.0.1/24 dev ${P}g0
ip -n $SINK addr add 10.251.0.2/24 dev ${P}s0

# Frames received so far by device $2 in namespace $1 ("" = root).
count() {
    if [ -n "$1" ]; then
        ip netns exec $1 cat /sys/class/net/$2/statistics/rx_packets
    else
        cat /sys/class/net/$2/statistics/rx_packets
    fi
}

# CPU time (clock ticks) used so far by process SW_PID, or 0 without one.
cpu_ticks() {
    if [ -n "$SW_PID" ]; then
        awk '{print $14 + $15}' /proc/$SW_PID/stat
    else
        echo 0
    fi
}

# Prints "RATE COST": the rate in Mpps at which blast's frames reach device
# $2 in namespace $1 ("" = root), $3 = number of source MACs; and the CPU
# time the switch process (SW_PID) spent per frame, in ns ("-" without a
# process).  The cost holds still when other work on the machine takes CPU
# from the switch and the rate does not.
measure_rate() {
    ns=$1 dev=$2 n_srcs=$3
    src=$GMAC
    [ "$n_srcs" -gt 1 ] && src=$MANY
    ip netns exec $GEN nice -n "$NICE" taskset -c 0 "$T/blast" ${P}g0 \
        "$SECS" $XMAC $src -1 "$n_srcs" >"$T/blast.out" &
    bp=$!
    sleep 1
    r1=$(count "$ns" $dev); t1=$(date +%s.%N); c1=$(cpu_ticks)
    sleep $((SECS - 2))
    r2=$(count "$ns" $dev); t2=$(date +%s.%N); c2=$(cpu_ticks)
    wait $bp
    echo "$r1 $r2 $t1 $t2 $c1 $c2 $(getconf CLK_TCK) ${SW_PID:--}" | awk '{
        printf "%.3f ", ($2 - $1) / ($4 - $3) / 1e6
        if ($8 == "-" || $2 == $1) print "-"
        else printf "%.0f\n", ($6 - $5) / $7 * 1e9 / ($2 - $1) }'
}

# Prints the 64-byte forwarding rate through the switch, in Mpps.
measure_pps() {
    # Teach the switch where XMAC is, then blast at it.
    ip netns exec $SINK "$T/blast" ${P}s0 0 $GMAC $XMAC 3 >/dev/null
    sleep 0.2
    measure_rate $SINK ${P}s0 "$1"
}

# Prints the median ping round trip GEN->SINK in microseconds.
measure_rtt() {
    ip netns exec $GEN ping -c 200 -i 0.005 -W 1 10.251.0.2 2>/dev/null \
        | sed -n 's/.*time=\([0-9.]*\) ms/\1/p' | sort -n \
        | awk '{a[NR] = $1} END {if (NR) printf "%.0f", a[int((NR+1)/2)]*1000; else print "0"}'
}

# Runs all four measurements; PIN is a command that pins the switch to
# CPU1 (for the frame rates) or unpins it ($1 = 1 or 0-1).
measure_all() {
    pin=$1
    $pin 1
    set -- $(measure_pps 1)
    R_PPS=$1 R_COST=$2
    set -- $(measure_pps $N_MACS)
    R_MANY=$1 R_MCOST=$2
    $pin 0-1
    c1=$(cpu_ticks)
    R_TCP=$(measure_tcp 10.251.0.2)
    c2=$(cpu_ticks)
    # GB received = Gbit/s * seconds / 8.
    R_TCOST=$(echo "$c1 $c2 $(getconf CLK_TCK) $R_TCP $SECS ${SW_PID:--}" \
        | awk '{ if ($6 == "-" || $4 <= 0) print "-"
                 else printf "%.3f", ($2 - $1) / $3 / ($4 * $5 / 8) }')
    R_RTT=$(measure_rtt)
}

no_pin() { :; }

run_veth() {
    SW_PID=
    set -- $(measure_rate "" ${P}g1 1)
    R_PPS=$1 R_COST=$2
    set -- $(measure_rate "" ${P}g1 $N_MACS)
    R_MANY=$1 R_MCOST=$2
    R_TCP=- R_RTT=- R_TCOST=-
}

run_linux() {
    SW_PID=
    ip link add ${P}br type bridge
    ip link set ${P}g1 master ${P}br
    ip link set ${P}s1 master ${P}br
    ip link set ${P}br up
    sleep 1
    measure_all no_pin
    ip link del ${P}br
}

# Pins every thread of process $1 to CPUs $2; while pinned to CPU1 they
# run at nice $NICE, otherwise at 0.
pin() {
    taskset -a -p -c "$2" "$1" >/dev/null
    prio=0
    [ "$2" = 1 ] && prio=$NICE
    for tid in $(ls /proc/"$1"/task); do
        renice -n "$prio" -p "$tid" >/dev/null
    done
}

pin_ovs() { pin "$(cat "$T/ovs-vswitchd.pid")" "$1"; }

# $1 = true for userspace TSO.
run_ovs() {
    R_PPS=0 R_COST=- R_MANY=0 R_MCOST=- R_TCP=0 R_RTT=0 R_TCOST=- SW_PID=
    export OVS_RUNDIR=$T OVS_LOGDIR=$T OVS_DBDIR=$T OVS_SYSCONFDIR=$T
    db="unix:$T/db.sock"
    rm -f "$T/conf.db"
    ovsdb-tool create "$T/conf.db" \
        /usr/share/openvswitch/vswitch.ovsschema >/dev/null
    ovsdb-server "$T/conf.db" --remote=punix:$T/db.sock \
        --pidfile="$T/ovsdb-server.pid" --unixctl="$T/ovsdb-server.ctl" \
        --log-file="$T/ovsdb-server.log" --detach || return
    ovs-vsctl --db=$db --no-wait init -- set Open_vSwitch . \
        other_config:userspace-tso-enable="$1"
    ovs-vswitchd $db --pidfile="$T/ovs-vswitchd.pid" \
        --unixctl="$T/ovs-vswitchd.ctl" --log-file="$T/ovs-vswitchd.log" \
        --disable-system --detach || { stop_ovs; return; }
    ovs-vsctl --db=$db --timeout=20 add-br ${P}br \
        -- set bridge ${P}br datapath_type=netdev \
        other_config:mac-table-size=$((2 * N_MACS)) \
        -- add-port ${P}br ${P}g1 -- add-port ${P}br ${P}s1
    sleep 2
    SW_PID=$(cat "$T/ovs-vswitchd.pid")
    measure_all pin_ovs
    ovs-vsctl --db=$db --timeout=10 del-br ${P}br
    ovs-appctl -t "$T/ovs-vswitchd.ctl" exit 2>/dev/null
    ovs-appctl -t "$T/ovsdb-server.ctl" exit 2>/dev/null
    sleep 0.5
    rm -f "$T/ovs-vswitchd.pid" "$T/ovsdb-server.pid"
}

pin_lanyard() { pin "$DP_PID" "$1"; }

# $1 = build directory.
run_lanyard() {
    "$1/datapath/lanyard-dp" --bridge br0 \
        --mac-table-size $((2 * N_MACS)) \
        --port ${P}g1 --port ${P}s1 >"$T/dp.out" 2>"$T/dp.err" &
    DP_PID=$!
    SW_PID=$DP_PID
    sleep 1
    measure_all pin_lanyard
    kill $DP_PID; wait $DP_PID; DP_PID=
}

SWITCHES=${SWITCHES:-veth linux ovs ovs-tso lanyard}
if [ -n "${BASE_BUILD:-}" ]; then
    BASE_BUILD=$(cd "$BASE_BUILD" && pwd)
    SWITCHES="$SWITCHES base"
fi
: >"$T/results"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for round in $(seq "$ROUNDS"); do
    for s in $SWITCHES; do
        case $s in
        veth) run_veth ;;
        linux) run_linux ;;
        ovs) run_ovs false ;;
        ovs-tso) run_ovs true ;;
        lanyard) run_lanyard "$BUILD" ;;
        base) run_lanyard "$BASE_BUILD" ;;
        esac
        echo "$round $s $R_PPS $R_MANY $R_TCP $R_RTT $R_COST $R_MCOST $R_TCOST" \
            | tee -a "$T/results" >&2
    done
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)


L_PPS=$(median linux 3) L_TCP=$(median linux 5) L_RTT=$(median linux 6)
printf '%-8s %8s %6s %9s %6s %8s %6s %6s %6s %7s %7s %8s\n' switch "64B Mpps" \
    "/linux" "100k Mpps" "/64B" "TCP Gb/s" "/linux" "RTT us" "/linux" \
    "ns/64B" "ns/100k" "s/GB TCP"
for s in $SWITCHES; do
    pps=$(median $s 3) many=$(median $s 4) tcp=$(median $s 5)
    rtt=$(median $s 6) cost=$(median $s 7) mcost=$(median $s 8)
    tcost=$(median $s 9)
    printf '%-8s %8s %6s %9s %6s %8s %6s %6s %6s %7s %7s %8s\n' $s "$pps" \
        "$(ratio "$pps" "$L_PPS")" "$many" "$(ratio "$many" "$pps")" \
        "$tcp" "$(ratio "$tcp" "$L_TCP")" "$rtt" "$(ratio "$rtt" "$L_RTT")" \
        "${cost:--}" "${mcost:--}" "${tcost:--}"
done
echo "(medians of $ROUNDS rounds, ${SECS}s per measurement; generator CPU0,"
echo " switch CPU1 for 64B/100k, unpinned for TCP/RTT; veth = raw ceiling,"
echo " one veth pair, no switch; OVS TCP 0 = no connection; ns/64B, ns/100k ="
echo " CPU time of the switch process per forwarded frame; s/GB TCP = its"
echo " CPU seconds per GB carried by iperf3; nice $NICE;"
echo " load average before $LOAD0, after $LOAD1)"
