/* "dummy" and "patch" ports: in-process frame queues.
 *
 * Each port has an RX queue of PKTQ_LEN reusable slots.  A slot's buffer
 * grows to the largest frame it has held and is then reused, so steady
 * traffic allocates nothing.  rx_batch() lends slots to the caller and
 * reclaims them on its next call, which is what keeps the frames valid
 * without copying them out. */
#include "port.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "forward.h"
#include "util.h"

#define PKTQ_LEN 256

struct pktq_slot {
    uint8_t *buf;
    uint32_t cap;
    uint32_t size;
    bool has_vnet;
    struct virtio_net_hdr vnet;
};

struct pktq {
    pthread_mutex_t mutex;
    unsigned int head, tail;    /* Free-running; tail - head = queued. */
    unsigned int n_lent;        /* Slots from 'head' lent to rx_batch. */
    int efd;                    /* Readable while frames are queued. */
    bool efd_set;               /* 'efd' was written since it was read. */
    struct pktq_slot slots[PKTQ_LEN];
};

struct queue_port {
    struct dp_port up;
    struct pktq rxq;            /* Frames for the switch to receive. */
    struct pktq txq;            /* Dummy: frames the switch sent. */
    pthread_mutex_t peer_mutex; /* Patch: protects 'peer'. */
    struct queue_port *peer;
};

static struct queue_port *
queue_port_cast(const struct dp_port *port)
{
    return CONTAINER_OF(port, struct queue_port, up);
}

static int
pktq_init(struct pktq *q)
{
    memset(q, 0, sizeof *q);
    q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->efd < 0) {
        return errno;
    }
    pthread_mutex_init(&q->mutex, NULL);
    return 0;
}

static void
pktq_destroy(struct pktq *q)
{
    for (size_t i = 0; i < PKTQ_LEN; i++) {
        free(q->slots[i].buf);
    }
    close(q->efd);
    pthread_mutex_destroy(&q->mutex);
}

/* Both called with Q's mutex held.  'efd_set' spares the read() on a
 * clear eventfd: a pass over thousands of idle ports would otherwise make
 * one system call per port. */
static void
clear_efd(struct pktq *q)
{
    uint64_t v;
    if (q->efd_set && read(q->efd, &v, sizeof v) < 0) {
        /* EAGAIN: already clear. */
    }
    q->efd_set = false;
}

static void
signal_efd(struct pktq *q)
{
    uint64_t one = 1;
    if (write(q->efd, &one, sizeof one) < 0) {
        /* Counter saturated: it is readable anyway. */
    }
    q->efd_set = true;
}

/* Reserves the next slot for a frame of SIZE bytes; NULL if full.  Called
 * with the mutex held. */
static struct pktq_slot *
pktq_reserve(struct pktq *q, size_t size)
{
    if (q->tail - q->head >= PKTQ_LEN) {
        return NULL;
    }
    struct pktq_slot *s = &q->slots[q->tail % PKTQ_LEN];
    if (s->cap < size) {
        s->buf = xrealloc(s->buf, size);
        s->cap = (uint32_t) size;
    }
    s->size = (uint32_t) size;
    s->has_vnet = false;
    return s;
}

static void
pktq_commit(struct pktq *q)
{
    if (q->tail++ == q->head + q->n_lent) {
        signal_efd(q);
    }
}

static int
pktq_rx(struct pktq *q, struct dp_packet *pkts, int max)
{
    pthread_mutex_lock(&q->mutex);
    q->head += q->n_lent;
    int n = 0;
    while (n < max && q->head + (unsigned) n != q->tail) {
        struct pktq_slot *s = &q->slots[(q->head + (unsigned) n) % PKTQ_LEN];
        pkts[n].data = s->buf;
        pkts[n].size = s->size;
        pkts[n].has_vnet = s->has_vnet;
        pkts[n].vnet = s->vnet;
        n++;
    }
    q->n_lent = (unsigned) n;
    if (q->head + q->n_lent == q->tail) {
        clear_efd(q);
    }
    pthread_mutex_unlock(&q->mutex);
    return n;
}

/* Queues the frames of TXDS on Q; returns how many fit. */
static int
pktq_push_txds(struct pktq *q, const struct dp_txd *txds, int n)
{
    int i;
    pthread_mutex_lock(&q->mutex);
    for (i = 0; i < n; i++) {
        const struct dp_txd *t = &txds[i];
        size_t size = fwd_txd_size(t);
        struct pktq_slot *s = pktq_reserve(q, size ? size : 1);
        if (!s) {
            break;
        }
        fwd_txd_copy(t, s->buf, size);
        s->size = (uint32_t) size;
        s->has_vnet = t->pkt->has_vnet;
        s->vnet = t->pkt->vnet;
        if (s->has_vnet && (s->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
            s->vnet.csum_start = (uint16_t) (s->vnet.csum_start
                                             + t->vnet_delta);
        }
        pktq_commit(q);
    }
    pthread_mutex_unlock(&q->mutex);
    return i;
}

static int
queue_port_open(const struct dp_port_class *class, const char *name,
                struct dp_port **portp)
{
    struct queue_port *qp = xzalloc(sizeof *qp);
    int error = pktq_init(&qp->rxq);
    if (error) {
        free(qp);
        return error;
    }
    error = pktq_init(&qp->txq);
    if (error) {
        pktq_destroy(&qp->rxq);
        free(qp);
        return error;
    }
    dp_port_init(&qp->up, class, name);
    pthread_mutex_init(&qp->peer_mutex, NULL);
    *portp = &qp->up;
    return 0;
}

static int
dummy_open(const char *name, const struct dp_port_options *options,
           struct dp_port **portp)
{
    (void) options;
    return queue_port_open(&dp_port_dummy_class, name, portp);
}

static int
patch_open(const char *name, const struct dp_port_options *options,
           struct dp_port **portp)
{
    (void) options;
    return queue_port_open(&dp_port_patch_class, name, portp);
}

static int
queue_rx_batch(struct dp_port *port, struct dp_packet *pkts, int max)
{
    struct queue_port *qp = queue_port_cast(port);
    int n = pktq_rx(&qp->rxq, pkts, max);
    if (n) {
        uint64_t bytes = 0;
        for (int i = 0; i < n; i++) {
            bytes += pkts[i].size;
        }
        dp_port_count(&port->rx_packets, (uint64_t) n);
        dp_port_count(&port->rx_bytes, bytes);
    }
    return n;
}

static void
count_tx(struct dp_port *port, const struct dp_txd *txds, int n, int sent)
{
    uint64_t bytes = 0;
    for (int i = 0; i < sent; i++) {
        bytes += fwd_txd_size(&txds[i]);
    }
    dp_port_count(&port->tx_packets, (uint64_t) sent);
    dp_port_count(&port->tx_bytes, bytes);
    if (sent < n) {
        dp_port_count(&port->tx_dropped, (uint64_t) (n - sent));
    }
}

static void
dummy_tx_batch(struct dp_port *port, const struct dp_txd *txds, int n)
{
    struct queue_port *qp = queue_port_cast(port);
    count_tx(port, txds, n, pktq_push_txds(&qp->txq, txds, n));
}

static void
patch_tx_batch(struct dp_port *port, const struct dp_txd *txds, int n)
{
    struct queue_port *qp = queue_port_cast(port);
    int sent = 0;
    pthread_mutex_lock(&qp->peer_mutex);
    if (qp->peer) {
        sent = pktq_push_txds(&qp->peer->rxq, txds, n);
    }
    pthread_mutex_unlock(&qp->peer_mutex);
    count_tx(port, txds, n, sent);
}

static int
queue_fd(const struct dp_port *port)
{
    return queue_port_cast(port)->rxq.efd;
}

static void
set_peer(struct queue_port *qp, struct queue_port *peer)
{
    pthread_mutex_lock(&qp->peer_mutex);
    qp->peer = peer;
    pthread_mutex_unlock(&qp->peer_mutex);
}

static void
queue_close(struct dp_port *port)
{
    struct queue_port *qp = queue_port_cast(port);
    pthread_mutex_lock(&qp->peer_mutex);
    struct queue_port *peer = qp->peer;
    qp->peer = NULL;
    pthread_mutex_unlock(&qp->peer_mutex);
    if (peer) {
        /* The peer may be sending to us right now: this waits for it. */
        set_peer(peer, NULL);
    }
    pktq_destroy(&qp->rxq);
    pktq_destroy(&qp->txq);
    pthread_mutex_destroy(&qp->peer_mutex);
    dp_port_uninit(port);
    free(qp);
}

void
dp_port_patch_link(struct dp_port *a, struct dp_port *b)
{
    set_peer(queue_port_cast(a), queue_port_cast(b));
    set_peer(queue_port_cast(b), queue_port_cast(a));
}

bool
dp_port_is_patch(const struct dp_port *port)
{
    return port->class == &dp_port_patch_class;
}

const char *
dp_port_patch_peer(struct dp_port *port)
{
    struct queue_port *qp = queue_port_cast(port);
    pthread_mutex_lock(&qp->peer_mutex);
    const char *name = qp->peer ? qp->peer->up.name : NULL;
    pthread_mutex_unlock(&qp->peer_mutex);
    return name;
}

int
dp_dummy_inject(struct dp_port *port, const void *frame, size_t size)
{
    struct queue_port *qp = queue_port_cast(port);
    int error = 0;
    pthread_mutex_lock(&qp->rxq.mutex);
    struct pktq_slot *s = pktq_reserve(&qp->rxq, size ? size : 1);
    if (s) {
        memcpy(s->buf, frame, size);
        s->size = (uint32_t) size;
        pktq_commit(&qp->rxq);
    } else {
        error = ENOBUFS;
    }
    pthread_mutex_unlock(&qp->rxq.mutex);
    return error;
}

size_t
dp_dummy_pop(struct dp_port *port, void *buf, size_t size)
{
    struct pktq *q = &queue_port_cast(port)->txq;
    size_t n = 0;
    pthread_mutex_lock(&q->mutex);
    if (q->head != q->tail) {
        struct pktq_slot *s = &q->slots[q->head % PKTQ_LEN];
        n = MIN(size, s->size);
        memcpy(buf, s->buf, n);
        q->head++;
        if (q->head == q->tail) {
            clear_efd(q);
        }
    }
    pthread_mutex_unlock(&q->mutex);
    return n;
}

int
dp_dummy_tx_fd(const struct dp_port *port)
{
    return queue_port_cast(port)->txq.efd;
}

const struct dp_port_class dp_port_dummy_class = {
    .type = "dummy",
    .open = dummy_open,
    .rx_batch = queue_rx_batch,
    .tx_batch = dummy_tx_batch,
    .fd = queue_fd,
    .stats = NULL,
    .close = queue_close,
};

const struct dp_port_class dp_port_patch_class = {
    .type = "patch",
    .open = patch_open,
    .rx_batch = queue_rx_batch,
    .tx_batch = patch_tx_batch,
    .fd = queue_fd,
    .stats = NULL,
    .close = queue_close,
};
