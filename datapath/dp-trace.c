/* dp-trace: ofproto/trace: what the datapath would do with one frame,
 * decided on the live snapshot without sending anything. */
#include "dp-private.h"

#include <errno.h>
#include <string.h>

#include "mirror.h"
#include "util.h"

/* The snapshot view of BR (under dp->mutex, which keeps it alive). */
static const struct snap_bridge *
snap_find_bridge(const struct dp *dp, const struct dp_bridge *br)
{
    const struct dp_snap *snap = atomic_load(&dp->snap);
    for (size_t i = 0; i < snap->n_bridges; i++) {
        if (snap->bridges[i].br == br) {
            return &snap->bridges[i];
        }
    }
    return NULL;
}

static const char *
bridge_port_name(const struct dp_bridge *br, uint32_t port_no)
{
    struct dp_bport *bp = dp_bridge_port_by_no(br, port_no);
    return bp ? bp->name : NULL;
}

/* Fills OUT with how the traced frame leaves port index P. */
static void
trace_output(const struct snap_bridge *sb, uint32_t p, const char *name,
             const struct dp_packet *pkt, const struct fwd_decision *dec,
             struct dp_trace_out *out)
{
    struct dp_txd txd;
    uint8_t buf[256];
    out->port_no = sb->ports[p].port_no;
    out->name = xstrdup(name ? name : "?");
    out->carried = fwd_egress(&sb->ports[p], dec, pkt, &txd);
    size_t n = out->carried ? fwd_txd_copy(&txd, buf, sizeof buf) : 0;
    if (!n || packet_parse(buf, n, &out->frame)) {
        memset(&out->frame, 0, sizeof out->frame);
    }
}

/* ofproto/trace of mirroring: frames from, or unicast to, a mirror
 * output port are not forwarded. */
static void
trace_mirror_drops(const struct mirror_set *ms, const struct snap_bridge *sb,
                   uint32_t in_idx, struct dp_trace_result *r)
{
    r->in_mirror_output = mirror_set_reserves(ms, sb->ports[in_idx].port_no);
    r->out_mirror_output = !r->in_mirror_output && r->dec.out >= 0
        && mirror_set_reserves(ms, sb->ports[r->dec.out].port_no);
    if (r->in_mirror_output || r->out_mirror_output) {
        r->dec.out = FWD_OUT_DROP;
    }
}

#define TRACE_MAX_COPIES 64

/* Appends to R->outs the copies mirroring sends of PKT. */
static void
trace_mirror_copies(const struct mirror_set *ms, const struct snap_bridge *sb,
                    uint32_t in_idx, const struct dp_packet *pkt,
                    struct dp_trace_result *r)
{
    struct mirror_copy *copies = xcalloc(TRACE_MAX_COPIES, sizeof *copies);
    size_t n = mirror_trace(ms, &sb->fwd, sb->dports, in_idx, pkt,
                            r->in_mirror_output ? NULL : &r->dec, copies,
                            TRACE_MAX_COPIES);
    for (size_t i = 0; i < n; i++) {
        struct dp_trace_out *out = &r->outs[r->n_outs++];
        uint8_t buf[256];
        size_t len = fwd_txd_copy(&copies[i].txd, buf, sizeof buf);
        out->port_no = sb->ports[copies[i].port].port_no;
        out->name = xstrdup(sb->dports[copies[i].port]->name);
        out->mirror = xstrdup(copies[i].mirror);
        out->carried = true;
        if (!len || packet_parse(buf, len, &out->frame)) {
            memset(&out->frame, 0, sizeof out->frame);
        }
    }
    free(copies);
}

int
dp_trace(struct dp *dp, const char *bridge, const char *in_port,
         const uint8_t *frame, size_t size, struct dp_trace_result *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_lock(&dp->mutex);
    struct dp_bridge *br = dp_find_bridge(dp, bridge);
    const struct snap_bridge *sb = br ? snap_find_bridge(dp, br) : NULL;
    const struct dp_alias *alias;
    struct dp_bport *in = sb ? dp_bridge_find_port(dp, br, in_port, &alias)
                          : NULL;
    if (!in) {
        pthread_mutex_unlock(&dp->mutex);
        return sb ? ENODEV : ENOENT;
    }
    uint32_t in_idx = (uint32_t) in->idx;  /* The snapshot's index too. */
    struct dp_packet pkt = { .data = (uint8_t *) frame,
                             .size = (uint32_t) size };
    r->in_port_no = in->port_no;
    r->in_name = xstrdup(in->name);
    if (alias) {                /* A bond member; the bond forwards. */
        r->in_member_no = alias->port_no;
        r->in_member = xstrdup(alias->name);
    }
    r->in_vlan = *sb->ports[in_idx].vlan;
    r->vlan_limit = sb->fwd.vlan_limit;
    pthread_mutex_lock(&br->fdb_mutex);
    fwd_trace(&sb->fwd, in_idx, br->fdb, &pkt, &r->dec, &r->trace);
    pthread_mutex_unlock(&br->fdb_mutex);
    const char *lname = bridge_port_name(br, r->trace.lookup_port);
    r->lookup_name = lname ? xstrdup(lname) : NULL;
    const struct mirror_set *ms = sb->fwd.mirrors;
    if (ms) {
        trace_mirror_drops(ms, sb, in_idx, r);
    }

    r->outs = xcalloc(sb->fwd.n_ports + 1 + TRACE_MAX_COPIES,
                      sizeof *r->outs);
    /* Under dp->mutex the live snapshot's indexes are BR's array indexes;
     * outputs are listed by port number, as before. */
    struct dp_bport **sorted = dp_bridge_sorted_ports(br);
    for (size_t k = 0; k < br->n_ports; k++) {
        uint32_t p = (uint32_t) sorted[k]->idx;
        if (p != in_idx && (r->dec.out == FWD_OUT_FLOOD
                            || r->dec.out == (int32_t) p)
            && !(ms && mirror_set_reserves(ms, sb->ports[p].port_no))) {
            trace_output(sb, p, sorted[k]->name, &pkt, &r->dec,
                         &r->outs[r->n_outs++]);
        }
    }
    free(sorted);
    if (ms) {
        trace_mirror_copies(ms, sb, in_idx, &pkt, r);
    }
    pthread_mutex_unlock(&dp->mutex);
    return 0;
}

void
dp_trace_result_destroy(struct dp_trace_result *r)
{
    if (!r) {
        return;
    }
    for (size_t i = 0; i < r->n_outs; i++) {
        free(r->outs[i].name);
        free(r->outs[i].mirror);
    }
    free(r->outs);
    free(r->in_name);
    free(r->in_member);
    free(r->lookup_name);
}
