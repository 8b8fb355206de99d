#include "coverage.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "dp.h"
#include "ds.h"
#include "hash.h"
#include "util.h"

#define INTERVAL_MSEC 5000
#define N_SAMPLES 721               /* One hour of 5 s samples, plus now. */

/* Datapath counters follow switchd's own events in one index space. */
enum {
    DPC_PARSE = COV_N_SWITCHD_EVENTS,
    DPC_VLAN = DPC_PARSE + PACKET_N_ERRORS,
    DPC_HAIRPIN = DPC_VLAN + VLAN_N_DROPS,
    DPC_UNICAST, DPC_FLOOD, DPC_LEARNED, DPC_MOVED, DPC_EVICTED, DPC_EXPIRED,
    DPC_PUBLISH, DPC_PUBLISH_BYTES, DPC_RESERVED,
    N_COUNTERS
};

static const char *const switchd_names[COV_N_SWITCHD_EVENTS] = {
    [COV_RECONCILE] = "bridge_reconfigure",
    [COV_BRIDGE_ADD] = "bridge_add",
    [COV_BRIDGE_DEL] = "bridge_del",
    [COV_PORT_ADD] = "port_add",
    [COV_PORT_DEL] = "port_del",
    [COV_PORT_ADD_FAILED] = "port_add_failed",
    [COV_PORT_RECONFIGURE] = "port_reconfigure",
    [COV_OFPORT_CONFLICT] = "ofport_request_conflict",
    [COV_DB_TXN] = "txn_status_update",
    [COV_DB_RESET] = "db_resync",
};

static uint64_t events[COV_N_SWITCHD_EVENTS];
static uint64_t samples[N_SAMPLES][N_COUNTERS];
static unsigned int n_taken;        /* Samples taken so far. */
static long long next_sample = LLONG_MIN;

void
coverage_inc(enum coverage_event e)
{
    if (e < COV_N_SWITCHD_EVENTS) {
        events[e]++;
    }
}

static void
name_of(int i, char *buf, size_t size)
{
    if (i < COV_N_SWITCHD_EVENTS) {
        snprintf(buf, size, "%s", switchd_names[i]);
    } else if (i < DPC_VLAN) {
        snprintf(buf, size, "drop_%s",
                 packet_error_name((enum packet_error) (i - DPC_PARSE)));
    } else if (i < DPC_HAIRPIN) {
        snprintf(buf, size, "drop_%s",
                 vlan_drop_name((enum vlan_drop) (i - DPC_VLAN)));
    } else {
        static const char *const dp_names[] = {
            "drop_same_port", "fwd_unicast", "fwd_flood", "mac_learned",
            "mac_moved", "mac_evicted", "mac_expired",
            "dp_snapshot_publish", "dp_snapshot_bytes",
            "drop_reserved_destination",
        };
        snprintf(buf, size, "%s", dp_names[i - DPC_HAIRPIN]);
    }
    for (char *c = buf; *c; c++) {
        if (*c == '-') {
            *c = '_';
        }
    }
}

static void
totals(struct dp *dp, uint64_t *t)
{
    struct dp_counters c;
    dp_get_counters(dp, &c);
    memcpy(t, events, sizeof events);
    for (int i = 0; i < PACKET_N_ERRORS; i++) {
        t[DPC_PARSE + i] = c.n_parse_errors[i];
    }
    for (int i = 0; i < VLAN_N_DROPS; i++) {
        t[DPC_VLAN + i] = c.n_vlan_drops[i];
    }
    t[DPC_HAIRPIN] = c.n_hairpin_drops;
    t[DPC_UNICAST] = c.n_unicast;
    t[DPC_FLOOD] = c.n_flood;
    t[DPC_LEARNED] = c.n_learned;
    t[DPC_MOVED] = c.n_moved;
    t[DPC_EVICTED] = c.n_evicted;
    t[DPC_EXPIRED] = c.n_expired;
    t[DPC_PUBLISH] = c.n_publish;
    t[DPC_PUBLISH_BYTES] = c.n_publish_bytes;
    t[DPC_RESERVED] = c.n_reserved_drops;
}

void
coverage_run(struct dp *dp, long long now)
{
    if (now < next_sample) {
        return;
    }
    next_sample = now + INTERVAL_MSEC;
    totals(dp, samples[n_taken % N_SAMPLES]);
    n_taken++;
}

long long
coverage_next_sample(void)
{
    return next_sample;
}

/* Total of counter I AGO samples before the latest one (0 before the
 * first sample: counting started with the daemon). */
static uint64_t
sample_at(int i, unsigned int ago)
{
    if (!n_taken || ago >= n_taken) {
        return 0;
    }
    return samples[(n_taken - 1 - ago) % N_SAMPLES][i];
}

void
coverage_format(struct dp *dp, long long now, struct ds *out)
{
    (void) now;
    uint64_t t[N_COUNTERS];
    totals(dp, t);
    uint32_t hash = hash_bytes(t, sizeof t, 0);
    ds_put_format(out, "Event coverage, avg rate over last: %d seconds, "
                  "last minute, last hour,  hash=%08"PRIx32":\n",
                  INTERVAL_MSEC / 1000, hash);
    int never = 0;
    for (int i = 0; i < N_COUNTERS; i++) {
        if (!t[i]) {
            never++;
            continue;
        }
        char name[64];
        name_of(i, name, sizeof name);
        uint64_t last = sample_at(i, 0);
        double sec5 = (double) (last - sample_at(i, 1)) * 1000.0 / INTERVAL_MSEC;
        double min = (double) (last - sample_at(i, 12)) / 60.0;
        double hour = (double) (last - sample_at(i, 720)) / 3600.0;
        ds_put_format(out, "%-24s %5.1f/sec %9.3f/sec %13.4f/sec   "
                      "total: %"PRIu64"\n", name, sec5, min, hour, t[i]);
    }
    ds_put_format(out, "%d events never hit\n", never);
}
