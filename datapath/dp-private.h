/* dp-private: what the datapath's files share, and nobody else sees
 * (everyone else uses dp.h).  dp.c: bridges, ports, aliases, life cycle;
 * dp-snap.c: the two snapshots and their publication; dp-thread.c: the
 * forwarding threads and their poll loop; dp-fdb.c: MAC table operations;
 * dp-trace.c: ofproto/trace; dp-stats.c: counters and appctl listings.
 *
 * The control-side state belongs to the control thread, under dp->mutex; a
 * published snapshot is immutable and is what forwarding threads read. */
#ifndef LANYARD_DP_PRIVATE_H
#define LANYARD_DP_PRIVATE_H 1

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp.h"
#include "forward.h"
#include "hmap.h"
#include "list.h"

struct fdb;
struct mirror_table;

#define DP_BATCH 256
#define DP_MAX_THREADS 64

/* ---- Control-side state (only the control thread touches these). ---- */

struct dp_bridge {
    struct hmap_node node;      /* In dp->bridges. */
    char *name;
    struct fdb *fdb;            /* Guarded by fdb_mutex. */
    pthread_mutex_t fdb_mutex;
    struct vlan_bitmap flood_vlans;
    bool forward_bpdu;          /* other_config:forward-bpdu. */
    /* The ports in snapshot order, kept in the very arrays a snapshot
     * copies (a new port is appended, a deleted one replaced by the last),
     * so that publishing a change is a few memcpy()s of small elements
     * rather than a walk of every port. */
    size_t n_ports, alloc_ports;
    struct dp_bport **bports;
    struct fwd_port *fports;
    struct dp_port **dports;
    int32_t *index_of;          /* port_no -> index, -1: none. */
    size_t n_index;             /* Entries in index_of (grows, never shrinks). */
    int32_t local_index;        /* Index of DP_PORT_LOCAL, -1: none. */
    size_t snap_idx;            /* Index in both snapshots' bridges. */
    uint64_t used[DP_MAX_PORT_NO / 64 + 1];     /* Port numbers in use. */
    _Atomic uint64_t n_unicast, n_flood, n_dropped;
    /* Drops by reason (coverage/show). */
    _Atomic uint64_t n_parse_errors[PACKET_N_ERRORS];
    _Atomic uint64_t n_vlan_drops[VLAN_N_DROPS];
    _Atomic uint64_t n_hairpin_drops;
    _Atomic uint64_t n_reserved_drops;
    struct mirror_table *mirrors;       /* NULL until mirrors are set. */
};

struct dp_bport {
    struct hmap_node node;      /* In dp->ports, by name. */
    size_t idx;                 /* In br's arrays. */
    size_t rxq_pos;             /* In dp->tports[thread] and the snapshots'
                                 * rxqs of that thread. */
    char *name;
    uint32_t port_no;
    unsigned int thread;
    struct dp_bridge *br;
    struct dp_port *port;
    /* Immutable once published (snapshots point to it): a change installs
     * a new one and frees the old after the grace period. */
    struct vlan_port *vlan;
    char *peer;
};

/* ---- Snapshot (immutable once published). ---- */

struct snap_bridge {
    struct fwd_bridge fwd;
    struct fwd_port *ports;
    struct dp_port **dports;
    size_t alloc_ports;         /* Room in 'ports' and 'dports'. */
    int32_t *index_of;
    struct dp_bridge *br;
};

struct snap_rxq {
    struct snap_bridge *sb;
    uint32_t idx;
};

struct snap_thread {
    size_t n, alloc;
    struct snap_rxq *rxqs;
};

struct dp_snap {
    uint8_t vlan_limit;
    size_t n_bridges;
    struct snap_bridge *bridges;
    unsigned int n_threads;
    struct snap_thread *threads;
};

/* Per-thread scratch so the hot path never allocates. */
struct dp_scratch {
    struct dp_packet pkts[DP_BATCH];
    struct fwd_decision dec[DP_BATCH];
    struct dp_txd txds[DP_BATCH];
    int32_t dests[DP_BATCH];
    /* appctl: per-thread counters (dp_get_thread_stats()), written only by
     * the thread that owns this scratch, read by the control thread. */
    _Atomic uint64_t n_packets, n_tx_batches, n_tx_packets, busy_ns, idle_ns;
};

struct dp_thread {
    struct dp *dp;
    unsigned int idx;
    pthread_t tid;
    _Atomic uint64_t qs;        /* Generation seen; 0 = offline. */
    int efd;                    /* Wakes the thread after a publish. */
    struct dp_scratch scratch;
};

/* The ports one forwarding thread polls, in the order of its rxqs in both
 * snapshots (control side). */
struct thread_ports {
    size_t n, alloc;
    struct dp_bport **ports;
};

/* One element of the configuration a snapshot must copy again after a port
 * change: port index N of BR, port number N of BR (its index_of entry), or
 * rxq N of thread THREAD. */
struct snap_change {
    enum { SC_PORT, SC_PORT_NO, SC_RXQ } kind;
    struct dp_bridge *br;
    unsigned int thread;
    size_t n;
};

/* What a snapshot must copy again: everything (FULL) or the elements V. */
struct snap_changes {
    bool full;
    size_t n, alloc;
    struct snap_change *v;
};

/* Garbage released after the next grace period. */
struct dp_garbage {
    struct list_node node;
    struct dp_snap *snap;
    struct dp_port *port;
    struct dp_bridge *br;
    void *mem;                  /* Plain memory (e.g. a struct vlan_port). */
};

struct dp {
    pthread_mutex_t mutex;
    struct hmap bridges;
    struct hmap ports;          /* All struct dp_bport, by name. */
    struct hmap aliases;        /* struct dp_alias, by name (bond members'
                                 * port numbers, dp_add_port_alias()). */
    _Atomic(struct dp_snap *) snap;
    /* The other snapshot, which no thread can reach: equal to the live one
     * between calls (see "Snapshots" in dp-snap.c). */
    struct dp_snap *spare;
    /* What the next publish must copy into the spare ('changes'), and what
     * the spare still lacks from the last publish ('lag'), to be copied
     * once the grace period of generation 'lag_gen' (0: none) is over. */
    struct snap_changes changes, lag;
    uint64_t lag_gen;
    _Atomic uint64_t gen;
    _Atomic bool stop;
    unsigned int n_threads;
    struct dp_thread **threads;
    struct thread_ports *tports;        /* Per thread (1 without threads). */
    struct dp_scratch *scratch; /* For dp_poll_once(). */
    uint8_t vlan_limit;         /* other_config:vlan-limit (0: no limit). */
    struct dp_counters retired; /* Counters of deleted bridges. */
    uint64_t n_publish;         /* Snapshots published. */
    uint64_t n_publish_bytes;   /* Bytes those snapshots copied. */
};

/* A bond member's port number (dp.c, "Port number aliases"). */
struct dp_alias {
    struct hmap_node node;      /* In dp->aliases, by name. */
    char *name, *bridge, *target;
    uint32_t port_no;           /* Reserved in the bridge's 'used'. */
};

/* dp.c: lookups, under dp->mutex. */
struct dp_bridge *dp_find_bridge(const struct dp *, const char *name);
struct dp_bport *dp_bridge_port_by_no(const struct dp_bridge *,
                                      uint32_t port_no);
struct dp_bport *dp_bridge_find_port(const struct dp *,
                                     const struct dp_bridge *,
                                     const char *name_or_no,
                                     const struct dp_alias **);
struct dp_bport **dp_bridge_sorted_ports(const struct dp_bridge *);

/* dp-snap.c: snapshots, grace periods, garbage. */
void dp_snap_free(struct dp_snap *);
struct dp_snap *dp_snap_build(struct dp *, uint64_t *bytes);
void dp_note_change(struct dp *, int kind, struct dp_bridge *,
                    unsigned int thread, size_t n);
void dp_tports_add(struct dp *, struct dp_bport *);
void dp_tports_remove(struct dp *, struct dp_bport *);
void dp_wake_threads(struct dp *);
void dp_add_garbage(struct list_node *garbage, struct dp_snap *,
                    struct dp_port *, struct dp_bridge *);
void dp_add_garbage_mem(struct list_node *garbage, void *mem);
void dp_publish_changes(struct dp *, struct list_node *garbage, bool wait);
void dp_publish(struct dp *, struct list_node *garbage);
void dp_publish_simple(struct dp *);

/* dp-stats.c. */
void dp_bridge_add_counters(struct dp_bridge *, struct dp_counters *);

#endif /* dp-private.h */
