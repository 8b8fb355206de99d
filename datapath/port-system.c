/* "system" ports: AF_PACKET on an existing network device.
 *
 * One socket carries two mmap'd rings (TPACKET_V2, fixed 2 KB slots):
 *
 * RX: the kernel copies each frame into a ring slot and flips its status
 * word; we read frames in place (no syscall, no copy on our side) and hand
 * the slots back at the next rx_batch().  Per-slot status (rather than
 * TPACKET_V3's blocks) means a frame is visible the moment it lands: V3
 * blocks only reach user space when full or when the retire timer fires,
 * which put ~1 ms into every hop of a sparse flow.  A frame too big for a
 * slot (a 64 KB GSO super-frame, a jumbo frame) is queued whole on the
 * socket as well (PACKET_COPY_THRESH) and its truncated slot says so
 * (TP_STATUS_COPY): we take that frame with one recvmsg().
 *
 * TX: frames that fit a slot are written into the TX ring and flushed with
 * one send() per batch (PACKET_TX_RING, qdisc bypassed): no per-frame
 * msghdr or iovec for the kernel to copy in.  Bigger frames go out in
 * their turn (so order within a batch is kept) with sendmsg() on a second,
 * send-only socket opened the first time one is needed: on a socket with a
 * TX ring, sendmsg() only flushes the ring.
 *
 * Both directions carry a virtio-net header (PACKET_VNET_HDR), so
 * checksum-partial and GSO frames from the host stack pass through the
 * switch unsegmented.  Frames we send are not looped back to us
 * (PACKET_IGNORE_OUTGOING), and the device is put in promiscuous mode and
 * brought up. */
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

/* Ring geometry.  A 2 KB slot holds any frame up to a 1500-byte MTU plus
 * tags; 4,096 RX slots (8 MB) ride out a few milliseconds of descheduling
 * at line rate for small frames. */
#define SLOT_SIZE 2048u
#define BLOCK_SIZE (64u * 1024)
#define RX_SLOTS 4096u
#define TX_SLOTS 1024u
#define RX_RING_SIZE ((size_t) RX_SLOTS * SLOT_SIZE)
#define TX_RING_SIZE ((size_t) TX_SLOTS * SLOT_SIZE)
#define RESERVE 16              /* Headroom to re-insert a VLAN tag. */
#define VNET_SIZE ((int) sizeof(struct virtio_net_hdr))
/* Where a TX slot's data (virtio-net header, then frame) starts. */
#define TX_DATA_OFS (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll))
#define TX_MAX_FRAME (SLOT_SIZE - TX_DATA_OFS - VNET_SIZE)

/* Frames taken with recvmsg() (TP_STATUS_COPY) land in these buffers:
 * allocated on first use, at most BIG_BUFS per batch, each grown to the
 * largest frame it has had to hold.  A TSO super-frame is at most 64 KB,
 * unless the sending host raised gso_max_size (BIG TCP): then up to the
 * kernel's GSO_MAX_SIZE, 512 KB.  Anything longer is dropped. */
#define BIG_BUFS 32
#define BIG_HEADROOM 8          /* Room to re-insert a VLAN tag. */
#define BIG_MIN_SIZE (65536 + 1024)
#define BIG_MAX_FRAME (512u * 1024)

struct system_port {
    struct dp_port up;
    int fd;
    uint8_t *map;               /* RX ring, then TX ring. */
    size_t map_size;

    /* RX (the one polling thread only). */
    unsigned int rx_cur;        /* Next slot to read. */
    unsigned int rx_held;       /* Slots read and not yet given back. */
    uint8_t *big[BIG_BUFS];
    size_t big_size[BIG_BUFS];  /* Bytes allocated for big[i]. */

    /* TX (any thread, serialised by tx_mutex). */
    pthread_mutex_t tx_mutex;
    unsigned int tx_cur;        /* Next slot to fill; the kernel's head. */
    int ifindex;
    int big_fd;                 /* Send-only socket for big frames, or -1. */
    bool use_qdisc;             /* Kernel QoS: no PACKET_QDISC_BYPASS. */
    _Atomic unsigned int mtu;   /* Device MTU, refreshed with the stats. */

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
get_mtu(int fd, const char *name, _Atomic unsigned int *mtu)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ioctl(fd, SIOCGIFMTU, &ifr)) {
        return errno;
    }
    atomic_store_explicit(mtu, (unsigned int) ifr.ifr_mtu,
                          memory_order_relaxed);
    return 0;
}

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
set_ring(int fd, int which, unsigned int n_slots)
{
    struct tpacket_req req;
    memset(&req, 0, sizeof req);
    req.tp_block_size = BLOCK_SIZE;
    req.tp_block_nr = n_slots * SLOT_SIZE / BLOCK_SIZE;
    req.tp_frame_size = SLOT_SIZE;
    req.tp_frame_nr = n_slots;
    return setsockopt(fd, SOL_PACKET, which, &req, sizeof req) ? errno : 0;
}

/* Socket buffers: the receive side holds the frames too big for a slot,
 * the send side bounds frames in flight.  Root may exceed the sysctl
 * limits (the *FORCE options); otherwise take what the kernel allows. */
static void
set_bufsize(int fd, int force, int plain, int size)
{
    if (setopt(fd, SOL_SOCKET, force, size)) {
        setopt(fd, SOL_SOCKET, plain, size);
    }
}

static int
setup_socket(struct system_port *sp, const char *name)
{
    int ifindex = (int) if_nametoindex(name);
    if (!ifindex) {
        return ENODEV;
    }
    sp->ifindex = ifindex;
    int fd = sp->fd;
    int error = setopt(fd, SOL_PACKET, PACKET_VNET_HDR, 1);
    error = error ? error : setopt(fd, SOL_PACKET, PACKET_VERSION, TPACKET_V2);
    error = error ? error : setopt(fd, SOL_PACKET, PACKET_RESERVE, RESERVE);
    error = error ? error : setopt(fd, SOL_PACKET, PACKET_COPY_THRESH, 1);
    error = error ? error : setopt(fd, SOL_PACKET, PACKET_AUXDATA, 1);
    /* A malformed TX slot is skipped instead of stalling the ring. */
    error = error ? error : setopt(fd, SOL_PACKET, PACKET_LOSS, 1);
    error = error ? error : set_ring(fd, PACKET_RX_RING, RX_SLOTS);
    error = error ? error : set_ring(fd, PACKET_TX_RING, TX_SLOTS);
    if (error) {
        return error;
    }
    set_bufsize(fd, SO_RCVBUFFORCE, SO_RCVBUF, 8 << 20);
    set_bufsize(fd, SO_SNDBUFFORCE, SO_SNDBUF, 4 << 20);
    sp->map_size = RX_RING_SIZE + TX_RING_SIZE;
    sp->map = mmap(NULL, sp->map_size, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_POPULATE, fd, 0);
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
    struct packet_mreq mr;
    memset(&mr, 0, sizeof mr);
    mr.mr_ifindex = ifindex;
    mr.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr)) {
        return errno;
    }
    error = get_mtu(fd, name, &sp->mtu);
    return error ? error : set_up(fd, name);
}

static void
system_free(struct system_port *sp)
{
    if (sp->map) {
        munmap(sp->map, sp->map_size);
    }
    if (sp->fd >= 0) {
        close(sp->fd);
    }
    if (sp->big_fd >= 0) {
        close(sp->big_fd);
    }
    for (int i = 0; i < BIG_BUFS; i++) {
        free(sp->big[i]);
    }
    pthread_mutex_destroy(&sp->tx_mutex);
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
    pthread_mutex_init(&sp->tx_mutex, NULL);
    pthread_mutex_init(&sp->stats_mutex, NULL);
    sp->big_fd = -1;
    sp->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int error = sp->fd < 0 ? errno : setup_socket(sp, name);
    if (error) {
        system_free(sp);
        return error;
    }
    *portp = &sp->up;
    return 0;
}

/* ---- RX ---- */

static struct tpacket2_hdr *
rx_slot(const struct system_port *sp, unsigned int i)
{
    return (struct tpacket2_hdr *) (sp->map + (size_t) i * SLOT_SIZE);
}

static uint32_t
slot_status(const struct tpacket2_hdr *h)
{
    return __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
}

static void
set_slot_status(struct tpacket2_hdr *h, uint32_t status)
{
    __atomic_store_n(&h->tp_status, status, __ATOMIC_RELEASE);
}

/* Gives the slots of the previous batch back to the kernel. */
static void
release_rx(struct system_port *sp)
{
    unsigned int i = (sp->rx_cur + RX_SLOTS - sp->rx_held) % RX_SLOTS;
    for (; sp->rx_held; sp->rx_held--) {
        set_slot_status(rx_slot(sp, i), TP_STATUS_KERNEL);
        i = (i + 1) % RX_SLOTS;
    }
}

/* Puts the tag the device stripped into metadata back in front of the type
 * field of the frame at *MAC (headroom must exist), adjusting *SIZE and a
 * checksum-partial offset. */
static void
reinsert_tag(uint8_t **mac, uint32_t *size, struct virtio_net_hdr *vnet,
             uint16_t tpid, uint16_t tci)
{
    uint8_t *p = *mac - 4;
    memmove(p, *mac, 12);
    p[12] = (uint8_t) (tpid >> 8);
    p[13] = (uint8_t) tpid;
    p[14] = (uint8_t) (tci >> 8);
    p[15] = (uint8_t) tci;
    *mac = p;
    *size += 4;
    if (vnet->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        vnet->csum_start = (uint16_t) (vnet->csum_start + 4);
    }
}

static uint16_t
tag_tpid(uint32_t status, uint16_t tpid)
{
    return status & TP_STATUS_VLAN_TPID_VALID ? tpid : ETH_P_8021Q;
}

/* Turns ring slot H into *PKT.  Returns false if it must be dropped. */
static bool
take_slot(struct system_port *sp, struct tpacket2_hdr *h, uint32_t status,
          struct dp_packet *pkt)
{
    uint8_t *mac = (uint8_t *) h + h->tp_mac;
    uint32_t size = h->tp_snaplen;
    if (h->tp_snaplen < h->tp_len || size < 12) {
        dp_port_count(&sp->up.rx_dropped, 1);
        return false;
    }
    memcpy(&pkt->vnet, mac - VNET_SIZE, VNET_SIZE);
    if (status & TP_STATUS_VLAN_VALID) {
        reinsert_tag(&mac, &size, &pkt->vnet,
                     tag_tpid(status, h->tp_vlan_tpid), h->tp_vlan_tci);
    }
    pkt->data = mac;
    pkt->size = size;
    pkt->has_vnet = true;
    return true;
}

/* Receives the frame queued behind a TP_STATUS_COPY slot into big buffer
 * BUF (BUF_SIZE bytes).  Returns false if it must be dropped (it is taken off
 * the queue all the same, so that the next TP_STATUS_COPY slot finds its
 * own frame). */
static bool
take_queued(struct system_port *sp, uint8_t *buf, size_t buf_size,
            struct dp_packet *pkt)
{
    union {
        struct cmsghdr align;
        uint8_t buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
    } control;
    uint8_t *mac = buf + BIG_HEADROOM;
    struct iovec iov[2] = {
        { &pkt->vnet, VNET_SIZE },
        { mac, buf_size - BIG_HEADROOM },
    };
    struct msghdr msg = {
        .msg_iov = iov, .msg_iovlen = 2,
        .msg_control = &control, .msg_controllen = sizeof control,
    };
    ssize_t r = recvmsg(sp->fd, &msg, MSG_DONTWAIT | MSG_TRUNC);
    if (r < VNET_SIZE + 12 || (msg.msg_flags & MSG_TRUNC)) {
        dp_port_count(&sp->up.rx_dropped, 1);
        return false;
    }
    uint32_t size = (uint32_t) (r - VNET_SIZE);
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    if (cm && cm->cmsg_level == SOL_PACKET && cm->cmsg_type == PACKET_AUXDATA
        && cm->cmsg_len >= CMSG_LEN(sizeof(struct tpacket_auxdata))) {
        struct tpacket_auxdata aux;
        memcpy(&aux, CMSG_DATA(cm), sizeof aux);
        if (aux.tp_status & TP_STATUS_VLAN_VALID) {
            reinsert_tag(&mac, &size, &pkt->vnet,
                         tag_tpid(aux.tp_status, aux.tp_vlan_tpid),
                         aux.tp_vlan_tci);
        }
    }
    pkt->data = mac;
    pkt->size = size;
    pkt->has_vnet = true;
    return true;
}

/* Big buffer I, grown if need be to hold a FRAME_LEN-byte frame (capped
 * at BIG_MAX_FRAME: take_queued() drops what does not fit).  Its size goes
 * to *SIZE. */
static uint8_t *
big_buf(struct system_port *sp, int i, uint32_t frame_len, size_t *size)
{
    size_t need = BIG_HEADROOM + (size_t) MIN(frame_len, BIG_MAX_FRAME);
    if (sp->big_size[i] < need) {
        size_t grown = MAX(need, BIG_MIN_SIZE);
        free(sp->big[i]);
        sp->big[i] = xmalloc(grown);
        sp->big_size[i] = grown;
    }
    *size = sp->big_size[i];
    return sp->big[i];
}

static int
system_rx_batch(struct dp_port *port, struct dp_packet *pkts, int max)
{
    struct system_port *sp = system_cast(port);
    uint64_t bytes = 0;
    int n = 0, n_big = 0;

    release_rx(sp);
    while (n < max) {
        struct tpacket2_hdr *h = rx_slot(sp, sp->rx_cur);
        uint32_t status = slot_status(h);
        if (!(status & TP_STATUS_USER)) {
            break;
        }
        if ((status & TP_STATUS_COPY) && n_big == BIG_BUFS) {
            break;              /* Out of big buffers: next batch. */
        }
        __builtin_prefetch(rx_slot(sp, (sp->rx_cur + 1) % RX_SLOTS));
        sp->rx_cur = (sp->rx_cur + 1) % RX_SLOTS;
        sp->rx_held++;
        bool ok;
        if (status & TP_STATUS_COPY) {
            size_t size;
            uint8_t *buf = big_buf(sp, n_big++, h->tp_len, &size);
            ok = take_queued(sp, buf, size, &pkts[n]);
        } else {
            ok = take_slot(sp, h, status, &pkts[n]);
        }
        if (ok) {
            bytes += pkts[n].size;
            n++;
        }
    }
    if (n) {
        dp_port_count(&port->rx_packets, (uint64_t) n);
        dp_port_count(&port->rx_bytes, bytes);
    }
    return n;
}

/* ---- TX ---- */

static struct tpacket2_hdr *
tx_slot(const struct system_port *sp, unsigned int i)
{
    return (struct tpacket2_hdr *) (sp->map + RX_RING_SIZE
                                    + (size_t) i * SLOT_SIZE);
}

/* The virtio-net header to send TXD with. */
static void
tx_vnet(const struct dp_txd *t, struct virtio_net_hdr *vh)
{
    const struct dp_packet *pkt = t->pkt;
    if (pkt->has_vnet) {
        *vh = pkt->vnet;
        if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
            vh->csum_start = (uint16_t) (vh->csum_start + t->vnet_delta);
        }
    } else {
        memset(vh, 0, sizeof *vh);
    }
}

/* Whether TXD goes through the TX ring: it fits a slot and is no longer
 * than the MTU allows (unless it is a GSO frame).  The ring path has no
 * MTU check of its own, so anything longer takes sendmsg(), which rejects
 * it and lets us count the error as before. */
static bool
fits_ring(struct system_port *sp, const struct dp_txd *t, size_t size)
{
    if (size > TX_MAX_FRAME) {
        return false;
    }
    bool gso = t->pkt->has_vnet
               && t->pkt->vnet.gso_type != VIRTIO_NET_HDR_GSO_NONE;
    return gso || size <= atomic_load_explicit(&sp->mtu, memory_order_relaxed)
                              + ETH_HLEN;
}

/* The send-only socket for frames that do not fit a TX slot, opened on
 * first use.  Returns -1 (errno set) if it cannot be opened. */
static int
big_fd(struct system_port *sp)
{
    if (sp->big_fd >= 0) {
        return sp->big_fd;
    }
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = 0;       /* Send only: receive nothing. */
    sll.sll_ifindex = sp->ifindex;
    if (fd < 0 || setopt(fd, SOL_PACKET, PACKET_VNET_HDR, 1)
        || bind(fd, (struct sockaddr *) &sll, sizeof sll)) {
        int error = errno;
        if (fd >= 0) {
            close(fd);
        }
        errno = error;
        return -1;
    }
    setopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, !sp->use_qdisc);
    set_bufsize(fd, SO_SNDBUFFORCE, SO_SNDBUF, 4 << 20);
    sp->big_fd = fd;
    return fd;
}

/* Sends one frame with sendmsg(): 1 sent, 0 dropped (socket buffer full),
 * -1 error. */
static int
send_one(struct system_port *sp, const struct dp_txd *t)
{
    int fd = big_fd(sp);
    if (fd < 0) {
        return -1;
    }
    struct virtio_net_hdr vh;
    struct iovec iov[3];
    int k = 0;
    tx_vnet(t, &vh);
    iov[k++] = (struct iovec) { &vh, sizeof vh };
    if (t->hdr_len) {
        iov[k++] = (struct iovec) { (void *) t->hdr, t->hdr_len };
    }
    iov[k++] = (struct iovec) { t->pkt->data + t->rest_ofs,
                                t->pkt->size - t->rest_ofs };
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t) k };
    for (;;) {
        if (sendmsg(fd, &msg, MSG_DONTWAIT) >= 0) {
            return 1;
        } else if (errno == EAGAIN || errno == ENOBUFS) {
            return 0;
        } else if (errno != EINTR) {
            return -1;
        }
    }
}

/* Fills TX slot H with TXD (SIZE bytes on the wire). */
static void
fill_slot(struct tpacket2_hdr *h, const struct dp_txd *t, size_t size)
{
    uint8_t *p = (uint8_t *) h + TX_DATA_OFS;
    struct virtio_net_hdr vh;
    tx_vnet(t, &vh);
    if (vh.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
        /* The kernel copies hdr_len bytes into the new buffer and attaches
         * the rest as pages of our ring, which it must copy again when the
         * frame crosses a namespace.  Small frames: copy all at once. */
        vh.hdr_len = (uint16_t) size;
    }
    memcpy(p, &vh, sizeof vh);
    p += sizeof vh;
    memcpy(p, t->hdr, t->hdr_len);
    memcpy(p + t->hdr_len, t->pkt->data + t->rest_ofs,
           t->pkt->size - t->rest_ofs);
    h->tp_len = (uint32_t) (size + sizeof vh);
    set_slot_status(h, TP_STATUS_SEND_REQUEST);
}

struct tx_count {
    uint64_t packets, bytes, dropped, errors;
};

/* Asks the kernel to send the N_QUEUED slots filled before 'tx_cur', whose
 * frames total BYTES.  Slots the kernel did not take (socket buffer full,
 * device down) are taken back and counted, and 'tx_cur' rewinds to the
 * first of them, which is where the kernel will look next. */
static void
flush_ring(struct system_port *sp, unsigned int n_queued, uint64_t bytes,
           struct tx_count *c)
{
    if (!n_queued) {
        return;
    }
    int error = 0;
    while (send(sp->fd, NULL, 0, MSG_DONTWAIT) < 0) {
        if (errno != EINTR) {
            error = errno;
            break;
        }
    }
    unsigned int first = (sp->tx_cur + TX_SLOTS - n_queued) % TX_SLOTS;
    unsigned int n_left = 0;
    for (unsigned int k = n_queued; k-- > 0;) {
        struct tpacket2_hdr *h = tx_slot(sp, (first + k) % TX_SLOTS);
        if (slot_status(h) != TP_STATUS_SEND_REQUEST) {
            break;              /* The kernel takes slots in order. */
        }
        bytes -= h->tp_len - VNET_SIZE;
        set_slot_status(h, TP_STATUS_AVAILABLE);
        n_left++;
    }
    if (n_left) {
        sp->tx_cur = (sp->tx_cur + TX_SLOTS - n_left) % TX_SLOTS;
        bool full = !error || error == EAGAIN || error == ENOBUFS;
        *(full ? &c->dropped : &c->errors) += n_left;
    }
    c->packets += n_queued - n_left;
    c->bytes += bytes;
}

static void
system_tx_batch(struct dp_port *port, const struct dp_txd *txds, int n)
{
    struct system_port *sp = system_cast(port);
    struct tx_count c = { 0, 0, 0, 0 };
    unsigned int n_queued = 0;
    uint64_t queued_bytes = 0;

    pthread_mutex_lock(&sp->tx_mutex);
    for (int i = 0; i < n; i++) {
        const struct dp_txd *t = &txds[i];
        size_t size = fwd_txd_size(t);
        if (fits_ring(sp, t, size)) {
            struct tpacket2_hdr *h = tx_slot(sp, sp->tx_cur);
            if (slot_status(h) != TP_STATUS_AVAILABLE) {
                /* Ring full of frames still in flight. */
                c.dropped++;
                continue;
            }
            fill_slot(h, t, size);
            sp->tx_cur = (sp->tx_cur + 1) % TX_SLOTS;
            n_queued++;
            queued_bytes += size;
            continue;
        }
        flush_ring(sp, n_queued, queued_bytes, &c);
        n_queued = 0;
        queued_bytes = 0;
        int r = send_one(sp, t);
        if (r > 0) {
            c.packets++;
            c.bytes += size;
        } else {
            *(r ? &c.errors : &c.dropped) += 1;
        }
    }
    flush_ring(sp, n_queued, queued_bytes, &c);
    pthread_mutex_unlock(&sp->tx_mutex);

    dp_port_count(&port->tx_packets, c.packets);
    dp_port_count(&port->tx_bytes, c.bytes);
    if (c.dropped) {
        dp_port_count(&port->tx_dropped, c.dropped);
    }
    if (c.errors) {
        dp_port_count(&port->tx_errors, c.errors);
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
    struct tpacket_stats st;
    socklen_t len = sizeof st;
    pthread_mutex_lock(&sp->stats_mutex);
    /* The kernel resets these counters on every read: accumulate. */
    if (!getsockopt(sp->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len)) {
        sp->kernel_drops += st.tp_drops;
    }
    get_mtu(sp->fd, port->name, &sp->mtu);  /* mtu_request may change it. */
    s->rx_dropped += sp->kernel_drops;
    pthread_mutex_unlock(&sp->stats_mutex);
}

static void
system_close(struct dp_port *port)
{
    system_free(system_cast(port));
}

int
dp_port_set_use_qdisc(struct dp_port *port, bool use)
{
    if (port->class != &dp_port_system_class) {
        return 0;
    }
    struct system_port *sp = system_cast(port);
    pthread_mutex_lock(&sp->tx_mutex);
    sp->use_qdisc = use;
    int error = setopt(sp->fd, SOL_PACKET, PACKET_QDISC_BYPASS, !use);
    if (!error && sp->big_fd >= 0) {
        error = setopt(sp->big_fd, SOL_PACKET, PACKET_QDISC_BYPASS, !use);
    }
    pthread_mutex_unlock(&sp->tx_mutex);
    return error;
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
