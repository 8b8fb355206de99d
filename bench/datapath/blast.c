/* blast: minimal AF_PACKET frame generator for bench/datapath/run.sh.
 *
 *   blast IFACE SECONDS DST_MAC SRC_MAC [COUNT]
 *
 * Sends 60-byte IPv4/UDP frames (64 bytes on the wire with the FCS) out of
 * IFACE as fast as sendmmsg() allows for SECONDS (or exactly COUNT frames
 * if given), bypassing the qdisc, and prints the rate it achieved.  The
 * frames are valid IPv4 so a Linux bridge with netfilter hooks forwards
 * them too.  The receive rate is measured by the caller on the sink. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME 60
#define BURST 128

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

int
main(int argc, char *argv[])
{
    uint8_t dst[6], src[6], frame[FRAME];
    if (argc < 5 || parse_mac(argv[3], dst) || parse_mac(argv[4], src)) {
        fprintf(stderr, "usage: %s IFACE SECONDS DST_MAC SRC_MAC [COUNT]\n",
                argv[0]);
        return 2;
    }
    double secs = atof(argv[2]);
    long long count = argc > 5 ? atoll(argv[5]) : -1;
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = 0;               /* Send only: receive nothing. */
    sll.sll_ifindex = (int) if_nametoindex(argv[1]);
    int one = 1;
    if (fd < 0 || !sll.sll_ifindex
        || bind(fd, (struct sockaddr *) &sll, sizeof sll)) {
        perror(argv[1]);
        return 1;
    }
    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
    make_frame(frame, dst, src);

    struct iovec iov = { frame, FRAME };
    struct mmsghdr msgs[BURST];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BURST; i++) {
        msgs[i].msg_hdr.msg_iov = &iov;
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    long long sent = 0;
    double start = now_s(), t = start;
    while (count < 0 ? (t = now_s()) - start < secs : sent < count) {
        unsigned int n = BURST;
        if (count >= 0 && count - sent < BURST) {
            n = (unsigned int) (count - sent);
        }
        int r = sendmmsg(fd, msgs, n, 0);
        if (r > 0) {
            sent += r;
        }
    }
    t = now_s();
    printf("sent %lld frames in %.2f s: %.3f Mpps\n", sent, t - start,
           sent / (t - start) / 1e6);
    close(fd);
    return 0;
}
