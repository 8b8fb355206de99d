/* fdb: MAC learning table, (VLAN, MAC) -> opaque port handle.
 *
 * Learned entries age out 'idle_time' seconds after they were last seen
 * (callers pass 'now' in milliseconds; nothing here reads a clock).  The
 * table holds at most 'max_entries' entries, static ones included; when it
 * is full a new MAC evicts the least recently used learned entry of the port
 * that holds the most learned entries, so one flooding port cannot push out
 * everyone else.  Static entries never age or move and survive fdb_flush().
 *
 * A port handle is any 32-bit value the caller chooses (the datapath uses
 * port numbers); the table never interprets it.
 *
 * Not thread-safe: callers serialise access (the datapath holds one lock
 * per bridge around a whole batch). */
#ifndef LANYARD_FDB_H
#define LANYARD_FDB_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ds;

#define FDB_DEFAULT_MAX_ENTRIES 8192
#define FDB_DEFAULT_IDLE_TIME 300       /* Seconds. */

struct fdb *fdb_create(size_t max_entries, unsigned int idle_time_s);
void fdb_destroy(struct fdb *);

/* Max entries is clamped to 10..1,000,000 and idle time to 15..3600 s, as
 * ovs-vswitchd does for other_config:mac-table-size / mac-aging-time.
 * Shrinking the table drops the least recently used learned entries at
 * once (counted as expired), as ovs-vswitchd's next run does. */
void fdb_set_max_entries(struct fdb *, size_t);
void fdb_set_idle_time(struct fdb *, unsigned int seconds);
size_t fdb_max_entries(const struct fdb *);
size_t fdb_count(const struct fdb *);

enum fdb_learn_result {
    FDB_LEARN_REFRESHED,        /* Known on this port; age reset. */
    FDB_LEARN_NEW,              /* New entry. */
    FDB_LEARN_MOVED,            /* Known on another port; moved. */
    FDB_LEARN_STATIC,           /* Static entry: left alone. */
    FDB_LEARN_FULL,             /* Table full of static entries. */
};

/* MAC is the 48-bit address as an integer (packet_mac_to_u64()). */
enum fdb_learn_result fdb_learn(struct fdb *, uint16_t vlan, uint64_t mac,
                                uint32_t port, long long now);
bool fdb_lookup(const struct fdb *, uint16_t vlan, uint64_t mac,
                uint32_t *port);

/* Hints, no effect on the table: fdb_prefetch() starts loading what a
 * learn or lookup of the key with hash HASH (from fdb_hash()) will read, so
 * that callers working through a batch overlap the cache misses of a large
 * table.  Run stage 0 (the hash bucket), then 1 (the first entry in it),
 * then 2 (the next one, if the first is not it) over the whole batch, each
 * stage a full pass after the one before so that its loads have landed. */
uint32_t fdb_hash(uint16_t vlan, uint64_t mac);
void fdb_prefetch(const struct fdb *, uint32_t hash, int stage);

/* Static entries (fdb/add, fdb/del).  fdb_add_static() replaces a learned
 * entry for the same key; returns 0 or ENOSPC if the table is full of
 * static entries.  fdb_del_static() returns 0 or ENOENT. */
int fdb_add_static(struct fdb *, uint16_t vlan, uint64_t mac, uint32_t port);
int fdb_del_static(struct fdb *, uint16_t vlan, uint64_t mac);

/* Removes learned entries idle for 'idle_time' or longer; returns how many.
 * Cost is proportional to the number removed. */
size_t fdb_expire(struct fdb *, long long now);

/* Milliseconds until the next entry expires (LLONG_MAX if none). */
long long fdb_next_expiry(const struct fdb *, long long now);

void fdb_flush(struct fdb *);                   /* Learned entries. */
void fdb_flush_port(struct fdb *, uint32_t port);       /* All of PORT. */
void fdb_flush_vlan(struct fdb *, uint16_t vlan);       /* Learned, VLAN. */

struct fdb_entry_info {
    uint16_t vlan;
    uint64_t mac;
    uint32_t port;
    bool is_static;
    long long age_s;            /* Seconds since last seen (learned). */
};

/* The entry for (VLAN, MAC): true with *INFO filled in, else false. */
bool fdb_find(const struct fdb *, uint16_t vlan, uint64_t mac, long long now,
              struct fdb_entry_info *);

/* Calls CB for every entry: learned ones least recently used first, then
 * static ones. */
void fdb_foreach(const struct fdb *, long long now,
                 void (*cb)(const struct fdb_entry_info *, void *aux),
                 void *aux);

struct fdb_stats {
    size_t n_entries;
    size_t max_entries;
    size_t n_static;
    uint64_t n_learned;         /* Total entries ever learned. */
    uint64_t n_expired;
    uint64_t n_evicted;
    uint64_t n_moved;
};
void fdb_get_stats(const struct fdb *, struct fdb_stats *);
void fdb_clear_stats(struct fdb *);

/* fdb/show: " port  VLAN  MAC                Age" then one line per entry.
 * PORT_NAME writes the label for a port handle into BUF (e.g. "1" or
 * "LOCAL"). */
void fdb_format(const struct fdb *, long long now,
                void (*port_name)(uint32_t port, char *buf, size_t size,
                                  void *aux),
                void *aux, struct ds *);
/* fdb/stats-show body for BRIDGE. */
void fdb_format_stats(const struct fdb *, const char *bridge, struct ds *);

#endif
