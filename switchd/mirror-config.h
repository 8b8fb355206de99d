/* mirror-config: the Mirror table (Bridge.mirrors) turned into datapath port
 * mirrors (datapath/mirror.h), with ovs-vswitchd's handling of bad rows,
 * and Mirror.statistics written back.
 *
 * Each call to mirrors_reconfigure() derives every bridge's mirror
 * configuration from the database (ports resolved to datapath port
 * numbers through the caller's PORT_NO function) and hands a bridge's
 * mirrors to the datapath only when that configuration changed, so it is
 * cheap to call after every reconciliation: a port that joins, leaves or
 * changes number on a bridge updates the mirrors that name it.  Rows
 * ovs-vswitchd would ignore are logged (once per change, with its words)
 * and left out: no output, an output port not on the bridge; an output
 * VLAN given with an output port is ignored; selected ports not on the
 * bridge are dropped from the selection; past 32 mirrors per bridge the
 * rest are refused.
 *
 * Single-threaded (switchd's main loop). */
#ifndef LANYARD_SWITCHD_MIRROR_CONFIG_H
#define LANYARD_SWITCHD_MIRROR_CONFIG_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct dp;
struct ovsdb;
struct uuid;

/* Resolves Port row PORT to its datapath port number; false if the port
 * is not in the datapath. */
typedef bool mirrors_port_no_fn(void *aux, const struct uuid *port,
                                uint32_t *port_no);

struct mirrors *mirrors_create(struct dp *);
void mirrors_destroy(struct mirrors *);

void mirrors_reconfigure(struct mirrors *, const struct ovsdb *,
                         mirrors_port_no_fn *, void *aux);

/* Appends to OPS an update of Mirror.statistics (tx_packets, tx_bytes) for
 * every mirror in the datapath whose counters changed since last written. */
void mirrors_write_stats(struct mirrors *, json_t *ops);

#endif
