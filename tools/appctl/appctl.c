/* lanyard-appctl: sends one command to a daemon's control socket and prints
 * the answer.  Invoked as "ovs-appctl" it defaults to Open vSwitch's run
 * directory and target so it can stand in for the real tool. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "jsonrpc.h"
#include "unixctl.h"
#include "util.h"

struct appctl_options {
    const char *target;
    int timeout;                /* Seconds; 0: none. */
    bool ovs_mode;
};

static void
usage(const struct appctl_options *opts)
{
    printf("%s, for querying and controlling Lanyard and Open vSwitch "
           "daemons\n"
           "usage: %s [TARGET] COMMAND [ARG...]\n"
           "Targets:\n"
           "  -t, --target=TARGET  pidfile or socket to contact\n"
           "Common commands:\n"
           "  list-commands      List commands supported by the target\n"
           "  version            Print version of the target\n"
           "  vlog/list          List current logging levels\n"
           "  vlog/set [SPEC]\n"
           "      Set log levels as detailed in SPEC, which may include:\n"
           "      A valid module name (all modules, by default)\n"
           "      'syslog', 'console', 'file' (all destinations, by default)\n"
           "      'off', 'emer', 'err', 'warn', 'info', or 'dbg' "
           "('dbg', by default)\n"
           "  vlog/reopen        Make the program reopen its log file\n"
           "Other options:\n"
           "  -T, --timeout=SECS  wait at most SECS seconds for a response\n"
           "  -h, --help          Print this helpful information\n"
           "  -V, --version       Display program version\n"
           "The default TARGET is %s; a TARGET not starting with '/' names\n"
           "a daemon whose pidfile is in %s.\n",
           program_name(), program_name(),
           opts->ovs_mode ? "ovs-vswitchd" : "lanyard-switchd",
           opts->ovs_mode ? "$OVS_RUNDIR" : "$LANYARD_RUNDIR");
}

static const char *
appctl_rundir(bool ovs_mode)
{
    const char *env = getenv(ovs_mode ? "OVS_RUNDIR" : "LANYARD_RUNDIR");
    if (env && *env) {
        return env;
    }
    if (ovs_mode) {
        env = getenv("LANYARD_RUNDIR");
        return env && *env ? env : "/var/run/openvswitch";
    }
    return daemon_rundir();
}

/* Returns the socket path for TARGET (caller frees), or exits 1. */
static char *
resolve_target(const char *target, bool ovs_mode)
{
    if (target[0] == '/') {
        return xstrdup(target);
    }
    const char *rundir = appctl_rundir(ovs_mode);
    char *pidfile = xasprintf("%s/%s.pid", rundir, target);
    pid_t pid;
    int error = daemon_read_pidfile(pidfile, &pid);
    if (error) {
        fatal("cannot read pidfile \"%s\" (%s)", pidfile, strerror(error));
    }
    free(pidfile);
    return xasprintf("%s/%s.%ld.ctl", rundir, target, (long) pid);
}

static void
parse_options(int argc, char *argv[], struct appctl_options *opts)
{
    static const struct option long_options[] = {
        {"target", required_argument, NULL, 't'},
        {"timeout", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    /* '+': stop at the command so its arguments may start with '-'. */
    while ((c = getopt_long(argc, argv, "+t:T:hV", long_options, NULL))
           != -1) {
        switch (c) {
        case 't':
            opts->target = optarg;
            break;
        case 'T':
            if (!str_to_int(optarg, 10, &opts->timeout)
                || opts->timeout < 0) {
                fatal("value %s on -T or --timeout is invalid", optarg);
            }
            break;
        case 'h':
            usage(opts);
            exit(0);
        case 'V':
            printf("%s (Lanyard) %s\n", program_name(), LANYARD_VERSION);
            exit(0);
        default:
            exit(1);
        }
    }
}

int
main(int argc, char *argv[])
{
    set_program_name(argv[0]);
    struct appctl_options opts = { .target = NULL };
    opts.ovs_mode = !strcmp(program_name(), "ovs-appctl");
    parse_options(argc, argv, &opts);
    if (optind >= argc) {
        fatal("at least one non-option argument is required "
              "(use --help for help)");
    }
    if (opts.timeout) {
        alarm(opts.timeout);
    }
    if (!opts.target) {
        opts.target = opts.ovs_mode ? "ovs-vswitchd" : "lanyard-switchd";
    }

    char *socket_path = resolve_target(opts.target, opts.ovs_mode);
    struct jsonrpc *client;
    int error = unixctl_client_create(socket_path, &client);
    if (error) {
        fatal("cannot connect to \"%s\" (%s)", socket_path, strerror(error));
    }

    const char *command = argv[optind];
    char *result, *err_text;
    error = unixctl_client_transact(client, command, argc - optind - 1,
                                    argv + optind + 1, &result, &err_text);
    if (error) {
        fatal("%s: transaction error (%s)", socket_path,
              error == EOF ? "End of file" : strerror(error));
    }
    int status = 0;
    if (err_text) {
        fputs(err_text, stderr);
        fprintf(stderr, "%s: %s: server returned an error\n", program_name(),
                socket_path);
        status = 2;
    } else {
        fputs(result, stdout);
    }
    free(result);
    free(err_text);
    jsonrpc_close(client);
    free(socket_path);
    return status;
}
