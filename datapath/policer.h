/* policer: a token-bucket rate limiter for a port's receive or transmit
 * side (Interface ingress_policing_rate/burst and
 * ingress_policing_kpkts_rate/burst, QoS type egress-policer).
 *
 * The byte bucket holds BURST bytes and fills at RATE bytes per second; a
 * frame passes if the bucket holds at least its length, which it then takes
 * out, else it is dropped (color-blind single-rate policing, as OVS's
 * userspace policers and the kernel's "police" action).  The length counted
 * is the frame without its 14-byte Ethernet header, as both of those count
 * it.  The packet bucket works the same way in packets (PKT_BURST packets,
 * filled at PKT_RATE per second, one token per frame).  With both, a frame
 * goes through the byte bucket and then, if it passed, the packet bucket,
 * as OVS chains the two kernel police actions: the smaller limit wins.
 *
 * A bucket's state is one 64-bit "theoretical arrival time" (GCRA, the
 * virtual scheduling form of a token bucket): the time at which the bucket
 * will be full again.  A batch is decided against a copy and committed with
 * one compare-and-swap per bucket, so a policer shared by several
 * transmitting threads needs no lock, and the receive side (one thread per
 * port) never retries.
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

/* What a policer limits; a rate of 0 leaves that bucket out. */
struct policer_rates {
    uint64_t rate, burst;           /* Bytes per second, bytes. */
    uint64_t pkt_rate, pkt_burst;   /* Packets per second, packets. */
};

struct policer_bucket {
    uint64_t ps_per_unit;       /* 10^12 / rate: refill time of a token. */
    uint64_t tau_ns;            /* Time to fill an empty bucket. */
    _Atomic uint64_t tat;       /* Bucket full again at this time (ns). */
};

struct policer {
    struct policer_rates rates;
    struct policer_bucket bytes, packets;   /* Used if their rate is set. */
    _Atomic uint64_t n_passed, n_dropped, bytes_dropped;
};

struct policer_stats {
    struct policer_rates rates; /* As configured. */
    uint64_t n_passed, n_dropped, bytes_dropped;
};

/* A new policer with full buckets for RATES, at least one of whose rates
 * must be nonzero (a zero burst of a bucket that is set counts as 1).
 * Caller owns it (free() releases it). */
struct policer *policer_create(const struct policer_rates *rates);
void policer_get_stats(const struct policer *, struct policer_stats *);

/* The largest N the filters and policer_decide() take: the datapath's
 * batch. */
#define POLICER_MAX_BATCH 256

/* Decides, at time NOW_NS, which of the N (<= POLICER_MAX_BATCH) frames of
 * lengths LENS (bytes, Ethernet header included) pass: sets PASS[i] and
 * returns how many pass.  Thread-safe. */
size_t policer_decide(struct policer *, uint64_t now_ns,
                      const uint32_t *lens, size_t n, bool *pass);

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
