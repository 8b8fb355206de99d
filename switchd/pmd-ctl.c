#include "pmd-ctl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp.h"
#include "ds.h"
#include "unixctl.h"
#include "util.h"

#define MAX_THREADS 64          /* As --threads allows. */

struct pmd_ctl {
    struct dp *dp;
    /* pmd-stats-clear does not touch the threads' counters (only their
     * threads write them): it records them here and show subtracts. */
    struct dp_thread_stats base[MAX_THREADS];
};

struct pmd_args {
    bool has_core;
    unsigned int core;
    int secs;                   /* pmd-rxq-show's window. */
};

static bool
dp_exists(struct dp *dp, const char *name)
{
    const char *br = !strncmp(name, "netdev@", 7) ? name + 7 : name;
    struct dp_bridge_info *infos;
    size_t n = dp_list_bridges(dp, &infos);
    bool found = false;
    for (size_t i = 0; i < n && !found; i++) {
        found = !strcmp(infos[i].name, br);
    }
    dp_bridge_info_free(infos, n);
    return found;
}

/* Parses "[-pmd CORE] [-secs SECS] [DP]" (-secs only if WITH_SECS);
 * returns NULL or an error message. */
static char *
parse_args(struct dp *dp, int argc, const char *argv[], bool with_secs,
           struct pmd_args *a)
{
    *a = (struct pmd_args) { .secs = 60 };
    for (int i = 1; i < argc; i++) {
        bool is_pmd = !strcmp(argv[i], "-pmd");
        bool is_secs = with_secs && !strcmp(argv[i], "-secs");
        if (is_pmd || is_secs) {
            if (i + 1 >= argc) {
                return xasprintf("%s needs a value", argv[i]);
            }
            const char *v = argv[++i];
            int secs;
            if (is_pmd && !str_to_uint(v, 10, &a->core)) {
                return xasprintf("-pmd: \"%s\" is not a core id (a "
                                 "forwarding thread's number)", v);
            } else if (is_secs && (!str_to_int(v, 10, &secs) || secs < 1)) {
                return xasprintf("-secs: \"%s\" is not a positive number of "
                                 "seconds", v);
            }
            a->has_core |= is_pmd;
            if (is_secs) {
                /* As OVS: whole 10 s intervals, at most 60 s. */
                a->secs = MIN(60, (secs + 9) / 10 * 10);
            }
        } else if (!dp_exists(dp, argv[i])) {
            return xstrdup("please specify an existing datapath"); /* OVS */
        }
    }
    return NULL;
}

/* Turns S into the counts since the last pmd-stats-clear (baseline B). */
static void
subtract_baseline(struct dp_thread_stats *s, const struct dp_thread_stats *b)
{
    s->n_packets -= b->n_packets;
    s->n_tx_batches -= b->n_tx_batches;
    s->n_tx_packets -= b->n_tx_packets;
    s->busy_ns -= b->busy_ns;
    s->idle_ns -= b->idle_ns;
}

static double
ratio(uint64_t a, uint64_t b)
{
    return b ? (double) a / (double) b : 0.0;
}

static void
format_thread(struct ds *out, unsigned int t, const struct dp_thread_stats *s)
{
    uint64_t total = s->busy_ns + s->idle_ns;
    ds_put_format(out, "pmd thread numa_id 0 core_id %u:\n", t);
    ds_put_format(out, "  packets received: %" PRIu64 "\n"
                  "  packet recirculations: 0\n"
                  "  avg. datapath passes per packet: %.02f\n",
                  s->n_packets, ratio(s->n_packets, s->n_packets));
    /* No flow caches and no upcalls in Lanyard. */
    ds_put_cstr(out, "  phwol hits: 0\n  mfex opt hits: 0\n"
                "  simple match hits: 0\n  emc hits: 0\n  smc hits: 0\n"
                "  megaflow hits: 0\n"
                "  avg. subtable lookups per megaflow hit: 0.00\n"
                "  miss with success upcall: 0\n"
                "  miss with failed upcall: 0\n");
    ds_put_format(out, "  avg. packets per output batch: %.02f\n",
                  ratio(s->n_tx_packets, s->n_tx_batches));
    if (!total) {
        return;
    }
    ds_put_format(out, "  idle cycles: %" PRIu64 " (%.02f%%)\n"
                  "  processing cycles: %" PRIu64 " (%.02f%%)\n",
                  s->idle_ns, 100.0 * ratio(s->idle_ns, total),
                  s->busy_ns, 100.0 * ratio(s->busy_ns, total));
    if (s->n_packets) {
        ds_put_format(out, "  avg cycles per packet: %.02f (%" PRIu64 "/%"
                      PRIu64 ")\n"
                      "  avg processing cycles per packet: %.02f (%" PRIu64
                      "/%" PRIu64 ")\n",
                      ratio(total, s->n_packets), total, s->n_packets,
                      ratio(s->busy_ns, s->n_packets), s->busy_ns,
                      s->n_packets);
    }
}

static void
reply_error(struct unixctl_conn *conn, char *error)
{
    unixctl_command_reply_error(conn, error);
    free(error);
}

/* pmd-stats-show and pmd-stats-clear: the same arguments and threads; the
 * one prints the counters since the last clear, the other moves the
 * baseline (OVS clears by keeping a baseline too). */
static void
stats_command(struct pmd_ctl *ctl, struct unixctl_conn *conn, int argc,
              const char *argv[], bool clear)
{
    struct pmd_args a;
    char *error = parse_args(ctl->dp, argc, argv, false, &a);
    if (error) {
        reply_error(conn, error);
        return;
    }
    struct dp_thread_stats s[MAX_THREADS];
    unsigned int n = MIN(dp_get_thread_stats(ctl->dp, s, MAX_THREADS),
                         MAX_THREADS);
    struct ds out = DS_EMPTY_INITIALIZER;
    for (unsigned int t = 0; t < n; t++) {
        if (a.has_core && a.core != t) {
            continue;
        }
        if (clear) {
            ctl->base[t] = s[t];
        } else {
            subtract_baseline(&s[t], &ctl->base[t]);
            format_thread(&out, t, &s[t]);
        }
    }
    unixctl_command_reply(conn, clear ? NULL : ds_cstr(&out));
    ds_destroy(&out);
}

static void
cmd_stats_show(struct unixctl_conn *conn, int argc, const char *argv[],
               void *ctl)
{
    stats_command(ctl, conn, argc, argv, false);
}

static void
cmd_stats_clear(struct unixctl_conn *conn, int argc, const char *argv[],
                void *ctl)
{
    stats_command(ctl, conn, argc, argv, true);
}

static int
compare_port_name(const void *a_, const void *b_)
{
    const struct dp_port_info *const *a = a_, *const *b = b_;
    return strcmp((*a)->name, (*b)->name);
}

static void
cmd_rxq_show(struct unixctl_conn *conn, int argc, const char *argv[],
             void *ctl_)
{
    struct pmd_ctl *ctl = ctl_;
    struct pmd_args a;
    char *error = parse_args(ctl->dp, argc, argv, true, &a);
    if (error) {
        reply_error(conn, error);
        return;
    }
    struct dp_bridge_info *infos;
    size_t n_br = dp_list_bridges(ctl->dp, &infos);
    size_t n_ports = 0;
    for (size_t i = 0; i < n_br; i++) {
        n_ports += infos[i].n_ports;
    }
    /* One receive queue per port, listed by port name as OVS does. */
    const struct dp_port_info **ports = xcalloc(MAX(n_ports, 1),
                                                sizeof *ports);
    size_t k = 0;
    for (size_t i = 0; i < n_br; i++) {
        for (size_t j = 0; j < infos[i].n_ports; j++) {
            ports[k++] = &infos[i].ports[j];
        }
    }
    qsort(ports, n_ports, sizeof *ports, compare_port_name);

    struct ds out = DS_EMPTY_INITIALIZER;
    ds_put_format(&out, "Displaying last %d seconds pmd usage %%\n", a.secs);
    unsigned int n_threads = dp_get_thread_stats(ctl->dp, NULL, 0);
    for (unsigned int t = 0; t < n_threads; t++) {
        if (a.has_core && a.core != t) {
            continue;
        }
        ds_put_format(&out, "pmd thread numa_id 0 core_id %u:\n"
                      "  isolated : false\n", t);
        for (size_t p = 0; p < n_ports; p++) {
            if (ports[p]->thread == t) {
                /* Busy time is measured per thread, not per queue. */
                ds_put_format(&out, "  port: %-16s  queue-id: %2d (enabled)"
                              "   pmd usage: NOT AVAIL\n", ports[p]->name, 0);
            }
        }
        ds_put_cstr(&out, "  overhead: NOT AVAIL\n");
    }
    unixctl_command_reply(conn, ds_cstr(&out));
    ds_destroy(&out);
    free(ports);
    dp_bridge_info_free(infos, n_br);
}

void
pmd_ctl_register(struct dp *dp)
{
    /* Lives as long as the process (as the unixctl table). */
    struct pmd_ctl *ctl = xzalloc(sizeof *ctl);
    ctl->dp = dp;
    unixctl_command_register("dpif-netdev/pmd-stats-show", "[-pmd core] [dp]",
                             0, 3, cmd_stats_show, ctl);
    unixctl_command_register("dpif-netdev/pmd-stats-clear",
                             "[-pmd core] [dp]", 0, 3, cmd_stats_clear, ctl);
    unixctl_command_register("dpif-netdev/pmd-rxq-show",
                             "[-pmd core] [-secs secs] [dp]", 0, 5,
                             cmd_rxq_show, ctl);
}
