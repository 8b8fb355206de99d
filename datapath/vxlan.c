#include "vxlan.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

enum vxlan_error
vxlan_parse(const uint8_t *data, size_t size, uint32_t *vni)
{
    if (size < VXLAN_HLEN) {
        return VXLAN_ERR_RUNT;
    }
    if (!(data[0] & VXLAN_FLAG_VNI)) {
        return VXLAN_ERR_NO_VNI_FLAG;
    }
    if (size < VXLAN_HLEN + 14) {
        return VXLAN_ERR_INNER_RUNT;
    }
    *vni = ((uint32_t) data[4] << 16) | ((uint32_t) data[5] << 8) | data[6];
    return VXLAN_OK;
}

const char *
vxlan_error_name(enum vxlan_error e)
{
    switch (e) {
    case VXLAN_OK: return "ok";
    case VXLAN_ERR_RUNT: return "runt";
    case VXLAN_ERR_NO_VNI_FLAG: return "no-vni-flag";
    case VXLAN_ERR_INNER_RUNT: return "inner-runt";
    case VXLAN_N_ERRORS: break;
    }
    return "unknown";
}

void
vxlan_build(uint8_t hdr[VXLAN_HLEN], uint32_t vni)
{
    memset(hdr, 0, VXLAN_HLEN);
    hdr[0] = VXLAN_FLAG_VNI;
    hdr[4] = (uint8_t) (vni >> 16);
    hdr[5] = (uint8_t) (vni >> 8);
    hdr[6] = (uint8_t) vni;
}

/* ---- Addresses. ---- */

bool
vxlan_addr_parse(const char *s, struct vxlan_addr *addr)
{
    struct in_addr v4;
    memset(addr, 0, sizeof *addr);
    if (inet_pton(AF_INET, s, &v4) == 1) {
        addr->family = AF_INET;
        addr->a.s6_addr[10] = 0xff;
        addr->a.s6_addr[11] = 0xff;
        memcpy(&addr->a.s6_addr[12], &v4, 4);
        return true;
    }
    if (inet_pton(AF_INET6, s, &addr->a) == 1) {
        addr->family = AF_INET6;
        return true;
    }
    return false;
}

bool
vxlan_addr_equals(const struct vxlan_addr *x, const struct vxlan_addr *y)
{
    return x->family == y->family && !memcmp(&x->a, &y->a, sizeof x->a);
}

void
vxlan_addr_format(const struct vxlan_addr *addr, char *buf, size_t size)
{
    if (addr->family == AF_INET) {
        inet_ntop(AF_INET, &addr->a.s6_addr[12], buf, (socklen_t) size);
    } else if (addr->family == AF_INET6) {
        inet_ntop(AF_INET6, &addr->a, buf, (socklen_t) size);
    } else if (size) {
        snprintf(buf, size, "any");
    }
}

/* ---- Options. ---- */

/* One option: NAME's VALUE into CFG; returns NULL or an error message. */
struct vxlan_option {
    const char *name;
    char *(*set)(const char *name, const char *value,
                 struct vxlan_config *cfg);
};

static char *
no_flow(const char *name, const char *value)
{
    if (!strcmp(value, "flow")) {
        return xasprintf("%s=flow is not supported: it needs OpenFlow "
                         "actions, which this switch does not have", name);
    }
    return NULL;
}

static char *
set_addr(const char *name, const char *value, struct vxlan_addr *addr)
{
    char *error = no_flow(name, value);
    if (!error && !vxlan_addr_parse(value, addr)) {
        error = xasprintf("%s: \"%s\" is not an IPv4 or IPv6 address",
                          name, value);
    }
    return error;
}

static char *
set_remote(const char *name, const char *value, struct vxlan_config *cfg)
{
    return set_addr(name, value, &cfg->remote);
}

static char *
set_local(const char *name, const char *value, struct vxlan_config *cfg)
{
    return set_addr(name, value, &cfg->local);
}

static char *
parse_vni(const char *name, const char *value, uint32_t *vni)
{
    char *error = no_flow(name, value);
    long long v = 0;
    if (!error && (!str_to_llong(value, 0, &v) || v < 0
                   || v > (long long) VXLAN_VNI_MAX)) {
        error = xasprintf("%s: \"%s\" is not a VNI (0 to %u)", name, value,
                          VXLAN_VNI_MAX);
    }
    if (!error) {
        *vni = (uint32_t) v;
    }
    return error;
}

static char *
set_key(const char *name, const char *value, struct vxlan_config *cfg)
{
    char *error = parse_vni(name, value, &cfg->in_key);
    cfg->out_key = cfg->in_key;
    return error;
}

static char *
set_in_key(const char *name, const char *value, struct vxlan_config *cfg)
{
    return parse_vni(name, value, &cfg->in_key);
}

static char *
set_out_key(const char *name, const char *value, struct vxlan_config *cfg)
{
    return parse_vni(name, value, &cfg->out_key);
}

static char *
parse_range(const char *name, const char *value, int min, int max, int *out)
{
    int v;
    if (!str_to_int(value, 0, &v) || v < min || v > max) {
        return xasprintf("%s: \"%s\" is not a number from %d to %d", name,
                         value, min, max);
    }
    *out = v;
    return NULL;
}

static char *
set_dst_port(const char *name, const char *value, struct vxlan_config *cfg)
{
    int port = 0;
    char *error = parse_range(name, value, 1, 65535, &port);
    if (!error) {
        cfg->dst_port = (uint16_t) port;
    }
    return error;
}

static char *
set_tos(const char *name, const char *value, struct vxlan_config *cfg)
{
    if (!strcmp(value, "inherit")) {
        cfg->tos = VXLAN_TOS_INHERIT;
        return NULL;
    }
    return parse_range(name, value, 0, 255, &cfg->tos);
}

static char *
set_ttl(const char *name, const char *value, struct vxlan_config *cfg)
{
    if (!strcmp(value, "inherit")) {
        cfg->ttl = VXLAN_TTL_INHERIT;
        return NULL;
    }
    return parse_range(name, value, 1, 255, &cfg->ttl);
}

static char *
parse_bool(const char *name, const char *value, bool *out)
{
    if (!strcmp(value, "true")) {
        *out = true;
    } else if (!strcmp(value, "false")) {
        *out = false;
    } else {
        return xasprintf("%s: \"%s\" is not true or false", name, value);
    }
    return NULL;
}

static char *
set_df(const char *name, const char *value, struct vxlan_config *cfg)
{
    return parse_bool(name, value, &cfg->df);
}

static char *
set_csum(const char *name, const char *value, struct vxlan_config *cfg)
{
    return parse_bool(name, value, &cfg->csum);
}

static const struct vxlan_option options[] = {
    { "remote_ip", set_remote },
    { "local_ip", set_local },
    { "key", set_key },
    { "in_key", set_in_key },
    { "out_key", set_out_key },
    { "dst_port", set_dst_port },
    { "tos", set_tos },
    { "ttl", set_ttl },
    { "df_default", set_df },
    { "csum", set_csum },
};

static const struct vxlan_option *
find_option(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
        if (!strcmp(options[i].name, name)) {
            return &options[i];
        }
    }
    return NULL;
}

/* "key" sets both directions; "in_key"/"out_key" override it whatever the
 * order of the pairs, so they are applied after it. */
static char *
apply_all(const char *const *keys, const char *const *values, size_t n,
          struct vxlan_config *cfg, bool *csum_set)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            const struct vxlan_option *opt = find_option(keys[i]);
            if (!opt) {
                return xasprintf("unknown vxlan option \"%s\"", keys[i]);
            }
            if ((pass == 0) != !strcmp(keys[i], "key")) {
                continue;
            }
            char *error = opt->set(keys[i], values[i], cfg);
            if (error) {
                return error;
            }
            *csum_set |= !strcmp(keys[i], "csum");
        }
    }
    return NULL;
}

char *
vxlan_config_parse(const char *const *keys, const char *const *values,
                   size_t n, struct vxlan_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->dst_port = VXLAN_DEFAULT_PORT;
    cfg->ttl = VXLAN_DEFAULT_TTL;
    cfg->df = true;
    bool csum_set = false;
    char *error = apply_all(keys, values, n, cfg, &csum_set);
    if (error) {
        return error;
    }
    if (!cfg->remote.family) {
        return xstrdup("vxlan tunnel needs options:remote_ip");
    }
    const uint8_t *r = cfg->remote.a.s6_addr;
    bool v4 = cfg->remote.family == AF_INET;
    if (v4 ? (r[12] & 0xf0) == 0xe0 : r[0] == 0xff) {
        return xstrdup("remote_ip: multicast groups are not supported "
                       "(tunnels are static unicast)");
    }
    static const uint8_t zero[16];
    if (v4 ? !memcmp(r + 12, zero, 4) : !memcmp(r, zero, 16)) {
        return xstrdup("remote_ip: the unspecified address is not a "
                       "remote");
    }
    if (cfg->local.family && cfg->local.family != cfg->remote.family) {
        return xstrdup("local_ip and remote_ip are of different address "
                       "families");
    }
    if (!csum_set) {
        /* IPv6 receivers drop zero UDP checksums by default (RFC 6935). */
        cfg->csum = cfg->remote.family == AF_INET6;
    }
    return NULL;
}

void
vxlan_config_format(const struct vxlan_config *cfg, char *buf, size_t size)
{
    char remote[INET6_ADDRSTRLEN], local[INET6_ADDRSTRLEN];
    vxlan_addr_format(&cfg->remote, remote, sizeof remote);
    vxlan_addr_format(&cfg->local, local, sizeof local);
    snprintf(buf, size, "remote=%s local=%s in_key=%u out_key=%u port=%u "
             "tos=%d ttl=%d df=%d csum=%d", remote, local, cfg->in_key,
             cfg->out_key, cfg->dst_port, cfg->tos, cfg->ttl, cfg->df,
             cfg->csum);
}
