/* vxlan: VXLAN (RFC 7348) header and tunnel options (pure core).
 *
 * The VXLAN header is 8 bytes after the outer UDP header: a flags byte whose
 * I bit (0x08) says the VNI is valid, 3 reserved bytes, the 24-bit VNI and a
 * reserved byte.  Reserved bits are written as zero and ignored on receipt
 * (RFC 7348 section 5); a header without the I bit is rejected.
 *
 * vxlan_config_parse() validates a tunnel's options (the Interface
 * "options" column, as key/value strings) into a struct vxlan_config, or
 * returns a message naming the bad option.  No I/O, no allocation except
 * the returned message; thread-safe. */
#ifndef LANYARD_VXLAN_H
#define LANYARD_VXLAN_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VXLAN_HLEN 8
#define VXLAN_FLAG_VNI 0x08
#define VXLAN_DEFAULT_PORT 4789
#define VXLAN_VNI_MAX 0xffffffu       /* 24 bits. */
#define VXLAN_DEFAULT_TTL 64
/* Outer Ethernet + IPv4 + UDP + VXLAN: what a 1500-byte underlay leaves for
 * the inner frame's payload is 1500 - 50 = 1450 (70 with IPv6). */
#define VXLAN_OVERHEAD_IPV4 50
#define VXLAN_OVERHEAD_IPV6 70
#define VXLAN_TOS_INHERIT (-1)
#define VXLAN_TTL_INHERIT 0

/* Why a received VXLAN payload was rejected.  VXLAN_OK is 0. */
enum vxlan_error {
    VXLAN_OK = 0,
    VXLAN_ERR_RUNT,             /* Shorter than the VXLAN header. */
    VXLAN_ERR_NO_VNI_FLAG,      /* I flag clear. */
    VXLAN_ERR_INNER_RUNT,       /* Inner frame shorter than Ethernet. */
    VXLAN_N_ERRORS
};

/* Parses the UDP payload DATA (SIZE bytes).  On success *VNI is the VNI and
 * the inner Ethernet frame starts at DATA + VXLAN_HLEN. */
enum vxlan_error vxlan_parse(const uint8_t *data, size_t size, uint32_t *vni);
const char *vxlan_error_name(enum vxlan_error);

/* Writes the 8-byte header for VNI into HDR. */
void vxlan_build(uint8_t hdr[VXLAN_HLEN], uint32_t vni);

/* A tunnel endpoint address: IPv4 addresses are kept v4-mapped so that one
 * type serves both families. */
struct vxlan_addr {
    int family;                 /* AF_INET, AF_INET6, or 0 (unset). */
    struct in6_addr a;
};

struct vxlan_config {
    struct vxlan_addr remote;   /* Required. */
    struct vxlan_addr local;    /* Family 0: the host chooses. */
    uint32_t in_key, out_key;   /* VNIs; 0 when unset. */
    uint16_t dst_port;          /* Host order; default 4789. */
    int tos;                    /* 0..255 or VXLAN_TOS_INHERIT. */
    int ttl;                    /* 1..255 or VXLAN_TTL_INHERIT. */
    bool df;                    /* df_default: set DF, never fragment. */
    bool csum;                  /* UDP checksum (IPv4 default off). */
};

/* Parses N option pairs.  Returns NULL on success, else a malloc'd message
 * naming the option that is wrong (caller frees); *CFG is then
 * unspecified. */
char *vxlan_config_parse(const char *const *keys, const char *const *values,
                         size_t n, struct vxlan_config *cfg);

/* Canonical text of CFG (stable: equal configurations give equal text),
 * written into BUF of SIZE bytes. */
void vxlan_config_format(const struct vxlan_config *, char *buf, size_t size);

/* Address parsing and comparison. */
bool vxlan_addr_parse(const char *s, struct vxlan_addr *);
bool vxlan_addr_equals(const struct vxlan_addr *, const struct vxlan_addr *);
void vxlan_addr_format(const struct vxlan_addr *, char *buf, size_t size);

#endif
