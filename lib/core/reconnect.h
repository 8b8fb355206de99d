/* reconnect: the pure connection-management state machine behind
 * jsonrpc_session (no I/O, no clock reads: every call takes 'now' in msec).
 *
 * The owner reports events (connecting, connected, connect_failed,
 * disconnected, activity) and periodically calls reconnect_run(), which says
 * what to do next: start connecting, drop the connection, or send an
 * inactivity probe.  Backoff starts at min_backoff after the first failure
 * and doubles up to max_backoff; a connection that stayed up at least
 * max_backoff resets the backoff.
 *
 * Probing: after probe_interval msec without activity in the connected
 * state it asks for a probe (RECONNECT_PROBE) once and enters IDLE; if
 * another probe_interval passes without activity it asks to disconnect. */
#ifndef LANYARD_RECONNECT_H
#define LANYARD_RECONNECT_H 1

#include <stdbool.h>

struct reconnect;

enum reconnect_action {
    RECONNECT_NONE,
    RECONNECT_CONNECT,          /* Start a connection attempt now. */
    RECONNECT_DISCONNECT,       /* Drop the connection (timeout/probe). */
    RECONNECT_PROBE             /* Send an inactivity probe. */
};

enum reconnect_state {
    RECONNECT_S_VOID,           /* Disabled. */
    RECONNECT_S_BACKOFF,        /* Waiting before the next attempt. */
    RECONNECT_S_CONNECTING,     /* Attempt in progress. */
    RECONNECT_S_ACTIVE,         /* Connected, traffic seen recently. */
    RECONNECT_S_IDLE,           /* Connected, probe sent, awaiting traffic. */
    RECONNECT_S_RECONNECT       /* Forced reconnect pending. */
};

#define RECONNECT_DEFAULT_MIN_BACKOFF 1000
#define RECONNECT_DEFAULT_MAX_BACKOFF 8000
#define RECONNECT_DEFAULT_PROBE_INTERVAL 5000

/* A new state machine in S_VOID (call reconnect_enable()).  Name is used
 * only in log messages. */
struct reconnect *reconnect_create(const char *name, long long now);
void reconnect_destroy(struct reconnect *);

const char *reconnect_get_name(const struct reconnect *);
void reconnect_set_backoff(struct reconnect *, int min_backoff,
                           int max_backoff);
int reconnect_get_min_backoff(const struct reconnect *);
int reconnect_get_max_backoff(const struct reconnect *);
/* 0 disables probing. */
void reconnect_set_probe_interval(struct reconnect *, int probe_interval);
int reconnect_get_probe_interval(const struct reconnect *);
/* Gives up (back to S_VOID) after MAX_TRIES consecutive failed attempts;
 * 0 means unlimited (the default). */
void reconnect_set_max_tries(struct reconnect *, unsigned int max_tries);

void reconnect_enable(struct reconnect *, long long now);
void reconnect_disable(struct reconnect *, long long now);
void reconnect_force_reconnect(struct reconnect *, long long now);

void reconnect_connecting(struct reconnect *, long long now);
void reconnect_connected(struct reconnect *, long long now);
void reconnect_connect_failed(struct reconnect *, long long now, int error);
/* ERROR: 0 for a clean close, EOF, or an errno (for logging). */
void reconnect_disconnected(struct reconnect *, long long now, int error);
/* Data was received: the peer is alive. */
void reconnect_activity(struct reconnect *, long long now);

enum reconnect_action reconnect_run(struct reconnect *, long long now);
/* Absolute time at which reconnect_run() next has something to do, or
 * LLONG_MAX if nothing is scheduled. */
long long reconnect_deadline(const struct reconnect *);
/* Registers the deadline with the poll loop. */
void reconnect_wait(struct reconnect *);

enum reconnect_state reconnect_get_state(const struct reconnect *);
const char *reconnect_state_to_string(enum reconnect_state);
bool reconnect_is_enabled(const struct reconnect *);
bool reconnect_is_connected(const struct reconnect *);
/* Current backoff in msec (0 before any failure). */
int reconnect_get_backoff(const struct reconnect *);
unsigned int reconnect_get_seqno(const struct reconnect *);

#endif
