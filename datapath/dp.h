/* dp: the userspace datapath: bridges of ports, MAC learning, VLANs, and
 * the forwarding threads that move frames between ports.
 *
 * Knows nothing of OVSDB: a daemon translates database rows into these
 * calls.  All functions here are for one control thread (they serialise on
 * an internal mutex, but are not meant to race each other).  Forwarding
 * threads never take that mutex: every configuration change builds a new
 * immutable snapshot (bridges, ports, VLAN rules, which thread polls which
 * port) and publishes it with one atomic pointer store.  The old snapshot,
 * and any port or bridge removed with it, is freed only after every
 * forwarding thread has passed a quiescent point (QSBR-style grace period:
 * a thread is quiescent between loop iterations and while it sleeps in
 * poll()), so reconfiguration never pauses forwarding.
 *
 * Threads: dp_start(N) runs N forwarding threads; each port's receive side
 * belongs to exactly one thread (the least loaded when the port is added).
 * Without threads, dp_poll_once() does one pass in the caller's thread,
 * which makes tests deterministic with "dummy" ports.
 *
 * Errors: 0 or a positive errno value (ENOENT no such bridge/port, EEXIST,
 * EINVAL bad argument, or the backend's error from opening a device). */
#ifndef LANYARD_DP_H
#define LANYARD_DP_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "forward.h"
#include "port.h"
#include "vlan.h"

struct ds;

struct dp *dp_create(void);
void dp_destroy(struct dp *);   /* Stops threads, closes every port. */

/* Starts N_THREADS (1..64) forwarding threads.  EBUSY if already started. */
int dp_start(struct dp *, unsigned int n_threads);

int dp_add_bridge(struct dp *, const char *name);
int dp_del_bridge(struct dp *, const char *name);
/* VLANs on which learning is disabled (Bridge flood_vlans). */
int dp_bridge_set_flood_vlans(struct dp *, const char *bridge,
                              const uint16_t *vids, size_t n);
/* other_config:forward-bpdu: whether frames to reserved addresses
 * (fwd_mac_is_reserved()) are switched (true) or dropped (false, the
 * default, as OVS).  0 or ENOENT. */
int dp_bridge_set_forward_bpdu(struct dp *, const char *bridge, bool forward);
/* other_config:mac-table-size / mac-aging-time (clamped as OVS does). */
int dp_bridge_set_mac_table(struct dp *, const char *bridge,
                            size_t max_entries, unsigned int idle_s);
/* Replaces BRIDGE's port mirrors (mirror.h) with the N in CFGS, whose
 * ports are port numbers; learned MACs of their output ports are
 * forgotten.  0, ENOENT, or mirror_table_configure()'s EINVAL/EFBIG. */
struct mirror_config;
struct mirror_stats;
int dp_bridge_set_mirrors(struct dp *, const char *bridge,
                          const struct mirror_config *cfgs, size_t n);
/* Statistics of the mirror configured with ID: 0 or ENOENT. */
int dp_bridge_get_mirror_stats(struct dp *, const char *bridge,
                               const char *id, struct mirror_stats *);

struct dp_port_config {
    const char *type;           /* "system", "internal", "patch", "dummy" */
    struct dp_port_options options;
    const char *peer;           /* "patch": name of the peer patch port. */
    struct vlan_port vlan;      /* From vlan_port_configure(). */
    uint32_t port_no;           /* Requested number, 0: any. */
};

/* Highest port number a caller may request (OpenFlow's last physical
 * port number, as ofport_request allows). */
#define DP_MAX_PORT_NO 65279
/* The bridge's local port (OpenFlow OFPP_LOCAL), which may also be
 * requested; fdb/show prints it as "LOCAL". */
#define DP_PORT_LOCAL FWD_PORT_LOCAL

/* Adds port NAME to BRIDGE.  On success *PORT_NO (if nonnull) is its port
 * number: CFG->port_no if nonzero (EBUSY if another port of BRIDGE has it,
 * EINVAL above DP_MAX_PORT_NO unless it is DP_PORT_LOCAL), else the
 * smallest unused one from 1 (ENOSPC if none is left).  Port names are
 * unique across the datapath (as interface names are on a host).
 *
 * Cost: adding, deleting or re-VLANing a port publishes a snapshot that
 * copies about 32 bytes per port of every bridge (plus 4 bytes per port
 * number up to the highest in use); no per-port allocation or walk of
 * other ports' state. */
int dp_add_port(struct dp *, const char *bridge, const char *name,
                const struct dp_port_config *, uint32_t *port_no);
int dp_del_port(struct dp *, const char *name);
/* Port number aliases: a bond's members other than the one that names its
 * datapath port each hold a port number of their own (as in OVS, where
 * every member is an OpenFlow port).  dp_add_port_alias() reserves a
 * number for NAME in BRIDGE (REQUEST, or the smallest free one if 0, with
 * the errors of dp_add_port()); ofproto/trace accepts NAME or that number
 * as the input port and runs it as input on port TARGET (looked up by
 * name at trace time, so the alias may precede it).  Forwarding never
 * sees aliases.  Deleting the bridge drops its aliases. */
int dp_add_port_alias(struct dp *, const char *bridge, const char *name,
                      const char *target, uint32_t request,
                      uint32_t *port_no);
int dp_del_port_alias(struct dp *, const char *name);   /* 0 or ENOENT. */
/* The number alias NAME holds: 0 or ENOENT. */
int dp_port_alias_no(struct dp *, const char *name, uint32_t *port_no);
int dp_set_port_vlan(struct dp *, const char *name, const struct vlan_port *);
/* Open_vSwitch other_config:vlan-limit: how many VLAN headers count as
 * VLANs (default 1; 0 = as many as the datapath parses, which is 2).
 * EINVAL above 4096. */
int dp_set_vlan_limit(struct dp *, unsigned int limit);

/* The backend port named NAME (e.g. for dp_dummy_inject()), or NULL.  Valid
 * until the port is deleted. */
struct dp_port *dp_find_port(struct dp *, const char *name);
int dp_get_port_stats(struct dp *, const char *name, struct dp_port_stats *);

/* QoS on port NAME (policer.h): token buckets of RATES (bytes/s and bytes,
 * packets/s and packets) on its receive side (INGRESS: Interface
 * ingress_policing_*) or its transmit side (QoS type egress-policer); NULL
 * or both rates 0 removes it.  Frames over a rate are dropped and counted
 * as rx_dropped/tx_dropped.  0 or ENOENT. */
struct policer_stats;
struct policer_rates;
int dp_set_port_policer(struct dp *, const char *name, bool ingress,
                        const struct policer_rates *rates);
/* 0 and *STATS, ENOENT (no such port) or ENOTCONN (no such policer). */
int dp_get_port_policer(struct dp *, const char *name, bool ingress,
                        struct policer_stats *);
/* Kernel QoS (tc qdiscs on the device) applies to what a "system" port
 * sends only with USE true; see dp_port_set_use_qdisc(). */
int dp_set_port_use_qdisc(struct dp *, const char *name, bool use);

/* Housekeeping for the control thread: ages out MAC entries.  Returns the
 * msec until it next has work. */
long long dp_run(struct dp *, long long now);

/* One forwarding pass over every port in the calling thread (only when no
 * threads were started).  Returns the number of frames received. */
size_t dp_poll_once(struct dp *, long long now);

/* appctl-style views.  Return ENOENT for an unknown bridge. */
int dp_fdb_show(struct dp *, const char *bridge, long long now, struct ds *);
int dp_fdb_stats_show(struct dp *, const char *bridge, struct ds *);
/* Calls CB for every MAC table entry of BRIDGE, under the table's lock (CB
 * must not call into the datapath).  0 or ENOENT. */
struct fdb_entry_info;
int dp_fdb_foreach(struct dp *, const char *bridge, long long now,
                   void (*cb)(const struct fdb_entry_info *, void *),
                   void *aux);
int dp_fdb_flush(struct dp *, const char *bridge);     /* NULL: all. */
int dp_fdb_add(struct dp *, const char *bridge, const char *port,
               uint16_t vlan, uint64_t mac);
int dp_fdb_del(struct dp *, const char *bridge, uint16_t vlan, uint64_t mac);
/* fdb/stats-clear: zeroes the learned/expired/evicted/moved totals of
 * BRIDGE's MAC table (NULL: every bridge).  0 or ENOENT. */
int dp_fdb_stats_clear(struct dp *, const char *bridge);
/* The MAC table entry of BRIDGE for (VLAN, MAC): 0 and *INFO, ENOENT (no
 * such bridge) or ESRCH (no such entry). */
int dp_fdb_find(struct dp *, const char *bridge, uint16_t vlan, uint64_t mac,
                long long now, struct fdb_entry_info *);

/* Totals over every bridge, including deleted ones (coverage/show). */
struct dp_counters {
    uint64_t n_parse_errors[PACKET_N_ERRORS];
    uint64_t n_vlan_drops[VLAN_N_DROPS];
    uint64_t n_hairpin_drops;   /* Destination learned on the input port. */
    uint64_t n_reserved_drops;  /* Reserved destination (forward-bpdu). */
    uint64_t n_unicast, n_flood;
    uint64_t n_learned, n_moved, n_evicted, n_expired;
    uint64_t n_publish;         /* Configuration snapshots published. */
    uint64_t n_publish_bytes;   /* Bytes copied into them (control cost). */
};
void dp_get_counters(struct dp *, struct dp_counters *);

/* ofproto/trace: what the datapath would do with FRAME (SIZE bytes)
 * received on IN_PORT (a port name or number) of BRIDGE, computed by the
 * forwarding code itself (fwd_trace(), fwd_egress()) on the live tables,
 * which it does not modify. */
struct dp_trace_out {
    uint32_t port_no;
    char *name;
    bool carried;               /* False: the port does not carry the VLAN. */
    struct packet_info frame;   /* The frame as it would leave (if carried). */
    char *mirror;               /* A mirror's copy: the mirror's name. */
};

struct dp_trace_result {
    uint32_t in_port_no;
    char *in_name;
    /* Input given as a bond member (dp_add_port_alias()): its own number
     * and name; in_port_no/in_name are then the bond's port. */
    uint32_t in_member_no;
    char *in_member;
    struct vlan_port in_vlan;
    uint8_t vlan_limit;
    struct fwd_trace trace;
    struct fwd_decision dec;
    char *lookup_name;          /* Name of trace.lookup_port, if it exists. */
    /* Mirroring: the input port, or the learned output port, is a mirror
     * output port, so the frame is not forwarded (dec.out is a drop). */
    bool in_mirror_output, out_mirror_output;
    size_t n_outs;
    struct dp_trace_out *outs;  /* Mirror copies ('mirror' set) last. */
};

/* Returns 0, ENOENT (no such bridge) or ENODEV (no such port on it). */
int dp_trace(struct dp *, const char *bridge, const char *in_port,
             const uint8_t *frame, size_t size, struct dp_trace_result *);
void dp_trace_result_destroy(struct dp_trace_result *);

/* Per-port statistics of every port plus per-bridge forwarding counters,
 * one line each. */
void dp_format_stats(struct dp *, struct ds *);

/* Per forwarding thread (dpif-netdev/pmd-stats-show): totals since the
 * thread started.  A thread's time is split into passes over its ports; a
 * pass that received frames is busy, the others (sleep included) idle. */
struct dp_thread_stats {
    uint64_t n_packets;         /* Frames received. */
    uint64_t n_tx_batches;      /* Transmit calls... */
    uint64_t n_tx_packets;      /* ...and the frames they carried. */
    uint64_t busy_ns, idle_ns;
};
/* Fills STATS[i] for the first N threads; returns the number of forwarding
 * threads (0 before dp_start()). */
unsigned int dp_get_thread_stats(struct dp *, struct dp_thread_stats *stats,
                                 unsigned int n);

/* Every bridge (by name) with its ports (by number), for appctl listings
 * (dpctl/show, dpif-netdev/pmd-rxq-show).  Caller frees with
 * dp_bridge_info_free(). */
struct dp_port_info {
    char *name;
    uint32_t port_no;
    const char *type;           /* dp_port_type(): static. */
    unsigned int thread;        /* The forwarding thread polling it. */
    struct dp_port_stats stats;
};
struct dp_bridge_info {
    char *name;
    size_t n_mac_entries;       /* In its MAC table, static ones included. */
    size_t n_ports;
    struct dp_port_info *ports;
};
size_t dp_list_bridges(struct dp *, struct dp_bridge_info **);
void dp_bridge_info_free(struct dp_bridge_info *, size_t n);

#endif
