/* packet: Ethernet + VLAN header parser (pure core: bytes in, struct out).
 *
 * Recognises up to PACKET_MAX_TAGS VLAN tags (TPID 0x8100 or 0x88a8) after
 * the MAC addresses.  A tag with VID 0 is a priority tag and is still
 * reported as a tag; the VLAN rules decide what it means.  A third tag is
 * not parsed: its TPID is reported as 'eth_type' and the rest is payload.
 * No I/O, no allocation, thread-safe. */
#ifndef LANYARD_PACKET_H
#define LANYARD_PACKET_H 1

#include <stddef.h>
#include <stdint.h>

#define PACKET_ETH_HLEN 14
#define PACKET_ETH_ADDR_LEN 6
#define PACKET_VLAN_HLEN 4
#define PACKET_MAX_TAGS 2
#define PACKET_TPID_8021Q 0x8100
#define PACKET_TPID_8021AD 0x88a8

/* Why a frame was rejected.  PACKET_OK is 0 so callers can test it. */
enum packet_error {
    PACKET_OK = 0,
    PACKET_ERR_RUNT,        /* Shorter than an Ethernet header. */
    PACKET_ERR_TRUNC_TAG,   /* A TPID promised a tag the frame lacks. */
    PACKET_N_ERRORS
};

struct packet_tag {
    uint16_t tpid;
    uint16_t tci;               /* PCP(3) DEI(1) VID(12), host order. */
};

struct packet_info {
    uint8_t n_tags;
    struct packet_tag tags[PACKET_MAX_TAGS];    /* [0] is the outer tag. */
    uint16_t eth_type;          /* Type after the parsed tags, host order. */
    uint16_t l2_size;           /* 14 + 4 * n_tags. */
};

/* Parses the first SIZE bytes of DATA into *INFO.  Returns PACKET_OK or the
 * reason for rejecting the frame (then *INFO is unspecified). */
enum packet_error packet_parse(const uint8_t *data, size_t size,
                               struct packet_info *info);

const char *packet_error_name(enum packet_error);

static inline uint16_t
packet_tci_vid(uint16_t tci)
{
    return tci & 0x0fff;
}

static inline uint8_t
packet_tci_pcp(uint16_t tci)
{
    return (uint8_t) (tci >> 13);
}

static inline int
packet_is_tpid(uint16_t type)
{
    return type == PACKET_TPID_8021Q || type == PACKET_TPID_8021AD;
}

/* The 48-bit MAC at P as an integer (first byte most significant). */
static inline uint64_t
packet_mac_to_u64(const uint8_t *p)
{
    return ((uint64_t) p[0] << 40) | ((uint64_t) p[1] << 32)
           | ((uint64_t) p[2] << 24) | ((uint64_t) p[3] << 16)
           | ((uint64_t) p[4] << 8) | p[5];
}

static inline int
packet_mac_is_multicast(const uint8_t *p)
{
    return p[0] & 1;
}

#endif
