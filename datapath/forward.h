/* forward: the switching decision for a batch of frames from one port.
 *
 * For each frame: parse L2, classify its VLAN with the input port's rules,
 * learn the source MAC, look the destination up, and decide: drop, one
 * output port, or flood.  fwd_egress() then says how a frame leaves a given
 * port (excluded, or the header to put in front of it).  Nothing here
 * allocates or performs I/O; the datapath calls it under the bridge's fdb
 * lock, once per batch.
 *
 * Output ports are indexes into the bridge's port array; the fdb stores
 * port numbers ('port_no') and 'index_of' maps them back, so an fdb entry
 * for a port that has since gone away simply floods. */
#ifndef LANYARD_FORWARD_H
#define LANYARD_FORWARD_H 1

#include <stddef.h>
#include <stdint.h>

#include "dp-packet.h"
#include "packet.h"
#include "vlan.h"

struct fdb;

#define FWD_MAX_BATCH 256

struct fwd_port {
    uint32_t port_no;
    struct vlan_port vlan;
};

/* Immutable per-bridge forwarding view (part of a datapath snapshot). */
struct fwd_bridge {
    size_t n_ports;
    const struct fwd_port *ports;
    const int32_t *index_of;    /* port_no -> index in 'ports', or -1. */
    size_t n_index;
    struct vlan_bitmap flood_vlans;     /* VLANs with learning disabled. */
};

#define FWD_OUT_DROP (-1)
#define FWD_OUT_FLOOD (-2)

struct fwd_decision {
    int32_t out;                /* Port index, FWD_OUT_DROP or _FLOOD. */
    struct vlan_cls cls;
};

struct fwd_stats {
    uint64_t n_parse_errors[PACKET_N_ERRORS];
    uint64_t n_vlan_drops[VLAN_N_DROPS];
    uint64_t n_unicast;
    uint64_t n_flood;
    uint64_t n_hairpin_drops;   /* Destination learned on the input port. */
};

/* Decides the fate of the N (<= FWD_MAX_BATCH) frames in PKTS received on
 * port index IN of BR, updating FDB (may be NULL for no learning) at time
 * NOW.  Writes one decision per frame into DEC and adds to *STATS. */
void fwd_decide(const struct fwd_bridge *br, size_t in, struct fdb *fdb,
                long long now, const struct dp_packet *pkts, size_t n,
                struct fwd_decision *dec, struct fwd_stats *stats);

/* Fills *TXD for sending PKT (decided as *DEC) out of OUT.  Returns false if
 * OUT does not carry the frame's VLAN. */
bool fwd_egress(const struct fwd_port *out, const struct fwd_decision *dec,
                const struct dp_packet *pkt, struct dp_txd *txd);

/* Writes the frame described by TXD into BUF (SIZE bytes); returns its
 * length, or 0 if it does not fit.  For backends that copy. */
size_t fwd_txd_copy(const struct dp_txd *txd, uint8_t *buf, size_t size);

static inline size_t
fwd_txd_size(const struct dp_txd *txd)
{
    return txd->hdr_len + txd->pkt->size - txd->rest_ofs;
}

#endif
