/* blast: minimal AF_PACKET frame generator for bench/datapath/run.sh.
 *
 *   blast IFACE SECONDS DST_MAC SRC_MAC [COUNT [N_SRC_MACS]]
 *
 * Sends 60-byte IPv4/UDP frames (64 bytes on the wire with the FCS) out of
 * IFACE as fast as it can for SECONDS (or exactly COUNT frames if COUNT is
 * given and not negative), and prints the rate it achieved.  With
 * N_SRC_MACS > 1 each frame's source MAC is drawn at random from that many
 * addresses (SRC_MAC with 0..N-1 in its low 24 bits), which fills a
 * learning switch's MAC table and, being random rather than cyclic, gives
 * its lookups no locality to lean on.  The frames are valid IPv4 so a Linux bridge with
 * netfilter hooks forwards them too.  The receive rate is measured by the
 * caller on the sink.
 *
 * Frames are written once into a PACKET_TX_RING and flushed with one
 * send() per burst, qdisc bypassed, so the generator spends its CPU on the
 * kernel's transmit path rather than on system calls: it must outrun the
 * switches it measures.  A virtio-net header whose hdr_len covers the whole
 * frame makes the kernel copy each frame into one linear buffer instead of
 * pointing at ring pages it would have to copy again when the frame
 * crosses into another network namespace. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME 60
#define BURST 256
#define SLOT 256u
#define N_SLOTS 4096u
#define DATA_OFS (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll))

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
parse_mac(const char *s, uint8_t *mac)
{
    unsigned int b[6];
    if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4],
               &b[5]) != 6) {
        return -1;
    }
    for (int i = 0; i < 6; i++) {
        mac[i] = (uint8_t) b[i];
    }
    return 0;
}

static uint16_t
ip_checksum(const uint8_t *p, size_t n)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += (uint32_t) (p[i] << 8 | p[i + 1]);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t) ~sum;
}

static void
make_frame(uint8_t *f, const uint8_t *dst, const uint8_t *src)
{
    memset(f, 0, FRAME);
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x08;                       /* IPv4 */
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    ip[3] = FRAME - 14;                 /* total length */
    ip[8] = 64;                         /* TTL */
    ip[9] = 17;                         /* UDP */
    ip[12] = 198; ip[13] = 18; ip[14] = 0; ip[15] = 1;
    ip[16] = 198; ip[17] = 18; ip[18] = 0; ip[19] = 2;
    uint16_t ck = ip_checksum(ip, 20);
    ip[10] = (uint8_t) (ck >> 8);
    ip[11] = (uint8_t) ck;
    uint8_t *udp = ip + 20;
    udp[0] = 0x13; udp[1] = 0x88;       /* 5000 -> 5001 */
    udp[2] = 0x13; udp[3] = 0x89;
    udp[5] = FRAME - 14 - 20;           /* UDP length; checksum 0 */
}

static int
setopt(int fd, int name, int value)
{
    return setsockopt(fd, SOL_PACKET, name, &value, sizeof value);
}

/* Opens the socket with its TX ring mapped at *RING. */
static int
open_ring(const char *ifname, uint8_t **ring)
{
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = 0;               /* Send only: receive nothing. */
    sll.sll_ifindex = (int) if_nametoindex(ifname);
    struct tpacket_req req = { SLOT * N_SLOTS, 1, SLOT, N_SLOTS };
    if (fd < 0 || !sll.sll_ifindex
        || setopt(fd, PACKET_VERSION, TPACKET_V2)
        || setopt(fd, PACKET_VNET_HDR, 1)
        || setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof req)
        || bind(fd, (struct sockaddr *) &sll, sizeof sll)) {
        return -1;
    }
    setopt(fd, PACKET_QDISC_BYPASS, 1);
    *ring = mmap(NULL, (size_t) SLOT * N_SLOTS, PROT_READ | PROT_WRITE,
                 MAP_SHARED, fd, 0);
    return *ring == MAP_FAILED ? -1 : fd;
}

/* Writes the frame, behind its virtio-net header, into every slot once. */
static void
fill_slots(uint8_t *ring, const uint8_t *frame)
{
    struct virtio_net_hdr vh;
    memset(&vh, 0, sizeof vh);
    vh.hdr_len = FRAME;
    for (unsigned int s = 0; s < N_SLOTS; s++) {
        struct tpacket2_hdr *h = (struct tpacket2_hdr *) (ring + s * SLOT);
        memcpy((uint8_t *) h + DATA_OFS, &vh, sizeof vh);
        memcpy((uint8_t *) h + DATA_OFS + sizeof vh, frame, FRAME);
        h->tp_len = sizeof vh + FRAME;
    }
}

static void
set_src(struct tpacket2_hdr *h, uint64_t *rng, long long n_srcs)
{
    uint8_t *src = (uint8_t *) h + DATA_OFS + sizeof(struct virtio_net_hdr)
                   + 6;
    *rng ^= *rng << 13;         /* xorshift64 */
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    uint32_t v = (uint32_t) (*rng % (uint64_t) n_srcs);
    src[3] = (uint8_t) (v >> 16);
    src[4] = (uint8_t) (v >> 8);
    src[5] = (uint8_t) v;
}

int
main(int argc, char *argv[])
{
    uint8_t dst[6], src[6], frame[FRAME], *ring;
    if (argc < 5 || parse_mac(argv[3], dst) || parse_mac(argv[4], src)) {
        fprintf(stderr, "usage: %s IFACE SECONDS DST_MAC SRC_MAC "
                "[COUNT [N_SRC_MACS]]\n", argv[0]);
        return 2;
    }
    double secs = atof(argv[2]);
    long long count = argc > 5 ? atoll(argv[5]) : -1;
    long long n_srcs = argc > 6 ? atoll(argv[6]) : 1;
    if (n_srcs < 1 || n_srcs > (1 << 24)) {
        fprintf(stderr, "N_SRC_MACS must be 1..16777216\n");
        return 2;
    }
    int fd = open_ring(argv[1], &ring);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    make_frame(frame, dst, src);
    fill_slots(ring, frame);

    long long sent = 0, queued = 0;
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    unsigned int cur = 0;
    double start = now_s(), t = start;
    while (count < 0 ? (t = now_s()) - start < secs : sent < count) {
        long long n = BURST;
        if (count >= 0 && count - queued < n) {
            n = count - queued;
        }
        long long k = 0;
        for (; k < n; k++) {
            struct tpacket2_hdr *h = (struct tpacket2_hdr *) (ring
                                                              + cur * SLOT);
            if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE)
                != TP_STATUS_AVAILABLE) {
                break;
            }
            if (n_srcs > 1) {
                set_src(h, &rng, n_srcs);
            }
            __atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST,
                             __ATOMIC_RELEASE);
            cur = (cur + 1) % N_SLOTS;
        }
        queued += k;
        if (send(fd, NULL, 0, MSG_DONTWAIT) < 0 && errno != EAGAIN
            && errno != ENOBUFS) {
            perror("send");
            return 1;
        }
        if (!k) {
            struct pollfd p = { fd, POLLOUT, 0 };
            poll(&p, 1, 1);
        }
        sent = queued;
    }
    /* Let the last burst drain before reporting. */
    send(fd, NULL, 0, 0);
    t = now_s();
    printf("sent %lld frames in %.2f s: %.3f Mpps\n", sent, t - start,
           sent / (t - start) / 1e6);
    close(fd);
    return 0;
}
