/* dp-stats: counters (coverage/show), per-thread statistics and the
 * bridge and port listings of appctl. */
#include "dp-private.h"

#include <string.h>

#include "ds.h"
#include "fdb.h"
#include "util.h"

/* Adds BR's counters to *C (with its fdb lock or after it is unpublished). */
void
dp_bridge_add_counters(struct dp_bridge *br, struct dp_counters *c)
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
        dp_bridge_add_counters(br, c);
        pthread_mutex_unlock(&br->fdb_mutex);
    }
    pthread_mutex_unlock(&dp->mutex);
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
        struct dp_bport **sorted = dp_bridge_sorted_ports(br);
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

/* ---- appctl views (switchd's pmd-ctl, dpctl). ---- */

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
        struct dp_bport **sorted = dp_bridge_sorted_ports(br);
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
