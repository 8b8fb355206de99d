/* "vxlan" port backend over real UDP sockets on the loopback address: two
 * tunnels in this process share one endpoint and talk to each other by
 * using each other's VNI (in_key/out_key crossed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ds.h"
#include "gso.h"
#include "port.h"
#include "vxlan.h"

static uint16_t udp_port;

static struct dp_port *
open_tunnel(const char *name, uint32_t in_key, uint32_t out_key, bool csum,
            int *errorp)
{
    struct vxlan_config cfg;
    memset(&cfg, 0, sizeof cfg);
    assert_true(vxlan_addr_parse("127.0.0.1", &cfg.remote));
    cfg.in_key = in_key;
    cfg.out_key = out_key;
    cfg.dst_port = udp_port;
    cfg.ttl = 64;
    cfg.df = true;
    cfg.csum = csum;
    struct dp_port_options opts = { .vxlan = &cfg };
    struct dp_port *port = NULL;
    *errorp = dp_port_open("vxlan", name, &opts, &port);
    return port;
}

/* Polls PORT until it yields frames (or a second passes). */
static int
rx_wait(struct dp_port *port, struct dp_packet *pkts, int max)
{
    for (int i = 0; i < 100; i++) {
        int n = dp_port_rx_batch(port, pkts, max);
        if (n) {
            return n;
        }
        struct pollfd pfd = { dp_port_fd(port), POLLIN, 0 };
        poll(&pfd, 1, 10);
    }
    return 0;
}

static void
send_frame(struct dp_port *port, const uint8_t *frame, size_t size,
           const struct virtio_net_hdr *vnet)
{
    struct dp_packet pkt = { .data = (uint8_t *) frame,
                             .size = (uint32_t) size };
    if (vnet) {
        pkt.has_vnet = true;
        pkt.vnet = *vnet;
    }
    struct dp_txd txd = { .pkt = &pkt };
    dp_port_tx_batch(port, &txd, 1);
}

static void
send_raw(const void *data, size_t size)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_port = htons(udp_port) };
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(sendto(fd, data, size, 0, (struct sockaddr *) &sin,
                            sizeof sin), (ssize_t) size);
    close(fd);
}

static char *
endpoints(void)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    dp_vxlan_format_endpoints(&ds);
    return ds_steal_cstr(&ds);
}

static void
test_demux_between_tunnels(void **state)
{
    (void) state;
    int error;
    struct dp_port *a = open_tunnel("a", 1, 2, false, &error);
    assert_int_equal(error, 0);
    struct dp_port *b = open_tunnel("b", 2, 1, false, &error);
    assert_int_equal(error, 0);
    struct dp_port *dup = open_tunnel("dup", 1, 5, false, &error);
    assert_null(dup);
    assert_int_equal(error, EADDRINUSE);

    uint8_t frame[60];
    for (size_t i = 0; i < sizeof frame; i++) {
        frame[i] = (uint8_t) i;
    }
    send_frame(a, frame, sizeof frame, NULL);
    /* Polling A reads the datagram and queues it on B (VNI 2)... */
    struct dp_packet pkts[8];
    usleep(20000);
    assert_int_equal(dp_port_rx_batch(a, pkts, 8), 0);
    /* ...whose own descriptor now polls readable. */
    struct pollfd pfd = { dp_port_fd(b), POLLIN, 0 };
    assert_int_equal(poll(&pfd, 1, 1000), 1);
    assert_int_equal(rx_wait(b, pkts, 8), 1);
    assert_int_equal(pkts[0].size, sizeof frame);
    assert_memory_equal(pkts[0].data, frame, sizeof frame);
    assert_false(pkts[0].has_vnet);

    /* And back. */
    send_frame(b, frame, 20, NULL);
    assert_int_equal(rx_wait(a, pkts, 8), 1);
    assert_int_equal(pkts[0].size, 20);

    struct dp_port_stats st;
    dp_port_get_stats(a, &st);
    assert_int_equal(st.tx_packets, 1);
    assert_int_equal(st.tx_bytes, 60);
    assert_int_equal(st.rx_packets, 1);
    assert_int_equal(st.rx_bytes, 20);

    /* Unknown VNI and malformed headers: dropped, counted, not delivered. */
    uint8_t dgram[8 + 60];
    vxlan_build(dgram, 99);
    memcpy(dgram + 8, frame, 60);
    send_raw(dgram, sizeof dgram);
    send_raw(dgram, 5);
    dgram[0] = 0;
    send_raw(dgram, sizeof dgram);
    usleep(20000);
    assert_int_equal(dp_port_rx_batch(a, pkts, 8), 0);
    assert_int_equal(dp_port_rx_batch(b, pkts, 8), 0);
    /* The wrong VNI came from a configured remote: a's (or b's) error. */
    struct dp_port_stats sb;
    dp_port_get_stats(a, &st);
    dp_port_get_stats(b, &sb);
    assert_int_equal(st.rx_errors + sb.rx_errors, 1);
    char *text = endpoints();
    assert_non_null(strstr(text, "tunnels=2"));
    assert_non_null(strstr(text, "unknown_tunnel=1 malformed=2"));
    free(text);

    dp_port_close(a);
    dp_port_close(b);
    text = endpoints();
    assert_string_equal(text, "");
    free(text);
}

/* A TCPv4 TSO super-frame of PAYLOAD bytes (filled with bytes i * MUL),
 * its checksum left partial as a sender offloading it would. */
static size_t
build_tso_frame(uint8_t *f, size_t payload, unsigned int mul,
                struct virtio_net_hdr *vnet)
{
    memset(f, 0, 14 + 40);
    memset(f, 0x02, 12);
    f[12] = 0x08;
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    ip[2] = (uint8_t) ((40 + payload) >> 8);
    ip[3] = (uint8_t) (40 + payload);
    ip[8] = 64;
    ip[9] = 6;
    ip[12] = 10, ip[15] = 1, ip[16] = 10, ip[19] = 2;
    uint16_t ipc = gso_csum_fold(gso_csum_add(0, ip, 20));
    ip[10] = (uint8_t) (ipc >> 8), ip[11] = (uint8_t) ipc;
    uint8_t *tcp = ip + 20;
    tcp[12] = 5 << 4;
    tcp[13] = 0x18;
    for (size_t i = 0; i < payload; i++) {
        tcp[20 + i] = (uint8_t) (i * mul);
    }
    uint32_t ps = gso_csum_add(0, ip + 12, 8) + 6 + (uint32_t) (20 + payload);
    uint16_t partial = (uint16_t) ~gso_csum_fold(ps);
    tcp[16] = (uint8_t) (partial >> 8), tcp[17] = (uint8_t) partial;
    *vnet = (struct virtio_net_hdr) {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .hdr_len = 54,
        .gso_size = 1400, .csum_start = 34, .csum_offset = 16,
    };
    return 14 + 40 + payload;
}

/* Two TSO super-frames sent into a tunnel in one batch arrive as
 * MSS-sized frames with correct checksums, the payload complete.  CSUM
 * selects UDP GSO runs (csum=true) or one datagram per segment; REWRITE
 * gives both frames a rewritten Ethernet header, so that each is
 * linearised into the port's one source buffer, which the first frame's
 * queued segments still point into when the second arrives. */
static void
check_tx_segments(bool csum, bool rewrite)
{
    int error;
    struct dp_port *a = open_tunnel("a", 1, 2, csum, &error);
    struct dp_port *b = open_tunnel("b", 2, 1, csum, &error);
    assert_non_null(a);
    assert_non_null(b);

    static uint8_t f[2][14 + 40 + 4000];
    size_t payload = 4000;
    struct dp_packet pkts_out[2];
    struct dp_txd txds[2];
    for (int k = 0; k < 2; k++) {
        struct virtio_net_hdr vnet;
        size_t size = build_tso_frame(f[k], payload, k ? 13 : 7, &vnet);
        pkts_out[k] = (struct dp_packet) {
            .data = f[k], .size = (uint32_t) size, .has_vnet = true,
            .vnet = vnet,
        };
        txds[k] = (struct dp_txd) { .pkt = &pkts_out[k] };
        if (rewrite) {
            txds[k].hdr_len = 12;
            txds[k].rest_ofs = 12;
            memset(txds[k].hdr, 0x04, 12);
        }
    }
    dp_port_tx_batch(a, txds, 2);

    /* B may hand the segments on one by one or merge them back into a
     * super-frame with GSO metadata: either way each wire frame (after
     * segmenting a merged one) must be valid, and the payload complete.
     * Frames are checked right after each rx_batch(), while valid. */
    struct dp_packet pkts[8];
    size_t total = 0;
    static uint8_t seg[2048];
    for (int tries = 0; total < 2 * payload && tries < 10; tries++) {
        int n = rx_wait(b, pkts, 8);
        for (int i = 0; i < n; i++) {
            struct virtio_net_hdr none = { 0 };
            struct gso_iter it;
            assert_int_equal(gso_start(&it, pkts[i].data, pkts[i].size,
                                       pkts[i].has_vnet ? &pkts[i].vnet
                                                        : &none), GSO_OK);
            assert_int_equal(pkts[i].data[0], rewrite ? 0x04 : 0x02);
            size_t len;
            while ((len = gso_next(&it, seg, sizeof seg)) != 0) {
                const uint8_t *sip = seg + 14;
                size_t tot = (size_t) (sip[2] << 8 | sip[3]);
                assert_int_equal(14 + tot, len);
                assert_int_equal(gso_csum_fold(gso_csum_add(0, sip, 20)), 0);
                uint32_t sps = gso_csum_add(0, sip + 12, 8) + 6
                               + (uint32_t) (tot - 20);
                assert_int_equal(gso_csum_fold(gso_csum_add(sps, sip + 20,
                                                            tot - 20)), 0);
                assert_true(tot - 40 <= 1400);
                total += tot - 40;
            }
        }
    }
    assert_int_equal(total, 2 * payload);
    struct dp_port_stats st;
    dp_port_get_stats(a, &st);
    assert_int_equal(st.tx_packets, 2 * 3);     /* 4000 = 1400 + 1400 + 1200 */
    assert_int_equal(st.tx_errors + st.tx_dropped, 0);
    dp_port_close(a);
    dp_port_close(b);
}

static void
test_tx_segments_offloaded_frames(void **state)
{
    (void) state;
    check_tx_segments(false, false);
    check_tx_segments(false, true);
}

static void
test_tx_udp_gso_runs(void **state)
{
    (void) state;
    check_tx_segments(true, false);
    check_tx_segments(true, true);
}

int
main(void)
{
    srand((unsigned int) time(NULL) ^ (unsigned int) getpid());
    udp_port = (uint16_t) (40000 + rand() % 20000);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demux_between_tunnels),
        cmocka_unit_test(test_tx_segments_offloaded_frames),
        cmocka_unit_test(test_tx_udp_gso_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
