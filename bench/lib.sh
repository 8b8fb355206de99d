# Shell functions shared by the namespace benchmarks (bench/*/run.sh source
# this file).  They expect GEN and SINK (namespace names), SECS (seconds per
# measurement) and T (the run's temp dir) to be set, and results written to
# "$T/results" as lines "ROUND NAME VALUE...".

# Prints iperf3 TCP throughput GEN->DEST (the sink's address) in Gbit/s, or
# 0.00 if no connection was made.
measure_tcp() {
    ip netns exec "$SINK" iperf3 -s -1 -D -I "$T/iperf.pid" >/dev/null 2>&1
    sleep 0.3
    ip netns exec "$GEN" timeout $((SECS + 10)) iperf3 -c "$1" \
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

# Median over rounds of column $2 for the implementation named $1.
median() {
    awk -v s="$1" -v c="$2" '$2 == s {print $c}' "$T/results" | sort -g \
        | awk '{a[NR] = $1} END {print a[int((NR+1)/2)]}'
}

# $1 / $2 with two decimals, "-" when either is missing or $2 is zero.
ratio() {
    echo "$1 $2" | awk '{ if ($1 != "-" && $2 > 0) printf "%.2f", $1/$2; else print "-" }'
}
