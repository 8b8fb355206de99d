#include "dpif-ctl.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp.h"
#include "ds.h"
#include "ovsdb-schema.h"
#include "ovsdb.h"
#include "replica.h"
#include "unixctl.h"
#include "util.h"

struct dpif_ctl {
    struct dp *dp;
    const struct replica *replica;
};

#define DP_TYPE "netdev"

/* The bridge DP names ("netdev@BR" or "BR"), or NULL. */
static const struct dp_bridge_info *
find_dp(const struct dp_bridge_info *infos, size_t n, const char *dp)
{
    const char *name = !strncmp(dp, DP_TYPE "@", strlen(DP_TYPE "@"))
                       ? dp + strlen(DP_TYPE "@") : dp;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(infos[i].name, name)) {
            return &infos[i];
        }
    }
    return NULL;
}

/* A byte count as dpctl prints it: the number, and a readable size from
 * 1 KiB on. */
static void
put_bytes(struct ds *out, uint64_t bytes)
{
    static const char *const units[] = { "TiB", "GiB", "MiB", "KiB" };
    ds_put_format(out, "%" PRIu64, bytes);
    for (int i = 0; i < 4; i++) {
        double scale = (double) (1ULL << (10 * (4 - i)));
        if (bytes >= (uint64_t) scale) {
            ds_put_format(out, " (%.1f %s)", bytes / scale, units[i]);
            break;
        }
    }
}

/* "?" marks counters Lanyard does not keep (as OVS marks a netdev's). */
static void
put_port_stats(struct ds *out, const struct dp_port_stats *s)
{
    ds_put_format(out, "    RX packets:%" PRIu64 " errors:%" PRIu64
                  " dropped:%" PRIu64 " overruns:? frame:?\n",
                  s->rx_packets, s->rx_errors, s->rx_dropped);
    ds_put_format(out, "    TX packets:%" PRIu64 " errors:%" PRIu64
                  " dropped:%" PRIu64 " aborted:? carrier:?\n",
                  s->tx_packets, s->tx_errors, s->tx_dropped);
    ds_put_cstr(out, "    collisions:?\n    RX bytes:");
    put_bytes(out, s->rx_bytes);
    ds_put_cstr(out, "  TX bytes:");
    put_bytes(out, s->tx_bytes);
    ds_put_cstr(out, "\n");
}

static void
show_dp(struct ds *out, const struct dp_bridge_info *bi, bool stats)
{
    ds_put_format(out, DP_TYPE "@%s:\n", bi->name);
    for (size_t k = 0; k < bi->n_ports; k++) {
        const struct dp_port_info *pi = &bi->ports[k];
        ds_put_format(out, "  port %" PRIu32 ": %s (%s)\n", pi->port_no,
                      pi->name, pi->type);
        if (stats) {
            put_port_stats(out, &pi->stats);
        }
    }
}

static void
cmd_dpctl_show(struct unixctl_conn *conn, int argc, const char *argv[],
               void *ctl_)
{
    struct dpif_ctl *ctl = ctl_;
    struct dp_bridge_info *infos;
    size_t n = dp_list_bridges(ctl->dp, &infos);
    struct ds out = DS_EMPTY_INITIALIZER;
    bool stats = false;
    int n_dps = 0;
    char *error = NULL;
    for (int i = 1; i < argc && !error; i++) {
        if (!strcmp(argv[i], "-s") || !strcmp(argv[i], "--statistics")) {
            stats = true;
        } else if (argv[i][0] == '-') {
            error = xasprintf("unknown option \"%s\" (dpctl/show takes -s "
                              "and datapath names)", argv[i]);
        } else {
            n_dps++;
        }
    }
    for (int i = 1; i < argc && !error && n_dps; i++) {
        if (argv[i][0] != '-') {
            const struct dp_bridge_info *bi = find_dp(infos, n, argv[i]);
            if (bi) {
                show_dp(&out, bi, stats);
            } else {
                /* OVS's wording, with the reason of ours. */
                error = xasprintf("%s: opening datapath %s failed (No such "
                                  "device)", program_name(), argv[i]);
            }
        }
    }
    for (size_t i = 0; i < n && !error && !n_dps; i++) {
        show_dp(&out, &infos[i], stats);
    }
    if (error) {
        unixctl_command_reply_error(conn, error);
        free(error);
    } else {
        unixctl_command_reply(conn, ds_cstr(&out));
    }
    ds_destroy(&out);
    dp_bridge_info_free(infos, n);
}

/* Replies with the bridges' names, one per line, after PREFIX. */
static void
reply_bridges(struct unixctl_conn *conn, struct dp *dp, const char *prefix)
{
    struct dp_bridge_info *infos;
    size_t n = dp_list_bridges(dp, &infos);
    struct ds out = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < n; i++) {
        ds_put_format(&out, "%s%s\n", prefix, infos[i].name);
    }
    unixctl_command_reply(conn, ds_cstr(&out));
    ds_destroy(&out);
    dp_bridge_info_free(infos, n);
}

/* dpctl/dump-dps, dpif/dump-dps: one "netdev@BRIDGE" per line. */
static void
cmd_dump_dps(struct unixctl_conn *conn, int argc, const char *argv[],
             void *ctl_)
{
    struct dpif_ctl *ctl = ctl_;
    (void) argc;
    (void) argv;
    reply_bridges(conn, ctl->dp, DP_TYPE "@");
}

static void
cmd_ofproto_list(struct unixctl_conn *conn, int argc, const char *argv[],
                 void *ctl_)
{
    struct dpif_ctl *ctl = ctl_;
    (void) argc;
    (void) argv;
    reply_bridges(conn, ctl->dp, "");
}

/* Cells of the database copy, counted as OVS's IDL counts them: rows
 * times the table's (non-implicit) columns. */
static size_t
count_cells(const struct ovsdb *db)
{
    size_t cells = 0;
    for (unsigned int t = 0; db && t < ovsdb_n_tables(db); t++) {
        const struct ovsdb_table *table = ovsdb_get_table(db, t);
        unsigned int n_columns = 0;
        for (unsigned int c = 0; c < table->schema->n_columns; c++) {
            n_columns += table->schema->columns[c]->name[0] != '_';
        }
        cells += ovsdb_table_n_rows(table) * n_columns;
    }
    return cells;
}

/* memory/show: "name:count" pairs in name order, as ovs-vswitchd. */
static void
cmd_memory_show(struct unixctl_conn *conn, int argc, const char *argv[],
                void *ctl_)
{
    struct dpif_ctl *ctl = ctl_;
    (void) argc;
    (void) argv;
    struct dp_bridge_info *infos;
    size_t n = dp_list_bridges(ctl->dp, &infos);
    size_t n_ports = 0, n_macs = 0;
    for (size_t i = 0; i < n; i++) {
        n_ports += infos[i].n_ports;
        n_macs += infos[i].n_mac_entries;
    }
    unsigned int n_threads = dp_get_thread_stats(ctl->dp, NULL, 0);
    struct ds out = DS_EMPTY_INITIALIZER;
    ds_put_format(&out, "bridges:%zu forwarding-threads:%u "
                  "idl-cells-Open_vSwitch:%zu mac-entries:%zu ports:%zu "
                  "replica:%s\n", n, n_threads,
                  count_cells(replica_get_db(ctl->replica)), n_macs, n_ports,
                  replica_is_ready(ctl->replica) ? "ready" : "not-ready");
    unixctl_command_reply(conn, ds_cstr(&out));
    ds_destroy(&out);
    dp_bridge_info_free(infos, n);
}

void
dpif_ctl_register(struct dp *dp, const struct replica *replica)
{
    /* Lives as long as the process (as the unixctl table). */
    struct dpif_ctl *ctl = xmalloc(sizeof *ctl);
    *ctl = (struct dpif_ctl) { dp, replica };
    unixctl_command_register("dpctl/show", "[-s] [dp...]", 0, INT_MAX,
                             cmd_dpctl_show, ctl);
    unixctl_command_register("dpctl/dump-dps", "", 0, 0, cmd_dump_dps, ctl);
    unixctl_command_register("dpif/dump-dps", "", 0, 0, cmd_dump_dps, ctl);
    unixctl_command_register("ofproto/list", "", 0, 0, cmd_ofproto_list,
                             ctl);
    unixctl_command_register("memory/show", "", 0, 0, cmd_memory_show, ctl);
}
