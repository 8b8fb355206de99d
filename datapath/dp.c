#include "dp.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "ds.h"
#include "fdb.h"
#include "forward.h"
#include "hash.h"
#include "hmap.h"
#include "list.h"
#include "mirror.h"
#include "policer.h"
#include "util.h"

#define DP_BATCH 256
#define DP_MAX_THREADS 64
/* A thread that found nothing keeps polling this long before it sleeps in
 * poll(): at any steady rate above ~20,000 frames/s it never pays for a
 * wake-up (a few microseconds each, and latency), while an idle switch
 * still sleeps almost all the time. */
#define SPIN_NS 50000

/* ---- Control-side state (only the control thread touches these). ---- */

struct dp_bridge {
    struct hmap_node node;      /* In dp->bridges. */
    char *name;
    struct fdb *fdb;            /* Guarded by fdb_mutex. */
    pthread_mutex_t fdb_mutex;
    struct vlan_bitmap flood_vlans;
    bool forward_bpdu;          /* other_config:forward-bpdu. */
    /* The ports in snapshot order, kept in the very arrays a snapshot
     * copies (a new port is appended, a deleted one replaced by the last),
     * so that publishing a change is a few memcpy()s of small elements
     * rather than a walk of every port. */
    size_t n_ports, alloc_ports;
    struct dp_bport **bports;
    struct fwd_port *fports;
    struct dp_port **dports;
    int32_t *index_of;          /* port_no -> index, -1: none. */
    size_t n_index;             /* Entries in index_of (grows, never shrinks). */
    int32_t local_index;        /* Index of DP_PORT_LOCAL, -1: none. */
    size_t snap_idx;            /* Index in both snapshots' bridges. */
    uint64_t used[DP_MAX_PORT_NO / 64 + 1];     /* Port numbers in use. */
    _Atomic uint64_t n_unicast, n_flood, n_dropped;
    /* Drops by reason (coverage/show). */
    _Atomic uint64_t n_parse_errors[PACKET_N_ERRORS];
    _Atomic uint64_t n_vlan_drops[VLAN_N_DROPS];
    _Atomic uint64_t n_hairpin_drops;
    _Atomic uint64_t n_reserved_drops;
    struct mirror_table *mirrors;       /* NULL until mirrors are set. */
};

struct dp_bport {
    struct hmap_node node;      /* In dp->ports, by name. */
    size_t idx;                 /* In br's arrays. */
    size_t rxq_pos;             /* In dp->tports[thread] and the snapshots'
                                 * rxqs of that thread. */
    char *name;
    uint32_t port_no;
    unsigned int thread;
    struct dp_bridge *br;
    struct dp_port *port;
    /* Immutable once published (snapshots point to it): a change installs
     * a new one and frees the old after the grace period. */
    struct vlan_port *vlan;
    char *peer;
};

/* ---- Snapshot (immutable once published). ---- */

struct snap_bridge {
    struct fwd_bridge fwd;
    struct fwd_port *ports;
    struct dp_port **dports;
    size_t alloc_ports;         /* Room in 'ports' and 'dports'. */
    int32_t *index_of;
    struct dp_bridge *br;
};

struct snap_rxq {
    struct snap_bridge *sb;
    uint32_t idx;
};

struct snap_thread {
    size_t n, alloc;
    struct snap_rxq *rxqs;
};

struct dp_snap {
    uint8_t vlan_limit;
    size_t n_bridges;
    struct snap_bridge *bridges;
    unsigned int n_threads;
    struct snap_thread *threads;
};

/* Per-thread scratch so the hot path never allocates. */
struct dp_scratch {
    struct dp_packet pkts[DP_BATCH];
    struct fwd_decision dec[DP_BATCH];
    struct dp_txd txds[DP_BATCH];
    int32_t dests[DP_BATCH];
    /* appctl: per-thread counters (dp_get_thread_stats()), written only by
     * the thread that owns this scratch, read by the control thread. */
    _Atomic uint64_t n_packets, n_tx_batches, n_tx_packets, busy_ns, idle_ns;
};

/* Adds N to a counter only its own thread writes: a relaxed load and
 * store, no locked read-modify-write on the hot path. */
static inline void
thread_count(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_store_explicit(counter, atomic_load_explicit(
                              counter, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

struct dp_thread {
    struct dp *dp;
    unsigned int idx;
    pthread_t tid;
    _Atomic uint64_t qs;        /* Generation seen; 0 = offline. */
    int efd;                    /* Wakes the thread after a publish. */
    struct dp_scratch scratch;
};

/* The ports one forwarding thread polls, in the order of its rxqs in both
 * snapshots (control side). */
struct thread_ports {
    size_t n, alloc;
    struct dp_bport **ports;
};

/* One element of the configuration a snapshot must copy again after a port
 * change: port index N of BR, port number N of BR (its index_of entry), or
 * rxq N of thread THREAD. */
struct snap_change {
    enum { SC_PORT, SC_PORT_NO, SC_RXQ } kind;
    struct dp_bridge *br;
    unsigned int thread;
    size_t n;
};

/* What a snapshot must copy again: everything (FULL) or the elements V. */
struct snap_changes {
    bool full;
    size_t n, alloc;
    struct snap_change *v;
};

/* Garbage released after the next grace period. */
struct dp_garbage {
    struct list_node node;
    struct dp_snap *snap;
    struct dp_port *port;
    struct dp_bridge *br;
    void *mem;                  /* Plain memory (e.g. a struct vlan_port). */
};

struct dp {
    pthread_mutex_t mutex;
    struct hmap bridges;
    struct hmap ports;          /* All struct dp_bport, by name. */
    struct hmap aliases;        /* struct dp_alias, by name (bond members'
                                 * port numbers, dp_add_port_alias()). */
    _Atomic(struct dp_snap *) snap;
    /* The other snapshot, which no thread can reach: equal to the live one
     * between calls (see "Snapshots" below). */
    struct dp_snap *spare;
    /* What the next publish must copy into the spare ('changes'), and what
     * the spare still lacks from the last publish ('lag'), to be copied
     * once the grace period of generation 'lag_gen' (0: none) is over. */
    struct snap_changes changes, lag;
    uint64_t lag_gen;
    _Atomic uint64_t gen;
    _Atomic bool stop;
    unsigned int n_threads;
    struct dp_thread **threads;
    struct thread_ports *tports;        /* Per thread (1 without threads). */
    struct dp_scratch *scratch; /* For dp_poll_once(). */
    uint8_t vlan_limit;         /* other_config:vlan-limit (0: no limit). */
    struct dp_counters retired; /* Counters of deleted bridges. */
    uint64_t n_publish;         /* Snapshots published. */
    uint64_t n_publish_bytes;   /* Bytes those snapshots copied. */
};

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

static void
snap_free(struct dp_snap *s)
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

static struct dp_snap *
snap_build(struct dp *dp, uint64_t *bytes)
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
        snap_free(s);
        return snap_build(dp, bytes);
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

static void
note_change(struct dp *dp, int kind, struct dp_bridge *br,
            unsigned int thread, size_t n)
{
    struct snap_changes *cs = &dp->changes;
    if (cs->n == cs->alloc) {
        cs->v = x2nrealloc(cs->v, &cs->alloc, sizeof *cs->v);
    }
    cs->v[cs->n++] = (struct snap_change) { kind, br, thread, n };
}

/* Appends BP to its forwarding thread's ports. */
static void
tports_add(struct dp *dp, struct dp_bport *bp)
{
    struct thread_ports *tp = &dp->tports[bp->thread];
    if (tp->n == tp->alloc) {
        tp->ports = x2nrealloc(tp->ports, &tp->alloc, sizeof *tp->ports);
    }
    bp->rxq_pos = tp->n;
    tp->ports[tp->n++] = bp;
    note_change(dp, SC_RXQ, NULL, bp->thread, bp->rxq_pos);
}

/* Removes BP from its forwarding thread's ports (the last one takes its
 * place). */
static void
tports_remove(struct dp *dp, struct dp_bport *bp)
{
    struct thread_ports *tp = &dp->tports[bp->thread];
    size_t pos = bp->rxq_pos, last = --tp->n;
    if (pos != last) {
        tp->ports[pos] = tp->ports[last];
        tp->ports[pos]->rxq_pos = pos;
    }
    note_change(dp, SC_RXQ, NULL, bp->thread, pos);
}

static void wake_threads(struct dp *);

/* Starts a grace period after a new snapshot was stored: moves the
 * generation and wakes the forwarding threads (in this order, so that a
 * sleeping thread is quiescent as soon as it wakes up).  Returns the
 * generation to wait for. */
static uint64_t
grace_start(struct dp *dp)
{
    uint64_t g = atomic_fetch_add(&dp->gen, 1) + 1;
    wake_threads(dp);
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

static void
wake_threads(struct dp *dp)
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
        snap_free(g->snap);
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

static void
add_garbage(struct list_node *garbage, struct dp_snap *snap,
            struct dp_port *port, struct dp_bridge *br)
{
    struct dp_garbage *g = xzalloc(sizeof *g);
    g->snap = snap;
    g->port = port;
    g->br = br;
    list_push_back(garbage, &g->node);
}

static void
add_garbage_mem(struct list_node *garbage, void *mem)
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
static void
publish_changes(struct dp *dp, struct list_node *garbage, bool wait)
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
static void
publish(struct dp *dp, struct list_node *garbage)
{
    dp->changes.full = true;
    publish_changes(dp, garbage, true);
}

static void
publish_simple(struct dp *dp)
{
    struct list_node garbage = LIST_INITIALIZER(&garbage);
    publish(dp, &garbage);
}

/* ---- Forwarding. ---- */

static void
add_drop_reasons(struct dp_bridge *br, const struct fwd_stats *st)
{
    for (int i = 0; i < PACKET_N_ERRORS; i++) {
        if (st->n_parse_errors[i]) {
            atomic_fetch_add_explicit(&br->n_parse_errors[i],
                                      st->n_parse_errors[i],
                                      memory_order_relaxed);
        }
    }
    for (int i = 0; i < VLAN_N_DROPS; i++) {
        if (st->n_vlan_drops[i]) {
            atomic_fetch_add_explicit(&br->n_vlan_drops[i], st->n_vlan_drops[i],
                                      memory_order_relaxed);
        }
    }
    if (st->n_hairpin_drops) {
        atomic_fetch_add_explicit(&br->n_hairpin_drops, st->n_hairpin_drops,
                                  memory_order_relaxed);
    }
    if (st->n_reserved_drops) {
        atomic_fetch_add_explicit(&br->n_reserved_drops, st->n_reserved_drops,
                                  memory_order_relaxed);
    }
}

static void
add_fwd_stats(struct dp_bridge *br, const struct fwd_stats *st, size_t n)
{
    uint64_t dropped = n - st->n_unicast - st->n_flood;
    if (st->n_unicast) {
        atomic_fetch_add_explicit(&br->n_unicast, st->n_unicast,
                                  memory_order_relaxed);
    }
    if (st->n_flood) {
        atomic_fetch_add_explicit(&br->n_flood, st->n_flood,
                                  memory_order_relaxed);
    }
    if (dropped) {
        atomic_fetch_add_explicit(&br->n_dropped, dropped,
                                  memory_order_relaxed);
        add_drop_reasons(br, st);
    }
}

/* Sends the frames of the batch whose decision is OUT (a port index or
 * FWD_OUT_FLOOD) through port index TO. */
static void
emit(const struct snap_bridge *sb, struct dp_scratch *sc, size_t n,
     int32_t out, uint32_t to)
{
    const struct fwd_port *port = &sb->ports[to];
    int nt = 0;
    for (size_t i = 0; i < n; i++) {
        if (sc->dec[i].out == out
            && fwd_egress(port, &sc->dec[i], &sc->pkts[i], &sc->txds[nt])) {
            nt++;
        }
    }
    nt = dp_police_tx(sb->dports[to], sc->txds, nt);    /* QoS. */
    if (nt) {
        dp_port_tx_batch(sb->dports[to], sc->txds, nt);
        thread_count(&sc->n_tx_batches, 1);     /* appctl */
        thread_count(&sc->n_tx_packets, (uint64_t) nt);
    }
}

static void
process_batch(const struct snap_bridge *sb, uint32_t in,
              struct dp_scratch *sc, size_t n, long long now)
{
    struct fwd_stats st;
    memset(&st, 0, sizeof st);
    const struct mirror_set *ms = sb->fwd.mirrors;     /* mirror.h */
    if (ms && mirror_set_reserves(ms, sb->ports[in].port_no)) {
        /* A mirror output port: no learning, no forwarding. */
        mirror_batch(ms, &sb->fwd, sb->dports, in, sc->pkts, NULL, n);
        add_fwd_stats(sb->br, &st, n);
        return;
    }
    pthread_mutex_lock(&sb->br->fdb_mutex);
    fwd_decide(&sb->fwd, in, sb->br->fdb, now, sc->pkts, n, sc->dec, &st);
    pthread_mutex_unlock(&sb->br->fdb_mutex);
    add_fwd_stats(sb->br, &st, n);
    if (ms) {
        mirror_batch(ms, &sb->fwd, sb->dports, in, sc->pkts, sc->dec, n);
    }

    size_t n_dests = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t out = sc->dec[i].out;
        if (out < 0) {
            continue;
        }
        size_t j;
        for (j = 0; j < n_dests && sc->dests[j] != out; j++) {
            continue;
        }
        if (j == n_dests) {
            sc->dests[n_dests++] = out;
        }
    }
    for (size_t j = 0; j < n_dests; j++) {
        emit(sb, sc, n, sc->dests[j], (uint32_t) sc->dests[j]);
    }
    if (st.n_flood) {
        /* vxlan: split horizon, no flooding between two such ports. */
        bool in_sh = sb->dports[in]->split_horizon;
        for (uint32_t p = 0; p < sb->fwd.n_ports; p++) {
            if (p != in && !(in_sh && sb->dports[p]->split_horizon)
                && !(ms && mirror_set_reserves(ms, sb->ports[p].port_no))) {
                emit(sb, sc, n, FWD_OUT_FLOOD, p);
            }
        }
    }
}

static size_t
poll_pass(const struct snap_thread *st, struct dp_scratch *sc, long long now)
{
    size_t total = 0;
    for (size_t q = 0; q < st->n; q++) {
        const struct snap_rxq *rxq = &st->rxqs[q];
        int n = dp_port_rx_batch(rxq->sb->dports[rxq->idx], sc->pkts,
                                 DP_BATCH);
        n = dp_police_rx(rxq->sb->dports[rxq->idx], sc->pkts, n);   /* QoS. */
        if (n > 0) {
            process_batch(rxq->sb, rxq->idx, sc, (size_t) n, now);
            total += (size_t) n;
        }
    }
    if (total) {
        thread_count(&sc->n_packets, total);    /* appctl */
    }
    return total;
}

static void
drain_efd(int efd)
{
    uint64_t v;
    if (read(efd, &v, sizeof v) < 0) {
        /* Nothing pending. */
    }
}

/* Sleeps until one of the thread's ports (or its eventfd) is readable.
 * The thread is offline (quiescent) for the duration. */
static void
thread_sleep(struct dp_thread *th, const struct snap_thread *st,
             struct pollfd **pfds, size_t *n_alloc)
{
    if (*n_alloc < st->n + 1) {
        *n_alloc = st->n + 1;
        *pfds = xrealloc(*pfds, *n_alloc * sizeof **pfds);
    }
    struct pollfd *p = *pfds;
    p[0] = (struct pollfd) { th->efd, POLLIN, 0 };
    for (size_t q = 0; q < st->n; q++) {
        const struct snap_rxq *rxq = &st->rxqs[q];
        p[q + 1] = (struct pollfd) { dp_port_fd(rxq->sb->dports[rxq->idx]),
                                     POLLIN, 0 };
    }
    atomic_store(&th->qs, 0);
    if (!atomic_load(&th->dp->stop)) {
        poll(p, st->n + 1, 1000);
    }
    drain_efd(th->efd);
}

static long long
monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *
thread_main(void *th_)
{
    struct dp_thread *th = th_;
    struct dp *dp = th->dp;
    struct pollfd *pfds = NULL;
    size_t n_alloc = 0;
    long long busy_ns = monotonic_ns();     /* When work was last found. */
    /* appctl: a pass lasts until the next one starts (its sleep included)
     * and counts as busy if it found frames, so timing costs no extra
     * clock reads. */
    long long pass_ns = busy_ns;
    bool pass_busy = false;
    while (!atomic_load(&dp->stop)) {
        atomic_store(&th->qs, atomic_load(&dp->gen));
        const struct dp_snap *snap = atomic_load(&dp->snap);
        const struct snap_thread *st = &snap->threads[th->idx];
        /* Same clock as time_msec(), read once per pass. */
        long long now_ns = monotonic_ns();
        thread_count(pass_busy ? &th->scratch.busy_ns : &th->scratch.idle_ns,
                     (uint64_t) (now_ns - pass_ns));
        pass_ns = now_ns;
        pass_busy = poll_pass(st, &th->scratch, now_ns / 1000000) > 0;
        if (pass_busy) {
            busy_ns = now_ns;
        } else if (now_ns - busy_ns >= SPIN_NS) {
            thread_sleep(th, st, &pfds, &n_alloc);
            busy_ns = monotonic_ns();
        }
    }
    atomic_store(&th->qs, 0);
    free(pfds);
    return NULL;
}

size_t
dp_poll_once(struct dp *dp, long long now)
{
    if (dp->n_threads) {
        return 0;
    }
    const struct dp_snap *snap = atomic_load(&dp->snap);
    return poll_pass(&snap->threads[0], dp->scratch, now);
}

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
    atomic_init(&dp->snap, snap_build(dp, &bytes));
    dp->spare = snap_build(dp, &bytes);
    return dp;
}

int
dp_start(struct dp *dp, unsigned int n_threads)
{
    if (!n_threads || n_threads > DP_MAX_THREADS) {
        return EINVAL;
    }
    pthread_mutex_lock(&dp->mutex);
    if (dp->n_threads) {
        pthread_mutex_unlock(&dp->mutex);
        return EBUSY;
    }
    /* Spread the existing ports before any thread runs. */
    free(dp->tports[0].ports);
    free(dp->tports);
    dp->tports = xcalloc(n_threads, sizeof *dp->tports);
    unsigned int i = 0;
    struct dp_bport *bp;
    HMAP_FOR_EACH (bp, node, &dp->ports) {
        bp->thread = i++ % n_threads;
        tports_add(dp, bp);
    }
    dp->threads = xcalloc(n_threads, sizeof *dp->threads);
    for (unsigned int t = 0; t < n_threads; t++) {
        struct dp_thread *th = xzalloc(sizeof *th);
        th->dp = dp;
        th->idx = t;
        th->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (th->efd < 0) {
            fatal_errno(errno, "eventfd");
        }
        dp->threads[t] = th;
    }
    /* Publish the per-thread layout first (no thread runs yet). */
    dp->n_threads = n_threads;
    uint64_t bytes = 0;
    snap_free(atomic_exchange(&dp->snap, snap_build(dp, &bytes)));
    snap_free(dp->spare);
    dp->spare = snap_build(dp, &bytes);
    dp->changes.n = dp->lag.n = 0;
    dp->changes.full = dp->lag.full = false;
    dp->lag_gen = 0;
    for (unsigned int t = 0; t < n_threads; t++) {
        struct dp_thread *th = dp->threads[t];
        int error = pthread_create(&th->tid, NULL, thread_main, th);
        if (error) {
            fatal_errno(error, "pthread_create");
        }
    }
    pthread_mutex_unlock(&dp->mutex);
    return 0;
}

static struct dp_bridge *
find_bridge(const struct dp *dp, const char *name)
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
    if (find_bridge(dp, name)) {
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
    publish_simple(dp);
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
    note_change(dp, SC_PORT, br, 0, i);
    note_change(dp, SC_PORT_NO, br, 0, bp->port_no);
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
    note_change(dp, SC_PORT, br, 0, i);
    note_change(dp, SC_PORT_NO, br, 0, bp->port_no);
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
        note_change(dp, SC_PORT_NO, br, 0, moved->port_no);
        note_change(dp, SC_RXQ, NULL, moved->thread, moved->rxq_pos);
    }
}

/* Adds BR's counters to *C (with its fdb lock or after it is unpublished). */
static void
bridge_add_counters(struct dp_bridge *br, struct dp_counters *c)
{
    for (int i = 0; i < PACKET_N_ERRORS; i++) {
        c->n_parse_errors[i] += atomic_load(&br->n_parse_errors[i]);
    }
    for (int i = 0; i < VLAN_N_DROPS; i++) {
        c->n_vlan_drops[i] += atomic_load(&br->n_vlan_drops[i]);
    }
    c->n_hairpin_drops += atomic_load(&br->n_hairpin_drops);
    c->n_reserved_drops += atomic_load(&br->n_reserved_drops);
    c->n_unicast += atomic_load(&br->n_unicast);
    c->n_flood += atomic_load(&br->n_flood);
    struct fdb_stats fs;
    fdb_get_stats(br->fdb, &fs);
    c->n_learned += fs.n_learned;
    c->n_moved += fs.n_moved;
    c->n_evicted += fs.n_evicted;
    c->n_expired += fs.n_expired;
}

void
dp_get_counters(struct dp *dp, struct dp_counters *c)
{
    pthread_mutex_lock(&dp->mutex);
    *c = dp->retired;
    c->n_publish = dp->n_publish;
    c->n_publish_bytes = dp->n_publish_bytes;
    struct dp_bridge *br;
    HMAP_FOR_EACH (br, node, &dp->bridges) {
        pthread_mutex_lock(&br->fdb_mutex);
        bridge_add_counters(br, c);
        pthread_mutex_unlock(&br->fdb_mutex);
    }
    pthread_mutex_unlock(&dp->mutex);
}

static void aliases_drop_bridge(struct dp *, const char *bridge);

int
dp_del_bridge(struct dp *dp, const char *name)
{
    pthread_mutex_lock(&dp->mutex);
    struct dp_bridge *br = find_bridge(dp, name);
    if (!br) {
        pthread_mutex_unlock(&dp->mutex);
        return ENOENT;
    }
    struct list_node garbage = LIST_INITIALIZER(&garbage);
    for (size_t k = 0; k < br->n_ports; k++) {
        struct dp_bport *bp = br->bports[k];
        hmap_remove(&dp->ports, &bp->node);
        tports_remove(dp, bp);
        add_garbage(&garbage, NULL, bp->port, NULL);
        add_garbage_mem(&garbage, bp->vlan);
        bport_free(bp);
    }
    br->n_ports = 0;
    aliases_drop_bridge(dp, br->name);
    hmap_remove(&dp->bridges, &br->node);
    /* Frames in flight after this are not counted; coverage totals stay
     * monotonic across bridge deletions. */
    bridge_add_counters(br, &dp->retired);
    add_garbage(&garbage, NULL, NULL, br);
    publish(dp, &garbage);
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
    struct dp_bridge *br = find_bridge(dp, bridge);
    if (br && memcmp(&br->flood_vlans, &b, sizeof b)) {
        br->flood_vlans = b;
        publish_simple(dp);
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
    struct dp_bridge *br = find_bridge(dp, bridge);
    if (br && br->forward_bpdu != forward) {
        br->forward_bpdu = forward;
        publish_simple(dp);
    }
    pthread_mutex_unlock(&dp->mutex);
    return br ? 0 : ENOENT;
}

int
dp_bridge_set_mac_table(struct dp *dp, const char *bridge, size_t max_entries,
                        unsigned int idle_s)
{
    pthread_mutex_lock(&dp->mutex);
    struct dp_bridge *br = find_bridge(dp, bridge);
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
    struct dp_bridge *br = find_bridge(dp, bridge);
    int error = br ? 0 : ENOENT;
    if (br) {
        if (!br->mirrors) {
            br->mirrors = mirror_table_create();
        }
        error = mirror_table_configure(br->mirrors, cfgs, n);
    }
    if (!error) {
        publish_simple(dp);
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
    struct dp_bridge *br = find_bridge(dp, bridge);
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
    struct dp_bridge *br = find_bridge(dp, bridge);
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
    tports_add(dp, bp);
    hmap_insert(&dp->ports, &bp->node, hash_string(name, 0));
    if (dp_port_is_patch(port)) {
        link_patch(dp, bp);
    }
    /* Nothing to free: no need to wait for the grace period. */
    struct list_node garbage = LIST_INITIALIZER(&garbage);
    publish_changes(dp, &garbage, false);
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
    tports_remove(dp, bp);
    add_garbage(&garbage, NULL, bp->port, NULL);
    add_garbage_mem(&garbage, bp->vlan);
    bport_free(bp);
    publish_changes(dp, &garbage, true);
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
        add_garbage_mem(&garbage, bp->vlan);
        bp->vlan = xmemdup(v, sizeof *v);
        bp->br->fports[bp->idx].vlan = bp->vlan;
        note_change(dp, SC_PORT, bp->br, 0, bp->idx);
        publish_changes(dp, &garbage, true);
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
        publish_simple(dp);
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
                    uint64_t rate, uint64_t burst)
{
    pthread_mutex_lock(&dp->mutex);
    struct dp_bport *bp = find_bport(dp, name);
    if (bp) {
        struct dp_port *port = bp->port;
        struct policer *_Atomic *slot = ingress ? &port->ingress_policer
                                                : &port->egress_policer;
        struct policer *p = rate ? policer_create(rate, burst) : NULL;
        struct policer *old = atomic_exchange(slot, p);
        if (old) {
            /* Freed once no forwarding thread can still be using it: a
             * publish with no snapshot change just waits out the grace
             * period. */
            struct list_node garbage = LIST_INITIALIZER(&garbage);
            add_garbage_mem(&garbage, old);
            publish_changes(dp, &garbage, true);
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
    struct dp_bridge *br = find_bridge(dp, name);
    int error = ENOENT;
    if (br) {
        pthread_mutex_lock(&br->fdb_mutex);
        error = fn(br, aux);
        pthread_mutex_unlock(&br->fdb_mutex);
    }
    pthread_mutex_unlock(&dp->mutex);
    return error;
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
    if (bridge) {
        return with_fdb(dp, bridge, do_flush, NULL);
    }
    pthread_mutex_lock(&dp->mutex);
    struct dp_bridge *br;
    HMAP_FOR_EACH (br, node, &dp->bridges) {
        pthread_mutex_lock(&br->fdb_mutex);
        fdb_flush(br->fdb);
        pthread_mutex_unlock(&br->fdb_mutex);
    }
    pthread_mutex_unlock(&dp->mutex);
    return 0;
}

struct dp_alias;
static struct dp_bport *bridge_find_port(const struct dp *,
                                        const struct dp_bridge *,
                                        const char *name_or_no,
                                        const struct dp_alias **);

int
dp_fdb_add(struct dp *dp, const char *bridge, const char *port,
           uint16_t vlan, uint64_t mac)
{
    pthread_mutex_lock(&dp->mutex);
    struct dp_bridge *br = find_bridge(dp, bridge);
    /* A bond member's name (an alias) means its bond's port. */
    const struct dp_alias *alias;
    struct dp_bport *bp = br ? bridge_find_port(dp, br, port, &alias) : NULL;
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
    struct dp_bridge *br = find_bridge(dp, bridge);
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
compare_port_no(const void *a_, const void *b_)
{
    const struct dp_bport *const *a = a_, *const *b = b_;
    return (*a)->port_no < (*b)->port_no ? -1 : (*a)->port_no > (*b)->port_no;
}

/* BR's ports by port number, for output (caller frees the array). */
static struct dp_bport **
bridge_sorted_ports(const struct dp_bridge *br)
{
    size_t n = br->n_ports;
    struct dp_bport **v = xmalloc((n ? n : 1) * sizeof *v);
    memcpy(v, br->bports, n * sizeof *v);
    qsort(v, n, sizeof *v, compare_port_no);
    return v;
}

/* The snapshot view of BR (under dp->mutex, which keeps it alive). */
static const struct snap_bridge *
snap_find_bridge(const struct dp *dp, const struct dp_bridge *br)
{
    const struct dp_snap *snap = atomic_load(&dp->snap);
    for (size_t i = 0; i < snap->n_bridges; i++) {
        if (snap->bridges[i].br == br) {
            return &snap->bridges[i];
        }
    }
    return NULL;
}

/* ---- Port number aliases (bond members, see dp.h). ---- */

struct dp_alias {
    struct hmap_node node;      /* In dp->aliases, by name. */
    char *name, *bridge, *target;
    uint32_t port_no;           /* Reserved in the bridge's 'used'. */
};

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
    struct dp_bridge *br = find_bridge(dp, bridge);
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
        struct dp_bridge *br = find_bridge(dp, a->bridge);
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

static struct dp_bport *
bridge_port_by_no(const struct dp_bridge *br, uint32_t port_no)
{
    int32_t idx = port_no == DP_PORT_LOCAL ? br->local_index
                  : port_no < br->n_index ? br->index_of[port_no] : -1;
    return idx >= 0 ? br->bports[idx] : NULL;
}

/* The port NAME_OR_NO of BR names, directly or through an alias (then
 * *ALIASP is set, else NULL). */
static struct dp_bport *
bridge_find_port(const struct dp *dp, const struct dp_bridge *br,
                 const char *name_or_no, const struct dp_alias **aliasp)
{
    unsigned int no;
    struct dp_bport *bp;
    const struct dp_alias *a;
    *aliasp = NULL;
    if (str_to_uint(name_or_no, 10, &no)) {
        bp = bridge_port_by_no(br, no);
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

static const char *
bridge_port_name(const struct dp_bridge *br, uint32_t port_no)
{
    struct dp_bport *bp = bridge_port_by_no(br, port_no);
    return bp ? bp->name : NULL;
}

/* Fills OUT with how the traced frame leaves port index P. */
static void
trace_output(const struct snap_bridge *sb, uint32_t p, const char *name,
             const struct dp_packet *pkt, const struct fwd_decision *dec,
             struct dp_trace_out *out)
{
    struct dp_txd txd;
    uint8_t buf[256];
    out->port_no = sb->ports[p].port_no;
    out->name = xstrdup(name ? name : "?");
    out->carried = fwd_egress(&sb->ports[p], dec, pkt, &txd);
    size_t n = out->carried ? fwd_txd_copy(&txd, buf, sizeof buf) : 0;
    if (!n || packet_parse(buf, n, &out->frame)) {
        memset(&out->frame, 0, sizeof out->frame);
    }
}

/* ofproto/trace of mirroring: frames from, or unicast to, a mirror
 * output port are not forwarded. */
static void
trace_mirror_drops(const struct mirror_set *ms, const struct snap_bridge *sb,
                   uint32_t in_idx, struct dp_trace_result *r)
{
    r->in_mirror_output = mirror_set_reserves(ms, sb->ports[in_idx].port_no);
    r->out_mirror_output = !r->in_mirror_output && r->dec.out >= 0
        && mirror_set_reserves(ms, sb->ports[r->dec.out].port_no);
    if (r->in_mirror_output || r->out_mirror_output) {
        r->dec.out = FWD_OUT_DROP;
    }
}

#define TRACE_MAX_COPIES 64

/* Appends to R->outs the copies mirroring sends of PKT. */
static void
trace_mirror_copies(const struct mirror_set *ms, const struct snap_bridge *sb,
                    uint32_t in_idx, const struct dp_packet *pkt,
                    struct dp_trace_result *r)
{
    struct mirror_copy *copies = xcalloc(TRACE_MAX_COPIES, sizeof *copies);
    size_t n = mirror_trace(ms, &sb->fwd, sb->dports, in_idx, pkt,
                            r->in_mirror_output ? NULL : &r->dec, copies,
                            TRACE_MAX_COPIES);
    for (size_t i = 0; i < n; i++) {
        struct dp_trace_out *out = &r->outs[r->n_outs++];
        uint8_t buf[256];
        size_t len = fwd_txd_copy(&copies[i].txd, buf, sizeof buf);
        out->port_no = sb->ports[copies[i].port].port_no;
        out->name = xstrdup(sb->dports[copies[i].port]->name);
        out->mirror = xstrdup(copies[i].mirror);
        out->carried = true;
        if (!len || packet_parse(buf, len, &out->frame)) {
            memset(&out->frame, 0, sizeof out->frame);
        }
    }
    free(copies);
}

int
dp_trace(struct dp *dp, const char *bridge, const char *in_port,
         const uint8_t *frame, size_t size, struct dp_trace_result *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_lock(&dp->mutex);
    struct dp_bridge *br = find_bridge(dp, bridge);
    const struct snap_bridge *sb = br ? snap_find_bridge(dp, br) : NULL;
    const struct dp_alias *alias;
    struct dp_bport *in = sb ? bridge_find_port(dp, br, in_port, &alias)
                          : NULL;
    if (!in) {
        pthread_mutex_unlock(&dp->mutex);
        return sb ? ENODEV : ENOENT;
    }
    uint32_t in_idx = (uint32_t) in->idx;  /* The snapshot's index too. */
    struct dp_packet pkt = { .data = (uint8_t *) frame,
                             .size = (uint32_t) size };
    r->in_port_no = in->port_no;
    r->in_name = xstrdup(in->name);
    if (alias) {                /* A bond member; the bond forwards. */
        r->in_member_no = alias->port_no;
        r->in_member = xstrdup(alias->name);
    }
    r->in_vlan = *sb->ports[in_idx].vlan;
    r->vlan_limit = sb->fwd.vlan_limit;
    pthread_mutex_lock(&br->fdb_mutex);
    fwd_trace(&sb->fwd, in_idx, br->fdb, &pkt, &r->dec, &r->trace);
    pthread_mutex_unlock(&br->fdb_mutex);
    const char *lname = bridge_port_name(br, r->trace.lookup_port);
    r->lookup_name = lname ? xstrdup(lname) : NULL;
    const struct mirror_set *ms = sb->fwd.mirrors;
    if (ms) {
        trace_mirror_drops(ms, sb, in_idx, r);
    }

    r->outs = xcalloc(sb->fwd.n_ports + 1 + TRACE_MAX_COPIES,
                      sizeof *r->outs);
    /* Under dp->mutex the live snapshot's indexes are BR's array indexes;
     * outputs are listed by port number, as before. */
    struct dp_bport **sorted = bridge_sorted_ports(br);
    for (size_t k = 0; k < br->n_ports; k++) {
        uint32_t p = (uint32_t) sorted[k]->idx;
        if (p != in_idx && (r->dec.out == FWD_OUT_FLOOD
                            || r->dec.out == (int32_t) p)
            && !(ms && mirror_set_reserves(ms, sb->ports[p].port_no))) {
            trace_output(sb, p, sorted[k]->name, &pkt, &r->dec,
                         &r->outs[r->n_outs++]);
        }
    }
    free(sorted);
    if (ms) {
        trace_mirror_copies(ms, sb, in_idx, &pkt, r);
    }
    pthread_mutex_unlock(&dp->mutex);
    return 0;
}

void
dp_trace_result_destroy(struct dp_trace_result *r)
{
    if (!r) {
        return;
    }
    for (size_t i = 0; i < r->n_outs; i++) {
        free(r->outs[i].name);
        free(r->outs[i].mirror);
    }
    free(r->outs);
    free(r->in_name);
    free(r->in_member);
    free(r->lookup_name);
}

void
dp_format_stats(struct dp *dp, struct ds *ds)
{
    pthread_mutex_lock(&dp->mutex);
    struct dp_bridge *br;
    HMAP_FOR_EACH (br, node, &dp->bridges) {
        ds_put_format(ds, "bridge %s: unicast=%llu flood=%llu dropped=%llu\n",
                      br->name,
                      (unsigned long long) atomic_load(&br->n_unicast),
                      (unsigned long long) atomic_load(&br->n_flood),
                      (unsigned long long) atomic_load(&br->n_dropped));
        struct dp_bport **sorted = bridge_sorted_ports(br);
        for (size_t k = 0; k < br->n_ports; k++) {
            const struct dp_bport *bp = sorted[k];
            struct dp_port_stats s;
            dp_port_get_stats(bp->port, &s);
            ds_put_format(ds,
                          "  port %u %s (%s): rx_packets=%llu rx_bytes=%llu "
                          "rx_dropped=%llu rx_errors=%llu tx_packets=%llu "
                          "tx_bytes=%llu tx_dropped=%llu tx_errors=%llu\n",
                          bp->port_no, bp->name, dp_port_type(bp->port),
                          (unsigned long long) s.rx_packets,
                          (unsigned long long) s.rx_bytes,
                          (unsigned long long) s.rx_dropped,
                          (unsigned long long) s.rx_errors,
                          (unsigned long long) s.tx_packets,
                          (unsigned long long) s.tx_bytes,
                          (unsigned long long) s.tx_dropped,
                          (unsigned long long) s.tx_errors);
        }
        free(sorted);
    }
    pthread_mutex_unlock(&dp->mutex);
    dp_vxlan_format_endpoints(ds);      /* vxlan: shared UDP endpoints. */
}

/* ---- appctl views (switchd's fdb-ctl, pmd-ctl, dpctl). ---- */

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
    if (bridge) {
        return with_fdb(dp, bridge, do_clear_stats, NULL);
    }
    pthread_mutex_lock(&dp->mutex);
    struct dp_bridge *br;
    HMAP_FOR_EACH (br, node, &dp->bridges) {
        pthread_mutex_lock(&br->fdb_mutex);
        fdb_clear_stats(br->fdb);
        pthread_mutex_unlock(&br->fdb_mutex);
    }
    pthread_mutex_unlock(&dp->mutex);
    return 0;
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

unsigned int
dp_get_thread_stats(struct dp *dp, struct dp_thread_stats *stats,
                    unsigned int n)
{
    pthread_mutex_lock(&dp->mutex);
    unsigned int n_threads = dp->n_threads;
    for (unsigned int t = 0; t < MIN(n, n_threads); t++) {
        const struct dp_scratch *sc = &dp->threads[t]->scratch;
        stats[t] = (struct dp_thread_stats) {
            .n_packets = atomic_load_explicit(&sc->n_packets,
                                              memory_order_relaxed),
            .n_tx_batches = atomic_load_explicit(&sc->n_tx_batches,
                                                 memory_order_relaxed),
            .n_tx_packets = atomic_load_explicit(&sc->n_tx_packets,
                                                 memory_order_relaxed),
            .busy_ns = atomic_load_explicit(&sc->busy_ns,
                                            memory_order_relaxed),
            .idle_ns = atomic_load_explicit(&sc->idle_ns,
                                            memory_order_relaxed),
        };
    }
    pthread_mutex_unlock(&dp->mutex);
    return n_threads;
}

static int
compare_bridge_info(const void *a_, const void *b_)
{
    const struct dp_bridge_info *a = a_, *b = b_;
    return strcmp(a->name, b->name);
}

size_t
dp_list_bridges(struct dp *dp, struct dp_bridge_info **infosp)
{
    pthread_mutex_lock(&dp->mutex);
    size_t n = hmap_count(&dp->bridges);
    struct dp_bridge_info *infos = xcalloc(MAX(n, 1), sizeof *infos);
    size_t i = 0;
    struct dp_bridge *br;
    HMAP_FOR_EACH (br, node, &dp->bridges) {
        struct dp_bridge_info *bi = &infos[i++];
        bi->name = xstrdup(br->name);
        bi->n_ports = br->n_ports;
        pthread_mutex_lock(&br->fdb_mutex);
        bi->n_mac_entries = fdb_count(br->fdb);
        pthread_mutex_unlock(&br->fdb_mutex);
        bi->ports = xcalloc(MAX(br->n_ports, 1), sizeof *bi->ports);
        struct dp_bport **sorted = bridge_sorted_ports(br);
        for (size_t k = 0; k < br->n_ports; k++) {
            struct dp_port_info *pi = &bi->ports[k];
            pi->name = xstrdup(sorted[k]->name);
            pi->port_no = sorted[k]->port_no;
            pi->type = dp_port_type(sorted[k]->port);
            pi->thread = sorted[k]->thread;
            dp_port_get_stats(sorted[k]->port, &pi->stats);
        }
        free(sorted);
    }
    pthread_mutex_unlock(&dp->mutex);
    qsort(infos, n, sizeof *infos, compare_bridge_info);
    *infosp = infos;
    return n;
}

void
dp_bridge_info_free(struct dp_bridge_info *infos, size_t n)
{
    for (size_t i = 0; infos && i < n; i++) {
        for (size_t k = 0; k < infos[i].n_ports; k++) {
            free(infos[i].ports[k].name);
        }
        free(infos[i].ports);
        free(infos[i].name);
    }
    free(infos);
}

void
dp_destroy(struct dp *dp)
{
    if (!dp) {
        return;
    }
    atomic_store(&dp->stop, true);
    wake_threads(dp);
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
    snap_free(atomic_load(&dp->snap));
    snap_free(dp->spare);
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
