/* lanyard-appctl (path in argv[1]) against an in-process unixctl server with
 * a real locked pidfile, including the "ovs-appctl" personality. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "poll-loop.h"
#include "unixctl.h"
#include "util.h"

static const char *appctl;
static char rundir[] = "/tmp/lanyard-test-appctl-XXXXXX";
static atomic_bool stop;

static void
args_cb(struct unixctl_conn *conn, int argc, const char *argv[], void *aux)
{
    if (argc > 1 && !strcmp(argv[1], "fail")) {
        unixctl_command_reply_error(conn, "it failed");
    } else {
        unixctl_command_reply(conn, argc > 1 ? argv[1] : "none");
    }
}

static void *
server_main(void *server_)
{
    while (!atomic_load(&stop)) {
        unixctl_server_run(server_);
        unixctl_server_wait(server_);
        poll_timer_wait(20);
        poll_block();
    }
    return NULL;
}

/* Runs CMD through sh; returns the exit status and stdout+stderr in OUT. */
static int
run(char *out, size_t size, const char *fmt, ...) PRINTF_FORMAT(3, 4);

static int
run(char *out, size_t size, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    char *cmd = xvasprintf(fmt, args);
    va_end(args);
    char *full = xasprintf("%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    free(full);
    free(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
test_appctl(void **state)
{
    assert_non_null(mkdtemp(rundir));
    setenv("LANYARD_RUNDIR", rundir, 1);
    set_program_name("fake-daemon");
    daemon_set_pidfile(NULL);
    daemonize_start();
    unixctl_command_register("test/args", "[arg]", 0, 1, args_cb, NULL);
    struct unixctl_server *server;
    assert_int_equal(unixctl_server_create(NULL, &server), 0);
    pthread_t thread;
    pthread_create(&thread, NULL, server_main, server);

    char out[1024];
    assert_int_equal(run(out, sizeof out, "%s -t fake-daemon test/args hi",
                         appctl), 0);
    assert_string_equal(out, "hi\n");
    assert_int_equal(run(out, sizeof out, "%s -t %s --timeout=5 test/args "
                         "-x", appctl, unixctl_server_get_path(server)), 0);
    assert_string_equal(out, "-x\n");
    assert_int_equal(run(out, sizeof out, "%s -t fake-daemon version",
                         appctl), 0);
    assert_true(str_starts_with(out, "fake-daemon (Lanyard) "));

    assert_int_equal(run(out, sizeof out, "%s -t fake-daemon test/args fail",
                         appctl), 2);
    /* As ovs-appctl: the target is named as given. */
    char *expect = xasprintf("it failed\nlanyard-appctl: fake-daemon: server "
                             "returned an error\n");
    assert_string_equal(out, expect);
    free(expect);

    assert_int_equal(run(out, sizeof out, "%s -t nosuch version", appctl), 1);
    expect = xasprintf("lanyard-appctl: cannot read pidfile \"%s/nosuch.pid\""
                       " (No such file or directory)\n", rundir);
    /* Preceded by OVS's "daemon_unix|WARN|...: open: ..." log line. */
    assert_true(strlen(out) > strlen(expect));
    assert_string_equal(out + strlen(out) - strlen(expect), expect);
    free(expect);
    assert_int_equal(run(out, sizeof out, "%s -t /nonexistent.ctl version",
                         appctl), 1);
    assert_non_null(strstr(out, "|unixctl|WARN|failed to connect to "
                            "/nonexistent.ctl\nlanyard-appctl: cannot connect"
                            " to \"/nonexistent.ctl\" (No such file or "
                            "directory)\n"));
    assert_int_equal(run(out, sizeof out, "%s", appctl), 1);

    /* As ovs-appctl: OVS_RUNDIR picks the directory. */
    char *link = xasprintf("%s/ovs-appctl", rundir);
    assert_int_equal(symlink(appctl, link), 0);
    assert_int_equal(run(out, sizeof out, "OVS_RUNDIR=%s %s -t fake-daemon "
                         "test/args x", rundir, link), 0);
    assert_string_equal(out, "x\n");
    assert_int_equal(run(out, sizeof out, "OVS_RUNDIR=%s %s version",
                         rundir, link), 1);
    assert_non_null(strstr(out, "ovs-appctl: cannot read pidfile"));
    assert_non_null(strstr(out, "/ovs-vswitchd.pid"));
    unlink(link);
    free(link);

    atomic_store(&stop, true);
    pthread_join(thread, NULL);
    unixctl_server_destroy(server);
    daemon_remove_pidfile();
    assert_int_equal(rmdir(rundir), 0);
}

int
main(int argc, char *argv[])
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH-TO-LANYARD-APPCTL\n", argv[0]);
        return 1;
    }
    appctl = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appctl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
