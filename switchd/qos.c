#include "qos.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dp.h"
#include "ds.h"
#include "hash.h"
#include "hmap.h"
#include "ovsdb-data.h"
#include "ovsdb.h"
#include "policer.h"
#include "replica.h"
#include "tc.h"
#include "unixctl.h"
#include "util.h"
#include "vlog.h"

VLOG_DEFINE_THIS_MODULE(qos);

/* Interface ingress_policing_burst when 0 and a rate is set (kbit), and
 * ingress_policing_kpkts_burst likewise (kilopackets), as ovs-vswitchd. */
#define DEFAULT_POLICING_BURST_KB 8000
#define DEFAULT_POLICING_BURST_KPKTS 16
/* Queue numbers of the class-based types (HTB, HFSC): classes 1:1 to
 * 1:0xf000, as in OVS. */
#define CLASS_N_QUEUES 0xf000
#define MAX_KEYS 5

/* ---- The QoS types ---- */

enum qos_kind {
    KIND_HTB, KIND_HFSC, KIND_SFQ, KIND_CODEL, KIND_FQ_CODEL, KIND_NETEM,
    KIND_NOOP, KIND_EGRESS_POLICER,
};

struct qos_type {
    const char *name;               /* QoS.type */
    enum qos_kind kind;
    bool kernel;                    /* A qdisc on the device. */
    unsigned int n_queues;          /* Queue numbers below this. */
    const char *keys[MAX_KEYS];     /* QoS other_config keys it reads. */
};

/* In the order ovs-vswitchd 3.1 lists them (qos/show-types). */
static const struct qos_type types[] = {
    { "linux-netem", KIND_NETEM, true, 0, { "latency", "limit", "loss" } },
    { "linux-fq_codel", KIND_FQ_CODEL, true, 0,
      { "target", "limit", "interval", "flows", "quantum" } },
    { "linux-codel", KIND_CODEL, true, 0, { "target", "limit", "interval" } },
    { "linux-hfsc", KIND_HFSC, true, CLASS_N_QUEUES, { "max-rate" } },
    { "linux-noop", KIND_NOOP, false, 0, { NULL } },
    { "linux-sfq", KIND_SFQ, true, 0, { "quantum", "perturb" } },
    { "linux-htb", KIND_HTB, true, CLASS_N_QUEUES, { "max-rate" } },
    { "egress-policer", KIND_EGRESS_POLICER, false, 0, { "cir", "cbs" } },
};

static const struct qos_type *
type_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
        if (!strcmp(types[i].name, name)) {
            return &types[i];
        }
    }
    return NULL;
}

/* A QoS row as numbers: what is applied, and what decides whether a
 * change needs applying (compared with memcmp after zeroing). */
struct queue_cfg {
    uint32_t id;
    uint64_t min_rate, max_rate, burst, priority;   /* As in the row. */
};

struct qos_cfg {
    const struct qos_type *type;
    uint64_t v[MAX_KEYS];           /* type->keys[i]; 0: not set. */
    size_t n_queues;
    struct queue_cfg *queues;       /* Sorted by id. */
};

static void
cfg_destroy(struct qos_cfg *c)
{
    free(c->queues);
    memset(c, 0, sizeof *c);
}

static void
cfg_copy(struct qos_cfg *dst, const struct qos_cfg *src)
{
    *dst = *src;
    dst->queues = src->n_queues ? xmemdup(src->queues, src->n_queues
                                          * sizeof *src->queues) : NULL;
}

static bool
cfg_equal(const struct qos_cfg *a, const struct qos_cfg *b)
{
    return a->type == b->type && !memcmp(a->v, b->v, sizeof a->v)
           && a->n_queues == b->n_queues
           && (!a->n_queues || !memcmp(a->queues, b->queues,
                                       a->n_queues * sizeof *a->queues));
}

/* ---- Per-interface state ---- */

struct qos_iface {
    struct hmap_node node;          /* In qos->ifaces, by uuid. */
    struct uuid uuid;
    struct uuid port_uuid;          /* Port that lists it; zero: unknown. */
    char *name;

    /* Ingress policer as applied (both rates 0: none). */
    struct policer_rates in;

    /* Egress QoS as applied. */
    bool eg_applied;
    struct qos_cfg eg;              /* Valid if eg_applied. */
    int eg_ifindex;
    bool eg_qdisc_ours;             /* We put a root qdisc on the device. */
    struct ds eg_show;              /* qos/show: the type's details. */
    char **eg_qshow;                /* qos/show: each queue's details. */

    /* The last error logged, so that it is logged once; and the last
     * configuration the kernel refused, retried only when it or the port
     * changes. */
    char *failed;
    struct qos_cfg fail_cfg;
    struct dp_port *fail_port;
};

struct qos {
    struct dp *dp;
    struct replica *replica;
    struct hmap ifaces;
    int sock;                       /* For SIOCGIF* and ethtool. */
    bool pending, reset;
    struct uuid *dirty_ports, *dirty_ifaces;
    size_t n_dirty_ports, n_dirty_ifaces;
};

static struct qos_iface *
iface_find(const struct qos *q, const struct uuid *uuid)
{
    struct qos_iface *i;
    HMAP_FOR_EACH_WITH_HASH (i, node, uuid_hash(uuid), &q->ifaces) {
        if (uuid_equals(&i->uuid, uuid)) {
            return i;
        }
    }
    return NULL;
}

static struct qos_iface *
iface_get(struct qos *q, const struct uuid *uuid, const char *name)
{
    struct qos_iface *i = iface_find(q, uuid);
    if (!i) {
        i = xzalloc(sizeof *i);
        i->uuid = *uuid;
        i->name = xstrdup(name);
        ds_init(&i->eg_show);
        hmap_insert(&q->ifaces, &i->node, uuid_hash(uuid));
    }
    return i;
}

static void
qshow_reset(struct qos_iface *i, size_t n)
{
    for (size_t k = 0; i->eg_qshow && i->eg_qshow[k]; k++) {
        free(i->eg_qshow[k]);
    }
    free(i->eg_qshow);
    i->eg_qshow = n ? xcalloc(n + 1, sizeof *i->eg_qshow) : NULL;
}

static void
iface_free(struct qos *q, struct qos_iface *i)
{
    hmap_remove(&q->ifaces, &i->node);
    qshow_reset(i, 0);
    cfg_destroy(&i->eg);
    cfg_destroy(&i->fail_cfg);
    ds_destroy(&i->eg_show);
    free(i->failed);
    free(i->name);
    free(i);
}

/* ---- Reading rows ---- */

static const struct ovsdb_row *
find_row(const struct qos *q, const char *table, const struct uuid *uuid)
{
    struct ovsdb *db = replica_get_db(q->replica);
    const struct ovsdb_table *t = db ? ovsdb_find_table(db, table) : NULL;
    return t ? ovsdb_table_find_row(t, uuid) : NULL;
}

static const struct ovsdb_datum *
col(const struct ovsdb_row *row, const char *name)
{
    return ovsdb_row_find_column(row, name, NULL);
}

static long long
col_int(const struct ovsdb_row *row, const char *name)
{
    const struct ovsdb_datum *d = col(row, name);
    return d && d->n ? d->keys[0].integer : 0;
}

static const char *
col_string(const struct ovsdb_row *row, const char *name)
{
    const struct ovsdb_datum *d = col(row, name);
    return d && d->n ? d->keys[0].string : "";
}

static const char *
map_get(const struct ovsdb_row *row, const char *column, const char *key)
{
    const struct ovsdb_datum *d = col(row, column);
    for (unsigned int k = 0; d && k < d->n; k++) {
        if (!strcmp(d->keys[k].string, key)) {
            return d->values[k].string;
        }
    }
    return NULL;
}

static bool
set_has_uuid(const struct ovsdb_datum *d, const struct uuid *uuid)
{
    for (unsigned int k = 0; d && k < d->n; k++) {
        if (uuid_equals(&d->keys[k].uuid, uuid)) {
            return true;
        }
    }
    return false;
}

/* other_config:KEY of ROW as a number (0 if absent).  OVS reads these with
 * strtoull and silently takes 0 for garbage; we refuse garbage instead, so
 * a typo does not turn into "use the link speed". */
static char *
get_u64(const struct ovsdb_row *row, const char *what, const char *key,
        uint64_t *value)
{
    const char *s = map_get(row, "other_config", key);
    *value = 0;
    if (!s) {
        return NULL;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-' || s[0] == '+' || s[0] == ' ') {
        return xasprintf("%s other_config:%s \"%s\" is not a non-negative "
                         "integer", what, key, s);
    }
    *value = v;
    return NULL;
}

static char *
parse_queue(const struct ovsdb_row *row, uint32_t id, struct queue_cfg *qc)
{
    static const char *const keys[] = { "min-rate", "max-rate", "burst",
                                         "priority" };
    uint64_t *dst[] = { &qc->min_rate, &qc->max_rate, &qc->burst,
                        &qc->priority };
    char what[32];
    snprintf(what, sizeof what, "queue %"PRIu32, id);
    qc->id = id;
    for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
        char *error = get_u64(row, what, keys[k], dst[k]);
        if (error) {
            return error;
        }
    }
    return NULL;
}

/* Parses QoS row ROW into *CFG (zeroed first).  Returns NULL or an error
 * message saying what is wrong (caller frees); nothing is applied. */
static char *
parse_qos(const struct qos *q, const struct ovsdb_row *row,
          struct qos_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    const char *name = col_string(row, "type");
    cfg->type = type_find(name);
    if (!cfg->type) {
        struct ds ds;
        ds_init(&ds);
        ds_put_format(&ds, "QoS type \"%s\" is not supported (supported: ",
                      name);
        for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
            ds_put_format(&ds, "%s%s", i ? ", " : "", types[i].name);
        }
        ds_put_cstr(&ds, ")");
        return ds_steal_cstr(&ds);
    }
    for (size_t k = 0; k < MAX_KEYS && cfg->type->keys[k]; k++) {
        char *error = get_u64(row, "QoS", cfg->type->keys[k], &cfg->v[k]);
        if (error) {
            return error;
        }
    }
    if (cfg->type->kind == KIND_EGRESS_POLICER && (!cfg->v[0] || !cfg->v[1])) {
        return xstrdup("QoS type egress-policer needs other_config:cir "
                       "(bytes/s) and other_config:cbs (bytes), both above 0");
    }
    if (cfg->type->kind == KIND_NETEM && cfg->v[2] > 100) {
        return xasprintf("QoS other_config:loss \"%"PRIu64"\" is not a "
                         "percentage (0 to 100)", cfg->v[2]);
    }
    const struct ovsdb_datum *queues = col(row, "queues");
    if (!cfg->type->n_queues || !queues) {
        return NULL;    /* Queues of a type without classes: not used. */
    }
    cfg->queues = xcalloc(queues->n ? queues->n : 1, sizeof *cfg->queues);
    for (unsigned int k = 0; k < queues->n; k++) {
        long long id = queues->keys[k].integer;
        const struct ovsdb_row *qrow = find_row(q, "Queue",
                                                &queues->values[k].uuid);
        if (id >= cfg->type->n_queues) {
            return xasprintf("queue %lld is out of range for %s (0 to %u)",
                             id, cfg->type->name, cfg->type->n_queues - 1);
        }
        if (qrow) {
            char *error = parse_queue(qrow, (uint32_t) id,
                                      &cfg->queues[cfg->n_queues]);
            if (error) {
                return error;
            }
            cfg->n_queues++;
        }
    }
    return NULL;
}

/* ---- Devices ---- */

static int
dev_ioctl(const struct qos *q, const char *name, unsigned long req,
          struct ifreq *ifr)
{
    memset(ifr->ifr_name, 0, sizeof ifr->ifr_name);
    snprintf(ifr->ifr_name, sizeof ifr->ifr_name, "%s", name);
    return ioctl(q->sock, req, ifr) ? errno : 0;
}

static int
dev_mtu(const struct qos *q, const char *name)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    return dev_ioctl(q, name, SIOCGIFMTU, &ifr) ? 1500 : ifr.ifr_mtu;
}

/* The device's link speed in bytes/s, 100 Mbit/s if it does not say, as
 * OVS assumes for max-rate. */
static uint64_t
dev_speed(const struct qos *q, const char *name)
{
    struct ethtool_cmd ecmd;
    memset(&ecmd, 0, sizeof ecmd);
    ecmd.cmd = ETHTOOL_GSET;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_data = (void *) &ecmd;
    uint32_t mbps = 0;
    if (!dev_ioctl(q, name, SIOCETHTOOL, &ifr)) {
        mbps = ethtool_cmd_speed(&ecmd);
    }
    if (!mbps || mbps == (uint32_t) SPEED_UNKNOWN) {
        mbps = 100;
    }
    return (uint64_t) mbps * 1000000 / 8;
}

/* ---- Applying the kernel types ---- */

static uint32_t
clamp32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t) v;
}

/* The root class's rate: other_config:max-rate, else the link speed. */
static uint32_t
root_rate(const struct qos *q, const char *dev, const struct qos_cfg *c)
{
    return clamp32(c->v[0] ? c->v[0] / 8 : dev_speed(q, dev));
}

/* HTB: root class 1:fffe at max-rate, queue N as class 1:N+1 under it,
 * with OVS's rules for defaults and bounds. */
static int
apply_htb(const struct qos *q, struct qos_iface *i, int ifindex, int mtu,
          const struct qos_cfg *c, bool fresh, char **kmsg)
{
    int error = fresh ? tc_add_htb_qdisc(ifindex, kmsg) : 0;
    uint32_t max = root_rate(q, i->name, c);
    struct tc_htb_class root = { max, max, 0, 0 };
    error = error ? error : tc_set_htb_class(ifindex, TC_HANDLE(1, 0xfffe),
                                             TC_HANDLE(1, 0), &root, mtu,
                                             kmsg);
    ds_put_format(&i->eg_show, "max-rate: %"PRIu64"\n", 8 * (uint64_t) max);
    for (size_t k = 0; !error && k < c->n_queues; k++) {
        const struct queue_cfg *qc = &c->queues[k];
        struct tc_htb_class hc;
        /* HTB needs at least one MTU per second to send anything. */
        hc.min_rate = MIN(MAX(clamp32(qc->min_rate / 8), (uint32_t) mtu), max);
        hc.max_rate = qc->max_rate ? clamp32(qc->max_rate / 8) : max;
        hc.max_rate = MIN(MAX(hc.max_rate, hc.min_rate), max);
        /* At least one frame, with room for headers the MTU omits. */
        hc.burst = MAX(clamp32(qc->burst / 8), (uint32_t) mtu + 64);
        hc.priority = clamp32(qc->priority);
        error = tc_set_htb_class(ifindex, TC_HANDLE(1, qc->id + 1),
                                 TC_HANDLE(1, 0xfffe), &hc, mtu, kmsg);
        struct ds d;
        ds_init(&d);
        ds_put_format(&d, "  burst: %"PRIu64"\n", 8 * (uint64_t) hc.burst);
        if (hc.priority) {
            ds_put_format(&d, "  priority: %"PRIu32"\n", hc.priority);
        }
        ds_put_format(&d, "  min-rate: %"PRIu64"\n",
                      8 * (uint64_t) hc.min_rate);
        if (hc.min_rate != hc.max_rate) {
            ds_put_format(&d, "  max-rate: %"PRIu64"\n",
                          8 * (uint64_t) hc.max_rate);
        }
        i->eg_qshow[k] = ds_steal_cstr(&d);
    }
    return error;
}

static int
apply_hfsc(const struct qos *q, struct qos_iface *i, int ifindex,
           const struct qos_cfg *c, bool fresh, char **kmsg)
{
    int error = fresh ? tc_add_hfsc_qdisc(ifindex, kmsg) : 0;
    uint32_t max = root_rate(q, i->name, c);
    error = error ? error : tc_set_hfsc_class(ifindex, TC_HANDLE(1, 0xfffe),
                                              TC_HANDLE(1, 0), max, max,
                                              kmsg);
    ds_put_format(&i->eg_show, "max-rate: %"PRIu64"\n", 8 * (uint64_t) max);
    for (size_t k = 0; !error && k < c->n_queues; k++) {
        const struct queue_cfg *qc = &c->queues[k];
        uint32_t min = MIN(MAX(clamp32(qc->min_rate / 8), 1u), max);
        uint32_t qmax = qc->max_rate ? clamp32(qc->max_rate / 8) : max;
        qmax = MIN(MAX(qmax, min), max);
        error = tc_set_hfsc_class(ifindex, TC_HANDLE(1, qc->id + 1),
                                  TC_HANDLE(1, 0xfffe), min, qmax, kmsg);
        struct ds d;
        ds_init(&d);
        ds_put_format(&d, "  min-rate: %"PRIu64"\n", 8 * (uint64_t) min);
        if (min != qmax) {
            ds_put_format(&d, "  max-rate: %"PRIu64"\n", 8 * (uint64_t) qmax);
        }
        i->eg_qshow[k] = ds_steal_cstr(&d);
    }
    return error;
}

/* The classless types: one qdisc with OVS's defaults for unset values. */
static int
apply_classless(struct qos_iface *i, int ifindex, int mtu,
                const struct qos_cfg *c, char **kmsg)
{
    const uint64_t *v = c->v;
    uint32_t a, b, d, e, f;
    switch (c->type->kind) {
    case KIND_SFQ:
        a = v[0] ? clamp32(v[0]) : (uint32_t) mtu;
        b = v[1] ? clamp32(v[1]) : 10;
        ds_put_format(&i->eg_show, "quantum: %"PRIu32"\nperturb: %"PRIu32
                      "\n", a, b);
        return tc_add_sfq_qdisc(ifindex, a, b, kmsg);
    case KIND_CODEL:
        a = v[0] ? clamp32(v[0]) : 5000;
        b = v[1] ? clamp32(v[1]) : 10240;
        d = v[2] ? clamp32(v[2]) : 100000;
        ds_put_format(&i->eg_show, "target: %"PRIu32"\nlimit: %"PRIu32
                      "\ninterval: %"PRIu32"\n", a, b, d);
        return tc_add_codel_qdisc(ifindex, a, b, d, kmsg);
    case KIND_FQ_CODEL:
        a = v[0] ? clamp32(v[0]) : 5000;
        b = v[1] ? clamp32(v[1]) : 10240;
        d = v[2] ? clamp32(v[2]) : 1000000;     /* OVS 3.1's default. */
        e = v[3] ? clamp32(v[3]) : 1024;
        f = v[4] ? clamp32(v[4]) : 1514;
        ds_put_format(&i->eg_show, "target: %"PRIu32"\nlimit: %"PRIu32
                      "\ninterval: %"PRIu32"\nflows: %"PRIu32"\nquantum: %"
                      PRIu32"\n", a, b, d, e, f);
        return tc_add_fq_codel_qdisc(ifindex, a, b, d, e, f, kmsg);
    case KIND_NETEM:
        a = clamp32(v[0]);
        b = v[1] ? clamp32(v[1]) : 1000;
        d = clamp32(v[2]);
        ds_put_format(&i->eg_show, "latency: %"PRIu32"\nlimit: %"PRIu32
                      "\nloss: %"PRIu32"\n", a, b, d);
        return tc_add_netem_qdisc(ifindex, a, b, d, kmsg);
    case KIND_HTB: case KIND_HFSC: case KIND_NOOP: case KIND_EGRESS_POLICER:
    default:
        return EINVAL;
    }
}

/* Puts C on I's device.  FRESH: replace the root qdisc; else only the
 * classes change (same class-based type on the same device), which does
 * not interrupt traffic.  Returns 0 or an errno (*KMSG: the kernel's
 * words). */
static int
apply_kernel(struct qos *q, struct qos_iface *i, int ifindex,
             const struct qos_cfg *c, bool fresh, char **kmsg)
{
    int mtu = dev_mtu(q, i->name);
    int error = 0;
    if (fresh) {
        error = tc_del_root_qdisc(ifindex, kmsg);
        i->eg_qdisc_ours = false;
        if (error) {
            return error;
        }
    }
    i->eg_qdisc_ours = true;
    switch (c->type->kind) {
    case KIND_HTB:
        error = apply_htb(q, i, ifindex, mtu, c, fresh, kmsg);
        break;
    case KIND_HFSC:
        error = apply_hfsc(q, i, ifindex, c, fresh, kmsg);
        break;
    case KIND_SFQ: case KIND_CODEL: case KIND_FQ_CODEL: case KIND_NETEM:
        error = apply_classless(i, ifindex, mtu, c, kmsg);
        break;
    case KIND_NOOP: case KIND_EGRESS_POLICER:
    default:
        break;
    }
    if (!error && !fresh && i->eg_applied) {
        /* Classes of queues that are gone. */
        for (size_t k = 0; k < i->eg.n_queues; k++) {
            bool kept = false;
            for (size_t m = 0; m < c->n_queues && !kept; m++) {
                kept = c->queues[m].id == i->eg.queues[k].id;
            }
            if (!kept) {
                tc_del_class(ifindex, TC_HANDLE(1, i->eg.queues[k].id + 1),
                             NULL);
            }
        }
    }
    return error;
}

/* Undoes the applied egress QoS of I (device and datapath). */
static void
egress_clear(struct qos *q, struct qos_iface *i)
{
    if (!i->eg_applied) {
        return;
    }
    if (i->eg_qdisc_ours) {
        int ifindex = (int) if_nametoindex(i->name);
        char *kmsg = NULL;
        int error = ifindex == i->eg_ifindex
                    ? tc_del_root_qdisc(ifindex, &kmsg) : 0;
        if (error) {
            VLOG_WARN("%s: removing the QoS qdisc failed: %s%s%s", i->name,
                      strerror(error), kmsg ? ": " : "", kmsg ? kmsg : "");
        }
        free(kmsg);
    }
    if (i->eg.type->kind == KIND_EGRESS_POLICER) {
        dp_set_port_policer(q->dp, i->name, false, NULL);
    } else {
        dp_set_port_use_qdisc(q->dp, i->name, false);
    }
    i->eg_applied = false;
    i->eg_qdisc_ours = false;
    cfg_destroy(&i->eg);
    ds_clear(&i->eg_show);
    qshow_reset(i, 0);
}

/* Whether the datapath port still has what I's applied egress QoS put
 * there.  The bridge re-creates a port for some changes (e.g. a new
 * ofport_request), and the new one starts without QoS; comparing port
 * pointers would not tell, since the new port may reuse the old memory. */
static bool
egress_in_place(struct qos *q, const struct qos_iface *i)
{
    if (i->eg.type->kind == KIND_EGRESS_POLICER) {
        struct policer_stats ps;
        return !dp_get_port_policer(q->dp, i->name, false, &ps)
               && ps.rates.rate == i->eg.v[0] && ps.rates.burst == i->eg.v[1]
               && !ps.rates.pkt_rate;
    }
    /* Idempotent and cheap: a new port gets its qdisc path back. */
    return !dp_set_port_use_qdisc(q->dp, i->name, true);
}

static void
note_failure(struct qos_iface *i, const char *port, const char *msg)
{
    if (!i->failed || strcmp(i->failed, msg)) {
        VLOG_WARN("port %s: %s", port, msg);
        free(i->failed);
        i->failed = xstrdup(msg);
    }
}

static void
clear_failure(struct qos_iface *i)
{
    free(i->failed);
    i->failed = NULL;
    cfg_destroy(&i->fail_cfg);
}

/* I's egress QoS becomes C, whose contents it takes (C is left empty). */
static void
take_egress_cfg(struct qos_iface *i, struct qos_cfg *c, int ifindex)
{
    cfg_destroy(&i->eg);
    i->eg = *c;
    memset(c, 0, sizeof *c);
    i->eg_applied = true;
    i->eg_ifindex = ifindex;
}

/* Installs C on I (device IFINDEX) and fills I's qos/show text.  Returns 0
 * or an errno (*KMSG: the kernel's explanation, or NULL; caller frees). */
static int
egress_install(struct qos *q, struct qos_iface *i, int ifindex,
               const struct qos_cfg *c, bool same_classes, char **kmsg)
{
    *kmsg = NULL;
    ds_clear(&i->eg_show);
    qshow_reset(i, c->n_queues);
    if (c->type->kind == KIND_EGRESS_POLICER) {
        ds_put_format(&i->eg_show, "cir: %"PRIu64"\ncbs: %"PRIu64"\n",
                      c->v[0], c->v[1]);
        struct policer_rates r = { .rate = c->v[0], .burst = c->v[1] };
        return dp_set_port_policer(q->dp, i->name, false, &r);
    }
    int error = c->type->kernel
                ? apply_kernel(q, i, ifindex, c, !same_classes, kmsg) : 0;
    return error ? error : dp_set_port_use_qdisc(q->dp, i->name, true);
}

/* Makes I's egress QoS C (NULL: none) on datapath port PORT. */
static void
egress_apply(struct qos *q, struct qos_iface *i, const char *port_name,
             struct dp_port *port, struct qos_cfg *c)
{
    if (!c) {
        egress_clear(q, i);
        clear_failure(i);
        return;
    }
    bool on_device = c->type->kernel || c->type->kind == KIND_NOOP;
    int ifindex = on_device ? (int) if_nametoindex(i->name) : 0;
    if (i->eg_applied && cfg_equal(&i->eg, c) && i->eg_ifindex == ifindex
        && egress_in_place(q, i)) {
        return;                         /* Nothing changed. */
    }
    if (i->fail_cfg.type && cfg_equal(&i->fail_cfg, c)
        && i->fail_port == port) {
        return;                         /* Failed before: wait for a change. */
    }
    const char *ptype = dp_port_type(port);
    if (on_device && strcmp(ptype, "system") && strcmp(ptype, "internal")) {
        char *msg = xasprintf("QoS type %s needs a system or internal "
                              "interface, %s is %s; QoS not applied",
                              c->type->name, i->name, ptype);
        note_failure(i, port_name, msg);
        free(msg);
        return;
    }
    bool same_classes = i->eg_applied && i->eg.type == c->type
                        && i->eg_qdisc_ours && i->eg_ifindex == ifindex
                        && (c->type->kind == KIND_HTB
                            || c->type->kind == KIND_HFSC);
    if (!same_classes) {
        egress_clear(q, i);
    }
    char *kmsg;
    int error = egress_install(q, i, ifindex, c, same_classes, &kmsg);
    if (error) {
        char *msg = xasprintf("cannot set QoS %s on %s: %s%s%s%s",
                              c->type->name, i->name, strerror(error),
                              kmsg ? " (kernel: " : "", kmsg ? kmsg : "",
                              kmsg ? ")" : "");
        note_failure(i, port_name, msg);
        free(msg);
        free(kmsg);
        cfg_destroy(&i->fail_cfg);
        cfg_copy(&i->fail_cfg, c);
        i->fail_port = port;
        /* What a failed install left on the device is not a QoS. */
        take_egress_cfg(i, c, ifindex);
        egress_clear(q, i);
        return;
    }
    VLOG_INFO("port %s: QoS %s on %s", port_name, c->type->name, i->name);
    take_egress_cfg(i, c, ifindex);
    clear_failure(i);
}

/* ---- Ingress policing ---- */

/* One rate/burst column pair of Interface, in the units given (kbit or
 * kilopackets), as bucket rate and size in bytes or packets (SCALE per
 * unit); burst 0 means DEFAULT_BURST.  A negative value is as 0 (the
 * schema allows none). */
static void
ingress_rate(const struct ovsdb_row *row, const char *rate_col,
             const char *burst_col, long long default_burst, uint64_t scale,
             uint64_t *rate, uint64_t *burst)
{
    long long r = row ? col_int(row, rate_col) : 0;
    long long b = row ? col_int(row, burst_col) : 0;
    r = MIN(MAX(r, 0), UINT32_MAX);
    b = MIN(MAX(b, 0), UINT32_MAX);
    *rate = (uint64_t) r * scale;
    *burst = r ? (uint64_t) (b ? b : default_burst) * scale : 0;
}

static bool
rates_equal(const struct policer_rates *a, const struct policer_rates *b)
{
    return a->rate == b->rate && a->burst == b->burst
           && a->pkt_rate == b->pkt_rate && a->pkt_burst == b->pkt_burst;
}

static void
ingress_apply(struct qos *q, struct qos_iface *i, struct dp_port *port,
              const struct ovsdb_row *row)
{
    /* kbit/s to bytes/s is 1000 / 8 (a whole number of bytes for any
     * multiple of 8 kbit; the remainder is lost, as in OVS's tc rate). */
    struct policer_rates r;
    ingress_rate(row, "ingress_policing_rate", "ingress_policing_burst",
                 DEFAULT_POLICING_BURST_KB, 1, &r.rate, &r.burst);
    r.rate = r.rate * 1000 / 8;
    r.burst = r.burst * 1000 / 8;
    ingress_rate(row, "ingress_policing_kpkts_rate",
                 "ingress_policing_kpkts_burst", DEFAULT_POLICING_BURST_KPKTS,
                 1000, &r.pkt_rate, &r.pkt_burst);
    bool on = r.rate || r.pkt_rate;
    if (!port) {
        memset(&i->in, 0, sizeof i->in);  /* Applied when the port appears. */
        return;
    }
    /* Ask the port itself: a re-created port has no policer. */
    struct policer_stats ps;
    bool has = !dp_get_port_policer(q->dp, i->name, true, &ps);
    if (on ? has && rates_equal(&ps.rates, &r) : !has) {
        i->in = r;
        return;
    }
    if (!dp_set_port_policer(q->dp, i->name, true, &r)) {
        if (on) {
            VLOG_INFO("interface %s: ingress policing on (%"PRIu64" kbps, "
                      "%"PRIu64" kpps)", i->name, r.rate * 8 / 1000,
                      r.pkt_rate / 1000);
        } else if (i->in.rate || i->in.pkt_rate) {
            VLOG_INFO("interface %s: ingress policing off", i->name);
        }
        i->in = r;
    }
}

/* ---- Reconciliation ---- */

/* Re-reads everything that decides I's QoS and applies the difference.
 * Returns false if I no longer needs tracking. */
static bool
iface_evaluate(struct qos *q, struct qos_iface *i)
{
    const struct ovsdb_row *row = find_row(q, "Interface", &i->uuid);
    struct dp_port *port = row ? dp_find_port(q->dp, i->name) : NULL;
    ingress_apply(q, i, port, row);

    const struct ovsdb_row *prow = row && !uuid_is_zero(&i->port_uuid)
                                   ? find_row(q, "Port", &i->port_uuid) : NULL;
    if (prow && !set_has_uuid(col(prow, "interfaces"), &i->uuid)) {
        prow = NULL;
    }
    const struct ovsdb_datum *qd = prow ? col(prow, "qos") : NULL;
    const struct ovsdb_row *qrow = qd && qd->n
                                   ? find_row(q, "QoS", &qd->keys[0].uuid)
                                   : NULL;
    const char *pname = prow ? col_string(prow, "name") : i->name;
    if (!qrow || !port) {
        if (!port && i->eg_applied) {
            /* The port left the datapath: its device keeps nothing of
             * ours, it gets the configuration again when it returns. */
            egress_clear(q, i);
        } else if (!qrow) {
            egress_apply(q, i, pname, port, NULL);
        }
    } else {
        struct qos_cfg cfg;
        char *error = parse_qos(q, qrow, &cfg);
        if (error) {
            char *msg = xasprintf("%s; QoS left unchanged", error);
            note_failure(i, pname, msg);
            free(msg);
            free(error);
        } else {
            egress_apply(q, i, pname, port, &cfg);
        }
        cfg_destroy(&cfg);
    }
    return row && (i->in.rate || i->in.pkt_rate
                   || col_int(row, "ingress_policing_rate")
                   || col_int(row, "ingress_policing_kpkts_rate")
                   || qrow || i->eg_applied);
}

static void
add_uuid(struct uuid **v, size_t *n, const struct uuid *u)
{
    *v = xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = *u;
}

void
qos_note_changes(struct qos *q, const struct replica_change *changes,
                 size_t n, bool reset)
{
    for (size_t k = 0; k < n; k++) {
        const char *t = changes[k].table;
        if (!strcmp(t, "Port")) {
            add_uuid(&q->dirty_ports, &q->n_dirty_ports, &changes[k].uuid);
        } else if (!strcmp(t, "Interface")) {
            add_uuid(&q->dirty_ifaces, &q->n_dirty_ifaces, &changes[k].uuid);
        }
    }
    q->reset |= reset;
    q->pending |= n || reset;
}

/* A Port row: remember which interfaces it holds if it has QoS (or they
 * are tracked), so that they are evaluated with it. */
static void
track_port(struct qos *q, const struct ovsdb_row *prow)
{
    const struct ovsdb_datum *qd = col(prow, "qos");
    const struct ovsdb_datum *ifaces = col(prow, "interfaces");
    for (unsigned int k = 0; ifaces && k < ifaces->n; k++) {
        const struct uuid *u = &ifaces->keys[k].uuid;
        struct qos_iface *i = iface_find(q, u);
        if (!i && qd && qd->n) {
            const struct ovsdb_row *irow = find_row(q, "Interface", u);
            if (irow) {
                i = iface_get(q, u, col_string(irow, "name"));
            }
        }
        if (i) {
            i->port_uuid = prow->uuid;
        }
    }
}

static void
track_iface(struct qos *q, const struct ovsdb_row *irow)
{
    if (col_int(irow, "ingress_policing_rate") > 0
        || col_int(irow, "ingress_policing_kpkts_rate") > 0) {
        iface_get(q, &irow->uuid, col_string(irow, "name"));
    }
}

void
qos_run(struct qos *q)
{
    struct ovsdb *db = replica_get_db(q->replica);
    if (!q->pending || !db) {
        return;
    }
    if (q->reset) {
        const struct ovsdb_row *row;
        OVSDB_TABLE_FOR_EACH_ROW (row, ovsdb_find_table(db, "Port")) {
            track_port(q, row);
        }
        OVSDB_TABLE_FOR_EACH_ROW (row, ovsdb_find_table(db, "Interface")) {
            track_iface(q, row);
        }
    }
    for (size_t k = 0; k < q->n_dirty_ports; k++) {
        const struct ovsdb_row *row = find_row(q, "Port", &q->dirty_ports[k]);
        if (row) {
            track_port(q, row);
        }
    }
    for (size_t k = 0; k < q->n_dirty_ifaces; k++) {
        const struct ovsdb_row *row = find_row(q, "Interface",
                                               &q->dirty_ifaces[k]);
        if (row) {
            track_iface(q, row);
        }
    }
    /* Every tracked interface: few (those with QoS), and a change to a
     * QoS or Queue row, or a port re-created by the bridge, shows here. */
    struct qos_iface *i, *next;
    HMAP_FOR_EACH_SAFE (i, next, node, &q->ifaces) {
        if (!iface_evaluate(q, i)) {
            iface_free(q, i);
        }
    }
    free(q->dirty_ports);
    free(q->dirty_ifaces);
    q->dirty_ports = q->dirty_ifaces = NULL;
    q->n_dirty_ports = q->n_dirty_ifaces = 0;
    q->pending = q->reset = false;
}

/* ---- appctl ---- */

static const struct ovsdb_row *
iface_row_by_name(const struct qos *q, const char *name)
{
    struct ovsdb *db = replica_get_db(q->replica);
    const struct ovsdb_table *t = db ? ovsdb_find_table(db, "Interface")
                                     : NULL;
    const struct ovsdb_row *row;
    if (t) {
        OVSDB_TABLE_FOR_EACH_ROW (row, t) {
            if (!strcmp(col_string(row, "name"), name)) {
                return row;
            }
        }
    }
    return NULL;
}

struct show_stats {
    const struct qos_cfg *cfg;
    struct tc_class_stats *stats;   /* Per queue of cfg. */
    bool *found;
};

static void
show_stats_cb(uint32_t minor, const struct tc_class_stats *s, void *aux_)
{
    struct show_stats *aux = aux_;
    for (size_t k = 0; k < aux->cfg->n_queues; k++) {
        if (aux->cfg->queues[k].id + 1 == minor) {
            aux->stats[k] = *s;
            aux->found[k] = true;
        }
    }
}

/* The type's details, then per queue (Default is queue 0) its details
 * and the kernel class's counters, as ovs-vswitchd prints them. */
static void
show_egress(struct qos_iface *i, struct ds *out)
{
    const struct qos_cfg *c = &i->eg;
    size_t n = c->n_queues;
    struct show_stats aux = { c, xcalloc(n ? n : 1, sizeof *aux.stats),
                              xcalloc(n ? n : 1, sizeof *aux.found) };
    int error = n ? tc_dump_classes(i->eg_ifindex, show_stats_cb, &aux) : 0;
    ds_put_cstr(out, ds_cstr(&i->eg_show));
    for (size_t k = 0; k < n && i->eg_qshow && i->eg_qshow[k]; k++) {
        uint32_t id = c->queues[k].id;
        if (id) {
            ds_put_format(out, "\nQueue %"PRIu32":\n", id);
        } else {
            ds_put_cstr(out, "\nDefault:\n");
        }
        ds_put_cstr(out, i->eg_qshow[k]);
        if (aux.found[k]) {
            ds_put_format(out, "  tx_packets: %"PRIu64"\n  tx_bytes: %"
                          PRIu64"\n  tx_errors: %"PRIu64"\n",
                          aux.stats[k].tx_packets, aux.stats[k].tx_bytes,
                          aux.stats[k].tx_errors);
        } else {
            ds_put_format(out, "  Failed to get statistics for queue %"
                          PRIu32": %s\n", id,
                          strerror(error ? error : ENOENT));
        }
    }
    free(aux.stats);
    free(aux.found);
}

static void
cmd_qos_show(struct unixctl_conn *conn, int argc, const char *argv[],
             void *q_)
{
    struct qos *q = q_;
    (void) argc;
    const struct ovsdb_row *row = iface_row_by_name(q, argv[1]);
    if (!row) {
        unixctl_command_reply_error(conn, "no such interface");
        return;
    }
    struct qos_iface *i = iface_find(q, &row->uuid);
    struct ds out;
    ds_init(&out);
    if (i && i->eg_applied && i->eg.type->kind != KIND_NOOP) {
        ds_put_format(&out, "QoS: %s %s\n", i->name, i->eg.type->name);
        show_egress(i, &out);
    } else {
        ds_put_format(&out, "QoS not configured on %s\n", argv[1]);
    }
    unixctl_command_reply(conn, ds_cstr(&out));
    ds_destroy(&out);
}

static void
cmd_qos_show_types(struct unixctl_conn *conn, int argc, const char *argv[],
                   void *q_)
{
    struct qos *q = q_;
    (void) argc;
    const struct ovsdb_row *row = iface_row_by_name(q, argv[1]);
    if (!row) {
        unixctl_command_reply_error(conn, "no such interface");
        return;
    }
    const char *t = col_string(row, "type");
    bool netdev = !*t || !strcmp(t, "system") || !strcmp(t, "internal");
    struct ds out;
    ds_init(&out);
    for (size_t k = 0; k < ARRAY_SIZE(types); k++) {
        /* Without a kernel device there is no qdisc: only policing. */
        if (netdev || (!types[k].kernel
                       && types[k].kind == KIND_EGRESS_POLICER)) {
            ds_put_format(&out, "QoS type: %s\n", types[k].name);
        }
    }
    unixctl_command_reply(conn, ds_cstr(&out));
    ds_destroy(&out);
}

/* ---- Life cycle ---- */

struct qos *
qos_create(struct dp *dp, struct replica *replica)
{
    struct qos *q = xzalloc(sizeof *q);
    q->dp = dp;
    q->replica = replica;
    hmap_init(&q->ifaces);
    q->sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    unixctl_command_register("qos/show", "interface", 1, 1, cmd_qos_show, q);
    unixctl_command_register("qos/show-types", "interface", 1, 1,
                             cmd_qos_show_types, q);
    return q;
}

void
qos_destroy(struct qos *q)
{
    if (!q) {
        return;
    }
    struct qos_iface *i, *next;
    HMAP_FOR_EACH_SAFE (i, next, node, &q->ifaces) {
        iface_free(q, i);
    }
    hmap_destroy(&q->ifaces);
    free(q->dirty_ports);
    free(q->dirty_ifaces);
    if (q->sock >= 0) {
        close(q->sock);
    }
    free(q);
}
