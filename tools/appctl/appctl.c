/* lanyard-appctl: sends one command to a daemon's control socket and prints
 * the answer.  Invoked as "ovs-appctl" it resolves targets in Open vSwitch's
 * run directory and defaults to ovs-vswitchd, so it can stand in for the real
 * tool: same options, messages, warning lines and exit codes (0 success,
 * 1 usage or connection failure, 2 the daemon answered with an error). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "jsonrpc.h"
#include "unixctl.h"
#include "util.h"
#include "vlog.h"

struct appctl_options {
    const char *target;
    int timeout;                /* Seconds; 0: none. */
    bool ovs_mode;
};

/* OVS tools log these problems under these module names before failing;
 * callers that scrape stderr see the same lines from us. */
static struct vlog_module appctl_vlm_daemon_unix = {
    .name = "daemon_unix",
    .levels = { VLL_INFO, VLL_INFO, VLL_INFO },
    .min_level = VLL_INFO,
};
static struct vlog_module appctl_vlm_unixctl_fallback = {
    .name = "unixctl",
    .levels = { VLL_INFO, VLL_INFO, VLL_INFO },
    .min_level = VLL_INFO,
};

static const struct vlog_module *
appctl_module(struct vlog_module *fallback)
{
    struct vlog_module *m = vlog_module_from_name(fallback->name);
    if (!m) {
        vlog_insert_module(fallback);
        m = fallback;
    }
    return m;
}

static void
usage(const struct appctl_options *opts)
{
    printf("%s: send a command to a running Lanyard or Open vSwitch daemon\n"
           "usage: %s [TARGET] COMMAND [ARG...]\n"
           "Target:\n"
           "  -t, --target=TARGET  daemon name (its pidfile in %s)\n"
           "                       or absolute path of a control socket\n"
           "                       (default: %s)\n"
           "Commands every daemon answers:\n"
           "  list-commands        the daemon's own command list\n"
           "  version              the daemon's name and version\n"
           "  vlog/list            logging levels per module\n"
           "  vlog/set [SPEC]      change logging levels (MODULE:DEST:LEVEL)\n"
           "  vlog/reopen          reopen the log file after rotation\n"
           "Options:\n"
           "  -T, --timeout=SECS   give up after SECS seconds\n"
           "  -v, --verbose[=SPEC] log to the console (SPEC as vlog/set)\n"
           "  --log-file[=FILE]    also log to FILE\n"
           "  -e, --execute        accepted and ignored (old syntax)\n"
           "  -o, --option         list the options, one per line\n"
           "  -h, --help           this text\n"
           "  -V, --version        the program's version\n",
           program_name(), program_name(),
           opts->ovs_mode ? "$OVS_RUNDIR" : "$LANYARD_RUNDIR",
           opts->ovs_mode ? "ovs-vswitchd" : "lanyard-switchd");
}

static const char *
appctl_rundir(bool ovs_mode)
{
    if (!ovs_mode) {
        return daemon_rundir();
    }
    const char *env = getenv("OVS_RUNDIR");
    return env && *env ? env : "/var/run/openvswitch";
}

/* The control socket of daemon NAME whose pidfile is in RUNDIR (caller
 * frees), or NULL with *ERROR set. */
static char *
daemon_socket(const char *rundir, const char *name, int *error)
{
    char *pidfile = xasprintf("%s/%s.pid", rundir, name);
    pid_t pid;
    *error = daemon_read_pidfile(pidfile, &pid);
    free(pidfile);
    return *error ? NULL
                  : xasprintf("%s/%s.%ld.ctl", rundir, name, (long) pid);
}

/* Invoked as ovs-appctl, the Open vSwitch daemon names also reach the
 * Lanyard daemon doing the same job when no OVS daemon of that name runs,
 * so scripts written for OVS work unchanged. */
static char *
lanyard_counterpart(const char *target)
{
    static const char *const pairs[][2] = {
        {"ovs-vswitchd", "lanyard-switchd"},
        {"ovsdb-server", "lanyard-dbd"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
        if (!strcmp(target, pairs[i][0])) {
            const char *dirs[] = { appctl_rundir(true), daemon_rundir() };
            for (size_t j = 0; j < ARRAY_SIZE(dirs); j++) {
                int error;
                char *path = daemon_socket(dirs[j], pairs[i][1], &error);
                if (path) {
                    return path;
                }
            }
        }
    }
    return NULL;
}

/* Returns the socket path for TARGET (caller frees), or exits 1. */
static char *
resolve_target(const char *target, bool ovs_mode)
{
    if (target[0] == '/') {
        return xstrdup(target);
    }
    const char *rundir = appctl_rundir(ovs_mode);
    int error;
    char *path = daemon_socket(rundir, target, &error);
    if (path) {
        return path;
    }
    char *pidfile = xasprintf("%s/%s.pid", rundir, target);
    if (access(pidfile, F_OK) < 0) {
        int open_error = errno;
        path = ovs_mode ? lanyard_counterpart(target) : NULL;
        if (path) {
            free(pidfile);
            return path;
        }
        vlog(appctl_module(&appctl_vlm_daemon_unix), VLL_WARN,
             "%s: open: %s", pidfile, strerror(open_error));
    }
    fatal("cannot read pidfile \"%s\" (%s)", pidfile, strerror(error));
}

/* ---- --timeout: die by SIGALRM, announcing it as OVS tools do. ---- */

/* Appends decimal N, zero-padded to WIDTH, at *P (async-signal-safe). */
static void
put_decimal(char **p, long long n, int width)
{
    char digits[24];
    int len = 0;
    do {
        digits[len++] = '0' + n % 10;
        n /= 10;
    } while (n > 0 && len < (int) sizeof digits);
    while (width-- > len) {
        *(*p)++ = '0';
    }
    while (len > 0) {
        *(*p)++ = digits[--len];
    }
}

/* Civil date from days since 1970-01-01 (proleptic Gregorian). */
static void
civil_from_days(long long days, long long *y, int *m, int *d)
{
    days += 719468;
    long long era = (days >= 0 ? days : days - 146096) / 146097;
    long long doe = days - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    *d = (int) (doy - (153 * mp + 2) / 5 + 1);
    *m = (int) (mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Only async-signal-safe calls here: time(), write(), signal(), raise(). */
static void
alarm_handler(int signo)
{
    char line[128], *p = line;
    time_t now = time(NULL);
    long long y;
    int mo, d;
    civil_from_days(now / 86400, &y, &mo, &d);
    long long secs = now % 86400;
    put_decimal(&p, y, 4);
    *p++ = '-';
    put_decimal(&p, mo, 2);
    *p++ = '-';
    put_decimal(&p, d, 2);
    *p++ = 'T';
    put_decimal(&p, secs / 3600, 2);
    *p++ = ':';
    put_decimal(&p, secs / 60 % 60, 2);
    *p++ = ':';
    put_decimal(&p, secs % 60, 2);
    static const char rest[] = "Z|00001|fatal_signal|WARN|terminating with "
                               "signal 14 (Alarm clock)\n";
    memcpy(p, rest, sizeof rest - 1);
    p += sizeof rest - 1;
    ssize_t n = write(STDERR_FILENO, line, p - line);
    (void) n;
    signal(signo, SIG_DFL);
    raise(signo);
}

/* ---- Command line. ---- */

static const struct option long_options[] = {
    {"target", required_argument, NULL, 't'},
    {"execute", no_argument, NULL, 'e'},
    {"help", no_argument, NULL, 'h'},
    {"option", no_argument, NULL, 'o'},
    {"version", no_argument, NULL, 'V'},
    {"timeout", required_argument, NULL, 'T'},
    {"verbose", optional_argument, NULL, 'v'},
    {"log-file", optional_argument, NULL, 'L'},
    {NULL, 0, NULL, 0},
};

/* --option: one line per long and short option, as bash completion reads
 * them. */
static void
print_options(void)
{
    for (const struct option *o = long_options; o->name; o++) {
        const char *arg = o->has_arg == required_argument ? "=ARG"
                          : o->has_arg == optional_argument ? "=[ARG]" : "";
        printf("--%s%s\n", o->name, arg);
        if (o->val != 'L') {
            printf("-%c %s\n", o->val,
                   o->has_arg == required_argument ? "ARG"
                   : o->has_arg == optional_argument ? "[ARG]" : "");
        }
    }
}

static void
parse_options(int argc, char *argv[], struct appctl_options *opts)
{
    int c;
    /* '+': stop at the command so its arguments may start with '-'. */
    while ((c = getopt_long(argc, argv, "+t:ehoVT:v::", long_options, NULL))
           != -1) {
        switch (c) {
        case 't':
            opts->target = optarg;
            break;
        case 'e':
            break;
        case 'T':
            if (!str_to_int(optarg, 10, &opts->timeout)
                || opts->timeout <= 0) {
                fatal("value %s on -T or --timeout is invalid", optarg);
            }
            break;
        case 'v':
            vlog_set_verbosity(optarg);
            break;
        case 'L': {
            int error = vlog_set_log_file(optarg);
            if (error) {
                fatal("%s: could not open log file (%s)",
                      optarg ? optarg : "default log file", strerror(error));
            }
            break;
        }
        case 'h':
            usage(opts);
            exit(0);
        case 'o':
            print_options();
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
        signal(SIGALRM, alarm_handler);
        alarm(opts.timeout);
    }
    if (!opts.target) {
        opts.target = opts.ovs_mode ? "ovs-vswitchd" : "lanyard-switchd";
    }

    char *socket_path = resolve_target(opts.target, opts.ovs_mode);
    const struct vlog_module *unixctl_vlm
        = appctl_module(&appctl_vlm_unixctl_fallback);
    struct jsonrpc *client;
    int error = unixctl_client_create(socket_path, &client);
    if (error) {
        vlog(unixctl_vlm, VLL_WARN, "failed to connect to %s", socket_path);
        fatal("cannot connect to \"%s\" (%s)", socket_path, strerror(error));
    }

    const char *command = argv[optind];
    char *result, *err_text;
    error = unixctl_client_transact(client, command, argc - optind - 1,
                                    argv + optind + 1, &result, &err_text);
    if (error) {
        const char *why = error == EOF ? "End of file" : strerror(error);
        vlog(unixctl_vlm, VLL_WARN, "error communicating with unix:%s: %s",
             socket_path, why);
        fatal("%s: transaction error (%s)", opts.target, why);
    }
    int status = 0;
    if (err_text) {
        fputs(err_text, stderr);
        fprintf(stderr, "%s: %s: server returned an error\n", program_name(),
                opts.target);
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
