/* Tests for pidfiles, --detach readiness and signal handling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "poll-loop.h"
#include "util.h"

static char rundir[] = "/tmp/lanyard-test-daemon-XXXXXX";

static void
test_pidfile(void **state)
{
    char *pidfile = xasprintf("%s/test-daemon.pid", rundir);
    pid_t pid;
    assert_int_equal(daemon_read_pidfile(pidfile, &pid), ENOENT);

    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t child = fork();
    if (!child) {
        daemon_set_pidfile(NULL);           /* <rundir>/<program>.pid */
        daemonize_start();
        assert_int_equal(write(ready[1], "r", 1), 1);
        for (;;) {
            pause();
        }
    }
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(daemon_read_pidfile(pidfile, &pid), 0);
    assert_int_equal(pid, child);

    /* Killed hard: the file stays but is no longer locked (stale). */
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    assert_int_equal(daemon_read_pidfile(pidfile, &pid), ESRCH);

    /* Garbage is not a pid. */
    FILE *f = fopen(pidfile, "w");
    fputs("garbage\n", f);
    fclose(f);
    assert_int_equal(daemon_read_pidfile(pidfile, &pid), ESRCH);

    /* A new daemon takes over the stale file and removes it at exit. */
    child = fork();
    if (!child) {
        daemon_set_pidfile("test-daemon.pid");
        daemonize_start();
        pid_t me;
        exit(daemon_read_pidfile(pidfile, &me) || me != getpid() ? 5 : 0);
    }
    int status;
    waitpid(child, &status, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(access(pidfile, F_OK), -1);
    close(ready[0]);
    close(ready[1]);
    free(pidfile);
}

static int
run_detached(int grandchild_status, bool complete)
{
    pid_t child = fork();
    if (!child) {
        assert_true(daemon_handle_option(DAEMON_OPT_DETACH, NULL));
        assert_true(daemon_handle_option(DAEMON_OPT_NO_CHDIR, NULL));
        daemonize_start();
        /* Only the detached grandchild gets here. */
        if (complete) {
            daemonize_complete();
            usleep(100 * 1000);
        }
        _exit(grandchild_status);
    }
    int status;
    waitpid(child, &status, 0);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void
test_detach(void **state)
{
    assert_int_equal(run_detached(7, true), 0);     /* Ready: parent 0. */
    assert_int_equal(run_detached(3, false), 3);    /* Died first. */
    assert_false(daemon_handle_option('x', NULL));
}

static void
test_signals(void **state)
{
    daemon_signals_init();
    raise(SIGHUP);
    assert_false(daemon_should_exit());
    long long start = time_msec();
    daemon_signals_wait();
    poll_timer_wait(5000);
    poll_block();
    assert_true(time_msec() - start < 2000);
    daemon_signals_run();
    assert_false(daemon_should_exit());
    raise(SIGTERM);
    assert_true(daemon_should_exit());
    daemon_signals_run();
}

static int
setup(void **state)
{
    if (!mkdtemp(rundir)) {
        return -1;
    }
    setenv("LANYARD_RUNDIR", rundir, 1);
    set_program_name("test-daemon");
    assert_string_equal(daemon_rundir(), rundir);
    return 0;
}

static int
teardown(void **state)
{
    return rmdir(rundir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pidfile),
        cmocka_unit_test(test_detach),
        cmocka_unit_test(test_signals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
