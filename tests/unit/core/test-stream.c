/* Tests for unix and tcp streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "poll-loop.h"
#include "stream.h"
#include "util.h"

static struct stream *
accept_block(struct pstream *ps)
{
    struct stream *s;
    int error;
    while ((error = pstream_accept(ps, &s)) == EAGAIN) {
        pstream_wait(ps);
        poll_timer_wait(2000);
        poll_block();
    }
    assert_int_equal(error, 0);
    return s;
}

static void
exchange(struct stream *a, struct stream *b)
{
    assert_int_equal(stream_send(a, "hello", 5), 5);
    char buf[16];
    ssize_t n;
    while ((n = stream_recv(b, buf, sizeof buf)) == -EAGAIN) {
        stream_wait(b, STREAM_RECV);
        poll_block();
    }
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(stream_recv(b, buf, sizeof buf), -EAGAIN);
}

static void
test_names(void **state)
{
    assert_int_equal(stream_verify_name("tcp:127.0.0.1:6640"), 0);
    assert_int_equal(stream_verify_name("tcp:[::1]:6640"), 0);
    assert_int_equal(stream_verify_name("unix:/tmp/x"), 0);
    assert_int_equal(stream_verify_name("ssl:10.0.0.1:6640"), 0);
    assert_int_equal(stream_verify_name("tcp:host:99999"), EINVAL);
    assert_int_equal(stream_verify_name("foo:bar"), EAFNOSUPPORT);
    assert_int_equal(pstream_verify_name("ptcp:6640:127.0.0.1"), 0);
    assert_int_equal(pstream_verify_name("ptcp:0"), 0);
    assert_int_equal(pstream_verify_name("ptcp:6640:[::1]"), 0);
    assert_int_equal(pstream_verify_name("punix:"), EINVAL);
    assert_true(stream_needs_probes("tcp:1.2.3.4:1"));
    assert_false(stream_needs_probes("unix:/x"));
}

static void
test_unix(void **state)
{
    char dir[] = "/tmp/lanyard-test-stream-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = xasprintf("%s/s.sock", dir);
    char *pname = xasprintf("punix:%s", path);

    /* A stale socket file (nobody listening) is replaced. */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    strcpy(sun.sun_path, path);
    assert_int_equal(bind(fd, (struct sockaddr *) &sun, sizeof sun), 0);
    close(fd);

    struct pstream *ps;
    assert_int_equal(pstream_open(pname, &ps), 0);
    assert_string_equal(pstream_get_name(ps), pname);
    struct stream *client;
    assert_int_equal(stream_open_block(pname + 1, 2000, &client), 0);
    struct stream *server = accept_block(ps);
    assert_true(str_starts_with(stream_get_name(server), "unix#"));
    exchange(client, server);
    exchange(server, client);

    /* A live socket is not stolen (the liveness probe shows up as a
     * connection that closes at once). */
    struct pstream *ps2;
    assert_int_equal(pstream_open(pname, &ps2), EADDRINUSE);
    struct stream *probe = accept_block(ps);
    char c;
    ssize_t r;
    while ((r = stream_recv(probe, &c, 1)) == -EAGAIN) {
        stream_wait(probe, STREAM_RECV);
        poll_block();
    }
    assert_int_equal(r, 0);
    stream_close(probe);

    stream_close(client);
    char buf[4];
    ssize_t n;
    while ((n = stream_recv(server, buf, sizeof buf)) == -EAGAIN) {
        stream_wait(server, STREAM_RECV);
        poll_block();
    }
    assert_int_equal(n, 0);     /* EOF */
    stream_close(server);
    pstream_close(ps);
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0);   /* Unlinked on close. */
    assert_int_equal(stream_open_block(pname + 1, 1000, &client), ENOENT);
    assert_int_equal(rmdir(dir), 0);
    free(path);
    free(pname);
}

static void
test_unix_long_path(void **state)
{
    char dir[] = "/tmp/lanyard-test-stream-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *sub = xasprintf("%s/%0120d", dir, 7);
    assert_int_equal(mkdir(sub, 0700), 0);
    char *pname = xasprintf("punix:%s/control.sock", sub);
    assert_true(strlen(pname) > 120);
    struct pstream *ps;
    assert_int_equal(pstream_open(pname, &ps), 0);
    struct stream *client;
    assert_int_equal(stream_open_block(pname + 1, 2000, &client), 0);
    struct stream *server = accept_block(ps);
    exchange(client, server);
    stream_close(client);
    stream_close(server);
    pstream_close(ps);
    assert_int_equal(rmdir(sub), 0);
    assert_int_equal(rmdir(dir), 0);
    free(sub);
    free(pname);
}

static void
test_tcp(void **state)
{
    struct pstream *ps;
    assert_int_equal(pstream_open("ptcp:0:127.0.0.1", &ps), 0);
    uint16_t port = pstream_get_bound_port(ps);
    assert_true(port > 0);
    char *expect = xasprintf("ptcp:%u:127.0.0.1", port);
    assert_string_equal(pstream_get_name(ps), expect);
    free(expect);

    char *name = xasprintf("tcp:127.0.0.1:%u", port);
    struct stream *client;
    assert_int_equal(stream_open(name, &client), 0);
    int error;
    while ((error = stream_connect(client)) == EAGAIN) {
        stream_wait(client, STREAM_CONNECT);
        poll_block();
    }
    assert_int_equal(error, 0);
    struct stream *server = accept_block(ps);
    assert_true(str_starts_with(stream_get_name(server), "tcp:127.0.0.1:"));
    exchange(client, server);
    stream_close(client);
    stream_close(server);
    pstream_close(ps);

    /* Nobody listens any more: refused. */
    assert_int_equal(stream_open_block(name, 2000, &client), ECONNREFUSED);
    free(name);
}

static void
test_tcp6(void **state)
{
    struct pstream *ps;
    int error = pstream_open("ptcp:0:[::1]", &ps);
    if (error == EADDRNOTAVAIL || error == EAFNOSUPPORT) {
        skip();                 /* No IPv6 loopback in this sandbox. */
    }
    assert_int_equal(error, 0);
    char *name = xasprintf("tcp:[::1]:%u", pstream_get_bound_port(ps));
    struct stream *client;
    assert_int_equal(stream_open_block(name, 2000, &client), 0);
    struct stream *server = accept_block(ps);
    assert_true(str_starts_with(stream_get_name(server), "tcp:[::1]:"));
    exchange(server, client);
    stream_close(client);
    stream_close(server);
    pstream_close(ps);
    free(name);
}

static void
test_ssl_unconfigured(void **state)
{
    struct stream *s;
    struct pstream *ps;
    assert_int_equal(stream_open("ssl:127.0.0.1:1", &s), ENOPROTOOPT);
    assert_int_equal(pstream_open("pssl:0", &ps), ENOPROTOOPT);
}

/* accept() failing with EMFILE leaves the connection pending and the
 * listener readable; the listener must rest (EAGAIN, a timer instead of the
 * fd in the poll set) rather than make its caller spin, then accept the
 * connection once descriptors are free again. */
static void
test_accept_backoff_on_emfile(void **state)
{
    char dir[] = "/tmp/lanyard-test-stream-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *pname = xasprintf("punix:%s/s.sock", dir);
    struct pstream *ps;
    assert_int_equal(pstream_open(pname, &ps), 0);
    struct stream *client;
    assert_int_equal(stream_open_block(pname + 1, 2000, &client), 0);

    /* Use up every descriptor below a lowered limit. */
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    int fillers[64];
    int n_fillers = 0;
    int top = dup(0);
    assert_true(top >= 0);
    close(top);
    struct rlimit low = { .rlim_cur = (rlim_t) top + 8, .rlim_max = old.rlim_max };
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    int fd;
    while (n_fillers < 64 && (fd = dup(0)) >= 0) {
        fillers[n_fillers++] = fd;
    }
    assert_int_equal(errno, EMFILE);

    struct stream *server;
    assert_int_equal(pstream_accept(ps, &server), EMFILE);
    assert_null(server);
    /* Resting: no retry of accept() for a while, and poll_block() must
     * return on the timer, not at once on the readable fd. */
    assert_int_equal(pstream_accept(ps, &server), EAGAIN);
    long long start = time_msec();
    pstream_wait(ps);
    poll_block();
    assert_true(time_msec() - start >= 50);

    for (int i = 0; i < n_fillers; i++) {
        close(fillers[i]);
    }
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    server = accept_block(ps);
    exchange(client, server);

    stream_close(server);
    stream_close(client);
    pstream_close(ps);
    assert_int_equal(rmdir(dir), 0);
    free(pname);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_unix),
        cmocka_unit_test(test_unix_long_path),
        cmocka_unit_test(test_tcp),
        cmocka_unit_test(test_tcp6),
        cmocka_unit_test(test_ssl_unconfigured),
        cmocka_unit_test(test_accept_backoff_on_emfile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
