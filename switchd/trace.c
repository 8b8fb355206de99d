#include "trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp.h"
#include "ds.h"
#include "netdev-ctl.h"
#include "util.h"

#define FRAME_MIN 60

struct trace_flow {
    const char *in_port;
    uint8_t src[6], dst[6];
    int vid;                    /* -1: untagged. */
    int pcp;
    uint16_t type;
};

static bool
parse_u16(const char *s, unsigned int max, unsigned int *v)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(s, &end, 0);
    if (errno || end == s || *end || n > max) {
        return false;
    }
    *v = (unsigned int) n;
    return true;
}

/* Parses one "key=value" (or shorthand) field into F.  Returns NULL or an
 * error message (allocated). */
static char *
parse_field(char *field, struct trace_flow *f)
{
    static const struct { const char *name; uint16_t type; } shorthands[] = {
        { "ip", 0x0800 }, { "icmp", 0x0800 }, { "tcp", 0x0800 },
        { "udp", 0x0800 }, { "arp", 0x0806 }, { "ipv6", 0x86dd },
        { "tcp6", 0x86dd }, { "udp6", 0x86dd }, { "icmp6", 0x86dd },
    };
    char *value = strchr(field, '=');
    unsigned int v;
    if (!value) {
        for (size_t i = 0; i < ARRAY_SIZE(shorthands); i++) {
            if (!strcmp(field, shorthands[i].name)) {
                f->type = shorthands[i].type;
                return NULL;
            }
        }
        return xasprintf("%s: unknown field (expected key=value)", field);
    }
    *value++ = '\0';
    if (!strcmp(field, "in_port")) {
        f->in_port = value;
    } else if (!strcmp(field, "dl_src") || !strcmp(field, "eth_src")) {
        if (!netdev_ctl_parse_mac(value, f->src)) {
            return xasprintf("%s: \"%s\" is not a MAC address", field, value);
        }
    } else if (!strcmp(field, "dl_dst") || !strcmp(field, "eth_dst")) {
        if (!netdev_ctl_parse_mac(value, f->dst)) {
            return xasprintf("%s: \"%s\" is not a MAC address", field, value);
        }
    } else if (!strcmp(field, "dl_vlan")) {
        if (!parse_u16(value, 0xffff, &v) || (v > 4095 && v != 0xffff)) {
            return xasprintf("dl_vlan: \"%s\" is not 0..4095 or 0xffff", value);
        }
        f->vid = v == 0xffff ? -1 : (int) v;
    } else if (!strcmp(field, "dl_vlan_pcp") || !strcmp(field, "vlan_pcp")) {
        if (!parse_u16(value, 7, &v)) {
            return xasprintf("%s: \"%s\" is not 0..7", field, value);
        }
        f->pcp = (int) v;
    } else if (!strcmp(field, "vlan_tci")) {
        if (!parse_u16(value, 0xffff, &v)) {
            return xasprintf("vlan_tci: \"%s\" is not a 16-bit value", value);
        }
        /* As in OVS flows: the CFI bit (0x1000) says a tag is present. */
        f->vid = v & 0x1000 ? (int) (v & 0xfff) : -1;
        f->pcp = (int) (v >> 13);
    } else if (!strcmp(field, "dl_type") || !strcmp(field, "eth_type")) {
        if (!parse_u16(value, 0xffff, &v)) {
            return xasprintf("%s: \"%s\" is not a 16-bit value", field, value);
        }
        f->type = (uint16_t) v;
    } else {
        return xasprintf("%s: unknown field (supported: in_port, dl_src, "
                         "dl_dst, dl_vlan, dl_vlan_pcp, vlan_tci, dl_type)",
                         field);
    }
    return NULL;
}

static char *
parse_flow(char *text, struct trace_flow *f)
{
    memset(f, 0, sizeof *f);
    f->vid = -1;
    f->type = 0x0800;
    char *save = NULL;
    for (char *tok = strtok_r(text, ", ", &save); tok;
         tok = strtok_r(NULL, ", ", &save)) {
        char *error = parse_field(tok, f);
        if (error) {
            return error;
        }
    }
    return f->in_port ? NULL : xstrdup("the flow must give in_port");
}

static size_t
build_frame(const struct trace_flow *f, uint8_t *buf)
{
    memset(buf, 0, FRAME_MIN);
    memcpy(buf, f->dst, 6);
    memcpy(buf + 6, f->src, 6);
    size_t ofs = 12;
    if (f->vid >= 0) {
        uint16_t tci = (uint16_t) (f->pcp << 13 | f->vid);
        buf[ofs++] = 0x81;
        buf[ofs++] = 0x00;
        buf[ofs++] = (uint8_t) (tci >> 8);
        buf[ofs++] = (uint8_t) tci;
    }
    buf[ofs++] = (uint8_t) (f->type >> 8);
    buf[ofs++] = (uint8_t) f->type;
    return FRAME_MIN;
}

static void
put_mac(struct ds *out, const uint8_t *m)
{
    ds_put_format(out, "%02x:%02x:%02x:%02x:%02x:%02x",
                  m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void
put_vid_set(struct ds *out, const struct vlan_bitmap *b)
{
    int start = -1, n = 0;
    for (int v = 0; v <= VLAN_N_VIDS; v++) {
        bool in = v < VLAN_N_VIDS && vlan_bitmap_get(b, (uint16_t) v);
        if (in && start < 0) {
            start = v;
        } else if (!in && start >= 0) {
            ds_put_format(out, n++ ? ",%d" : "%d", start);
            if (v - 1 > start) {
                ds_put_format(out, "-%d", v - 1);
            }
            start = -1;
        }
    }
    if (!n) {
        ds_put_cstr(out, "none");
    }
}

static void
put_port_vlan(struct ds *out, const struct vlan_port *p)
{
    ds_put_format(out, "vlan_mode=%s", vlan_mode_name(p->mode));
    if (p->mode != VLAN_MODE_TRUNK) {
        ds_put_format(out, " tag=%u", p->tag);
    }
    if (p->mode != VLAN_MODE_ACCESS && p->mode != VLAN_MODE_DOT1Q_TUNNEL) {
        ds_put_cstr(out, " trunks=");
        if (p->all_trunks) {
            ds_put_cstr(out, "all");
        } else {
            put_vid_set(out, &p->trunks);
        }
    }
    if (p->mode == VLAN_MODE_DOT1Q_TUNNEL && !p->all_cvlans) {
        ds_put_cstr(out, " cvlans=");
        put_vid_set(out, &p->cvlans);
    }
}

static void
put_tags(struct ds *out, const struct packet_info *info)
{
    if (!info->n_tags) {
        ds_put_cstr(out, "untagged");
    }
    for (int i = 0; i < info->n_tags; i++) {
        const struct packet_tag *t = &info->tags[i];
        ds_put_format(out, "%s0x%04x vid %u pcp %u", i ? " + " : "", t->tpid,
                      packet_tci_vid(t->tci), packet_tci_pcp(t->tci));
    }
}

static void
explain_vlan(const struct dp_trace_result *r, struct ds *out)
{
    const struct fwd_trace *t = &r->trace;
    const struct vlan_port *p = &r->in_vlan;
    uint16_t vid = t->info.n_tags ? packet_tci_vid(t->info.tags[0].tci) : 0;
    ds_put_cstr(out, "VLAN input: ");
    switch (t->vlan_drop) {
    case VLAN_DROP_TAGGED_ON_ACCESS:
        ds_put_format(out, "DROP (tagged-on-access-port): an access port "
                      "accepts only untagged or priority-tagged frames and "
                      "this one is tagged with VID %u.\n", vid);
        return;
    case VLAN_DROP_NOT_TRUNKED:
        if (t->info.n_tags && vid) {
            ds_put_format(out, "DROP (vlan-not-trunked): VLAN %u is not in "
                          "this port's trunks.\n", vid);
        } else {
            ds_put_format(out, "DROP (vlan-not-trunked): an %s frame is "
                          "VLAN 0 on a trunk port, and VLAN 0 is not in "
                          "this port's trunks.\n",
                          t->info.n_tags ? "priority-tagged" : "untagged");
        }
        return;
    case VLAN_DROP_CVLAN_EXCLUDED:
        ds_put_format(out, "DROP (cvlan-excluded): customer VLAN %u is not "
                      "in this dot1q-tunnel port's cvlans.\n", vid);
        return;
    case VLAN_ACCEPT:
    case VLAN_N_DROPS:
        break;
    }
    uint16_t vlan = r->dec.cls.vlan;
    switch (p->mode) {
    case VLAN_MODE_ACCESS:
        ds_put_format(out, "VLAN %u: access port, the frame joins the "
                      "port's VLAN%s.\n", vlan,
                      t->info.n_tags ? " (its priority tag is removed)" : "");
        break;
    case VLAN_MODE_DOT1Q_TUNNEL:
        ds_put_format(out, "VLAN %u: dot1q-tunnel port, service VLAN %u; "
                      "customer VLAN %u stays in the frame.\n", vlan, vlan,
                      r->dec.cls.cvlan);
        break;
    case VLAN_MODE_NATIVE_TAGGED:
    case VLAN_MODE_NATIVE_UNTAGGED:
        if (!t->info.n_tags || !vid) {
            ds_put_format(out, "VLAN %u: %s frame on a %s port joins the "
                          "native VLAN.\n", vlan,
                          t->info.n_tags ? "priority-tagged" : "untagged",
                          vlan_mode_name(p->mode));
            break;
        }
        /* Tagged frames are classified as on a trunk. */
        /* fall through */
    case VLAN_MODE_TRUNK:
    case VLAN_N_MODES:
        if (t->info.n_tags) {
            ds_put_format(out, "VLAN %u: the outer tag's VID is trunked on "
                          "this port; the tag is removed inside the switch.\n",
                          vlan);
        } else {
            ds_put_cstr(out, "VLAN 0: untagged frame on a trunk that "
                        "carries VLAN 0.\n");
        }
        break;
    }
    if (r->dec.cls.cvlan && p->mode != VLAN_MODE_DOT1Q_TUNNEL) {
        ds_put_format(out, "  The inner tag (VID %u) counts as customer VLAN "
                      "(vlan-limit=%u): ports in access mode will not "
                      "carry it.\n", r->dec.cls.cvlan, r->vlan_limit);
    }
}

/* Port number NO as OVS prints OpenFlow ports: the bridge's local port is
 * "LOCAL".  BUF has room for 12 bytes. */
static const char *
port_str(uint32_t no, char buf[12])
{
    if (no == DP_PORT_LOCAL) {
        return "LOCAL";
    }
    snprintf(buf, 12, "%u", no);
    return buf;
}

static void
explain_learning(const struct dp_trace_result *r, const struct trace_flow *f,
                 struct ds *out)
{
    const struct fwd_trace *t = &r->trace;
    uint16_t vlan = r->dec.cls.vlan;
    char b1[12], b2[12];
    ds_put_cstr(out, "Learning: ");
    if (!t->learning) {
        ds_put_format(out, "none: VLAN %u is in the bridge's flood_vlans.\n",
                      vlan);
        return;
    }
    put_mac(out, f->src);
    switch (t->learn) {
    case FWD_LEARN_NONE:
        ds_put_cstr(out, " is a multicast address: not learned.\n");
        break;
    case FWD_LEARN_NEW:
        ds_put_format(out, " would be learned on VLAN %u at port %s "
                      "(new entry).\n", vlan, port_str(r->in_port_no, b1));
        break;
    case FWD_LEARN_REFRESH:
        ds_put_format(out, " is already learned on VLAN %u at port %s "
                      "(entry refreshed).\n", vlan, port_str(r->in_port_no, b1));
        break;
    case FWD_LEARN_MOVE:
        ds_put_format(out, " is learned on VLAN %u at port %s: it would move "
                      "to port %s (MAC move).\n", vlan,
                      port_str(t->learn_old_port, b1),
                      port_str(r->in_port_no, b2));
        break;
    }
}

static void
explain_lookup(const struct dp_trace_result *r, const struct trace_flow *f,
               struct ds *out)
{
    const struct fwd_trace *t = &r->trace;
    uint16_t vlan = r->dec.cls.vlan;
    char b1[12];
    ds_put_cstr(out, "Destination: ");
    put_mac(out, f->dst);
    switch (t->lookup) {
    case FWD_LOOKUP_NO_LEARNING:
        ds_put_format(out, ": no MAC table on a flood VLAN, flood within "
                      "VLAN %u.\n", vlan);
        break;
    case FWD_LOOKUP_MULTICAST:
        ds_put_format(out, " is %s: flood within VLAN %u.\n",
                      memcmp(f->dst, "\xff\xff\xff\xff\xff\xff", 6)
                      ? "multicast" : "broadcast", vlan);
        break;
    case FWD_LOOKUP_MISS:
        ds_put_format(out, " is not in the MAC table on VLAN %u (unknown "
                      "unicast): flood within the VLAN.\n", vlan);
        break;
    case FWD_LOOKUP_STALE:
        ds_put_format(out, " was learned on port %s, which no longer exists:"
                      " flood within VLAN %u.\n", port_str(t->lookup_port, b1),
                      vlan);
        break;
    case FWD_LOOKUP_HIT:
        ds_put_format(out, " is learned on VLAN %u at port %s (%s)", vlan,
                      port_str(t->lookup_port, b1),
                      r->lookup_name ? r->lookup_name : "?");
        if (r->dec.out == FWD_OUT_DROP) {
            ds_put_cstr(out, ", the input port: DROP (same-port), a frame "
                        "is never sent back where it came from.\n");
        } else {
            ds_put_cstr(out, ": unicast to that port.\n");
        }
        break;
    }
}

/* What uses reserved address M (fwd_mac_is_reserved()), in a few words. */
static const char *
reserved_use(const uint8_t *m)
{
    if (m[0] == 0x01 && m[1] == 0x80) {
        switch (m[5]) {
        case 0x00: return "Spanning Tree BPDUs";
        case 0x01: return "Ethernet pause frames";
        case 0x02: return "slow protocols: LACP, marker, OAM";
        case 0x03: return "802.1X port authentication";
        case 0x0e: return "LLDP";
        default: return "IEEE 802.1 link-local protocols";
        }
    }
    if (m[0] == 0x00) {
        return "Extreme Networks EDP/EAPS";
    }
    switch (m[5]) {
    case 0xcc: return "Cisco CDP, VTP, DTP, PAgP, UDLD";
    case 0xcd: return m[3] == 0xcd ? "Cisco UplinkFast" : "Cisco PVST+";
    case 0x00: return "Cisco ISL";
    default: return "Cisco CFM";
    }
}

static void
explain_reserved(const struct trace_flow *f, struct ds *out)
{
    ds_put_cstr(out, "Destination: ");
    put_mac(out, f->dst);
    ds_put_format(out, " is a reserved address (%s) that a bridge does not "
                  "forward: DROP (reserved-destination), without learning "
                  "the source; other_config:forward-bpdu=true on the "
                  "bridge would switch it like other multicast.\n",
                  reserved_use(f->dst));
}

/* One output port, and its datapath actions relative to the input frame. */
static void
explain_output(const struct dp_trace_result *r, const struct dp_trace_out *o,
               struct ds *out, struct ds *actions)
{
    const struct packet_info *in = &r->trace.info;
    char b1[12];
    ds_put_format(out, "  port %s (%s): ", port_str(o->port_no, b1), o->name);
    if (!o->carried) {
        ds_put_format(out, "skipped, the port does not carry VLAN %u",
                      r->dec.cls.vlan);
        if (r->dec.cls.cvlan) {
            ds_put_format(out, " with customer VLAN %u", r->dec.cls.cvlan);
        }
        ds_put_cstr(out, ".\n");
        return;
    }
    ds_put_cstr(out, "sent ");
    put_tags(out, &o->frame);
    bool same = o->frame.n_tags == in->n_tags
                && !memcmp(o->frame.tags, in->tags,
                           in->n_tags * sizeof in->tags[0]);
    int strip = r->dec.cls.n_strip;
    if (same) {
        ds_put_cstr(out, " (unchanged)");
    } else if (o->frame.n_tags + strip > in->n_tags) {
        const struct packet_tag *t = &o->frame.tags[0];
        ds_put_format(out, " (%spushed 0x%04x vid %u)",
                      strip ? "input tag removed, " : "", t->tpid,
                      packet_tci_vid(t->tci));
    } else {
        ds_put_cstr(out, " (input tag removed)");
    }
    ds_put_cstr(out, ".\n");
    if (actions->length) {
        ds_put_char(actions, ',');
    }
    if (!same && strip) {
        ds_put_cstr(actions, "pop_vlan,");
    }
    if (!same && o->frame.n_tags + strip > in->n_tags) {
        const struct packet_tag *t = &o->frame.tags[0];
        ds_put_format(actions, "push_vlan(tpid=0x%04x,vid=%u,pcp=%u),",
                      t->tpid, packet_tci_vid(t->tci), packet_tci_pcp(t->tci));
    }
    ds_put_format(actions, "%u", o->port_no);
}

static void
explain(const struct dp_trace_result *r, const struct trace_flow *f,
        const char *bridge, struct ds *out)
{
    ds_put_format(out, "Bridge: %s\n", bridge);
    char b1[12];
    if (r->in_member) {         /* A bond member: the bond's port learns. */
        ds_put_format(out, "Input port: %u (%s), member of bond port %s "
                      "(%s), ", r->in_member_no, r->in_member,
                      port_str(r->in_port_no, b1), r->in_name);
    } else {
        ds_put_format(out, "Input port: %s (%s), ",
                      port_str(r->in_port_no, b1), r->in_name);
    }
    put_port_vlan(out, &r->in_vlan);
    ds_put_cstr(out, "\nFrame: ");
    put_mac(out, f->src);
    ds_put_cstr(out, " > ");
    put_mac(out, f->dst);
    ds_put_cstr(out, ", ");
    if (r->trace.parse) {
        ds_put_format(out, "\nParser: DROP (%s).\nDatapath actions: drop\n",
                      packet_error_name(r->trace.parse));
        return;
    }
    put_tags(out, &r->trace.info);
    ds_put_format(out, ", type 0x%04x\n", r->trace.info.eth_type);
    explain_vlan(r, out);
    if (r->trace.vlan_drop) {
        ds_put_cstr(out, "Datapath actions: drop\n");
        return;
    }
    size_t n_normal = 0;
    while (n_normal < r->n_outs && !r->outs[n_normal].mirror) {
        n_normal++;
    }
    if (r->in_mirror_output) {
        ds_put_cstr(out, "Input port is a mirror output port: dropping "
                    "(no learning, no forwarding).\n");
    } else if (r->trace.reserved_drop) {
        explain_reserved(f, out);
    } else {
        explain_learning(r, f, out);
        explain_lookup(r, f, out);
    }
    if (r->out_mirror_output) {
        ds_put_cstr(out, "Learned port is a mirror output port: "
                    "dropping.\n");
    }
    struct ds actions = DS_EMPTY_INITIALIZER;
    if (n_normal) {
        ds_put_format(out, "Output (%s):\n",
                      r->dec.out == FWD_OUT_FLOOD ? "flood" : "unicast");
    }
    for (size_t i = 0; i < r->n_outs; i++) {
        if (r->outs[i].mirror) {
            ds_put_format(out, "Mirror %s:\n", r->outs[i].mirror);
        }
        explain_output(r, &r->outs[i], out, &actions);
    }
    if (r->dec.out == FWD_OUT_FLOOD && !n_normal) {
        ds_put_cstr(out, "Output: the bridge has no other port.\n");
    }
    ds_put_format(out, "Datapath actions: %s\n",
                  actions.length ? ds_cstr(&actions) : "drop");
    ds_destroy(&actions);
}

int
trace_command(struct dp *dp, const char *default_bridge, int argc,
              const char *argv[], struct ds *out)
{
    const char *bridge = argc > 2 ? argv[1] : default_bridge;
    if (!bridge) {
        ds_put_cstr(out, "give the bridge: ofproto/trace BRIDGE FLOW");
        return EINVAL;
    }
    char *text = xstrdup(argv[argc - 1]);
    struct trace_flow f;
    char *error = parse_flow(text, &f);
    if (error) {
        ds_put_format(out, "invalid flow: %s", error);
        free(error);
        free(text);
        return EINVAL;
    }
    const char *in_port = !strcmp(f.in_port, "LOCAL") ? bridge : f.in_port;
    uint8_t frame[FRAME_MIN];
    size_t size = build_frame(&f, frame);
    struct dp_trace_result r;
    int err = dp_trace(dp, bridge, in_port, frame, size, &r);
    if (err == ENOENT) {
        ds_put_format(out, "%s: no such bridge", bridge);
    } else if (err == ENODEV) {
        ds_put_format(out, "%s: no such port on bridge %s", f.in_port, bridge);
    } else {
        explain(&r, &f, bridge, out);
    }
    dp_trace_result_destroy(&r);
    free(text);
    return err;
}
