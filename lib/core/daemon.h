/* daemon: the command-line options and process life cycle every daemon
 * shares: --detach, --no-chdir, --pidfile[=FILE], --log-file[=FILE],
 * --unixctl=PATH, -v/--verbose[=SPEC]; pidfiles with an fcntl write lock
 * (what ovs-appctl checks), detaching with a readiness pipe, and a
 * self-pipe for SIGTERM/SIGINT/SIGHUP.
 *
 * Usage in a daemon's main():
 *     static const struct option long_options[] = {
 *         DAEMON_LONG_OPTIONS,
 *         {"my-option", required_argument, NULL, 'm'},
 *         {NULL, 0, NULL, 0},
 *     };
 *     while ((c = getopt_long(argc, argv, "v::" ..., long_options, NULL))
 *            != -1) {
 *         if (daemon_handle_option(c, optarg)) continue;
 *         ...
 *     }
 *     daemonize_start();        // forks if --detach; writes the pidfile
 *     ... open listeners, unixctl_server_create(daemon_get_unixctl_path())
 *     daemonize_complete();     // parent exits 0 now; chdir("/")
 *     daemon_signals_init();
 *     while (!daemon_should_exit()) { ...; daemon_signals_wait();
 *                                      poll_block(); daemon_signals_run(); }
 *
 * Process-wide state: one daemon per process. */
#ifndef LANYARD_DAEMON_H
#define LANYARD_DAEMON_H 1

#include <getopt.h>
#include <stdbool.h>
#include <sys/types.h>

enum {
    DAEMON_OPT_DETACH = 0x1000,
    DAEMON_OPT_NO_CHDIR,
    DAEMON_OPT_PIDFILE,
    DAEMON_OPT_LOG_FILE,
    DAEMON_OPT_UNIXCTL,
    DAEMON_OPT_VERBOSE = 'v'
};

#define DAEMON_LONG_OPTIONS                                                    \
    {"detach", no_argument, NULL, DAEMON_OPT_DETACH},                          \
    {"no-chdir", no_argument, NULL, DAEMON_OPT_NO_CHDIR},                      \
    {"pidfile", optional_argument, NULL, DAEMON_OPT_PIDFILE},                  \
    {"log-file", optional_argument, NULL, DAEMON_OPT_LOG_FILE},                \
    {"unixctl", required_argument, NULL, DAEMON_OPT_UNIXCTL},                  \
    {"verbose", optional_argument, NULL, DAEMON_OPT_VERBOSE}

/* The short-option string fragment for -v[SPEC]. */
#define DAEMON_SHORT_OPTIONS "v::"

/* Handles option OPT (as returned by getopt_long) if it is one of
 * DAEMON_LONG_OPTIONS and returns true; false otherwise.  Bad values are
 * fatal(). */
bool daemon_handle_option(int opt, const char *arg);
/* Prints the help text for the shared options to stdout. */
void daemon_usage(void);

/* The run directory: $LANYARD_RUNDIR if set, else LANYARD_RUNDIR. */
const char *daemon_rundir(void);
/* Sets the pidfile (NULL: <rundir>/<program>.pid; relative names are
 * taken relative to the run directory). */
void daemon_set_pidfile(const char *name);
const char *daemon_get_pidfile(void);     /* NULL if none requested. */
void daemon_set_detach(bool detach);
void daemon_set_no_chdir(bool no_chdir);
/* --unixctl value, or NULL for the default path. */
const char *daemon_get_unixctl_path(void);

/* If --detach: forks; the parent waits until the child calls
 * daemonize_complete() (then exits 0) or dies (then exits 1).  In the
 * (possibly new) daemon process, writes and locks the pidfile if requested
 * (fatal if another live process holds it) and arranges its removal at
 * exit.  Opens the log file if --log-file was given. */
void daemonize_start(void);
/* Tells the waiting parent the daemon is serving, detaches from the
 * session, chdir("/") unless --no-chdir, points stdio at /dev/null.
 * No-op without --detach (except that it is safe to call). */
void daemonize_complete(void);
/* Removes the pidfile now (also done automatically at exit). */
void daemon_remove_pidfile(void);

/* Reads pidfile FILE and checks that a live process holds its lock.
 * Returns 0 and *PID, or a positive errno: ENOENT (no file), ESRCH (not
 * locked: stale), EINVAL (garbage). */
int daemon_read_pidfile(const char *file, pid_t *pid);

/* Installs handlers: SIGTERM and SIGINT request exit, SIGHUP requests a log
 * reopen; SIGPIPE is ignored.  Each handler writes to a self-pipe. */
void daemon_signals_init(void);
/* Registers the self-pipe with the poll loop. */
void daemon_signals_wait(void);
/* Drains the self-pipe and reopens the log file after SIGHUP. */
void daemon_signals_run(void);
/* True once SIGTERM or SIGINT arrived (or daemon_request_exit()). */
bool daemon_should_exit(void);
void daemon_request_exit(void);

#endif
