#include "dp-private.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "fdb.h"
#include "hash.h"
#include "mirror.h"
#include "policer.h"
#include "util.h"

/* ---- Public control API. ---- */

struct dp *
dp_create(void)
{
    struct dp *dp = xzalloc(sizeof *dp);
    pthread_mutex_init(&dp->mutex, NULL);
    hmap_init(&dp->bridges);
    hmap_init(&dp->ports);
    hmap_init(&dp->aliases);
    atomic_init(&dp->gen, 1);
    atomic_init(&dp->stop, false);
    dp->scratch = xzalloc(sizeof *dp->scratch);    /* Counters at 0. */
    dp->tports = xcalloc(1, sizeof *dp->tports);
    dp->vlan_limit = 1;         /* ovs-vswitchd's default. */
    uint64_t bytes = 0;
    atomic_init(&dp->snap, dp_snap_build(dp, &bytes));
    dp->spare = dp_snap_build(dp, &bytes);
    return dp;
}

struct dp_bridge *
dp_find_bridge(const struct dp *dp, const char *name)
{
    struct dp_bridge *br;
    HMAP_FOR_EACH_WITH_HASH (br, node, hash_string(name, 0), &dp->bridges) {
        if (!strcmp(br->name, name)) {
            return br;
        }
    }
    return NULL;
}

static struct dp_bport *
find_bport(const struct dp *dp, const char *name)
{
    struct dp_bport *bp;
    HMAP_FOR_EACH_WITH_HASH (bp, node, hash_string(name, 0), &dp->ports) {
        if (!strcmp(bp->name, name)) {
            return bp;
        }
    }
    return NULL;
}

int
dp_add_bridge(struct dp *dp, const char *name)
{
    pthread_mutex_lock(&dp->mutex);
    if (dp_find_bridge(dp, name)) {
        pthread_mutex_unlock(&dp->mutex);
        return EEXIST;
    }
    struct dp_bridge *br = xzalloc(sizeof *br);
    br->name = xstrdup(name);
    br->fdb = fdb_create(FDB_DEFAULT_MAX_ENTRIES, FDB_DEFAULT_IDLE_TIME);
    pthread_mutex_init(&br->fdb_mutex, NULL);
    br->local_index = -1;
    br->used[0] = 1;            /* Port number 0 is never handed out. */
    hmap_insert(&dp->bridges, &br->node, hash_string(name, 0));
    dp_publish_simple(dp);
    pthread_mutex_unlock(&dp->mutex);
    return 0;
}

static void
bport_free(struct dp_bport *bp)
{
    free(bp->name);
    free(bp->peer);
    free(bp);
}

static bool
port_no_used(const struct dp_bridge *br, uint32_t no)
{
    return no == DP_PORT_LOCAL ? br->local_index >= 0
           : (br->used[no / 64] >> (no % 64)) & 1;
}

/* Appends BP to BR's arrays. */
static void
bridge_attach(struct dp *dp, struct dp_bridge *br, struct dp_bport *bp)
{
    if (br->n_ports == br->alloc_ports) {
        size_t n = br->alloc_ports;
        br->bports = x2nrealloc(br->bports, &n, sizeof *br->bports);
        br->fports = xrealloc(br->fports, n * sizeof *br->fports);
        br->dports = xrealloc(br->dports, n * sizeof *br->dports);
        br->alloc_ports = n;
    }
    size_t i = br->n_ports++;
    bp->idx = i;
    br->bports[i] = bp;
    br->fports[i] = (struct fwd_port) { bp->port_no, bp->vlan };
    br->dports[i] = bp->port;
    dp_note_change(dp, SC_PORT, br, 0, i);
    dp_note_change(dp, SC_PORT_NO, br, 0, bp->port_no);
    if (bp->port_no == DP_PORT_LOCAL) {
        br->local_index = (int32_t) i;
        return;
    }
    br->used[bp->port_no / 64] |= UINT64_C(1) << (bp->port_no % 64);
    if (bp->port_no >= br->n_index) {
        size_t n = MAX(bp->port_no + 1, 2 * br->n_index);
        n = MIN(n, (size_t) DP_MAX_PORT_NO + 1);
        br->index_of = xrealloc(br->index_of, n * sizeof *br->index_of);
        for (size_t k = br->n_index; k < n; k++) {
            br->index_of[k] = -1;
        }
        br->n_index = n;
    }
    br->index_of[bp->port_no] = (int32_t) i;
}

/* Removes BP from BR's arrays (the last port takes its index). */
static void
bridge_detach(struct dp *dp, struct dp_bridge *br, struct dp_bport *bp)
{
    size_t i = bp->idx, last = --br->n_ports;
    dp_note_change(dp, SC_PORT, br, 0, i);
    dp_note_change(dp, SC_PORT_NO, br, 0, bp->port_no);
    if (bp->port_no == DP_PORT_LOCAL) {
        br->local_index = -1;
    } else {
        br->used[bp->port_no / 64] &= ~(UINT64_C(1) << (bp->port_no % 64));
        br->index_of[bp->port_no] = -1;
    }
    if (i != last) {
        struct dp_bport *moved = br->bports[last];
        moved->idx = i;
        br->bports[i] = moved;
        br->fports[i] = br->fports[last];
        br->dports[i] = br->dports[last];
        if (moved->port_no == DP_PORT_LOCAL) {
            br->local_index = (int32_t) i;
        } else {
            br->index_of[moved->port_no] = (int32_t) i;
        }
        dp_note_change(dp, SC_PORT_NO, br, 0, moved->port_no);
        dp_note_change(dp, SC_RXQ, NULL, moved->thread, moved->rxq_pos);
    }
}

static void aliases_drop_bridge(struct dp *, const char *bridge);

int
dp_del_bridge(struct dp *dp, const char *name)
{
    pthread_mutex_lock(&dp->mutex);
    struct dp_bridge *br = dp_find_bridge(dp, name);
    if (!br) {
        pthread_mutex_unlock(&dp->mutex);
        return ENOENT;
    }
    struct list_node garbage = LIST_INITIALIZER(&garbage);
    for (size_t k = 0; k < br->n_ports; k++) {
        struct dp_bport *bp = br->bports[k];
        hmap_remove(&dp->ports, &bp->node);
        dp_tports_remove(dp, bp);
        dp_add_garbage(&garbage, NULL, bp->port, NULL);
        dp_add_garbage_mem(&garbage, bp->vlan);
        bport_free(bp);
    }
    br->n_ports = 0;
    aliases_drop_bridge(dp, br->name);
    hmap_remove(&dp->bridges, &br->node);
    /* Frames in flight after this are not counted; coverage totals stay
     * monotonic across bridge deletions. */
    dp_bridge_add_counters(br, &dp->retired);
    dp_add_garbage(&garbage, NULL, NULL, br);
    dp_publish(dp, &garbage);
    pthread_mutex_unlock(&dp->mutex);
    return 0;
}

int
dp_bridge_set_flood_vlans(struct dp *dp, const char *bridge,
                          const uint16_t *vids, size_t n)
{
    struct vlan_bitmap b;
    memset(&b, 0, sizeof b);
    for (size_t i = 0; i < n; i++) {
        if (vids[i] >= VLAN_N_VIDS) {
            return EINVAL;
        }
        vlan_bitmap_set(&b, vids[i], true);
    }
    pthread_mutex_lock(&dp->mutex);
    struct dp_bridge *br = dp_find_bridge(dp, bridge);
    if (br && memcmp(&br->flood_vlans, &b, sizeof b)) {
        br->flood_vlans = b;
        dp_publish_simple(dp);
        /* As ovs-vswitchd: a change of flood_vlans forgets every learned
         * MAC (static entries stay). */
        pthread_mutex_lock(&br->fdb_mutex);
        fdb_flush(br->fdb);
        pthread_mutex_unlock(&br->fdb_mutex);
    }
    pthread_mutex_unlock(&dp->mutex);
    return br ? 0 : ENOENT;
}

int
dp_bridge_set_forward_bpdu(struct dp *dp, const char *bridge, bool forward)
{
    pthread_mutex_lock(&dp->mutex);
    struct dp_bridge *br = dp_find_bridge(dp, bridge);
    if (br && br->forward_bpdu != forward) {
        br->forward_bpdu = forward;
        dp_publish_simple(dp);
    }
    pthread_mutex_unlock(&dp->mutex);
    return br ? 0 : ENOENT;
}

int
dp_bridge_set_mac_table(struct dp *dp, const char *bridge, size_t max_entries,
                        unsigned int idle_s)
{
    pthread_mutex_lock(&dp->mutex);
    struct dp_bridge *br = dp_find_bridge(dp, bridge);
    if (br) {
        pthread_mutex_lock(&br->fdb_mutex);
        fdb_set_max_entries(br->fdb, max_entries);
        fdb_set_idle_time(br->fdb, idle_s);
        pthread_mutex_unlock(&br->fdb_mutex);
    }
    pthread_mutex_unlock(&dp->mutex);
    return br ? 0 : ENOENT;
}

int
dp_bridge_set_mirrors(struct dp *dp, const char *bridge,
                      const struct mirror_config *cfgs, size_t n)
{
    pthread_mutex_lock(&dp->mutex);
    struct dp_bridge *br = dp_find_bridge(dp, bridge);
    int error = br ? 0 : ENOENT;
    if (br) {
        if (!br->mirrors) {
            br->mirrors = mirror_table_create();
        }
        error = mirror_table_configure(br->mirrors, cfgs, n);
    }
    if (!error) {
        dp_publish_simple(dp);
        /* Nothing learns on a mirror output port any more: forget what it
         * learned before, so that no unicast is aimed at it. */
        pthread_mutex_lock(&br->fdb_mutex);
        for (size_t i = 0; i < n; i++) {
            if (cfgs[i].out_port) {
                fdb_flush_port(br->fdb, cfgs[i].out_port);
            }
        }
        pthread_mutex_unlock(&br->fdb_mutex);
    }
    pthread_mutex_unlock(&dp->mutex);
    return error;
}

int
dp_bridge_get_mirror_stats(struct dp *dp, const char *bridge, const char *id,
                           struct mirror_stats *stats)
{
    pthread_mutex_lock(&dp->mutex);
    struct dp_bridge *br = dp_find_bridge(dp, bridge);
    int error = br ? mirror_table_get_stats(br->mirrors, id, stats) : ENOENT;
    pthread_mutex_unlock(&dp->mutex);
    return error;
}

/* Port number REQUEST (0: the smallest unused one from 1) in BR, or 0 if
 * REQUEST is taken or no number is left.  A scan of the bitmap of used
 * numbers, 64 at a time. */
static uint32_t
alloc_port_no(const struct dp_bridge *br, uint32_t request)
{
    if (request) {
        return port_no_used(br, request) ? 0 : request;
    }
    for (size_t w = 0; w < ARRAY_SIZE(br->used); w++) {
        if (~br->used[w]) {
            uint32_t no = (uint32_t) (w * 64) + (uint32_t) __builtin_ctzll(~br->used[w]);
            return no <= DP_MAX_PORT_NO ? no : 0;
        }
    }
    return 0;
}

static unsigned int
least_loaded(const struct dp *dp)
{
    unsigned int best = 0;
    for (unsigned int t = 1; t < dp->n_threads; t++) {
        if (dp->tports[t].n < dp->tports[best].n) {
            best = t;
        }
    }
    return best;
}

/* Links patch port BP with its peer if the peer names it back. */
static void
link_patch(struct dp *dp, struct dp_bport *bp)
{
    struct dp_bport *peer = bp->peer ? find_bport(dp, bp->peer) : NULL;
    if (peer && peer->peer && !strcmp(peer->peer, bp->name)
        && dp_port_is_patch(peer->port)) {
        dp_port_patch_link(bp->port, peer->port);
    }
}

int
dp_add_port(struct dp *dp, const char *bridge, const char *name,
            const struct dp_port_config *cfg, uint32_t *port_nop)
{
    pthread_mutex_lock(&dp->mutex);
    struct dp_bridge *br = dp_find_bridge(dp, bridge);
    int error = !br ? ENOENT : find_bport(dp, name) ? EEXIST
                : (cfg->port_no > DP_MAX_PORT_NO
                   && cfg->port_no != DP_PORT_LOCAL) ? EINVAL : 0;
    struct dp_port *port = NULL;
    uint32_t port_no = 0;
    if (!error) {
        port_no = alloc_port_no(br, cfg->port_no);
        error = !port_no ? (cfg->port_no ? EBUSY : ENOSPC)
                : dp_port_open(cfg->type, name, &cfg->options, &port);
    }
    if (error) {
        pthread_mutex_unlock(&dp->mutex);
        return error;
    }
    struct dp_bport *bp = xzalloc(sizeof *bp);
    bp->name = xstrdup(name);
    bp->port_no = port_no;
    bp->br = br;
    bp->port = port;
    bp->vlan = xmemdup(&cfg->vlan, sizeof cfg->vlan);
    bp->peer = cfg->peer ? xstrdup(cfg->peer) : NULL;
    bp->thread = least_loaded(dp);
    bridge_attach(dp, br, bp);
    dp_tports_add(dp, bp);
    hmap_insert(&dp->ports, &bp->node, hash_string(name, 0));
    if (dp_port_is_patch(port)) {
        link_patch(dp, bp);
    }
    /* Nothing to free: no need to wait for the grace period. */
    struct list_node garbage = LIST_INITIALIZER(&garbage);
    dp_publish_changes(dp, &garbage, false);
    pthread_mutex_unlock(&dp->mutex);
    if (port_nop) {
        *port_nop = bp->port_no;
    }
    return 0;
}

int
dp_del_port(struct dp *dp, const char *name)
{
    pthread_mutex_lock(&dp->mutex);
    struct dp_bport *bp = find_bport(dp, name);
    if (!bp) {
        pthread_mutex_unlock(&dp->mutex);
        return ENOENT;
    }
    struct dp_bridge *br = bp->br;
    uint32_t port_no = bp->port_no;
    struct list_node garbage = LIST_INITIALIZER(&garbage);
    hmap_remove(&dp->ports, &bp->node);
    bridge_detach(dp, br, bp);
    dp_tports_remove(dp, bp);
    dp_add_garbage(&garbage, NULL, bp->port, NULL);
    dp_add_garbage_mem(&garbage, bp->vlan);
    bport_free(bp);
    dp_publish_changes(dp, &garbage, true);
    /* No thread can learn on the old port any more: forget it. */
    pthread_mutex_lock(&br->fdb_mutex);
    fdb_flush_port(br->fdb, port_no);
    pthread_mutex_unlock(&br->fdb_mutex);
    pthread_mutex_unlock(&dp->mutex);
    return 0;
}

int
dp_set_port_vlan(struct dp *dp, const char *name, const struct vlan_port *v)
{
    pthread_mutex_lock(&dp->mutex);
    struct dp_bport *bp = find_bport(dp, name);
    if (bp) {
        bool changed = !vlan_port_equal(bp->vlan, v);
        struct list_node garbage = LIST_INITIALIZER(&garbage);
        dp_add_garbage_mem(&garbage, bp->vlan);
        bp->vlan = xmemdup(v, sizeof *v);
        bp->br->fports[bp->idx].vlan = bp->vlan;
        dp_note_change(dp, SC_PORT, bp->br, 0, bp->idx);
        dp_publish_changes(dp, &garbage, true);
        if (changed) {
            /* As ovs-vswitchd: what was learned on a port whose VLAN
             * settings change is forgotten (static entries too). */
            pthread_mutex_lock(&bp->br->fdb_mutex);
            fdb_flush_port(bp->br->fdb, bp->port_no);
            pthread_mutex_unlock(&bp->br->fdb_mutex);
        }
    }
    pthread_mutex_unlock(&dp->mutex);
    return bp ? 0 : ENOENT;
}

int
dp_set_vlan_limit(struct dp *dp, unsigned int limit)
{
    if (limit > 4096) {
        return EINVAL;
    }
    pthread_mutex_lock(&dp->mutex);
    uint8_t v = (uint8_t) MIN(limit, PACKET_MAX_TAGS);
    if (v != dp->vlan_limit) {
        dp->vlan_limit = v;
        dp_publish_simple(dp);
    }
    pthread_mutex_unlock(&dp->mutex);
    return 0;
}

struct dp_port *
dp_find_port(struct dp *dp, const char *name)
{
    pthread_mutex_lock(&dp->mutex);
    struct dp_bport *bp = find_bport(dp, name);
    pthread_mutex_unlock(&dp->mutex);
    return bp ? bp->port : NULL;
}

int
dp_get_port_stats(struct dp *dp, const char *name, struct dp_port_stats *s)
{
    struct dp_port *port = dp_find_port(dp, name);
    if (!port) {
        return ENOENT;
    }
    dp_port_get_stats(port, s);
    return 0;
}

int
dp_set_port_policer(struct dp *dp, const char *name, bool ingress,
                    const struct policer_rates *rates)
{
    pthread_mutex_lock(&dp->mutex);
    struct dp_bport *bp = find_bport(dp, name);
    if (bp) {
        struct dp_port *port = bp->port;
        struct policer *_Atomic *slot = ingress ? &port->ingress_policer
                                                : &port->egress_policer;
        struct policer *p = rates && (rates->rate || rates->pkt_rate)
                            ? policer_create(rates) : NULL;
        struct policer *old = atomic_exchange(slot, p);
        if (old) {
            /* Freed once no forwarding thread can still be using it: a
             * publish with no snapshot change just waits out the grace
             * period. */
            struct list_node garbage = LIST_INITIALIZER(&garbage);
            dp_add_garbage_mem(&garbage, old);
            dp_publish_changes(dp, &garbage, true);
        }
    }
    pthread_mutex_unlock(&dp->mutex);
    return bp ? 0 : ENOENT;
}

int
dp_get_port_policer(struct dp *dp, const char *name, bool ingress,
                    struct policer_stats *stats)
{
    pthread_mutex_lock(&dp->mutex);
    struct dp_bport *bp = find_bport(dp, name);
    struct policer *p = !bp ? NULL
                        : atomic_load(ingress ? &bp->port->ingress_policer
                                              : &bp->port->egress_policer);
    if (p) {
        policer_get_stats(p, stats);
    }
    pthread_mutex_unlock(&dp->mutex);
    return !bp ? ENOENT : p ? 0 : ENOTCONN;
}

int
dp_set_port_use_qdisc(struct dp *dp, const char *name, bool use)
{
    pthread_mutex_lock(&dp->mutex);
    struct dp_bport *bp = find_bport(dp, name);
    int error = bp ? dp_port_set_use_qdisc(bp->port, use) : ENOENT;
    pthread_mutex_unlock(&dp->mutex);
    return error;
}

long long
dp_run(struct dp *dp, long long now)
{
    long long next = 1000;
    pthread_mutex_lock(&dp->mutex);
    struct dp_bridge *br;
    HMAP_FOR_EACH (br, node, &dp->bridges) {
        pthread_mutex_lock(&br->fdb_mutex);
        fdb_expire(br->fdb, now);
        next = MIN(next, fdb_next_expiry(br->fdb, now));
        pthread_mutex_unlock(&br->fdb_mutex);
    }
    pthread_mutex_unlock(&dp->mutex);
    return next;
}

static int
compare_port_no(const void *a_, const void *b_)
{
    const struct dp_bport *const *a = a_, *const *b = b_;
    return (*a)->port_no < (*b)->port_no ? -1 : (*a)->port_no > (*b)->port_no;
}

/* BR's ports by port number, for output (caller frees the array). */
struct dp_bport **
dp_bridge_sorted_ports(const struct dp_bridge *br)
{
    size_t n = br->n_ports;
    struct dp_bport **v = xmalloc((n ? n : 1) * sizeof *v);
    memcpy(v, br->bports, n * sizeof *v);
    qsort(v, n, sizeof *v, compare_port_no);
    return v;
}

/* ---- Port number aliases (bond members, see dp.h). ---- */


static struct dp_alias *
find_alias(const struct dp *dp, const char *name)
{
    struct dp_alias *a;
    HMAP_FOR_EACH_WITH_HASH (a, node, hash_string(name, 0), &dp->aliases) {
        if (!strcmp(a->name, name)) {
            return a;
        }
    }
    return NULL;
}

static struct dp_alias *
find_alias_no(const struct dp *dp, const struct dp_bridge *br, uint32_t no)
{
    struct dp_alias *a;
    HMAP_FOR_EACH (a, node, &dp->aliases) {
        if (a->port_no == no && !strcmp(a->bridge, br->name)) {
            return a;
        }
    }
    return NULL;
}

/* Forgets alias A (the caller releases its number). */
static void
alias_free(struct dp *dp, struct dp_alias *a)
{
    hmap_remove(&dp->aliases, &a->node);
    free(a->name);
    free(a->bridge);
    free(a->target);
    free(a);
}

static void
aliases_drop_bridge(struct dp *dp, const char *bridge)
{
    struct dp_alias *a, *next;
    HMAP_FOR_EACH_SAFE (a, next, node, &dp->aliases) {
        if (!strcmp(a->bridge, bridge)) {
            alias_free(dp, a);
        }
    }
}

int
dp_add_port_alias(struct dp *dp, const char *bridge, const char *name,
                  const char *target, uint32_t request, uint32_t *port_no)
{
    pthread_mutex_lock(&dp->mutex);
    struct dp_bridge *br = dp_find_bridge(dp, bridge);
    int error = !br ? ENOENT
                : find_bport(dp, name) || find_alias(dp, name) ? EEXIST
                : request > DP_MAX_PORT_NO ? EINVAL : 0;
    uint32_t no = error ? 0 : alloc_port_no(br, request);
    if (!error && !no) {
        error = request ? EBUSY : ENOSPC;
    }
    if (!error) {
        br->used[no / 64] |= UINT64_C(1) << (no % 64);
        struct dp_alias *a = xzalloc(sizeof *a);
        a->name = xstrdup(name);
        a->bridge = xstrdup(bridge);
        a->target = xstrdup(target);
        a->port_no = no;
        hmap_insert(&dp->aliases, &a->node, hash_string(name, 0));
        *port_no = no;
    }
    pthread_mutex_unlock(&dp->mutex);
    return error;
}

int
dp_del_port_alias(struct dp *dp, const char *name)
{
    pthread_mutex_lock(&dp->mutex);
    struct dp_alias *a = find_alias(dp, name);
    if (a) {
        struct dp_bridge *br = dp_find_bridge(dp, a->bridge);
        if (br) {
            br->used[a->port_no / 64] &= ~(UINT64_C(1) << (a->port_no % 64));
        }
        alias_free(dp, a);
    }
    pthread_mutex_unlock(&dp->mutex);
    return a ? 0 : ENOENT;
}

int
dp_port_alias_no(struct dp *dp, const char *name, uint32_t *port_no)
{
    pthread_mutex_lock(&dp->mutex);
    const struct dp_alias *a = find_alias(dp, name);
    if (a) {
        *port_no = a->port_no;
    }
    pthread_mutex_unlock(&dp->mutex);
    return a ? 0 : ENOENT;
}

struct dp_bport *
dp_bridge_port_by_no(const struct dp_bridge *br, uint32_t port_no)
{
    int32_t idx = port_no == DP_PORT_LOCAL ? br->local_index
                  : port_no < br->n_index ? br->index_of[port_no] : -1;
    return idx >= 0 ? br->bports[idx] : NULL;
}

/* The port NAME_OR_NO of BR names, directly or through an alias (then
 * *ALIASP is set, else NULL). */
struct dp_bport *
dp_bridge_find_port(const struct dp *dp, const struct dp_bridge *br,
                    const char *name_or_no, const struct dp_alias **aliasp)
{
    unsigned int no;
    struct dp_bport *bp;
    const struct dp_alias *a;
    *aliasp = NULL;
    if (str_to_uint(name_or_no, 10, &no)) {
        bp = dp_bridge_port_by_no(br, no);
        a = bp ? NULL : find_alias_no(dp, br, no);
    } else {
        bp = find_bport(dp, name_or_no);
        bp = bp && bp->br == br ? bp : NULL;
        a = bp ? NULL : find_alias(dp, name_or_no);
        a = a && !strcmp(a->bridge, br->name) ? a : NULL;
    }
    if (a) {
        bp = find_bport(dp, a->target);
        bp = bp && bp->br == br ? bp : NULL;
        *aliasp = bp ? a : NULL;
    }
    return bp;
}

void
dp_destroy(struct dp *dp)
{
    if (!dp) {
        return;
    }
    atomic_store(&dp->stop, true);
    dp_wake_threads(dp);
    unsigned int n_tports = MAX(dp->n_threads, 1);
    for (unsigned int t = 0; t < dp->n_threads; t++) {
        pthread_join(dp->threads[t]->tid, NULL);
        close(dp->threads[t]->efd);
        free(dp->threads[t]);
    }
    dp->n_threads = 0;
    free(dp->threads);
    struct dp_bridge *br, *next;
    HMAP_FOR_EACH_SAFE (br, next, node, &dp->bridges) {
        dp_del_bridge(dp, br->name);
    }
    dp_snap_free(atomic_load(&dp->snap));
    dp_snap_free(dp->spare);
    for (unsigned int t = 0; t < n_tports; t++) {
        free(dp->tports[t].ports);
    }
    free(dp->tports);
    free(dp->changes.v);
    free(dp->lag.v);
    hmap_destroy(&dp->bridges);
    hmap_destroy(&dp->ports);
    hmap_destroy(&dp->aliases);         /* Emptied by dp_del_bridge(). */
    pthread_mutex_destroy(&dp->mutex);
    free(dp->scratch);
    free(dp);
}
