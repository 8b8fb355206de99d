/* lacp: the Link Aggregation Control Protocol (IEEE 802.1AX, formerly
 * 802.3ad) for one bond, as Open vSwitch runs it.
 *
 * Pure core: no I/O and no clock.  The caller (the "bond" port class)
 * hands in the slow-protocols frames a member received, the time, and a
 * callback that transmits the LACPDUs that are due; it reads back which
 * members LACP lets carry traffic.  Not thread safe: the caller serialises
 * every call on one object.
 *
 * Per member the receive machine has three states, as OVS's: "current"
 * (partner information fresh), "expired" (a PDU is overdue: the member asks
 * its partner for fast transmission and stops counting the partner as in
 * sync) and "defaulted" (no partner).  Selection attaches the members whose
 * partner has the same system and key as the best-priority member
 * (802.1AX's Selection Logic, simplified as OVS does to one aggregator);
 * a member may carry traffic once attached and its partner reports itself
 * in sync.  With fallback_ab, defaulted members stay attached and usable,
 * so that a bond whose partner does not speak LACP works as active-backup.
 *
 * Transmission: active bonds always send; passive ones only to a partner
 * that spoke first.  A PDU goes out when the partner's view of us
 * (its last PDU's partner fields) differs from ours, and periodically at
 * the rate the partner asked for (1 s fast, 30 s slow).  Marker requests
 * (802.1AX Marker Protocol) are answered with a marker response. */
#ifndef LANYARD_LACP_H
#define LANYARD_LACP_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ds;

#define LACP_ETH_TYPE 0x8809            /* Slow protocols. */
#define LACP_PDU_SIZE 110               /* LACPDU and marker PDU, after the
                                         * Ethernet header. */
#define LACP_FRAME_SIZE (14 + LACP_PDU_SIZE)

/* Actor or partner information carried in an LACPDU (host byte order). */
struct lacp_info {
    uint16_t sys_priority;
    uint8_t sys_id[6];
    uint16_t key;
    uint16_t port_priority;
    uint16_t port_id;
    uint8_t state;              /* LACP_STATE_* bits. */
};

#define LACP_STATE_ACTIVITY     0x01
#define LACP_STATE_TIMEOUT      0x02    /* Short (fast) timeout. */
#define LACP_STATE_AGGREGATION  0x04
#define LACP_STATE_SYNC         0x08
#define LACP_STATE_COLLECTING   0x10
#define LACP_STATE_DISTRIBUTING 0x20
#define LACP_STATE_DEFAULTED    0x40
#define LACP_STATE_EXPIRED      0x80

enum lacp_pdu_type {
    LACP_PDU_LACP = 1,              /* An LACPDU. */
    LACP_PDU_MARKER_REQUEST = 2,    /* A marker information PDU. */
    LACP_PDU_MARKER_RESPONSE = 3,
};

struct lacp_pdu {
    enum lacp_pdu_type type;
    struct lacp_info actor, partner;    /* LACP_PDU_LACP. */
    uint8_t marker[16];                 /* Markers: the TLV's 16 bytes. */
};

/* Parses the SIZE bytes that follow a slow-protocols Ethernet header.
 * Returns 0, EINVAL (truncated or malformed LACPDU or marker PDU, wrong
 * TLV types or lengths) or EPROTONOSUPPORT (another slow protocol, e.g.
 * OAM). */
int lacp_pdu_parse(const uint8_t *data, size_t size, struct lacp_pdu *);

/* Writes the LACP_PDU_SIZE bytes of an LACPDU from ACTOR and PARTNER. */
void lacp_pdu_compose(const struct lacp_info *actor,
                      const struct lacp_info *partner,
                      uint8_t out[LACP_PDU_SIZE]);

/* Writes a complete slow-protocols frame (LACP_FRAME_SIZE bytes) with
 * source SRC_MAC around PDU. */
void lacp_frame_compose(const uint8_t src_mac[6],
                        const uint8_t pdu[LACP_PDU_SIZE],
                        uint8_t out[LACP_FRAME_SIZE]);

struct lacp_settings {
    const char *name;           /* The bond's (Port's) name. */
    uint8_t sys_id[6];          /* Nonzero. */
    uint16_t sys_priority;
    bool active;                /* Else passive. */
    bool fast;                  /* Ask the partner for 1 s PDUs. */
    bool fallback_ab;
};

struct lacp_member_settings {
    const char *name;
    uint16_t port_id;           /* Nonzero. */
    uint16_t port_priority;
    uint16_t key;               /* 0: the port id of the key member. */
};

/* Creates LACP for a bond of N members (copied) at NOW.  The member whose
 * port id is lowest provides the bond's aggregation key.  An active bond's
 * members start "expired" (asking for fast PDUs for 3 s), a passive one's
 * "defaulted", as in OVS. */
struct lacp *lacp_create(const struct lacp_settings *,
                         const struct lacp_member_settings *, size_t n,
                         long long now);
void lacp_destroy(struct lacp *);       /* Accepts NULL. */

/* Processes the slow-protocols payload (SIZE bytes after the Ethernet
 * header) received on member IDX at NOW.  Returns its type, or 0 if it was
 * counted as bad.  For a marker request, fills REPLY with the marker
 * response to send back on the same member and returns
 * LACP_PDU_MARKER_REQUEST. */
int lacp_process(struct lacp *, size_t idx, const uint8_t *data, size_t size,
                 long long now, uint8_t reply[LACP_PDU_SIZE]);

/* Member IDX's port id becomes PORT_ID (nonzero), e.g. once its OpenFlow
 * port number is known.  As in OVS a change restarts negotiation on it. */
void lacp_set_port_id(struct lacp *, size_t idx, uint16_t port_id,
                      long long now);

/* Member IDX's carrier changed to UP. */
void lacp_carrier_changed(struct lacp *, size_t idx, bool up, long long now);

/* Runs the timers and selection at NOW and transmits what is due through
 * SEND (one LACPDU of LACP_PDU_SIZE bytes for member IDX). */
typedef void lacp_send_func(void *aux, size_t idx, const uint8_t *pdu);
void lacp_run(struct lacp *, long long now, lacp_send_func *, void *aux);
/* When lacp_run() next has work (a PDU due or a partner expiring). */
long long lacp_next_wake(const struct lacp *);

/* Whether member IDX may carry traffic (attached, partner in sync, or
 * defaulted under fallback_ab). */
bool lacp_may_enable(const struct lacp *, size_t idx);
/* Whether member IDX has partner information (not defaulted): OVS's
 * Interface.lacp_current. */
bool lacp_is_current(const struct lacp *, size_t idx);
/* Whether some member is attached to a partner ("negotiated"). */
bool lacp_negotiated(const struct lacp *);
bool lacp_fallback_ab(const struct lacp *);

/* lacp/show and lacp/show-stats text for this bond, in OVS's layout. */
void lacp_format_show(const struct lacp *, struct ds *);
void lacp_format_stats(const struct lacp *, struct ds *);

#endif
