#include "mirror.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "packet.h"
#include "policer.h"
#include "port.h"
#include "util.h"
#include "vlan.h"

/* Counter slots: twice MIRROR_MAX so that a slot freed by one configure
 * call can stay unused until the next (by then no forwarding thread still
 * counts into it through the old set), even when every mirror changes. */
#define N_SLOTS (2 * MIRROR_MAX)

struct mirror_counter {
    _Atomic uint64_t packets, bytes;
};

struct mirror_entry {
    char *name;
    uint32_t dup;               /* Mirrors with the same output, this one
                                 * included: one copy serves them all. */
    uint32_t out_port;          /* 0: output VLAN. */
    uint16_t out_vlan;
    uint32_t snaplen;
    bool all_vlans;
    struct vlan_bitmap vlans;
    size_t n_dst;
    uint32_t *dst;              /* Destination port numbers. */
    struct mirror_counter *counter;
};

/* Per port number that some mirror mentions. */
struct mirror_port {
    uint32_t port_no;
    uint32_t src, dst;          /* Mirror bits selecting it. */
    bool reserved;              /* Output port of a mirror. */
};

struct mirror_set {
    size_t n;
    uint32_t all;               /* select_all mirrors. */
    uint32_t dst_any;           /* Mirrors with destination ports. */
    size_t n_ports;
    struct mirror_port *ports;  /* Sorted by port_no. */
    struct mirror_entry e[MIRROR_MAX];
};

struct mirror_table {
    struct mirror_set *cur;     /* Published; NULL: no mirror. */
    struct mirror_set *retired; /* Replaced by 'cur', freed next time. */
    char *ids[N_SLOTS];         /* Slot owner, NULL: free. */
    uint64_t cooling;           /* Slots freed by the last configure. */
    struct mirror_counter counters[N_SLOTS];
};

/* ---- Control side. ---- */

static void
set_free(struct mirror_set *s)
{
    if (!s) {
        return;
    }
    for (size_t i = 0; i < s->n; i++) {
        free(s->e[i].name);
        free(s->e[i].dst);
    }
    free(s->ports);
    free(s);
}

struct mirror_table *
mirror_table_create(void)
{
    return xzalloc(sizeof(struct mirror_table));
}

void
mirror_table_destroy(struct mirror_table *t)
{
    if (!t) {
        return;
    }
    set_free(t->cur);
    set_free(t->retired);
    for (size_t i = 0; i < N_SLOTS; i++) {
        free(t->ids[i]);
    }
    free(t);
}

static int
validate(const struct mirror_config *cfgs, size_t n)
{
    if (n > MIRROR_MAX) {
        return EFBIG;
    }
    for (size_t i = 0; i < n; i++) {
        const struct mirror_config *c = &cfgs[i];
        if (!c->id || (!c->out_port == !c->out_vlan)
            || c->out_vlan >= VLAN_N_VIDS
            || (c->snaplen && c->snaplen < PACKET_ETH_HLEN)) {
            return EINVAL;
        }
        for (size_t v = 0; v < c->n_vlans; v++) {
            if (c->vlans[v] >= VLAN_N_VIDS) {
                return EINVAL;
            }
        }
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(cfgs[j].id, c->id)) {
                return EINVAL;
            }
        }
    }
    return 0;
}

static int
find_slot(const struct mirror_table *t, const char *id)
{
    for (int s = 0; s < N_SLOTS; s++) {
        if (t->ids[s] && !strcmp(t->ids[s], id)) {
            return s;
        }
    }
    return -1;
}

/* Gives every config a counter slot (SLOTS[i]): its old one if its id is
 * known, else a slot neither used nor cooling, zeroed. */
static void
assign_slots(struct mirror_table *t, const struct mirror_config *cfgs,
             size_t n, int slots[])
{
    uint64_t keep = 0;
    for (size_t i = 0; i < n; i++) {
        slots[i] = find_slot(t, cfgs[i].id);
        if (slots[i] >= 0) {
            keep |= UINT64_C(1) << slots[i];
        }
    }
    uint64_t freed = 0;
    for (int s = 0; s < N_SLOTS; s++) {
        if (t->ids[s] && !(keep >> s & 1)) {
            free(t->ids[s]);
            t->ids[s] = NULL;
            freed |= UINT64_C(1) << s;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (slots[i] >= 0) {
            continue;
        }
        int s = 0;
        while (t->ids[s] || ((t->cooling | freed) >> s & 1)) {
            s++;                /* At most 32 used + 32 cooling: found. */
        }
        t->ids[s] = xstrdup(cfgs[i].id);
        atomic_store(&t->counters[s].packets, 0);
        atomic_store(&t->counters[s].bytes, 0);
        slots[i] = s;
    }
    t->cooling = freed;
}

static struct mirror_port *
port_entry(struct mirror_set *s, uint32_t port_no)
{
    for (size_t i = 0; i < s->n_ports; i++) {
        if (s->ports[i].port_no == port_no) {
            return &s->ports[i];
        }
    }
    s->ports = xrealloc(s->ports, (s->n_ports + 1) * sizeof *s->ports);
    struct mirror_port *p = &s->ports[s->n_ports++];
    *p = (struct mirror_port) { .port_no = port_no };
    return p;
}

static int
compare_ports(const void *a_, const void *b_)
{
    const struct mirror_port *a = a_, *b = b_;
    return a->port_no < b->port_no ? -1 : a->port_no > b->port_no;
}

static void
fill_entry(struct mirror_set *s, size_t i, const struct mirror_config *c,
           struct mirror_counter *counter)
{
    struct mirror_entry *e = &s->e[i];
    uint32_t bit = UINT32_C(1) << i;
    e->name = xstrdup(c->name ? c->name : c->id);
    e->out_port = c->out_port;
    e->out_vlan = c->out_vlan;
    e->snaplen = c->snaplen;
    e->counter = counter;
    e->all_vlans = !c->n_vlans;
    for (size_t v = 0; v < c->n_vlans; v++) {
        vlan_bitmap_set(&e->vlans, c->vlans[v], true);
    }
    if (c->select_all) {
        s->all |= bit;
    } else {
        for (size_t k = 0; k < c->n_src; k++) {
            port_entry(s, c->src_ports[k])->src |= bit;
        }
        e->n_dst = c->n_dst;
        e->dst = xmemdup(c->dst_ports, c->n_dst * sizeof *e->dst);
        for (size_t k = 0; k < c->n_dst; k++) {
            port_entry(s, c->dst_ports[k])->dst |= bit;
        }
        s->dst_any |= c->n_dst ? bit : 0;
    }
    if (c->out_port) {
        port_entry(s, c->out_port)->reserved = true;
    }
}

static struct mirror_set *
build_set(const struct mirror_config *cfgs, size_t n, struct mirror_table *t,
          const int slots[])
{
    struct mirror_set *s = xzalloc(sizeof *s);
    s->n = n;
    for (size_t i = 0; i < n; i++) {
        fill_entry(s, i, &cfgs[i], &t->counters[slots[i]]);
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            if (cfgs[i].out_port == cfgs[j].out_port
                && cfgs[i].out_vlan == cfgs[j].out_vlan) {
                s->e[i].dup |= UINT32_C(1) << j;
            }
        }
    }
    if (s->n_ports) {
        qsort(s->ports, s->n_ports, sizeof *s->ports, compare_ports);
    }
    return s;
}

int
mirror_table_configure(struct mirror_table *t,
                       const struct mirror_config *cfgs, size_t n)
{
    int error = validate(cfgs, n);
    if (error) {
        return error;
    }
    int slots[MIRROR_MAX];
    assign_slots(t, cfgs, n, slots);
    /* The caller published 'cur' and waited out a grace period since the
     * last call, so nothing reads 'retired' any more. */
    set_free(t->retired);
    t->retired = t->cur;
    t->cur = n ? build_set(cfgs, n, t, slots) : NULL;
    return 0;
}

const struct mirror_set *
mirror_table_set(const struct mirror_table *t)
{
    return t ? t->cur : NULL;
}

int
mirror_table_get_stats(const struct mirror_table *t, const char *id,
                       struct mirror_stats *stats)
{
    int s = t ? find_slot(t, id) : -1;
    if (s < 0) {
        return ENOENT;
    }
    stats->tx_packets = atomic_load(&t->counters[s].packets);
    stats->tx_bytes = atomic_load(&t->counters[s].bytes);
    return 0;
}

/* ---- Forwarding side. ---- */

static const struct mirror_port *
lookup_port(const struct mirror_set *s, uint32_t port_no)
{
    size_t lo = 0, hi = s->n_ports;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->ports[mid].port_no == port_no) {
            return &s->ports[mid];
        }
        if (s->ports[mid].port_no < port_no) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

bool
mirror_set_reserves(const struct mirror_set *s, uint32_t port_no)
{
    const struct mirror_port *p = lookup_port(s, port_no);
    return p && p->reserved;
}

/* The VLAN classification of a frame the switching decision dropped (or
 * never made): false if the input port's rules reject it. */
static bool
classify(const struct fwd_bridge *br, size_t in, const struct dp_packet *pkt,
         struct vlan_cls *cls)
{
    struct packet_info info;
    if (packet_parse(pkt->data, pkt->size, &info)) {
        return false;
    }
    vlan_apply_limit(&info, br->vlan_limit);
    return vlan_input(br->ports[in].vlan, &info, cls) == VLAN_ACCEPT;
}

/* True if a frame of CLS decided as OUT (flood or port index) received on
 * IN leaves through port index P. */
static bool
leaves_through(const struct mirror_set *s, const struct fwd_bridge *br,
               struct dp_port *const *dports, size_t in, int32_t out,
               const struct vlan_cls *cls, size_t p)
{
    if (out != FWD_OUT_FLOOD && out != (int32_t) p) {
        return false;
    }
    if (out == FWD_OUT_FLOOD
        && (p == in || (dports[in]->split_horizon && dports[p]->split_horizon)
            || mirror_set_reserves(s, br->ports[p].port_no))) {
        return false;
    }
    return vlan_port_carries(br->ports[p].vlan, cls->vlan, cls->cvlan);
}

/* Mirrors among CAND that a destination port of the frame selects. */
static uint32_t
select_by_destination(const struct mirror_set *s, const struct fwd_bridge *br,
                      struct dp_port *const *dports, size_t in, int32_t out,
                      const struct vlan_cls *cls, uint32_t cand)
{
    uint32_t hit = 0;
    if (out >= 0) {
        const struct mirror_port *mp = lookup_port(s, br->ports[out].port_no);
        return mp && leaves_through(s, br, dports, in, out, cls, (size_t) out)
               ? mp->dst & cand : 0;
    }
    for (; cand; cand &= cand - 1) {
        int m = __builtin_ctz(cand);
        const struct mirror_entry *e = &s->e[m];
        for (size_t k = 0; k < e->n_dst; k++) {
            int32_t p = fwd_port_index(br, e->dst[k]);
            if (p >= 0
                && leaves_through(s, br, dports, in, out, cls, (size_t) p)) {
                hit |= UINT32_C(1) << m;
                break;
            }
        }
    }
    return hit;
}

/* The mirrors that select one frame, or 0.  SRC: mirrors selecting the
 * input port.  DEC: the decision, NULL if the frame is not forwarded. */
static inline uint32_t
select_frame(const struct mirror_set *s, const struct fwd_bridge *br,
             struct dp_port *const *dports, size_t in, uint32_t src,
             const struct dp_packet *pkt, const struct fwd_decision *dec,
             struct vlan_cls *cls)
{
    int32_t out = dec ? dec->out : FWD_OUT_DROP;
    if (out != FWD_OUT_DROP) {
        *cls = dec->cls;
    } else if (!classify(br, in, pkt, cls)) {
        return 0;
    }
    uint32_t sel = src;
    if (out != FWD_OUT_DROP && (s->dst_any & ~sel)) {
        sel |= select_by_destination(s, br, dports, in, out, cls,
                                     s->dst_any & ~sel);
    }
    for (uint32_t m = sel; m; m &= m - 1) {
        const struct mirror_entry *e = &s->e[__builtin_ctz(m)];
        if (!e->all_vlans && !vlan_bitmap_get(&e->vlans, cls->vlan)) {
            sel &= ~(UINT32_C(1) << __builtin_ctz(m));
        }
    }
    return sel;
}

/* One mirror per output: the lowest selected mirror of each group of
 * mirrors that share an output sends the copy for all of them. */
static uint32_t
copies_of(const struct mirror_set *s, uint32_t sel)
{
    uint32_t copies = 0, done = 0;
    for (; sel; sel &= sel - 1) {
        int m = __builtin_ctz(sel);
        if (!(done >> m & 1)) {
            done |= s->e[m].dup;
            copies |= UINT32_C(1) << m;
        }
    }
    return copies;
}

/* Truncates the copy in *TXD to SNAPLEN bytes, pointing it at VIEW. */
static void
apply_snaplen(struct dp_txd *txd, struct dp_packet *view, uint32_t snaplen)
{
    if (!snaplen || fwd_txd_size(txd) <= snaplen) {
        return;
    }
    *view = *txd->pkt;
    view->has_vnet = false;     /* No longer a GSO or partial-csum frame. */
    if (snaplen >= txd->hdr_len) {
        view->size = txd->rest_ofs + (snaplen - txd->hdr_len);
    } else {
        txd->hdr_len = (uint8_t) snaplen;
        view->size = txd->rest_ofs;
    }
    txd->pkt = view;
    txd->vnet_delta = 0;
}

/* How a copy of a frame of CLS leaves mirror output port OUT: the VLAN
 * rewrite of OVS's output to a port, without the membership test. */
static void
output_port_txd(const struct vlan_port *out, const struct vlan_cls *cls,
                const struct dp_packet *pkt, struct dp_txd *txd)
{
    bool untagged = out->mode == VLAN_MODE_ACCESS
                    || out->mode == VLAN_MODE_DOT1Q_TUNNEL
                    || (out->mode == VLAN_MODE_NATIVE_UNTAGGED
                        && cls->vlan == out->tag)
                    || cls->vlan == 0;
    struct packet_tag push = {
        cls->tpid, (uint16_t) ((cls->pcp << 13) | cls->vlan)
    };
    fwd_egress_as(untagged ? VLAN_OUT_UNTAGGED : VLAN_OUT_TAGGED, &push, cls,
                  pkt, txd);
}

/* Fills *TXD with the copy of PKT (CLS) that mirror E sends through port
 * index P; false if none goes there. */
static bool
copy_for_port(const struct mirror_set *s, const struct fwd_bridge *br,
              const struct mirror_entry *e, size_t p,
              const struct dp_packet *pkt, const struct vlan_cls *cls,
              struct dp_txd *txd, struct dp_packet *view)
{
    if (e->out_port) {
        output_port_txd(br->ports[p].vlan, cls, pkt, txd);
    } else {
        struct fwd_decision d = { .out = (int32_t) p, .cls = *cls };
        d.cls.vlan = e->out_vlan;
        if (cls->vlan == e->out_vlan || fwd_mac_is_reserved(pkt->data)
            || mirror_set_reserves(s, br->ports[p].port_no)
            || !fwd_egress(&br->ports[p], &d, pkt, txd)) {
            return false;
        }
    }
    apply_snaplen(txd, view, e->snaplen);
    return true;
}

/* The ports mirror E sends copies through: [*FIRST, *END) of the bridge's
 * port indexes. */
static void
output_range(const struct fwd_bridge *br, const struct mirror_entry *e,
             size_t *first, size_t *end)
{
    if (e->out_port) {
        int32_t p = fwd_port_index(br, e->out_port);
        *first = p >= 0 ? (size_t) p : 0;
        *end = p >= 0 ? (size_t) p + 1 : 0;
    } else {
        *first = 0;
        *end = br->n_ports;
    }
}

static void
count(const struct mirror_set *s, uint32_t sel, const uint32_t *n_pkts,
      const uint64_t *n_bytes)
{
    for (; sel; sel &= sel - 1) {
        int m = __builtin_ctz(sel);
        atomic_fetch_add_explicit(&s->e[m].counter->packets, n_pkts[m],
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&s->e[m].counter->bytes, n_bytes[m],
                                  memory_order_relaxed);
    }
}

static uint32_t
input_mask(const struct mirror_set *s, const struct fwd_bridge *br, size_t in)
{
    const struct mirror_port *mp = lookup_port(s, br->ports[in].port_no);
    return s->all | (mp ? mp->src : 0);
}

/* Drops unicast decisions for mirror output ports ("learned port is a
 * mirror port"). */
static void
drop_reserved_unicast(const struct mirror_set *s, const struct fwd_bridge *br,
                      struct fwd_decision *dec, size_t n)
{
    int32_t last = FWD_OUT_DROP;    /* A batch mostly goes to one port. */
    bool reserved = false;
    for (size_t i = 0; i < n; i++) {
        int32_t out = dec[i].out;
        if (out >= 0 && out != last) {
            last = out;
            reserved = mirror_set_reserves(s, br->ports[out].port_no);
        }
        if (out >= 0 && reserved) {
            dec[i].out = FWD_OUT_DROP;
        }
    }
}

void
mirror_batch(const struct mirror_set *s, const struct fwd_bridge *br,
             struct dp_port *const *dports, size_t in,
             const struct dp_packet *pkts, struct fwd_decision *dec, size_t n)
{
    if (dec) {
        drop_reserved_unicast(s, br, dec, n);
    }
    uint32_t src = input_mask(s, br, in);
    uint32_t copies[FWD_MAX_BATCH];
    struct vlan_cls cls[FWD_MAX_BATCH];
    uint32_t n_pkts[MIRROR_MAX] = { 0 };
    uint64_t n_bytes[MIRROR_MAX] = { 0 };
    uint32_t any_sel = 0, any_copy = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t sel = select_frame(s, br, dports, in, src, &pkts[i],
                                    dec ? &dec[i] : NULL, &cls[i]);
        any_sel |= sel;
        for (uint32_t m = sel; m; m &= m - 1) {
            n_pkts[__builtin_ctz(m)]++;
            n_bytes[__builtin_ctz(m)] += pkts[i].size;
        }
        copies[i] = sel ? copies_of(s, sel) : 0;
        any_copy |= copies[i];
    }
    count(s, any_sel, n_pkts, n_bytes);

    struct dp_txd txds[FWD_MAX_BATCH];
    struct dp_packet views[FWD_MAX_BATCH];
    for (; any_copy; any_copy &= any_copy - 1) {
        int m = __builtin_ctz(any_copy);
        const struct mirror_entry *e = &s->e[m];
        size_t first, end;
        output_range(br, e, &first, &end);
        for (size_t p = first; p < end; p++) {
            int nt = 0;
            for (size_t i = 0; i < n; i++) {
                if ((copies[i] >> m & 1)
                    && copy_for_port(s, br, e, p, &pkts[i], &cls[i],
                                     &txds[nt], &views[nt])) {
                    nt++;
                }
            }
            nt = dp_police_tx(dports[p], txds, nt);   /* As OVS's QoS. */
            if (nt) {
                dp_port_tx_batch(dports[p], txds, nt);
            }
        }
    }
}

size_t
mirror_trace(const struct mirror_set *s, const struct fwd_bridge *br,
             struct dp_port *const *dports, size_t in,
             const struct dp_packet *pkt, const struct fwd_decision *dec,
             struct mirror_copy *copies, size_t max)
{
    struct fwd_decision d;
    if (dec) {
        d = *dec;
        drop_reserved_unicast(s, br, &d, 1);
    }
    struct vlan_cls cls;
    uint32_t sel = select_frame(s, br, dports, in, input_mask(s, br, in), pkt,
                                dec ? &d : NULL, &cls);
    size_t n = 0;
    for (uint32_t c = sel ? copies_of(s, sel) : 0; c; c &= c - 1) {
        const struct mirror_entry *e = &s->e[__builtin_ctz(c)];
        size_t first, end;
        output_range(br, e, &first, &end);
        for (size_t p = first; p < end && n < max; p++) {
            struct mirror_copy *mc = &copies[n];
            if (copy_for_port(s, br, e, p, pkt, &cls, &mc->txd, &mc->view)) {
                mc->mirror = e->name;
                mc->port = (uint32_t) p;
                n++;
            }
        }
    }
    return n;
}
