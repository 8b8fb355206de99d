/* "system" ports: AF_PACKET on an existing network device.
 *
 * RX: a TPACKET_V3 ring (variable-size frames in blocks) mapped into our
 * memory: no syscall and no copy per packet on our side; blocks go back to
 * the kernel on the next rx_batch() call.  TX: sendmmsg() once per batch on
 * the same socket, bypassing the qdisc layer.  Both directions carry a
 * virtio-net header (PACKET_VNET_HDR), so checksum-partial and GSO frames
 * from the host stack pass through the switch unsegmented.  Frames we send
 * are not looped back to us (PACKET_IGNORE_OUTGOING), and the device is put
 * in promiscuous mode and brought up. */
#include "port.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "forward.h"
#include "util.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

/* Ring geometry: blocks must hold a 64 KB GSO frame plus headers. */
#define BLOCK_SIZE (1u << 20)
#define BLOCK_NR 8u
#define FRAME_SIZE 2048u
#define RESERVE 16              /* Headroom to re-insert a VLAN tag. */
#define VNET_SIZE ((int) sizeof(struct virtio_net_hdr))

struct system_port {
    struct dp_port up;
    int fd;
    uint8_t *map;
    unsigned int cur;           /* Block being consumed. */
    bool in_block;
    unsigned int n_left;        /* Packets left in block 'cur'. */
    uint8_t *next;              /* Next tpacket3_hdr in block 'cur'. */
    unsigned int rel;           /* First consumed, unreleased block. */
    unsigned int n_done;        /* Consumed, unreleased blocks. */
    pthread_mutex_t stats_mutex;
    uint64_t kernel_drops;
};

static struct system_port *
system_cast(const struct dp_port *port)
{
    return CONTAINER_OF(port, struct system_port, up);
}

static int
setopt(int fd, int level, int name, int value)
{
    return setsockopt(fd, level, name, &value, sizeof value) ? errno : 0;
}

/* Brings device NAME up (the switch needs it running to forward). */
static int
set_up(int fd, const char *name)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr)) {
        return errno;
    }
    if (!(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr)) {
            return errno;
        }
    }
    return 0;
}

static int
setup_socket(struct system_port *sp, const char *name)
{
    int ifindex = (int) if_nametoindex(name);
    if (!ifindex) {
        return ENODEV;
    }
    int fd = sp->fd;
    int error = setopt(fd, SOL_PACKET, PACKET_VNET_HDR, 1);
    error = error ? error : setopt(fd, SOL_PACKET, PACKET_VERSION, TPACKET_V3);
    error = error ? error : setopt(fd, SOL_PACKET, PACKET_RESERVE, RESERVE);
    if (error) {
        return error;
    }
    struct tpacket_req3 req;
    memset(&req, 0, sizeof req);
    req.tp_block_size = BLOCK_SIZE;
    req.tp_block_nr = BLOCK_NR;
    req.tp_frame_size = FRAME_SIZE;
    req.tp_frame_nr = BLOCK_SIZE / FRAME_SIZE * BLOCK_NR;
    req.tp_retire_blk_tov = 1;  /* ms: bounds latency of sparse traffic. */
    if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req)) {
        return errno;
    }
    sp->map = mmap(NULL, (size_t) BLOCK_SIZE * BLOCK_NR,
                   PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    if (sp->map == MAP_FAILED) {
        sp->map = NULL;
        return errno;
    }
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = ifindex;
    if (bind(fd, (struct sockaddr *) &sll, sizeof sll)) {
        return errno;
    }
    /* Best effort: older kernels lack these; forwarding still works. */
    setopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, 1);
    setopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1);
    setopt(fd, SOL_SOCKET, SO_SNDBUF, 4 << 20);
    struct packet_mreq mr;
    memset(&mr, 0, sizeof mr);
    mr.mr_ifindex = ifindex;
    mr.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr)) {
        return errno;
    }
    return set_up(fd, name);
}

static void
system_free(struct system_port *sp)
{
    if (sp->map) {
        munmap(sp->map, (size_t) BLOCK_SIZE * BLOCK_NR);
    }
    if (sp->fd >= 0) {
        close(sp->fd);
    }
    pthread_mutex_destroy(&sp->stats_mutex);
    dp_port_uninit(&sp->up);
    free(sp);
}

static int
system_open(const char *name, const struct dp_port_options *options,
            struct dp_port **portp)
{
    (void) options;
    struct system_port *sp = xzalloc(sizeof *sp);
    dp_port_init(&sp->up, &dp_port_system_class, name);
    pthread_mutex_init(&sp->stats_mutex, NULL);
    sp->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int error = sp->fd < 0 ? errno : setup_socket(sp, name);
    if (error) {
        system_free(sp);
        return error;
    }
    *portp = &sp->up;
    return 0;
}

static struct tpacket_block_desc *
block(const struct system_port *sp, unsigned int i)
{
    return (struct tpacket_block_desc *) (sp->map + (size_t) i * BLOCK_SIZE);
}

static void
release_blocks(struct system_port *sp)
{
    while (sp->n_done) {
        struct tpacket_block_desc *bd = block(sp, sp->rel);
        atomic_thread_fence(memory_order_release);
        __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL,
                         __ATOMIC_RELEASE);
        sp->rel = (sp->rel + 1) % BLOCK_NR;
        sp->n_done--;
    }
}

/* Turns ring frame H into *PKT.  Returns false if it must be dropped. */
static bool
take_frame(struct system_port *sp, struct tpacket3_hdr *h,
           struct dp_packet *pkt)
{
    uint8_t *mac = (uint8_t *) h + h->tp_mac;
    uint32_t size = h->tp_snaplen;
    if (h->tp_snaplen < h->tp_len || size < 12) {
        dp_port_count(&sp->up.rx_dropped, 1);
        return false;
    }
    memcpy(&pkt->vnet, mac - VNET_SIZE, VNET_SIZE);
    if (h->tp_status & TP_STATUS_VLAN_VALID) {
        /* The device stripped the tag into metadata: put it back in front
         * of the type field, using the headroom PACKET_RESERVE left. */
        uint16_t tpid = h->tp_status & TP_STATUS_VLAN_TPID_VALID
                            ? h->hv1.tp_vlan_tpid
                            : ETH_P_8021Q;
        memmove(mac - 4, mac, 12);
        mac -= 4;
        mac[12] = (uint8_t) (tpid >> 8);
        mac[13] = (uint8_t) tpid;
        mac[14] = (uint8_t) (h->hv1.tp_vlan_tci >> 8);
        mac[15] = (uint8_t) h->hv1.tp_vlan_tci;
        size += 4;
        if (pkt->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
            pkt->vnet.csum_start = (uint16_t) (pkt->vnet.csum_start + 4);
        }
    }
    pkt->data = mac;
    pkt->size = size;
    pkt->has_vnet = true;
    return true;
}

static int
system_rx_batch(struct dp_port *port, struct dp_packet *pkts, int max)
{
    struct system_port *sp = system_cast(port);
    uint64_t bytes = 0;
    int n = 0;

    release_blocks(sp);
    while (n < max) {
        if (!sp->in_block) {
            struct tpacket_block_desc *bd = block(sp, sp->cur);
            if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE)
                  & TP_STATUS_USER)) {
                break;
            }
            sp->in_block = true;
            sp->n_left = bd->hdr.bh1.num_pkts;
            sp->next = (uint8_t *) bd + bd->hdr.bh1.offset_to_first_pkt;
        }
        while (sp->n_left && n < max) {
            struct tpacket3_hdr *h = (struct tpacket3_hdr *) sp->next;
            sp->next += h->tp_next_offset;
            sp->n_left--;
            if (take_frame(sp, h, &pkts[n])) {
                bytes += pkts[n].size;
                n++;
            }
        }
        if (!sp->n_left) {
            sp->in_block = false;
            sp->n_done++;
            sp->cur = (sp->cur + 1) % BLOCK_NR;
        }
    }
    if (n) {
        dp_port_count(&port->rx_packets, (uint64_t) n);
        dp_port_count(&port->rx_bytes, bytes);
    }
    return n;
}

static void
system_tx_batch(struct dp_port *port, const struct dp_txd *txds, int n)
{
    struct system_port *sp = system_cast(port);
    struct mmsghdr msgs[FWD_MAX_BATCH];
    struct iovec iov[FWD_MAX_BATCH][3];
    struct virtio_net_hdr vh[FWD_MAX_BATCH];
    uint32_t sizes[FWD_MAX_BATCH];

    n = MIN(n, FWD_MAX_BATCH);
    for (int i = 0; i < n; i++) {
        const struct dp_txd *t = &txds[i];
        const struct dp_packet *pkt = t->pkt;
        int k = 0;
        if (pkt->has_vnet) {
            vh[i] = pkt->vnet;
            if (vh[i].flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
                vh[i].csum_start = (uint16_t) (vh[i].csum_start
                                               + t->vnet_delta);
            }
        } else {
            memset(&vh[i], 0, sizeof vh[i]);
        }
        iov[i][k++] = (struct iovec) { &vh[i], sizeof vh[i] };
        if (t->hdr_len) {
            iov[i][k++] = (struct iovec) { (void *) t->hdr, t->hdr_len };
        }
        iov[i][k++] = (struct iovec) { pkt->data + t->rest_ofs,
                                       pkt->size - t->rest_ofs };
        memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_iov = iov[i];
        msgs[i].msg_hdr.msg_iovlen = (size_t) k;
        sizes[i] = (uint32_t) fwd_txd_size(t);
    }
    int i = 0, sent = 0;
    uint64_t sent_bytes = 0;
    while (i < n) {
        int r = sendmmsg(sp->fd, &msgs[i], (unsigned) (n - i), MSG_DONTWAIT);
        if (r > 0) {
            for (int j = i; j < i + r; j++) {
                sent_bytes += sizes[j];
            }
            sent += r;
            i += r;
        } else if (r < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
            break;              /* Socket buffer full: drop the rest. */
        } else if (r < 0 && errno == EINTR) {
            continue;
        } else {
            /* This frame is bad (EMSGSIZE, ENETDOWN...): skip it. */
            dp_port_count(&port->tx_errors, 1);
            i++;
        }
    }
    dp_port_count(&port->tx_packets, (uint64_t) sent);
    dp_port_count(&port->tx_bytes, sent_bytes);
    if (i < n) {
        dp_port_count(&port->tx_dropped, (uint64_t) (n - i));
    }
}

static int
system_fd(const struct dp_port *port)
{
    return system_cast(port)->fd;
}

static void
system_stats(struct dp_port *port, struct dp_port_stats *s)
{
    struct system_port *sp = system_cast(port);
    struct tpacket_stats_v3 st;
    socklen_t len = sizeof st;
    pthread_mutex_lock(&sp->stats_mutex);
    /* The kernel resets these counters on every read: accumulate. */
    if (!getsockopt(sp->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len)) {
        sp->kernel_drops += st.tp_drops;
    }
    s->rx_dropped += sp->kernel_drops;
    pthread_mutex_unlock(&sp->stats_mutex);
}

static void
system_close(struct dp_port *port)
{
    system_free(system_cast(port));
}

const struct dp_port_class dp_port_system_class = {
    .type = "system",
    .open = system_open,
    .rx_batch = system_rx_batch,
    .tx_batch = system_tx_batch,
    .fd = system_fd,
    .stats = system_stats,
    .close = system_close,
};
