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
/* other_config:mac-table-size / mac-aging-time (clamped as OVS does). */
int dp_bridge_set_mac_table(struct dp *, const char *bridge,
                            size_t max_entries, unsigned int idle_s);

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
int dp_set_port_vlan(struct dp *, const char *name, const struct vlan_port *);
/* Open_vSwitch other_config:vlan-limit: how many VLAN headers count as
 * VLANs (default 1; 0 = as many as the datapath parses, which is 2).
 * EINVAL above 4096. */
int dp_set_vlan_limit(struct dp *, unsigned int limit);

/* The backend port named NAME (e.g. for dp_dummy_inject()), or NULL.  Valid
 * until the port is deleted. */
struct dp_port *dp_find_port(struct dp *, const char *name);
int dp_get_port_stats(struct dp *, const char *name, struct dp_port_stats *);

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

/* Totals over every bridge, including deleted ones (coverage/show). */
struct dp_counters {
    uint64_t n_parse_errors[PACKET_N_ERRORS];
    uint64_t n_vlan_drops[VLAN_N_DROPS];
    uint64_t n_hairpin_drops;   /* Destination learned on the input port. */
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
};

struct dp_trace_result {
    uint32_t in_port_no;
    char *in_name;
    struct vlan_port in_vlan;
    uint8_t vlan_limit;
    struct fwd_trace trace;
    struct fwd_decision dec;
    char *lookup_name;          /* Name of trace.lookup_port, if it exists. */
    size_t n_outs;
    struct dp_trace_out *outs;
};

/* Returns 0, ENOENT (no such bridge) or ENODEV (no such port on it). */
int dp_trace(struct dp *, const char *bridge, const char *in_port,
             const uint8_t *frame, size_t size, struct dp_trace_result *);
void dp_trace_result_destroy(struct dp_trace_result *);

/* Per-port statistics of every port plus per-bridge forwarding counters,
 * one line each. */
void dp_format_stats(struct dp *, struct ds *);

#endif
