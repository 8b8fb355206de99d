/* reconnect: connection state machine with backoff and inactivity probes. */
#include "reconnect.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "poll-loop.h"
#include "util.h"
#include "vlog.h"

VLOG_DEFINE_THIS_MODULE(reconnect);

struct reconnect {
    char *name;
    int min_backoff, max_backoff, probe_interval;
    unsigned int max_tries, n_failures;
    enum reconnect_state state;
    long long state_entered;
    int backoff;
    long long last_activity;
    long long last_connected;
    unsigned int seqno;
};

static void
set_state(struct reconnect *r, enum reconnect_state state, long long now)
{
    if ((r->state == RECONNECT_S_ACTIVE || r->state == RECONNECT_S_IDLE)
        != (state == RECONNECT_S_ACTIVE || state == RECONNECT_S_IDLE)) {
        r->seqno++;
    }
    r->state = state;
    r->state_entered = now;
}

struct reconnect *
reconnect_create(const char *name, long long now)
{
    struct reconnect *r = xzalloc(sizeof *r);
    r->name = xstrdup(name ? name : "void");
    r->min_backoff = RECONNECT_DEFAULT_MIN_BACKOFF;
    r->max_backoff = RECONNECT_DEFAULT_MAX_BACKOFF;
    r->probe_interval = RECONNECT_DEFAULT_PROBE_INTERVAL;
    r->state = RECONNECT_S_VOID;
    r->state_entered = now;
    r->last_activity = now;
    r->last_connected = LLONG_MAX;
    return r;
}

void
reconnect_destroy(struct reconnect *r)
{
    if (r) {
        free(r->name);
        free(r);
    }
}

const char *
reconnect_get_name(const struct reconnect *r)
{
    return r->name;
}

void
reconnect_set_backoff(struct reconnect *r, int min_backoff, int max_backoff)
{
    r->min_backoff = MAX(min_backoff, 1);
    r->max_backoff = MAX(max_backoff, r->min_backoff);
    if (r->backoff > r->max_backoff) {
        r->backoff = r->max_backoff;
    }
}

int
reconnect_get_min_backoff(const struct reconnect *r)
{
    return r->min_backoff;
}

int
reconnect_get_max_backoff(const struct reconnect *r)
{
    return r->max_backoff;
}

void
reconnect_set_probe_interval(struct reconnect *r, int probe_interval)
{
    r->probe_interval = probe_interval > 0 ? MAX(probe_interval, 1000) : 0;
}

int
reconnect_get_probe_interval(const struct reconnect *r)
{
    return r->probe_interval;
}

void
reconnect_set_max_tries(struct reconnect *r, unsigned int max_tries)
{
    r->max_tries = max_tries;
}

void
reconnect_enable(struct reconnect *r, long long now)
{
    if (r->state == RECONNECT_S_VOID) {
        r->n_failures = 0;
        set_state(r, RECONNECT_S_BACKOFF, now);
        r->backoff = 0;
    }
}

void
reconnect_disable(struct reconnect *r, long long now)
{
    set_state(r, RECONNECT_S_VOID, now);
}

void
reconnect_force_reconnect(struct reconnect *r, long long now)
{
    if (r->state == RECONNECT_S_CONNECTING || r->state == RECONNECT_S_ACTIVE
        || r->state == RECONNECT_S_IDLE) {
        set_state(r, RECONNECT_S_RECONNECT, now);
    }
}

void
reconnect_connecting(struct reconnect *r, long long now)
{
    if (r->state != RECONNECT_S_CONNECTING) {
        VLOG_INFO("%s: connecting...", r->name);
        set_state(r, RECONNECT_S_CONNECTING, now);
    }
}

void
reconnect_connected(struct reconnect *r, long long now)
{
    if (r->state != RECONNECT_S_ACTIVE && r->state != RECONNECT_S_IDLE) {
        VLOG_INFO("%s: connected", r->name);
        set_state(r, RECONNECT_S_ACTIVE, now);
        r->last_activity = now;
        r->last_connected = now;
        r->n_failures = 0;
    }
}

/* Enters BACKOFF with the next backoff delay, or VOID after max_tries. */
static void
start_backoff(struct reconnect *r, long long now)
{
    r->n_failures++;
    if (r->max_tries && r->n_failures >= r->max_tries) {
        if (r->max_tries > 1) {
            VLOG_INFO("%s: giving up after %u attempts", r->name,
                      r->n_failures);
        }
        set_state(r, RECONNECT_S_VOID, now);
        return;
    }
    if (!r->backoff) {
        r->backoff = r->min_backoff;
    } else {
        r->backoff = r->backoff >= r->max_backoff / 2 ? r->max_backoff
                     : r->backoff * 2;
    }
    set_state(r, RECONNECT_S_BACKOFF, now);
    VLOG_INFO("%s: waiting %d seconds before reconnect", r->name,
              (r->backoff + 999) / 1000);
}

void
reconnect_connect_failed(struct reconnect *r, long long now, int error)
{
    VLOG_INFO("%s: connection attempt failed (%s)", r->name,
              error == EOF ? "end of file" : strerror(error));
    if (r->state != RECONNECT_S_VOID) {
        start_backoff(r, now);
    }
}

void
reconnect_disconnected(struct reconnect *r, long long now, int error)
{
    if (r->state == RECONNECT_S_VOID || r->state == RECONNECT_S_BACKOFF) {
        return;
    }
    bool was_connected = r->state == RECONNECT_S_ACTIVE
                         || r->state == RECONNECT_S_IDLE
                         || r->state == RECONNECT_S_RECONNECT;
    if (was_connected) {
        if (error > 0) {
            VLOG_WARN("%s: connection dropped (%s)", r->name,
                      strerror(error));
        } else {
            VLOG_INFO("%s: connection closed by %s", r->name,
                      error == EOF ? "peer" : "client");
        }
        /* A connection that lasted long enough resets the backoff. */
        if (r->last_connected != LLONG_MAX
            && now - r->last_connected >= r->max_backoff) {
            r->backoff = 0;
        }
        r->n_failures = 0;
        r->last_connected = LLONG_MAX;
    }
    start_backoff(r, now);
}

void
reconnect_activity(struct reconnect *r, long long now)
{
    if (r->state == RECONNECT_S_IDLE) {
        set_state(r, RECONNECT_S_ACTIVE, now);
    }
    r->last_activity = now;
}

long long
reconnect_deadline(const struct reconnect *r)
{
    switch (r->state) {
    case RECONNECT_S_VOID:
        return LLONG_MAX;
    case RECONNECT_S_BACKOFF:
        return r->state_entered + r->backoff;
    case RECONNECT_S_CONNECTING:
        return r->state_entered + MAX(1000, r->backoff);
    case RECONNECT_S_ACTIVE:
        return r->probe_interval
               ? MAX(r->last_activity, r->state_entered) + r->probe_interval
               : LLONG_MAX;
    case RECONNECT_S_IDLE:
        return r->probe_interval ? r->state_entered + r->probe_interval
               : LLONG_MAX;
    case RECONNECT_S_RECONNECT:
        return r->state_entered;
    }
    return LLONG_MAX;
}

enum reconnect_action
reconnect_run(struct reconnect *r, long long now)
{
    if (now < reconnect_deadline(r)) {
        return RECONNECT_NONE;
    }
    switch (r->state) {
    case RECONNECT_S_BACKOFF:
        return RECONNECT_CONNECT;
    case RECONNECT_S_CONNECTING:
        return RECONNECT_DISCONNECT;
    case RECONNECT_S_ACTIVE:
        VLOG_DBG("%s: idle %lld ms, sending inactivity probe", r->name,
                 now - MAX(r->last_activity, r->state_entered));
        set_state(r, RECONNECT_S_IDLE, now);
        return RECONNECT_PROBE;
    case RECONNECT_S_IDLE:
        VLOG_ERR("%s: no response to inactivity probe after %d seconds, "
                 "disconnecting", r->name, r->probe_interval / 1000);
        return RECONNECT_DISCONNECT;
    case RECONNECT_S_RECONNECT:
        return RECONNECT_DISCONNECT;
    case RECONNECT_S_VOID:
        break;
    }
    return RECONNECT_NONE;
}

void
reconnect_wait(struct reconnect *r)
{
    long long deadline = reconnect_deadline(r);
    if (deadline != LLONG_MAX) {
        poll_timer_wait_until(deadline);
    }
}

enum reconnect_state
reconnect_get_state(const struct reconnect *r)
{
    return r->state;
}

const char *
reconnect_state_to_string(enum reconnect_state state)
{
    static const char *const names[] = {
        "VOID", "BACKOFF", "CONNECTING", "ACTIVE", "IDLE", "RECONNECT"
    };
    return state < ARRAY_SIZE(names) ? names[state] : "<invalid>";
}

bool
reconnect_is_enabled(const struct reconnect *r)
{
    return r->state != RECONNECT_S_VOID;
}

bool
reconnect_is_connected(const struct reconnect *r)
{
    return r->state == RECONNECT_S_ACTIVE || r->state == RECONNECT_S_IDLE;
}

int
reconnect_get_backoff(const struct reconnect *r)
{
    return r->backoff;
}

unsigned int
reconnect_get_seqno(const struct reconnect *r)
{
    return r->seqno;
}
