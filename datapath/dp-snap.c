/* dp-snap: the forwarding snapshots (built, patched, published
 * left-right), grace periods and the garbage they release. */
#include "dp-private.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fdb.h"
#include "mirror.h"
#include "util.h"

/* ---- Snapshots. ----
 *
 * There are two snapshots: the live one, which forwarding threads read,
 * and a spare that no thread can reach.  A change is made to the spare,
 * the spare becomes live with one pointer store, and once every thread has
 * passed a quiescent point the same change is made to the old live
 * snapshot, which becomes the spare ("left-right" publication).  Adding,
 * removing or reconfiguring a port therefore copies a few elements into
 * each snapshot, whatever the number of ports (dp->changes says which);
 * rarer changes (bridges, bridge-wide settings, the thread layout) rebuild
 * both snapshots from the control-side arrays (changes.full).  An added
 * port does not wait for the grace period: the old snapshot is brought up
 * to date at the next publish (dp->lag), by when the threads have long
 * moved on; with thousands of ports a thread's pass over them takes
 * milliseconds, and waiting for it made adding a port cost more as the
 * bridge grew. */

void
dp_snap_free(struct dp_snap *s)
{
    if (!s) {
        return;
    }
    for (size_t i = 0; i < s->n_bridges; i++) {
        free(s->bridges[i].ports);
        free(s->bridges[i].dports);
        free(s->bridges[i].index_of);
    }
    for (unsigned int t = 0; t < s->n_threads; t++) {
        free(s->threads[t].rxqs);
    }
    free(s->bridges);
    free(s->threads);
    free(s);
}

/* Sets SB's view of BR's sizes and arrays (but the size of index_of,
 * which is set where SB's copy is made). */
static void
snap_sync_fwd(const struct dp_snap *s, struct snap_bridge *sb,
              const struct dp_bridge *br)
{
    sb->fwd.n_ports = br->n_ports;
    sb->fwd.ports = sb->ports;
    sb->fwd.index_of = sb->index_of;
    sb->fwd.local_index = br->local_index;
    sb->fwd.flood_vlans = br->flood_vlans;
    sb->fwd.forward_bpdu = br->forward_bpdu;
    sb->fwd.vlan_limit = s->vlan_limit;
    sb->fwd.mirrors = mirror_table_set(br->mirrors);
}

/* Copies BR's arrays into SB: 24 bytes per port (the VLAN settings are
 * shared, not copied), plus 4 per port number up to the highest. */
static void
snap_fill_bridge(struct dp_snap *s, struct snap_bridge *sb,
                 struct dp_bridge *br, uint64_t *bytes)
{
    size_t n = br->n_ports;
    sb->br = br;
    sb->alloc_ports = n ? n : 1;
    sb->ports = xmalloc(sb->alloc_ports * sizeof *sb->ports);
    sb->dports = xmalloc(sb->alloc_ports * sizeof *sb->dports);
    if (n) {                    /* A new bridge's arrays may be NULL. */
        memcpy(sb->ports, br->fports, n * sizeof *sb->ports);
        memcpy(sb->dports, br->dports, n * sizeof *sb->dports);
    }
    sb->index_of = xmemdup(br->index_of, br->n_index * sizeof *sb->index_of);
    sb->fwd.n_index = br->n_index;
    *bytes += n * (sizeof *sb->ports + sizeof *sb->dports)
              + br->n_index * sizeof *sb->index_of;
    snap_sync_fwd(s, sb, br);
}

/* Rxq POS of thread T in S, from dp->tports. */
static void
snap_fill_rxq(const struct dp *dp, struct dp_snap *s, unsigned int t,
              size_t pos)
{
    struct snap_thread *st = &s->threads[t];
    const struct thread_ports *tp = &dp->tports[t];
    if (pos < tp->n) {
        if (pos >= st->alloc) {
            st->alloc = MAX(2 * st->alloc, pos + 1);
            st->rxqs = xrealloc(st->rxqs, st->alloc * sizeof *st->rxqs);
        }
        const struct dp_bport *bp = tp->ports[pos];
        st->rxqs[pos] = (struct snap_rxq) { &s->bridges[bp->br->snap_idx],
                                            (uint32_t) bp->idx };
    }
    st->n = tp->n;
}

struct dp_snap *
dp_snap_build(struct dp *dp, uint64_t *bytes)
{
    struct dp_snap *s = xzalloc(sizeof *s);
    s->vlan_limit = dp->vlan_limit;
    s->n_threads = dp->n_threads ? dp->n_threads : 1;
    s->n_bridges = hmap_count(&dp->bridges);
    s->bridges = xcalloc(s->n_bridges ? s->n_bridges : 1, sizeof *s->bridges);
    size_t i = 0;
    struct dp_bridge *br;
    HMAP_FOR_EACH (br, node, &dp->bridges) {
        br->snap_idx = i;
        snap_fill_bridge(s, &s->bridges[i++], br, bytes);
    }
    s->threads = xcalloc(s->n_threads, sizeof *s->threads);
    for (unsigned int t = 0; t < s->n_threads; t++) {
        struct snap_thread *st = &s->threads[t];
        st->alloc = MAX(dp->tports[t].n, 1);
        st->rxqs = xcalloc(st->alloc, sizeof *st->rxqs);
        for (size_t q = 0; q < dp->tports[t].n; q++) {
            snap_fill_rxq(dp, s, t, q);
        }
        *bytes += st->n * sizeof *st->rxqs;
    }
    return s;
}

/* Copies port index I of BR into SB (nothing if I is past the end: the
 * port was removed from there). */
static void
snap_patch_port(struct snap_bridge *sb, const struct dp_bridge *br,
                size_t i, uint64_t *bytes)
{
    if (i >= br->n_ports) {
        return;
    }
    if (i >= sb->alloc_ports) {
        sb->alloc_ports = MAX(2 * sb->alloc_ports, i + 1);
        sb->ports = xrealloc(sb->ports, sb->alloc_ports * sizeof *sb->ports);
        sb->dports = xrealloc(sb->dports,
                              sb->alloc_ports * sizeof *sb->dports);
    }
    sb->ports[i] = br->fports[i];
    sb->dports[i] = br->dports[i];
    *bytes += sizeof *sb->ports + sizeof *sb->dports;
}

/* Copies BR's index_of entry for port number NO into SB, or the whole
 * index if it has grown (amortised: it doubles). */
static void
snap_patch_port_no(struct snap_bridge *sb, const struct dp_bridge *br,
                   size_t no, uint64_t *bytes)
{
    if (sb->fwd.n_index != br->n_index) {
        free(sb->index_of);
        sb->index_of = xmemdup(br->index_of,
                               br->n_index * sizeof *sb->index_of);
        *bytes += br->n_index * sizeof *sb->index_of;
        sb->fwd.n_index = br->n_index;
    } else if (no < br->n_index) {
        sb->index_of[no] = br->index_of[no];
        *bytes += sizeof *sb->index_of;
    }
}

/* Makes S (which no thread reads) match the configuration: copies the
 * elements CS lists (their values now: copying twice does no harm), or
 * rebuilds it.  Returns the snapshot to use. */
static struct dp_snap *
snap_update(struct dp *dp, struct dp_snap *s, const struct snap_changes *cs,
            uint64_t *bytes)
{
    if (cs->full || !s) {
        dp_snap_free(s);
        return dp_snap_build(dp, bytes);
    }
    for (size_t k = 0; k < cs->n; k++) {
        const struct snap_change *c = &cs->v[k];
        if (c->kind == SC_RXQ) {
            snap_fill_rxq(dp, s, c->thread, c->n);
            *bytes += sizeof *s->threads[c->thread].rxqs;
            continue;
        }
        struct snap_bridge *sb = &s->bridges[c->br->snap_idx];
        if (c->kind == SC_PORT) {
            snap_patch_port(sb, c->br, c->n, bytes);
        } else {
            snap_patch_port_no(sb, c->br, c->n, bytes);
        }
        snap_sync_fwd(s, sb, c->br);
    }
    return s;
}

void
dp_note_change(struct dp *dp, int kind, struct dp_bridge *br,
               unsigned int thread, size_t n)
{
    struct snap_changes *cs = &dp->changes;
    if (cs->n == cs->alloc) {
        cs->v = x2nrealloc(cs->v, &cs->alloc, sizeof *cs->v);
    }
    cs->v[cs->n++] = (struct snap_change) { kind, br, thread, n };
}

/* Appends BP to its forwarding thread's ports. */
void
dp_tports_add(struct dp *dp, struct dp_bport *bp)
{
    struct thread_ports *tp = &dp->tports[bp->thread];
    if (tp->n == tp->alloc) {
        tp->ports = x2nrealloc(tp->ports, &tp->alloc, sizeof *tp->ports);
    }
    bp->rxq_pos = tp->n;
    tp->ports[tp->n++] = bp;
    dp_note_change(dp, SC_RXQ, NULL, bp->thread, bp->rxq_pos);
}

/* Removes BP from its forwarding thread's ports (the last one takes its
 * place). */
void
dp_tports_remove(struct dp *dp, struct dp_bport *bp)
{
    struct thread_ports *tp = &dp->tports[bp->thread];
    size_t pos = bp->rxq_pos, last = --tp->n;
    if (pos != last) {
        tp->ports[pos] = tp->ports[last];
        tp->ports[pos]->rxq_pos = pos;
    }
    dp_note_change(dp, SC_RXQ, NULL, bp->thread, pos);
}

/* Starts a grace period after a new snapshot was stored: moves the
 * generation and wakes the forwarding threads (in this order, so that a
 * sleeping thread is quiescent as soon as it wakes up).  Returns the
 * generation to wait for. */
static uint64_t
grace_start(struct dp *dp)
{
    uint64_t g = atomic_fetch_add(&dp->gen, 1) + 1;
    dp_wake_threads(dp);
    return g;
}

/* Waits until every forwarding thread has stopped using snapshots older
 * than generation G. */
static void
grace_wait(struct dp *dp, uint64_t g)
{
    for (unsigned int t = 0; t < dp->n_threads; t++) {
        struct dp_thread *th = dp->threads[t];
        for (;;) {
            uint64_t q = atomic_load(&th->qs);
            if (!q || q >= g) {
                break;
            }
            struct timespec ts = { 0, 20000 };
            nanosleep(&ts, NULL);
        }
    }
}

void
dp_wake_threads(struct dp *dp)
{
    uint64_t one = 1;
    for (unsigned int t = 0; t < dp->n_threads; t++) {
        if (write(dp->threads[t]->efd, &one, sizeof one) < 0) {
            /* Already signalled. */
        }
    }
}

static void
free_garbage(struct list_node *garbage)
{
    struct dp_garbage *g, *next;
    LIST_FOR_EACH_SAFE (g, next, node, garbage) {
        dp_snap_free(g->snap);
        dp_port_close(g->port);
        free(g->mem);
        if (g->br) {
            fdb_destroy(g->br->fdb);
            mirror_table_destroy(g->br->mirrors);
            pthread_mutex_destroy(&g->br->fdb_mutex);
            free(g->br->name);
            free(g->br->bports);
            free(g->br->fports);
            free(g->br->dports);
            free(g->br->index_of);
            free(g->br);
        }
        free(g);
    }
}

void
dp_add_garbage(struct list_node *garbage, struct dp_snap *snap,
               struct dp_port *port, struct dp_bridge *br)
{
    struct dp_garbage *g = xzalloc(sizeof *g);
    g->snap = snap;
    g->port = port;
    g->br = br;
    list_push_back(garbage, &g->node);
}

void
dp_add_garbage_mem(struct list_node *garbage, void *mem)
{
    struct dp_garbage *g = xzalloc(sizeof *g);
    g->mem = mem;
    list_push_back(garbage, &g->node);
}

static void
snap_changes_move(struct snap_changes *dst, struct snap_changes *src)
{
    struct snap_changes tmp = *dst;
    *dst = *src;
    *src = tmp;
    src->full = false;
    src->n = 0;
}

/* Brings the spare up to date with the last publish if that one did not
 * wait for its grace period: waits for what is left of it (usually
 * nothing), then copies what the spare lacks. */
static void
spare_catch_up(struct dp *dp, uint64_t *bytes)
{
    if (dp->lag_gen) {
        grace_wait(dp, dp->lag_gen);
        dp->lag_gen = 0;
        if (!dp->changes.full) {    /* Else the rebuild will do. */
            dp->spare = snap_update(dp, dp->spare, &dp->lag, bytes);
        }
        dp->lag.full = false;
        dp->lag.n = 0;
    }
}

/* Publishes the configuration as changed since the last publish (only the
 * elements dp->changes lists, unless it says full).  With WAIT, waits out
 * the grace period, brings the old snapshot up to date as the spare and
 * frees everything in GARBAGE; without, leaves that to the next publish
 * (GARBAGE must then be empty). */
void
dp_publish_changes(struct dp *dp, struct list_node *garbage, bool wait)
{
    uint64_t bytes = 0;
    spare_catch_up(dp, &bytes);
    struct dp_snap *next = snap_update(dp, dp->spare, &dp->changes, &bytes);
    dp->spare = atomic_exchange(&dp->snap, next);
    uint64_t g = grace_start(dp);
    if (wait) {
        grace_wait(dp, g);
        dp->spare = snap_update(dp, dp->spare, &dp->changes, &bytes);
        dp->changes.full = false;
        dp->changes.n = 0;
    } else {
        snap_changes_move(&dp->lag, &dp->changes);
        dp->lag_gen = g;
    }
    dp->n_publish++;
    dp->n_publish_bytes += bytes;
    free_garbage(garbage);
}

/* Publishes a change that dp->changes does not describe: both snapshots
 * are rebuilt. */
void
dp_publish(struct dp *dp, struct list_node *garbage)
{
    dp->changes.full = true;
    dp_publish_changes(dp, garbage, true);
}

void
dp_publish_simple(struct dp *dp)
{
    struct list_node garbage = LIST_INITIALIZER(&garbage);
    dp_publish(dp, &garbage);
}
