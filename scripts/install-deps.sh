#!/bin/sh
# Installs the Debian 12 packages Lanyard needs to build, test, demo and
# benchmark.  Only missing packages are installed; apt-get update runs only
# when something is missing.  Must run as root (or with nothing missing).
set -eu

PKGS="
  build-essential clang meson ninja-build pkg-config
  libjansson-dev libssl-dev libcmocka-dev liburcu-dev libmnl-dev libcap-ng-dev
  libclang-rt-14-dev
  openvswitch-switch openvswitch-common python3-openvswitch
  python3 python3-pytest python3-scapy
  iproute2 iputils-ping iperf3 tcpdump ethtool netsniff-ng procps psmisc
  resource-agents
"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing packages:$missing (run as root to install them)" >&2
    exit 1
fi
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
# The Debian package starts Open vSwitch's own daemons where it can; our tests
# start their own private instances, so stop the system ones to avoid
# confusing anyone (ignore failure: there may be no init system).
if [ -x /usr/share/openvswitch/scripts/ovs-ctl ]; then
    /usr/share/openvswitch/scripts/ovs-ctl stop >/dev/null 2>&1 || true
fi
