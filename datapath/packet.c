#include "packet.h"

static inline uint16_t
get_be16(const uint8_t *p)
{
    return (uint16_t) ((p[0] << 8) | p[1]);
}

enum packet_error
packet_parse(const uint8_t *data, size_t size, struct packet_info *info)
{
    if (size < PACKET_ETH_HLEN) {
        return PACKET_ERR_RUNT;
    }
    size_t ofs = 2 * PACKET_ETH_ADDR_LEN;
    uint16_t type = get_be16(data + ofs);
    info->n_tags = 0;
    while (packet_is_tpid(type) && info->n_tags < PACKET_MAX_TAGS) {
        /* TPID(2) TCI(2) and the next type(2) must all be present. */
        if (size < ofs + PACKET_VLAN_HLEN + 2) {
            return PACKET_ERR_TRUNC_TAG;
        }
        struct packet_tag *tag = &info->tags[info->n_tags++];
        tag->tpid = type;
        tag->tci = get_be16(data + ofs + 2);
        ofs += PACKET_VLAN_HLEN;
        type = get_be16(data + ofs);
    }
    info->eth_type = type;
    info->l2_size = (uint16_t) (ofs + 2);
    return PACKET_OK;
}

const char *
packet_error_name(enum packet_error error)
{
    switch (error) {
    case PACKET_OK:
        return "ok";
    case PACKET_ERR_RUNT:
        return "runt";
    case PACKET_ERR_TRUNC_TAG:
        return "truncated-vlan-tag";
    case PACKET_N_ERRORS:
        break;
    }
    return "unknown";
}
