#!/bin/sh
# install-ovs-names.sh PREFIX — make Lanyard answer to Open vSwitch's names.
#
# Run by `make install OVS_NAMES=1` after `meson install`.  It
#   1. links PREFIX/bin/ovs-vsctl -> lanyard-vsctl and
#      PREFIX/bin/ovs-appctl -> lanyard-appctl.  Invoked by those names the
#      tools use OVS's defaults: database unix:$OVS_RUNDIR/db.sock, control
#      sockets and pidfiles in $OVS_RUNDIR ($OVS_RUNDIR defaults to
#      /var/run/openvswitch), default appctl target ovs-vswitchd;
#   2. writes PREFIX/lib/tmpfiles.d/lanyard-ovs-names.conf, which points
#      /run/openvswitch/db.sock at Lanyard's database socket
#      (/run/lanyard/db.sock, where lanyard-switchd looks by default), so
#      libvirt, ifupdown and scripts that call `ovs-vsctl` without --db reach
#      lanyard-dbd, and applies it now when run as root on a systemd host.
#
# It never replaces a file it did not create: if PREFIX/bin/ovs-vsctl (or
# ovs-appctl) exists and is not already our link, it stops with an error,
# unless FORCE=1, in which case the old file is kept as NAME.ovs-orig.
#
# Environment: FORCE=1 (see above); LANYARD_RUNDIR (default /run/lanyard);
# NO_RUNTIME=1 skips applying the tmpfiles entry (tests, packaging).
set -eu

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 PREFIX" >&2
    exit 1
fi
PREFIX=$1
BINDIR=$PREFIX/bin
FORCE=${FORCE:-0}
LANYARD_RUN=${LANYARD_RUNDIR:-/run/lanyard}
me=install-ovs-names

mkdir -p "$BINDIR"

# link_name OVS_NAME LANYARD_NAME
link_name() {
    name=$1 tool=$2 path=$BINDIR/$1
    if [ ! -x "$BINDIR/$tool" ]; then
        echo "$me: $BINDIR/$tool is missing: install Lanyard first" \
             "(meson install / make install)" >&2
        exit 1
    fi
    if [ -L "$path" ] && [ "$(readlink "$path")" = "$tool" ]; then
        echo "$me: $path already points to $tool"
        return
    fi
    if [ -e "$path" ] || [ -L "$path" ]; then
        what="a file"
        [ -L "$path" ] && what="a link to $(readlink "$path")"
        if [ "$FORCE" != 1 ]; then
            echo "$me: refusing to replace $path: it is $what, not" \
                 "Lanyard's link (probably Open vSwitch's own $name)." >&2
            echo "$me: remove it, or rerun with FORCE=1 to keep it as" \
                 "$path.ovs-orig and install the link." >&2
            exit 1
        fi
        mv -f "$path" "$path.ovs-orig"
        echo "$me: kept the previous $name as $path.ovs-orig"
    fi
    ln -s "$tool" "$path"
    echo "$me: installed $path -> $tool"
}

link_name ovs-vsctl lanyard-vsctl
link_name ovs-appctl lanyard-appctl

# OVS's default database socket, pointing at Lanyard's.
TMPFILES_DIR=$PREFIX/lib/tmpfiles.d
TMPFILES=$TMPFILES_DIR/lanyard-ovs-names.conf
mkdir -p "$TMPFILES_DIR"
cat > "$TMPFILES" <<EOF
# Written by Lanyard's install-ovs-names.sh: tools that use Open vSwitch's
# default database socket reach lanyard-dbd (started with
# --remote=punix:$LANYARD_RUN/db.sock).  'L' never replaces an existing
# socket, so a running Open vSwitch keeps its own.
d /run/openvswitch 0755 root root -
L /run/openvswitch/db.sock - - - - $LANYARD_RUN/db.sock
EOF
echo "$me: wrote $TMPFILES"

if [ "${NO_RUNTIME:-0}" != 1 ] && [ "$(id -u)" = 0 ] \
        && command -v systemd-tmpfiles >/dev/null 2>&1; then
    systemd-tmpfiles --create "$TMPFILES" \
        || echo "$me: warning: systemd-tmpfiles --create $TMPFILES failed" >&2
fi

# A different ovs-vsctl earlier in PATH would shadow the new link.
found=$(command -v ovs-vsctl 2>/dev/null || true)
if [ -n "$found" ] && [ "$found" != "$BINDIR/ovs-vsctl" ]; then
    echo "$me: note: 'ovs-vsctl' in PATH is $found, not" \
         "$BINDIR/ovs-vsctl; callers using PATH will run that one." >&2
fi
exit 0
