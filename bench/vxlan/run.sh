#!/bin/sh
# bench/vxlan/run.sh [BUILD_DIR] — two VTEPs joined by a VXLAN tunnel, the
# same topology through three implementations, side by side in one run:
#   linux    kernel vxlan device + Linux bridge in each VTEP namespace
#   ovs      Open vSwitch userspace datapath (datapath_type=netdev) in each
#            VTEP namespace: br-int (VM port + vxlan) and br-phy (underlay)
#   lanyard  lanyard-dbd + lanyard-switchd (this tree) in each VTEP
#            namespace, one forwarding thread each, default options
#   lanyard-csum  the same with options:csum=true, which lets the kernel
#            segment runs of VXLAN datagrams (UDP GSO; it refuses without
#            UDP checksums)
#   base, base-csum  the same two with the build in $BASELINE (another
#            build directory, e.g. of an earlier version), to compare
#            versions side by side: BASELINE=/tmp/old IMPLS="base lanyard"
#
#   ns GEN: g0 --veth-- g1 [VTEP A] ua ==veth underlay== ub [VTEP B] s1 --veth-- s0 : ns SINK
#
# Measurements (SECS seconds each, default 4; ROUNDS rounds, default 3, each
# round running every implementation in turn; the table shows medians):
#   64B    64-byte inner frames from ../datapath/blast.c pinned to CPU0, the
#          VTEP daemons pinned to CPU1 (kernel VXLAN runs in softirq context
#          wherever the frames go); rate = frames counted at s0.  The frames
#          go to a MAC the sink does not own, so its kernel drops them at once.
#   TCP    iperf3 GEN->SINK with default offloads, VM MTU 1450, unpinned.
# Needs root.  Everything created carries a unique prefix and is removed on
# exit.  The machine is shared: compare ratios within one run.
set -u
BUILD=${1:-$(dirname "$0")/../../build}
BUILD=$(cd "$BUILD" && pwd)
SECS=${SECS:-4}
BASELINE=${BASELINE:-}
[ -n "$BASELINE" ] && BASELINE=$(cd "$BASELINE" && pwd)
ROUNDS=${ROUNDS:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
P=lvxb$(od -An -N2 -tx2 /dev/urandom | tr -d ' ')
T=$(mktemp -d)
GEN=${P}g SINK=${P}s A=${P}a B=${P}b
GMAC=02:00:00:00:00:01 SMAC=02:00:00:00:00:02 XMAC=02:00:00:00:00:99
UA=10.252.0.1 UB=10.252.0.2

cleanup() {
    stop_vteps
    for ns in $GEN $SINK $A $B; do ip netns del $ns 2>/dev/null; done
    sleep 0.5
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

# Kills the daemons of every implementation (pidfiles under $T/{a,b}).
stop_vteps() {
    for side in a b; do
        for pf in "$T/$side"/*.pid; do
            [ -f "$pf" ] || continue
            kill "$(cat "$pf")" 2>/dev/null
            rm -f "$pf"
        done
    done
    sleep 0.5
}

cc -O2 -Wall -Wextra -o "$T/blast" "$HERE/../datapath/blast.c" || exit 1

for ns in $GEN $SINK $A $B; do
    ip netns add $ns || exit 1
    ip -n $ns link set lo up
done
ip link add ${P}g0 netns $GEN type veth peer name g1 netns $A
ip link add ${P}s0 netns $SINK type veth peer name s1 netns $B
ip link add ua netns $A type veth peer name ub netns $B
ip -n $GEN link set ${P}g0 address $GMAC mtu 1450 up
ip -n $SINK link set ${P}s0 address $SMAC mtu 1450 up
ip -n $GEN addr add 10.253.0.1/24 dev ${P}g0
ip -n $SINK addr add 10.253.0.2/24 dev ${P}s0
ip -n $A link set g1 mtu 1450 up
ip -n $B link set s1 mtu 1450 up

# Underlay addresses on ua/ub (linux, lanyard) or on br-phy (ovs).
underlay_plain() {
    ip -n $A addr flush dev ua; ip -n $B addr flush dev ub
    ip -n $A addr add $UA/24 dev ua; ip -n $B addr add $UB/24 dev ub
    ip -n $A link set ua up; ip -n $B link set ub up
}

measure_pps() {
    # Teach both VTEPs where XMAC is, then blast at it.
    ip netns exec $SINK "$T/blast" ${P}s0 0 $GMAC $XMAC 3 >/dev/null
    sleep 0.5
    ip netns exec $GEN taskset -c 0 "$T/blast" ${P}g0 "$SECS" $XMAC $GMAC \
        >/dev/null &
    bp=$!
    sleep 1
    f=/sys/class/net/${P}s0/statistics/rx_packets
    r1=$(ip netns exec $SINK cat $f); t1=$(date +%s.%N)
    sleep $((SECS - 2))
    r2=$(ip netns exec $SINK cat $f); t2=$(date +%s.%N)
    wait $bp
    echo "$r1 $r2 $t1 $t2" | awk '{printf "%.3f", ($2-$1)/($4-$3)/1e6}'
}

# Pins every daemon of the current implementation to CPU $1.
pin() {
    for pf in "$T"/a/*.pid "$T"/b/*.pid; do
        [ -f "$pf" ] && taskset -a -p -c "$1" "$(cat "$pf")" >/dev/null
    done
}

measure_all() {
    # Wait (up to 10 s) until the tunnel carries traffic.
    for i in $(seq 20); do
        ip netns exec $GEN ping -c 1 -W 1 10.253.0.2 >/dev/null 2>&1 && break
        sleep 0.5
    done
    pin 1
    R_PPS=$(measure_pps)
    pin 0-1
    R_TCP=$(measure_tcp 10.253.0.2)
}

run_linux() {
    underlay_plain
    for side in A B; do
        eval ns=\$$side
        if [ $side = A ]; then dev=ua local=$UA remote=$UB vm=g1
        else dev=ub local=$UB remote=$UA vm=s1; fi
        ip -n $ns link add vx type vxlan id 100 dstport 4789 local $local \
            remote $remote dev $dev
        ip -n $ns link add vbr type bridge
        ip -n $ns link set vx master vbr up
        ip -n $ns link set $vm master vbr
        ip -n $ns link set vbr up
    done
    sleep 1
    measure_all
    for ns in $A $B; do
        ip -n $ns link del vbr; ip -n $ns link del vx
    done
}

# $1 = namespace, $2 = side dir, $3 = VM port, $4 = underlay dev,
# $5 = local address, $6 = remote address.
start_ovs() {
    ns=$1 d=$2
    mkdir -p "$d"
    db="unix:$d/db.sock"
    ovsdb-tool create "$d/conf.db" /usr/share/openvswitch/vswitch.ovsschema
    ip netns exec $ns env OVS_RUNDIR=$d OVS_LOGDIR=$d OVS_DBDIR=$d \
        ovsdb-server "$d/conf.db" --remote=punix:$d/db.sock \
        --pidfile="$d/ovsdb-server.pid" --unixctl="$d/ovsdb-server.ctl" \
        --log-file="$d/ovsdb-server.log" --detach -vconsole:off || return 1
    ovs-vsctl --db=$db --no-wait init
    ip netns exec $ns env OVS_RUNDIR=$d OVS_LOGDIR=$d OVS_DBDIR=$d \
        ovs-vswitchd $db --pidfile="$d/ovs-vswitchd.pid" \
        --unixctl="$d/ovs-vswitchd.ctl" --log-file="$d/ovs-vswitchd.log" \
        --detach -vconsole:off || return 1
    ovs-vsctl --db=$db --timeout=20 \
        add-br br-phy -- set bridge br-phy datapath_type=netdev \
        -- add-port br-phy $4 \
        -- add-br br-int -- set bridge br-int datapath_type=netdev \
        -- add-port br-int $3 \
        -- add-port br-int vx -- set interface vx type=vxlan \
           options:remote_ip=$6 options:key=100
    ip -n $ns addr flush dev $4
    ip -n $ns link set $4 up
    ip -n $ns addr add $5/24 dev br-phy
    ip -n $ns link set br-phy up
}

run_ovs() {
    R_PPS=0 R_TCP=0
    start_ovs $A "$T/a" g1 ua $UA $UB && start_ovs $B "$T/b" s1 ub $UB $UA \
        || { stop_vteps; return; }
    sleep 2
    measure_all
    for side in a b; do
        ovs-vsctl --db=unix:$T/$side/db.sock --timeout=10 del-br br-int \
            -- del-br br-phy
        ovs-appctl -t "$T/$side/ovs-vswitchd.ctl" exit 2>/dev/null
    done
    stop_vteps
    rm -rf "$T/a" "$T/b"
}

# $1 = namespace, $2 = side dir, $3 = VM port, $4 = remote address,
# $5... = more tunnel options.
start_lanyard() {
    ns=$1 d=$2 vm=$3 remote=$4
    shift 4
    mkdir -p "$d"
    "$LBUILD/dbd/lanyard-dbd" --remote=punix:$d/db.sock \
        --unixctl=$d/dbd.ctl --pidfile=$d/dbd.pid --log-file=$d/dbd.log \
        --detach -vconsole:off "$d/conf.db" || return 1
    ovs-vsctl --db=unix:$d/db.sock --no-wait init
    ip netns exec $ns "$LBUILD/switchd/lanyard-switchd" \
        --unixctl=$d/switchd.ctl --pidfile=$d/switchd.pid \
        --log-file=$d/switchd.log --detach -vconsole:off \
        unix:$d/db.sock || return 1
    ovs-vsctl --db=unix:$d/db.sock --timeout=20 add-br br0 \
        -- add-port br0 $vm \
        -- add-port br0 vx -- set interface vx type=vxlan \
           options:remote_ip=$remote options:key=100 "$@"
}

# $1... = more tunnel options.
run_lanyard() {
    R_PPS=0 R_TCP=0
    underlay_plain
    start_lanyard $A "$T/a" g1 $UB "$@" && start_lanyard $B "$T/b" s1 $UA "$@" \
        || { stop_vteps; return; }
    sleep 1
    measure_all
    stop_vteps
    rm -rf "$T/a" "$T/b"
}

IMPLS=${IMPLS:-linux ovs lanyard lanyard-csum}
: >"$T/results"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for round in $(seq "$ROUNDS"); do
    for s in $IMPLS; do
        case $s in
        linux) run_linux ;;
        ovs) run_ovs ;;
        lanyard) LBUILD=$BUILD run_lanyard ;;
        lanyard-csum) LBUILD=$BUILD run_lanyard options:csum=true ;;
        base) LBUILD=$BASELINE run_lanyard ;;
        base-csum) LBUILD=$BASELINE run_lanyard options:csum=true ;;
        esac
        echo "$round $s $R_PPS $R_TCP" | tee -a "$T/results" >&2
    done
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)


L_PPS=$(median linux 3) L_TCP=$(median linux 4)
printf '%-12s %8s %6s %9s %6s\n' vtep "64B Mpps" "/linux" "TCP Gb/s" "/linux"
for s in $IMPLS; do
    pps=$(median $s 3) tcp=$(median $s 4)
    printf '%-12s %8s %6s %9s %6s\n' $s "$pps" "$(ratio "$pps" "$L_PPS")" \
        "$tcp" "$(ratio "$tcp" "$L_TCP")"
done
echo "(medians of $ROUNDS rounds, ${SECS}s per measurement; two VTEPs on one"
echo " shared 2-core machine; generator CPU0, VTEP daemons CPU1 for 64B;"
echo " load average before $LOAD0, after $LOAD1)"
