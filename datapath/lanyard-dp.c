/* lanyard-dp: runs the userspace datapath on the command line's ports until
 * SIGTERM/SIGINT, then prints per-port statistics.  For tests and
 * benchmarks; the switch daemon drives the same library from OVSDB.
 *
 *   lanyard-dp --bridge br0 --port veth1[:access=10] \
 *              --port veth2[:trunk=10,20] --port veth3[:native-untagged=5
 *              [:trunks=10,20]] [--internal NAME[:mac=..]] [--threads N]
 *              [--flood-vlans LIST] [--mac-table-size N] [--mac-aging S]
 *
 * Port options (after the name, ':'-separated): access=N, trunk=LIST (mode
 * trunk with those trunks), trunks=LIST, native-tagged=N,
 * native-untagged=N, dot1q-tunnel=N, cvlans=LIST, qinq-ethtype=802.1q|
 * 802.1ad, type=system|internal|dummy, mac=MAC (internal).  LIST is
 * comma-separated VLANs or ranges (10,20-25).  Bridges may repeat; ports
 * attach to the last --bridge given.  On SIGUSR1 the MAC table of every
 * bridge is printed to stdout. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dp.h"
#include "ds.h"
#include "util.h"

#define MAX_VIDS VLAN_N_VIDS

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t show_requested;

static void
on_signal(int sig)
{
    if (sig == SIGUSR1) {
        show_requested = 1;
    } else {
        stop_requested = 1;
    }
}

/* Parses "10,20-22" into VIDS; returns the count or -1. */
static int
parse_vlan_list(const char *s, uint16_t *vids)
{
    int n = 0;
    char *copy = xstrdup(s), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        int lo, hi;
        char *dash = strchr(tok, '-');
        if (dash) {
            *dash = '\0';
        }
        if (!str_to_int(tok, 10, &lo) || (dash && !str_to_int(dash + 1, 10,
                                                               &hi))) {
            n = -1;
            break;
        }
        if (!dash) {
            hi = lo;
        }
        if (lo < 0 || hi >= VLAN_N_VIDS || lo > hi) {
            n = -1;
            break;
        }
        for (int v = lo; v <= hi && n < MAX_VIDS; v++) {
            vids[n++] = (uint16_t) v;
        }
    }
    free(copy);
    return n;
}

struct port_spec {
    char *name;
    struct dp_port_config cfg;
    struct vlan_port_config vcfg;
    uint16_t trunks[MAX_VIDS];
    uint16_t cvlans[MAX_VIDS];
};

static int
parse_int_opt(const char *v)
{
    int x;
    if (!str_to_int(v, 10, &x) || x < 0 || x >= VLAN_N_VIDS) {
        fatal("bad VLAN \"%s\"", v);
    }
    return x;
}

static void
apply_port_opt(struct port_spec *ps, const char *key, const char *v)
{
    struct vlan_port_config *vc = &ps->vcfg;
    if (!strcmp(key, "access")) {
        vc->vlan_mode = "access";
        vc->tag = parse_int_opt(v);
    } else if (!strcmp(key, "trunk") || !strcmp(key, "trunks")) {
        int n = parse_vlan_list(v, ps->trunks);
        if (n < 0) {
            fatal("bad VLAN list \"%s\"", v);
        }
        vc->trunks = ps->trunks;
        vc->n_trunks = (size_t) n;
        if (!strcmp(key, "trunk")) {
            vc->vlan_mode = "trunk";
        }
    } else if (!strcmp(key, "native-tagged") || !strcmp(key, "native-untagged")
               || !strcmp(key, "dot1q-tunnel")) {
        vc->vlan_mode = !strcmp(key, "native-tagged") ? "native-tagged"
                        : !strcmp(key, "native-untagged") ? "native-untagged"
                                                          : "dot1q-tunnel";
        vc->tag = parse_int_opt(v);
    } else if (!strcmp(key, "cvlans")) {
        int n = parse_vlan_list(v, ps->cvlans);
        if (n < 0) {
            fatal("bad VLAN list \"%s\"", v);
        }
        vc->cvlans = ps->cvlans;
        vc->n_cvlans = (size_t) n;
    } else if (!strcmp(key, "qinq-ethtype")) {
        vc->qinq_ethtype = v;
    } else if (!strcmp(key, "type")) {
        ps->cfg.type = v;
    } else if (!strcmp(key, "mac")) {
        ps->cfg.options.mac = v;
    } else {
        fatal("unknown port option \"%s\"", key);
    }
}

/* SPEC is "NAME[:key=value]...".  Takes ownership of nothing; the returned
 * spec points into its own copy of SPEC. */
static struct port_spec *
parse_port(const char *spec, const char *default_type)
{
    struct port_spec *ps = xzalloc(sizeof *ps);
    char *copy = xstrdup(spec), *save = NULL;
    ps->name = strtok_r(copy, ":", &save);
    if (!ps->name) {
        fatal("empty port name");
    }
    ps->cfg.type = default_type;
    ps->vcfg.tag = -1;
    for (char *opt = strtok_r(NULL, ":", &save); opt;
         opt = strtok_r(NULL, ":", &save)) {
        char *eq = strchr(opt, '=');
        if (!eq) {
            fatal("port option \"%s\" needs a value", opt);
        }
        *eq = '\0';
        apply_port_opt(ps, opt, eq + 1);
    }
    int error = vlan_port_configure(&ps->cfg.vlan, &ps->vcfg);
    if (error) {
        fatal("port %s: invalid VLAN settings", ps->name);
    }
    return ps;
}

static void
add_port(struct dp *dp, const char *bridge, const char *spec,
         const char *type)
{
    if (!bridge) {
        fatal("--port and --internal need a --bridge first");
    }
    struct port_spec *ps = parse_port(spec, type);
    uint32_t no;
    int error = dp_add_port(dp, bridge, ps->name, &ps->cfg, &no);
    if (error) {
        fatal_errno(error, "adding port %s to %s", ps->name, bridge);
    }
    fprintf(stderr, "%s: port %u %s (%s) on %s\n", program_name(), no,
            ps->name, ps->cfg.type, bridge);
    free(ps->name);             /* The strtok_r copy starts with the name. */
    free(ps);
}

static void
usage(void)
{
    printf("usage: %s --bridge BR --port NAME[:opts] [--internal NAME] "
           "[--threads N]\n"
           "       [--flood-vlans LIST] [--mac-table-size N] "
           "[--mac-aging SECS]\n", program_name());
    exit(0);
}

static void
show_fdbs(struct dp *dp, char **bridges, size_t n)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < n; i++) {
        dp_fdb_show(dp, bridges[i], time_msec(), &ds);
        dp_fdb_stats_show(dp, bridges[i], &ds);
    }
    fputs(ds_cstr(&ds), stdout);
    fflush(stdout);
    ds_destroy(&ds);
}

int
main(int argc, char *argv[])
{
    enum { OPT_BRIDGE = 256, OPT_PORT, OPT_INTERNAL, OPT_THREADS,
           OPT_FLOOD, OPT_SIZE, OPT_AGING };
    static const struct option long_options[] = {
        { "bridge", required_argument, NULL, OPT_BRIDGE },
        { "port", required_argument, NULL, OPT_PORT },
        { "internal", required_argument, NULL, OPT_INTERNAL },
        { "threads", required_argument, NULL, OPT_THREADS },
        { "flood-vlans", required_argument, NULL, OPT_FLOOD },
        { "mac-table-size", required_argument, NULL, OPT_SIZE },
        { "mac-aging", required_argument, NULL, OPT_AGING },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    set_program_name(argv[0]);
    struct dp *dp = dp_create();
    char *bridges[64];
    size_t n_bridges = 0;
    const char *bridge = NULL;
    int n_threads = 1, x;
    size_t mac_size = 8192;
    unsigned int mac_aging = 300;
    static uint16_t vids[MAX_VIDS];
    for (;;) {
        int c = getopt_long(argc, argv, "h", long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_BRIDGE:
            if (n_bridges >= ARRAY_SIZE(bridges)) {
                fatal("too many bridges");
            }
            if (dp_add_bridge(dp, optarg)) {
                fatal("duplicate bridge %s", optarg);
            }
            bridge = bridges[n_bridges++] = optarg;
            mac_size = 8192;
            mac_aging = 300;
            break;
        case OPT_PORT:
            add_port(dp, bridge, optarg, "system");
            break;
        case OPT_INTERNAL:
            add_port(dp, bridge, optarg, "internal");
            break;
        case OPT_THREADS:
            if (!str_to_int(optarg, 10, &n_threads) || n_threads < 1
                || n_threads > 64) {
                fatal("--threads must be 1..64");
            }
            break;
        case OPT_FLOOD:
            x = parse_vlan_list(optarg, vids);
            if (x < 0 || !bridge
                || dp_bridge_set_flood_vlans(dp, bridge, vids, (size_t) x)) {
                fatal("bad --flood-vlans (after --bridge)");
            }
            break;
        case OPT_SIZE:
        case OPT_AGING:
            if (!str_to_int(optarg, 10, &x) || x < 1 || !bridge) {
                fatal("bad %s (after --bridge)", argv[optind - 2]);
            }
            if (c == OPT_SIZE) {
                mac_size = (size_t) x;
            } else {
                mac_aging = (unsigned) x;
            }
            dp_bridge_set_mac_table(dp, bridge, mac_size, mac_aging);
            break;
        case 'h':
            usage();
            break;
        default:
            exit(1);
        }
    }
    if (!n_bridges) {
        fatal("at least one --bridge is required (try --help)");
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);

    int error = dp_start(dp, (unsigned) n_threads);
    if (error) {
        fatal_errno(error, "starting forwarding threads");
    }
    fprintf(stderr, "%s: forwarding with %d thread(s)\n", program_name(),
            n_threads);
    while (!stop_requested) {
        long long wait = dp_run(dp, time_msec());
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        if (wait < 100) {
            ts.tv_nsec = (wait > 0 ? wait : 1) * 1000 * 1000;
        }
        nanosleep(&ts, NULL);
        if (show_requested) {
            show_requested = 0;
            show_fdbs(dp, bridges, n_bridges);
        }
    }
    struct ds ds = DS_EMPTY_INITIALIZER;
    dp_format_stats(dp, &ds);
    fputs(ds_cstr(&ds), stdout);
    fflush(stdout);
    ds_destroy(&ds);
    dp_destroy(dp);
    return 0;
}
