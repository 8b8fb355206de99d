/* mirror: port mirroring for one bridge (the Mirror table of
 * ovs-vswitchd.conf.db(5): SPAN to an output port, RSPAN to an output
 * VLAN), with the rules of ovs-vswitchd 3.1's NORMAL action.
 *
 * A frame is selected by a mirror if it enters through one of the mirror's
 * source ports or leaves through one of its destination ports
 * (select_all: every port is both) and its VLAN, as classified inside the
 * switch, is in the mirror's VLANs (none listed: every VLAN).  Frames that
 * the input port's VLAN rules reject are never mirrored; frames the
 * switching decision drops (e.g. destination learned on the input port)
 * are still mirrored by their source port.  A frame is copied once per
 * destination even if several mirrors with the same output select it.
 *
 *   - Output port: the copy leaves as a frame of its VLAN would leave that
 *     port, whether or not the port carries the VLAN (access or dot1q-tunnel
 *     port: no tag; trunk: tagged; native-untagged: untagged in the native
 *     VLAN).  The port is reserved: nothing else is sent to it (neither
 *     flooded nor unicast to a MAC learned there) and frames received on it
 *     are neither learned nor forwarded (they are still mirrored by mirrors
 *     that select them).
 *   - Output VLAN: the copy, retagged with the output VLAN, leaves through
 *     every port that carries that VLAN (the input port included), except
 *     mirror output ports.  Frames already in the output VLAN, and frames
 *     to reserved protocol addresses (STP, LACP, CDP, ...), are not copied.
 *   - snaplen truncates each copy (as it leaves, tags included).
 *   - Statistics count, per mirror, the frames that selected it and their
 *     size as received.
 *
 * Ownership and threads: a 'struct mirror_table' belongs to the datapath's
 * control side (one per bridge).  Each successful mirror_table_configure()
 * builds a new immutable 'struct mirror_set'; the caller publishes it to
 * the forwarding threads (mirror_table_set()) and waits out a grace period
 * before calling configure again, because the set replaced by one call is
 * freed by the next (or by destroy).  Forwarding threads only read a set
 * and add to its counters (atomics). */
#ifndef LANYARD_MIRROR_H
#define LANYARD_MIRROR_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp-packet.h"

struct dp_port;
struct fwd_bridge;
struct fwd_decision;

/* ovs-vswitchd's limit of mirrors per bridge. */
#define MIRROR_MAX 32

struct mirror_config {
    const char *id;             /* Caller's unique key: stats follow it. */
    const char *name;           /* For ofproto/trace. */
    bool select_all;
    const uint32_t *src_ports;  /* Port numbers. */
    size_t n_src;
    const uint32_t *dst_ports;
    size_t n_dst;
    const uint16_t *vlans;      /* select_vlan; none: every VLAN. */
    size_t n_vlans;
    uint32_t out_port;          /* Port number, or 0 for output_vlan. */
    uint16_t out_vlan;          /* 1..4095 when out_port is 0. */
    uint32_t snaplen;           /* 0: whole frames; else >= 14. */
};

struct mirror_stats {
    uint64_t tx_packets, tx_bytes;
};

struct mirror_table *mirror_table_create(void);
void mirror_table_destroy(struct mirror_table *);

/* Replaces every mirror with the N in CFGS (N may be 0).  Mirrors keep
 * their statistics across calls when their 'id' stays.  Returns 0, EFBIG
 * (more than MIRROR_MAX) or EINVAL (no output or both outputs, VLAN out of
 * range, snaplen below 14, an id missing or used twice); on error nothing
 * changes. */
int mirror_table_configure(struct mirror_table *,
                           const struct mirror_config *cfgs, size_t n);

/* The set to publish, NULL when there is no mirror (or no table), so that
 * the forwarding path pays one pointer test per batch. */
const struct mirror_set *mirror_table_set(const struct mirror_table *);

/* 0 or ENOENT (no mirror with that id). */
int mirror_table_get_stats(const struct mirror_table *, const char *id,
                           struct mirror_stats *);

/* True if PORT_NO is the output port of a mirror in SET. */
bool mirror_set_reserves(const struct mirror_set *, uint32_t port_no);

/* Mirrors the N (<= FWD_MAX_BATCH) frames in PKTS received on port index
 * IN of BR (whose ports' backends are DPORTS), decided as DEC by
 * fwd_decide(), and sends the copies.  Frames decided for a mirror output
 * port become drops in DEC.  Call it before sending the batch.  DEC is NULL
 * when IN itself is a mirror output port (the frames are not forwarded at
 * all). */
void mirror_batch(const struct mirror_set *, const struct fwd_bridge *br,
                  struct dp_port *const *dports, size_t in,
                  const struct dp_packet *pkts, struct fwd_decision *dec,
                  size_t n);

/* One copy mirroring would send (ofproto/trace). */
struct mirror_copy {
    const char *mirror;         /* Its name, valid while the set is. */
    uint32_t port;              /* Port index in the bridge. */
    struct dp_txd txd;          /* The frame as it would leave. */
    struct dp_packet view;      /* What 'txd' points to if truncated. */
};

/* Fills COPIES (at most MAX) with the copies mirror_batch() would send of
 * PKT, without counting it; returns how many.  DEC as for mirror_batch(). */
size_t mirror_trace(const struct mirror_set *, const struct fwd_bridge *br,
                    struct dp_port *const *dports, size_t in,
                    const struct dp_packet *pkt,
                    const struct fwd_decision *dec,
                    struct mirror_copy *copies, size_t max);

#endif
