/* TLS streams: a CA signs two certificates (made with the openssl tool),
 * client and server verify each other; a peer with a certificate from
 * another CA is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "poll-loop.h"
#include "stream.h"
#include "util.h"

static char dir[] = "/tmp/lanyard-test-ssl-XXXXXX";

static void run(const char *fmt, ...) PRINTF_FORMAT(1, 2);

static void
run(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    char *cmd = xvasprintf(fmt, args);
    va_end(args);
    char *full = xasprintf("cd %s && (%s) >/dev/null 2>&1", dir, cmd);
    assert_int_equal(system(full), 0);
    free(full);
    free(cmd);
}

static void
make_ca(const char *name)
{
    run("openssl req -x509 -newkey rsa:2048 -nodes -keyout %s-key.pem "
        "-out %s-cert.pem -days 2 -subj /CN=%s", name, name, name);
}

static void
make_cert(const char *ca, const char *name)
{
    run("openssl req -newkey rsa:2048 -nodes -keyout %s-key.pem -out %s.csr "
        "-subj /CN=%s && openssl x509 -req -in %s.csr -CA %s-cert.pem "
        "-CAkey %s-key.pem -CAcreateserial -out %s-cert.pem -days 2",
        name, name, name, name, ca, ca, name);
}

static char *
path(const char *file)
{
    return xasprintf("%s/%s", dir, file);
}

/* Drives both handshakes; returns the client's connect result. */
static int
handshake(struct stream *client, struct stream *server, int *server_error)
{
    int c = EAGAIN, s = EAGAIN;
    long long deadline = time_msec() + 5000;
    while ((c == EAGAIN || s == EAGAIN) && time_msec() < deadline) {
        if (c == EAGAIN) {
            c = stream_connect(client);
        }
        if (s == EAGAIN) {
            s = stream_connect(server);
        }
        if (c == EAGAIN) {
            stream_wait(client, STREAM_CONNECT);
        }
        if (s == EAGAIN) {
            stream_wait(server, STREAM_CONNECT);
        }
        poll_timer_wait(100);
        poll_block();
    }
    *server_error = s;
    return c;
}

static struct stream *
accept_block(struct pstream *ps)
{
    struct stream *s;
    int error;
    while ((error = pstream_accept(ps, &s)) == EAGAIN) {
        pstream_wait(ps);
        poll_block();
    }
    assert_int_equal(error, 0);
    return s;
}

static void
test_ssl(void **state)
{
    if (system("openssl version >/dev/null 2>&1")) {
        skip();
    }
    assert_non_null(mkdtemp(dir));
    make_ca("ca");
    make_cert("ca", "peer");
    make_ca("evil");
    make_cert("evil", "mallory");

    char *key = path("peer-key.pem"), *cert = path("peer-cert.pem");
    char *ca = path("ca-cert.pem");
    assert_int_equal(stream_ssl_set_key_and_cert(key, cert), 0);
    assert_int_equal(stream_ssl_set_ca_cert_file(ca), 0);
    assert_true(stream_ssl_is_configured());

    struct pstream *ps;
    assert_int_equal(pstream_open("pssl:0:127.0.0.1", &ps), 0);
    assert_true(str_starts_with(pstream_get_name(ps), "pssl:"));
    char *name = xasprintf("ssl:127.0.0.1:%u", pstream_get_bound_port(ps));
    struct stream *client;
    assert_int_equal(stream_open(name, &client), 0);
    struct stream *server = accept_block(ps);
    int server_error;
    assert_int_equal(handshake(client, server, &server_error), 0);
    assert_int_equal(server_error, 0);

    assert_int_equal(stream_send(client, "ping", 4), 4);
    char buf[8];
    ssize_t n;
    while ((n = stream_recv(server, buf, sizeof buf)) == -EAGAIN) {
        stream_wait(server, STREAM_RECV);
        poll_block();
    }
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "ping", 4);
    stream_close(client);
    while ((n = stream_recv(server, buf, sizeof buf)) == -EAGAIN) {
        stream_wait(server, STREAM_RECV);
        poll_block();
    }
    assert_true(n <= 0);
    stream_close(server);

    /* A client whose certificate comes from another CA is rejected. */
    char *mkey = path("mallory-key.pem"), *mcert = path("mallory-cert.pem");
    assert_int_equal(stream_ssl_set_key_and_cert(mkey, mcert), 0);
    assert_int_equal(stream_open(name, &client), 0);
    server = accept_block(ps);
    /* Both contexts are process-wide, so the server now presents the
     * mallory certificate too: each side refuses the other. */
    handshake(client, server, &server_error);
    assert_int_not_equal(server_error, 0);
    assert_int_not_equal(server_error, EAGAIN);
    stream_close(client);
    stream_close(server);
    pstream_close(ps);

    run("rm -f *.pem *.csr *.srl");
    assert_int_equal(rmdir(dir), 0);
    free(name);
    free(key);
    free(cert);
    free(ca);
    free(mkey);
    free(mcert);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ssl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
