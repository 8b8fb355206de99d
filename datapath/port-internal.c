/* "internal" ports: a TAP device the switch creates (and that disappears
 * when the port is closed), with IFF_VNET_HDR so the host stack can hand us
 * checksum-partial and TSO frames and accept them back.  TAP has no batched
 * read or write, so this backend costs one syscall per frame; the frames
 * are read into reused buffers, never allocated per packet. */
#include "port.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "forward.h"
#include "util.h"

#define TAP_BATCH 32
#define VNET_SIZE ((int) sizeof(struct virtio_net_hdr))
#define TAP_BUF_SIZE (VNET_SIZE + 65536 + 64)

struct internal_port {
    struct dp_port up;
    int fd;
    uint8_t *bufs[TAP_BATCH];
};

static struct internal_port *
internal_cast(const struct dp_port *port)
{
    return CONTAINER_OF(port, struct internal_port, up);
}

static bool
parse_mac(const char *s, uint8_t mac[6])
{
    unsigned int b[6];
    char c;
    if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
               &b[5], &c) != 6) {
        return false;
    }
    for (int i = 0; i < 6; i++) {
        if (b[i] > 0xff) {
            return false;
        }
        mac[i] = (uint8_t) b[i];
    }
    return !(mac[0] & 1);
}

/* Sets the MAC (if MAC is nonnull) and brings device NAME up. */
static int
configure_netdev(const char *name, const char *mac)
{
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
        return errno;
    }
    int error = 0;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (mac) {
        ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
        if (!parse_mac(mac, (uint8_t *) ifr.ifr_hwaddr.sa_data)) {
            error = EINVAL;
        } else if (ioctl(sock, SIOCSIFHWADDR, &ifr)) {
            error = errno;
        }
    }
    if (!error && ioctl(sock, SIOCGIFFLAGS, &ifr)) {
        error = errno;
    }
    if (!error) {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(sock, SIOCSIFFLAGS, &ifr)) {
            error = errno;
        }
    }
    close(sock);
    return error;
}

static int
open_tap(const char *name, int *fdp)
{
    if (strlen(name) >= IFNAMSIZ) {
        return ENAMETOOLONG;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    unsigned int offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
    if (ioctl(fd, TUNSETIFF, &ifr) || ioctl(fd, TUNSETOFFLOAD, offloads)) {
        int error = errno;
        close(fd);
        return error;
    }
    *fdp = fd;
    return 0;
}

static int
internal_open(const char *name, const struct dp_port_options *options,
              struct dp_port **portp)
{
    int fd = -1;
    int error = open_tap(name, &fd);
    if (error) {
        return error;
    }
    error = configure_netdev(name, options->mac);
    if (error) {
        close(fd);
        return error;
    }
    struct internal_port *ip = xzalloc(sizeof *ip);
    dp_port_init(&ip->up, &dp_port_internal_class, name);
    ip->fd = fd;
    for (int i = 0; i < TAP_BATCH; i++) {
        ip->bufs[i] = xmalloc(TAP_BUF_SIZE);
    }
    *portp = &ip->up;
    return 0;
}

static int
internal_rx_batch(struct dp_port *port, struct dp_packet *pkts, int max)
{
    struct internal_port *ip = internal_cast(port);
    uint64_t bytes = 0;
    int n = 0;
    max = MIN(max, TAP_BATCH);
    while (n < max) {
        ssize_t r = read(ip->fd, ip->bufs[n], TAP_BUF_SIZE);
        if (r < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                dp_port_count(&port->rx_errors, 1);
            }
            break;
        }
        if (r < VNET_SIZE + 12) {
            dp_port_count(&port->rx_errors, 1);
            continue;
        }
        memcpy(&pkts[n].vnet, ip->bufs[n], VNET_SIZE);
        pkts[n].has_vnet = true;
        pkts[n].data = ip->bufs[n] + VNET_SIZE;
        pkts[n].size = (uint32_t) (r - VNET_SIZE);
        bytes += pkts[n].size;
        n++;
    }
    if (n) {
        dp_port_count(&port->rx_packets, (uint64_t) n);
        dp_port_count(&port->rx_bytes, bytes);
    }
    return n;
}

static void
internal_tx_batch(struct dp_port *port, const struct dp_txd *txds, int n)
{
    struct internal_port *ip = internal_cast(port);
    uint64_t bytes = 0, sent = 0;
    for (int i = 0; i < n; i++) {
        const struct dp_txd *t = &txds[i];
        struct virtio_net_hdr vh;
        if (t->pkt->has_vnet) {
            vh = t->pkt->vnet;
            if (vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
                vh.csum_start = (uint16_t) (vh.csum_start + t->vnet_delta);
            }
        } else {
            memset(&vh, 0, sizeof vh);
        }
        struct iovec iov[3];
        int k = 0;
        iov[k++] = (struct iovec) { &vh, sizeof vh };
        if (t->hdr_len) {
            iov[k++] = (struct iovec) { (void *) t->hdr, t->hdr_len };
        }
        iov[k++] = (struct iovec) { t->pkt->data + t->rest_ofs,
                                    t->pkt->size - t->rest_ofs };
        if (writev(ip->fd, iov, k) < 0) {
            dp_port_count(errno == EAGAIN ? &port->tx_dropped
                                          : &port->tx_errors, 1);
            continue;
        }
        sent++;
        bytes += fwd_txd_size(t);
    }
    dp_port_count(&port->tx_packets, sent);
    dp_port_count(&port->tx_bytes, bytes);
}

static int
internal_fd(const struct dp_port *port)
{
    return internal_cast(port)->fd;
}

static void
internal_close(struct dp_port *port)
{
    struct internal_port *ip = internal_cast(port);
    close(ip->fd);
    for (int i = 0; i < TAP_BATCH; i++) {
        free(ip->bufs[i]);
    }
    dp_port_uninit(port);
    free(ip);
}

const struct dp_port_class dp_port_internal_class = {
    .type = "internal",
    .open = internal_open,
    .rx_batch = internal_rx_batch,
    .tx_batch = internal_tx_batch,
    .fd = internal_fd,
    .stats = NULL,
    .close = internal_close,
};
