/* lanyard-switchd: the switch daemon.  Follows the Open_vSwitch database
 * and realises its bridges and ports in the userspace datapath. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "bond.h"
#include "bridge.h"
#include "config.h"
#include "coverage.h"
#include "daemon.h"
#include "dp.h"
#include "ds.h"
#include "dpif-ctl.h"
#include "dummy-ctl.h"
#include "fdb-ctl.h"
#include "pmd-ctl.h"
#include "poll-loop.h"
#include "replica.h"
#include "tnl-ctl.h"
#include "trace.h"
#include "unixctl.h"
#include "util.h"
#include "vlog.h"

VLOG_DEFINE_THIS_MODULE(switchd);

struct switchd {
    struct dp *dp;
    struct replica *replica;
    struct bridges *bridges;
    bool exiting;
};

static void
usage(void)
{
    printf("%s: Lanyard switch daemon\n"
           "usage: %s [OPTIONS] [DATABASE]\n"
           "DATABASE is the OVSDB server to follow (default: unix:%s/db.sock).\n\n"
           "  --threads=N             forwarding threads (default 1)\n",
           program_name(), program_name(), daemon_rundir());
    daemon_usage();
    printf("  -h, --help              display this help message\n"
           "  -V, --version           display version information\n");
    exit(0);
}

static void
cmd_exit(struct unixctl_conn *conn, int argc, const char *argv[], void *sd_)
{
    struct switchd *sd = sd_;
    (void) argc;
    (void) argv;
    sd->exiting = true;
    unixctl_command_reply(conn, NULL);
}

static void
reply_ds(struct unixctl_conn *conn, int error, struct ds *out)
{
    if (error == ENOENT) {
        unixctl_command_reply_error(conn, "no such bridge");
    } else if (error) {
        unixctl_command_reply_error(conn, strerror(error));
    } else {
        unixctl_command_reply(conn, ds_cstr(out));
    }
    ds_destroy(out);
}

static void
cmd_fdb_show(struct unixctl_conn *conn, int argc, const char *argv[], void *sd_)
{
    struct switchd *sd = sd_;
    struct ds out = DS_EMPTY_INITIALIZER;
    (void) argc;
    reply_ds(conn, dp_fdb_show(sd->dp, argv[1], time_msec(), &out), &out);
}

static void
cmd_fdb_stats_show(struct unixctl_conn *conn, int argc, const char *argv[],
                   void *sd_)
{
    struct switchd *sd = sd_;
    struct ds out = DS_EMPTY_INITIALIZER;
    (void) argc;
    reply_ds(conn, dp_fdb_stats_show(sd->dp, argv[1], &out), &out);
}

static void
cmd_fdb_flush(struct unixctl_conn *conn, int argc, const char *argv[], void *sd_)
{
    struct switchd *sd = sd_;
    int error = dp_fdb_flush(sd->dp, argc > 1 ? argv[1] : NULL);
    if (error) {
        unixctl_command_reply_error(conn, error == ENOENT ? "no such bridge"
                                                           : strerror(error));
    } else {
        unixctl_command_reply(conn, "table successfully flushed");
    }
}

static void
cmd_dpif_show(struct unixctl_conn *conn, int argc, const char *argv[], void *sd_)
{
    struct switchd *sd = sd_;
    struct ds out = DS_EMPTY_INITIALIZER;
    (void) argc;
    (void) argv;
    bridges_format(sd->bridges, &out);
    dp_format_stats(sd->dp, &out);
    unixctl_command_reply(conn, ds_cstr(&out));
    ds_destroy(&out);
}

static void
cmd_trace(struct unixctl_conn *conn, int argc, const char *argv[], void *sd_)
{
    struct switchd *sd = sd_;
    struct ds out = DS_EMPTY_INITIALIZER;
    if (trace_command(sd->dp, bridges_only_bridge(sd->bridges), argc, argv,
                      &out)) {
        unixctl_command_reply_error(conn, ds_cstr(&out));
    } else {
        unixctl_command_reply(conn, ds_cstr(&out));
    }
    ds_destroy(&out);
}

static void
cmd_coverage_show(struct unixctl_conn *conn, int argc, const char *argv[],
                  void *sd_)
{
    struct switchd *sd = sd_;
    struct ds out = DS_EMPTY_INITIALIZER;
    (void) argc;
    (void) argv;
    coverage_format(sd->dp, time_msec(), &out);
    unixctl_command_reply(conn, ds_cstr(&out));
    ds_destroy(&out);
}

int
main(int argc, char *argv[])
{
    enum { OPT_THREADS = 0x2000 };
    static const struct option long_options[] = {
        DAEMON_LONG_OPTIONS,
        {"threads", required_argument, NULL, OPT_THREADS},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct switchd sd = { 0 };
    int n_threads = 1;

    set_program_name(argv[0]);
    for (;;) {
        int c = getopt_long(argc, argv, DAEMON_SHORT_OPTIONS "hV", long_options,
                            NULL);
        if (c == -1) {
            break;
        }
        if (daemon_handle_option(c, optarg)) {
            continue;
        }
        switch (c) {
        case OPT_THREADS:
            if (!str_to_int(optarg, 10, &n_threads) || n_threads < 1
                || n_threads > 64) {
                fatal("--threads: \"%s\" is not a number from 1 to 64", optarg);
            }
            break;
        case 'h':
            usage();
            break;
        case 'V':
            printf("%s (Lanyard) %s\n", program_name(), LANYARD_VERSION);
            exit(0);
        default:
            fprintf(stderr, "Try `%s --help' for more information.\n",
                    program_name());
            exit(1);
        }
    }
    if (argc - optind > 1) {
        fatal("at most one database may be given");
    }
    char *remote = optind < argc ? xstrdup(argv[optind])
                                 : xasprintf("unix:%s/db.sock", daemon_rundir());

    daemonize_start();
    sd.dp = dp_create();
    int error = dp_start(sd.dp, (unsigned int) n_threads);
    if (error) {
        fatal_errno(error, "cannot start forwarding threads");
    }
    sd.replica = replica_create(remote, "Open_vSwitch");
    sd.bridges = bridges_create(sd.dp, sd.replica);

    struct unixctl_server *unixctl;
    error = unixctl_server_create(daemon_get_unixctl_path(), &unixctl);
    if (error) {
        fatal_errno(error, "could not create control socket");
    }
    unixctl_command_register("exit", "", 0, 0, cmd_exit, &sd);
    unixctl_command_register("fdb/show", "bridge", 1, 1, cmd_fdb_show, &sd);
    unixctl_command_register("fdb/stats-show", "bridge", 1, 1,
                             cmd_fdb_stats_show, &sd);
    unixctl_command_register("fdb/flush", "[bridge]", 0, 1, cmd_fdb_flush, &sd);
    unixctl_command_register("dpif/show", "", 0, 0, cmd_dpif_show, &sd);
    unixctl_command_register("ofproto/trace", "[bridge] flow", 1, 2,
                             cmd_trace, &sd);
    unixctl_command_register("coverage/show", "", 0, 0, cmd_coverage_show,
                             &sd);
    dummy_ctl_register(sd.dp, bridges_dummy_pcaps(sd.bridges));
    fdb_ctl_register(sd.dp, sd.bridges);     /* fdb/add, fdb/del, ... */
    pmd_ctl_register(sd.dp);                 /* dpif-netdev/pmd-* */
    dpif_ctl_register(sd.dp, sd.replica);    /* dpctl/show, memory/show */
    tnl_ctl_register();                      /* tnl/ports/show */
    bonds_register_unixctl(bridges_bonds(sd.bridges));
    vlog_register_unixctl();

    daemonize_complete();
    daemon_signals_init();
    VLOG_INFO("%s (Lanyard) %s following %s", program_name(), LANYARD_VERSION,
              remote);

    while (!sd.exiting && !daemon_should_exit()) {
        long long now = time_msec();
        unixctl_server_run(unixctl);
        replica_run(sd.replica, now);
        bridges_run(sd.bridges, now);
        replica_run(sd.replica, now);   /* Flush status we just queued. */
        long long dp_wait = dp_run(sd.dp, now);
        coverage_run(sd.dp, now);
        if (sd.exiting) {
            break;
        }
        unixctl_server_wait(unixctl);
        replica_wait(sd.replica);
        bridges_wait(sd.bridges);
        poll_timer_wait(dp_wait);
        poll_timer_wait_until(coverage_next_sample());
        daemon_signals_wait();
        poll_block();
        daemon_signals_run();
    }

    unixctl_server_run(unixctl);
    unixctl_server_destroy(unixctl);
    bridges_destroy(sd.bridges);
    replica_destroy(sd.replica);
    dp_destroy(sd.dp);
    free(remote);
    VLOG_INFO("exiting");
    return 0;
}
