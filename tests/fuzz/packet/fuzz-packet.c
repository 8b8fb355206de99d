/* Fuzz target over parse + VLAN classify + learn + forward + egress.
 *
 * Input layout: byte 0 selects the input port (of 6, one per VLAN mode plus
 * a restricted trunk), byte 1 a clock step; the rest is the frame.  The
 * frame is pushed through fwd_decide() twice (the second time with the MACs
 * swapped so the fdb has something to hit) and every egress is rebuilt with
 * fwd_txd_copy(), checking its size against what fwd_egress() promised. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fdb.h"
#include "forward.h"

#define N_PORTS 6

static struct fwd_port ports[N_PORTS];
static struct vlan_port vlans[N_PORTS];
static int32_t index_of[N_PORTS + 1];
static struct fwd_bridge br;
static struct fdb *fdb;
static long long now;

static void
init(void)
{
    static const uint16_t trunks[] = { 10, 20 };
    static const uint16_t cvlans[] = { 10 };
    const struct vlan_port_config cfgs[N_PORTS] = {
        { .tag = -1 },
        { .tag = -1, .trunks = trunks, .n_trunks = 2 },
        { .tag = 10 },
        { .vlan_mode = "native-tagged", .tag = 20, .trunks = trunks,
          .n_trunks = 1 },
        { .vlan_mode = "native-untagged", .tag = 10 },
        { .vlan_mode = "dot1q-tunnel", .tag = 100, .cvlans = cvlans,
          .n_cvlans = 1 },
    };
    index_of[0] = -1;
    for (int i = 0; i < N_PORTS; i++) {
        if (vlan_port_configure(&vlans[i], &cfgs[i])) {
            abort();
        }
        ports[i].vlan = &vlans[i];
        ports[i].port_no = (uint32_t) i + 1;
        index_of[i + 1] = i;
    }
    br.n_ports = N_PORTS;
    br.ports = ports;
    br.index_of = index_of;
    br.n_index = N_PORTS + 1;
    br.local_index = -1;
    vlan_bitmap_set(&br.flood_vlans, 20, true);
    fdb = fdb_create(16, 15);
}

static void
egress_all(const struct dp_packet *pkt, const struct fwd_decision *dec,
           size_t in)
{
    static uint8_t out[70000];
    for (size_t p = 0; p < N_PORTS; p++) {
        if (p == in || (dec->out >= 0 && (size_t) dec->out != p)
            || dec->out == FWD_OUT_DROP) {
            continue;
        }
        struct dp_txd txd;
        if (fwd_egress(&ports[p], dec, pkt, &txd)) {
            size_t want = fwd_txd_size(&txd);
            if (fwd_txd_copy(&txd, out, sizeof out) != want
                || txd.rest_ofs > pkt->size) {
                abort();
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fdb) {
        init();
    }
    if (size < 2 || size > 65536) {
        return 0;
    }
    size_t in = data[0] % N_PORTS;
    now += data[1] * 100;
    struct dp_packet pkt[2];
    uint8_t *copy = malloc(size - 2 ? size - 2 : 1);
    uint8_t *swapped = malloc(size - 2 ? size - 2 : 1);
    memcpy(copy, data + 2, size - 2);
    memcpy(swapped, data + 2, size - 2);
    if (size - 2 >= 12) {
        memcpy(swapped, data + 2 + 6, 6);
        memcpy(swapped + 6, data + 2, 6);
    }
    memset(pkt, 0, sizeof pkt);
    pkt[0].data = copy;
    pkt[0].size = (uint32_t) (size - 2);
    pkt[1].data = swapped;
    pkt[1].size = (uint32_t) (size - 2);

    struct fwd_decision dec[2];
    struct fwd_stats stats;
    memset(&stats, 0, sizeof stats);
    fwd_decide(&br, in, fdb, now, &pkt[0], 1, &dec[0], &stats);
    fwd_decide(&br, (in + 1) % N_PORTS, fdb, now, &pkt[1], 1, &dec[1],
               &stats);
    egress_all(&pkt[0], &dec[0], in);
    egress_all(&pkt[1], &dec[1], (in + 1) % N_PORTS);
    fdb_expire(fdb, now);
    free(copy);
    free(swapped);
    return 0;
}
