/* vsctl-br: how lanyard-vsctl finds bridges, ports and interfaces.
 *
 * ovs-vsctl presents two kinds of bridge.  A real bridge is a Bridge row
 * (always referenced from Open_vSwitch.bridges, because Bridge is not a root
 * table).  A fake (VLAN) bridge is a Port of a real bridge with
 * fake_bridge=true and a tag in 0...4095; every other port of the same real
 * bridge carrying that tag belongs to the fake bridge.  ovs-vsctl builds this
 * picture from the whole database on every run; these lookups derive it from
 * the few rows a command names (rows by indexed name, the bridge holding a
 * port by a conditional select), so their cost does not grow with the number
 * of ports.  Each lookup that decided something is a precondition of the
 * commit (vsctl-db's query waits and column verifies).
 *
 * Errors are ovs-vsctl's messages, through fatal().  The returned rows belong
 * to the database view (vsctl-db.h). */
#ifndef LANYARD_VSCTL_BR_H
#define LANYARD_VSCTL_BR_H 1

#include <stdbool.h>
#include <stddef.h>

struct vsctl_column;
struct vsctl_ctx;
struct vsctl_datum;
struct vsctl_row;
struct vsctl_table;
union vsctl_atom;

struct vsctl_bridge_ref {
    const char *name;               /* Belongs to the row it came from. */
    struct vsctl_row *br;           /* Bridge row (the parent if fake). */
    struct vsctl_row *fake_port;    /* The fake bridge's Port, else NULL. */
    int vlan;                       /* 0 for a real bridge. */
};

/* Finds bridge NAME (real or fake).  Returns false, or fails with "no bridge
 * named NAME" if MUST_EXIST. */
bool vsctl_find_bridge(struct vsctl_ctx *, const char *name, bool must_exist,
                       struct vsctl_bridge_ref *);
/* Like vsctl_find_bridge() with MUST_EXIST, but fails with "NAME is a fake
 * bridge" for fake bridges. */
void vsctl_find_real_bridge(struct vsctl_ctx *, const char *name,
                            struct vsctl_bridge_ref *);

/* The rows that the UUID set UUIDS references in TABLE, in UUID order,
 * skipping dangling references.  When the set is large, reads COLUMNS
 * (NULL-terminated: the ones the caller will use) of the whole table in one
 * select instead of one select per row.  Returns a malloc'd array of *N
 * rows. */
struct vsctl_row **vsctl_load_rows(struct vsctl_ctx *, struct vsctl_table *,
                                   const struct vsctl_datum *uuids,
                                   const char *const *columns, size_t *n);
/* Whether UUIDS is large enough for vsctl_load_rows() to read whole tables;
 * callers about to load the rows these rows reference can do the same. */
bool vsctl_is_bulk(const struct vsctl_datum *uuids);

/* Row helpers shared with vsctl-misc.c.  Table and column names are exact
 * schema names; a missing one is fatal. */
struct vsctl_table *vsctl_table_of(struct vsctl_ctx *, const char *name);
const struct vsctl_column *vsctl_column_of(const struct vsctl_table *,
                                           const char *name);
/* COLUMN of ROW, recorded as a precondition of the commit. */
const struct vsctl_datum *vsctl_read_verified(struct vsctl_ctx *,
                                              struct vsctl_row *,
                                              const char *column);
/* Writes D (taking ownership) to column C of ROW, unless ROW already holds
 * that value: like the OVS IDL, a write that changes nothing is dropped, so
 * that the transaction stays empty and nothing waits for the switch. */
void vsctl_write_if_changed(struct vsctl_ctx *, struct vsctl_row *,
                            const struct vsctl_column *,
                            struct vsctl_datum *d);
/* Writes the one-atom value ATOM (copied), or the string S, as the whole of
 * COLUMN of ROW (through vsctl_write_if_changed()). */
void vsctl_write_atom(struct vsctl_ctx *, struct vsctl_row *,
                      const char *column, const union vsctl_atom *atom);
void vsctl_write_string(struct vsctl_ctx *, struct vsctl_row *,
                        const char *column, const char *s);
/* qsort() comparison of "const char *"s by byte value. */
int vsctl_compare_strings(const void *, const void *);

#endif
