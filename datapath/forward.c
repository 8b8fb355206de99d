#include "forward.h"

#include <string.h>

#include "fdb.h"

static int32_t
port_index(const struct fwd_bridge *br, uint32_t port_no)
{
    return port_no < br->n_index ? br->index_of[port_no] : -1;
}

static void
decide_one(const struct fwd_bridge *br, size_t in, struct fdb *fdb,
           long long now, const struct dp_packet *pkt,
           struct fwd_decision *dec, struct fwd_stats *stats)
{
    const struct fwd_port *in_port = &br->ports[in];
    struct packet_info info;
    enum packet_error perr = packet_parse(pkt->data, pkt->size, &info);
    dec->out = FWD_OUT_DROP;
    if (perr) {
        stats->n_parse_errors[perr]++;
        return;
    }
    enum vlan_drop vdrop = vlan_input(&in_port->vlan, &info, &dec->cls);
    if (vdrop) {
        stats->n_vlan_drops[vdrop]++;
        return;
    }
    const uint8_t *dst = pkt->data;
    const uint8_t *src = pkt->data + PACKET_ETH_ADDR_LEN;
    uint16_t vlan = dec->cls.vlan;
    bool learning = fdb && !vlan_bitmap_get(&br->flood_vlans, vlan);

    if (learning && !packet_mac_is_multicast(src)) {
        fdb_learn(fdb, vlan, packet_mac_to_u64(src), in_port->port_no, now);
    }
    uint32_t out_no;
    if (learning && !packet_mac_is_multicast(dst)
        && fdb_lookup(fdb, vlan, packet_mac_to_u64(dst), &out_no)) {
        int32_t out = port_index(br, out_no);
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

void
fwd_decide(const struct fwd_bridge *br, size_t in, struct fdb *fdb,
           long long now, const struct dp_packet *pkts, size_t n,
           struct fwd_decision *dec, struct fwd_stats *stats)
{
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n) {
            __builtin_prefetch(pkts[i + 1].data);
        }
        decide_one(br, in, fdb, now, &pkts[i], &dec[i], stats);
    }
}

static void
put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}

bool
fwd_egress(const struct fwd_port *out, const struct fwd_decision *dec,
           const struct dp_packet *pkt, struct dp_txd *txd)
{
    struct packet_tag push;
    enum vlan_out action = vlan_output(&out->vlan, &dec->cls, &push);
    if (action == VLAN_OUT_EXCLUDE) {
        return false;
    }
    uint8_t n_strip = dec->cls.n_strip;
    txd->pkt = pkt;
    if (action == VLAN_OUT_TAGGED && n_strip == 1) {
        const uint8_t *t = pkt->data + 2 * PACKET_ETH_ADDR_LEN;
        if (((t[0] << 8) | t[1]) == push.tpid
            && ((t[2] << 8) | t[3]) == push.tci) {
            /* Same tag out as in: send the frame untouched. */
            txd->hdr_len = 0;
            txd->rest_ofs = 0;
            txd->vnet_delta = 0;
            return true;
        }
    } else if (action == VLAN_OUT_UNTAGGED && n_strip == 0) {
        txd->hdr_len = 0;
        txd->rest_ofs = 0;
        txd->vnet_delta = 0;
        return true;
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
    return true;
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
