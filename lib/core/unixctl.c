/* unixctl: control-socket server and client. */
#include "unixctl.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "ds.h"
#include "hash.h"
#include "hmap.h"
#include "jsonrpc.h"
#include "list.h"
#include "poll-loop.h"
#include "stream.h"
#include "util.h"
#include "vlog.h"

VLOG_DEFINE_THIS_MODULE(unixctl);

struct unixctl_command {
    struct hmap_node hmap_node;
    char *name;
    char *usage;
    int min_args, max_args;
    unixctl_cb_func *cb;
    void *aux;
};

struct unixctl_conn {
    struct list_node node;
    struct jsonrpc *rpc;
    json_t *request_id;         /* Pending request awaiting a reply. */
};

struct unixctl_server {
    struct pstream *listener;
    struct list_node conns;
    char *path;
};

static struct hmap commands = HMAP_INITIALIZER(&commands);

static struct unixctl_command *
find_command(const char *name)
{
    struct unixctl_command *c;
    HMAP_FOR_EACH_WITH_HASH (c, hmap_node, hash_string(name, 0), &commands) {
        if (!strcmp(c->name, name)) {
            return c;
        }
    }
    return NULL;
}

void
unixctl_command_register(const char *name, const char *usage, int min_args,
                         int max_args, unixctl_cb_func *cb, void *aux)
{
    struct unixctl_command *c = find_command(name);
    if (!c) {
        c = xzalloc(sizeof *c);
        c->name = xstrdup(name);
        hmap_insert(&commands, &c->hmap_node, hash_string(name, 0));
    } else {
        free(c->usage);
    }
    c->usage = xstrdup(usage ? usage : "");
    c->min_args = min_args;
    c->max_args = max_args;
    c->cb = cb;
    c->aux = aux;
}

static int
compare_commands(const void *a_, const void *b_)
{
    const struct unixctl_command *const *a = a_, *const *b = b_;
    return strcmp((*a)->name, (*b)->name);
}

char *
unixctl_list_commands(void)
{
    size_t n = hmap_count(&commands), i = 0;
    const struct unixctl_command **list = xcalloc(n ? n : 1, sizeof *list);
    struct unixctl_command *c;
    HMAP_FOR_EACH (c, hmap_node, &commands) {
        list[i++] = c;
    }
    qsort(list, n, sizeof *list, compare_commands);
    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&s, "The available commands are:\n");
    for (i = 0; i < n; i++) {
        ds_put_format(&s, "  %-23s %s\n", list[i]->name, list[i]->usage);
    }
    free(list);
    return ds_steal_cstr(&s);
}

static void
unixctl_list_commands_cb(struct unixctl_conn *conn, int argc,
                         const char *argv[], void *aux)
{
    char *text = unixctl_list_commands();
    unixctl_command_reply(conn, text);
    free(text);
}

static void
unixctl_version_cb(struct unixctl_conn *conn, int argc, const char *argv[],
                   void *aux)
{
    char *text = xasprintf("%s (Lanyard) %s", program_name(),
                           LANYARD_VERSION);
    unixctl_command_reply(conn, text);
    free(text);
}

static void
register_builtins(void)
{
    if (!find_command("list-commands")) {
        unixctl_command_register("list-commands", "", 0, 0,
                                 unixctl_list_commands_cb, NULL);
        unixctl_command_register("version", "", 0, 0, unixctl_version_cb,
                                 NULL);
    }
}

static void
send_reply(struct unixctl_conn *conn, bool success, const char *body)
{
    if (!conn->request_id) {
        return;                 /* Replied already (caller bug): ignore. */
    }
    char *text = body && *body && body[strlen(body) - 1] != '\n'
                 ? xasprintf("%s\n", body) : xstrdup(body ? body : "");
    json_t *json = json_string(text);
    if (!json) {
        /* Not valid UTF-8: replace rather than drop the reply. */
        json = json_string("(reply is not valid UTF-8)\n");
    }
    free(text);
    struct jsonrpc_msg *reply = success
        ? jsonrpc_create_reply(json, conn->request_id)
        : jsonrpc_create_error(json, conn->request_id);
    jsonrpc_send(conn->rpc, reply);
    json_decref(conn->request_id);
    conn->request_id = NULL;
}

void
unixctl_command_reply(struct unixctl_conn *conn, const char *body)
{
    send_reply(conn, true, body);
}

void
unixctl_command_reply_error(struct unixctl_conn *conn, const char *body)
{
    send_reply(conn, false, body);
}

static char *
default_socket_path(void)
{
    return xasprintf("%s/%s.%ld.ctl", daemon_rundir(), program_name(),
                     (long) getpid());
}

static char *
absolute_path(const char *path)
{
    return path[0] == '/' ? xstrdup(path)
           : xasprintf("%s/%s", daemon_rundir(), path);
}

int
unixctl_server_create(const char *path, struct unixctl_server **serverp)
{
    *serverp = NULL;
    if (path && !strcmp(path, "none")) {
        return 0;
    }
    register_builtins();
    char *abs = path ? absolute_path(path) : default_socket_path();
    char *name = xasprintf("punix:%s", abs);
    struct pstream *listener;
    int error = pstream_open(name, &listener);
    free(name);
    if (error) {
        VLOG_ERR("could not initialize control socket %s (%s)", abs,
                 strerror(error));
        free(abs);
        return error;
    }
    struct unixctl_server *server = xzalloc(sizeof *server);
    server->listener = listener;
    server->path = abs;
    list_init(&server->conns);
    *serverp = server;
    return 0;
}

static void
process_request(struct unixctl_conn *conn, struct jsonrpc_msg *request)
{
    conn->request_id = json_incref(request->id);
    struct unixctl_command *c = find_command(request->method);
    size_t n_params = json_array_size(request->params);
    char *error = NULL;

    if (!c) {
        error = xasprintf("\"%s\" is not a valid command (use "
                          "\"list-commands\" to see a list of valid "
                          "commands)", request->method);
    } else if (n_params < (size_t) c->min_args) {
        error = xasprintf("\"%s\" command requires at least %d arguments",
                          request->method, c->min_args);
    } else if (n_params > (size_t) c->max_args) {
        error = xasprintf("\"%s\" command takes at most %d arguments",
                          request->method, c->max_args);
    } else {
        const char **argv = xcalloc(n_params + 2, sizeof *argv);
        argv[0] = request->method;
        for (size_t i = 0; i < n_params; i++) {
            json_t *p = json_array_get(request->params, i);
            if (!json_is_string(p)) {
                error = xasprintf("\"%s\" command has non-string argument",
                                  request->method);
                break;
            }
            argv[i + 1] = json_string_value(p);
        }
        if (!error) {
            c->cb(conn, (int) n_params + 1, argv, c->aux);
        }
        free(argv);
    }
    if (error) {
        unixctl_command_reply_error(conn, error);
        free(error);
    }
}

static void
kill_connection(struct unixctl_conn *conn)
{
    list_remove(&conn->node);
    jsonrpc_close(conn->rpc);
    json_decref(conn->request_id);
    free(conn);
}

/* Returns 0 to keep the connection, otherwise an error. */
static int
run_connection(struct unixctl_conn *conn)
{
    jsonrpc_run(conn->rpc);
    int error = jsonrpc_get_status(conn->rpc);
    for (int i = 0; i < 10 && !error && !conn->request_id; i++) {
        struct jsonrpc_msg *msg;
        error = jsonrpc_recv(conn->rpc, &msg);
        if (error) {
            break;
        }
        if (msg->type == JSONRPC_REQUEST) {
            process_request(conn, msg);
        } else {
            VLOG_WARN("%s: received unexpected %s message",
                      jsonrpc_get_name(conn->rpc),
                      jsonrpc_msg_type_to_string(msg->type));
            error = EINVAL;
        }
        jsonrpc_msg_destroy(msg);
        jsonrpc_run(conn->rpc);
        if (!error) {
            error = jsonrpc_get_status(conn->rpc);
        }
    }
    return error == EAGAIN ? 0 : error;
}

void
unixctl_server_run(struct unixctl_server *server)
{
    if (!server) {
        return;
    }
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    for (int i = 0; i < 10; i++) {
        struct stream *stream;
        int error = pstream_accept(server->listener, &stream);
        if (error) {
            if (error != EAGAIN) {
                VLOG_WARN_RL(&rl, "%s: accept failed: %s", server->path,
                             strerror(error));
            }
            break;
        }
        struct unixctl_conn *conn = xzalloc(sizeof *conn);
        conn->rpc = jsonrpc_open(stream);
        list_push_back(&server->conns, &conn->node);
    }

    struct unixctl_conn *conn, *next;
    LIST_FOR_EACH_SAFE (conn, next, node, &server->conns) {
        int error = run_connection(conn);
        /* A connection with a deferred request stays until it is answered
         * so that the callback's CONN pointer remains valid. */
        if (error && !conn->request_id) {
            kill_connection(conn);
        }
    }
}

void
unixctl_server_wait(struct unixctl_server *server)
{
    if (!server) {
        return;
    }
    pstream_wait(server->listener);
    struct unixctl_conn *conn;
    LIST_FOR_EACH (conn, node, &server->conns) {
        jsonrpc_wait(conn->rpc);
        if (!conn->request_id) {
            jsonrpc_recv_wait(conn->rpc);
        }
    }
}

void
unixctl_server_destroy(struct unixctl_server *server)
{
    if (!server) {
        return;
    }
    struct unixctl_conn *conn, *next;
    LIST_FOR_EACH_SAFE (conn, next, node, &server->conns) {
        kill_connection(conn);
    }
    pstream_close(server->listener);
    free(server->path);
    free(server);
}

const char *
unixctl_server_get_path(const struct unixctl_server *server)
{
    return server->path;
}

int
unixctl_client_create(const char *path, struct jsonrpc **clientp)
{
    *clientp = NULL;
    char *abs = absolute_path(path);
    char *name = xasprintf("unix:%s", abs);
    free(abs);
    struct stream *stream;
    int error = stream_open_block(name, -1, &stream);
    free(name);
    if (!error) {
        *clientp = jsonrpc_open(stream);
    }
    return error;
}

static char *
json_to_text(const json_t *json)
{
    if (json_is_string(json)) {
        return xstrdup(json_string_value(json));
    }
    char *s = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
    char *copy = xstrdup(s ? s : "");
    free(s);
    return copy;
}

int
unixctl_client_transact(struct jsonrpc *client, const char *command,
                        int argc, char *argv[], char **result, char **error)
{
    *result = *error = NULL;
    json_t *params = json_array();
    for (int i = 0; i < argc; i++) {
        json_t *arg = json_string(argv[i]);
        if (!arg) {
            json_decref(params);
            return EINVAL;      /* Not UTF-8. */
        }
        json_array_append_new(params, arg);
    }
    struct jsonrpc_msg *reply;
    int retval = jsonrpc_transact_block(
        client, jsonrpc_create_request(command, params, NULL), &reply);
    if (retval) {
        return retval;
    }
    if (reply->type == JSONRPC_ERROR) {
        *error = json_to_text(reply->error);
    } else if (json_is_string(reply->result)) {
        *result = xstrdup(json_string_value(reply->result));
    } else {
        retval = EPROTO;
    }
    jsonrpc_msg_destroy(reply);
    return retval;
}
