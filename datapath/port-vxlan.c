/* "vxlan" ports: VXLAN tunnels through the host's own IP stack.
 *
 * Receive: every tunnel on the same (address family, UDP port) shares one
 * "endpoint": a UDP socket bound to the wildcard address and that port.
 * Whichever tunnel port is polled reads a batch from the socket (under the
 * endpoint's mutex), and hands each datagram to the tunnel configured for
 * its (source address, VNI [, destination address]) by queueing it on
 * that port and, if the port belongs to another thread, signalling its
 * eventfd.  With UDP GRO one message may hold a run of datagrams; each is
 * demultiplexed on its own and they share the buffer by reference count.  A port's poll descriptor is an epoll set of the shared socket
 * and its own eventfd.  Datagrams nobody is configured for, malformed
 * headers and oversize datagrams are dropped and counted on the endpoint
 * (shown by dp_vxlan_format_endpoints()).  Buffers come from a bounded
 * per-endpoint pool: under pressure the socket is simply not read, so the
 * kernel's socket buffer absorbs (and counts) the excess.
 *
 * Transmit: each tunnel has its own unconnected UDP socket on an ephemeral
 * port (the VXLAN source port carries no meaning for receivers), so TTL,
 * TOS, DF and UDP checksum are plain socket options, and routing,
 * neighbour resolution and source address selection are the host's.
 * Frames with offload metadata (TSO super-frames, partial checksums) are
 * segmented and checksummed in software (gso.h) first, because nothing
 * below a UDP socket would do it for the inner frame: only each segment's
 * headers are written, its payload is gathered from the frame by I/O
 * vector; with UDP checksums on the segments of one frame leave as UDP
 * GSO runs.  On receive, runs of
 * in-order TCP segments are merged back into super-frames and inner
 * checksums a local sender left partial are repaired (gso.h).  A frame
 * that does
 * not fit the path MTU with DF set fails with EMSGSIZE and is counted as
 * tx_dropped; with df_default=false the host fragments it instead. */
#include "port.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ds.h"
#include "forward.h"
#include "gso.h"
#include "hash.h"
#include "hmap.h"
#include "list.h"
#include "util.h"
#include "vxlan.h"

#ifndef UDP_NO_CHECK6_TX
#define UDP_NO_CHECK6_TX 101
#endif

/* A datagram can be as large as UDP allows: a sender on the same machine
 * hands over unsegmented GSO super-frames, and reassembled fragments can
 * exceed any MTU.  Pages of a buffer are touched only as far as datagrams
 * fill them. */
#define RXBUF_SIZE 65536
#define EP_MAX_BUFS 256         /* Pool bound per endpoint. */
#define EP_READ_BATCH 32
/* A port's queue takes what one read can bring for it: with UDP GRO up to
 * 64 datagrams per message. */
#define GRO_MAX_SEGS 64
#define PORT_RXQ_LEN 4096
#define PORT_RX_MAX 256         /* Datagrams per rx_batch(): several runs. */
#define CO_BUFS 8               /* Super-frames per rx_batch(). */
#define CO_BUF_SIZE (65536 + 256)
#define TX_BATCH 64
/* I/O vectors of one flush: three per datagram (VXLAN header, inner
 * headers, payload), so a few full UDP GSO runs. */
#define TX_IOVS 2048
#define TX_ARENA_SIZE (256 * 1024)
#define GSO_SRC_SIZE (65536 + 256)
#define SOCK_BUF_SIZE (4 * 1024 * 1024)
/* UDP GSO (UDP_SEGMENT): the kernel's limit on segments per send, and a
 * total that keeps the unsegmented datagram within IP's 64 KB. */
#define UDP_GSO_MAX_SEGS 64
#define UDP_GSO_MAX_BYTES 65000

struct rxbuf {
    struct rxbuf *next;         /* In the endpoint's free list. */
    uint32_t size;
    uint32_t refcnt;            /* Datagrams of it queued or lent. */
    uint8_t data[RXBUF_SIZE];
};

/* One datagram: with UDP GRO one buffer holds a run of them. */
struct rxseg {
    struct rxbuf *b;
    uint32_t ofs, size;
};

struct vxlan_endpoint {
    struct list_node node;      /* In 'endpoints'. */
    int family;
    uint16_t port;
    int fd;
    unsigned int refcount;      /* Guarded by registry_mutex. */
    pthread_mutex_t mutex;      /* Guards everything below. */
    struct hmap tunnels;        /* struct vxlan_port, by remote and VNI. */
    struct hmap by_remote;      /* struct vxlan_port, by remote only. */
    struct rxbuf *free;
    unsigned int n_bufs;
    _Atomic uint64_t n_rx, n_unknown, n_malformed, n_oversize;
};

struct vxlan_port {
    struct dp_port up;
    struct vxlan_config cfg;
    struct vxlan_endpoint *ep;
    struct hmap_node ep_node;   /* In ep->tunnels. */
    struct hmap_node remote_node;   /* In ep->by_remote. */
    int tx_fd;
    int efd;                    /* Frames queued by another thread. */
    bool efd_signalled;         /* Guarded by ep->mutex. */
    int poll_fd;                /* epoll: ep->fd and efd. */
    uint8_t hdr[VXLAN_HLEN];
    struct sockaddr_storage dst;
    socklen_t dst_len;

    /* Receive side, guarded by ep->mutex. */
    struct rxseg rxq[PORT_RXQ_LEN];
    unsigned int head, tail;    /* Free-running. */
    struct rxbuf *lent[PORT_RX_MAX];
    unsigned int n_lent;
    uint8_t *co_bufs[CO_BUFS];  /* Coalesced super-frames, lent too. */

    /* Transmit side, guarded by tx_mutex. */
    pthread_mutex_t tx_mutex;
    uint8_t *arena;             /* Segments made by gso_next(). */
    size_t arena_used;
    uint8_t *gso_src;           /* An offloaded frame, linearised. */
    unsigned int n_msgs;
    struct mmsghdr msgs[TX_BATCH];
    struct iovec iovs[TX_IOVS];
    unsigned int n_iovs;
    bool gso_src_busy;          /* Queued messages point into gso_src. */
    uint32_t inner_size[TX_BATCH];
    uint16_t n_pkts[TX_BATCH];  /* Datagrams per message (UDP GSO). */
    union {
        char buf[3 * CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } cmsg[TX_BATCH];
    /* Whether UDP GSO may be used: the kernel refuses it without UDP
     * checksums, and an old kernel or a path without segmentation (e.g.
     * IPsec) may refuse it at all (then it is switched off for good). */
    _Atomic bool udp_gso;
};

static struct list_node endpoints = LIST_INITIALIZER(&endpoints);
static pthread_mutex_t registry_mutex = PTHREAD_MUTEX_INITIALIZER;

static struct vxlan_port *
vxlan_cast(const struct dp_port *port)
{
    return CONTAINER_OF(port, struct vxlan_port, up);
}

static uint32_t
tunnel_hash(const struct vxlan_addr *remote, uint32_t vni)
{
    return hash_bytes(&remote->a, sizeof remote->a, vni);
}

/* ---- Endpoints. ---- */

static int
set_int(int fd, int level, int name, int value)
{
    return setsockopt(fd, level, name, &value, sizeof value) ? errno : 0;
}

static void
set_buffer(int fd, int force, int plain)
{
    if (set_int(fd, SOL_SOCKET, force, SOCK_BUF_SIZE)) {
        set_int(fd, SOL_SOCKET, plain, SOCK_BUF_SIZE);
    }
}

static int
endpoint_socket(int family, uint16_t port, int *fdp)
{
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return errno;
    }
    int error;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *) &ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        error = set_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        error = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
        if (!error) {
            error = set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
        }
    }
    set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF);
    /* Runs of datagrams from one sender arrive as one message (best
     * effort: older kernels lack it). */
    set_int(fd, SOL_UDP, UDP_GRO, 1);
    if (!error && bind(fd, (struct sockaddr *) &ss, sizeof ss)) {
        error = errno;
    }
    if (error) {
        close(fd);
        return error;
    }
    *fdp = fd;
    return 0;
}

/* Takes a reference to the endpoint for FAMILY and PORT, creating it. */
static int
endpoint_ref(int family, uint16_t port, struct vxlan_endpoint **epp)
{
    int error = 0;
    pthread_mutex_lock(&registry_mutex);
    struct vxlan_endpoint *ep;
    LIST_FOR_EACH (ep, node, &endpoints) {
        if (ep->family == family && ep->port == port) {
            ep->refcount++;
            goto out;
        }
    }
    int fd = -1;
    error = endpoint_socket(family, port, &fd);
    if (error) {
        ep = NULL;
        goto out;
    }
    ep = xzalloc(sizeof *ep);
    ep->family = family;
    ep->port = port;
    ep->fd = fd;
    ep->refcount = 1;
    pthread_mutex_init(&ep->mutex, NULL);
    hmap_init(&ep->tunnels);
    hmap_init(&ep->by_remote);
    list_push_back(&endpoints, &ep->node);
out:
    pthread_mutex_unlock(&registry_mutex);
    *epp = ep;
    return error;
}

static void
endpoint_unref(struct vxlan_endpoint *ep)
{
    pthread_mutex_lock(&registry_mutex);
    bool last = !--ep->refcount;
    if (last) {
        list_remove(&ep->node);
    }
    pthread_mutex_unlock(&registry_mutex);
    if (!last) {
        return;
    }
    close(ep->fd);
    while (ep->free) {
        struct rxbuf *b = ep->free;
        ep->free = b->next;
        free(b);
    }
    hmap_destroy(&ep->tunnels);
    hmap_destroy(&ep->by_remote);
    pthread_mutex_destroy(&ep->mutex);
    free(ep);
}

/* Buffer pool, with ep->mutex held. */
static struct rxbuf *
buf_get(struct vxlan_endpoint *ep)
{
    struct rxbuf *b = ep->free;
    if (b) {
        ep->free = b->next;
    } else if (ep->n_bufs < EP_MAX_BUFS) {
        b = xmalloc(sizeof *b);
        ep->n_bufs++;
    }
    return b;
}

static void
buf_put(struct vxlan_endpoint *ep, struct rxbuf *b)
{
    b->next = ep->free;
    ep->free = b;
}

/* Drops one datagram's reference to B. */
static void
buf_unref(struct vxlan_endpoint *ep, struct rxbuf *b)
{
    if (!--b->refcnt) {
        buf_put(ep, b);
    }
}

/* The source and destination addresses of a received datagram. */
static void
msg_addrs(const struct vxlan_endpoint *ep, const struct msghdr *msg,
          struct vxlan_addr *src, struct vxlan_addr *dst)
{
    memset(src, 0, sizeof *src);
    memset(dst, 0, sizeof *dst);
    src->family = dst->family = ep->family;
    if (ep->family == AF_INET) {
        const struct sockaddr_in *sin = msg->msg_name;
        src->a.s6_addr[10] = src->a.s6_addr[11] = 0xff;
        memcpy(&src->a.s6_addr[12], &sin->sin_addr, 4);
    } else {
        const struct sockaddr_in6 *sin6 = msg->msg_name;
        src->a = sin6->sin6_addr;
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c;
         c = CMSG_NXTHDR((struct msghdr *) msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            dst->a.s6_addr[10] = dst->a.s6_addr[11] = 0xff;
            memcpy(&dst->a.s6_addr[12], &pi.ipi_addr, 4);
        } else if (c->cmsg_level == IPPROTO_IPV6
                   && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            dst->a = pi.ipi6_addr;
        }
    }
}

/* The tunnel for a datagram from SRC to DST with VNI: one bound to DST if
 * any, else one bound to no local address. */
static struct vxlan_port *
endpoint_lookup(const struct vxlan_endpoint *ep, const struct vxlan_addr *src,
                const struct vxlan_addr *dst, uint32_t vni)
{
    struct vxlan_port *vp, *any = NULL;
    HMAP_FOR_EACH_WITH_HASH (vp, ep_node, tunnel_hash(src, vni),
                             &ep->tunnels) {
        if (vp->cfg.in_key != vni || !vxlan_addr_equals(&vp->cfg.remote, src)) {
            continue;
        }
        if (!vp->cfg.local.family) {
            any = vp;
        } else if (vxlan_addr_equals(&vp->cfg.local, dst)) {
            return vp;
        }
    }
    return any;
}

static void
signal_efd(int efd)
{
    uint64_t one = 1;
    if (write(efd, &one, sizeof one) < 0) {
        /* Saturated: readable anyway. */
    }
}

/* The UDP GRO segment size of a received message, 0 if none. */
static int
msg_gro_size(const struct msghdr *msg)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c;
         c = CMSG_NXTHDR((struct msghdr *) msg, c)) {
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
            int size;
            memcpy(&size, CMSG_DATA(c), sizeof size);
            return size > 0 ? size : 0;
        }
    }
    return 0;
}

/* A datagram from SRC with a VNI no tunnel expects: if a tunnel to SRC
 * exists (a VNI mismatch rather than a stranger), it is also counted in
 * that tunnel's rx_errors, so that Interface.statistics shows it. */
static void
count_wrong_vni(const struct vxlan_endpoint *ep, const struct vxlan_addr *src)
{
    struct vxlan_port *vp;
    HMAP_FOR_EACH_WITH_HASH (vp, remote_node, tunnel_hash(src, 0),
                             &ep->by_remote) {
        if (vxlan_addr_equals(&vp->cfg.remote, src)) {
            dp_port_count(&vp->up.rx_errors, 1);
            return;
        }
    }
}

/* The last lookup of one message's run of datagrams, which share their
 * addresses and mostly their VNI. */
struct demux_cache {
    bool valid;
    uint32_t vni;
    struct vxlan_port *vp;
};

/* Queues the datagram at B->data + OFS (SIZE bytes) from SRC to DST on the
 * tunnel it is for, or drops it. */
static void
endpoint_demux_one(struct vxlan_endpoint *ep, struct rxbuf *b, uint32_t ofs,
                   uint32_t size, const struct vxlan_addr *src,
                   const struct vxlan_addr *dst,
                   const struct vxlan_port *self, struct demux_cache *cache)
{
    uint32_t vni;
    if (vxlan_parse(b->data + ofs, size, &vni)) {
        atomic_fetch_add_explicit(&ep->n_malformed, 1, memory_order_relaxed);
        return;
    }
    if (!cache->valid || cache->vni != vni) {
        *cache = (struct demux_cache) {
            true, vni, endpoint_lookup(ep, src, dst, vni)
        };
    }
    struct vxlan_port *vp = cache->vp;
    if (!vp) {
        atomic_fetch_add_explicit(&ep->n_unknown, 1, memory_order_relaxed);
        count_wrong_vni(ep, src);
        return;
    }
    if (vp->tail - vp->head >= PORT_RXQ_LEN) {
        dp_port_count(&vp->up.rx_dropped, 1);
        return;
    }
    bool was_empty = vp->tail == vp->head;
    vp->rxq[vp->tail++ % PORT_RXQ_LEN] = (struct rxseg) { b, ofs, size };
    b->refcnt++;
    if (was_empty && vp != self && !vp->efd_signalled) {
        vp->efd_signalled = true;
        signal_efd(vp->efd);
    }
}

/* Distributes the datagram(s) in B: one, or with UDP GRO a run of
 * equal-sized ones (the last may be shorter), each demultiplexed on its
 * own since GRO merges by UDP addresses and ports, not by VNI.  Returns
 * how many datagrams B held. */
static unsigned int
endpoint_demux(struct vxlan_endpoint *ep, struct rxbuf *b,
               const struct msghdr *msg, const struct vxlan_port *self)
{
    if (msg->msg_flags & MSG_TRUNC) {
        atomic_fetch_add_explicit(&ep->n_oversize, 1, memory_order_relaxed);
        buf_put(ep, b);
        return 1;
    }
    struct vxlan_addr src, dst;
    msg_addrs(ep, msg, &src, &dst);
    uint32_t seg = (uint32_t) msg_gro_size(msg);
    if (!seg || seg > b->size) {
        seg = b->size;
    }
    unsigned int n = 0;
    struct demux_cache cache = { .valid = false };
    b->refcnt = 1;              /* Held while distributing. */
    for (uint32_t ofs = 0; ofs < b->size || !n; ofs += seg, n++) {
        uint32_t size = MIN(seg, b->size - ofs);
        endpoint_demux_one(ep, b, ofs, size, &src, &dst, self, &cache);
    }
    buf_unref(ep, b);
    return n;
}

/* Reads one batch from the endpoint's socket and distributes it.  With
 * ep->mutex held. */
static void
endpoint_read(struct vxlan_endpoint *ep, const struct vxlan_port *self)
{
    struct rxbuf *bufs[EP_READ_BATCH];
    struct mmsghdr msgs[EP_READ_BATCH];
    struct iovec iov[EP_READ_BATCH];
    struct sockaddr_in6 names[EP_READ_BATCH];
    union {
        char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))
                 + CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctrl[EP_READ_BATCH];
    unsigned int n = 0;
    while (n < EP_READ_BATCH && (bufs[n] = buf_get(ep)) != NULL) {
        iov[n] = (struct iovec) { bufs[n]->data, RXBUF_SIZE };
        memset(&msgs[n], 0, sizeof msgs[n]);
        msgs[n].msg_hdr.msg_name = &names[n];
        msgs[n].msg_hdr.msg_namelen = sizeof names[n];
        msgs[n].msg_hdr.msg_iov = &iov[n];
        msgs[n].msg_hdr.msg_iovlen = 1;
        msgs[n].msg_hdr.msg_control = ctrl[n].buf;
        msgs[n].msg_hdr.msg_controllen = sizeof ctrl[n].buf;
        n++;
    }
    int got = n ? recvmmsg(ep->fd, msgs, n, MSG_DONTWAIT, NULL) : 0;
    unsigned int k = 0;
    uint64_t n_dgrams = 0;
    for (; got > 0 && k < (unsigned int) got; k++) {
        bufs[k]->size = msgs[k].msg_len;
        n_dgrams += endpoint_demux(ep, bufs[k], &msgs[k].msg_hdr, self);
    }
    if (n_dgrams) {
        atomic_fetch_add_explicit(&ep->n_rx, n_dgrams, memory_order_relaxed);
    }
    for (; k < n; k++) {
        buf_put(ep, bufs[k]);
    }
}

/* ---- Transmit sockets. ---- */

static void
fill_sockaddr(const struct vxlan_addr *addr, uint16_t port,
              struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (addr->family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *) ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        memcpy(&sin->sin_addr, &addr->a.s6_addr[12], 4);
        *len = sizeof *sin;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        sin6->sin6_addr = addr->a;
        *len = sizeof *sin6;
    }
}

/* The outer-header socket options for CFG, one family's spelling or the
 * other's; TTL and TOS are left to the kernel when inherited. */
static int
tx_socket_options(int fd, const struct vxlan_config *cfg)
{
    bool v4 = cfg->remote.family == AF_INET;
    int ip = v4 ? IPPROTO_IP : IPPROTO_IPV6;
    const struct { bool wanted; int level, name, value; } opts[] = {
        { true, ip, v4 ? IP_MTU_DISCOVER : IPV6_MTU_DISCOVER,
          cfg->df ? (v4 ? IP_PMTUDISC_DO : IPV6_PMTUDISC_DO)
                  : (v4 ? IP_PMTUDISC_DONT : IPV6_PMTUDISC_DONT) },
        { cfg->ttl != VXLAN_TTL_INHERIT, ip,
          v4 ? IP_TTL : IPV6_UNICAST_HOPS, cfg->ttl },
        { cfg->tos != VXLAN_TOS_INHERIT, ip,
          v4 ? IP_TOS : IPV6_TCLASS, cfg->tos },
        { true, v4 ? SOL_SOCKET : IPPROTO_UDP,
          v4 ? SO_NO_CHECK : UDP_NO_CHECK6_TX, !cfg->csum },
        { cfg->local.family != 0, ip,
          v4 ? IP_FREEBIND : IPV6_FREEBIND, 1 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
        if (opts[i].wanted) {
            int error = set_int(fd, opts[i].level, opts[i].name,
                                opts[i].value);
            if (error) {
                return error;
            }
        }
    }
    return 0;
}

static int
tx_socket(const struct vxlan_config *cfg, int *fdp)
{
    int fd = socket(cfg->remote.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return errno;
    }
    int error = tx_socket_options(fd, cfg);
    set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF);
    /* Nothing is ever read from this socket. */
    set_int(fd, SOL_SOCKET, SO_RCVBUF, 1);
    if (!error && cfg->local.family) {
        struct sockaddr_storage ss;
        socklen_t len;
        fill_sockaddr(&cfg->local, 0, &ss, &len);
        if (bind(fd, (struct sockaddr *) &ss, len)) {
            error = errno;
        }
    }
    if (error) {
        close(fd);
        return error;
    }
    *fdp = fd;
    return 0;
}

/* ---- Class functions. ---- */

static int
poll_set(struct vxlan_port *vp)
{
    vp->poll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (vp->poll_fd < 0) {
        return errno;
    }
    struct epoll_event ev = { .events = EPOLLIN };
    if (epoll_ctl(vp->poll_fd, EPOLL_CTL_ADD, vp->ep->fd, &ev)
        || epoll_ctl(vp->poll_fd, EPOLL_CTL_ADD, vp->efd, &ev)) {
        return errno;
    }
    return 0;
}

static void
vxlan_free(struct vxlan_port *vp)
{
    if (vp->poll_fd >= 0) {
        close(vp->poll_fd);
    }
    if (vp->efd >= 0) {
        close(vp->efd);
    }
    if (vp->tx_fd >= 0) {
        close(vp->tx_fd);
    }
    if (vp->ep) {
        endpoint_unref(vp->ep);
    }
    pthread_mutex_destroy(&vp->tx_mutex);
    free(vp->arena);
    free(vp->gso_src);
    for (size_t i = 0; i < CO_BUFS; i++) {
        free(vp->co_bufs[i]);
    }
    dp_port_uninit(&vp->up);
    free(vp);
}

/* Adds VP to its endpoint's demultiplexing table, unless another tunnel
 * already receives the same (remote, VNI, local). */
static int
endpoint_attach(struct vxlan_port *vp)
{
    struct vxlan_endpoint *ep = vp->ep;
    int error = 0;
    pthread_mutex_lock(&ep->mutex);
    uint32_t hash = tunnel_hash(&vp->cfg.remote, vp->cfg.in_key);
    struct vxlan_port *other;
    HMAP_FOR_EACH_WITH_HASH (other, ep_node, hash, &ep->tunnels) {
        if (other->cfg.in_key == vp->cfg.in_key
            && vxlan_addr_equals(&other->cfg.remote, &vp->cfg.remote)
            && vxlan_addr_equals(&other->cfg.local, &vp->cfg.local)) {
            error = EADDRINUSE;
        }
    }
    if (!error) {
        hmap_insert(&ep->tunnels, &vp->ep_node, hash);
        hmap_insert(&ep->by_remote, &vp->remote_node,
                    tunnel_hash(&vp->cfg.remote, 0));
    }
    pthread_mutex_unlock(&ep->mutex);
    return error;
}

static int
vxlan_open(const char *name, const struct dp_port_options *options,
           struct dp_port **portp)
{
    if (!options->vxlan) {
        return EINVAL;
    }
    struct vxlan_port *vp = xzalloc(sizeof *vp);
    dp_port_init(&vp->up, &dp_port_vxlan_class, name);
    vp->cfg = *options->vxlan;
    vp->tx_fd = vp->efd = vp->poll_fd = -1;
    pthread_mutex_init(&vp->tx_mutex, NULL);
    vp->arena = xmalloc(TX_ARENA_SIZE);
    vp->gso_src = xmalloc(GSO_SRC_SIZE);
    vxlan_build(vp->hdr, vp->cfg.out_key);
    atomic_init(&vp->udp_gso, vp->cfg.csum);
    fill_sockaddr(&vp->cfg.remote, vp->cfg.dst_port, &vp->dst, &vp->dst_len);

    int error = endpoint_ref(vp->cfg.remote.family, vp->cfg.dst_port, &vp->ep);
    if (!error) {
        error = tx_socket(&vp->cfg, &vp->tx_fd);
    }
    if (!error) {
        vp->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        error = vp->efd < 0 ? errno : poll_set(vp);
    }
    if (!error) {
        error = endpoint_attach(vp);
    }
    if (error) {
        vxlan_free(vp);
        return error;
    }
    *portp = &vp->up;
    return 0;
}

static void
vxlan_close(struct dp_port *port)
{
    struct vxlan_port *vp = vxlan_cast(port);
    struct vxlan_endpoint *ep = vp->ep;
    pthread_mutex_lock(&ep->mutex);
    hmap_remove(&ep->tunnels, &vp->ep_node);
    hmap_remove(&ep->by_remote, &vp->remote_node);
    for (unsigned int i = 0; i < vp->n_lent; i++) {
        buf_unref(ep, vp->lent[i]);
    }
    while (vp->head != vp->tail) {
        buf_unref(ep, vp->rxq[vp->head++ % PORT_RXQ_LEN].b);
    }
    pthread_mutex_unlock(&ep->mutex);
    vxlan_free(vp);
}

/* Merges runs of consecutive TCP segments of one flow among the N frames
 * in PKTS into super-frames (in the port's coalescing buffers, which stay
 * valid until the next rx_batch()), repairs partial checksums of the
 * others, and returns how many frames remain. */
static int
rx_coalesce(struct vxlan_port *vp, struct dp_packet *pkts, int n)
{
    int out = 0, used = 0;
    for (int i = 0; i < n;) {
        struct gso_coalescer co;
        if (used < CO_BUFS && i + 1 < n) {
            if (!vp->co_bufs[used]) {
                vp->co_bufs[used] = xmalloc(CO_BUF_SIZE);
            }
            if (gso_coalesce_start(&co, vp->co_bufs[used], CO_BUF_SIZE,
                                   pkts[i].data, pkts[i].size)) {
                int j = i + 1;
                while (j < n && gso_coalesce_add(&co, pkts[j].data,
                                                 pkts[j].size)) {
                    j++;
                }
                if (co.n > 1) {
                    struct dp_packet *p = &pkts[out++];
                    p->data = vp->co_bufs[used++];
                    p->size = (uint32_t) gso_coalesce_finish(&co, &p->vnet);
                    p->has_vnet = true;
                    i = j;
                    continue;
                }
            }
        }
        pkts[out] = pkts[i++];
        pkts[out].has_vnet = gso_rx_offload(pkts[out].data, pkts[out].size,
                                            &pkts[out].vnet);
        out++;
    }
    return out;
}

static int
vxlan_rx_batch(struct dp_port *port, struct dp_packet *pkts, int max)
{
    struct vxlan_port *vp = vxlan_cast(port);
    struct vxlan_endpoint *ep = vp->ep;
    uint64_t v;
    pthread_mutex_lock(&ep->mutex);
    for (unsigned int i = 0; i < vp->n_lent; i++) {
        buf_unref(ep, vp->lent[i]);
    }
    vp->n_lent = 0;
    if (vp->efd_signalled) {
        /* Drained only when written: a read per poll pass is a system
         * call per pass. */
        vp->efd_signalled = false;
        if (read(vp->efd, &v, sizeof v) < 0) {
            /* Already drained. */
        }
    }
    if (vp->tail - vp->head < PORT_RX_MAX
        && PORT_RXQ_LEN - (vp->tail - vp->head)
           >= EP_READ_BATCH * GRO_MAX_SEGS) {
        endpoint_read(ep, vp);
    }
    int n = 0;
    uint64_t bytes = 0;
    while (n < max && n < PORT_RX_MAX && vp->head != vp->tail) {
        struct rxseg *seg = &vp->rxq[vp->head++ % PORT_RXQ_LEN];
        vp->lent[vp->n_lent++] = seg->b;
        pkts[n] = (struct dp_packet) {
            .data = seg->b->data + seg->ofs + VXLAN_HLEN,
            .size = seg->size - VXLAN_HLEN,
        };
        bytes += pkts[n].size;
        n++;
    }
    pthread_mutex_unlock(&ep->mutex);
    /* Outside the lock: the frames are ours until the next call.  The
     * statistics count datagrams as they came off the wire. */
    if (n) {
        dp_port_count(&port->rx_packets, (uint64_t) n);
        dp_port_count(&port->rx_bytes, bytes);
    }
    return rx_coalesce(vp, pkts, n);
}

/* TOS and TTL of the inner IP packet in FRAME (first SIZE bytes), for
 * tos/ttl=inherit; non-IP frames get 0 and the default TTL. */
static void
inner_tos_ttl(const uint8_t *f, size_t size, int *tos, int *ttl)
{
    size_t ofs = 12;
    *tos = 0;
    *ttl = VXLAN_DEFAULT_TTL;
    while (ofs + 2 <= size && (f[ofs] == 0x81 || f[ofs] == 0x88)
           && (f[ofs + 1] == 0x00 || f[ofs + 1] == 0xa8)) {
        ofs += 4;
    }
    if (ofs + 2 + 9 > size) {
        return;
    }
    const uint8_t *ip = f + ofs + 2;
    uint16_t type = (uint16_t) ((f[ofs] << 8) | f[ofs + 1]);
    if (type == 0x0800) {
        *tos = ip[1];
        *ttl = ip[8];
    } else if (type == 0x86dd) {
        *tos = ((ip[0] & 0x0f) << 4) | (ip[1] >> 4);
        *ttl = ip[7];
    }
}

/* Appends a control message of one int to M (whose buffer has room). */
static void
put_cmsg(struct msghdr *m, int level, int type, int value)
{
    struct cmsghdr *c = (struct cmsghdr *) ((char *) m->msg_control
                                            + m->msg_controllen);
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = CMSG_LEN(sizeof value);
    memcpy(CMSG_DATA(c), &value, sizeof value);
    m->msg_controllen += CMSG_SPACE(sizeof value);
}

/* Per-message TOS/TTL for the "inherit" settings.  HEAD is the start of
 * the inner frame. */
static void
set_inherited(struct vxlan_port *vp, struct msghdr *m, const uint8_t *head,
              size_t size)
{
    int tos, ttl;
    inner_tos_ttl(head, size, &tos, &ttl);
    bool v4 = vp->cfg.remote.family == AF_INET;
    m->msg_control = vp->cmsg[vp->n_msgs].buf;
    m->msg_controllen = 0;
    memset(m->msg_control, 0, sizeof vp->cmsg[0].buf);
    if (vp->cfg.tos == VXLAN_TOS_INHERIT) {
        put_cmsg(m, v4 ? IPPROTO_IP : IPPROTO_IPV6, v4 ? IP_TOS : IPV6_TCLASS,
                 tos);
    }
    if (vp->cfg.ttl == VXLAN_TTL_INHERIT) {
        put_cmsg(m, v4 ? IPPROTO_IP : IPPROTO_IPV6,
                 v4 ? IP_TTL : IPV6_HOPLIMIT, ttl);
    }
}

/* Sends the queued messages; counts what went and what did not. */
static void
tx_flush(struct vxlan_port *vp)
{
    unsigned int i = 0;
    bool retried = false;
    while (i < vp->n_msgs) {
        int r = sendmmsg(vp->tx_fd, &vp->msgs[i], vp->n_msgs - i,
                         MSG_DONTWAIT);
        if (r > 0) {
            uint64_t bytes = 0, pkts = 0;
            for (unsigned int k = i; k < i + (unsigned int) r; k++) {
                bytes += vp->inner_size[k];
                pkts += vp->n_pkts[k];
            }
            dp_port_count(&vp->up.tx_packets, pkts);
            dp_port_count(&vp->up.tx_bytes, bytes);
            i += (unsigned int) r;
            continue;
        }
        int error = errno;
        if (error == EAGAIN || error == ENOBUFS) {
            uint64_t pkts = 0;
            for (unsigned int k = i; k < vp->n_msgs; k++) {
                pkts += vp->n_pkts[k];
            }
            dp_port_count(&vp->up.tx_dropped, pkts);
            break;
        }
        if (!retried && (error == ECONNREFUSED || error == EHOSTUNREACH
                         || error == ENETUNREACH)) {
            /* An ICMP error reported for an earlier datagram. */
            retried = true;
            continue;
        }
        if (vp->n_pkts[i] > 1 && error == EIO) {
            /* The path cannot do UDP GSO (e.g. IPsec): segment in
             * software from now on. */
            atomic_store(&vp->udp_gso, false);
        }
        /* EMSGSIZE (EINVAL for a UDP GSO run): too big for the path with
         * DF set. */
        dp_port_count(error == EMSGSIZE || vp->n_pkts[i] > 1
                      ? &vp->up.tx_dropped : &vp->up.tx_errors, vp->n_pkts[i]);
        retried = false;
        i++;
    }
    vp->n_msgs = 0;
    vp->n_iovs = 0;
    vp->arena_used = 0;
    vp->gso_src_busy = false;
}

/* Flushes unless one more message of up to N_IOV vectors and ARENA bytes
 * of the arena fits. */
static void
tx_make_room(struct vxlan_port *vp, unsigned int n_iov, size_t arena)
{
    if (vp->n_msgs == TX_BATCH || vp->n_iovs + n_iov > TX_IOVS
        || vp->arena_used + arena > TX_ARENA_SIZE) {
        tx_flush(vp);
    }
}

/* Queues a message of the VXLAN header and up to two pieces of inner
 * frame.  The caller makes sure there is room (tx_make_room()). */
static void
tx_queue(struct vxlan_port *vp, const void *a, size_t a_size, const void *b,
         size_t b_size)
{
    unsigned int k = vp->n_msgs;
    struct msghdr *m = &vp->msgs[k].msg_hdr;
    memset(m, 0, sizeof *m);
    struct iovec *iov = &vp->iovs[vp->n_iovs];
    iov[0] = (struct iovec) { vp->hdr, VXLAN_HLEN };
    iov[1] = (struct iovec) { (void *) a, a_size };
    iov[2] = (struct iovec) { (void *) b, b_size };
    m->msg_iov = iov;
    m->msg_iovlen = b_size ? 3 : 2;
    vp->n_iovs += (unsigned int) m->msg_iovlen;
    m->msg_name = &vp->dst;
    m->msg_namelen = vp->dst_len;
    if (vp->cfg.tos == VXLAN_TOS_INHERIT || vp->cfg.ttl == VXLAN_TTL_INHERIT) {
        uint8_t head[64];
        size_t n = MIN(a_size, sizeof head);
        memcpy(head, a, n);
        size_t nb = MIN(b_size, sizeof head - n);
        memcpy(head + n, b, nb);
        set_inherited(vp, m, head, n + nb);
    }
    vp->inner_size[k] = (uint32_t) (a_size + b_size);
    vp->n_pkts[k] = 1;
    vp->n_msgs++;
}

/* Queues a UDP GSO message: N datagrams of SEG_SIZE bytes each (the last
 * may be shorter), SIZE bytes in all, VXLAN headers included, gathered
 * from the N_IOV vectors at IOV.  HEAD (HEAD_SIZE bytes) is the start of
 * the first inner frame. */
static void
tx_queue_gso(struct vxlan_port *vp, struct iovec *iov, unsigned int n_iov,
             size_t size, uint16_t seg_size, unsigned int n,
             const uint8_t *head, size_t head_size)
{
    unsigned int k = vp->n_msgs;
    struct msghdr *m = &vp->msgs[k].msg_hdr;
    memset(m, 0, sizeof *m);
    m->msg_iov = iov;
    m->msg_iovlen = n_iov;
    m->msg_name = &vp->dst;
    m->msg_namelen = vp->dst_len;
    m->msg_control = vp->cmsg[k].buf;
    m->msg_controllen = 0;
    if (vp->cfg.tos == VXLAN_TOS_INHERIT || vp->cfg.ttl == VXLAN_TTL_INHERIT) {
        set_inherited(vp, m, head, head_size);
    }
    if (n > 1) {
        struct cmsghdr *c = (struct cmsghdr *) ((char *) m->msg_control
                                                + m->msg_controllen);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof seg_size);
        memcpy(CMSG_DATA(c), &seg_size, sizeof seg_size);
        m->msg_controllen += CMSG_SPACE(sizeof seg_size);
    }
    if (!m->msg_controllen) {
        m->msg_control = NULL;
    }
    vp->n_iovs += n_iov;
    vp->inner_size[k] = (uint32_t) (size - (size_t) n * VXLAN_HLEN);
    vp->n_pkts[k] = (uint16_t) n;
    vp->n_msgs++;
}

/* Queues the segments of IT as runs of UDP GSO datagrams, up to
 * UDP_GSO_MAX_SEGS of them (and at most 64 KB) per message, so that the
 * kernel sends each run with one traversal of its stack.  Only the headers
 * of each segment are written (into the arena); the payload is gathered
 * from the frame itself, which must stay valid until the flush. */
static void
tx_segments_udp_gso(struct vxlan_port *vp, struct gso_iter *it)
{
    size_t max = VXLAN_HLEN + gso_max_frame(it);
    for (;;) {
        tx_make_room(vp, 3 * UDP_GSO_MAX_SEGS,
                     (size_t) UDP_GSO_MAX_SEGS * it->hdr_len);
        struct iovec *iov = &vp->iovs[vp->n_iovs];
        const uint8_t *head = vp->arena + vp->arena_used;
        size_t head_size = 0, run_size = 0, seg_size = 0;
        unsigned int n = 0;
        bool done = false;
        while (n < UDP_GSO_MAX_SEGS && run_size + max <= UDP_GSO_MAX_BYTES) {
            uint8_t *hdrs = vp->arena + vp->arena_used;
            const uint8_t *data;
            size_t payload;
            size_t hl = gso_next_split(it, hdrs, TX_ARENA_SIZE - vp->arena_used,
                                       &data, &payload);
            if (!hl) {
                done = true;
                break;
            }
            vp->arena_used += hl;
            iov[3 * n] = (struct iovec) { vp->hdr, VXLAN_HLEN };
            iov[3 * n + 1] = (struct iovec) { hdrs, hl };
            iov[3 * n + 2] = (struct iovec) { (void *) data, payload };
            size_t len = VXLAN_HLEN + hl + payload;
            run_size += len;
            n++;
            if (n == 1) {
                seg_size = len;
                head_size = hl;
            } else if (len < seg_size) {
                break;          /* The short last segment ends a run. */
            }
        }
        if (n) {
            tx_queue_gso(vp, iov, 3 * n, run_size, (uint16_t) seg_size, n,
                         head, head_size);
        }
        if (done) {
            return;
        }
    }
}

/* Queues the segments of IT one datagram each (all sent by one
 * sendmmsg()), headers in the arena, payload gathered from the frame. */
static void
tx_segments(struct vxlan_port *vp, struct gso_iter *it)
{
    for (;;) {
        tx_make_room(vp, 3, it->hdr_len);
        uint8_t *hdrs = vp->arena + vp->arena_used;
        const uint8_t *data;
        size_t payload;
        size_t hl = gso_next_split(it, hdrs, TX_ARENA_SIZE - vp->arena_used,
                                   &data, &payload);
        if (!hl) {
            return;
        }
        vp->arena_used += hl;
        tx_queue(vp, hdrs, hl, data, payload);
    }
}

/* A frame with offload metadata: linearised into 'gso_src' if its header
 * was rewritten, then segmented (as runs of UDP GSO datagrams where the
 * kernel allows it) or just checksummed. */
static void
tx_offloaded(struct vxlan_port *vp, const struct dp_txd *t)
{
    size_t size = fwd_txd_size(t);
    const uint8_t *frame = t->pkt->data;
    if (t->hdr_len || t->rest_ofs) {
        /* A rewritten header (VLAN tag pushed or popped): linearise. */
        if (size > GSO_SRC_SIZE) {
            dp_port_count(&vp->up.tx_errors, 1);
            return;
        }
        if (vp->gso_src_busy) {
            tx_flush(vp);
        }
        fwd_txd_copy(t, vp->gso_src, size);
        frame = vp->gso_src;
    }
    struct virtio_net_hdr vnet = t->pkt->vnet;
    if (vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        vnet.csum_start = (uint16_t) (vnet.csum_start + t->vnet_delta);
    }
    struct gso_iter it;
    if (gso_start(&it, frame, size, &vnet)
        || gso_max_frame(&it) + VXLAN_HLEN > UDP_GSO_MAX_BYTES) {
        dp_port_count(&vp->up.tx_errors, 1);
        return;
    }
    if (it.mss) {
        if (atomic_load_explicit(&vp->udp_gso, memory_order_relaxed)) {
            tx_segments_udp_gso(vp, &it);
        } else {
            tx_segments(vp, &it);
        }
        if (frame == vp->gso_src) {
            /* Set after queueing: a flush on the way clears it. */
            vp->gso_src_busy = true;
        }
        return;
    }
    /* Checksum only: the frame is copied with its checksum completed. */
    for (;;) {
        tx_make_room(vp, 3, gso_max_frame(&it));
        uint8_t *seg = vp->arena + vp->arena_used;
        size_t len = gso_next(&it, seg, TX_ARENA_SIZE - vp->arena_used);
        if (!len) {
            break;
        }
        vp->arena_used += len;
        tx_queue(vp, seg, len, NULL, 0);
    }
}

static void
vxlan_tx_batch(struct dp_port *port, const struct dp_txd *txds, int n)
{
    struct vxlan_port *vp = vxlan_cast(port);
    pthread_mutex_lock(&vp->tx_mutex);
    for (int i = 0; i < n; i++) {
        const struct dp_txd *t = &txds[i];
        const struct dp_packet *pkt = t->pkt;
        if (pkt->has_vnet && (pkt->vnet.gso_type != VIRTIO_NET_HDR_GSO_NONE
                              || pkt->vnet.flags
                                 & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
            tx_offloaded(vp, t);
        } else {
            tx_make_room(vp, 3, 0);
            tx_queue(vp, t->hdr, t->hdr_len, pkt->data + t->rest_ofs,
                     pkt->size - t->rest_ofs);
        }
    }
    if (vp->n_msgs) {
        tx_flush(vp);
    }
    pthread_mutex_unlock(&vp->tx_mutex);
}

static int
vxlan_fd(const struct dp_port *port)
{
    return vxlan_cast(port)->poll_fd;
}

const struct dp_port_class dp_port_vxlan_class = {
    .type = "vxlan",
    .open = vxlan_open,
    .rx_batch = vxlan_rx_batch,
    .tx_batch = vxlan_tx_batch,
    .fd = vxlan_fd,
    .stats = NULL,
    .close = vxlan_close,
};

void
dp_vxlan_format_endpoints(struct ds *ds)
{
    pthread_mutex_lock(&registry_mutex);
    struct vxlan_endpoint *ep;
    LIST_FOR_EACH (ep, node, &endpoints) {
        ds_put_format(ds, "vxlan endpoint %s port %u: tunnels=%zu rx=%llu "
                      "unknown_tunnel=%llu malformed=%llu oversize=%llu\n",
                      ep->family == AF_INET ? "udp4" : "udp6", ep->port,
                      hmap_count(&ep->tunnels),
                      (unsigned long long) atomic_load(&ep->n_rx),
                      (unsigned long long) atomic_load(&ep->n_unknown),
                      (unsigned long long) atomic_load(&ep->n_malformed),
                      (unsigned long long) atomic_load(&ep->n_oversize));
    }
    pthread_mutex_unlock(&registry_mutex);
}
