/* Tests for JSON-RPC framing and message validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "jsonrpc.h"
#include "poll-loop.h"
#include "stream.h"
#include "util.h"

/* Feeds DATA in chunks (split points given by SPLITS, sorted, may be empty)
 * and collects every value's compact serialization into OUT. */
static int
frame_all(const char *data, size_t size, const size_t *splits,
          size_t n_splits, char **out, size_t max_out, char **errorp)
{
    struct jsonrpc_framer *f = jsonrpc_framer_create(0);
    size_t n_out = 0, pos = 0;
    *errorp = NULL;
    for (size_t k = 0; k <= n_splits && !*errorp; k++) {
        size_t end = k < n_splits ? splits[k] : size;
        while (pos < end && !*errorp) {
            pos += jsonrpc_framer_feed(f, data + pos, end - pos);
            if (jsonrpc_framer_is_done(f)) {
                json_t *j = jsonrpc_framer_take(f, errorp);
                if (j) {
                    assert_true(n_out < max_out);
                    out[n_out++] = json_dumps(j, JSON_COMPACT
                                              | JSON_ENCODE_ANY);
                    json_decref(j);
                }
            }
        }
    }
    jsonrpc_framer_destroy(f);
    return (int) n_out;
}

static const char multi[] =
    "{\"id\":1,\"result\":[],\"error\":null}"
    "  {\"method\":\"echo\",\"params\":[\"a}b{\\\"]\",{\"x\":[[]]}],\"id\":\"e\"}\n"
    "[1,[2,[3]]]\"str\\\\\"{\"k\":\"\\u00e9\\\"}\"}";

static const char *const expected[] = {
    "{\"id\":1,\"result\":[],\"error\":null}",
    "{\"method\":\"echo\",\"params\":[\"a}b{\\\"]\",{\"x\":[[]]}],\"id\":\"e\"}",
    "[1,[2,[3]]]",
    "\"str\\\\\"",
    "{\"k\":\"é\\\"}\"}",
};

static void
check_values(char **out, int n)
{
    assert_int_equal(n, ARRAY_SIZE(expected));
    for (int i = 0; i < n; i++) {
        assert_string_equal(out[i], expected[i]);
        free(out[i]);
    }
}

static void
test_framer_every_split(void **state)
{
    size_t size = strlen(multi);
    char *out[8], *error;
    check_values(out, frame_all(multi, size, NULL, 0, out, 8, &error));
    assert_null(error);
    for (size_t split = 1; split < size; split++) {
        check_values(out, frame_all(multi, size, &split, 1, out, 8, &error));
        assert_null(error);
    }
    for (size_t a = 1; a < size; a += 3) {
        for (size_t b = a + 1; b < size; b += 5) {
            size_t splits[2] = { a, b };
            check_values(out, frame_all(multi, size, splits, 2, out, 8,
                                        &error));
        }
    }
    /* Byte by byte. */
    size_t *splits = xcalloc(size, sizeof *splits);
    for (size_t i = 0; i < size - 1; i++) {
        splits[i] = i + 1;
    }
    check_values(out, frame_all(multi, size, splits, size - 1, out, 8,
                                &error));
    free(splits);
}

static void
test_framer_garbage(void **state)
{
    char *out[4], *error;
    int n = frame_all("this is not json", 16, NULL, 0, out, 4, &error);
    assert_int_equal(n, 0);
    assert_non_null(error);
    free(error);

    const char *bad = "{\"method\":\"echo\",\"params\":[],\"id\":1,}";
    n = frame_all(bad, strlen(bad), NULL, 0, out, 4, &error);
    assert_int_equal(n, 0);
    assert_non_null(strstr(error, "line"));
    free(error);

    n = frame_all("}", 1, NULL, 0, out, 4, &error);
    assert_int_equal(n, 0);
    assert_non_null(error);
    free(error);

    /* Top-level numbers end at the next delimiter. */
    n = frame_all("123 [4]", 7, NULL, 0, out, 4, &error);
    assert_null(error);
    assert_int_equal(n, 2);
    assert_string_equal(out[0], "123");
    assert_string_equal(out[1], "[4]");
    free(out[0]);
    free(out[1]);
}

static void
test_framer_depth_and_size(void **state)
{
    size_t depth = JSONRPC_MAX_DEPTH + 1;
    char *deep = xmalloc(depth + 1);
    memset(deep, '[', depth);
    deep[depth] = '\0';
    char *out[2], *error;
    assert_int_equal(frame_all(deep, depth, NULL, 0, out, 2, &error), 0);
    assert_non_null(strstr(error, "nesting"));
    free(error);
    free(deep);

    struct jsonrpc_framer *f = jsonrpc_framer_create(16);
    const char *big = "{\"a\":\"0123456789abcdef\"}";
    jsonrpc_framer_feed(f, big, strlen(big));
    assert_true(jsonrpc_framer_is_done(f));
    assert_null(jsonrpc_framer_take(f, &error));
    assert_non_null(strstr(error, "maximum size"));
    free(error);
    jsonrpc_framer_destroy(f);

    /* Exactly at the limit is fine. */
    f = jsonrpc_framer_create(8);
    jsonrpc_framer_feed(f, "[\"abcd\"]", 8);
    json_t *j = jsonrpc_framer_take(f, &error);
    assert_non_null(j);
    json_decref(j);
    jsonrpc_framer_destroy(f);
}

static char *
parse_msg(const char *text, struct jsonrpc_msg **msgp)
{
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(j);
    return jsonrpc_msg_from_json(j, msgp);
}

static void
expect_error(const char *text, const char *error)
{
    struct jsonrpc_msg *msg;
    char *e = parse_msg(text, &msg);
    assert_null(msg);
    assert_non_null(e);
    assert_string_equal(e, error);
    free(e);
}

static void
test_msg_validation(void **state)
{
    struct jsonrpc_msg *msg;
    assert_null(parse_msg("{\"method\":\"echo\",\"params\":[],\"id\":1}",
                          &msg));
    assert_int_equal(msg->type, JSONRPC_REQUEST);
    assert_string_equal(msg->method, "echo");
    jsonrpc_msg_destroy(msg);

    assert_null(parse_msg("{\"method\":\"update\",\"params\":[1],"
                          "\"id\":null}", &msg));
    assert_int_equal(msg->type, JSONRPC_NOTIFY);
    assert_null(msg->id);
    jsonrpc_msg_destroy(msg);

    assert_null(parse_msg("{\"method\":\"echo\",\"params\":[]}", &msg));
    assert_int_equal(msg->type, JSONRPC_NOTIFY);
    jsonrpc_msg_destroy(msg);

    assert_null(parse_msg("{\"id\":3,\"result\":{},\"error\":null}", &msg));
    assert_int_equal(msg->type, JSONRPC_REPLY);
    jsonrpc_msg_destroy(msg);

    assert_null(parse_msg("{\"id\":7,\"error\":\"unknown method\"}", &msg));
    assert_int_equal(msg->type, JSONRPC_ERROR);
    assert_string_equal(json_string_value(msg->error), "unknown method");
    jsonrpc_msg_destroy(msg);

    assert_null(parse_msg("{\"id\":7,\"result\":null,\"error\":{}}", &msg));
    assert_int_equal(msg->type, JSONRPC_ERROR);
    jsonrpc_msg_destroy(msg);

    /* An error about an unparseable request may carry a null id. */
    assert_null(parse_msg("{\"id\":null,\"error\":\"bad\"}", &msg));
    assert_int_equal(msg->type, JSONRPC_ERROR);
    assert_true(json_is_null(msg->id));
    jsonrpc_msg_destroy(msg);

    expect_error("{\"id\":null,\"result\":1,\"error\":null}",
                 "reply must have \"id\"");
    expect_error("[1,2,3]", "message is not a JSON object");
    expect_error("{\"method\":\"echo\",\"params\":{\"a\":1},\"id\":9}",
                 "\"params\" must be JSON array");
    expect_error("{\"method\":\"echo\",\"params\":[],\"id\":1,\"x\":2}",
                 "message has unexpected member \"x\"");
    expect_error("{\"method\":1,\"params\":[],\"id\":1}",
                 "method is not a JSON string");
    expect_error("{\"method\":\"echo\",\"id\":1}",
                 "request must have \"params\"");
    expect_error("{\"result\":1}", "reply must have \"id\"");
    expect_error("{\"id\":1}", "message is not a JSON-RPC request, "
                 "notification, reply, or error");
    expect_error("{\"method\":\"m\",\"params\":[],\"result\":1,\"id\":1}",
                 "request must not have \"result\"");
}

static void
test_msg_to_json(void **state)
{
    json_t *id = json_integer(5);
    struct jsonrpc_msg *msg = jsonrpc_create_error(json_string("bad"), id);
    char *s = jsonrpc_msg_to_string(msg);
    assert_string_equal(s, "{\"error\":\"bad\",\"id\":5}");
    free(s);
    jsonrpc_msg_destroy(msg);

    msg = jsonrpc_create_reply(json_array(), id);
    s = jsonrpc_msg_to_string(msg);
    assert_string_equal(s, "{\"result\":[],\"error\":null,\"id\":5}");
    free(s);
    json_t *j = jsonrpc_msg_to_json(msg);
    struct jsonrpc_msg *back;
    assert_null(jsonrpc_msg_from_json(j, &back));
    assert_int_equal(back->type, JSONRPC_REPLY);
    assert_true(json_equal(back->id, id));
    jsonrpc_msg_destroy(back);
    json_decref(id);

    json_t *rid;
    msg = jsonrpc_create_request("list_dbs", json_array(), &rid);
    assert_true(json_is_integer(rid));
    assert_null(jsonrpc_msg_is_valid(msg));
    json_decref(rid);
    jsonrpc_msg_destroy(msg);
}

/* A jsonrpc over a unix socketpair, through the stream layer. */
static void
open_pair(struct jsonrpc **a, struct jsonrpc **b, struct pstream **ps)
{
    char path[] = "/tmp/lanyard-test-rpc-XXXXXX";
    assert_non_null(mkdtemp(path));
    char *name = xasprintf("punix:%s/sock", path);
    assert_int_equal(pstream_open(name, ps), 0);
    struct stream *client, *server;
    assert_int_equal(stream_open_block(name + 1, 1000, &client), 0);
    int error;
    for (int i = 0; (error = pstream_accept(*ps, &server)) == EAGAIN; i++) {
        assert_true(i < 1000);
        usleep(1000);
    }
    assert_int_equal(error, 0);
    *a = jsonrpc_open(client);
    *b = jsonrpc_open(server);
    free(name);
}

static void
close_pair(struct jsonrpc *a, struct jsonrpc *b, struct pstream *ps)
{
    char *dir = xstrdup(pstream_get_name(ps) + strlen("punix:"));
    *strrchr(dir, '/') = '\0';
    jsonrpc_close(a);
    jsonrpc_close(b);
    pstream_close(ps);
    assert_int_equal(rmdir(dir), 0);   /* punix unlinked its socket. */
    free(dir);
}

static void
test_rpc_roundtrip(void **state)
{
    struct jsonrpc *a, *b;
    struct pstream *ps;
    open_pair(&a, &b, &ps);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(jsonrpc_send(a, jsonrpc_create_notify(
                                          "update", json_pack("[i]", i))), 0);
    }
    for (int i = 0; i < 3; i++) {
        struct jsonrpc_msg *msg;
        assert_int_equal(jsonrpc_recv_block(b, &msg), 0);
        assert_int_equal(msg->type, JSONRPC_NOTIFY);
        assert_int_equal(json_integer_value(json_array_get(msg->params, 0)),
                         i);
        jsonrpc_msg_destroy(msg);
    }
    close_pair(a, b, ps);
}

static void
test_rpc_oversized_and_eof(void **state)
{
    struct jsonrpc *a, *b;
    struct pstream *ps;
    open_pair(&a, &b, &ps);
    jsonrpc_set_max_msg_size(b, 32);
    json_t *params = json_pack("[s]", "0123456789012345678901234567890123");
    assert_int_equal(jsonrpc_send_block(a, jsonrpc_create_notify("x", params)),
                     0);
    struct jsonrpc_msg *msg;
    assert_int_equal(jsonrpc_recv_block(b, &msg), EMSGSIZE);
    assert_non_null(strstr(jsonrpc_get_error_reason(b), "maximum size"));
    /* Sticky. */
    assert_int_equal(jsonrpc_recv(b, &msg), EMSGSIZE);
    close_pair(a, b, ps);

    open_pair(&a, &b, &ps);
    jsonrpc_close(a);
    assert_int_equal(jsonrpc_recv_block(b, &msg), EOF);
    a = NULL;
    close_pair(a, b, ps);
}

static void
echo_peer(struct jsonrpc *server)
{
    /* Answer one request from the peer with "result": its params. */
    struct jsonrpc_msg *req;
    assert_int_equal(jsonrpc_recv_block(server, &req), 0);
    jsonrpc_send(server, jsonrpc_create_notify("noise", json_array()));
    jsonrpc_send(server, jsonrpc_create_reply(json_incref(req->params),
                                              req->id));
    jsonrpc_msg_destroy(req);
}

static void
count_unrelated(struct jsonrpc_msg *msg, void *aux)
{
    int *n = aux;
    ++*n;
    jsonrpc_msg_destroy(msg);
}

static void
test_rpc_transact(void **state)
{
    struct jsonrpc *a, *b;
    struct pstream *ps;
    open_pair(&a, &b, &ps);
    /* Queue the request, let the "server" answer, then transact picks up
     * the reply after skipping the notification. */
    json_t *id = json_string("t1");
    struct jsonrpc_msg *req = jsonrpc_create_request_with_id(
        "echo", json_pack("[s]", "hi"), id);
    /* Pre-send so the peer can answer before we block. */
    jsonrpc_send_block(a, jsonrpc_create_notify("pre", json_array()));
    struct jsonrpc_msg *pre;
    assert_int_equal(jsonrpc_recv_block(b, &pre), 0);
    jsonrpc_msg_destroy(pre);
    assert_int_equal(jsonrpc_send_block(a, req), 0);
    echo_peer(b);
    jsonrpc_run(b);
    int n_unrelated = 0;
    struct jsonrpc_msg *reply;
    /* The request was already sent; transact with a fresh copy of the
     * same id simply waits for the matching reply. */
    struct jsonrpc_msg *again = jsonrpc_create_notify("ignored", json_array());
    again->type = JSONRPC_REQUEST;
    again->id = json_string("t1");
    /* Peer will not answer 'again'; the earlier reply matches its id. */
    assert_int_equal(jsonrpc_transact_block_cb(a, again, &reply,
                                               count_unrelated,
                                               &n_unrelated), 0);
    assert_int_equal(n_unrelated, 1);
    assert_int_equal(reply->type, JSONRPC_REPLY);
    assert_string_equal(json_string_value(json_array_get(reply->result, 0)),
                        "hi");
    jsonrpc_msg_destroy(reply);
    close_pair(a, b, ps);
}

static void
test_rpc_backlog(void **state)
{
    struct jsonrpc *a, *b;
    struct pstream *ps;
    open_pair(&a, &b, &ps);
    /* Nobody reads 'b': the backlog grows beyond the socket buffers. */
    char *big = xmalloc(65537);
    memset(big, 'x', 65536);
    big[65536] = '\0';
    for (int i = 0; i < 64; i++) {
        jsonrpc_send(a, jsonrpc_create_notify("bulk",
                                              json_pack("[s]", big)));
    }
    assert_true(jsonrpc_get_backlog(a) > 0);
    free(big);
    close_pair(a, b, ps);
}

/* Runs both sessions (client at fake time NOW) until COND holds. */
#define PUMP(CLIENT, SERVER, NOW, COND)                                     \
    for (int i_ = 0; !(COND); i_++) {                                       \
        assert_true(i_ < 200);                                              \
        jsonrpc_session_run(CLIENT, NOW);                                   \
        jsonrpc_msg_destroy(jsonrpc_session_recv(CLIENT, NOW));             \
        if (SERVER) {                                                       \
            jsonrpc_session_run(SERVER, NOW);                               \
        }                                                                   \
        poll_timer_wait(10);                                                \
        poll_block();                                                       \
    }

static void
test_session(void **state)
{
    char dir[] = "/tmp/lanyard-test-session-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *pname = xasprintf("punix:%s/db.sock", dir);
    struct pstream *ps;
    assert_int_equal(pstream_open(pname, &ps), 0);

    long long now = 1000000;
    struct jsonrpc_session *client = jsonrpc_session_open(pname + 1, now);
    struct jsonrpc_session *server = NULL;
    PUMP(client, server, now, jsonrpc_session_is_connected(client));
    unsigned int seqno = jsonrpc_session_get_seqno(client);

    struct stream *stream;
    assert_int_equal(pstream_accept(ps, &stream), 0);
    server = jsonrpc_session_open_unreliably(jsonrpc_open(stream), 5000, now);

    /* Application traffic flows; echo requests are answered inside
     * jsonrpc_session_recv() and never surface. */
    assert_int_equal(jsonrpc_session_send(
                         client, jsonrpc_create_notify("hello",
                                                       json_array())), 0);
    struct jsonrpc_msg *msg = NULL;
    PUMP(client, server, now, (msg = jsonrpc_session_recv(server, now)));
    assert_string_equal(msg->method, "hello");
    jsonrpc_msg_destroy(msg);

    /* Idle for the probe interval: the server probes, the client answers
     * (inside its recv), and the server stays connected. */
    now += 5000;
    jsonrpc_session_run(server, now);
    for (int i = 0; i < 20; i++) {
        assert_null(jsonrpc_session_recv(client, now));
        jsonrpc_session_run(client, now);
        assert_null(jsonrpc_session_recv(server, now));
        jsonrpc_session_run(server, now);
        poll_timer_wait(5);
        poll_block();
    }
    now += 5000;
    jsonrpc_session_run(server, now);
    assert_true(jsonrpc_session_is_alive(server));

    /* Now the client goes silent: probe, then disconnect. */
    now += 5000;
    jsonrpc_session_run(server, now);
    now += 5000;
    jsonrpc_session_run(server, now);
    assert_false(jsonrpc_session_is_alive(server));
    assert_false(jsonrpc_session_is_connected(server));

    /* The client notices and reconnects after its backoff. */
    PUMP(client, NULL, now, !jsonrpc_session_is_connected(client));
    assert_int_not_equal(jsonrpc_session_get_seqno(client), seqno);
    now += 8000;
    PUMP(client, NULL, now, jsonrpc_session_is_connected(client));
    assert_int_equal(pstream_accept(ps, &stream), 0);
    stream_close(stream);

    assert_int_equal(jsonrpc_session_send(server, jsonrpc_create_notify(
                                              "x", json_array())), ENOTCONN);
    jsonrpc_session_close(server);
    jsonrpc_session_close(client);
    pstream_close(ps);
    assert_int_equal(rmdir(dir), 0);
    free(pname);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framer_every_split),
        cmocka_unit_test(test_framer_garbage),
        cmocka_unit_test(test_framer_depth_and_size),
        cmocka_unit_test(test_msg_validation),
        cmocka_unit_test(test_msg_to_json),
        cmocka_unit_test(test_rpc_roundtrip),
        cmocka_unit_test(test_rpc_oversized_and_eof),
        cmocka_unit_test(test_rpc_transact),
        cmocka_unit_test(test_rpc_backlog),
        cmocka_unit_test(test_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
