/* jsonrpc: JSON-RPC 1.0 as OVSDB and unixctl use it.
 *
 * Messages: request {"method","params","id"}, notification (request with a
 * null or missing "id"), reply {"result","error":null,"id"} and error
 * {"error","id"} (as ovsdb-server 3.1 writes it, "result" omitted; a
 * "result":null is accepted on input).  jsonrpc_msg_from_json() validates
 * strictly and explains what is wrong.
 *
 * Framing: a stream carries JSON texts back to back with no delimiter.  The
 * framer (struct jsonrpc_framer) finds the end of each top-level value
 * incrementally across arbitrary read boundaries, in O(n) over all input,
 * then parses that slice (jsonrpc-text.h: jansson's verdicts and error
 * messages, built faster).  Oversized or malformed input is an
 * error after which the connection is unusable.
 *
 * struct jsonrpc: one connection over a stream.  jsonrpc_send() only queues
 * (never blocks); jsonrpc_run() flushes; jsonrpc_get_backlog() says how many
 * bytes are queued, so a server can detect a client that does not read.
 * Errors are sticky: after the first error every call returns it.
 *
 * struct jsonrpc_session: a connection that reconnects with exponential
 * backoff (active names), or wraps one accepted connection (server side);
 * both probe for inactivity with "echo" requests and answer echo requests
 * automatically.  All time-dependent calls take 'now' (time_msec()). */
#ifndef LANYARD_JSONRPC_H
#define LANYARD_JSONRPC_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct stream;

/* ---- Messages ---- */

enum jsonrpc_msg_type {
    JSONRPC_REQUEST,
    JSONRPC_NOTIFY,
    JSONRPC_REPLY,
    JSONRPC_ERROR
};

struct jsonrpc_msg {
    enum jsonrpc_msg_type type;
    char *method;               /* Request and notify only. */
    json_t *params;             /* Request and notify only: an array. */
    json_t *result;             /* Reply only. */
    json_t *error;              /* Error only (never JSON null). */
    json_t *id;                 /* Request, reply, error; NULL for notify. */
};

const char *jsonrpc_msg_type_to_string(enum jsonrpc_msg_type);

/* Constructors take ownership of the json_t arguments passed in (PARAMS,
 * RESULT, ERROR) and copy ID (they take a new reference). */

/* A request with a fresh integer id; if IDP is nonnull, *IDP receives a new
 * reference to the id (caller must json_decref it). */
struct jsonrpc_msg *jsonrpc_create_request(const char *method, json_t *params,
                                           json_t **idp);
/* A request with a caller-chosen id (takes ownership of ID). */
struct jsonrpc_msg *jsonrpc_create_request_with_id(const char *method,
                                                   json_t *params, json_t *id);
struct jsonrpc_msg *jsonrpc_create_notify(const char *method, json_t *params);
struct jsonrpc_msg *jsonrpc_create_reply(json_t *result, const json_t *id);
struct jsonrpc_msg *jsonrpc_create_error(json_t *error, const json_t *id);
void jsonrpc_msg_destroy(struct jsonrpc_msg *);

/* Returns NULL if MSG is well-formed for its type, else a malloc'd
 * explanation. */
char *jsonrpc_msg_is_valid(const struct jsonrpc_msg *) WARN_UNUSED;
/* Converts JSON into a message.  Takes ownership of JSON (always).  Returns
 * NULL and sets *MSGP on success; otherwise returns a malloc'd error such as
 * "message is not a JSON object", "message has unexpected member \"x\"",
 * "\"params\" must be JSON array" and sets *MSGP to NULL. */
char *jsonrpc_msg_from_json(json_t *json, struct jsonrpc_msg **msgp)
    WARN_UNUSED;
/* Converts MSG to JSON, consuming MSG. */
json_t *jsonrpc_msg_to_json(struct jsonrpc_msg *);
/* Compact serialization of MSG (does not consume it; caller frees). */
char *jsonrpc_msg_to_string(const struct jsonrpc_msg *);

/* ---- Framing ---- */

#define JSONRPC_DEFAULT_MAX_MSG_SIZE (64u * 1024 * 1024)
#define JSONRPC_MAX_DEPTH 1000

struct jsonrpc_framer;

/* MAX_SIZE: largest accepted JSON text in bytes (0: the default). */
struct jsonrpc_framer *jsonrpc_framer_create(size_t max_size);
void jsonrpc_framer_destroy(struct jsonrpc_framer *);
/* Scans up to SIZE bytes of DATA and returns how many it consumed.  It stops
 * right after a complete top-level value or at an error; the caller then
 * calls jsonrpc_framer_take() and feeds the remaining bytes again.
 * Whitespace between values is skipped. */
size_t jsonrpc_framer_feed(struct jsonrpc_framer *, const void *data,
                           size_t size);
/* True when a complete value (or an error) is ready for _take(). */
bool jsonrpc_framer_is_done(const struct jsonrpc_framer *);
/* True when no partial value is buffered (clean message boundary). */
bool jsonrpc_framer_is_idle(const struct jsonrpc_framer *);
/* Returns the parsed value (caller owns) and resets the framer for the next
 * value, or returns NULL with *ERRORP set to a malloc'd message on error
 * (the framer then stays in the error state).  Call only when done. */
json_t *jsonrpc_framer_take(struct jsonrpc_framer *, char **errorp);

/* ---- Connections ---- */

struct jsonrpc;

/* Takes ownership of STREAM (which may still be connecting). */
struct jsonrpc *jsonrpc_open(struct stream *);
void jsonrpc_close(struct jsonrpc *);
/* Sets the largest message accepted from the peer (0: the default). */
void jsonrpc_set_max_msg_size(struct jsonrpc *, size_t max_size);
/* Flushes queued output as far as possible without blocking. */
void jsonrpc_run(struct jsonrpc *);
/* Wakes the poll loop when output can be flushed (if any is queued). */
void jsonrpc_wait(struct jsonrpc *);
/* 0 if healthy, else the sticky error (EOF for end of stream, EPROTO for a
 * protocol violation, EMSGSIZE for an oversized message, or an errno). */
int jsonrpc_get_status(const struct jsonrpc *);
/* Bytes queued for sending and not yet written. */
size_t jsonrpc_get_backlog(const struct jsonrpc *);
/* Total bytes received so far (for activity detection). */
unsigned long long jsonrpc_get_received_bytes(const struct jsonrpc *);
const char *jsonrpc_get_name(const struct jsonrpc *);

/* Queues MSG (takes ownership) and tries to send it; returns the sticky
 * status (0 if queued). */
int jsonrpc_send(struct jsonrpc *, struct jsonrpc_msg *);
/* While corked, jsonrpc_send() and jsonrpc_send_text() only queue; uncorking
 * sends everything queued at once (a server releasing many replies after
 * one log sync makes one send() instead of one per reply). */
void jsonrpc_cork(struct jsonrpc *, bool corked);
/* Queues SIZE bytes of TEXT, one or more complete serialized messages (as
 * a server sends the same notification to many clients after serializing
 * it once), and tries to send them; returns the sticky status. */
int jsonrpc_send_text(struct jsonrpc *, const char *text, size_t size);
/* Returns 0 and a message in *MSGP, EAGAIN if none is complete yet, EOF at
 * clean end of stream, or an error (also sticky).  The reason for a
 * protocol error is logged and available from jsonrpc_get_error_reason(). */
int jsonrpc_recv(struct jsonrpc *, struct jsonrpc_msg **msgp);
void jsonrpc_recv_wait(struct jsonrpc *);
/* Human-readable reason for the sticky error, or NULL. */
const char *jsonrpc_get_error_reason(const struct jsonrpc *);

/* Blocking helpers (each runs its own small poll loop). */
int jsonrpc_send_block(struct jsonrpc *, struct jsonrpc_msg *);
int jsonrpc_recv_block(struct jsonrpc *, struct jsonrpc_msg **msgp);
/* Sends REQUEST (takes ownership) and waits for the reply or error with the
 * same id, stored in *REPLYP.  "echo" requests from the peer are answered;
 * other unrelated messages go to UNRELATED_CB (which takes ownership) or
 * are destroyed if it is NULL. */
int jsonrpc_transact_block(struct jsonrpc *, struct jsonrpc_msg *request,
                           struct jsonrpc_msg **replyp);
int jsonrpc_transact_block_cb(struct jsonrpc *, struct jsonrpc_msg *request,
                              struct jsonrpc_msg **replyp,
                              void (*unrelated_cb)(struct jsonrpc_msg *,
                                                   void *aux),
                              void *aux);

/* ---- Sessions ---- */

#define JSONRPC_DEFAULT_PROBE_INTERVAL 5000    /* msec */

struct jsonrpc_session;

/* An active session to NAME ("tcp:...", "unix:...", "ssl:...") that
 * reconnects after failures with backoff from 1 s doubling to 8 s (see
 * jsonrpc_session_set_backoff).  Probing defaults to 5000 ms for tcp/ssl and
 * off for unix. */
struct jsonrpc_session *jsonrpc_session_open(const char *name,
                                             long long now);
/* Server side: wraps the accepted connection RPC (takes ownership); never
 * reconnects: once it disconnects jsonrpc_session_is_alive() is false.
 * PROBE_INTERVAL in msec, 0 disables probing. */
struct jsonrpc_session *jsonrpc_session_open_unreliably(struct jsonrpc *rpc,
                                                        int probe_interval,
                                                        long long now);
void jsonrpc_session_close(struct jsonrpc_session *);

void jsonrpc_session_run(struct jsonrpc_session *, long long now);
void jsonrpc_session_wait(struct jsonrpc_session *);
/* Queues MSG (takes ownership).  Dropped with ENOTCONN if not connected. */
int jsonrpc_session_send(struct jsonrpc_session *, struct jsonrpc_msg *);
/* jsonrpc_cork() on the current connection, if any. */
void jsonrpc_session_cork(struct jsonrpc_session *, bool corked);
/* As jsonrpc_send_text(); dropped with ENOTCONN if not connected. */
int jsonrpc_session_send_text(struct jsonrpc_session *, const char *text,
                              size_t size);
/* Next message (caller owns) or NULL.  Echo requests are answered and echo
 * replies consumed here. */
struct jsonrpc_msg *jsonrpc_session_recv(struct jsonrpc_session *,
                                         long long now);
void jsonrpc_session_recv_wait(struct jsonrpc_session *);

bool jsonrpc_session_is_connected(const struct jsonrpc_session *);
/* False only for an unreliable session that has disconnected. */
bool jsonrpc_session_is_alive(const struct jsonrpc_session *);
/* Changes every time the session connects or disconnects. */
unsigned int jsonrpc_session_get_seqno(const struct jsonrpc_session *);
const char *jsonrpc_session_get_name(const struct jsonrpc_session *);
size_t jsonrpc_session_get_backlog(const struct jsonrpc_session *);
/* The underlying connection (NULL while disconnected). */
struct jsonrpc *jsonrpc_session_get_rpc(const struct jsonrpc_session *);
/* 0 disables probing. */
void jsonrpc_session_set_probe_interval(struct jsonrpc_session *,
                                        int probe_interval);
void jsonrpc_session_set_backoff(struct jsonrpc_session *, int min_backoff,
                                 int max_backoff);
void jsonrpc_session_force_reconnect(struct jsonrpc_session *, long long now);

#endif
