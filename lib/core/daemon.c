/* daemon: shared options, pidfiles, detaching, signals. */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "poll-loop.h"
#include "util.h"
#include "vlog.h"

static bool detach, no_chdir;
static char *pidfile;
static int pidfile_fd = -1;
static pid_t pidfile_owner;     /* The process that created the pidfile. */
static char *unixctl_path;
static bool log_file_requested;
static char *log_file_name;
static int ready_fd = -1;       /* Child end of the readiness pipe. */
static int signal_pipe[2] = { -1, -1 };
static volatile sig_atomic_t exit_requested, reopen_requested;

const char *
daemon_rundir(void)
{
    const char *env = getenv("LANYARD_RUNDIR");
    return env && *env ? env : LANYARD_RUNDIR;
}

void
daemon_set_pidfile(const char *name)
{
    free(pidfile);
    if (!name) {
        pidfile = xasprintf("%s/%s.pid", daemon_rundir(), program_name());
    } else if (name[0] == '/') {
        pidfile = xstrdup(name);
    } else {
        pidfile = xasprintf("%s/%s", daemon_rundir(), name);
    }
}

const char *
daemon_get_pidfile(void)
{
    return pidfile;
}

void
daemon_set_detach(bool detach_)
{
    detach = detach_;
}

void
daemon_set_no_chdir(bool no_chdir_)
{
    no_chdir = no_chdir_;
}

const char *
daemon_get_unixctl_path(void)
{
    return unixctl_path;
}

bool
daemon_handle_option(int opt, const char *arg)
{
    switch (opt) {
    case DAEMON_OPT_DETACH:
        detach = true;
        return true;
    case DAEMON_OPT_NO_CHDIR:
        no_chdir = true;
        return true;
    case DAEMON_OPT_PIDFILE:
        daemon_set_pidfile(arg);
        return true;
    case DAEMON_OPT_LOG_FILE:
        log_file_requested = true;
        free(log_file_name);
        log_file_name = arg ? xstrdup(arg) : NULL;
        return true;
    case DAEMON_OPT_UNIXCTL:
        free(unixctl_path);
        unixctl_path = xstrdup(arg);
        return true;
    case DAEMON_OPT_VERBOSE:
        vlog_set_verbosity(arg);
        return true;
    default:
        return false;
    }
}

void
daemon_usage(void)
{
    printf("\nDaemon options:\n"
           "  --detach                run in background as daemon\n"
           "  --no-chdir              do not chdir to '/'\n"
           "  --pidfile[=FILE]        create pidfile (default: %s/%s.pid)\n"
           "  --unixctl=SOCKET        override default control socket name\n"
           "\nLogging options:\n"
           "  -vSPEC, --verbose=SPEC  set logging levels\n"
           "  -v, --verbose           set maximum verbosity level\n"
           "  --log-file[=FILE]       enable logging to specified FILE\n"
           "                          (default: /var/log/lanyard/%s.log)\n",
           daemon_rundir(), program_name(), program_name());
}

int
daemon_read_pidfile(const char *file, pid_t *pid)
{
    *pid = 0;
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    /* A live daemon holds a write lock; F_GETLK reports its pid. */
    struct flock lck = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    int error = 0;
    if (fcntl(fd, F_GETLK, &lck) < 0) {
        error = errno;
    } else if (lck.l_type == F_UNLCK) {
        /* Unlocked: stale, unless we hold the lock ourselves (F_GETLK does
         * not report our own locks). */
        if (pidfile_fd >= 0 && pidfile && !strcmp(file, pidfile)) {
            *pid = getpid();
        } else {
            error = ESRCH;
        }
    } else {
        char buf[32];
        ssize_t n = read(fd, buf, sizeof buf - 1);
        long value = 0;
        if (n <= 0) {
            error = EINVAL;
        } else {
            buf[n] = '\0';
            char *end;
            value = strtol(buf, &end, 10);
            if (value <= 0 || (*end && *end != '\n')) {
                error = EINVAL;
            } else if (value != lck.l_pid) {
                error = ESRCH;
            }
        }
        *pid = error ? 0 : (pid_t) value;
    }
    close(fd);
    return error;
}

static void
remove_pidfile_at_exit(void)
{
    if (getpid() == pidfile_owner) {
        daemon_remove_pidfile();
    }
}

void
daemon_remove_pidfile(void)
{
    if (pidfile_fd >= 0) {
        unlink(pidfile);
        close(pidfile_fd);
        pidfile_fd = -1;
    }
}

/* Creates and locks the pidfile: written to a temporary name, locked, then
 * renamed into place so readers never see a partial pid. */
static void
make_pidfile(void)
{
    pid_t other;
    if (!daemon_read_pidfile(pidfile, &other)) {
        fatal("%s: already running as pid %ld", pidfile, (long) other);
    }
    char *tmp = xasprintf("%s.tmp%ld", pidfile, (long) getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fatal_errno(errno, "%s: create failed", tmp);
    }
    struct flock lck = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    if (fcntl(fd, F_SETLK, &lck) < 0) {
        fatal_errno(errno, "%s: fcntl lock failed", tmp);
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long) getpid());
    if (write(fd, buf, n) != n || fsync(fd) < 0) {
        fatal_errno(errno, "%s: write failed", tmp);
    }
    if (rename(tmp, pidfile) < 0) {
        fatal_errno(errno, "rename %s to %s failed", tmp, pidfile);
    }
    free(tmp);
    pidfile_fd = fd;
    pidfile_owner = getpid();
    atexit(remove_pidfile_at_exit);
}

/* In the parent: waits for the child's readiness byte and exits. */
NO_RETURN static void
wait_for_child(pid_t child, int fd)
{
    char c;
    ssize_t n;
    do {
        n = read(fd, &c, 1);
    } while (n < 0 && errno == EINTR);
    if (n == 1) {
        _exit(0);
    }
    int status;
    if (waitpid(child, &status, 0) == child && WIFEXITED(status)) {
        _exit(WEXITSTATUS(status) ? WEXITSTATUS(status) : 1);
    }
    fprintf(stderr, "%s: daemon child died before becoming ready\n",
            program_name());
    _exit(1);
}

void
daemonize_start(void)
{
    if (detach) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0) {
            fatal_errno(errno, "pipe failed");
        }
        pid_t pid = fork();
        if (pid < 0) {
            fatal_errno(errno, "fork failed");
        } else if (pid > 0) {
            close(fds[1]);
            wait_for_child(pid, fds[0]);
        }
        close(fds[0]);
        ready_fd = fds[1];
        setsid();
    }
    if (pidfile) {
        make_pidfile();
    }
    if (log_file_requested) {
        int error = vlog_set_log_file(log_file_name);
        if (error) {
            fatal_errno(error, "could not open log file %s",
                        log_file_name ? log_file_name : "(default)");
        }
    }
}

void
daemonize_complete(void)
{
    if (ready_fd < 0) {
        return;
    }
    char c = 1;
    ssize_t n;
    do {
        n = write(ready_fd, &c, 1);
    } while (n < 0 && errno == EINTR);
    close(ready_fd);
    ready_fd = -1;
    if (!no_chdir && chdir("/") < 0) {
        fatal_errno(errno, "chdir(\"/\") failed");
    }
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd >= 0) {
        dup2(null_fd, STDIN_FILENO);
        dup2(null_fd, STDOUT_FILENO);
        dup2(null_fd, STDERR_FILENO);
        if (null_fd > STDERR_FILENO) {
            close(null_fd);
        }
    }
}

static void
signal_handler(int signum)
{
    int saved_errno = errno;
    if (signum == SIGHUP) {
        reopen_requested = 1;
    } else {
        exit_requested = 1;
    }
    char c = (char) signum;
    ssize_t n = write(signal_pipe[1], &c, 1);
    (void) n;                   /* A full pipe already wakes the loop. */
    errno = saved_errno;
}

void
daemon_signals_init(void)
{
    if (signal_pipe[0] < 0
        && pipe2(signal_pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
        fatal_errno(errno, "pipe failed");
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = signal_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

void
daemon_signals_wait(void)
{
    if (signal_pipe[0] >= 0) {
        poll_fd_wait(signal_pipe[0], POLLIN);
    }
    if (exit_requested || reopen_requested) {
        poll_immediate_wake();
    }
}

void
daemon_signals_run(void)
{
    char buf[64];
    while (signal_pipe[0] >= 0 && read(signal_pipe[0], buf, sizeof buf) > 0) {
        continue;
    }
    if (reopen_requested) {
        reopen_requested = 0;
        vlog_reopen_log_file();
    }
}

bool
daemon_should_exit(void)
{
    return exit_requested;
}

void
daemon_request_exit(void)
{
    exit_requested = 1;
}
