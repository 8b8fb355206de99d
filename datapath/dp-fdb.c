/* dp-fdb: the datapath's MAC table operations (fdb/show, fdb/flush,
 * static entries, ...), each under its bridge's fdb lock. */
#include "dp-private.h"

#include <errno.h>
#include <stdio.h>

#include "fdb.h"
#include "util.h"

static void
port_label(uint32_t port, char *buf, size_t size, void *aux)
{
    (void) aux;
    if (port == DP_PORT_LOCAL) {
        snprintf(buf, size, "LOCAL");   /* As ovs-vswitchd's fdb/show. */
    } else {
        snprintf(buf, size, "%u", port);
    }
}

/* Runs FN on bridge NAME's fdb under its lock. */
static int
with_fdb(struct dp *dp, const char *name,
         int (*fn)(struct dp_bridge *, void *), void *aux)
{
    pthread_mutex_lock(&dp->mutex);
    struct dp_bridge *br = dp_find_bridge(dp, name);
    int error = ENOENT;
    if (br) {
        pthread_mutex_lock(&br->fdb_mutex);
        error = fn(br, aux);
        pthread_mutex_unlock(&br->fdb_mutex);
    }
    pthread_mutex_unlock(&dp->mutex);
    return error;
}

/* Runs FN on bridge NAME's fdb, or on every bridge's if NAME is null (as
 * fdb/flush and fdb/stats-clear without a bridge argument), each under its
 * lock.  FN's return value is ignored for all bridges. */
static int
with_fdbs(struct dp *dp, const char *name,
          int (*fn)(struct dp_bridge *, void *), void *aux)
{
    if (name) {
        return with_fdb(dp, name, fn, aux);
    }
    pthread_mutex_lock(&dp->mutex);
    struct dp_bridge *br;
    HMAP_FOR_EACH (br, node, &dp->bridges) {
        pthread_mutex_lock(&br->fdb_mutex);
        fn(br, aux);
        pthread_mutex_unlock(&br->fdb_mutex);
    }
    pthread_mutex_unlock(&dp->mutex);
    return 0;
}

struct show_aux {
    long long now;
    struct ds *ds;
};

static int
do_show(struct dp_bridge *br, void *aux_)
{
    struct show_aux *aux = aux_;
    fdb_format(br->fdb, aux->now, port_label, NULL, aux->ds);
    return 0;
}

int
dp_fdb_show(struct dp *dp, const char *bridge, long long now, struct ds *ds)
{
    struct show_aux aux = { now, ds };
    return with_fdb(dp, bridge, do_show, &aux);
}

static int
do_stats_show(struct dp_bridge *br, void *ds)
{
    fdb_format_stats(br->fdb, br->name, ds);
    return 0;
}

int
dp_fdb_stats_show(struct dp *dp, const char *bridge, struct ds *ds)
{
    return with_fdb(dp, bridge, do_stats_show, ds);
}

/* dp_fdb_foreach() (used by switchd's bonds for learning packets). */
struct foreach_aux {
    long long now;
    void (*cb)(const struct fdb_entry_info *, void *);
    void *aux;
};

static int
do_foreach(struct dp_bridge *br, void *aux_)
{
    struct foreach_aux *aux = aux_;
    fdb_foreach(br->fdb, aux->now, aux->cb, aux->aux);
    return 0;
}

int
dp_fdb_foreach(struct dp *dp, const char *bridge, long long now,
               void (*cb)(const struct fdb_entry_info *, void *), void *aux)
{
    struct foreach_aux fa = { now, cb, aux };
    return with_fdb(dp, bridge, do_foreach, &fa);
}

static int
do_flush(struct dp_bridge *br, void *aux)
{
    (void) aux;
    fdb_flush(br->fdb);
    return 0;
}

int
dp_fdb_flush(struct dp *dp, const char *bridge)
{
    return with_fdbs(dp, bridge, do_flush, NULL);
}

int
dp_fdb_add(struct dp *dp, const char *bridge, const char *port,
           uint16_t vlan, uint64_t mac)
{
    pthread_mutex_lock(&dp->mutex);
    struct dp_bridge *br = dp_find_bridge(dp, bridge);
    /* A bond member's name (an alias) means its bond's port. */
    const struct dp_alias *alias;
    struct dp_bport *bp = br ? dp_bridge_find_port(dp, br, port, &alias)
                             : NULL;
    int error = !bp ? ENOENT : 0;
    if (!error) {
        pthread_mutex_lock(&br->fdb_mutex);
        error = fdb_add_static(br->fdb, vlan, mac, bp->port_no);
        pthread_mutex_unlock(&br->fdb_mutex);
    }
    pthread_mutex_unlock(&dp->mutex);
    return error;
}

int
dp_fdb_del(struct dp *dp, const char *bridge, uint16_t vlan, uint64_t mac)
{
    pthread_mutex_lock(&dp->mutex);
    struct dp_bridge *br = dp_find_bridge(dp, bridge);
    int error = ENOENT;
    if (br) {
        pthread_mutex_lock(&br->fdb_mutex);
        error = fdb_del_static(br->fdb, vlan, mac);
        pthread_mutex_unlock(&br->fdb_mutex);
    }
    pthread_mutex_unlock(&dp->mutex);
    return error;
}

static int
do_clear_stats(struct dp_bridge *br, void *aux)
{
    (void) aux;
    fdb_clear_stats(br->fdb);
    return 0;
}

int
dp_fdb_stats_clear(struct dp *dp, const char *bridge)
{
    return with_fdbs(dp, bridge, do_clear_stats, NULL);
}

struct find_aux {
    uint16_t vlan;
    uint64_t mac;
    long long now;
    struct fdb_entry_info *info;
};

static int
do_find(struct dp_bridge *br, void *aux_)
{
    struct find_aux *aux = aux_;
    return fdb_find(br->fdb, aux->vlan, aux->mac, aux->now, aux->info)
           ? 0 : ESRCH;
}

int
dp_fdb_find(struct dp *dp, const char *bridge, uint16_t vlan, uint64_t mac,
            long long now, struct fdb_entry_info *info)
{
    struct find_aux aux = { vlan, mac, now, info };
    return with_fdb(dp, bridge, do_find, &aux);
}
