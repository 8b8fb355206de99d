#include "fdb.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>

#include "ds.h"
#include "hash.h"
#include "hmap.h"
#include "list.h"
#include "util.h"

/* Per-port bookkeeping for fair eviction and per-port flushes. */
struct fdb_port {
    struct hmap_node node;      /* In fdb->ports, by handle. */
    uint32_t handle;
    size_t n_learned;
    size_t n_static;
    struct list_node learned;   /* fdb_entry.port_node, LRU first. */
};

struct fdb_entry {
    struct hmap_node node;      /* In fdb->entries, by key. */
    uint64_t key;               /* VLAN << 48 | MAC. */
    struct fdb_port *port;
    long long used;             /* Msec; meaningless for static entries. */
    bool is_static;
    struct list_node lru_node;  /* In fdb->lru or fdb->statics. */
    struct list_node port_node; /* In port->learned (learned only). */
};

struct fdb {
    struct hmap entries;
    struct hmap ports;
    struct list_node lru;       /* Learned entries, least recent first. */
    struct list_node statics;
    size_t n_static;
    size_t max_entries;
    long long idle_ms;
    struct fdb_stats stats;     /* Counters only; sizes filled on demand. */
};

#define MIN_ENTRIES 10
#define MAX_ENTRIES 1000000
#define MIN_IDLE 15
#define MAX_IDLE 3600

static inline uint64_t
make_key(uint16_t vlan, uint64_t mac)
{
    return ((uint64_t) (vlan & 0xfff) << 48) | (mac & 0xffffffffffffULL);
}

static inline uint32_t
key_hash(uint64_t key)
{
    return hash_uint64(key, 0);
}

static size_t
clamp_size(size_t n)
{
    return n < MIN_ENTRIES ? MIN_ENTRIES : n > MAX_ENTRIES ? MAX_ENTRIES : n;
}

static unsigned int
clamp_idle(unsigned int s)
{
    return s < MIN_IDLE ? MIN_IDLE : s > MAX_IDLE ? MAX_IDLE : s;
}

struct fdb *
fdb_create(size_t max_entries, unsigned int idle_time_s)
{
    struct fdb *fdb = xzalloc(sizeof *fdb);
    hmap_init(&fdb->entries);
    hmap_init(&fdb->ports);
    list_init(&fdb->lru);
    list_init(&fdb->statics);
    fdb->max_entries = clamp_size(max_entries);
    fdb->idle_ms = clamp_idle(idle_time_s) * 1000LL;
    return fdb;
}

void
fdb_destroy(struct fdb *fdb)
{
    if (!fdb) {
        return;
    }
    struct fdb_entry *e;
    HMAP_FOR_EACH_POP (e, node, &fdb->entries) {
        free(e);
    }
    struct fdb_port *p;
    HMAP_FOR_EACH_POP (p, node, &fdb->ports) {
        free(p);
    }
    hmap_destroy(&fdb->entries);
    hmap_destroy(&fdb->ports);
    free(fdb);
}

static struct fdb_entry *
find_entry(const struct fdb *fdb, uint64_t key)
{
    struct fdb_entry *e;
    HMAP_FOR_EACH_WITH_HASH (e, node, key_hash(key), &fdb->entries) {
        if (e->key == key) {
            return e;
        }
    }
    return NULL;
}

static struct fdb_port *
get_port(struct fdb *fdb, uint32_t handle)
{
    struct fdb_port *p;
    uint32_t hash = hash_int(handle, 0);
    HMAP_FOR_EACH_WITH_HASH (p, node, hash, &fdb->ports) {
        if (p->handle == handle) {
            return p;
        }
    }
    p = xzalloc(sizeof *p);
    p->handle = handle;
    list_init(&p->learned);
    hmap_insert(&fdb->ports, &p->node, hash);
    return p;
}

static void
put_port(struct fdb *fdb, struct fdb_port *p)
{
    if (!p->n_learned && !p->n_static) {
        hmap_remove(&fdb->ports, &p->node);
        free(p);
    }
}

static void
remove_entry(struct fdb *fdb, struct fdb_entry *e)
{
    hmap_remove(&fdb->entries, &e->node);
    list_remove(&e->lru_node);
    if (e->is_static) {
        fdb->n_static--;
        e->port->n_static--;
        put_port(fdb, e->port);
    } else {
        list_remove(&e->port_node);
        e->port->n_learned--;
        put_port(fdb, e->port);
    }
    free(e);
}

/* Evicts one learned entry from the port with the most learned entries.
 * Returns false if there is no learned entry at all. */
static bool
evict_one(struct fdb *fdb)
{
    struct fdb_port *p, *max = NULL;
    HMAP_FOR_EACH (p, node, &fdb->ports) {
        if (!max || p->n_learned > max->n_learned) {
            max = p;
        }
    }
    if (!max || !max->n_learned) {
        return false;
    }
    struct fdb_entry *victim
        = CONTAINER_OF(max->learned.next, struct fdb_entry, port_node);
    remove_entry(fdb, victim);
    fdb->stats.n_evicted++;
    return true;
}

/* How stale 'used' may get before a hit refreshes it.  A refresh relinks
 * the entry at the tail of two LRU lists: four cache misses per frame in a
 * table bigger than the caches (100,000 MACs).  Refreshing at most once a
 * second per entry keeps the lists sorted by 'used' and ages as precise as
 * ovs-vswitchd's, which counts whole seconds. */
#define REFRESH_MS 1000

static void
relink(struct fdb *fdb, struct fdb_entry *e, long long now)
{
    e->used = now;
    list_remove(&e->lru_node);
    list_push_back(&fdb->lru, &e->lru_node);
    list_remove(&e->port_node);
    list_push_back(&e->port->learned, &e->port_node);
}

static void
touch(struct fdb *fdb, struct fdb_entry *e, long long now)
{
    if (now - e->used >= REFRESH_MS) {
        relink(fdb, e, now);
    }
}

static struct fdb_entry *
insert_entry(struct fdb *fdb, uint64_t key, uint32_t port, bool is_static,
             long long now)
{
    struct fdb_entry *e = xmalloc(sizeof *e);
    e->key = key;
    e->port = get_port(fdb, port);
    e->used = now;
    e->is_static = is_static;
    hmap_insert(&fdb->entries, &e->node, key_hash(key));
    if (is_static) {
        fdb->n_static++;
        e->port->n_static++;
        list_push_back(&fdb->statics, &e->lru_node);
        list_init(&e->port_node);
    } else {
        e->port->n_learned++;
        list_push_back(&fdb->lru, &e->lru_node);
        list_push_back(&e->port->learned, &e->port_node);
    }
    return e;
}

enum fdb_learn_result
fdb_learn(struct fdb *fdb, uint16_t vlan, uint64_t mac, uint32_t port,
          long long now)
{
    uint64_t key = make_key(vlan, mac);
    struct fdb_entry *e = find_entry(fdb, key);
    if (e) {
        if (e->is_static) {
            return FDB_LEARN_STATIC;
        }
        if (e->port->handle == port) {
            touch(fdb, e, now);
            return FDB_LEARN_REFRESHED;
        }
        /* MAC move: re-home the entry on its new port. */
        struct fdb_port *old = e->port;
        list_remove(&e->port_node);
        old->n_learned--;
        e->port = get_port(fdb, port);
        e->port->n_learned++;
        list_push_back(&e->port->learned, &e->port_node);
        put_port(fdb, old);
        relink(fdb, e, now);
        fdb->stats.n_moved++;
        return FDB_LEARN_MOVED;
    }
    if (hmap_count(&fdb->entries) >= fdb->max_entries && !evict_one(fdb)) {
        return FDB_LEARN_FULL;
    }
    insert_entry(fdb, key, port, false, now);
    fdb->stats.n_learned++;
    return FDB_LEARN_NEW;
}

bool
fdb_lookup(const struct fdb *fdb, uint16_t vlan, uint64_t mac, uint32_t *port)
{
    const struct fdb_entry *e = find_entry(fdb, make_key(vlan, mac));
    if (e) {
        *port = e->port->handle;
        return true;
    }
    return false;
}

uint32_t
fdb_hash(uint16_t vlan, uint64_t mac)
{
    return key_hash(make_key(vlan, mac));
}

void
fdb_prefetch(const struct fdb *fdb, uint32_t hash, int stage)
{
    const struct hmap *h = &fdb->entries;
    struct hmap_node *const *bucket = &h->buckets[hash & h->mask];
    if (stage == 0) {
        __builtin_prefetch(bucket);
    } else if (*bucket) {
        const struct hmap_node *node = *bucket;
        if (stage == 2) {
            if (node->hash == hash || !node->next) {
                return;
            }
            node = node->next;
        }
        const struct fdb_entry *e = CONTAINER_OF(node, struct fdb_entry,
                                                 node);
        __builtin_prefetch(e);
        __builtin_prefetch(&e->port_node);
    }
}

int
fdb_add_static(struct fdb *fdb, uint16_t vlan, uint64_t mac, uint32_t port)
{
    uint64_t key = make_key(vlan, mac);
    struct fdb_entry *e = find_entry(fdb, key);
    if (e) {
        remove_entry(fdb, e);
    } else if (hmap_count(&fdb->entries) >= fdb->max_entries
               && !evict_one(fdb)) {
        return ENOSPC;
    }
    insert_entry(fdb, key, port, true, 0);
    return 0;
}

int
fdb_del_static(struct fdb *fdb, uint16_t vlan, uint64_t mac)
{
    struct fdb_entry *e = find_entry(fdb, make_key(vlan, mac));
    if (!e || !e->is_static) {
        return ENOENT;
    }
    remove_entry(fdb, e);
    return 0;
}

size_t
fdb_expire(struct fdb *fdb, long long now)
{
    size_t n = 0;
    while (!list_is_empty(&fdb->lru)) {
        struct fdb_entry *e
            = CONTAINER_OF(fdb->lru.next, struct fdb_entry, lru_node);
        if (now - e->used < fdb->idle_ms) {
            break;
        }
        remove_entry(fdb, e);
        n++;
    }
    fdb->stats.n_expired += n;
    return n;
}

long long
fdb_next_expiry(const struct fdb *fdb, long long now)
{
    if (list_is_empty(&fdb->lru)) {
        return LLONG_MAX;
    }
    const struct fdb_entry *e
        = CONTAINER_OF(fdb->lru.next, struct fdb_entry, lru_node);
    long long left = e->used + fdb->idle_ms - now;
    return left > 0 ? left : 0;
}

void
fdb_set_max_entries(struct fdb *fdb, size_t n)
{
    fdb->max_entries = clamp_size(n);
    /* As ovs-vswitchd's mac_learning_run(): a table over its new size
     * loses its least recently used learned entries, whatever their port,
     * counted as expired.  Fair eviction is for making room for a new
     * entry in a full table. */
    size_t n_expired = 0;
    while (hmap_count(&fdb->entries) > fdb->max_entries
           && !list_is_empty(&fdb->lru)) {
        remove_entry(fdb, CONTAINER_OF(fdb->lru.next, struct fdb_entry,
                                       lru_node));
        n_expired++;
    }
    fdb->stats.n_expired += n_expired;
}

void
fdb_set_idle_time(struct fdb *fdb, unsigned int seconds)
{
    fdb->idle_ms = clamp_idle(seconds) * 1000LL;
}

size_t
fdb_max_entries(const struct fdb *fdb)
{
    return fdb->max_entries;
}

size_t
fdb_count(const struct fdb *fdb)
{
    return hmap_count(&fdb->entries);
}

void
fdb_flush(struct fdb *fdb)
{
    while (!list_is_empty(&fdb->lru)) {
        remove_entry(fdb, CONTAINER_OF(fdb->lru.next, struct fdb_entry,
                                       lru_node));
    }
    hmap_shrink(&fdb->entries);
}

void
fdb_flush_port(struct fdb *fdb, uint32_t port)
{
    struct fdb_entry *e, *next;
    LIST_FOR_EACH_SAFE (e, next, lru_node, &fdb->statics) {
        if (e->port->handle == port) {
            remove_entry(fdb, e);
        }
    }
    struct fdb_port *p;
    HMAP_FOR_EACH_WITH_HASH (p, node, hash_int(port, 0), &fdb->ports) {
        if (p->handle == port) {
            /* Removing the last entry frees P, so count down first. */
            for (size_t n = p->n_learned; n > 0; n--) {
                remove_entry(fdb, CONTAINER_OF(p->learned.next,
                                               struct fdb_entry, port_node));
            }
            break;
        }
    }
}

void
fdb_flush_vlan(struct fdb *fdb, uint16_t vlan)
{
    struct fdb_entry *e, *next;
    LIST_FOR_EACH_SAFE (e, next, lru_node, &fdb->lru) {
        if ((uint16_t) (e->key >> 48) == (vlan & 0xfff)) {
            remove_entry(fdb, e);
        }
    }
}

static void
fill_info(const struct fdb_entry *e, long long now, struct fdb_entry_info *i)
{
    i->vlan = (uint16_t) (e->key >> 48);
    i->mac = e->key & 0xffffffffffffULL;
    i->port = e->port->handle;
    i->is_static = e->is_static;
    i->age_s = e->is_static ? 0 : (now - e->used) / 1000;
}

bool
fdb_find(const struct fdb *fdb, uint16_t vlan, uint64_t mac, long long now,
         struct fdb_entry_info *info)
{
    const struct fdb_entry *e = find_entry(fdb, make_key(vlan, mac));
    if (e) {
        fill_info(e, now, info);
    }
    return e != NULL;
}

void
fdb_foreach(const struct fdb *fdb, long long now,
            void (*cb)(const struct fdb_entry_info *, void *aux), void *aux)
{
    const struct fdb_entry *e;
    struct fdb_entry_info info;
    LIST_FOR_EACH (e, lru_node, &fdb->lru) {
        fill_info(e, now, &info);
        cb(&info, aux);
    }
    LIST_FOR_EACH (e, lru_node, &fdb->statics) {
        fill_info(e, now, &info);
        cb(&info, aux);
    }
}

void
fdb_get_stats(const struct fdb *fdb, struct fdb_stats *stats)
{
    *stats = fdb->stats;
    stats->n_entries = hmap_count(&fdb->entries);
    stats->max_entries = fdb->max_entries;
    stats->n_static = fdb->n_static;
}

void
fdb_clear_stats(struct fdb *fdb)
{
    fdb->stats.n_learned = 0;
    fdb->stats.n_expired = 0;
    fdb->stats.n_evicted = 0;
    fdb->stats.n_moved = 0;
}

struct format_aux {
    void (*port_name)(uint32_t, char *, size_t, void *);
    void *aux;
    struct ds *ds;
};

static void
format_entry(const struct fdb_entry_info *i, void *aux_)
{
    struct format_aux *aux = aux_;
    char name[32];
    aux->port_name(i->port, name, sizeof name, aux->aux);
    uint64_t m = i->mac;
    ds_put_format(aux->ds, "%5s  %4d  %02x:%02x:%02x:%02x:%02x:%02x  ", name,
                  i->vlan, (unsigned) (m >> 40) & 0xff,
                  (unsigned) (m >> 32) & 0xff, (unsigned) (m >> 24) & 0xff,
                  (unsigned) (m >> 16) & 0xff, (unsigned) (m >> 8) & 0xff,
                  (unsigned) m & 0xff);
    if (i->is_static) {
        ds_put_cstr(aux->ds, "static\n");
    } else {
        ds_put_format(aux->ds, "%3lld\n", i->age_s);
    }
}

void
fdb_format(const struct fdb *fdb, long long now,
           void (*port_name)(uint32_t, char *, size_t, void *), void *aux,
           struct ds *ds)
{
    struct format_aux fa = { port_name, aux, ds };
    ds_put_cstr(ds, " port  VLAN  MAC                Age\n");
    fdb_foreach(fdb, now, format_entry, &fa);
}

void
fdb_format_stats(const struct fdb *fdb, const char *bridge, struct ds *ds)
{
    struct fdb_stats s;
    fdb_get_stats(fdb, &s);
    ds_put_format(ds, "Statistics for bridge \"%s\":\n", bridge);
    ds_put_format(ds, "  Current/maximum MAC entries in the table: %zu/%zu\n",
                  s.n_entries, s.max_entries);
    ds_put_format(ds, "  Current static MAC entries in the table : %zu\n",
                  s.n_static);
    ds_put_format(ds, "  Total number of learned MAC entries     : %llu\n",
                  (unsigned long long) s.n_learned);
    ds_put_format(ds, "  Total number of expired MAC entries     : %llu\n",
                  (unsigned long long) s.n_expired);
    ds_put_format(ds, "  Total number of evicted MAC entries     : %llu\n",
                  (unsigned long long) s.n_evicted);
    ds_put_format(ds, "  Total number of port moved MAC entries  : %llu\n",
                  (unsigned long long) s.n_moved);
}
