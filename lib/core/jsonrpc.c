/* jsonrpc: messages, stream framing and connections. */
#include "jsonrpc.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ds.h"
#include "jsonrpc-text.h"
#include "list.h"
#include "poll-loop.h"
#include "stream.h"
#include "util.h"
#include "vlog.h"

VLOG_DEFINE_THIS_MODULE(jsonrpc);

/* ---- Messages ---- */

const char *
jsonrpc_msg_type_to_string(enum jsonrpc_msg_type type)
{
    switch (type) {
    case JSONRPC_REQUEST: return "request";
    case JSONRPC_NOTIFY: return "notification";
    case JSONRPC_REPLY: return "reply";
    case JSONRPC_ERROR: return "error";
    }
    return "<invalid>";
}

static struct jsonrpc_msg *
msg_create(enum jsonrpc_msg_type type, const char *method, json_t *params,
           json_t *result, json_t *error, json_t *id)
{
    struct jsonrpc_msg *msg = xzalloc(sizeof *msg);
    msg->type = type;
    msg->method = method ? xstrdup(method) : NULL;
    msg->params = params;
    msg->result = result;
    msg->error = error;
    msg->id = id;
    return msg;
}

struct jsonrpc_msg *
jsonrpc_create_request_with_id(const char *method, json_t *params, json_t *id)
{
    return msg_create(JSONRPC_REQUEST, method, params, NULL, NULL, id);
}

struct jsonrpc_msg *
jsonrpc_create_request(const char *method, json_t *params, json_t **idp)
{
    static _Thread_local json_int_t next_id;
    json_t *id = json_integer(next_id++);
    if (idp) {
        *idp = json_incref(id);
    }
    return jsonrpc_create_request_with_id(method, params, id);
}

struct jsonrpc_msg *
jsonrpc_create_notify(const char *method, json_t *params)
{
    return msg_create(JSONRPC_NOTIFY, method, params, NULL, NULL, NULL);
}

struct jsonrpc_msg *
jsonrpc_create_reply(json_t *result, const json_t *id)
{
    return msg_create(JSONRPC_REPLY, NULL, NULL, result, NULL,
                      json_incref((json_t *) id));
}

struct jsonrpc_msg *
jsonrpc_create_error(json_t *error, const json_t *id)
{
    return msg_create(JSONRPC_ERROR, NULL, NULL, NULL, error,
                      json_incref((json_t *) id));
}

void
jsonrpc_msg_destroy(struct jsonrpc_msg *msg)
{
    if (msg) {
        free(msg->method);
        json_decref(msg->params);
        json_decref(msg->result);
        json_decref(msg->error);
        json_decref(msg->id);
        free(msg);
    }
}

char *
jsonrpc_msg_is_valid(const struct jsonrpc_msg *m)
{
    bool want_method = m->type == JSONRPC_REQUEST
                       || m->type == JSONRPC_NOTIFY;
    if (want_method != (m->method != NULL)) {
        return xasprintf("%s must%s have \"method\"",
                         jsonrpc_msg_type_to_string(m->type),
                         want_method ? "" : " not");
    }
    if (want_method != (m->params != NULL)) {
        return xasprintf("%s must%s have \"params\"",
                         jsonrpc_msg_type_to_string(m->type),
                         want_method ? "" : " not");
    }
    if (m->params && !json_is_array(m->params)) {
        return xstrdup("\"params\" must be JSON array");
    }
    if ((m->type == JSONRPC_REPLY) != (m->result != NULL)) {
        return xasprintf("%s must%s have \"result\"",
                         jsonrpc_msg_type_to_string(m->type),
                         m->type == JSONRPC_REPLY ? "" : " not");
    }
    if ((m->type == JSONRPC_ERROR) != (m->error != NULL)) {
        return xasprintf("%s must%s have \"error\"",
                         jsonrpc_msg_type_to_string(m->type),
                         m->type == JSONRPC_ERROR ? "" : " not");
    }
    if (m->error && json_is_null(m->error)) {
        return xstrdup("\"error\" must not be null in an error message");
    }
    bool want_id = m->type != JSONRPC_NOTIFY;
    if (want_id != (m->id != NULL)) {
        return xasprintf("%s must%s have \"id\"",
                         jsonrpc_msg_type_to_string(m->type),
                         want_id ? "" : " not");
    }
    return NULL;
}

/* Removes member NAME from OBJECT and returns it (owned), or NULL. */
static json_t *
steal_member(json_t *object, const char *name)
{
    json_t *value = json_object_get(object, name);
    if (value) {
        json_incref(value);
        json_object_del(object, name);
    }
    return value;
}

char *
jsonrpc_msg_from_json(json_t *json, struct jsonrpc_msg **msgp)
{
    *msgp = NULL;
    if (!json_is_object(json)) {
        json_decref(json);
        return xstrdup("message is not a JSON object");
    }
    json_t *method = steal_member(json, "method");
    json_t *params = steal_member(json, "params");
    json_t *result = steal_member(json, "result");
    json_t *error = steal_member(json, "error");
    json_t *id = steal_member(json, "id");
    char *problem = NULL;
    const char *extra = json_object_iter_key(json_object_iter(json));

    if (extra) {
        problem = xasprintf("message has unexpected member \"%s\"", extra);
    } else if (method && !json_is_string(method)) {
        problem = xstrdup("method is not a JSON string");
    }
    if (problem) {
        goto out;
    }

    enum jsonrpc_msg_type type;
    /* A null id makes a notification; a null error means "no error". */
    if (id && json_is_null(id) && !(error && !json_is_null(error))) {
        json_decref(id);
        id = NULL;
    }
    if (method) {
        type = id ? JSONRPC_REQUEST : JSONRPC_NOTIFY;
        if (error && json_is_null(error)) {
            json_decref(error);
            error = NULL;
        }
    } else if (error && !json_is_null(error)) {
        type = JSONRPC_ERROR;
        if (result && json_is_null(result)) {
            json_decref(result);
            result = NULL;
        }
    } else if (result) {
        type = JSONRPC_REPLY;
        json_decref(error);
        error = NULL;
    } else {
        problem = xstrdup("message is not a JSON-RPC request, notification, "
                          "reply, or error");
        goto out;
    }
    struct jsonrpc_msg *msg = msg_create(type, NULL, params, result, error,
                                         id);
    msg->method = method ? xstrdup(json_string_value(method)) : NULL;
    params = result = error = id = NULL;
    problem = jsonrpc_msg_is_valid(msg);
    if (problem) {
        jsonrpc_msg_destroy(msg);
    } else {
        *msgp = msg;
    }

out:
    json_decref(method);
    json_decref(params);
    json_decref(result);
    json_decref(error);
    json_decref(id);
    json_decref(json);
    return problem;
}

static json_t *
msg_build_json(const struct jsonrpc_msg *m)
{
    json_t *json = json_object();
    if (m->method) {
        json_object_set_new(json, "method", json_string(m->method));
    }
    if (m->params) {
        json_object_set(json, "params", m->params);
    }
    if (m->result) {
        json_object_set(json, "result", m->result);
    }
    if (m->type == JSONRPC_REPLY) {
        json_object_set_new(json, "error", json_null());
    }
    if (m->error) {
        json_object_set(json, "error", m->error);
    }
    json_object_set(json, "id", m->id ? m->id : json_null());
    return json;
}

json_t *
jsonrpc_msg_to_json(struct jsonrpc_msg *m)
{
    json_t *json = msg_build_json(m);
    jsonrpc_msg_destroy(m);
    return json;
}

/* Appends M's compact text to OUT, members in msg_build_json()'s order,
 * without building the envelope object.  Strings that are not UTF-8 (a
 * peer's own bytes, echoed in an id or an error) go back verbatim, as Open
 * vSwitch sends them (see jsonrpc-text.h). */
static void
msg_put_text(const struct jsonrpc_msg *m, struct ds *out)
{
    const unsigned int flags = JSONRPC_TEXT_VERBATIM;
    bool ok = true;
    ds_put_char(out, '{');
    if (m->method) {
        ds_put_cstr(out, "\"method\":");
        ok = jsonrpc_text_put_string_flags(out, m->method, strlen(m->method),
                                           flags);
        ds_put_char(out, ',');
    }
    if (m->params) {
        ds_put_cstr(out, "\"params\":");
        ok = ok && jsonrpc_text_put_flags(out, m->params, flags);
        ds_put_char(out, ',');
    }
    if (m->result) {
        ds_put_cstr(out, "\"result\":");
        ok = ok && jsonrpc_text_put_flags(out, m->result, flags);
        ds_put_char(out, ',');
    }
    if (m->type == JSONRPC_REPLY) {
        ds_put_cstr(out, "\"error\":null,");
    }
    if (m->error) {
        ds_put_cstr(out, "\"error\":");
        ok = ok && jsonrpc_text_put_flags(out, m->error, flags);
        ds_put_char(out, ',');
    }
    ds_put_cstr(out, "\"id\":");
    if (m->id) {
        ok = ok && jsonrpc_text_put_flags(out, m->id, flags);
    } else {
        ds_put_cstr(out, "null");
    }
    ds_put_char(out, '}');
    if (!ok) {
        /* Only nesting deeper than any parser here produces can fail. */
        fatal("cannot serialize a JSON-RPC message");
    }
}

char *
jsonrpc_msg_to_string(const struct jsonrpc_msg *m)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    msg_put_text(m, &text);
    return ds_steal_cstr(&text);
}

/* ---- Framing ---- */

enum framer_state {
    FRAMER_IDLE,                /* Between values (skipping whitespace). */
    FRAMER_VALUE,               /* Inside an object/array or a string. */
    FRAMER_BAREWORD,            /* A top-level number or literal. */
    FRAMER_DONE,
    FRAMER_ERROR
};

struct jsonrpc_framer {
    size_t max_size;
    enum framer_state state;
    char *buf;
    size_t len, allocated;
    size_t depth;               /* Open objects/arrays. */
    bool in_string, escape;
    char *error;
    struct jsonrpc_text_parser *parser;
};

struct jsonrpc_framer *
jsonrpc_framer_create(size_t max_size)
{
    struct jsonrpc_framer *f = xzalloc(sizeof *f);
    f->max_size = max_size ? max_size : JSONRPC_DEFAULT_MAX_MSG_SIZE;
    f->parser = jsonrpc_text_parser_create();
    /* Peers are Open vSwitch programs: take their strings as they take
     * ours (see jsonrpc-text.h). */
    jsonrpc_text_parser_set_ovs_strings(f->parser, true);
    return f;
}

void
jsonrpc_framer_destroy(struct jsonrpc_framer *f)
{
    if (f) {
        free(f->buf);
        free(f->error);
        jsonrpc_text_parser_destroy(f->parser);
        free(f);
    }
}

static void
framer_fail(struct jsonrpc_framer *f, char *error)
{
    f->state = FRAMER_ERROR;
    free(f->error);
    f->error = error;
}

static bool
is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool
ends_bareword(char c)
{
    return is_json_space(c) || strchr("{}[]\",:", c) != NULL;
}

/* Scans one byte inside an object, array or top-level string. */
static void
framer_scan_value_byte(struct jsonrpc_framer *f, char c)
{
    if (f->in_string) {
        if (f->escape) {
            f->escape = false;
        } else if (c == '\\') {
            f->escape = true;
        } else if (c == '"') {
            f->in_string = false;
            if (!f->depth) {
                f->state = FRAMER_DONE;
            }
        }
    } else if (c == '"') {
        f->in_string = true;
    } else if (c == '{' || c == '[') {
        if (++f->depth > JSONRPC_MAX_DEPTH) {
            framer_fail(f, xasprintf("JSON nesting exceeds %d levels",
                                     JSONRPC_MAX_DEPTH));
        }
    } else if (c == '}' || c == ']') {
        if (!--f->depth) {
            f->state = FRAMER_DONE;
        }
    }
}

size_t
jsonrpc_framer_feed(struct jsonrpc_framer *f, const void *data_, size_t size)
{
    const char *data = data_;
    size_t i = 0;

    if (f->state == FRAMER_IDLE) {
        while (i < size && is_json_space(data[i])) {
            i++;
        }
        if (i == size) {
            return i;
        }
        char c = data[i];
        f->depth = 0;
        f->in_string = f->escape = false;
        f->state = c == '{' || c == '[' || c == '"' ? FRAMER_VALUE
                   : FRAMER_BAREWORD;
    }

    size_t start = i;
    if (f->state == FRAMER_VALUE) {
        while (i < size && f->state == FRAMER_VALUE) {
            /* Most bytes of a big message are inside strings (uuids,
             * names): skip those runs without the state machine. */
            if (f->in_string && !f->escape) {
                while (i < size && data[i] != '"' && data[i] != '\\') {
                    i++;
                }
                if (i == size) {
                    break;
                }
            }
            framer_scan_value_byte(f, data[i++]);
        }
    } else if (f->state == FRAMER_BAREWORD) {
        /* A stray closing bracket or separator is an error on its own. */
        if (!f->len && i < size && ends_bareword(data[i])) {
            i++;
            f->state = FRAMER_DONE;
        } else {
            while (i < size && !ends_bareword(data[i])) {
                i++;
            }
            if (i < size) {
                f->state = FRAMER_DONE;
            }
        }
    }

    size_t n = i - start;
    if (n && f->state != FRAMER_ERROR) {
        if (f->len + n > f->max_size) {
            framer_fail(f, xasprintf("message exceeds maximum size of %zu "
                                     "bytes", f->max_size));
        } else {
            if (f->len + n > f->allocated) {
                f->allocated = MAX(f->len + n, MIN(f->max_size,
                                                   2 * f->allocated + 64));
                f->buf = xrealloc(f->buf, f->allocated);
            }
            memcpy(f->buf + f->len, data + start, n);
            f->len += n;
        }
    }
    return i;
}

bool
jsonrpc_framer_is_done(const struct jsonrpc_framer *f)
{
    return f->state == FRAMER_DONE || f->state == FRAMER_ERROR;
}

bool
jsonrpc_framer_is_idle(const struct jsonrpc_framer *f)
{
    return f->state == FRAMER_IDLE;
}

json_t *
jsonrpc_framer_take(struct jsonrpc_framer *f, char **errorp)
{
    *errorp = NULL;
    if (f->state == FRAMER_ERROR) {
        *errorp = xstrdup(f->error);
        return NULL;
    }
    if (f->state != FRAMER_DONE) {
        *errorp = xstrdup("incomplete JSON value");
        return NULL;
    }
    char *error;
    json_t *json = jsonrpc_text_parse(f->parser, f->buf, f->len, &error);
    if (!json) {
        framer_fail(f, error);
        *errorp = xstrdup(f->error);
        return NULL;
    }
    f->len = 0;
    f->state = FRAMER_IDLE;
    /* Do not hold on to the memory of one huge message forever. */
    if (f->allocated > 65536) {
        free(f->buf);
        f->buf = NULL;
        f->allocated = 0;
    }
    return json;
}

/* ---- Connections ---- */

/* Bytes read per recv(); big transactions (a 10,000-member set is ~0.5 MB)
 * take fewer system calls with a larger buffer. */
#define JSONRPC_INPUT_SIZE 16384

struct jsonrpc {
    struct stream *stream;
    char *name;
    int status;
    char *error_reason;
    struct jsonrpc_framer *framer;
    char input[JSONRPC_INPUT_SIZE];
    size_t input_ofs, input_len;
    /* Output: the serialized messages back to back, sent from 'output_ofs'
     * on, so that many replies leave in one send(). */
    struct ds output;
    size_t output_ofs;
    size_t backlog;
    bool corked;                /* See jsonrpc_cork(). */
    unsigned long long received;
};

struct jsonrpc *
jsonrpc_open(struct stream *stream)
{
    struct jsonrpc *rpc = xzalloc(sizeof *rpc);
    rpc->stream = stream;
    rpc->name = xstrdup(stream_get_name(stream));
    rpc->framer = jsonrpc_framer_create(0);
    ds_init(&rpc->output);
    return rpc;
}

static void
clear_output(struct jsonrpc *rpc)
{
    /* Do not keep the memory of a burst (a big initial monitor reply). */
    if (rpc->output.allocated > 256 * 1024) {
        ds_destroy(&rpc->output);
    } else {
        ds_clear(&rpc->output);
    }
    rpc->output_ofs = 0;
    rpc->backlog = 0;
}

void
jsonrpc_close(struct jsonrpc *rpc)
{
    if (rpc) {
        ds_destroy(&rpc->output);
        stream_close(rpc->stream);
        jsonrpc_framer_destroy(rpc->framer);
        free(rpc->error_reason);
        free(rpc->name);
        free(rpc);
    }
}

void
jsonrpc_set_max_msg_size(struct jsonrpc *rpc, size_t max_size)
{
    jsonrpc_framer_destroy(rpc->framer);
    rpc->framer = jsonrpc_framer_create(max_size);
}

static void
jsonrpc_error(struct jsonrpc *rpc, int error, char *reason)
{
    if (!rpc->status) {
        rpc->status = error;
        rpc->error_reason = reason;
        clear_output(rpc);
    } else {
        free(reason);
    }
}

void
jsonrpc_run(struct jsonrpc *rpc)
{
    if (rpc->status) {
        return;
    }
    stream_run(rpc->stream);
    while (rpc->backlog) {
        ssize_t n = stream_send(rpc->stream,
                                rpc->output.string + rpc->output_ofs,
                                rpc->backlog);
        if (n == -EAGAIN) {
            break;
        } else if (n < 0) {
            VLOG_WARN("%s: send error: %s", rpc->name, strerror(-n));
            jsonrpc_error(rpc, -n, xasprintf("send error: %s", strerror(-n)));
            return;
        }
        rpc->output_ofs += n;
        rpc->backlog -= n;
    }
    if (!rpc->backlog) {
        clear_output(rpc);
    } else if (rpc->output_ofs >= 65536 && rpc->output_ofs > rpc->backlog) {
        /* A slow reader: drop what was sent rather than grow forever. */
        memmove(rpc->output.string, rpc->output.string + rpc->output_ofs,
                rpc->backlog);
        ds_truncate(&rpc->output, rpc->backlog);
        rpc->output_ofs = 0;
    }
}

void
jsonrpc_wait(struct jsonrpc *rpc)
{
    if (!rpc->status) {
        stream_run_wait(rpc->stream);
        if (rpc->backlog) {
            stream_wait(rpc->stream, STREAM_SEND);
        }
    }
}

int
jsonrpc_get_status(const struct jsonrpc *rpc)
{
    return rpc->status;
}

size_t
jsonrpc_get_backlog(const struct jsonrpc *rpc)
{
    return rpc->status ? 0 : rpc->backlog;
}

unsigned long long
jsonrpc_get_received_bytes(const struct jsonrpc *rpc)
{
    return rpc->received;
}

const char *
jsonrpc_get_name(const struct jsonrpc *rpc)
{
    return rpc->name;
}

const char *
jsonrpc_get_error_reason(const struct jsonrpc *rpc)
{
    return rpc->error_reason;
}

static int output_appended(struct jsonrpc *, size_t start);

int
jsonrpc_send(struct jsonrpc *rpc, struct jsonrpc_msg *msg)
{
    if (rpc->status) {
        jsonrpc_msg_destroy(msg);
        return rpc->status;
    }
    size_t start = rpc->output.length;
    msg_put_text(msg, &rpc->output);
    jsonrpc_msg_destroy(msg);
    return output_appended(rpc, start);
}

/* Accounts for the bytes appended to the output since START and sends them
 * at once if nothing was waiting before. */
static int
output_appended(struct jsonrpc *rpc, size_t start)
{
    size_t size = rpc->output.length - start;
    if (vlog_is_enabled(this_module, VLL_DBG)) {
        VLOG_DBG("%s: send %.*s", rpc->name, (int) MIN(size, INT_MAX),
                 rpc->output.string + start);
    }
    bool was_empty = !rpc->backlog;
    rpc->backlog += size;
    if (was_empty && !rpc->corked) {
        jsonrpc_run(rpc);
    }
    return rpc->status;
}

void
jsonrpc_cork(struct jsonrpc *rpc, bool corked)
{
    rpc->corked = corked;
    if (!corked) {
        jsonrpc_run(rpc);
    }
}

int
jsonrpc_send_text(struct jsonrpc *rpc, const char *text, size_t size)
{
    if (rpc->status) {
        return rpc->status;
    }
    size_t start = rpc->output.length;
    ds_put_buffer(&rpc->output, text, size);
    return output_appended(rpc, start);
}

/* Feeds buffered input to the framer; returns 0 with *MSGP set when a
 * message is complete, EAGAIN if more input is needed, or an error. */
static int
jsonrpc_parse_input(struct jsonrpc *rpc, struct jsonrpc_msg **msgp)
{
    while (rpc->input_len) {
        size_t n = jsonrpc_framer_feed(rpc->framer,
                                       rpc->input + rpc->input_ofs,
                                       rpc->input_len);
        rpc->input_ofs += n;
        rpc->input_len -= n;
        if (!jsonrpc_framer_is_done(rpc->framer)) {
            continue;
        }
        char *error;
        json_t *json = jsonrpc_framer_take(rpc->framer, &error);
        if (!json) {
            VLOG_WARN("%s: error parsing stream: %s", rpc->name, error);
            int code = strstr(error, "maximum size") ? EMSGSIZE : EPROTO;
            jsonrpc_error(rpc, code, xasprintf("error parsing stream: %s",
                                               error));
            free(error);
            return code;
        }
        error = jsonrpc_msg_from_json(json, msgp);
        if (error) {
            VLOG_WARN("%s: received bad JSON-RPC message: %s", rpc->name,
                      error);
            jsonrpc_error(rpc, EPROTO,
                          xasprintf("received bad JSON-RPC message: %s",
                                    error));
            free(error);
            return EPROTO;
        }
        if (vlog_is_enabled(this_module, VLL_DBG)) {
            char *text = jsonrpc_msg_to_string(*msgp);
            VLOG_DBG("%s: received %s %s", rpc->name,
                     jsonrpc_msg_type_to_string((*msgp)->type), text);
            free(text);
        }
        return 0;
    }
    return EAGAIN;
}

int
jsonrpc_recv(struct jsonrpc *rpc, struct jsonrpc_msg **msgp)
{
    *msgp = NULL;
    for (int i = 0; i < 50; i++) {
        if (rpc->status) {
            return rpc->status;
        }
        int error = jsonrpc_parse_input(rpc, msgp);
        if (error != EAGAIN) {
            return error;
        }
        ssize_t n = stream_recv(rpc->stream, rpc->input, sizeof rpc->input);
        if (n == -EAGAIN) {
            return EAGAIN;
        } else if (n < 0) {
            VLOG_WARN("%s: receive error: %s", rpc->name, strerror(-n));
            jsonrpc_error(rpc, -n, xasprintf("receive error: %s",
                                             strerror(-n)));
        } else if (n == 0) {
            if (jsonrpc_framer_is_idle(rpc->framer)) {
                jsonrpc_error(rpc, EOF, xstrdup("end of stream"));
            } else {
                VLOG_WARN("%s: unexpected end of stream inside a JSON value",
                          rpc->name);
                jsonrpc_error(rpc, EPROTO, xstrdup("unexpected end of "
                                                   "stream inside a JSON "
                                                   "value"));
            }
        } else {
            rpc->input_ofs = 0;
            rpc->input_len = n;
            rpc->received += n;
        }
    }
    return EAGAIN;
}

void
jsonrpc_recv_wait(struct jsonrpc *rpc)
{
    if (rpc->status || rpc->input_len) {
        poll_immediate_wake();
    } else {
        stream_wait(rpc->stream, STREAM_RECV);
    }
}

int
jsonrpc_send_block(struct jsonrpc *rpc, struct jsonrpc_msg *msg)
{
    int error = jsonrpc_send(rpc, msg);
    while (!error && rpc->backlog) {
        jsonrpc_run(rpc);
        error = rpc->status;
        if (!error && rpc->backlog) {
            jsonrpc_wait(rpc);
            poll_block();
        }
    }
    return error;
}

int
jsonrpc_recv_block(struct jsonrpc *rpc, struct jsonrpc_msg **msgp)
{
    for (;;) {
        int error = jsonrpc_recv(rpc, msgp);
        if (error != EAGAIN) {
            return error;
        }
        jsonrpc_run(rpc);
        jsonrpc_wait(rpc);
        jsonrpc_recv_wait(rpc);
        poll_block();
    }
}

int
jsonrpc_transact_block_cb(struct jsonrpc *rpc, struct jsonrpc_msg *request,
                          struct jsonrpc_msg **replyp,
                          void (*unrelated_cb)(struct jsonrpc_msg *, void *),
                          void *aux)
{
    *replyp = NULL;
    json_t *id = json_incref(request->id);
    int error = jsonrpc_send_block(rpc, request);
    while (!error) {
        struct jsonrpc_msg *msg;
        error = jsonrpc_recv_block(rpc, &msg);
        if (error) {
            break;
        }
        if ((msg->type == JSONRPC_REPLY || msg->type == JSONRPC_ERROR)
            && id && json_equal(msg->id, id)) {
            *replyp = msg;
            break;
        }
        if (msg->type == JSONRPC_REQUEST && !strcmp(msg->method, "echo")) {
            error = jsonrpc_send(rpc, jsonrpc_create_reply(
                                     json_incref(msg->params), msg->id));
            jsonrpc_msg_destroy(msg);
        } else if (unrelated_cb) {
            unrelated_cb(msg, aux);
        } else {
            jsonrpc_msg_destroy(msg);
        }
    }
    json_decref(id);
    return error;
}

int
jsonrpc_transact_block(struct jsonrpc *rpc, struct jsonrpc_msg *request,
                       struct jsonrpc_msg **replyp)
{
    return jsonrpc_transact_block_cb(rpc, request, replyp, NULL, NULL);
}
