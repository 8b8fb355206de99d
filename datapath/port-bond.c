/* "bond" ports: see port-bond.h. */
#include "port-bond.h"

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "ds.h"
#include "hash.h"
#include "lacp.h"
#include "packet.h"
#include "util.h"

#define MONITOR_MSEC 100
#define N_BUCKETS 256
#define LACP_DEFAULT_SYS_PRIORITY 65534     /* OVS's defaults. */
#define LACP_DEFAULT_PORT_PRIORITY 65535
/* balance-slb reflection filter: source MACs the bond sent, with the
 * second they were last sent in the top 16 bits. */
#define N_SENT 1024
#define SENT_MAX_AGE_S 10

struct bond_member {
    struct dp_port *port;
    bool has_carrier;           /* A kernel device with a link state. */
    _Atomic bool enabled;
    bool carrier;               /* Last sampled link state. */
    bool up;                    /* Carrier and LACP's may_enable: what
                                 * updelay/downdelay act on. */
    long long delay_expires;    /* LLONG_MAX: no change pending. */
    uint8_t mac[6];             /* Source of LACPDUs. */
    bool lacp_port_id_auto;     /* Not configured: the port number. */
};

struct bond {
    struct dp_port up;
    enum dp_bond_mode mode;
    int updelay, downdelay;
    char *primary;
    int primary_idx;            /* -1: none or no such member. */
    size_t n;
    struct bond_member *members;
    int epfd, timerfd, sock;

    pthread_mutex_t mutex;      /* Serialises state changes. */
    long long next_monitor;     /* Forwarding thread only. */
    size_t rx_next;             /* Forwarding thread only. */
    struct lacp *lacp;          /* NULL: lacp=off.  Under the mutex. */
    bool lacp_fallback_ab;
    bool all_members_active;    /* balance-slb: multicast on any member. */
    uint32_t hash_basis;        /* Seed of the balancing hashes. */
    int rebalance_ms;
    long long next_rebalance;   /* Under the mutex; LLONG_MAX: never. */

    _Atomic int active;
    _Atomic uint64_t active_seq;
    _Atomic int lacp_status;    /* enum dp_bond_lacp_status. */
    _Atomic uint8_t buckets[N_BUCKETS];
    _Atomic uint64_t bucket_bytes[N_BUCKETS];   /* Sent, decaying. */
    _Atomic uint64_t sent[N_SENT];
};

static struct bond *
bond_cast(const struct dp_port *port)
{
    return (struct bond *) port;
}

bool
dp_port_is_bond(const struct dp_port *port)
{
    return port->class == &dp_port_bond_class;
}

/* BASIS: other_config:bond-hash-basis for the balancing buckets, 0 for the
 * bond's own tables. */
static uint32_t
mac_hash(uint64_t mac, uint32_t basis)
{
    return hash_bytes(&mac, sizeof mac, basis);
}

static uint64_t
mac_at(const uint8_t *p)
{
    uint64_t mac = 0;
    for (int i = 0; i < 6; i++) {
        mac = (mac << 8) | p[i];
    }
    return mac;
}

static bool
sample_carrier(const struct bond *bond, const struct bond_member *m)
{
    if (!m->has_carrier || bond->sock < 0) {
        return true;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, m->port->name, IFNAMSIZ - 1);
    if (ioctl(bond->sock, SIOCGIFFLAGS, &ifr)) {
        return false;
    }
    return (ifr.ifr_flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING);
}

static bool
member_enabled(const struct bond_member *m)
{
    return atomic_load_explicit(&m->enabled, memory_order_relaxed);
}

static void
set_active(struct bond *bond, int idx)
{
    if (atomic_load(&bond->active) != idx) {
        atomic_store(&bond->active, idx);
        atomic_fetch_add(&bond->active_seq, 1);
    }
}

/* Picks a new active member if the current one is not enabled, or the
 * primary if PREFER_PRIMARY and it is enabled.  Then moves balance-slb
 * buckets away from disabled members.  Called with the mutex held. */
static void
reselect(struct bond *bond, bool prefer_primary)
{
    int active = atomic_load(&bond->active);
    int p = bond->primary_idx;
    if (prefer_primary && p >= 0 && member_enabled(&bond->members[p])) {
        active = p;
    } else if (active < 0 || !member_enabled(&bond->members[active])) {
        active = -1;
        if (p >= 0 && member_enabled(&bond->members[p])) {
            active = p;
        }
        for (size_t i = 0; active < 0 && i < bond->n; i++) {
            if (member_enabled(&bond->members[i])) {
                active = (int) i;
            }
        }
    }
    set_active(bond, active);

    if (bond->mode == DP_BOND_ACTIVE_BACKUP) {
        return;
    }
    int enabled[DP_BOND_MAX_MEMBERS];
    size_t n_enabled = 0;
    for (size_t i = 0; i < bond->n; i++) {
        if (member_enabled(&bond->members[i])) {
            enabled[n_enabled++] = (int) i;
        }
    }
    if (!n_enabled) {
        return;
    }
    size_t next = 0;
    for (size_t b = 0; b < N_BUCKETS; b++) {
        uint8_t m = atomic_load_explicit(&bond->buckets[b],
                                         memory_order_relaxed);
        if (m >= bond->n || !member_enabled(&bond->members[m])) {
            atomic_store_explicit(&bond->buckets[b],
                                  (uint8_t) enabled[next++ % n_enabled],
                                  memory_order_relaxed);
        }
    }
}

static bool
any_enabled(const struct bond *bond)
{
    for (size_t i = 0; i < bond->n; i++) {
        if (member_enabled(&bond->members[i])) {
            return true;
        }
    }
    return false;
}

static void lacp_send(void *bond_, size_t idx, const uint8_t *pdu);
static void rebalance(struct bond *);

/* One link-monitor step at NOW, as OVS's bond_link_status_update(), after
 * LACP's timers and selection: a member is "up" when its carrier is and
 * LACP lets it carry traffic.  Called with the mutex held. */
static void
monitor_locked(struct bond *bond, long long now)
{
    bool changed = false, primary_up = false;
    if (bond->lacp) {
        lacp_run(bond->lacp, now, lacp_send, bond);
    }
    for (size_t i = 0; i < bond->n; i++) {
        struct bond_member *m = &bond->members[i];
        bool carrier = sample_carrier(bond, m);
        if (carrier != m->carrier) {
            m->carrier = carrier;
            if (bond->lacp) {
                lacp_carrier_changed(bond->lacp, i, carrier, now);
            }
        }
        bool up = carrier && (!bond->lacp || lacp_may_enable(bond->lacp, i));
        bool enabled = member_enabled(m);
        if (up != m->up) {
            m->up = up;
            if (up == enabled) {
                m->delay_expires = LLONG_MAX;
            } else {
                int delay = up ? bond->updelay : bond->downdelay;
                if (up && !any_enabled(bond)) {
                    delay = 0;      /* Anything beats no link at all. */
                }
                m->delay_expires = now + delay;
            }
        }
        if (now >= m->delay_expires) {
            m->delay_expires = LLONG_MAX;
            if (up != enabled) {
                atomic_store(&m->enabled, up);
                changed = true;
                primary_up |= up && (int) i == bond->primary_idx;
            }
        }
    }
    if (bond->lacp) {
        atomic_store(&bond->lacp_status, lacp_negotiated(bond->lacp)
                     ? DP_BOND_LACP_STATUS_NEGOTIATED
                     : DP_BOND_LACP_STATUS_CONFIGURED);
    }
    if (changed) {
        reselect(bond, primary_up);
    }
    if (now >= bond->next_rebalance) {
        bond->next_rebalance = now + bond->rebalance_ms;
        rebalance(bond);
    }
}

static void
monitor(struct bond *bond, long long now)
{
    pthread_mutex_lock(&bond->mutex);
    monitor_locked(bond, now);
    pthread_mutex_unlock(&bond->mutex);
}

static void
monitor_if_due(struct bond *bond)
{
    long long now = time_msec();
    if (now >= bond->next_monitor) {
        uint64_t ticks;
        if (read(bond->timerfd, &ticks, sizeof ticks) < 0) {
            /* Not expired yet: nothing to drain. */
        }
        /* A little early, so that the timer never fires unread. */
        bond->next_monitor = now + MONITOR_MSEC - 10;
        monitor(bond, now);
    }
}

static bool
is_gratuitous_arp(const struct dp_packet *pkt)
{
    const uint8_t *p = pkt->data;
    size_t ofs = 12;
    while (pkt->size >= ofs + 4 && p[ofs] == 0x81 && p[ofs + 1] == 0x00) {
        ofs += 4;
    }
    if (pkt->size < ofs + 2 + 28 || p[ofs] != 0x08 || p[ofs + 1] != 0x06) {
        return false;
    }
    const uint8_t *arp = p + ofs + 2;
    /* Sender and target protocol addresses are the same. */
    return !memcmp(arp + 14, arp + 24, 4);
}

static bool
recently_sent(const struct bond *bond, uint64_t mac, long long now_s)
{
    uint64_t e = atomic_load_explicit(&bond->sent[mac_hash(mac, 0) % N_SENT],
                                      memory_order_relaxed);
    if ((e & 0xffffffffffffULL) != mac) {
        return false;
    }
    uint16_t age = (uint16_t) ((uint16_t) now_s - (uint16_t) (e >> 48));
    return age < SENT_MAX_AGE_S;
}

/* Whether a frame received on enabled member IDX may enter the switch
 * (OVS's bond_check_admissibility()). */
static bool
admissible(const struct bond *bond, int idx, int active, int lacp_status,
           const struct dp_packet *pkt, long long now_s)
{
    if (pkt->size < 14) {
        return true;                /* The switch drops runts itself. */
    }
    if (lacp_status == DP_BOND_LACP_STATUS_NEGOTIATED) {
        return true;                /* The partner knows it is a bond. */
    }
    if (lacp_status == DP_BOND_LACP_STATUS_CONFIGURED
        ? !bond->lacp_fallback_ab : bond->mode == DP_BOND_BALANCE_TCP) {
        return false;               /* No agreed aggregation. */
    }
    if (bond->mode != DP_BOND_BALANCE_SLB) {
        return idx == active;       /* active-backup, or its fallback. */
    }
    if (packet_mac_is_multicast(pkt->data) && idx != active
        && !bond->all_members_active) {
        return false;
    }
    return !recently_sent(bond, mac_at(pkt->data + 6), now_s)
           || is_gratuitous_arp(pkt);
}

static bool
is_slow_protocols(const struct dp_packet *pkt)
{
    return pkt->size >= 14 && pkt->data[12] == (LACP_ETH_TYPE >> 8)
           && pkt->data[13] == (LACP_ETH_TYPE & 0xff);
}

/* Sends the slow-protocols PDU on member IDX.  Called with the mutex held
 * (LACP's send callback). */
static void
lacp_send(void *bond_, size_t idx, const uint8_t *pdu)
{
    struct bond *bond = bond_;
    uint8_t frame[LACP_FRAME_SIZE];
    lacp_frame_compose(bond->members[idx].mac, pdu, frame);
    struct dp_packet pkt = { .data = frame, .size = sizeof frame };
    struct dp_txd txd = { .pkt = &pkt };
    dp_port_tx_batch(bond->members[idx].port, &txd, 1);
}

/* A slow-protocols frame received on member IDX: LACP's, never the
 * switch's. */
static void
consume_slow(struct bond *bond, size_t idx, const struct dp_packet *pkt,
             long long now)
{
    uint8_t reply[LACP_PDU_SIZE];
    pthread_mutex_lock(&bond->mutex);
    if (lacp_process(bond->lacp, idx, pkt->data + 14, pkt->size - 14, now,
                     reply) == LACP_PDU_MARKER_REQUEST) {
        lacp_send(bond, idx, reply);
    }
    pthread_mutex_unlock(&bond->mutex);
}

static int
bond_rx_batch(struct dp_port *port, struct dp_packet *pkts, int max)
{
    struct bond *bond = bond_cast(port);
    monitor_if_due(bond);

    int active = atomic_load_explicit(&bond->active, memory_order_relaxed);
    int lacp_status = atomic_load_explicit(&bond->lacp_status,
                                           memory_order_relaxed);
    long long now = time_msec(), now_s = now / 1000;
    int n = 0;
    uint64_t dropped = 0;
    bool lacp_rx = false;
    for (size_t k = 0; k < bond->n && n < max; k++) {
        size_t idx = (bond->rx_next + k) % bond->n;
        struct bond_member *m = &bond->members[idx];
        int got = dp_port_rx_batch(m->port, pkts + n, max - n);
        if (got <= 0) {
            continue;
        }
        bool enabled = member_enabled(m);
        int kept = 0;
        for (int j = 0; j < got; j++) {
            const struct dp_packet *pkt = &pkts[n + j];
            if (bond->lacp && is_slow_protocols(pkt)) {
                consume_slow(bond, idx, pkt, now);
                lacp_rx = true;
            } else if (!enabled
                       || !admissible(bond, (int) idx, active, lacp_status,
                                      pkt, now_s)) {
                dropped++;
            } else {
                pkts[n + kept++] = pkts[n + j];
            }
        }
        n += kept;
    }
    bond->rx_next = (bond->rx_next + 1) % bond->n;
    if (dropped) {
        dp_port_count(&port->rx_dropped, dropped);
    }
    if (lacp_rx) {
        monitor(bond, now);     /* Act on what the partner said at once. */
    }
    return n;
}

/* The byte at offset OFS of the frame TXD describes. */
static uint8_t
txd_byte(const struct dp_txd *txd, size_t ofs)
{
    return ofs < txd->hdr_len ? txd->hdr[ofs]
           : txd->pkt->data[txd->rest_ofs + ofs - txd->hdr_len];
}

static uint64_t
txd_src_mac(const struct dp_txd *txd)
{
    uint64_t mac = 0;
    for (size_t i = 6; i < 12; i++) {
        mac = (mac << 8) | txd_byte(txd, i);
    }
    return mac;
}

/* Copies up to SIZE leading bytes of TXD's frame into BUF; returns how
 * many. */
static size_t
txd_head(const struct dp_txd *txd, uint8_t *buf, size_t size)
{
    size_t hdr = MIN(size, (size_t) txd->hdr_len);
    size_t rest = MIN(size - hdr, (size_t) (txd->pkt->size - txd->rest_ofs));
    memcpy(buf, txd->hdr, hdr);
    memcpy(buf + hdr, txd->pkt->data + txd->rest_ofs, rest);
    return hdr + rest;
}

static uint32_t
hash_ports(uint32_t h, const uint8_t *l4, const uint8_t *end, uint8_t proto)
{
    bool has_ports = proto == 6 || proto == 17 || proto == 132;
    if (has_ports && end - l4 >= 4) {
        h = hash_bytes(l4, 4, h);
    }
    return hash_bytes(&proto, 1, h);
}

/* balance-tcp's hash: IP addresses, protocol and L4 ports (not of
 * fragments, which carry no ports past the first); MACs and EtherType for
 * other frames; seeded with BASIS. */
static uint32_t
l4_hash(const struct dp_txd *txd, uint32_t basis)
{
    uint8_t head[128];
    size_t size = txd_head(txd, head, sizeof head);
    const uint8_t *end = head + size;
    size_t ofs = 12;
    while (size >= ofs + 4
           && packet_is_tpid((uint16_t) (head[ofs] << 8 | head[ofs + 1]))) {
        ofs += 4;
    }
    if (size < ofs + 2) {
        return hash_bytes(head, MIN(size, (size_t) 12), basis);
    }
    uint16_t type = (uint16_t) (head[ofs] << 8 | head[ofs + 1]);
    const uint8_t *l3 = head + ofs + 2;
    if (type == 0x0800 && end - l3 >= 20) {
        size_t ihl = (size_t) (l3[0] & 0x0f) * 4;
        bool later_fragment = ((l3[6] & 0x1f) | l3[7]) != 0;
        uint32_t h = hash_bytes(l3 + 12, 8, basis);
        bool has_l4 = !later_fragment && ihl >= 20
                      && ihl <= (size_t) (end - l3);
        return has_l4 ? hash_ports(h, l3 + ihl, end, l3[9])
                      : hash_bytes(l3 + 9, 1, h);
    }
    if (type == 0x86dd && end - l3 >= 40) {
        uint32_t h = hash_bytes(l3 + 8, 32, basis);
        return hash_ports(h, l3 + 40, end, l3[6]);
    }
    return hash_bytes(head, ofs + 2, basis);
}

static int
bucket_member(const struct bond *bond, uint32_t bucket)
{
    int m = atomic_load_explicit(&bond->buckets[bucket],
                                 memory_order_relaxed);
    return member_enabled(&bond->members[m]) ? m : -1;
}

static int
slb_member(const struct bond *bond, uint64_t mac)
{
    return bucket_member(bond, mac_hash(mac, bond->hash_basis) % N_BUCKETS);
}

/* How frames leave now: the configured mode, active-backup for a LACP
 * bond without partner under fallback-ab, or -1 (nothing leaves). */
static int
tx_mode(const struct bond *bond)
{
    int status = atomic_load_explicit(&bond->lacp_status,
                                      memory_order_relaxed);
    if (status == DP_BOND_LACP_STATUS_CONFIGURED) {
        return bond->lacp_fallback_ab ? DP_BOND_ACTIVE_BACKUP : -1;
    }
    if (status == DP_BOND_LACP_STATUS_OFF
        && bond->mode == DP_BOND_BALANCE_TCP) {
        return -1;                  /* balance-tcp needs LACP. */
    }
    return (int) bond->mode;
}

static void
bond_tx_batch(struct dp_port *port, const struct dp_txd *txds, int n)
{
    struct bond *bond = bond_cast(port);
    int mode = tx_mode(bond);
    if (mode == DP_BOND_ACTIVE_BACKUP || mode < 0) {
        int active = mode < 0 ? -1 : atomic_load_explicit(
            &bond->active, memory_order_relaxed);
        if (active < 0) {
            dp_port_count(&port->tx_dropped, (uint64_t) n);
        } else {
            dp_port_tx_batch(bond->members[active].port, txds, n);
        }
        return;
    }

    /* Balancing: runs of frames for the same member go out together. */
    uint64_t now_s = (uint64_t) (time_msec() / 1000) & 0xffff;
    int start = 0, run_member = -2;
    for (int i = 0; i <= n; i++) {
        int m = -2;
        if (i < n) {
            const struct dp_txd *txd = &txds[i];
            uint32_t bucket;
            if (mode == DP_BOND_BALANCE_SLB) {
                uint64_t mac = txd_src_mac(txd);
                bucket = mac_hash(mac, bond->hash_basis) % N_BUCKETS;
                atomic_store_explicit(&bond->sent[mac_hash(mac, 0) % N_SENT],
                                      mac | (now_s << 48),
                                      memory_order_relaxed);
            } else {
                bucket = l4_hash(txd, bond->hash_basis) % N_BUCKETS;
            }
            m = bucket_member(bond, bucket);
            atomic_fetch_add_explicit(
                &bond->bucket_bytes[bucket],
                txd->hdr_len + txd->pkt->size - txd->rest_ofs,
                memory_order_relaxed);
        }
        if (m != run_member || i == n) {
            if (i > start) {
                if (run_member < 0) {
                    dp_port_count(&port->tx_dropped, (uint64_t) (i - start));
                } else {
                    dp_port_tx_batch(bond->members[run_member].port,
                                     txds + start, i - start);
                }
            }
            start = i;
            run_member = m;
        }
    }
}

/* Of member FROM's buckets (loads BYTES), the one whose move to a member
 * loaded GAP bytes less leaves the two closest to even, or -1 if every
 * move would widen the gap. */
static int
bucket_to_move(const struct bond *bond, const uint64_t bytes[N_BUCKETS],
               int from, uint64_t gap)
{
    uint64_t best_err = UINT64_MAX;
    int best = -1;
    for (size_t b = 0; b < N_BUCKETS; b++) {
        if (atomic_load_explicit(&bond->buckets[b], memory_order_relaxed)
            != from || !bytes[b] || bytes[b] >= gap) {
            continue;
        }
        uint64_t err = gap > 2 * bytes[b] ? gap - 2 * bytes[b]
                       : 2 * bytes[b] - gap;
        if (err < best_err) {
            best = (int) b;
            best_err = err;
        }
    }
    return best;
}

/* Moves buckets from the most to the least loaded enabled member while
 * that narrows the gap between them (OVS's bond_rebalance()), then halves
 * every bucket's count so that old traffic weighs less.  Called with the
 * mutex held. */
static void
rebalance(struct bond *bond)
{
    uint64_t bytes[N_BUCKETS], load[DP_BOND_MAX_MEMBERS] = { 0 };
    for (size_t b = 0; b < N_BUCKETS; b++) {
        bytes[b] = atomic_load_explicit(&bond->bucket_bytes[b],
                                        memory_order_relaxed);
        uint8_t m = atomic_load_explicit(&bond->buckets[b],
                                         memory_order_relaxed);
        load[m] += bytes[b];
    }
    int mode = tx_mode(bond);
    if (mode < 0 || mode == DP_BOND_ACTIVE_BACKUP) {
        goto decay;
    }
    for (int moves = 0; moves < N_BUCKETS; moves++) {
        int from = -1, to = -1;
        for (size_t i = 0; i < bond->n; i++) {
            if (!member_enabled(&bond->members[i])) {
                continue;
            }
            if (from < 0 || load[i] > load[from]) {
                from = (int) i;
            }
            if (to < 0 || load[i] < load[to]) {
                to = (int) i;
            }
        }
        if (from < 0 || from == to || load[from] - load[to] < 1024) {
            break;
        }
        int best = bucket_to_move(bond, bytes, from, load[from] - load[to]);
        if (best < 0) {
            break;
        }
        atomic_store_explicit(&bond->buckets[best], (uint8_t) to,
                              memory_order_relaxed);
        load[from] -= bytes[best];
        load[to] += bytes[best];
    }
decay:
    for (size_t b = 0; b < N_BUCKETS; b++) {
        atomic_fetch_sub_explicit(&bond->bucket_bytes[b],
                                  bytes[b] - bytes[b] / 2,
                                  memory_order_relaxed);
    }
}

static int
bond_fd(const struct dp_port *port)
{
    return bond_cast(port)->epfd;
}

static void
bond_stats(struct dp_port *port, struct dp_port_stats *s)
{
    struct bond *bond = bond_cast(port);
    for (size_t i = 0; i < bond->n; i++) {
        struct dp_port_stats ms;
        dp_port_get_stats(bond->members[i].port, &ms);
        s->rx_packets += ms.rx_packets;
        s->rx_bytes += ms.rx_bytes;
        s->rx_dropped += ms.rx_dropped;
        s->rx_errors += ms.rx_errors;
        s->tx_packets += ms.tx_packets;
        s->tx_bytes += ms.tx_bytes;
        s->tx_dropped += ms.tx_dropped;
        s->tx_errors += ms.tx_errors;
    }
}

static void
bond_close(struct dp_port *port)
{
    struct bond *bond = bond_cast(port);
    for (size_t i = 0; i < bond->n; i++) {
        dp_port_close(bond->members[i].port);
    }
    free(bond->members);
    free(bond->primary);
    lacp_destroy(bond->lacp);
    if (bond->epfd >= 0) {
        close(bond->epfd);
    }
    if (bond->timerfd >= 0) {
        close(bond->timerfd);
    }
    if (bond->sock >= 0) {
        close(bond->sock);
    }
    pthread_mutex_destroy(&bond->mutex);
    dp_port_uninit(&bond->up);
    free(bond);
}

static int
epoll_add(int epfd, int fd)
{
    struct epoll_event ev = { .events = EPOLLIN, .data = { .fd = fd } };
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? errno : 0;
}

/* Member M's device MAC (the source of its LACPDUs); for devices
 * without one (dummy), a locally administered MAC derived from the bond's
 * name and the member's position. */
static void
member_mac(const struct bond *bond, size_t idx, struct bond_member *m)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, m->port->name, IFNAMSIZ - 1);
    if (m->has_carrier && bond->sock >= 0
        && !ioctl(bond->sock, SIOCGIFHWADDR, &ifr)) {
        memcpy(m->mac, ifr.ifr_hwaddr.sa_data, 6);
        return;
    }
    uint32_t h = hash_string(bond->up.name, 0);
    uint8_t mac[6] = { 0x02, (uint8_t) (h >> 24), (uint8_t) (h >> 16),
                       (uint8_t) (h >> 8), (uint8_t) h, (uint8_t) idx };
    memcpy(m->mac, mac, 6);
}

static bool
mac_is_zero(const uint8_t mac[6])
{
    static const uint8_t zero[6];
    return !memcmp(mac, zero, 6);
}

/* Creates the bond's LACP from CFG (after the members are open). */
static void
start_lacp(struct bond *bond, const struct dp_bond_config *cfg, long long now)
{
    struct lacp_settings ls = {
        .name = cfg->lacp_name ? cfg->lacp_name : bond->up.name,
        .sys_priority = cfg->lacp_sys_priority ? cfg->lacp_sys_priority
                        : LACP_DEFAULT_SYS_PRIORITY,
        .active = cfg->lacp == DP_BOND_LACP_ACTIVE,
        .fast = cfg->lacp_fast,
        .fallback_ab = cfg->lacp_fallback_ab,
    };
    memcpy(ls.sys_id, mac_is_zero(cfg->lacp_sys_id) ? bond->members[0].mac
                      : cfg->lacp_sys_id, 6);
    struct lacp_member_settings ms[DP_BOND_MAX_MEMBERS];
    for (size_t i = 0; i < bond->n; i++) {
        const struct dp_bond_member_config *mc = &cfg->members[i];
        ms[i] = (struct lacp_member_settings) {
            .name = mc->name,
            .port_id = mc->lacp_port_id ? mc->lacp_port_id
                       : (uint16_t) (i + 1),
            .port_priority = mc->lacp_port_priority ? mc->lacp_port_priority
                             : LACP_DEFAULT_PORT_PRIORITY,
            .key = mc->lacp_key,
        };
    }
    bond->lacp = lacp_create(&ls, ms, bond->n, now);
    bond->lacp_fallback_ab = cfg->lacp_fallback_ab;
    atomic_store(&bond->lacp_status, DP_BOND_LACP_STATUS_CONFIGURED);
}

static int
bond_open(const char *name, const struct dp_port_options *options,
          struct dp_port **portp)
{
    const struct dp_bond_config *cfg = options->bond;
    if (!cfg || !cfg->n_members || cfg->n_members > DP_BOND_MAX_MEMBERS
        || cfg->updelay_ms < 0 || cfg->downdelay_ms < 0
        || cfg->rebalance_ms < 0) {
        return EINVAL;
    }
    for (size_t i = 0; i < cfg->n_members; i++) {
        if (!strcmp(cfg->members[i].type, "bond")) {
            return EINVAL;          /* No bonds of bonds. */
        }
    }

    struct bond *bond = xzalloc(sizeof *bond);
    dp_port_init(&bond->up, &dp_port_bond_class, name);
    pthread_mutex_init(&bond->mutex, NULL);
    bond->mode = cfg->mode;
    bond->updelay = cfg->updelay_ms;
    bond->downdelay = cfg->downdelay_ms;
    bond->primary = cfg->primary ? xstrdup(cfg->primary) : NULL;
    bond->primary_idx = -1;
    bond->members = xcalloc(cfg->n_members, sizeof *bond->members);
    bond->timerfd = bond->sock = -1;
    atomic_init(&bond->active, -1);
    bond->epfd = epoll_create1(EPOLL_CLOEXEC);
    int error = bond->epfd < 0 ? errno : 0;
    if (!error) {
        bond->timerfd = timerfd_create(CLOCK_MONOTONIC,
                                       TFD_NONBLOCK | TFD_CLOEXEC);
        error = bond->timerfd < 0 ? errno : 0;
    }
    if (!error) {
        struct itimerspec its = {
            .it_interval = { 0, MONITOR_MSEC * 1000000L },
            .it_value = { 0, MONITOR_MSEC * 1000000L },
        };
        error = timerfd_settime(bond->timerfd, 0, &its, NULL) ? errno
                : epoll_add(bond->epfd, bond->timerfd);
    }
    bond->sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    for (size_t i = 0; !error && i < cfg->n_members; i++) {
        const struct dp_bond_member_config *mc = &cfg->members[i];
        struct dp_port_options mo = { .mac = mc->mac };
        struct bond_member *m = &bond->members[i];
        error = dp_port_open(mc->type, mc->name, &mo, &m->port);
        if (error) {
            break;
        }
        bond->n++;
        error = epoll_add(bond->epfd, dp_port_fd(m->port));
        m->has_carrier = !strcmp(mc->type, "system")
                         || !strcmp(mc->type, "internal");
        m->delay_expires = LLONG_MAX;
        m->carrier = sample_carrier(bond, m);
        /* With LACP a member waits for its partner (lacp.h). */
        m->up = m->carrier && cfg->lacp == DP_BOND_LACP_OFF;
        atomic_init(&m->enabled, m->up);
        member_mac(bond, i, m);
        m->lacp_port_id_auto = !mc->lacp_port_id;
        if (bond->primary && !strcmp(bond->primary, mc->name)) {
            bond->primary_idx = (int) i;
        }
    }
    if (error) {
        bond_close(&bond->up);
        return error;
    }
    for (size_t b = 0; b < N_BUCKETS; b++) {
        atomic_init(&bond->buckets[b], (uint8_t) (b % bond->n));
    }
    long long now = time_msec();
    bond->all_members_active = cfg->all_members_active;
    bond->hash_basis = cfg->hash_basis;
    bond->rebalance_ms = cfg->rebalance_ms;
    bond->next_rebalance = cfg->rebalance_ms && cfg->mode != DP_BOND_ACTIVE_BACKUP
                           ? now + cfg->rebalance_ms : LLONG_MAX;
    if (cfg->lacp != DP_BOND_LACP_OFF) {
        start_lacp(bond, cfg, now);
    }
    pthread_mutex_lock(&bond->mutex);
    reselect(bond, true);
    if (bond->lacp) {
        monitor_locked(bond, now);      /* The first LACPDUs. */
    }
    pthread_mutex_unlock(&bond->mutex);
    bond->next_monitor = now + MONITOR_MSEC - 10;
    *portp = &bond->up;
    return 0;
}

/* --- Control (switchd's thread) --- */

enum dp_bond_mode
dp_bond_get_mode(const struct dp_port *port)
{
    return bond_cast(port)->mode;
}

void
dp_bond_get_delays(const struct dp_port *port, int *updelay, int *downdelay)
{
    *updelay = bond_cast(port)->updelay;
    *downdelay = bond_cast(port)->downdelay;
}

const char *
dp_bond_get_primary(const struct dp_port *port)
{
    return bond_cast(port)->primary;
}

size_t
dp_bond_n_members(const struct dp_port *port)
{
    return bond_cast(port)->n;
}

void
dp_bond_get_member(struct dp_port *port, size_t idx, long long now,
                   struct dp_bond_member_status *s)
{
    struct bond *bond = bond_cast(port);
    struct bond_member *m = &bond->members[idx];
    memset(s, 0, sizeof *s);
    s->name = m->port->name;
    pthread_mutex_lock(&bond->mutex);
    s->enabled = member_enabled(m);
    s->may_enable = !bond->lacp || lacp_may_enable(bond->lacp, idx);
    s->lacp_current = bond->lacp ? lacp_is_current(bond->lacp, idx) : -1;
    s->carrier = m->carrier;
    s->delay_left_ms = m->delay_expires == LLONG_MAX ? -1
                       : MAX(0, m->delay_expires - now);
    pthread_mutex_unlock(&bond->mutex);
    dp_port_get_stats(m->port, &s->stats);
}

struct dp_port *
dp_bond_member_port(struct dp_port *port, size_t idx)
{
    return bond_cast(port)->members[idx].port;
}

int
dp_bond_active(const struct dp_port *port)
{
    return atomic_load(&bond_cast(port)->active);
}

uint64_t
dp_bond_active_seq(const struct dp_port *port)
{
    return atomic_load(&bond_cast(port)->active_seq);
}

int
dp_bond_member_for_mac(const struct dp_port *port, uint64_t mac)
{
    const struct bond *bond = bond_cast(port);
    int mode = tx_mode(bond);
    return mode == DP_BOND_BALANCE_SLB ? slb_member(bond, mac)
           : mode < 0 ? -1 : atomic_load(&bond->active);
}

void
dp_bond_set_lacp_port_id(struct dp_port *port, size_t idx, uint16_t port_id)
{
    struct bond *bond = bond_cast(port);
    if (bond->lacp && idx < bond->n && port_id
        && bond->members[idx].lacp_port_id_auto) {
        pthread_mutex_lock(&bond->mutex);
        lacp_set_port_id(bond->lacp, idx, port_id, time_msec());
        pthread_mutex_unlock(&bond->mutex);
    }
}

enum dp_bond_lacp_status
dp_bond_lacp_status(const struct dp_port *port)
{
    return atomic_load(&bond_cast(port)->lacp_status);
}

bool
dp_bond_lacp_fallback_ab(const struct dp_port *port)
{
    return bond_cast(port)->lacp_fallback_ab;
}

int
dp_bond_format_lacp(struct dp_port *port, bool stats, struct ds *ds)
{
    struct bond *bond = bond_cast(port);
    if (!bond->lacp) {
        return ENOENT;
    }
    pthread_mutex_lock(&bond->mutex);
    (stats ? lacp_format_stats : lacp_format_show)(bond->lacp, ds);
    pthread_mutex_unlock(&bond->mutex);
    return 0;
}

long long
dp_bond_next_rebalance(const struct dp_port *port, long long now)
{
    struct bond *bond = bond_cast(port);
    /* As OVS's bond_is_balanced(): not while falling back to
     * active-backup. */
    if (bond->mode == DP_BOND_ACTIVE_BACKUP
        || (bond->lacp_fallback_ab && atomic_load(&bond->lacp_status)
                                      != DP_BOND_LACP_STATUS_NEGOTIATED)) {
        return -1;
    }
    pthread_mutex_lock(&bond->mutex);
    long long next = bond->next_rebalance;
    pthread_mutex_unlock(&bond->mutex);
    return next == LLONG_MAX ? -1 : MAX(0, next - now);
}

void
dp_bond_member_buckets(const struct dp_port *port, size_t idx,
                       void (*cb)(unsigned int bucket, uint64_t bytes,
                                  void *aux), void *aux)
{
    struct bond *bond = bond_cast(port);
    for (unsigned int b = 0; b < N_BUCKETS; b++) {
        if (atomic_load(&bond->buckets[b]) == idx) {
            cb(b, atomic_load(&bond->bucket_bytes[b]), aux);
        }
    }
}

static int
find_member(const struct bond *bond, const char *name)
{
    for (size_t i = 0; i < bond->n; i++) {
        if (!strcmp(bond->members[i].port->name, name)) {
            return (int) i;
        }
    }
    return -1;
}

uint32_t
dp_bond_get_hash_basis(const struct dp_port *port)
{
    return bond_cast(port)->hash_basis;
}

unsigned int
dp_bond_mac_bucket(uint64_t mac, uint32_t basis)
{
    return mac_hash(mac, basis) % N_BUCKETS;
}

int
dp_bond_migrate(struct dp_port *port, unsigned int bucket,
                const char *member)
{
    struct bond *bond = bond_cast(port);
    int idx = find_member(bond, member);
    if (idx < 0) {
        return ENOENT;
    }
    int error = 0;
    pthread_mutex_lock(&bond->mutex);
    if (!member_enabled(&bond->members[idx])) {
        error = EINVAL;
    } else {
        atomic_store(&bond->buckets[bucket % N_BUCKETS], (uint8_t) idx);
    }
    pthread_mutex_unlock(&bond->mutex);
    return error;
}

int
dp_bond_set_active(struct dp_port *port, const char *member, long long now)
{
    struct bond *bond = bond_cast(port);
    int idx = find_member(bond, member);
    if (idx < 0) {
        return ENOENT;
    }
    (void) now;
    int error = 0;
    pthread_mutex_lock(&bond->mutex);
    if (!member_enabled(&bond->members[idx])) {
        error = EINVAL;
    } else if (atomic_load(&bond->active) == idx) {
        error = EALREADY;
    } else {
        set_active(bond, idx);
    }
    pthread_mutex_unlock(&bond->mutex);
    return error;
}

int
dp_bond_set_member_enabled(struct dp_port *port, const char *member,
                           bool enable, long long now)
{
    struct bond *bond = bond_cast(port);
    int idx = find_member(bond, member);
    if (idx < 0) {
        return ENOENT;
    }
    (void) now;
    pthread_mutex_lock(&bond->mutex);
    struct bond_member *m = &bond->members[idx];
    m->delay_expires = LLONG_MAX;
    if (member_enabled(m) != enable) {
        atomic_store(&m->enabled, enable);
        reselect(bond, false);
    }
    pthread_mutex_unlock(&bond->mutex);
    return 0;
}

int
dp_bond_send_learning_packet(struct dp_port *port, uint64_t mac,
                             uint16_t vlan)
{
    struct bond *bond = bond_cast(port);
    int m = dp_bond_member_for_mac(port, mac);
    if (m < 0) {
        return ENETDOWN;
    }
    uint8_t frame[64];
    memset(frame, 0, sizeof frame);
    memset(frame, 0xff, 6);
    for (int i = 0; i < 6; i++) {
        frame[6 + i] = (uint8_t) (mac >> (40 - 8 * i));
    }
    size_t ofs = 12;
    if (vlan) {
        frame[ofs++] = 0x81;
        frame[ofs++] = 0x00;
        frame[ofs++] = (uint8_t) ((vlan >> 8) & 0x0f);
        frame[ofs++] = (uint8_t) vlan;
    }
    static const uint8_t rarp[] = {
        0x80, 0x35,                 /* Ethertype RARP. */
        0x00, 0x01, 0x08, 0x00,     /* Ethernet, IPv4. */
        6, 4, 0x00, 0x03,           /* Sizes; reverse request. */
    };
    memcpy(frame + ofs, rarp, sizeof rarp);
    ofs += sizeof rarp;
    memcpy(frame + ofs, frame + 6, 6);          /* Sender MAC. */
    memcpy(frame + ofs + 10, frame + 6, 6);     /* Target MAC. */
    ofs += 20;
    struct dp_packet pkt = {
        .data = frame,
        .size = (uint32_t) MAX(ofs, (size_t) 60),
    };
    struct dp_txd txd = { .pkt = &pkt };
    dp_port_tx_batch(bond->members[m].port, &txd, 1);
    return 0;
}

const struct dp_port_class dp_port_bond_class = {
    .type = "bond",
    .open = bond_open,
    .rx_batch = bond_rx_batch,
    .tx_batch = bond_tx_batch,
    .fd = bond_fd,
    .stats = bond_stats,
    .close = bond_close,
};
