/* LACP: see lacp.h. */
#include "lacp.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ds.h"
#include "util.h"

#define FAST_TX_MSEC 1000
#define SLOW_TX_MSEC 30000
#define RX_MULTIPLIER 3         /* Partner silent this many periods: gone. */

/* Slow-protocols subtypes (the PDU's first byte) and TLV types. */
#define SUBTYPE_LACP 1
#define SUBTYPE_MARKER 2
#define TLV_ACTOR 1
#define TLV_PARTNER 2
#define TLV_COLLECTOR 3
#define TLV_MARKER_INFO 1
#define TLV_MARKER_RESPONSE 2

/* Offsets in an LACPDU (after the Ethernet header). */
#define OFS_ACTOR_TLV 2
#define OFS_PARTNER_TLV 22
#define OFS_COLLECTOR_TLV 42
#define INFO_TLV_LEN 20
#define MARKER_TLV_LEN 16

enum member_status { ST_CURRENT, ST_EXPIRED, ST_DEFAULTED };

struct member {
    char *name;
    uint16_t port_id, port_priority, key;
    enum member_status status;
    bool attached;
    bool carrier;
    struct lacp_info partner;
    struct lacp_info ntt_actor; /* What the partner last said of us. */
    long long tx_due, rx_expires;
    uint32_t n_rx, n_rx_bad, n_rx_marker, n_tx;
    uint32_t n_expired, n_defaulted, n_carrier_changed;
};

struct lacp {
    char *name;
    uint8_t sys_id[6];
    uint16_t sys_priority;
    bool active, fast, fallback_ab;
    bool negotiated;
    bool update;                /* Selection must run again. */
    size_t n;
    struct member *members;
    size_t key_member;
};

/* --- PDUs --- */

static uint16_t
get_be16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

static void
put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}

static void
info_parse(const uint8_t *p, struct lacp_info *info)
{
    info->sys_priority = get_be16(p);
    memcpy(info->sys_id, p + 2, 6);
    info->key = get_be16(p + 8);
    info->port_priority = get_be16(p + 10);
    info->port_id = get_be16(p + 12);
    info->state = p[14];
}

static void
info_put(uint8_t *p, const struct lacp_info *info)
{
    put_be16(p, info->sys_priority);
    memcpy(p + 2, info->sys_id, 6);
    put_be16(p + 8, info->key);
    put_be16(p + 10, info->port_priority);
    put_be16(p + 12, info->port_id);
    p[14] = info->state;
}

int
lacp_pdu_parse(const uint8_t *p, size_t size, struct lacp_pdu *pdu)
{
    memset(pdu, 0, sizeof *pdu);
    if (size < 1) {
        return EINVAL;
    }
    if (p[0] != SUBTYPE_LACP && p[0] != SUBTYPE_MARKER) {
        return EPROTONOSUPPORT;
    }
    if (size < LACP_PDU_SIZE) {
        return EINVAL;
    }
    if (p[0] == SUBTYPE_LACP) {
        if (p[OFS_ACTOR_TLV] != TLV_ACTOR
            || p[OFS_ACTOR_TLV + 1] != INFO_TLV_LEN
            || p[OFS_PARTNER_TLV] != TLV_PARTNER
            || p[OFS_PARTNER_TLV + 1] != INFO_TLV_LEN) {
            return EINVAL;
        }
        pdu->type = LACP_PDU_LACP;
        info_parse(p + OFS_ACTOR_TLV + 2, &pdu->actor);
        info_parse(p + OFS_PARTNER_TLV + 2, &pdu->partner);
        return 0;
    }
    /* Marker protocol: one information or response TLV. */
    if ((p[2] != TLV_MARKER_INFO && p[2] != TLV_MARKER_RESPONSE)
        || p[3] != MARKER_TLV_LEN) {
        return EINVAL;
    }
    pdu->type = p[2] == TLV_MARKER_INFO ? LACP_PDU_MARKER_REQUEST
                                        : LACP_PDU_MARKER_RESPONSE;
    memcpy(pdu->marker, p + 2, MARKER_TLV_LEN);
    return 0;
}

void
lacp_pdu_compose(const struct lacp_info *actor,
                 const struct lacp_info *partner, uint8_t out[LACP_PDU_SIZE])
{
    memset(out, 0, LACP_PDU_SIZE);
    out[0] = SUBTYPE_LACP;
    out[1] = 1;                                 /* Version. */
    out[OFS_ACTOR_TLV] = TLV_ACTOR;
    out[OFS_ACTOR_TLV + 1] = INFO_TLV_LEN;
    info_put(out + OFS_ACTOR_TLV + 2, actor);
    out[OFS_PARTNER_TLV] = TLV_PARTNER;
    out[OFS_PARTNER_TLV + 1] = INFO_TLV_LEN;
    info_put(out + OFS_PARTNER_TLV + 2, partner);
    out[OFS_COLLECTOR_TLV] = TLV_COLLECTOR;
    out[OFS_COLLECTOR_TLV + 1] = 16;            /* Max delay 0. */
    /* Terminator TLV and reserved bytes stay zero. */
}

void
lacp_frame_compose(const uint8_t src_mac[6], const uint8_t pdu[LACP_PDU_SIZE],
                   uint8_t out[LACP_FRAME_SIZE])
{
    static const uint8_t slow_protocols_dst[6] = {
        0x01, 0x80, 0xc2, 0x00, 0x00, 0x02
    };
    memcpy(out, slow_protocols_dst, 6);
    memcpy(out + 6, src_mac, 6);
    put_be16(out + 12, LACP_ETH_TYPE);
    memcpy(out + 14, pdu, LACP_PDU_SIZE);
}

/* --- The protocol --- */

static void set_expired(struct member *, long long now);

struct lacp *
lacp_create(const struct lacp_settings *s,
            const struct lacp_member_settings *ms, size_t n, long long now)
{
    struct lacp *lacp = xzalloc(sizeof *lacp);
    lacp->name = xstrdup(s->name);
    memcpy(lacp->sys_id, s->sys_id, 6);
    lacp->sys_priority = s->sys_priority;
    lacp->active = s->active;
    lacp->fast = s->fast;
    lacp->fallback_ab = s->fallback_ab;
    lacp->n = n;
    lacp->members = xcalloc(n, sizeof *lacp->members);
    for (size_t i = 0; i < n; i++) {
        struct member *m = &lacp->members[i];
        m->name = xstrdup(ms[i].name);
        m->port_id = ms[i].port_id;
        m->port_priority = ms[i].port_priority;
        m->key = ms[i].key;
        m->status = ST_DEFAULTED;
        m->carrier = true;
        m->tx_due = LLONG_MIN;          /* Send at once. */
        m->rx_expires = LLONG_MAX;
        if (m->port_id < lacp->members[lacp->key_member].port_id) {
            lacp->key_member = i;
        }
        if (lacp->active) {
            set_expired(m, now);
        }
    }
    lacp->update = true;
    return lacp;
}

void
lacp_destroy(struct lacp *lacp)
{
    if (!lacp) {
        return;
    }
    for (size_t i = 0; i < lacp->n; i++) {
        free(lacp->members[i].name);
    }
    free(lacp->members);
    free(lacp->name);
    free(lacp);
}

static void
set_defaulted(struct lacp *lacp, struct member *m)
{
    memset(&m->partner, 0, sizeof m->partner);
    m->status = ST_DEFAULTED;
    m->rx_expires = LLONG_MAX;
    lacp->update = true;
}

/* The partner is overdue: ask it for fast PDUs and stop trusting its
 * synchronisation until it speaks again. */
static void
set_expired(struct member *m, long long now)
{
    m->status = ST_EXPIRED;
    m->partner.state |= LACP_STATE_TIMEOUT;
    m->partner.state &= (uint8_t) ~LACP_STATE_SYNC;
    m->rx_expires = now + RX_MULTIPLIER * FAST_TX_MSEC;
}

static bool
may_enable(const struct lacp *lacp, const struct member *m)
{
    return m->attached && (m->partner.state & LACP_STATE_SYNC
                           || (lacp->fallback_ab
                               && m->status == ST_DEFAULTED));
}

static uint16_t
aggregation_key(const struct lacp *lacp)
{
    const struct member *k = &lacp->members[lacp->key_member];
    return k->key ? k->key : k->port_id;
}

static void
get_actor(const struct lacp *lacp, const struct member *m,
          struct lacp_info *actor)
{
    uint8_t state = 0;
    state |= lacp->active ? LACP_STATE_ACTIVITY : 0;
    state |= lacp->fast ? LACP_STATE_TIMEOUT : 0;
    state |= m->attached ? LACP_STATE_SYNC : 0;
    state |= m->status == ST_DEFAULTED ? LACP_STATE_DEFAULTED : 0;
    state |= m->status == ST_EXPIRED ? LACP_STATE_EXPIRED : 0;
    state |= lacp->n > 1 ? LACP_STATE_AGGREGATION : 0;
    if (m->attached || !lacp->negotiated) {
        state |= LACP_STATE_COLLECTING | LACP_STATE_DISTRIBUTING;
    }
    memset(actor, 0, sizeof *actor);
    actor->state = state;
    actor->key = aggregation_key(lacp);
    actor->port_priority = m->port_priority;
    actor->port_id = m->port_id;
    actor->sys_priority = lacp->sys_priority;
    memcpy(actor->sys_id, lacp->sys_id, 6);
}

/* Member M's link priority: the information of whichever system (actor or
 * partner) has the better system priority, then the lower system id;
 * comparing two with prio_cmp() ranks the better link first. */
static void
get_priority(const struct lacp *lacp, const struct member *m,
             struct lacp_info *prio)
{
    uint16_t ours = lacp->sys_priority, theirs = m->partner.sys_priority;
    if (ours < theirs
        || (ours == theirs && memcmp(lacp->sys_id, m->partner.sys_id, 6) < 0)) {
        get_actor(lacp, m, prio);
    } else {
        *prio = m->partner;
    }
    prio->key = 0;
    prio->state = 0;
}

static int
prio_cmp(const struct lacp_info *a, const struct lacp_info *b)
{
    uint8_t x[15], y[15];
    info_put(x, a);
    info_put(y, b);
    return memcmp(x, y, sizeof x);
}

/* Selection: attaches the members that can aggregate with the best one. */
static void
update_attached(struct lacp *lacp)
{
    lacp->update = false;
    struct member *lead = NULL;
    struct lacp_info lead_prio = { 0 };
    bool lead_enable = false;
    for (size_t i = 0; i < lacp->n; i++) {
        struct member *m = &lacp->members[i];
        m->attached = false;
        if (!memcmp(m->partner.sys_id, lacp->sys_id, 6)) {
            continue;           /* Looped back to this very bond. */
        }
        if (m->status == ST_DEFAULTED) {
            m->attached = lacp->fallback_ab;
            continue;
        }
        m->attached = true;
        struct lacp_info prio;
        get_priority(lacp, m, &prio);
        bool enable = may_enable(lacp, m);
        if (!lead || enable > lead_enable
            || (enable == lead_enable && prio_cmp(&prio, &lead_prio) < 0)) {
            lead = m;
            lead_enable = enable;
            lead_prio = prio;
        }
    }
    lacp->negotiated = lead != NULL;
    if (!lead) {
        return;
    }
    for (size_t i = 0; i < lacp->n; i++) {
        struct member *m = &lacp->members[i];
        if ((lacp->fallback_ab && m->status == ST_DEFAULTED)
            || lead->partner.key != m->partner.key
            || memcmp(lead->partner.sys_id, m->partner.sys_id, 6)) {
            m->attached = false;
        }
    }
}

int
lacp_process(struct lacp *lacp, size_t idx, const uint8_t *data, size_t size,
             long long now, uint8_t reply[LACP_PDU_SIZE])
{
    struct member *m = &lacp->members[idx];
    struct lacp_pdu pdu;
    m->n_rx++;
    if (lacp_pdu_parse(data, size, &pdu)) {
        m->n_rx_bad++;
        return 0;
    }
    if (pdu.type == LACP_PDU_MARKER_REQUEST) {
        m->n_rx_marker++;
        memcpy(reply, data, LACP_PDU_SIZE);
        reply[2] = TLV_MARKER_RESPONSE;     /* Same contents. */
        return LACP_PDU_MARKER_REQUEST;
    }
    if (pdu.type != LACP_PDU_LACP) {
        return pdu.type;        /* A response to nothing we asked: ignore. */
    }
    m->status = ST_CURRENT;
    m->rx_expires = now + RX_MULTIPLIER * (lacp->fast ? FAST_TX_MSEC
                                                      : SLOW_TX_MSEC);
    m->ntt_actor = pdu.partner;
    if (prio_cmp(&m->partner, &pdu.actor)) {     /* State included. */
        m->partner = pdu.actor;
        lacp->update = true;
    }
    return LACP_PDU_LACP;
}

void
lacp_set_port_id(struct lacp *lacp, size_t idx, uint16_t port_id,
                 long long now)
{
    struct member *m = &lacp->members[idx];
    if (m->port_id == port_id) {
        return;
    }
    m->port_id = port_id;
    lacp->key_member = 0;
    for (size_t i = 1; i < lacp->n; i++) {
        if (lacp->members[i].port_id
            < lacp->members[lacp->key_member].port_id) {
            lacp->key_member = i;
        }
    }
    lacp->update = true;
    if (lacp->active || lacp->negotiated) {
        set_expired(m, now);
    }
}

void
lacp_carrier_changed(struct lacp *lacp, size_t idx, bool up, long long now)
{
    struct member *m = &lacp->members[idx];
    if (m->status == ST_CURRENT || lacp->active) {
        set_expired(m, now);
    }
    if (m->carrier != up) {
        m->carrier = up;
        m->n_carrier_changed++;
    }
    if (up) {
        /* 802.1AX restarts periodic transmission on a port coming up;
         * otherwise a defaulted member would wait for its slow period. */
        m->tx_due = now;
    }
}

static bool
may_tx(const struct lacp *lacp, const struct member *m)
{
    return lacp->active || m->status != ST_DEFAULTED;
}

/* Whether A and B differ in a way that needs a PDU (802.1AX: port, port
 * priority, system, system priority, key, activity, timeout, sync and
 * aggregation). */
static bool
tx_equal(const struct lacp_info *a, const struct lacp_info *b)
{
    uint8_t mask = LACP_STATE_ACTIVITY | LACP_STATE_TIMEOUT | LACP_STATE_SYNC
                   | LACP_STATE_AGGREGATION;
    return !((a->state ^ b->state) & mask)
           && a->port_id == b->port_id
           && a->port_priority == b->port_priority
           && a->key == b->key
           && a->sys_priority == b->sys_priority
           && !memcmp(a->sys_id, b->sys_id, 6);
}

void
lacp_run(struct lacp *lacp, long long now, lacp_send_func *send, void *aux)
{
    for (size_t i = 0; i < lacp->n; i++) {
        struct member *m = &lacp->members[i];
        if (now >= m->rx_expires) {
            if (m->status == ST_CURRENT) {
                set_expired(m, now);
                m->n_expired++;
            } else if (m->status == ST_EXPIRED) {
                set_defaulted(lacp, m);
                m->n_defaulted++;
            }
        }
    }
    if (lacp->update) {
        update_attached(lacp);
    }
    for (size_t i = 0; i < lacp->n; i++) {
        struct member *m = &lacp->members[i];
        if (!may_tx(lacp, m)) {
            continue;
        }
        struct lacp_info actor;
        get_actor(lacp, m, &actor);
        if (now >= m->tx_due || !tx_equal(&actor, &m->ntt_actor)) {
            uint8_t pdu[LACP_PDU_SIZE];
            m->ntt_actor = actor;
            lacp_pdu_compose(&actor, &m->partner, pdu);
            send(aux, i, pdu);
            m->n_tx++;
            m->tx_due = now + (m->partner.state & LACP_STATE_TIMEOUT
                               ? FAST_TX_MSEC : SLOW_TX_MSEC);
        }
    }
}

long long
lacp_next_wake(const struct lacp *lacp)
{
    long long next = LLONG_MAX;
    for (size_t i = 0; i < lacp->n; i++) {
        const struct member *m = &lacp->members[i];
        if (may_tx(lacp, m)) {
            next = MIN(next, m->tx_due);
        }
        next = MIN(next, m->rx_expires);
    }
    return next;
}

bool
lacp_may_enable(const struct lacp *lacp, size_t idx)
{
    return may_enable(lacp, &lacp->members[idx]);
}

bool
lacp_is_current(const struct lacp *lacp, size_t idx)
{
    return lacp->members[idx].status != ST_DEFAULTED;
}

bool
lacp_negotiated(const struct lacp *lacp)
{
    return lacp->negotiated;
}

bool
lacp_fallback_ab(const struct lacp *lacp)
{
    return lacp->fallback_ab;
}

/* --- appctl text (OVS's layout) --- */

static void
put_mac(struct ds *ds, const uint8_t mac[6])
{
    ds_put_format(ds, "%02x:%02x:%02x:%02x:%02x:%02x",
                  mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

static void
put_state(struct ds *ds, uint8_t state)
{
    static const char *const names[8] = {
        "activity", "timeout", "aggregation", "synchronized",
        "collecting", "distributing", "defaulted", "expired",
    };
    for (int b = 0; b < 8; b++) {
        if (state & (1u << b)) {
            ds_put_format(ds, " %s", names[b]);
        }
    }
}

static void
put_info(struct ds *ds, const char *who, const struct lacp_info *info)
{
    ds_put_format(ds, "  %s sys_id: ", who);
    put_mac(ds, info->sys_id);
    ds_put_format(ds, "\n  %s sys_priority: %u\n", who, info->sys_priority);
    ds_put_format(ds, "  %s port_id: %u\n", who, info->port_id);
    ds_put_format(ds, "  %s port_priority: %u\n", who, info->port_priority);
    ds_put_format(ds, "  %s key: %u\n", who, info->key);
    ds_put_format(ds, "  %s state:", who);
    put_state(ds, info->state);
    ds_put_cstr(ds, "\n");
}

/* Member indexes sorted by name (OVS lists members that way). */
static size_t *
sorted_members(const struct lacp *lacp)
{
    size_t *order = xcalloc(lacp->n, sizeof *order);
    for (size_t i = 0; i < lacp->n; i++) {
        size_t j = i;
        while (j > 0 && strcmp(lacp->members[order[j - 1]].name,
                               lacp->members[i].name) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    return order;
}

void
lacp_format_show(const struct lacp *lacp, struct ds *ds)
{
    static const char *const status[] = {
        [ST_CURRENT] = "current", [ST_EXPIRED] = "expired",
        [ST_DEFAULTED] = "defaulted",
    };
    ds_put_format(ds, "---- %s ----\n", lacp->name);
    ds_put_format(ds, "  status: %s%s\n", lacp->active ? "active" : "passive",
                  lacp->negotiated ? " negotiated" : "");
    ds_put_cstr(ds, "  sys_id: ");
    put_mac(ds, lacp->sys_id);
    ds_put_format(ds, "\n  sys_priority: %u\n", lacp->sys_priority);
    ds_put_format(ds, "  aggregation key: %u\n", aggregation_key(lacp));
    ds_put_format(ds, "  lacp_time: %s\n", lacp->fast ? "fast" : "slow");
    size_t *order = sorted_members(lacp);
    for (size_t k = 0; k < lacp->n; k++) {
        const struct member *m = &lacp->members[order[k]];
        struct lacp_info actor;
        get_actor(lacp, m, &actor);
        ds_put_format(ds, "\nmember: %s: %s %s\n", m->name, status[m->status],
                      m->attached ? "attached" : "detached");
        ds_put_format(ds, "  port_id: %u\n", m->port_id);
        ds_put_format(ds, "  port_priority: %u\n", m->port_priority);
        ds_put_format(ds, "  may_enable: %s\n\n",
                      may_enable(lacp, m) ? "true" : "false");
        put_info(ds, "actor", &actor);
        ds_put_cstr(ds, "\n");
        put_info(ds, "partner", &m->partner);
    }
    free(order);
}

void
lacp_format_stats(const struct lacp *lacp, struct ds *ds)
{
    ds_put_format(ds, "---- %s statistics ----\n", lacp->name);
    size_t *order = sorted_members(lacp);
    for (size_t k = 0; k < lacp->n; k++) {
        const struct member *m = &lacp->members[order[k]];
        ds_put_format(ds, "\nmember: %s:\n", m->name);
        ds_put_format(ds, "  TX PDUs: %u\n", m->n_tx);
        ds_put_format(ds, "  RX PDUs: %u\n", m->n_rx);
        ds_put_format(ds, "  RX Bad PDUs: %u\n", m->n_rx_bad);
        ds_put_format(ds, "  RX Marker Request PDUs: %u\n", m->n_rx_marker);
        ds_put_format(ds, "  Link Expired: %u\n", m->n_expired);
        ds_put_format(ds, "  Link Defaulted: %u\n", m->n_defaulted);
        ds_put_format(ds, "  Carrier Status Changed: %u\n",
                      m->n_carrier_changed);
    }
    free(order);
}
