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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp-packet.h"
#include "packet.h"
#include "vlan.h"

struct fdb;
struct mirror_set;

#define FWD_MAX_BATCH 256

struct fwd_port {
    uint32_t port_no;
    /* Shared, immutable while the snapshot is live: keeping it out of line
     * makes a snapshot's port array 16 bytes per port instead of ~1 kB
     * (two VLAN bitmaps), which is what a configuration change copies. */
    const struct vlan_port *vlan;
};

/* OpenFlow's OFPP_LOCAL: the bridge's local port, outside index_of. */
#define FWD_PORT_LOCAL 65534

/* Immutable per-bridge forwarding view (part of a datapath snapshot). */
struct fwd_bridge {
    size_t n_ports;
    const struct fwd_port *ports;
    const int32_t *index_of;    /* port_no -> index in 'ports', or -1. */
    size_t n_index;
    int32_t local_index;        /* Index of port FWD_PORT_LOCAL, or -1. */
    struct vlan_bitmap flood_vlans;     /* VLANs with learning disabled. */
    uint8_t vlan_limit;         /* other_config:vlan-limit, 0: no limit. */
    bool forward_bpdu;          /* other_config:forward-bpdu: switch frames
                                 * to reserved addresses too. */
    const struct mirror_set *mirrors;   /* mirror.h; NULL: none. */
};

/* The index in BR's 'ports' of port number PORT_NO, or -1. */
static inline int32_t
fwd_port_index(const struct fwd_bridge *br, uint32_t port_no)
{
    return port_no < br->n_index ? br->index_of[port_no]
           : port_no == FWD_PORT_LOCAL ? br->local_index : -1;
}

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
    uint64_t n_reserved_drops;  /* Reserved destination, no forward-bpdu. */
};

/* True if MAC is an address a bridge never forwards unless its
 * other_config:forward-bpdu is true (OVS's eth_addr_is_reserved()): the
 * IEEE 802.1 link-local block 01:80:c2:00:00:00..0f (STP, pause, LACP and
 * the other slow protocols, 802.1X, LLDP, ...), Extreme's EDP and EAPS
 * (00:e0:2b:00:00:00/04/06, unicast addresses), and Cisco's ISL
 * (01:00:0c:00:00:00), CDP/VTP/DTP/PAgP/UDLD (01:00:0c:cc:cc:cc), PVST+
 * (01:00:0c:cc:cc:cd), UplinkFast (01:00:0c:cd:cd:cd) and CFM
 * (01:00:0c:cc:cc:c0..c7). */
bool fwd_mac_is_reserved(const uint8_t mac[6]);

/* Decides the fate of the N (<= FWD_MAX_BATCH) frames in PKTS received on
 * port index IN of BR, updating FDB (may be NULL for no learning) at time
 * NOW.  Writes one decision per frame into DEC and adds to *STATS. */
void fwd_decide(const struct fwd_bridge *br, size_t in, struct fdb *fdb,
                long long now, const struct dp_packet *pkts, size_t n,
                struct fwd_decision *dec, struct fwd_stats *stats);

/* What ofproto/trace reports about one frame. */
enum fwd_learn {
    FWD_LEARN_NONE,             /* Multicast source or learning disabled. */
    FWD_LEARN_NEW,              /* Source MAC would become a new entry. */
    FWD_LEARN_REFRESH,          /* Already known on the input port. */
    FWD_LEARN_MOVE,             /* Known on another port: would move. */
};

enum fwd_lookup {
    FWD_LOOKUP_NO_LEARNING,     /* VLAN in flood_vlans: always flooded. */
    FWD_LOOKUP_MULTICAST,       /* Broadcast/multicast destination. */
    FWD_LOOKUP_MISS,            /* Unknown unicast. */
    FWD_LOOKUP_HIT,             /* Learned on 'lookup_port'. */
    FWD_LOOKUP_STALE,           /* Learned on a port that is gone. */
};

struct fwd_trace {
    enum packet_error parse;
    struct packet_info info;    /* After other_config:vlan-limit. */
    enum vlan_drop vlan_drop;
    bool reserved_drop;         /* Reserved destination, no forward-bpdu. */
    bool learning;
    enum fwd_learn learn;
    uint32_t learn_old_port;    /* FWD_LEARN_MOVE: where it was. */
    enum fwd_lookup lookup;
    uint32_t lookup_port;       /* FWD_LOOKUP_HIT/_STALE. */
};

/* Runs the same decision as fwd_decide() for one frame without touching
 * FDB (learning is only reported; FDB is not modified) and records each step in *TRACE. */
void fwd_trace(const struct fwd_bridge *br, size_t in, struct fdb *fdb,
               const struct dp_packet *pkt, struct fwd_decision *dec,
               struct fwd_trace *trace);

/* Fills *TXD for sending PKT (decided as *DEC) out of OUT.  Returns false if
 * OUT does not carry the frame's VLAN. */
bool fwd_egress(const struct fwd_port *out, const struct fwd_decision *dec,
                const struct dp_packet *pkt, struct dp_txd *txd);

/* Fills *TXD for sending PKT (classified as CLS) with ACTION, which must
 * not be VLAN_OUT_EXCLUDE (and PUSH, for VLAN_OUT_TAGGED): fwd_egress()'s
 * header rewrite without its VLAN membership test, for mirror copies,
 * which an output port receives whatever VLANs it carries. */
void fwd_egress_as(enum vlan_out action, const struct packet_tag *push,
                   const struct vlan_cls *cls, const struct dp_packet *pkt,
                   struct dp_txd *txd);

/* Writes the frame described by TXD into BUF (SIZE bytes); returns its
 * length, or 0 if it does not fit.  For backends that copy. */
size_t fwd_txd_copy(const struct dp_txd *txd, uint8_t *buf, size_t size);

static inline size_t
fwd_txd_size(const struct dp_txd *txd)
{
    return txd->hdr_len + txd->pkt->size - txd->rest_ofs;
}

#endif
