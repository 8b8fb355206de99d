/* dp-thread: the forwarding threads: their poll loop over the ports they
 * own, the per-batch pipeline, and dp_start(). */
#include "dp-private.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "mirror.h"
#include "policer.h"
#include "util.h"

/* A batch goes whole through the policers, the forwarding decision and the
 * mirrors, each of which sizes its scratch space for at most this many. */
_Static_assert(DP_BATCH <= POLICER_MAX_BATCH && DP_BATCH <= FWD_MAX_BATCH,
               "DP_BATCH exceeds a per-batch limit");

/* A thread that found nothing keeps polling this long before it sleeps in
 * poll(): at any steady rate above ~20,000 frames/s it never pays for a
 * wake-up (a few microseconds each, and latency), while an idle switch
 * still sleeps almost all the time. */
#define SPIN_NS 50000

/* Adds N to a counter only its own thread writes: a relaxed load and
 * store, no locked read-modify-write on the hot path. */
static inline void
thread_count(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_store_explicit(counter, atomic_load_explicit(
                              counter, memory_order_relaxed) + n,
                          memory_order_relaxed);
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
    /* Read once: after going offline below, the control thread may change
     * or free the snapshot ST is part of. */
    size_t n = st->n;
    p[0] = (struct pollfd) { th->efd, POLLIN, 0 };
    for (size_t q = 0; q < n; q++) {
        const struct snap_rxq *rxq = &st->rxqs[q];
        p[q + 1] = (struct pollfd) { dp_port_fd(rxq->sb->dports[rxq->idx]),
                                     POLLIN, 0 };
    }
    atomic_store(&th->qs, 0);
    if (!atomic_load(&th->dp->stop)) {
        poll(p, n + 1, 1000);
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
        dp_tports_add(dp, bp);
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
    dp_snap_free(atomic_exchange(&dp->snap, dp_snap_build(dp, &bytes)));
    dp_snap_free(dp->spare);
    dp->spare = dp_snap_build(dp, &bytes);
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
