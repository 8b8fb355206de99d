/* lock: OVSDB named locks (RFC 7047 section 4.1.8-4.1.10).
 *
 * A lock has a queue of waiters; the first is the owner.  "lock" joins the
 * back of the queue, "steal" jumps to the front (the previous owner stays
 * queued behind it and must still "unlock", as in Open vSwitch).  Sessions
 * are opaque 'void *' here: the table never calls into them, it only tells
 * the caller who gained or lost a lock so the caller can send "locked" and
 * "stolen" notifications.  Single-threaded. */
#ifndef LANYARD_DBD_LOCK_H
#define LANYARD_DBD_LOCK_H 1

#include <stdbool.h>

struct dbd_lock_table;
struct dbd_lock_waiter;

enum dbd_lock_mode {
    DBD_LOCK_WAIT,              /* "lock": queue behind the owner. */
    DBD_LOCK_STEAL              /* "steal": become owner at once. */
};

struct dbd_lock_table *dbd_lock_table_create(void);
/* All waiters must have been released first. */
void dbd_lock_table_destroy(struct dbd_lock_table *);

/* Adds SESSION as a waiter for lock NAME.  For a steal, *STOLEN_FROM is set
 * to the session that owned the lock (or NULL), which must get a "stolen"
 * notification.  The caller keeps the returned waiter, one per (session,
 * name), and must release it. */
struct dbd_lock_waiter *dbd_lock_acquire(struct dbd_lock_table *,
                                         const char *name, void *session,
                                         enum dbd_lock_mode,
                                         void **stolen_from);
bool dbd_lock_waiter_is_owner(const struct dbd_lock_waiter *);
const char *dbd_lock_waiter_name(const struct dbd_lock_waiter *);

/* Removes WAITER.  If it owned the lock, returns the session that now owns
 * it (which must get a "locked" notification), else NULL. */
void *dbd_lock_release(struct dbd_lock_waiter *);

/* Number of distinct locks held or waited for (for memory/show). */
unsigned int dbd_lock_table_count(const struct dbd_lock_table *);

#endif
