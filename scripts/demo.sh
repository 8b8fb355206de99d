#!/bin/sh
# Lanyard demo: start lanyard-dbd on a private socket, build the topology of
# the KVM/libvirt article (docs seed 000) with lanyard-vsctl, show that
# Open vSwitch's own ovs-vsctl sees the same thing; then start
# lanyard-switchd and pass real traffic between two network namespaces
# ("VMs") on VLAN 120 through it, explain a frame with ofproto/trace, reach
# a third "VM" behind the Linux kernel's own VXLAN device over a tunnel;
# then stop everything and remove what the demo created.
#
#   sh scripts/demo.sh BUILD_DIR        (what `make demo` runs)
set -eu

BUILD=${1:-${LANYARD_BUILD:-build}}
DBD="$BUILD/dbd/lanyard-dbd"
VSCTL="$BUILD/tools/vsctl/lanyard-vsctl"
APPCTL="$BUILD/tools/appctl/lanyard-appctl"

for b in "$DBD" "$VSCTL" "$APPCTL"; do
    if [ ! -x "$b" ]; then
        echo "demo: $b not found; build it first with 'make build'" >&2
        exit 1
    fi
done
if ! command -v ovs-vsctl >/dev/null 2>&1; then
    echo "demo: ovs-vsctl not installed (run 'make deps')" >&2
    exit 1
fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/lanyard-demo.XXXXXX")
SOCK="$DIR/db.sock"
PID=""
SWPID=""
NS="ldemo$$"

cleanup() {
    if [ -n "$SWPID" ] && kill -0 "$SWPID" 2>/dev/null; then
        kill "$SWPID" 2>/dev/null || true
        sleep 0.3
        kill -9 "$SWPID" 2>/dev/null || true
    fi
    for n in a b r; do
        ip netns del "${NS}$n" 2>/dev/null || true
        ip link del "${NS}${n}0" 2>/dev/null || true
    done
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill "$PID" 2>/dev/null || true
        # give it a moment to exit cleanly, then make sure
        i=0
        while kill -0 "$PID" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1; i=$((i + 1))
        done
        kill -9 "$PID" 2>/dev/null || true
    fi
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

# Keep every OVS default path (rundir, logdir) inside the demo directory.
export OVS_RUNDIR="$DIR" OVS_LOGDIR="$DIR" OVS_DBDIR="$DIR"

"$DBD" --remote=punix:"$SOCK" --unixctl="$DIR/dbd.ctl" \
    --log-file="$DIR/dbd.log" "$DIR/conf.db" >"$DIR/dbd.out" 2>&1 &
PID=$!

i=0
until [ -S "$SOCK" ] && ovs-vsctl --db=unix:"$SOCK" --timeout=2 --no-wait \
        init >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$PID" 2>/dev/null; then
        echo "demo: lanyard-dbd did not start; its output:" >&2
        cat "$DIR/dbd.out" "$DIR/dbd.log" >&2 2>/dev/null || true
        exit 1
    fi
    sleep 0.1
done

vsctl() {
    echo "\$ lanyard-vsctl $*"
    "$VSCTL" --db=unix:"$SOCK" --timeout=10 --no-wait "$@"
}
say() {
    printf '\n# %s\n' "$*"
}
# A second comment line, without the blank line before it.
say_more() {
    printf '# %s\n' "$*"
}

say "lanyard-dbd (pid $PID) serves the Open_vSwitch database on $SOCK;"
say "lanyard-vsctl configures it, with ovs-vsctl's commands, output and errors."

say "The switch: one bridge, as in the article."
vsctl add-br ovsbr0

say "A 'fake' VLAN bridge: VMs plugged into brlv140 end up on ovsbr0 with tag 140."
vsctl add-br brlv140 ovsbr0 140

say "The trunk uplink, carrying VLANs 120 and 130 from the physical switch."
vsctl add-port ovsbr0 ens3f4 -- set port ens3f4 trunks=120,130

say "An internal port on VLAN 120 with a fixed MAC (the Pacemaker-managed address)."
vsctl add-port ovsbr0 vlan120 tag=120 -- set interface vlan120 type=internal \
    -- set interface vlan120 'mac="02:00:00:00:00:01"'

say "A VM NIC, plugged exactly the way libvirt does it (one atomic transaction)."
vsctl -- --may-exist add-port brlv140 vme001c42c68006 \
    -- set Port vme001c42c68006 other_config:transient=true \
    -- set Interface vme001c42c68006 'external-ids:attached-mac="00:1c:42:c6:80:06"' \
    -- set Interface vme001c42c68006 'external-ids:iface-id="5a70be5b-5576-4734-9f61-61cdfc4a884a"' \
    -- set Interface vme001c42c68006 'external-ids:vm-id="c1018351-a229-4209-9faf-42446e0b53e5"' \
    -- set Interface vme001c42c68006 external-ids:iface-status=active

say "The whole configuration:"
vsctl show

say "Open vSwitch's own ovs-vsctl reads the same database and prints the same:"
echo "\$ ovs-vsctl show >a; lanyard-vsctl show >b; diff a b && echo identical"
ovs-vsctl --db=unix:"$SOCK" --no-wait show >"$DIR/show.ovs"
"$VSCTL" --db=unix:"$SOCK" --no-wait show >"$DIR/show.lanyard"
diff "$DIR/show.ovs" "$DIR/show.lanyard" && echo identical

say "Bridges (sorted) and the ports of ovsbr0 (the VM port belongs to the fake bridge):"
vsctl list-br
vsctl list-ports ovsbr0
vsctl list-ports brlv140

say "Which bridge and VLAN does the VM port sit on?"
vsctl port-to-br vme001c42c68006
vsctl br-to-vlan brlv140
vsctl br-to-parent brlv140

say "The VLAN configuration of every port, as a table:"
vsctl --format=table --columns=name,tag,trunks,vlan_mode list Port

say "Find the interfaces a controller would map to VMs (external_ids:iface-status=active):"
vsctl --columns=name,external_ids find Interface external_ids:iface-status=active

say "The internal port's MAC address:"
vsctl get Interface vlan120 mac

say "A mistake is reported exactly as Open vSwitch reports it:"
vsctl add-br ovsbr0 || true

say "Unplugging the VM and removing the fake bridge:"
vsctl -- --if-exists del-port vme001c42c68006
vsctl del-br brlv140
vsctl list-br

SWD="$BUILD/switchd/lanyard-switchd"
if [ -x "$SWD" ] && [ "$(id -u)" = 0 ]; then
    say "Now the switch itself: lanyard-switchd follows the database and forwards."
    "$SWD" --unixctl="$DIR/switchd.ctl" --log-file="$DIR/switchd.log" \
        -vconsole:off unix:"$SOCK" >"$DIR/switchd.out" 2>&1 &
    SWPID=$!
    # Two "VMs" (network namespaces), each plugged in with a veth pair.
    for n in a b; do
        ip netns add "${NS}$n"
        ip link add "${NS}${n}0" type veth peer name eth0 netns "${NS}$n"
        ip link set "${NS}${n}0" up
        ip -n "${NS}$n" link set eth0 up
    done
    ip -n "${NS}a" addr add 198.51.100.1/24 dev eth0
    ip -n "${NS}b" addr add 198.51.100.2/24 dev eth0

    say "Plug both VMs into ovsbr0 on VLAN 120; without --no-wait, lanyard-vsctl"
    say_more "returns only once lanyard-switchd has applied the change (cur_cfg)."
    echo "\$ lanyard-vsctl add-port ovsbr0 ${NS}a0 tag=120 -- add-port ovsbr0 ${NS}b0 tag=120"
    "$VSCTL" --db=unix:"$SOCK" --timeout=10 add-port ovsbr0 "${NS}a0" tag=120 \
        -- add-port ovsbr0 "${NS}b0" tag=120

    say "VM a pings VM b through the switch:"
    ip netns exec "${NS}a" ping -c 3 -i 0.2 -W 1 198.51.100.2

    say "The switch learned both MACs on VLAN 120 (ovs-appctl fdb/show):"
    ovs-appctl -t "$DIR/switchd.ctl" fdb/show ovsbr0

    say "Why does a frame from VM a to VM b go where it goes? (ofproto/trace)"
    AMAC=$(ip -n "${NS}a" -br link show eth0 | awk '{print $3}')
    BMAC=$(ip -n "${NS}b" -br link show eth0 | awk '{print $3}')
    echo "\$ lanyard-appctl ofproto/trace ovsbr0 in_port=${NS}a0,dl_src=$AMAC,dl_dst=$BMAC"
    "$APPCTL" -t "$DIR/switchd.ctl" ofproto/trace ovsbr0 \
        "in_port=${NS}a0,dl_src=$AMAC,dl_dst=$BMAC"

    say "The switch writes status back: ofport and the kernel MAC of each port."
    vsctl --columns=name,ofport,mac_in_use,link_state list Interface "${NS}a0"

    say "The uplink ens3f4 does not exist on this machine; only it is affected:"
    vsctl get Interface ens3f4 error

    say "A VXLAN tunnel to another host: here a namespace whose Linux kernel"
    say_more "vxlan device (VNI 42) is the far VTEP, reached over a veth underlay."
    ip netns add "${NS}r"
    ip link add "${NS}r0" type veth peer name eth0 netns "${NS}r"
    ip addr add 198.18.42.1/24 dev "${NS}r0"
    ip link set "${NS}r0" up
    ip -n "${NS}r" addr add 198.18.42.2/24 dev eth0
    ip -n "${NS}r" link set eth0 up
    ip -n "${NS}r" link add vx42 type vxlan id 42 dstport 4789 \
        remote 198.18.42.1 local 198.18.42.2
    ip -n "${NS}r" addr add 198.51.100.3/24 dev vx42
    ip -n "${NS}r" link set vx42 up
    echo "\$ lanyard-vsctl add-port ovsbr0 vx0 tag=120 -- set Interface vx0 type=vxlan options:remote_ip=198.18.42.2 options:key=42"
    "$VSCTL" --db=unix:"$SOCK" --timeout=10 add-port ovsbr0 vx0 tag=120 \
        -- set Interface vx0 type=vxlan options:remote_ip=198.18.42.2 \
        options:key=42
    say "VM a reaches the remote VM across the tunnel:"
    ip netns exec "${NS}a" ping -c 3 -i 0.2 -W 1 198.51.100.3
    say "The remote MAC is learned against the tunnel port:"
    "$APPCTL" -t "$DIR/switchd.ctl" fdb/show ovsbr0

    say "Move VM b to VLAN 130: the VMs are isolated (ping must fail)."
    "$VSCTL" --db=unix:"$SOCK" --timeout=10 set port "${NS}b0" tag=130
    if ip netns exec "${NS}a" ping -c 2 -i 0.2 -W 1 198.51.100.2 >/dev/null; then
        echo "demo: VLAN isolation failed" >&2
        exit 1
    fi
    echo "(no reply: VLAN 120 and VLAN 130 are separate)"
else
    say "(Skipping the forwarding part: it needs root and lanyard-switchd.)"
fi

say "Stopping the daemons and cleaning up $DIR."
