/* unixctl server and client round trips in one process (server thread). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "ds.h"
#include "jsonrpc.h"
#include "poll-loop.h"
#include "unixctl.h"
#include "util.h"
#include "vlog.h"

static atomic_bool stop;
static struct unixctl_conn *deferred;

static void
join_cb(struct unixctl_conn *conn, int argc, const char *argv[], void *aux)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&s, aux);
    for (int i = 0; i < argc; i++) {
        ds_put_format(&s, " %s", argv[i]);
    }
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

static void
fail_cb(struct unixctl_conn *conn, int argc, const char *argv[], void *aux)
{
    unixctl_command_reply_error(conn, "no such bridge");
}

static void
later_cb(struct unixctl_conn *conn, int argc, const char *argv[], void *aux)
{
    deferred = conn;            /* Answered from the main loop below. */
}

static void *
server_main(void *server_)
{
    struct unixctl_server *server = server_;
    while (!atomic_load(&stop)) {
        unixctl_server_run(server);
        if (deferred) {
            unixctl_command_reply(deferred, "done later");
            deferred = NULL;
            unixctl_server_run(server);
        }
        unixctl_server_wait(server);
        poll_timer_wait(20);
        poll_block();
    }
    return NULL;
}

static void
transact(struct jsonrpc *c, const char *cmd, int argc, char *argv[],
         const char *want_result, const char *want_error)
{
    char *result, *error;
    assert_int_equal(unixctl_client_transact(c, cmd, argc, argv, &result,
                                             &error), 0);
    if (want_result) {
        assert_null(error);
        assert_string_equal(result, want_result);
    } else {
        assert_null(result);
        assert_string_equal(error, want_error);
    }
    free(result);
    free(error);
}

static void
test_roundtrip(void **state)
{
    char dir[] = "/tmp/lanyard-test-unixctl-XXXXXX";
    assert_non_null(mkdtemp(dir));
    setenv("LANYARD_RUNDIR", dir, 1);
    set_program_name("test-unixctl");
    unixctl_command_register("test/join", "[arg...]", 0, 3, join_cb,
                             (void *) "joined:");
    unixctl_command_register("test/fail", "", 0, 0, fail_cb, NULL);
    unixctl_command_register("test/later", "", 0, 0, later_cb, NULL);
    vlog_register_unixctl();

    struct unixctl_server *server;
    assert_int_equal(unixctl_server_create(NULL, &server), 0);
    char *expect_path = xasprintf("%s/test-unixctl.%ld.ctl", dir,
                                  (long) getpid());
    assert_string_equal(unixctl_server_get_path(server), expect_path);

    pthread_t thread;
    pthread_create(&thread, NULL, server_main, server);

    struct jsonrpc *c;
    /* Relative paths resolve in the run directory. */
    char *rel = strrchr(expect_path, '/') + 1;
    assert_int_equal(unixctl_client_create(rel, &c), 0);

    char *args[] = { "a", "b", "c", "d" };
    transact(c, "test/join", 2, args, "joined: test/join a b\n", NULL);
    transact(c, "test/join", 4, args, NULL,
             "\"test/join\" command takes at most 3 arguments\n");
    transact(c, "vlog/set", 0, args, NULL,
             "\"vlog/set\" command requires at least 1 arguments\n");
    transact(c, "frob", 0, args, NULL,
             "\"frob\" is not a valid command (use \"list-commands\" to see "
             "a list of valid commands)\n");
    transact(c, "test/fail", 0, args, NULL, "no such bridge\n");
    transact(c, "test/later", 0, args, "done later\n", NULL);
    transact(c, "version", 0, args, "test-unixctl (Lanyard) " LANYARD_VERSION
             "\n", NULL);
    char *bogus[] = { "bogus" };
    transact(c, "vlog/set", 1, bogus, NULL,
             "no destination, level, or module \"bogus\"\n");
    char *good[] = { "unixctl:file:dbg" };
    transact(c, "vlog/set", 1, good, "", NULL);

    char *result, *error;
    assert_int_equal(unixctl_client_transact(c, "list-commands", 0, args,
                                             &result, &error), 0);
    assert_non_null(strstr(result, "The available commands are:\n"
                           "  list-commands           \n"));
    assert_non_null(strstr(result, "  test/join               [arg...]\n"));
    assert_true(strstr(result, "test/fail") < strstr(result, "test/join"));
    free(result);

    /* Non-string argument, sent raw. */
    struct jsonrpc_msg *reply;
    assert_int_equal(jsonrpc_transact_block(
                         c, jsonrpc_create_request("test/join",
                                                   json_pack("[i]", 1), NULL),
                         &reply), 0);
    assert_int_equal(reply->type, JSONRPC_ERROR);
    assert_string_equal(json_string_value(reply->error),
                        "\"test/join\" command has non-string argument\n");
    jsonrpc_msg_destroy(reply);
    jsonrpc_close(c);

    /* The real ovs-appctl, when installed, talks to our server. */
    if (!access("/usr/bin/ovs-appctl", X_OK)) {
        char out[256];
        char *cmd = xasprintf("/usr/bin/ovs-appctl -t %s test/join x y "
                              "2>&1", expect_path);
        FILE *p = popen(cmd, "r");
        size_t n = fread(out, 1, sizeof out - 1, p);
        out[n] = '\0';
        assert_int_equal(pclose(p), 0);
        assert_string_equal(out, "joined: test/join x y\n");
        free(cmd);

        cmd = xasprintf("/usr/bin/ovs-appctl -t %s test/fail 2>&1",
                        expect_path);
        p = popen(cmd, "r");
        n = fread(out, 1, sizeof out - 1, p);
        out[n] = '\0';
        int status = pclose(p);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 2);
        assert_true(str_starts_with(out, "no such bridge\n"));
        assert_non_null(strstr(out, "server returned an error"));
        free(cmd);
    }

    atomic_store(&stop, true);
    pthread_join(thread, NULL);
    unixctl_server_destroy(server);
    assert_int_equal(access(expect_path, F_OK), -1);
    assert_int_equal(rmdir(dir), 0);
    free(expect_path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
