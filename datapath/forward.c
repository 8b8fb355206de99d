#include "forward.h"

#include <string.h>

#include "fdb.h"

static inline bool
mac_is_reserved(const uint8_t *m)
{
    if (m[0] > 0x01) {          /* Most unicast: one test per frame. */
        return false;
    }
    if (m[0] == 0x01 && m[1] == 0x80 && m[2] == 0xc2) {
        return !m[3] && !m[4] && m[5] <= 0x0f;
    }
    if (m[0] == 0x01 && m[1] == 0x00 && m[2] == 0x0c) {
        uint32_t low = (uint32_t) m[3] << 16 | (uint32_t) m[4] << 8 | m[5];
        return low == 0x000000 || low == 0xcccccc || low == 0xcccccd
               || low == 0xcdcdcd || (low & ~UINT32_C(7)) == 0xccccc0;
    }
    if (m[0] == 0x00 && m[1] == 0xe0 && m[2] == 0x2b) {
        return !m[3] && !m[4] && (m[5] == 0 || m[5] == 4 || m[5] == 6);
    }
    return false;
}

bool
fwd_mac_is_reserved(const uint8_t mac[6])
{
    return mac_is_reserved(mac);
}

/* Records what a lookup of source MAC SRC would do to the table, without
 * changing it. */
static void
trace_learn(const struct fdb *fdb, uint16_t vlan, uint64_t src, uint32_t in_no,
            struct fwd_trace *trace)
{
    uint32_t known;
    trace->learn = !fdb_lookup(fdb, vlan, src, &known) ? FWD_LEARN_NEW
                   : known == in_no ? FWD_LEARN_REFRESH : FWD_LEARN_MOVE;
    trace->learn_old_port = trace->learn == FWD_LEARN_MOVE ? known : 0;
}

/* The one switching decision.  TRACE is NULL on the forwarding path (the
 * compiler drops every trace branch there); with TRACE the table is left
 * untouched and each step is recorded instead, so ofproto/trace explains
 * exactly what this code does. */
static inline __attribute__((always_inline)) void
decide(const struct fwd_bridge *br, size_t in, struct fdb *fdb, long long now,
       const struct dp_packet *pkt, struct fwd_decision *dec,
       struct fwd_stats *stats, struct fwd_trace *trace)
{
    const struct fwd_port *in_port = &br->ports[in];
    struct packet_info info;
    enum packet_error perr = packet_parse(pkt->data, pkt->size, &info);
    dec->out = FWD_OUT_DROP;
    if (trace) {
        trace->parse = perr;
    }
    if (perr) {
        stats->n_parse_errors[perr]++;
        return;
    }
    vlan_apply_limit(&info, br->vlan_limit);
    enum vlan_drop vdrop = vlan_input(in_port->vlan, &info, &dec->cls);
    if (trace) {
        trace->info = info;
        trace->vlan_drop = vdrop;
    }
    if (vdrop) {
        stats->n_vlan_drops[vdrop]++;
        return;
    }
    const uint8_t *dst = pkt->data;
    const uint8_t *src = pkt->data + PACKET_ETH_ADDR_LEN;
    /* As OVS's NORMAL: after the VLAN check, before learning (a BPDU does
     * not teach the switch where its sender is). */
    if (!br->forward_bpdu && mac_is_reserved(dst)) {
        if (trace) {
            trace->reserved_drop = true;
        }
        stats->n_reserved_drops++;
        return;
    }
    uint16_t vlan = dec->cls.vlan;
    bool learning = fdb && !vlan_bitmap_get(&br->flood_vlans, vlan);

    if (trace) {
        trace->learning = learning;
        trace->learn = FWD_LEARN_NONE;
        trace->lookup = !learning ? FWD_LOOKUP_NO_LEARNING
                        : packet_mac_is_multicast(dst) ? FWD_LOOKUP_MULTICAST
                        : FWD_LOOKUP_MISS;
    }
    if (learning && !packet_mac_is_multicast(src)) {
        if (trace) {
            trace_learn(fdb, vlan, packet_mac_to_u64(src), in_port->port_no,
                        trace);
        } else {
            fdb_learn(fdb, vlan, packet_mac_to_u64(src), in_port->port_no,
                      now);
        }
    }
    uint32_t out_no;
    if (learning && !packet_mac_is_multicast(dst)
        && fdb_lookup(fdb, vlan, packet_mac_to_u64(dst), &out_no)) {
        int32_t out = fwd_port_index(br, out_no);
        if (trace) {
            trace->lookup = out < 0 ? FWD_LOOKUP_STALE : FWD_LOOKUP_HIT;
            trace->lookup_port = out_no;
        }
        if (out == (int32_t) in) {
            stats->n_hairpin_drops++;
            return;
        }
        if (out >= 0) {
            dec->out = out;
            stats->n_unicast++;
            return;
        }
    }
    dec->out = FWD_OUT_FLOOD;
    stats->n_flood++;
}

/* The fdb keys decide() will look up for PKT: its source and destination
 * MACs' hashes.  The VLAN is a guess (the tag's VID, else the input port's
 * VLAN), right for every ordinary port and only a wasted prefetch when
 * wrong.  Returns false for a runt. */
static bool
guess_hashes(const struct fwd_bridge *br, size_t in,
             const struct dp_packet *pkt, uint32_t hashes[2])
{
    const uint8_t *p = pkt->data;
    if (pkt->size < PACKET_ETH_HLEN + PACKET_VLAN_HLEN) {
        return false;
    }
    const struct vlan_port *v = br->ports[in].vlan;
    uint16_t vlan = v->tag;
    if (packet_is_tpid((uint16_t) (p[12] << 8 | p[13]))
        && v->mode != VLAN_MODE_ACCESS && v->mode != VLAN_MODE_DOT1Q_TUNNEL) {
        uint16_t vid = packet_tci_vid((uint16_t) (p[14] << 8 | p[15]));
        vlan = vid ? vid : vlan;
    }
    hashes[0] = fdb_hash(vlan, packet_mac_to_u64(p + PACKET_ETH_ADDR_LEN));
    hashes[1] = fdb_hash(vlan, packet_mac_to_u64(p));
    return true;
}

/* Warms the caches for a batch, one stage per pass (VPP style): frame
 * headers, then the fdb buckets their MACs hash to, then the entries in
 * those buckets.  With a table far bigger than the caches (100,000 MACs)
 * the misses of a whole batch then overlap instead of adding up frame by
 * frame.  A table that fits in the caches (under PREFETCH_MIN_ENTRIES) is
 * not worth the extra passes. */
#define PREFETCH_MIN_ENTRIES 4096

static void
prefetch_batch(const struct fwd_bridge *br, size_t in, const struct fdb *fdb,
               const struct dp_packet *pkts, size_t n)
{
    uint32_t hashes[FWD_MAX_BATCH][2];
    bool ok[FWD_MAX_BATCH];
    for (size_t i = 0; i < n; i++) {
        __builtin_prefetch(pkts[i].data);
    }
    if (!fdb || fdb_count(fdb) < PREFETCH_MIN_ENTRIES) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        ok[i] = guess_hashes(br, in, &pkts[i], hashes[i]);
    }
    for (int stage = 0; stage < 3; stage++) {
        for (size_t i = 0; i < n; i++) {
            if (ok[i]) {
                fdb_prefetch(fdb, hashes[i][0], stage);
                fdb_prefetch(fdb, hashes[i][1], stage);
            }
        }
    }
}

void
fwd_decide(const struct fwd_bridge *br, size_t in, struct fdb *fdb,
           long long now, const struct dp_packet *pkts, size_t n,
           struct fwd_decision *dec, struct fwd_stats *stats)
{
    prefetch_batch(br, in, fdb, pkts, n);
    for (size_t i = 0; i < n; i++) {
        decide(br, in, fdb, now, &pkts[i], &dec[i], stats, NULL);
    }
}

void
fwd_trace(const struct fwd_bridge *br, size_t in, struct fdb *fdb,
          const struct dp_packet *pkt, struct fwd_decision *dec,
          struct fwd_trace *trace)
{
    struct fwd_stats stats;
    memset(&stats, 0, sizeof stats);
    memset(trace, 0, sizeof *trace);
    /* decide() writes to the table only when TRACE is NULL. */
    decide(br, in, fdb, 0, pkt, dec, &stats, trace);
}

static void
put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}

static inline __attribute__((always_inline)) void
build_txd(enum vlan_out action, const struct packet_tag push, uint8_t n_strip,
          const struct dp_packet *pkt, struct dp_txd *txd)
{
    txd->pkt = pkt;
    if (action == VLAN_OUT_TAGGED && n_strip == 1) {
        const uint8_t *t = pkt->data + 2 * PACKET_ETH_ADDR_LEN;
        if (((t[0] << 8) | t[1]) == push.tpid
            && ((t[2] << 8) | t[3]) == push.tci) {
            /* Same tag out as in: send the frame untouched. */
            txd->hdr_len = 0;
            txd->rest_ofs = 0;
            txd->vnet_delta = 0;
            return;
        }
    } else if (action == VLAN_OUT_UNTAGGED && n_strip == 0) {
        txd->hdr_len = 0;
        txd->rest_ofs = 0;
        txd->vnet_delta = 0;
        return;
    }
    memcpy(txd->hdr, pkt->data, 2 * PACKET_ETH_ADDR_LEN);
    txd->hdr_len = 2 * PACKET_ETH_ADDR_LEN;
    if (action == VLAN_OUT_TAGGED) {
        put_be16(txd->hdr + txd->hdr_len, push.tpid);
        put_be16(txd->hdr + txd->hdr_len + 2, push.tci);
        txd->hdr_len += PACKET_VLAN_HLEN;
    }
    txd->rest_ofs = (uint16_t) (2 * PACKET_ETH_ADDR_LEN
                                + n_strip * PACKET_VLAN_HLEN);
    txd->vnet_delta = (int8_t) (txd->hdr_len - txd->rest_ofs);
}

bool
fwd_egress(const struct fwd_port *out, const struct fwd_decision *dec,
           const struct dp_packet *pkt, struct dp_txd *txd)
{
    struct packet_tag push = { 0, 0 };
    enum vlan_out action = vlan_output(out->vlan, &dec->cls, &push);
    if (action == VLAN_OUT_EXCLUDE) {
        return false;
    }
    build_txd(action, push, dec->cls.n_strip, pkt, txd);
    return true;
}

void
fwd_egress_as(enum vlan_out action, const struct packet_tag *push,
              const struct vlan_cls *cls, const struct dp_packet *pkt,
              struct dp_txd *txd)
{
    build_txd(action, *push, cls->n_strip, pkt, txd);
}

size_t
fwd_txd_copy(const struct dp_txd *txd, uint8_t *buf, size_t size)
{
    size_t total = fwd_txd_size(txd);
    if (total > size) {
        return 0;
    }
    memcpy(buf, txd->hdr, txd->hdr_len);
    memcpy(buf + txd->hdr_len, txd->pkt->data + txd->rest_ofs,
           txd->pkt->size - txd->rest_ofs);
    return total;
}
