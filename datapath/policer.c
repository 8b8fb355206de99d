#include "policer.h"

#include <assert.h>
#include <string.h>
#include <time.h>

#include "util.h"

#define ETH_HEADER 14

struct policer *
policer_create(uint64_t rate, uint64_t burst)
{
    struct policer *p = xzalloc(sizeof *p);
    p->rate = rate ? rate : 1;
    p->burst = burst ? burst : 1;
    p->ps_per_byte = 1000000000000ULL / p->rate;
    if (!p->ps_per_byte) {
        p->ps_per_byte = 1;     /* Above 1 TB/s: as good as unlimited. */
    }
    /* In floating point: burst * 10^9 overflows 64 bits above 18 GB. */
    p->tau_ns = (uint64_t) ((double) p->burst * 1e9 / (double) p->rate);
    return p;
}

void
policer_get_stats(const struct policer *p, struct policer_stats *s)
{
    s->rate = p->rate;
    s->burst = p->burst;
    s->n_passed = atomic_load_explicit(&p->n_passed, memory_order_relaxed);
    s->n_dropped = atomic_load_explicit(&p->n_dropped, memory_order_relaxed);
    s->bytes_dropped = atomic_load_explicit(&p->bytes_dropped,
                                            memory_order_relaxed);
}

/* Time the bucket needs to regain LEN bytes, in ns (rounded up). */
static uint64_t
cost_ns(const struct policer *p, uint32_t len)
{
    uint32_t l3 = len > ETH_HEADER ? len - ETH_HEADER : 0;
    return ((uint64_t) l3 * p->ps_per_byte + 999) / 1000;
}

size_t
policer_decide(struct policer *p, uint64_t now_ns, const uint32_t *lens,
               size_t n, bool *pass)
{
    uint64_t seen = atomic_load_explicit(&p->tat, memory_order_relaxed);
    for (;;) {
        /* A time in the past means a full bucket: it holds no more than
         * BURST, so the schedule restarts from now. */
        uint64_t tat = MAX(seen, now_ns);
        size_t n_pass = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t next = tat + cost_ns(p, lens[i]);
            /* Conforms if, after taking it out, the bucket would not be
             * "more than empty": next - now <= tau. */
            pass[i] = next - now_ns <= p->tau_ns;
            if (pass[i]) {
                tat = next;
                n_pass++;
            }
        }
        if (tat == seen
            || atomic_compare_exchange_weak_explicit(&p->tat, &seen, tat,
                                                     memory_order_relaxed,
                                                     memory_order_relaxed)) {
            uint64_t bytes = 0;
            for (size_t i = 0; i < n; i++) {
                bytes += pass[i] ? 0 : lens[i];
            }
            atomic_fetch_add_explicit(&p->n_passed, n_pass,
                                      memory_order_relaxed);
            atomic_fetch_add_explicit(&p->n_dropped, n - n_pass,
                                      memory_order_relaxed);
            atomic_fetch_add_explicit(&p->bytes_dropped, bytes,
                                      memory_order_relaxed);
            return n_pass;
        }
        /* Another thread took tokens meanwhile: decide again. */
    }
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
