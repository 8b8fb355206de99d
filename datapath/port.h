/* port: packet I/O backends behind one small class interface.
 *
 * Life cycle (as OVS's netdev providers): dp_port_open() looks the type up
 * in the class table and calls its 'open', which may fail and then leaves
 * nothing behind; 'close' never fails.  Between the two:
 *
 *   - rx_batch() is called by exactly one forwarding thread at a time.  It
 *     fills up to MAX packets and returns how many.  The frames it returns
 *     stay valid until the next rx_batch() or close() on the same port
 *     (backends hand out ring or buffer memory without copying).
 *   - tx_batch() may be called by several threads at once; it sends what it
 *     can and counts the rest as tx_dropped.  It never blocks.
 *   - fd() gives a descriptor that polls readable when rx_batch() may have
 *     work, so idle threads can sleep in poll().
 *
 * Types: "system" (AF_PACKET on an existing netdev: TPACKET_V2 RX and TX
 * rings, PACKET_VNET_HDR, promiscuous), "internal" (a TAP device the
 * switch creates, IFF_VNET_HDR), "patch" (in-process pair, see
 * dp_port_patch_link()), "dummy" (frames injected and read back through
 * dp_dummy_inject()/dp_dummy_pop(), for deterministic tests), "vxlan" (a
 * VXLAN tunnel through a shared UDP socket, see port-vxlan.c). */
#ifndef LANYARD_PORT_H
#define LANYARD_PORT_H 1

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp-packet.h"

struct dp_port_stats {
    uint64_t rx_packets, rx_bytes, rx_dropped, rx_errors;
    uint64_t tx_packets, tx_bytes, tx_dropped, tx_errors;
};

struct vxlan_config;
struct dp_bond_config;
struct policer;

struct dp_port_options {
    const char *mac;            /* "internal": MAC to set, NULL = kernel's. */
    const struct vxlan_config *vxlan;   /* "vxlan": tunnel settings. */
    const struct dp_bond_config *bond;  /* "bond": port-bond.h. */
    bool split_horizon;         /* Never flood between two such ports. */
};

struct dp_port_class;

/* Base of every backend's port; embed it first. */
struct dp_port {
    const struct dp_port_class *class;
    char *name;
    _Atomic uint64_t rx_packets, rx_bytes, rx_dropped, rx_errors;
    _Atomic uint64_t tx_packets, tx_bytes, tx_dropped, tx_errors;
    bool split_horizon;         /* From dp_port_options, set at open. */
    /* QoS policers (policer.h), NULL = none: set by dp_set_port_policer(),
     * read once per batch by the forwarding threads. */
    struct policer *_Atomic ingress_policer;
    struct policer *_Atomic egress_policer;
};

struct dp_port_class {
    const char *type;
    int (*open)(const char *name, const struct dp_port_options *,
                struct dp_port **);
    int (*rx_batch)(struct dp_port *, struct dp_packet *pkts, int max);
    void (*tx_batch)(struct dp_port *, const struct dp_txd *txds, int n);
    int (*fd)(const struct dp_port *);
    /* Adds backend-specific counters (e.g. kernel ring drops). May be
     * NULL. */
    void (*stats)(struct dp_port *, struct dp_port_stats *);
    void (*close)(struct dp_port *);
};

/* Opens a port of TYPE on device NAME.  Returns 0 or a positive errno
 * (EAFNOSUPPORT for an unknown type). */
int dp_port_open(const char *type, const char *name,
                 const struct dp_port_options *, struct dp_port **);
void dp_port_close(struct dp_port *);          /* Accepts NULL. */
void dp_port_get_stats(struct dp_port *, struct dp_port_stats *);
const char *dp_port_type(const struct dp_port *);

static inline int
dp_port_rx_batch(struct dp_port *port, struct dp_packet *pkts, int max)
{
    return port->class->rx_batch(port, pkts, max);
}

static inline void
dp_port_tx_batch(struct dp_port *port, const struct dp_txd *txds, int n)
{
    port->class->tx_batch(port, txds, n);
}

static inline int
dp_port_fd(const struct dp_port *port)
{
    return port->class->fd(port);
}

/* For backends. */
void dp_port_init(struct dp_port *, const struct dp_port_class *,
                  const char *name);
void dp_port_uninit(struct dp_port *);
static inline void
dp_port_count(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

/* "system" ports: whether transmission goes through the device's qdisc
 * (true: kernel QoS applies, e.g. an HTB a QoS row configured) or bypasses
 * it (false, the default: PACKET_QDISC_BYPASS, faster).  Other types:
 * nothing to do, returns 0. */
int dp_port_set_use_qdisc(struct dp_port *, bool use);

/* Patch ports: links A and B so that what is sent on one is received on
 * the other.  Unlinked patch ports drop what they send. */
void dp_port_patch_link(struct dp_port *a, struct dp_port *b);
bool dp_port_is_patch(const struct dp_port *);
/* The name of the peer a patch port is linked to, or NULL. */
const char *dp_port_patch_peer(struct dp_port *);

/* Dummy ports.  dp_dummy_inject() queues a frame as if received (copying
 * it); returns 0 or ENOBUFS if the queue is full.  dp_dummy_pop() takes the
 * oldest frame the switch sent on the port into BUF and returns its size,
 * 0 if none (frames longer than SIZE are truncated). */
int dp_dummy_inject(struct dp_port *, const void *frame, size_t size);
size_t dp_dummy_pop(struct dp_port *, void *buf, size_t size);
/* Readable while the switch has sent frames that dp_dummy_pop() has not
 * taken (for the control thread's poll loop). */
int dp_dummy_tx_fd(const struct dp_port *);

extern const struct dp_port_class dp_port_system_class;
extern const struct dp_port_class dp_port_internal_class;
extern const struct dp_port_class dp_port_patch_class;
extern const struct dp_port_class dp_port_dummy_class;
extern const struct dp_port_class dp_port_vxlan_class;
extern const struct dp_port_class dp_port_bond_class;

/* "vxlan": one line per shared UDP endpoint with its drop counters
 * (datagrams for no configured tunnel, malformed, oversize). */
struct ds;
void dp_vxlan_format_endpoints(struct ds *);

#endif
