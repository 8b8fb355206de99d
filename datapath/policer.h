/* policer: a token-bucket rate limiter for a port's receive or transmit
 * side (Interface ingress_policing_rate/burst, QoS type egress-policer).
 *
 * The bucket holds BURST bytes and fills at RATE bytes per second; a frame
 * passes if the bucket holds at least its length, which it then takes out,
 * else it is dropped (color-blind single-rate policing, as OVS's userspace
 * policers and the kernel's "police" action).  The length counted is the
 * frame without its 14-byte Ethernet header, as both of those count it.
 *
 * The state is one 64-bit "theoretical arrival time" (GCRA, the virtual
 * scheduling form of a token bucket): the time at which the bucket will be
 * full again.  A batch is decided against a copy and committed with one
 * compare-and-swap, so a policer shared by several transmitting threads
 * needs no lock, and the receive side (one thread per port) never retries.
 * The core (policer_decide()) takes the time as an argument; the
 * policer_filter_*() shells read CLOCK_MONOTONIC once per batch (vDSO: no
 * system call).
 *
 * Life cycle: the control thread creates a policer and publishes it on a
 * port (dp_set_port_policer() in dp.h), and frees the one it replaces only
 * after the forwarding threads' grace period; a policer is one plain
 * allocation, so free() releases it. */
#ifndef LANYARD_POLICER_H
#define LANYARD_POLICER_H 1

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp-packet.h"
#include "port.h"

struct policer {
    uint64_t rate;              /* Bytes per second (> 0). */
    uint64_t burst;             /* Bucket size in bytes (> 0). */
    uint64_t ps_per_byte;       /* 10^12 / rate. */
    uint64_t tau_ns;            /* Time to fill an empty bucket. */
    _Atomic uint64_t tat;       /* Bucket full again at this time (ns). */
    _Atomic uint64_t n_passed, n_dropped, bytes_dropped;
};

struct policer_stats {
    uint64_t rate, burst;       /* As configured (bytes/s, bytes). */
    uint64_t n_passed, n_dropped, bytes_dropped;
};

/* A new policer of RATE bytes/s and BURST bytes, with a full bucket.
 * Both must be nonzero.  Caller owns it (free() releases it). */
struct policer *policer_create(uint64_t rate, uint64_t burst);
void policer_get_stats(const struct policer *, struct policer_stats *);

/* Decides, at time NOW_NS, which of the N frames of lengths LENS (bytes,
 * Ethernet header included) pass: sets PASS[i] and returns how many pass.
 * Thread-safe. */
size_t policer_decide(struct policer *, uint64_t now_ns,
                      const uint32_t *lens, size_t n, bool *pass);

/* The largest N the filters take: the datapath's batch. */
#define POLICER_MAX_BATCH 256

/* Receive side: polices the N (<= POLICER_MAX_BATCH) frames rx_batch()
 * returned, keeps those that pass at the front of PKTS (in order) and
 * returns their number; the others count as the port's rx_dropped. */
int policer_filter_rx(struct policer *, struct dp_port *,
                      struct dp_packet *pkts, int n);
/* Transmit side: the same for N transmit descriptors (tx_dropped). */
int policer_filter_tx(struct policer *, struct dp_port *,
                      struct dp_txd *txds, int n);

/* The hooks the forwarding threads call: one atomic load and a test when
 * the port has no policer. */
static inline int
dp_police_rx(struct dp_port *port, struct dp_packet *pkts, int n)
{
    struct policer *p = atomic_load_explicit(&port->ingress_policer,
                                             memory_order_acquire);
    return p && n > 0 ? policer_filter_rx(p, port, pkts, n) : n;
}

static inline int
dp_police_tx(struct dp_port *port, struct dp_txd *txds, int n)
{
    struct policer *p = atomic_load_explicit(&port->egress_policer,
                                             memory_order_acquire);
    return p && n > 0 ? policer_filter_tx(p, port, txds, n) : n;
}

#endif
