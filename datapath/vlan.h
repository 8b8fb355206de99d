/* vlan: the Port VLAN rules of ovs-vswitchd.conf.db(5) (columns vlan_mode,
 * tag, trunks, cvlans, other_config:qinq-ethtype) as two lookup tables.
 *
 * Model: every frame inside the switch belongs to a VLAN ('vlan', 0 for
 * untagged traffic on a trunk) and optionally carries a customer VLAN
 * ('cvlan', the second VLAN level, 0 if none).  vlan_input() maps a port's
 * configuration and a parsed frame to that pair (or a drop), and says how
 * many leading tags the switch strips from the frame; tags that are not
 * stripped stay in the frame as payload.  vlan_output() says whether a frame
 * of a given VLAN egresses a port at all and which tag, if any, is pushed.
 * Priority tags (VLAN 0 with the received frame's PCP) are written on
 * untagged egress only as other_config:priority-tags asks (never by
 * default); one received on a trunk with a nonzero PCP leaves trunks as it
 * came, as in OVS.
 *
 * Pure core: no I/O, no allocation; a 'struct vlan_port' is immutable once
 * configured and may be read by many threads. */
#ifndef LANYARD_VLAN_H
#define LANYARD_VLAN_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"

#define VLAN_N_VIDS 4096

enum vlan_mode {
    VLAN_MODE_TRUNK,
    VLAN_MODE_ACCESS,
    VLAN_MODE_NATIVE_TAGGED,
    VLAN_MODE_NATIVE_UNTAGGED,
    VLAN_MODE_DOT1Q_TUNNEL,
    VLAN_N_MODES
};

/* Port other_config:priority-tags: whether a frame that would leave with
 * no VLAN (VID 0) carries a priority tag instead. */
enum vlan_priority_tags {
    VLAN_PRIORITY_TAGS_NEVER,       /* Default: no tag for VID 0. */
    VLAN_PRIORITY_TAGS_IF_NONZERO,  /* Tag if the frame's PCP is nonzero. */
    VLAN_PRIORITY_TAGS_ALWAYS,      /* Tag even with PCP 0 (TCI 0). */
};

struct vlan_bitmap {
    uint64_t bits[VLAN_N_VIDS / 64];
};

static inline bool
vlan_bitmap_get(const struct vlan_bitmap *b, uint16_t vid)
{
    return (b->bits[(vid & 0xfff) / 64] >> (vid % 64)) & 1;
}

static inline void
vlan_bitmap_set(struct vlan_bitmap *b, uint16_t vid, bool value)
{
    uint64_t bit = UINT64_C(1) << (vid % 64);
    if (value) {
        b->bits[(vid & 0xfff) / 64] |= bit;
    } else {
        b->bits[(vid & 0xfff) / 64] &= ~bit;
    }
}

/* One port's effective VLAN configuration (after vlan_port_configure()). */
struct vlan_port {
    enum vlan_mode mode;
    uint16_t tag;               /* Access, native or service VLAN. */
    bool all_trunks;            /* 'trunks' empty: every VLAN. */
    bool all_cvlans;            /* 'cvlans' empty: every customer VLAN. */
    uint16_t qinq_tpid;         /* S-tag TPID for dot1q-tunnel ingress. */
    enum vlan_priority_tags priority_tags;
    struct vlan_bitmap trunks;
    struct vlan_bitmap cvlans;
};

/* The database-level settings of one Port. */
struct vlan_port_config {
    const char *vlan_mode;      /* NULL: default from 'tag'. */
    int tag;                    /* -1: unset. */
    const uint16_t *trunks;
    size_t n_trunks;
    const uint16_t *cvlans;
    size_t n_cvlans;
    const char *qinq_ethtype;   /* NULL, "802.1ad" or "802.1q". */
    enum vlan_priority_tags priority_tags;
};

/* Turns CFG into *PORT the way ovs-vswitchd does: no mode + tag = access,
 * no mode + no tag = trunk; an access/native/tunnel port without a tag uses
 * VLAN 0; native ports always trunk their native VLAN and never VLAN 0.
 * Returns 0 or EINVAL (unknown mode or ethtype, value out of 0..4095), in
 * which case *PORT is untouched. */
int vlan_port_configure(struct vlan_port *port,
                        const struct vlan_port_config *cfg);
/* True if A and B treat every frame alike (same mode, tags, trunks,
 * cvlans, TPID and priority tags). */
bool vlan_port_equal(const struct vlan_port *a, const struct vlan_port *b);
const char *vlan_mode_name(enum vlan_mode);
bool vlan_mode_from_string(const char *, enum vlan_mode *);
/* Parses a priority-tags value the way ovs-vswitchd does: NULL or "never"
 * is never, "if-nonzero" or the legacy boolean "true" is if-nonzero,
 * "always" is always.  Returns false for anything else (ovs-vswitchd then
 * uses never, which *PT is set to). */
bool vlan_priority_tags_from_string(const char *, enum vlan_priority_tags *);

/* Classification of one received frame. */
struct vlan_cls {
    uint16_t vlan;
    uint16_t cvlan;
    uint16_t tpid;              /* TPID to use when the VLAN is re-tagged. */
    uint8_t pcp;                /* Priority to keep when re-tagged. */
    uint8_t in_pcp;             /* PCP of the received outer tag (0 if
                                 * none), for priority tags on egress. */
    bool own_tag;               /* False for an untagged frame on a trunk:
                                 * its VLAN 0 has no tag even for
                                 * priority-tags=always. */
    uint8_t n_strip;            /* Leading tags removed from the frame. */
};

/* Why vlan_input() dropped a frame. */
enum vlan_drop {
    VLAN_ACCEPT = 0,
    VLAN_DROP_TAGGED_ON_ACCESS,     /* Nonzero VID on an access port. */
    VLAN_DROP_NOT_TRUNKED,          /* VID not in the port's trunks. */
    VLAN_DROP_CVLAN_EXCLUDED,       /* Customer VID not in cvlans. */
    VLAN_N_DROPS
};

enum vlan_drop vlan_input(const struct vlan_port *,
                          const struct packet_info *, struct vlan_cls *);

/* Applies other_config:vlan-limit to a parsed frame: only the first LIMIT
 * tags are VLAN headers, later ones are payload (the frame's type becomes
 * the first unparsed TPID), as ovs-vswitchd does.  LIMIT 0 means as many
 * as the parser recognises.  Without this a double-tagged frame would carry
 * its inner VID as customer VLAN, which access ports refuse. */
static inline void
vlan_apply_limit(struct packet_info *info, unsigned int limit)
{
    if (limit && limit < PACKET_MAX_TAGS && info->n_tags > limit) {
        info->eth_type = info->tags[limit].tpid;
        info->n_tags = (uint8_t) limit;
        info->l2_size = (uint16_t) (PACKET_ETH_HLEN
                                    + limit * PACKET_VLAN_HLEN);
    }
}
const char *vlan_drop_name(enum vlan_drop);

enum vlan_out {
    VLAN_OUT_EXCLUDE,           /* Port does not carry this VLAN. */
    VLAN_OUT_UNTAGGED,          /* Egress with no tag for 'vlan'. */
    VLAN_OUT_TAGGED,            /* Push *PUSH in front of the frame. */
};

/* For VLAN_OUT_TAGGED fills *PUSH: the TPID is the input frame's (0x8100 if
 * it had none; the ingress port's qinq-ethtype for dot1q-tunnel ingress) and
 * the priority is kept.  Priority tags, as ovs-vswitchd writes them: on a
 * port with priority-tags if-nonzero or always, a frame that would leave
 * with no tag of its own gets an 0x8100 tag of VID 0 with the received PCP
 * if that is nonzero, and a pushed tag carries the received PCP; with
 * always, VLAN 0 leaves a trunk as a tag of TCI 0 unless the frame came
 * untagged from a trunk. */
enum vlan_out vlan_output(const struct vlan_port *out_port,
                          const struct vlan_cls *, struct packet_tag *push);

/* True if a frame of VLAN VID (customer VLAN CVID) may leave through PORT. */
bool vlan_port_carries(const struct vlan_port *, uint16_t vid, uint16_t cvid);

#endif
