#include "tc.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/gen_stats.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "util.h"

#define ETH_TOTAL_MIN 60        /* Smallest frame tc accounts for. */
#define HTB_RATE2QUANTUM 10
/* Requests (an HTB class with its two rate tables is about 2.2 kB) and
 * answers (the kernel sends at most a page per message in a dump). */
#define REQ_SIZE 8192
#define RECV_SIZE 32768

/* ---- Kernel clock units (/proc/net/psched), read once. ---- */

static double ticks_per_s = 1.0;
static unsigned int buffer_hz = 100;

static void
read_psched(void)
{
    static bool done;
    if (done) {
        return;
    }
    done = true;
    FILE *f = fopen("/proc/net/psched", "r");
    unsigned int a, b, c, d;
    if (f && fscanf(f, "%x %x %x %x", &a, &b, &c, &d) == 4 && a && b && c) {
        ticks_per_s = (double) a * c / b;
        buffer_hz = c == 1000000 ? d : 100;
    }
    if (f) {
        fclose(f);
    }
}

static uint32_t
bytes_to_ticks(uint32_t rate, uint32_t size)
{
    read_psched();
    return rate ? (uint32_t) ((unsigned long long) ticks_per_s * size / rate)
                : 0;
}

/* The smallest burst that still lets a qdisc send at RATE: one MTU plus
 * what RATE moves in one timer tick (nothing on high-resolution timers). */
static uint32_t
calc_buffer(uint32_t rate, int mtu, uint32_t burst)
{
    read_psched();
    uint32_t min_burst = rate / buffer_hz + (uint32_t) mtu;
    return bytes_to_ticks(rate, MAX(burst, min_burst));
}

/* ---- One request, one answer. ---- */

struct ack_msg {
    const char *text;
};

static int
extack_attr(const struct nlattr *attr, void *aux)
{
    struct ack_msg *m = aux;
    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG
        && !mnl_attr_validate(attr, MNL_TYPE_NUL_STRING)) {
        m->text = mnl_attr_get_str(attr);
    }
    return MNL_CB_OK;
}

/* Sends NLH and reads the answer: the ack (or error), or for a dump every
 * message up to NLMSG_DONE, each passed to CB. */
static int
transact(struct nlmsghdr *nlh, void (*cb)(const struct nlmsghdr *, void *),
         void *aux, char **errp)
{
    if (errp) {
        *errp = NULL;
    }
    struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!nl) {
        return errno;
    }
    int one = 1;
    int error = 0;
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID)) {
        error = errno;
        goto out;
    }
    /* Best effort: the kernel's explanation of an error, and no copy of
     * our request in the error message. */
    mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof one);
    mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof one);
    nlh->nlmsg_seq = (uint32_t) time(NULL);
    uint32_t portid = mnl_socket_get_portid(nl);
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
        error = errno;
        goto out;
    }
    char buf[RECV_SIZE];
    for (bool done = false; !done; ) {
        ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
        if (n < 0) {
            error = errno;
            break;
        }
        const struct nlmsghdr *m = (const struct nlmsghdr *) buf;
        int len = (int) n;
        for (; mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
            if (m->nlmsg_pid != portid || m->nlmsg_seq != nlh->nlmsg_seq) {
                continue;
            }
            if (m->nlmsg_type == NLMSG_DONE) {
                done = true;
            } else if (m->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);
                if (mnl_nlmsg_get_payload_len(m) < sizeof *e) {
                    error = EPROTO;     /* Truncated: no error code. */
                } else {
                    error = e->error < 0 ? -e->error : 0;
                    if (error && errp && (m->nlmsg_flags & NLM_F_ACK_TLVS)) {
                        struct ack_msg am = { NULL };
                        mnl_attr_parse(m, sizeof *e, extack_attr, &am);
                        *errp = am.text ? xstrdup(am.text) : NULL;
                    }
                }
                done = true;
            } else if (cb) {
                cb(m, aux);
            }
        }
    }
out:
    mnl_socket_close(nl);
    return error;
}

static struct nlmsghdr *
tc_request(char *buf, uint16_t type, uint16_t flags, int ifindex,
           uint32_t handle, uint32_t parent)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof *tcm);
    tcm->tcm_family = AF_UNSPEC;
    tcm->tcm_ifindex = ifindex;
    tcm->tcm_handle = handle;
    tcm->tcm_parent = parent;
    return nlh;
}

/* A new root qdisc 1: of KIND: the caller adds TCA_OPTIONS. */
static struct nlmsghdr *
root_qdisc_request(char *buf, int ifindex, const char *kind)
{
    struct nlmsghdr *nlh = tc_request(buf, RTM_NEWQDISC,
                                      NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
                                      ifindex, TC_HANDLE(1, 0), TC_H_ROOT);
    mnl_attr_put_strz(nlh, TCA_KIND, kind);
    return nlh;
}

/* ---- Qdiscs and classes. ---- */

int
tc_del_root_qdisc(int ifindex, char **errp)
{
    char buf[REQ_SIZE];
    struct nlmsghdr *nlh = tc_request(buf, RTM_DELQDISC, NLM_F_ACK, ifindex,
                                      TC_HANDLE(1, 0), TC_H_ROOT);
    int error = transact(nlh, NULL, NULL, errp);
    /* EINVAL/ENOENT: the default qdisc is in place, which is the goal. */
    if (error == EINVAL || error == ENOENT) {
        if (errp) {
            free(*errp);
            *errp = NULL;
        }
        error = 0;
    }
    return error;
}

int
tc_add_htb_qdisc(int ifindex, char **errp)
{
    char buf[REQ_SIZE];
    struct nlmsghdr *nlh = root_qdisc_request(buf, ifindex, "htb");
    struct tc_htb_glob opt;
    memset(&opt, 0, sizeof opt);
    opt.version = 3;
    opt.rate2quantum = HTB_RATE2QUANTUM;
    opt.defcls = 1;             /* Queue 0 (class 1:1) takes the rest. */
    struct nlattr *nest = mnl_attr_nest_start(nlh, TCA_OPTIONS);
    mnl_attr_put(nlh, TCA_HTB_INIT, sizeof opt, &opt);
    mnl_attr_nest_end(nlh, nest);
    return transact(nlh, NULL, NULL, errp);
}

/* How many bits packet lengths are shifted right to index a 256-entry
 * rate table for frames up to MTU (plus Ethernet and VLAN headers). */
static uint8_t
cell_log(int mtu)
{
    unsigned int size = (unsigned int) (mtu > 0 ? mtu : 1500) + 14 + 4;
    uint8_t log = 0;
    while (size >= 256) {
        size >>= 1;
        log++;
    }
    return log;
}

static void
fill_rate(struct tc_ratespec *r, uint32_t rate, int mtu)
{
    memset(r, 0, sizeof *r);
    r->cell_log = cell_log(mtu);
    r->mpu = ETH_TOTAL_MIN;
    r->rate = rate;
}

/* The rate table: time to send a frame of each size class at R's rate. */
static void
put_rtab(struct nlmsghdr *nlh, uint16_t type, const struct tc_ratespec *r)
{
    uint32_t rtab[256];
    for (unsigned int i = 0; i < 256; i++) {
        uint32_t size = (i + 1) << r->cell_log;
        rtab[i] = bytes_to_ticks(r->rate, MAX(size, r->mpu));
    }
    mnl_attr_put(nlh, type, sizeof rtab, rtab);
}

int
tc_set_htb_class(int ifindex, uint32_t handle, uint32_t parent,
                 const struct tc_htb_class *c, int mtu, char **errp)
{
    struct tc_htb_opt opt;
    memset(&opt, 0, sizeof opt);
    fill_rate(&opt.rate, c->min_rate, mtu);
    fill_rate(&opt.ceil, c->max_rate, mtu);
    /* A quantum below the MTU would starve the class: HTB ignores r2q
     * when a quantum is given. */
    if (c->min_rate / HTB_RATE2QUANTUM < (uint32_t) mtu) {
        opt.quantum = (uint32_t) mtu;
    }
    opt.buffer = calc_buffer(opt.rate.rate, mtu, c->burst);
    opt.cbuffer = calc_buffer(opt.ceil.rate, mtu, c->burst);
    opt.prio = c->priority;

    char buf[REQ_SIZE];
    struct nlmsghdr *nlh = tc_request(buf, RTM_NEWTCLASS,
                                      NLM_F_ACK | NLM_F_CREATE, ifindex,
                                      handle, parent);
    mnl_attr_put_strz(nlh, TCA_KIND, "htb");
    struct nlattr *nest = mnl_attr_nest_start(nlh, TCA_OPTIONS);
    mnl_attr_put(nlh, TCA_HTB_PARMS, sizeof opt, &opt);
    put_rtab(nlh, TCA_HTB_RTAB, &opt.rate);
    put_rtab(nlh, TCA_HTB_CTAB, &opt.ceil);
    mnl_attr_nest_end(nlh, nest);
    return transact(nlh, NULL, NULL, errp);
}

int
tc_add_hfsc_qdisc(int ifindex, char **errp)
{
    char buf[REQ_SIZE];
    struct nlmsghdr *nlh = root_qdisc_request(buf, ifindex, "hfsc");
    struct tc_hfsc_qopt opt = { .defcls = 1 };
    mnl_attr_put(nlh, TCA_OPTIONS, sizeof opt, &opt);
    return transact(nlh, NULL, NULL, errp);
}

int
tc_set_hfsc_class(int ifindex, uint32_t handle, uint32_t parent,
                  uint32_t min_rate, uint32_t max_rate, char **errp)
{
    struct tc_service_curve min = { .m1 = 0, .d = 0, .m2 = min_rate };
    struct tc_service_curve max = { .m1 = 0, .d = 0, .m2 = max_rate };
    char buf[REQ_SIZE];
    struct nlmsghdr *nlh = tc_request(buf, RTM_NEWTCLASS,
                                      NLM_F_ACK | NLM_F_CREATE, ifindex,
                                      handle, parent);
    mnl_attr_put_strz(nlh, TCA_KIND, "hfsc");
    struct nlattr *nest = mnl_attr_nest_start(nlh, TCA_OPTIONS);
    mnl_attr_put(nlh, TCA_HFSC_RSC, sizeof min, &min);
    mnl_attr_put(nlh, TCA_HFSC_FSC, sizeof min, &min);
    mnl_attr_put(nlh, TCA_HFSC_USC, sizeof max, &max);
    mnl_attr_nest_end(nlh, nest);
    return transact(nlh, NULL, NULL, errp);
}

int
tc_del_class(int ifindex, uint32_t handle, char **errp)
{
    char buf[REQ_SIZE];
    struct nlmsghdr *nlh = tc_request(buf, RTM_DELTCLASS, NLM_F_ACK, ifindex,
                                      handle, 0);
    return transact(nlh, NULL, NULL, errp);
}

int
tc_add_sfq_qdisc(int ifindex, uint32_t quantum, uint32_t perturb,
                 char **errp)
{
    char buf[REQ_SIZE];
    struct nlmsghdr *nlh = root_qdisc_request(buf, ifindex, "sfq");
    struct tc_sfq_qopt opt;
    memset(&opt, 0, sizeof opt);
    opt.quantum = quantum;
    opt.perturb_period = (int) perturb;
    mnl_attr_put(nlh, TCA_OPTIONS, sizeof opt, &opt);
    return transact(nlh, NULL, NULL, errp);
}

int
tc_add_codel_qdisc(int ifindex, uint32_t target, uint32_t limit,
                   uint32_t interval, char **errp)
{
    char buf[REQ_SIZE];
    struct nlmsghdr *nlh = root_qdisc_request(buf, ifindex, "codel");
    struct nlattr *nest = mnl_attr_nest_start(nlh, TCA_OPTIONS);
    mnl_attr_put_u32(nlh, TCA_CODEL_TARGET, target);
    mnl_attr_put_u32(nlh, TCA_CODEL_LIMIT, limit);
    mnl_attr_put_u32(nlh, TCA_CODEL_INTERVAL, interval);
    mnl_attr_nest_end(nlh, nest);
    return transact(nlh, NULL, NULL, errp);
}

int
tc_add_fq_codel_qdisc(int ifindex, uint32_t target, uint32_t limit,
                      uint32_t interval, uint32_t flows, uint32_t quantum,
                      char **errp)
{
    char buf[REQ_SIZE];
    struct nlmsghdr *nlh = root_qdisc_request(buf, ifindex, "fq_codel");
    struct nlattr *nest = mnl_attr_nest_start(nlh, TCA_OPTIONS);
    mnl_attr_put_u32(nlh, TCA_FQ_CODEL_TARGET, target);
    mnl_attr_put_u32(nlh, TCA_FQ_CODEL_LIMIT, limit);
    mnl_attr_put_u32(nlh, TCA_FQ_CODEL_INTERVAL, interval);
    mnl_attr_put_u32(nlh, TCA_FQ_CODEL_FLOWS, flows);
    mnl_attr_put_u32(nlh, TCA_FQ_CODEL_QUANTUM, quantum);
    mnl_attr_nest_end(nlh, nest);
    return transact(nlh, NULL, NULL, errp);
}

int
tc_add_netem_qdisc(int ifindex, uint32_t latency, uint32_t limit,
                   uint32_t loss, char **errp)
{
    read_psched();
    char buf[REQ_SIZE];
    struct nlmsghdr *nlh = root_qdisc_request(buf, ifindex, "netem");
    struct tc_netem_qopt opt;
    memset(&opt, 0, sizeof opt);
    opt.latency = (uint32_t) (latency * (ticks_per_s / 1000000));
    opt.limit = limit;
    opt.loss = (uint32_t) floor(UINT32_MAX * (MIN(loss, 100) / 100.0));
    mnl_attr_put(nlh, TCA_OPTIONS, sizeof opt, &opt);
    return transact(nlh, NULL, NULL, errp);
}

/* ---- Class statistics. ---- */

struct dump_aux {
    void (*cb)(uint32_t minor, const struct tc_class_stats *, void *aux);
    void *aux;
};

static int
stats_attr(const struct nlattr *attr, void *aux)
{
    struct tc_class_stats *s = aux;
    uint16_t type = mnl_attr_get_type(attr);
    size_t len = mnl_attr_get_payload_len(attr);
    if (type == TCA_STATS_BASIC && len >= 12) {
        struct gnet_stats_basic b;
        memset(&b, 0, sizeof b);
        memcpy(&b, mnl_attr_get_payload(attr), MIN(len, sizeof b));
        s->tx_bytes = b.bytes;
        s->tx_packets = b.packets;
    } else if (type == TCA_STATS_QUEUE
               && len >= sizeof(struct gnet_stats_queue)) {
        struct gnet_stats_queue q;
        memcpy(&q, mnl_attr_get_payload(attr), sizeof q);
        s->tx_errors = q.drops;
    }
    return MNL_CB_OK;
}

static int
class_attr(const struct nlattr *attr, void *aux)
{
    if (mnl_attr_get_type(attr) == TCA_STATS2) {
        mnl_attr_parse_nested(attr, stats_attr, aux);
    }
    return MNL_CB_OK;
}

static void
dump_class(const struct nlmsghdr *m, void *aux_)
{
    struct dump_aux *aux = aux_;
    const struct tcmsg *tcm = mnl_nlmsg_get_payload(m);
    if (m->nlmsg_type != RTM_NEWTCLASS
        || mnl_nlmsg_get_payload_len(m) < sizeof *tcm
        || TC_H_MAJ(tcm->tcm_handle) >> 16 != 1
        || !TC_H_MIN(tcm->tcm_handle)) {
        return;
    }
    struct tc_class_stats s = { 0, 0, 0 };
    mnl_attr_parse(m, sizeof *tcm, class_attr, &s);
    aux->cb(TC_H_MIN(tcm->tcm_handle), &s, aux->aux);
}

int
tc_dump_classes(int ifindex,
                void (*cb)(uint32_t minor, const struct tc_class_stats *,
                           void *aux),
                void *aux)
{
    char buf[REQ_SIZE];
    struct nlmsghdr *nlh = tc_request(buf, RTM_GETTCLASS, NLM_F_DUMP,
                                      ifindex, 0, 0);
    struct dump_aux da = { cb, aux };
    return transact(nlh, dump_class, &da, NULL);
}
