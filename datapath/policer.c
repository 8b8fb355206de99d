#include "policer.h"

#include <assert.h>
#include <string.h>
#include <time.h>

#include "util.h"

#define ETH_HEADER 14

static void
bucket_init(struct policer_bucket *b, uint64_t rate, uint64_t burst)
{
    burst = burst ? burst : 1;
    b->ps_per_unit = 1000000000000ULL / rate;
    if (!b->ps_per_unit) {
        b->ps_per_unit = 1;     /* Above 10^12 units/s: as good as none. */
    }
    /* In floating point: burst * 10^9 overflows 64 bits above 18 G. */
    b->tau_ns = (uint64_t) ((double) burst * 1e9 / (double) rate);
}

struct policer *
policer_create(const struct policer_rates *rates)
{
    struct policer *p = xzalloc(sizeof *p);
    p->rates = *rates;
    if (!p->rates.rate && !p->rates.pkt_rate) {
        p->rates.rate = 1;      /* Misuse: police as hard as possible. */
    }
    if (p->rates.rate) {
        p->rates.burst = MAX(p->rates.burst, 1);
        bucket_init(&p->bytes, p->rates.rate, p->rates.burst);
    }
    if (p->rates.pkt_rate) {
        p->rates.pkt_burst = MAX(p->rates.pkt_burst, 1);
        bucket_init(&p->packets, p->rates.pkt_rate, p->rates.pkt_burst);
    }
    return p;
}

void
policer_get_stats(const struct policer *p, struct policer_stats *s)
{
    s->rates = p->rates;
    s->n_passed = atomic_load_explicit(&p->n_passed, memory_order_relaxed);
    s->n_dropped = atomic_load_explicit(&p->n_dropped, memory_order_relaxed);
    s->bytes_dropped = atomic_load_explicit(&p->bytes_dropped,
                                            memory_order_relaxed);
}

/* Time bucket B needs to regain the tokens of a frame of LEN bytes, in ns
 * (rounded up): one token per byte after the Ethernet header, or one per
 * frame (PER_PACKET). */
static uint64_t
cost_ns(const struct policer_bucket *b, bool per_packet, uint32_t len)
{
    uint64_t units = per_packet ? 1 : len > ETH_HEADER ? len - ETH_HEADER : 0;
    return (units * b->ps_per_unit + 999) / 1000;
}

/* Takes the tokens of the frames whose PASS is true out of B, turning PASS
 * false for those that do not conform. */
static void
bucket_decide(struct policer_bucket *b, bool per_packet, uint64_t now_ns,
              const uint32_t *lens, size_t n, bool *pass)
{
    bool offered[POLICER_MAX_BATCH];
    memcpy(offered, pass, n * sizeof *pass);
    uint64_t seen = atomic_load_explicit(&b->tat, memory_order_relaxed);
    for (;;) {
        /* A time in the past means a full bucket: it holds no more than
         * its burst, so the schedule restarts from now. */
        uint64_t tat = MAX(seen, now_ns);
        for (size_t i = 0; i < n; i++) {
            if (!offered[i]) {
                continue;
            }
            uint64_t next = tat + cost_ns(b, per_packet, lens[i]);
            /* Conforms if, after taking it out, the bucket would not be
             * "more than empty": next - now <= tau. */
            pass[i] = next - now_ns <= b->tau_ns;
            if (pass[i]) {
                tat = next;
            }
        }
        if (tat == seen
            || atomic_compare_exchange_weak_explicit(&b->tat, &seen, tat,
                                                     memory_order_relaxed,
                                                     memory_order_relaxed)) {
            return;
        }
        /* Another thread took tokens meanwhile: decide again. */
    }
}

size_t
policer_decide(struct policer *p, uint64_t now_ns, const uint32_t *lens,
               size_t n, bool *pass)
{
    assert(n <= POLICER_MAX_BATCH);
    for (size_t i = 0; i < n; i++) {
        pass[i] = true;
    }
    if (p->rates.rate) {
        bucket_decide(&p->bytes, false, now_ns, lens, n, pass);
    }
    if (p->rates.pkt_rate) {
        bucket_decide(&p->packets, true, now_ns, lens, n, pass);
    }
    size_t n_pass = 0;
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        n_pass += pass[i];
        bytes += pass[i] ? 0 : lens[i];
    }
    atomic_fetch_add_explicit(&p->n_passed, n_pass, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->n_dropped, n - n_pass,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&p->bytes_dropped, bytes, memory_order_relaxed);
    return n_pass;
}

static uint64_t
monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

int
policer_filter_rx(struct policer *p, struct dp_port *port,
                  struct dp_packet *pkts, int n)
{
    uint32_t lens[POLICER_MAX_BATCH];
    bool pass[POLICER_MAX_BATCH];
    assert(n <= POLICER_MAX_BATCH);
    size_t m = (size_t) n;
    for (size_t i = 0; i < m; i++) {
        lens[i] = pkts[i].size;
    }
    size_t n_pass = policer_decide(p, monotonic_ns(), lens, m, pass);
    if (n_pass == m) {
        return n;
    }
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (pass[i]) {
            pkts[k++] = pkts[i];
        }
    }
    dp_port_count(&port->rx_dropped, m - n_pass);
    return (int) k;
}

int
policer_filter_tx(struct policer *p, struct dp_port *port,
                  struct dp_txd *txds, int n)
{
    uint32_t lens[POLICER_MAX_BATCH];
    bool pass[POLICER_MAX_BATCH];
    assert(n <= POLICER_MAX_BATCH);
    size_t m = (size_t) n;
    for (size_t i = 0; i < m; i++) {
        const struct dp_txd *t = &txds[i];
        lens[i] = t->hdr_len + t->pkt->size - t->rest_ofs;
    }
    size_t n_pass = policer_decide(p, monotonic_ns(), lens, m, pass);
    if (n_pass == m) {
        return n;
    }
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (pass[i]) {
            if (k != i) {
                txds[k] = txds[i];
            }
            k++;
        }
    }
    dp_port_count(&port->tx_dropped, m - n_pass);
    return (int) k;
}
