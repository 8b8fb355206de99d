/* ofport: which port number switchd asks the datapath for.
 *
 * ovs-vswitchd keeps OpenFlow port numbers stable: an Interface's
 * ofport_request wins; otherwise the number the row already shows in its
 * 'ofport' column is asked for again (that is what keeps numbers across a
 * daemon restart).  Lanyard also remembers, per bridge, the number each
 * interface name last had in this process, so a port that is deleted and
 * added again gets its number back when it is still free (ovs-vswitchd
 * would hand out a fresh one).  A request that is taken is not an error:
 * the caller falls back to any free number, as ovs-vswitchd does.
 *
 * Pure bookkeeping, no I/O; one owner (struct bridges). */
#ifndef LANYARD_SWITCHD_OFPORT_H
#define LANYARD_SWITCHD_OFPORT_H 1

#include <stdint.h>

struct ofport_memory;

struct ofport_memory *ofport_memory_create(void);
void ofport_memory_destroy(struct ofport_memory *);

/* Records that interface NAME on BRIDGE has port number NO. */
void ofport_memory_set(struct ofport_memory *, const char *bridge,
                       const char *name, uint32_t no);
/* The number NAME last had on BRIDGE, 0 if none. */
uint32_t ofport_memory_get(const struct ofport_memory *, const char *bridge,
                           const char *name);

/* The number to request: OFPORT_REQUEST if in 1..DP_MAX_PORT_NO, else
 * DB_OFPORT (the row's current 'ofport') if positive, else REMEMBERED;
 * 0 means any. */
uint32_t ofport_pick(long long ofport_request, long long db_ofport,
                     uint32_t remembered);

#endif
