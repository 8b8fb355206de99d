#include "vlan.h"

#include <errno.h>
#include <string.h>

/* What a received frame is, as far as the VLAN rules care. */
enum frame_class {
    FRAME_UNTAGGED,
    FRAME_PRIORITY,             /* Outer tag with VID 0. */
    FRAME_TAGGED,               /* Outer tag with a nonzero VID. */
    N_FRAME_CLASSES
};

/* How the input VLAN is chosen. */
enum in_rule {
    IN_DROP,                    /* Drop (VLAN_DROP_TAGGED_ON_ACCESS). */
    IN_PORT_TAG,                /* VLAN = port tag; strip a priority tag. */
    IN_FRAME_VID,               /* VLAN = outer VID (0 if none), trunked? */
    IN_SERVICE,                 /* VLAN = port tag, cvlan = outer VID. */
};

static const enum in_rule in_table[VLAN_N_MODES][N_FRAME_CLASSES] = {
    /*                          untagged      priority      tagged */
    [VLAN_MODE_TRUNK] =         { IN_FRAME_VID, IN_FRAME_VID, IN_FRAME_VID },
    [VLAN_MODE_ACCESS] =        { IN_PORT_TAG,  IN_PORT_TAG,  IN_DROP },
    [VLAN_MODE_NATIVE_TAGGED] = { IN_PORT_TAG,  IN_PORT_TAG,  IN_FRAME_VID },
    [VLAN_MODE_NATIVE_UNTAGGED] = { IN_PORT_TAG, IN_PORT_TAG, IN_FRAME_VID },
    [VLAN_MODE_DOT1Q_TUNNEL] =  { IN_SERVICE,   IN_SERVICE,   IN_SERVICE },
};

/* How a frame's VLAN relates to an output port. */
enum out_relation {
    REL_NATIVE,                 /* VLAN is the port's tag (and cvlan ok). */
    REL_MEMBER,                 /* VLAN is in the port's trunks. */
    REL_OTHER,
    N_RELATIONS
};

static const enum vlan_out out_table[VLAN_N_MODES][N_RELATIONS] = {
    /*                    native             member           other */
    [VLAN_MODE_TRUNK] = { VLAN_OUT_EXCLUDE, VLAN_OUT_TAGGED, VLAN_OUT_EXCLUDE },
    [VLAN_MODE_ACCESS] = { VLAN_OUT_UNTAGGED, VLAN_OUT_EXCLUDE,
                           VLAN_OUT_EXCLUDE },
    [VLAN_MODE_NATIVE_TAGGED] = { VLAN_OUT_TAGGED, VLAN_OUT_TAGGED,
                                  VLAN_OUT_EXCLUDE },
    [VLAN_MODE_NATIVE_UNTAGGED] = { VLAN_OUT_UNTAGGED, VLAN_OUT_TAGGED,
                                    VLAN_OUT_EXCLUDE },
    [VLAN_MODE_DOT1Q_TUNNEL] = { VLAN_OUT_UNTAGGED, VLAN_OUT_EXCLUDE,
                                 VLAN_OUT_EXCLUDE },
};

static const char *const mode_names[VLAN_N_MODES] = {
    [VLAN_MODE_TRUNK] = "trunk",
    [VLAN_MODE_ACCESS] = "access",
    [VLAN_MODE_NATIVE_TAGGED] = "native-tagged",
    [VLAN_MODE_NATIVE_UNTAGGED] = "native-untagged",
    [VLAN_MODE_DOT1Q_TUNNEL] = "dot1q-tunnel",
};

const char *
vlan_mode_name(enum vlan_mode mode)
{
    return mode < VLAN_N_MODES ? mode_names[mode] : "unknown";
}

bool
vlan_mode_from_string(const char *s, enum vlan_mode *mode)
{
    for (int i = 0; i < VLAN_N_MODES; i++) {
        if (!strcmp(s, mode_names[i])) {
            *mode = (enum vlan_mode) i;
            return true;
        }
    }
    return false;
}

bool
vlan_priority_tags_from_string(const char *s, enum vlan_priority_tags *pt)
{
    *pt = VLAN_PRIORITY_TAGS_NEVER;
    if (!s || !strcmp(s, "never")) {
        return true;
    } else if (!strcmp(s, "if-nonzero") || !strcmp(s, "true")) {
        *pt = VLAN_PRIORITY_TAGS_IF_NONZERO;
        return true;
    } else if (!strcmp(s, "always")) {
        *pt = VLAN_PRIORITY_TAGS_ALWAYS;
        return true;
    }
    return false;
}

static int
fill_bitmap(struct vlan_bitmap *b, bool *all, const uint16_t *vids, size_t n)
{
    memset(b, 0, sizeof *b);
    *all = n == 0;
    for (size_t i = 0; i < n; i++) {
        if (vids[i] >= VLAN_N_VIDS) {
            return EINVAL;
        }
        vlan_bitmap_set(b, vids[i], true);
    }
    return 0;
}

int
vlan_port_configure(struct vlan_port *port, const struct vlan_port_config *cfg)
{
    struct vlan_port p;
    memset(&p, 0, sizeof p);
    if (cfg->tag < -1 || cfg->tag >= VLAN_N_VIDS) {
        return EINVAL;
    }
    if (cfg->vlan_mode) {
        if (!vlan_mode_from_string(cfg->vlan_mode, &p.mode)) {
            return EINVAL;
        }
    } else {
        p.mode = cfg->tag >= 0 ? VLAN_MODE_ACCESS : VLAN_MODE_TRUNK;
    }
    p.tag = p.mode == VLAN_MODE_TRUNK || cfg->tag < 0 ? 0 : (uint16_t) cfg->tag;

    p.priority_tags = cfg->priority_tags;
    p.qinq_tpid = PACKET_TPID_8021AD;
    if (cfg->qinq_ethtype) {
        if (!strcmp(cfg->qinq_ethtype, "802.1q")) {
            p.qinq_tpid = PACKET_TPID_8021Q;
        } else if (strcmp(cfg->qinq_ethtype, "802.1ad")) {
            return EINVAL;
        }
    }
    if (fill_bitmap(&p.trunks, &p.all_trunks, cfg->trunks, cfg->n_trunks)
        || fill_bitmap(&p.cvlans, &p.all_cvlans, cfg->cvlans,
                       cfg->n_cvlans)) {
        return EINVAL;
    }
    if (p.mode == VLAN_MODE_ACCESS || p.mode == VLAN_MODE_DOT1Q_TUNNEL) {
        /* Trunks are meaningless here; make them carry nothing. */
        memset(&p.trunks, 0, sizeof p.trunks);
        p.all_trunks = false;
    }
    if (p.mode == VLAN_MODE_NATIVE_TAGGED
        || p.mode == VLAN_MODE_NATIVE_UNTAGGED) {
        /* The native VLAN is always trunked; VLAN 0 never is (an untagged
         * or priority-tagged frame is in the native VLAN instead). */
        if (!p.all_trunks) {
            vlan_bitmap_set(&p.trunks, p.tag, true);
            vlan_bitmap_set(&p.trunks, 0, false);
        }
    }
    *port = p;
    return 0;
}

bool
vlan_port_equal(const struct vlan_port *a, const struct vlan_port *b)
{
    return a->mode == b->mode && a->tag == b->tag
           && a->all_trunks == b->all_trunks && a->all_cvlans == b->all_cvlans
           && a->qinq_tpid == b->qinq_tpid
           && a->priority_tags == b->priority_tags
           && !memcmp(&a->trunks, &b->trunks, sizeof a->trunks)
           && !memcmp(&a->cvlans, &b->cvlans, sizeof a->cvlans);
}

static bool
port_trunks(const struct vlan_port *port, uint16_t vid)
{
    if (port->all_trunks) {
        /* Native ports with all trunks still never trunk VLAN 0. */
        return vid != 0 || port->mode == VLAN_MODE_TRUNK;
    }
    return vlan_bitmap_get(&port->trunks, vid);
}

static bool
port_allows_cvlan(const struct vlan_port *port, uint16_t cvid)
{
    return port->all_cvlans || vlan_bitmap_get(&port->cvlans, cvid);
}

static enum frame_class
classify_frame(const struct packet_info *info)
{
    if (!info->n_tags) {
        return FRAME_UNTAGGED;
    }
    return packet_tci_vid(info->tags[0].tci) ? FRAME_TAGGED : FRAME_PRIORITY;
}

enum vlan_drop
vlan_input(const struct vlan_port *port, const struct packet_info *info,
           struct vlan_cls *cls)
{
    enum frame_class fc = classify_frame(info);
    uint16_t vid = info->n_tags ? packet_tci_vid(info->tags[0].tci) : 0;

    cls->cvlan = 0;
    cls->tpid = info->n_tags ? info->tags[0].tpid : PACKET_TPID_8021Q;
    cls->pcp = info->n_tags ? packet_tci_pcp(info->tags[0].tci) : 0;
    cls->in_pcp = cls->pcp;
    cls->own_tag = true;
    cls->n_strip = info->n_tags ? 1 : 0;
    switch (in_table[port->mode][fc]) {
    case IN_DROP:
        return VLAN_DROP_TAGGED_ON_ACCESS;
    case IN_PORT_TAG:
        /* A priority tag lends its TPID and priority to the port's VLAN
         * (OVS: an 802.1ad priority tag leaves a trunk as 88a8). */
        cls->vlan = port->tag;
        return VLAN_ACCEPT;
    case IN_FRAME_VID:
        if (!port_trunks(port, vid)) {
            return VLAN_DROP_NOT_TRUNKED;
        }
        cls->vlan = vid;
        cls->own_tag = info->n_tags != 0;
        if (info->n_tags == PACKET_MAX_TAGS) {
            cls->cvlan = packet_tci_vid(info->tags[1].tci);
        }
        return VLAN_ACCEPT;
    case IN_SERVICE:
        if (!port_allows_cvlan(port, vid)) {
            return VLAN_DROP_CVLAN_EXCLUDED;
        }
        cls->vlan = port->tag;
        cls->cvlan = vid;
        cls->tpid = port->qinq_tpid;
        cls->pcp = 0;
        cls->n_strip = 0;       /* The customer tag stays in the frame. */
        return VLAN_ACCEPT;
    }
    return VLAN_DROP_NOT_TRUNKED;
}

static enum out_relation
relation(const struct vlan_port *port, uint16_t vid, uint16_t cvid)
{
    switch (port->mode) {
    case VLAN_MODE_ACCESS:
        return vid == port->tag && cvid == 0 ? REL_NATIVE : REL_OTHER;
    case VLAN_MODE_DOT1Q_TUNNEL:
        return vid == port->tag && port_allows_cvlan(port, cvid) ? REL_NATIVE
                                                                 : REL_OTHER;
    case VLAN_MODE_NATIVE_TAGGED:
    case VLAN_MODE_NATIVE_UNTAGGED:
        if (vid == port->tag) {
            return REL_NATIVE;
        }
        return port_trunks(port, vid) ? REL_MEMBER : REL_OTHER;
    case VLAN_MODE_TRUNK:
    case VLAN_N_MODES:
        break;
    }
    return port_trunks(port, vid) ? REL_MEMBER : REL_OTHER;
}

bool
vlan_port_carries(const struct vlan_port *port, uint16_t vid, uint16_t cvid)
{
    return out_table[port->mode][relation(port, vid, cvid)]
           != VLAN_OUT_EXCLUDE;
}

enum vlan_out
vlan_output(const struct vlan_port *out_port, const struct vlan_cls *cls,
            struct packet_tag *push)
{
    enum vlan_out action
        = out_table[out_port->mode][relation(out_port, cls->vlan, cls->cvlan)];
    enum vlan_priority_tags pt = out_port->priority_tags;
    if (action == VLAN_OUT_TAGGED) {
        /* With priority tags the tag carries the received PCP (OVS takes
         * it from the frame, also for dot1q-tunnel ingress). */
        uint8_t pcp = pt == VLAN_PRIORITY_TAGS_NEVER ? cls->pcp : cls->in_pcp;
        if (cls->vlan == 0 && pcp == 0
            && (pt != VLAN_PRIORITY_TAGS_ALWAYS || !cls->own_tag)) {
            /* An all-zero TCI is no tag; a priority tag with a nonzero PCP
             * stays, as OVS keeps it. */
            return VLAN_OUT_UNTAGGED;
        }
        push->tpid = cls->tpid;
        push->tci = (uint16_t) ((pcp << 13) | cls->vlan);
    } else if (action == VLAN_OUT_UNTAGGED && cls->cvlan == 0
               && cls->n_strip && pt != VLAN_PRIORITY_TAGS_NEVER
               && cls->in_pcp) {
        /* OVS pops the VLAN's tag first, so even always adds no tag of
         * TCI 0 here.  A customer tag left in the frame keeps its PCP
         * (OVS rewrites it to the received one: known difference). */
        push->tpid = PACKET_TPID_8021Q;
        push->tci = (uint16_t) (cls->in_pcp << 13);
        return VLAN_OUT_TAGGED;
    }
    return action;
}

const char *
vlan_drop_name(enum vlan_drop drop)
{
    switch (drop) {
    case VLAN_ACCEPT:
        return "accept";
    case VLAN_DROP_TAGGED_ON_ACCESS:
        return "tagged-on-access-port";
    case VLAN_DROP_NOT_TRUNKED:
        return "vlan-not-trunked";
    case VLAN_DROP_CVLAN_EXCLUDED:
        return "cvlan-excluded";
    case VLAN_N_DROPS:
        break;
    }
    return "unknown";
}
