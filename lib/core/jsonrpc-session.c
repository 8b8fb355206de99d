/* jsonrpc-session: reconnecting / probing wrapper around struct jsonrpc. */
#include "jsonrpc.h"

#include <errno.h>
#include <string.h>

#include "poll-loop.h"
#include "reconnect.h"
#include "stream.h"
#include "util.h"

struct jsonrpc_session {
    struct reconnect *reconnect;
    char *name;
    struct jsonrpc *rpc;
    struct stream *stream;      /* Connection in progress. */
    bool unreliable;            /* Wraps one accepted connection. */
    bool alive;
    unsigned long long last_received;
};

struct jsonrpc_session *
jsonrpc_session_open(const char *name, long long now)
{
    struct jsonrpc_session *s = xzalloc(sizeof *s);
    s->name = xstrdup(name);
    s->reconnect = reconnect_create(name, now);
    s->alive = true;
    reconnect_set_probe_interval(s->reconnect, stream_needs_probes(name)
                                 ? JSONRPC_DEFAULT_PROBE_INTERVAL : 0);
    reconnect_enable(s->reconnect, now);
    return s;
}

struct jsonrpc_session *
jsonrpc_session_open_unreliably(struct jsonrpc *rpc, int probe_interval,
                                long long now)
{
    struct jsonrpc_session *s = xzalloc(sizeof *s);
    s->name = xstrdup(jsonrpc_get_name(rpc));
    s->reconnect = reconnect_create(s->name, now);
    s->rpc = rpc;
    s->unreliable = true;
    s->alive = true;
    reconnect_set_probe_interval(s->reconnect, probe_interval);
    reconnect_set_max_tries(s->reconnect, 1);     /* Never reconnects. */
    reconnect_enable(s->reconnect, now);
    reconnect_connected(s->reconnect, now);
    return s;
}

static void
session_disconnect(struct jsonrpc_session *s)
{
    jsonrpc_close(s->rpc);
    s->rpc = NULL;
    stream_close(s->stream);
    s->stream = NULL;
}

void
jsonrpc_session_close(struct jsonrpc_session *s)
{
    if (s) {
        session_disconnect(s);
        reconnect_destroy(s->reconnect);
        free(s->name);
        free(s);
    }
}

static void
session_lost(struct jsonrpc_session *s, long long now, int error)
{
    session_disconnect(s);
    reconnect_disconnected(s->reconnect, now, error);
    if (s->unreliable) {
        s->alive = false;
    }
}

static void
session_start_connect(struct jsonrpc_session *s, long long now)
{
    int error = stream_open(s->name, &s->stream);
    if (error) {
        reconnect_connect_failed(s->reconnect, now, error);
    } else {
        reconnect_connecting(s->reconnect, now);
    }
}

void
jsonrpc_session_run(struct jsonrpc_session *s, long long now)
{
    if (s->rpc) {
        jsonrpc_run(s->rpc);
        int error = jsonrpc_get_status(s->rpc);
        if (error) {
            session_lost(s, now, error);
        }
    } else if (s->stream) {
        int error = stream_connect(s->stream);
        if (!error) {
            s->rpc = jsonrpc_open(s->stream);
            s->stream = NULL;
            s->last_received = 0;
            reconnect_connected(s->reconnect, now);
        } else if (error != EAGAIN) {
            stream_close(s->stream);
            s->stream = NULL;
            reconnect_connect_failed(s->reconnect, now, error);
        }
    }

    switch (reconnect_run(s->reconnect, now)) {
    case RECONNECT_CONNECT:
        session_disconnect(s);
        if (!s->unreliable) {
            session_start_connect(s, now);
        }
        break;
    case RECONNECT_DISCONNECT:
        if (s->rpc) {
            session_lost(s, now, ETIMEDOUT);
        } else {
            session_disconnect(s);
            reconnect_connect_failed(s->reconnect, now, ETIMEDOUT);
        }
        break;
    case RECONNECT_PROBE:
        if (s->rpc) {
            json_t *id = json_string("echo");
            jsonrpc_send(s->rpc, jsonrpc_create_request_with_id(
                             "echo", json_array(), id));
        }
        break;
    case RECONNECT_NONE:
        break;
    }
}

void
jsonrpc_session_wait(struct jsonrpc_session *s)
{
    if (s->rpc) {
        jsonrpc_wait(s->rpc);
        if (jsonrpc_get_status(s->rpc)) {
            poll_immediate_wake();
        }
    } else if (s->stream) {
        stream_run_wait(s->stream);
        stream_wait(s->stream, STREAM_CONNECT);
    }
    reconnect_wait(s->reconnect);
}

int
jsonrpc_session_send(struct jsonrpc_session *s, struct jsonrpc_msg *msg)
{
    if (!s->rpc) {
        jsonrpc_msg_destroy(msg);
        return ENOTCONN;
    }
    return jsonrpc_send(s->rpc, msg);
}

void
jsonrpc_session_cork(struct jsonrpc_session *s, bool corked)
{
    if (s->rpc) {
        jsonrpc_cork(s->rpc, corked);
    }
}

int
jsonrpc_session_send_text(struct jsonrpc_session *s, const char *text,
                          size_t size)
{
    return s->rpc ? jsonrpc_send_text(s->rpc, text, size) : ENOTCONN;
}

static bool
is_echo_reply(const struct jsonrpc_msg *msg)
{
    return msg->type == JSONRPC_REPLY && json_is_string(msg->id)
           && !strcmp(json_string_value(msg->id), "echo");
}

struct jsonrpc_msg *
jsonrpc_session_recv(struct jsonrpc_session *s, long long now)
{
    for (int i = 0; i < 50 && s->rpc; i++) {
        struct jsonrpc_msg *msg;
        int error = jsonrpc_recv(s->rpc, &msg);
        unsigned long long received = jsonrpc_get_received_bytes(s->rpc);
        if (received != s->last_received) {
            s->last_received = received;
            reconnect_activity(s->reconnect, now);
        }
        if (error) {
            return NULL;        /* jsonrpc_session_run() handles errors. */
        }
        if (msg->type == JSONRPC_REQUEST && !strcmp(msg->method, "echo")) {
            jsonrpc_send(s->rpc, jsonrpc_create_reply(
                             json_incref(msg->params), msg->id));
            jsonrpc_msg_destroy(msg);
        } else if (is_echo_reply(msg)) {
            jsonrpc_msg_destroy(msg);
        } else {
            return msg;
        }
    }
    return NULL;
}

void
jsonrpc_session_recv_wait(struct jsonrpc_session *s)
{
    if (s->rpc) {
        jsonrpc_recv_wait(s->rpc);
    }
}

bool
jsonrpc_session_is_connected(const struct jsonrpc_session *s)
{
    return s->rpc != NULL;
}

bool
jsonrpc_session_is_alive(const struct jsonrpc_session *s)
{
    return s->alive;
}

unsigned int
jsonrpc_session_get_seqno(const struct jsonrpc_session *s)
{
    return reconnect_get_seqno(s->reconnect);
}

const char *
jsonrpc_session_get_name(const struct jsonrpc_session *s)
{
    return s->name;
}

size_t
jsonrpc_session_get_backlog(const struct jsonrpc_session *s)
{
    return s->rpc ? jsonrpc_get_backlog(s->rpc) : 0;
}

struct jsonrpc *
jsonrpc_session_get_rpc(const struct jsonrpc_session *s)
{
    return s->rpc;
}

void
jsonrpc_session_set_probe_interval(struct jsonrpc_session *s,
                                   int probe_interval)
{
    reconnect_set_probe_interval(s->reconnect, probe_interval);
}

void
jsonrpc_session_set_backoff(struct jsonrpc_session *s, int min_backoff,
                            int max_backoff)
{
    reconnect_set_backoff(s->reconnect, min_backoff, max_backoff);
}

void
jsonrpc_session_force_reconnect(struct jsonrpc_session *s, long long now)
{
    reconnect_force_reconnect(s->reconnect, now);
}
