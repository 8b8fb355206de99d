#include "dummy-frame.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "netdev-ctl.h"
#include "util.h"

#define MAX_TAGS 2              /* What the datapath parses. */

/* ---- Hex frames ------------------------------------------------------ */

static int
hexit(char c)
{
    return (c >= '0' && c <= '9' ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
            : -1);
}

static char *
check_frame_size(size_t size)
{
    if (size < DUMMY_FRAME_MIN) {
        return xasprintf("frame of %zu bytes is shorter than an Ethernet "
                         "header (%d bytes)", size, DUMMY_FRAME_MIN);
    }
    if (size > DUMMY_FRAME_MAX) {
        return xasprintf("frame of %zu bytes is longer than the maximum of "
                         "%d bytes", size, DUMMY_FRAME_MAX);
    }
    return NULL;
}

char *
dummy_frame_from_hex(const char *text, uint8_t **framep, size_t *sizep)
{
    uint8_t *frame = xmalloc(strlen(text) / 2 + 1);
    size_t size = 0;
    char *error = NULL;

    *framep = NULL;
    for (const char *p = text; ; ) {
        while (isspace((unsigned char) *p)) {
            p++;
        }
        if (!*p) {
            break;
        }
        int hi = hexit(p[0]);
        int lo = hexit(p[1]);
        if (hi < 0 || lo < 0) {
            const char *bad = hi < 0 ? p : p + 1;
            error = (*bad
                     ? xasprintf("bad hex digit '%c' at offset %td", *bad,
                                 bad - text)
                     : xstrdup("odd number of hex digits"));
            free(frame);
            return error;
        }
        frame[size++] = (uint8_t) (hi << 4 | lo);
        p += 2;
    }
    error = check_frame_size(size);
    if (error) {
        free(frame);
        return error;
    }
    *framep = frame;
    *sizep = size;
    return NULL;
}

/* ---- Datapath flows -------------------------------------------------- */

enum l3_kind { L3_NONE, L3_IPV4, L3_IPV6, L3_ARP };
enum l4_kind { L4_NONE, L4_TCP, L4_UDP, L4_ICMP, L4_ICMPV6 };

/* The frame a flow describes.  Addresses are kept in network order. */
struct flow_frame {
    bool has_eth;
    uint8_t src[6], dst[6];
    size_t n_tags;
    uint16_t tpid[MAX_TAGS], tci[MAX_TAGS];
    int eth_type;               /* Innermost; -1 until given. */

    enum l3_kind l3;
    uint32_t nw_src, nw_dst;
    uint8_t ip6_src[16], ip6_dst[16];
    uint32_t ip6_label;
    int nw_proto;               /* -1 until given (IPv6: next header). */
    uint8_t nw_tos, nw_ttl;     /* IPv6: traffic class, hop limit. */
    uint16_t arp_op;
    uint8_t arp_sha[6], arp_tha[6];

    enum l4_kind l4;
    uint16_t tp_src, tp_dst;    /* TCP/UDP ports; ICMP type and code. */
    uint16_t tcp_flags;
};

/* Parses VALUE as a number from MIN to MAX (decimal, or hex with 0x). */
static bool
parse_number(const char *value, unsigned long min, unsigned long max,
             unsigned long *v)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(value, &end, 0);
    if (errno || end == value || *end || value[0] == '-' || n < min
        || n > max) {
        return false;
    }
    *v = n;
    return true;
}

/* Parses the value of KEY(NAME=VALUE), or of KEY(VALUE) if NAME is "". */
static char *
parse_uint(const char *key, const char *name, const char *value,
           unsigned long max, unsigned long *v)
{
    if (parse_number(value, 0, max, v)) {
        return NULL;
    }
    if (strchr(value, '/')) {
        return xasprintf("%s(%s%s%s): masks do not describe a frame", key,
                         name, *name ? "=" : "", value);
    }
    return xasprintf("%s(%s%s%s): not a number from 0 to %lu (0x%lx)", key,
                     name, *name ? "=" : "", value, max, max);
}

static char *
parse_mac(const char *key, const char *name, const char *value,
          uint8_t mac[6])
{
    if (!netdev_ctl_parse_mac(value, mac)) {
        return xasprintf("%s(%s=%s): not a MAC address%s", key, name, value,
                         strchr(value, '/') ? " (masks do not describe a "
                         "frame)" : "");
    }
    return NULL;
}

static char *
parse_ip(const char *key, const char *name, const char *value, uint32_t *ip)
{
    struct in_addr a;
    if (inet_pton(AF_INET, value, &a) != 1) {
        return xasprintf("%s(%s=%s): not an IPv4 address%s", key, name, value,
                         strchr(value, '/') ? " (masks do not describe a "
                         "frame)" : "");
    }
    *ip = a.s_addr;
    return NULL;
}

/* Splits the next "name=value" off the comma-separated *ARGS. */
static char *
next_field(const char *key, char **args, char **name, char **value)
{
    char *field = strsep(args, ",");
    *value = strchr(field, '=');
    if (!*value || *value == field) {
        return xasprintf("%s(...): \"%s\" is not name=value", key, field);
    }
    *(*value)++ = '\0';
    *name = field;
    return NULL;
}

static char *
unknown_field(const char *key, const char *name, const char *known)
{
    return xasprintf("%s(...): unknown field \"%s\" (known: %s)", key, name,
                     known);
}

static char *
parse_eth(char *args, struct flow_frame *f)
{
    char *name, *value, *error = NULL;
    while (args && !error) {
        error = next_field("eth", &args, &name, &value);
        if (error) {
            break;
        }
        error = (!strcmp(name, "src") ? parse_mac("eth", name, value, f->src)
                 : !strcmp(name, "dst") ? parse_mac("eth", name, value, f->dst)
                 : unknown_field("eth", name, "src, dst"));
    }
    f->has_eth = true;
    return error;
}

static char *
parse_vlan(char *args, uint16_t *tci)
{
    unsigned long vid = 0, pcp = 0, cfi = 1;
    char *name, *value, *error = NULL;
    while (args && !error) {
        error = next_field("vlan", &args, &name, &value);
        if (error) {
            break;
        }
        error = (!strcmp(name, "vid") ? parse_uint("vlan", name, value, 4095,
                                                   &vid)
                 : !strcmp(name, "pcp") ? parse_uint("vlan", name, value, 7,
                                                     &pcp)
                 : !strcmp(name, "cfi") ? parse_uint("vlan", name, value, 1,
                                                     &cfi)
                 : unknown_field("vlan", name, "vid, pcp, cfi"));
    }
    *tci = (uint16_t) (pcp << 13 | cfi << 12 | vid);
    return error;
}

static char *
parse_ipv4(char *args, struct flow_frame *f)
{
    char *name, *value, *error = NULL;
    unsigned long v;
    f->nw_ttl = 64;
    while (args && !error) {
        error = next_field("ipv4", &args, &name, &value);
        if (error) {
            break;
        }
        if (!strcmp(name, "src") || !strcmp(name, "dst")) {
            error = parse_ip("ipv4", name, value,
                             name[0] == 's' ? &f->nw_src : &f->nw_dst);
        } else if (!strcmp(name, "proto") || !strcmp(name, "tos")
                   || !strcmp(name, "ttl")) {
            error = parse_uint("ipv4", name, value, 255, &v);
            if (!error) {
                if (name[0] == 'p') {
                    f->nw_proto = (int) v;
                } else if (name[1] == 'o') {
                    f->nw_tos = (uint8_t) v;
                } else {
                    f->nw_ttl = (uint8_t) v;
                }
            }
        } else if (!strcmp(name, "frag")) {
            if (strcmp(value, "no")) {
                error = xasprintf("ipv4(frag=%s): only unfragmented frames "
                                  "(frag=no) can be built", value);
            }
        } else {
            error = unknown_field("ipv4", name, "src, dst, proto, tos, ttl, "
                                  "frag");
        }
    }
    return error;
}

static char *
parse_ip6(const char *name, const char *value, uint8_t ip6[16])
{
    if (inet_pton(AF_INET6, value, ip6) != 1) {
        return xasprintf("ipv6(%s=%s): not an IPv6 address%s", name, value,
                         strchr(value, '/') ? " (masks do not describe a "
                         "frame)" : "");
    }
    return NULL;
}

static char *
parse_ipv6(char *args, struct flow_frame *f)
{
    char *name, *value, *error = NULL;
    unsigned long v;
    f->nw_ttl = 64;
    while (args && !error) {
        error = next_field("ipv6", &args, &name, &value);
        if (error) {
            break;
        }
        if (!strcmp(name, "src") || !strcmp(name, "dst")) {
            error = parse_ip6(name, value,
                              name[0] == 's' ? f->ip6_src : f->ip6_dst);
        } else if (!strcmp(name, "label")) {
            if (!(error = parse_uint("ipv6", name, value, 0xfffff, &v))) {
                f->ip6_label = (uint32_t) v;
            }
        } else if (!strcmp(name, "proto") || !strcmp(name, "tclass")
                   || !strcmp(name, "hlimit")) {
            if (!(error = parse_uint("ipv6", name, value, 255, &v))) {
                if (name[0] == 'p') {
                    f->nw_proto = (int) v;
                } else if (name[0] == 't') {
                    f->nw_tos = (uint8_t) v;
                } else {
                    f->nw_ttl = (uint8_t) v;
                }
            }
        } else if (!strcmp(name, "frag")) {
            if (strcmp(value, "no")) {
                error = xasprintf("ipv6(frag=%s): only unfragmented frames "
                                  "(frag=no) can be built", value);
            }
        } else {
            error = unknown_field("ipv6", name, "src, dst, label, proto, "
                                  "tclass, hlimit, frag");
        }
    }
    return error;
}

static char *
parse_arp(char *args, struct flow_frame *f)
{
    char *name, *value, *error = NULL;
    unsigned long op = 1;
    while (args && !error) {
        error = next_field("arp", &args, &name, &value);
        if (error) {
            break;
        }
        error = (!strcmp(name, "sip") ? parse_ip("arp", name, value,
                                                 &f->nw_src)
                 : !strcmp(name, "tip") ? parse_ip("arp", name, value,
                                                   &f->nw_dst)
                 : !strcmp(name, "sha") ? parse_mac("arp", name, value,
                                                    f->arp_sha)
                 : !strcmp(name, "tha") ? parse_mac("arp", name, value,
                                                    f->arp_tha)
                 : !strcmp(name, "op") ? parse_uint("arp", name, value,
                                                    0xffff, &op)
                 : unknown_field("arp", name, "sip, tip, op, sha, tha"));
    }
    f->arp_op = (uint16_t) op;
    return error;
}

/* The L4 keys: tcp(src=,dst=), udp(src=,dst=), icmp(type=,code=),
 * icmpv6(type=,code=). */
struct l4_key {
    const char *key;
    enum l4_kind kind;
    int proto;
    bool v4, v6;                /* Allowed over IPv4, IPv6. */
    const char *a, *b;          /* Field names for tp_src, tp_dst. */
    unsigned long max;
};

static const struct l4_key l4_keys[] = {
    { "tcp", L4_TCP, 6, true, true, "src", "dst", 0xffff },
    { "udp", L4_UDP, 17, true, true, "src", "dst", 0xffff },
    { "icmp", L4_ICMP, 1, true, false, "type", "code", 0xff },
    { "icmpv6", L4_ICMPV6, 58, false, true, "type", "code", 0xff },
};

static const struct l4_key *
find_l4_key(const char *key)
{
    for (size_t i = 0; i < ARRAY_SIZE(l4_keys); i++) {
        if (!strcmp(l4_keys[i].key, key)) {
            return &l4_keys[i];
        }
    }
    return NULL;
}

static char *
parse_l4(const struct l4_key *k, char *args, struct flow_frame *f)
{
    bool ok = f->l4 == L4_NONE && ((f->l3 == L3_IPV4 && k->v4)
                                   || (f->l3 == L3_IPV6 && k->v6));
    if (!ok) {
        return xasprintf("%s(...) must follow %s (once)", k->key,
                         !k->v6 ? "ipv4(...)" : !k->v4 ? "ipv6(...)"
                         : "ipv4(...) or ipv6(...)");
    }
    if (f->nw_proto >= 0 && f->nw_proto != k->proto) {
        return xasprintf("%s(...) contradicts %s(proto=%d)", k->key,
                         f->l3 == L3_IPV4 ? "ipv4" : "ipv6", f->nw_proto);
    }
    f->nw_proto = k->proto;
    f->l4 = k->kind;

    char *name, *value, *error = NULL;
    unsigned long v = 0;
    while (args && !error) {
        error = next_field(k->key, &args, &name, &value);
        if (error) {
            break;
        }
        bool a = !strcmp(name, k->a);
        if (!a && strcmp(name, k->b)) {
            char *known = xasprintf("%s, %s", k->a, k->b);
            error = unknown_field(k->key, name, known);
            free(known);
        } else if (!(error = parse_uint(k->key, name, value, k->max, &v))) {
            *(a ? &f->tp_src : &f->tp_dst) = (uint16_t) v;
        }
    }
    return error;
}

/* Finds the ')' matching the '(' before P; NULL if unbalanced. */
static char *
find_close(char *p)
{
    int depth = 1;
    for (; *p; p++) {
        if (*p == '(') {
            depth++;
        } else if (*p == ')' && !--depth) {
            return p;
        }
    }
    return NULL;
}

static char *parse_keys(char *text, struct flow_frame *, int depth);

/* What one header level of a flow has seen so far. */
struct flow_level {
    int depth;                  /* 0 outside encap(...). */
    int type;                   /* eth_type() of this level, -1 if none. */
    bool tagged;                /* vlan() seen. */
    bool encapped;              /* encap() seen. */
};

/* Keys that describe datapath metadata, not frame contents: the port is
 * the command's own argument, the rest does not change the frame. */
static char *
parse_metadata_key(const char *key, const char *args, bool *found)
{
    static const char *const keys[] = {
        "in_port", "skb_priority", "skb_mark", "recirc_id", "dp_hash",
    };
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        if (!strcmp(key, keys[i])) {
            *found = true;
            return NULL;
        }
    }
    if (!strcmp(key, "packet_type")) {
        *found = true;
        /* ns=0,id=0 is Ethernet, the only kind a dummy port carries. */
        return (strcmp(args, "ns=0,id=0")
                ? xasprintf("packet_type(%s): only Ethernet (ns=0,id=0)", args)
                : NULL);
    }
    *found = false;
    return NULL;
}

/* eth(), eth_type(), vlan(), encap(). */
static char *
parse_l2_key(const char *key, char *args, struct flow_frame *f,
             struct flow_level *lv, bool *found)
{
    unsigned long v;
    char *error;

    *found = true;
    if (!strcmp(key, "eth")) {
        return (lv->depth || f->has_eth
                ? xstrdup("eth(...) must be given once, outside encap(...)")
                : parse_eth(*args ? args : NULL, f));
    } else if (!strcmp(key, "eth_type")) {
        if (lv->type >= 0) {
            return xstrdup("eth_type(...) given twice for one header");
        }
        error = parse_uint("eth_type", "", args, 0xffff, &v);
        if (!error && v < 0x600) {
            error = xasprintf("eth_type(%s): an Ethernet II type is at least "
                              "0x0600", args);
        }
        lv->type = error ? -1 : (int) v;
        return error;
    } else if (!strcmp(key, "vlan")) {
        if (lv->type != 0x8100 && lv->type != 0x88a8) {
            return xstrdup("vlan(...) must follow eth_type(0x8100) or "
                           "eth_type(0x88a8)");
        }
        if (lv->tagged || f->n_tags >= MAX_TAGS) {
            return xasprintf("at most %d VLAN headers, one per encap level",
                             MAX_TAGS);
        }
        f->tpid[f->n_tags] = (uint16_t) lv->type;
        lv->tagged = true;
        return parse_vlan(*args ? args : NULL, &f->tci[f->n_tags++]);
    } else if (!strcmp(key, "encap")) {
        if (!lv->tagged || lv->encapped) {
            return xstrdup("encap(...) must follow vlan(...) (once)");
        }
        lv->encapped = true;
        return parse_keys(args, f, lv->depth + 1);
    }
    *found = false;
    return NULL;
}

struct l3_key {
    const char *key;
    enum l3_kind kind;
    uint16_t eth_type;
    char *(*parse)(char *args, struct flow_frame *);
};

static const struct l3_key l3_keys[] = {
    { "ipv4", L3_IPV4, 0x0800, parse_ipv4 },
    { "ipv6", L3_IPV6, 0x86dd, parse_ipv6 },
    { "arp", L3_ARP, 0x0806, parse_arp },
};

static char *
parse_l3(const struct l3_key *k, char *args, struct flow_frame *f,
         struct flow_level *lv)
{
    if (f->l3 != L3_NONE || lv->tagged) {
        return xasprintf("%s(...) must be the innermost header (once)",
                         k->key);
    }
    if (lv->type >= 0 && lv->type != k->eth_type) {
        return xasprintf("%s(...) contradicts eth_type(0x%04x)", k->key,
                         lv->type);
    }
    lv->type = k->eth_type;
    f->l3 = k->kind;
    return k->parse(*args ? args : NULL, f);
}

static char *
parse_key(const char *key, char *args, struct flow_frame *f,
          struct flow_level *lv)
{
    bool found;
    char *error = parse_metadata_key(key, args, &found);
    if (found) {
        return (error ? error
                : lv->depth ? xasprintf("%s(...) inside encap(...)", key)
                : NULL);
    }
    error = parse_l2_key(key, args, f, lv, &found);
    if (found) {
        return error;
    }
    for (size_t i = 0; i < ARRAY_SIZE(l3_keys); i++) {
        if (!strcmp(key, l3_keys[i].key)) {
            return parse_l3(&l3_keys[i], args, f, lv);
        }
    }
    const struct l4_key *l4 = find_l4_key(key);
    if (l4) {
        return parse_l4(l4, *args ? args : NULL, f);
    }
    if (!strcmp(key, "tcp_flags")) {
        unsigned long v = 0;
        if (f->l4 != L4_TCP) {
            return xstrdup("tcp_flags(...) must follow tcp(...)");
        }
        error = parse_uint("tcp_flags", "", args, 0xfff, &v);
        f->tcp_flags = (uint16_t) v;
        return error;
    }
    return xasprintf("unsupported flow key \"%s\" (supported: in_port, "
                     "packet_type, eth, eth_type, vlan, encap, ipv4, ipv6, "
                     "arp, tcp, udp, icmp, icmpv6, tcp_flags)", key);
}

/* Parses the comma-separated "key(args)" list TEXT (modified in place) of
 * one header level. */
static char *
parse_keys(char *text, struct flow_frame *f, int depth)
{
    struct flow_level lv = { .depth = depth, .type = -1 };
    char *p = text;

    while (*p) {
        char *key = p;
        p += strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_");
        if (p == key || *p != '(') {
            return xasprintf("expected key(...) at \"%.20s\"", key);
        }
        *p++ = '\0';
        char *args = p;
        char *close = find_close(p);
        if (!close) {
            return xasprintf("%s(...): missing ')'", key);
        }
        *close = '\0';
        p = close + 1;
        if (*p == ',') {
            p++;
        } else if (*p) {
            return xasprintf("expected ',' after %s(...) at \"%.20s\"", key,
                             p);
        }
        char *error = parse_key(key, args, f, &lv);
        if (error) {
            return error;
        }
    }
    if (lv.tagged && !lv.encapped) {
        return xstrdup("vlan(...) must be followed by encap(...) giving the "
                       "inner eth_type");
    }
    if (!lv.tagged) {
        if (lv.type < 0) {
            return xstrdup("the flow gives no eth_type(...)");
        }
        f->eth_type = lv.type;
    }
    return NULL;
}

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}

/* Adds SIZE bytes at P to a one's-complement sum. */
static uint32_t
csum_add(uint32_t sum, const uint8_t *p, size_t size)
{
    for (size_t i = 0; i + 1 < size; i += 2) {
        sum += (uint32_t) (p[i] << 8 | p[i + 1]);
    }
    if (size & 1) {
        sum += (uint32_t) p[size - 1] << 8;
    }
    return sum;
}

static uint16_t
csum_finish(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t) ~sum;
}

static size_t
l4_header_size(enum l4_kind l4)
{
    return l4 == L4_TCP ? 20 : l4 == L4_NONE ? 0 : 8;
}

/* The one's-complement sum of the IPv4 or IPv6 pseudo-header for an L4
 * segment of SIZE bytes. */
static uint32_t
pseudo_header_sum(const struct flow_frame *f, size_t size)
{
    uint8_t ph[40];
    size_t n;
    if (f->l3 == L3_IPV4) {
        memcpy(ph, &f->nw_src, 4);
        memcpy(ph + 4, &f->nw_dst, 4);
        ph[8] = 0;
        ph[9] = (uint8_t) f->nw_proto;
        put16(ph + 10, (uint16_t) size);
        n = 12;
    } else {
        memcpy(ph, f->ip6_src, 16);
        memcpy(ph + 16, f->ip6_dst, 16);
        memset(ph + 32, 0, 8);
        put16(ph + 34, (uint16_t) size);
        ph[39] = (uint8_t) f->nw_proto;
        n = 40;
    }
    return csum_add(0, ph, n);
}

/* Writes the L4 header at P, whose segment (header and payload) is SIZE
 * bytes, with its checksum. */
static void
put_l4(const struct flow_frame *f, uint8_t *p, size_t size)
{
    uint8_t *csum;
    uint32_t sum = 0;
    if (f->l4 == L4_ICMP || f->l4 == L4_ICMPV6) {
        p[0] = (uint8_t) f->tp_src;
        p[1] = (uint8_t) f->tp_dst;
        csum = p + 2;
    } else {
        put16(p, f->tp_src);
        put16(p + 2, f->tp_dst);
        if (f->l4 == L4_UDP) {
            put16(p + 4, (uint16_t) size);
            csum = p + 6;
        } else {
            p[12] = 5 << 4 | (uint8_t) (f->tcp_flags >> 8);
            p[13] = (uint8_t) f->tcp_flags;
            csum = p + 16;
        }
    }
    if (f->l4 != L4_ICMP) {     /* ICMPv4 alone has no pseudo-header. */
        sum = pseudo_header_sum(f, size);
    }
    uint16_t folded = csum_finish(csum_add(sum, p, size));
    put16(csum, f->l4 == L4_UDP && !folded ? 0xffff : folded);
}

static uint8_t
l3_proto(const struct flow_frame *f)
{
    return (uint8_t) (f->nw_proto < 0 ? 0 : f->nw_proto);
}

static size_t
l3_header_size(const struct flow_frame *f)
{
    return (f->l3 == L3_IPV4 ? 20 : f->l3 == L3_IPV6 ? 40
            : f->l3 == L3_ARP ? 28 : 0);
}

/* Writes the IPv4 or IPv6 packet at P, SIZE bytes in all. */
static void
put_ip(const struct flow_frame *f, uint8_t *p, size_t size)
{
    size_t hlen = l3_header_size(f);
    if (f->l3 == L3_IPV4) {
        p[0] = 0x45;
        p[1] = f->nw_tos;
        put16(p + 2, (uint16_t) size);
        p[8] = f->nw_ttl;
        p[9] = l3_proto(f);
        memcpy(p + 12, &f->nw_src, 4);
        memcpy(p + 16, &f->nw_dst, 4);
        put16(p + 10, csum_finish(csum_add(0, p, 20)));
    } else {
        uint32_t vtl = 6u << 28 | (uint32_t) f->nw_tos << 20 | f->ip6_label;
        put16(p, (uint16_t) (vtl >> 16));
        put16(p + 2, (uint16_t) vtl);
        put16(p + 4, (uint16_t) (size - hlen));
        p[6] = l3_proto(f);
        p[7] = f->nw_ttl;
        memcpy(p + 8, f->ip6_src, 16);
        memcpy(p + 24, f->ip6_dst, 16);
    }
    if (f->l4 != L4_NONE) {
        put_l4(f, p + hlen, size - hlen);
    }
}

static void
put_arp(const struct flow_frame *f, uint8_t *p)
{
    static const uint8_t eth_ip[6] = { 0, 1, 8, 0, 6, 4 };
    memcpy(p, eth_ip, sizeof eth_ip);
    put16(p + 6, f->arp_op);
    memcpy(p + 8, f->arp_sha, 6);
    memcpy(p + 14, &f->nw_src, 4);
    memcpy(p + 18, f->arp_tha, 6);
    memcpy(p + 24, &f->nw_dst, 4);
}

char *
dummy_frame_from_flow(const char *text, size_t len, uint8_t **framep,
                      size_t *sizep)
{
    struct flow_frame f = { .eth_type = -1, .nw_proto = -1 };
    char *copy = xstrdup(text);
    char *error = parse_keys(copy, &f, 0);
    free(copy);
    *framep = NULL;
    if (error) {
        return error;
    }
    if (!f.has_eth) {
        return xstrdup("the flow gives no eth(src=...,dst=...)");
    }

    size_t l2 = 14 + 4 * f.n_tags;
    size_t l3 = l3_header_size(&f) + l4_header_size(f.l4);
    size_t need = l2 + l3;
    if (len && len < need) {
        return xasprintf("--len %zu: the flow's headers need %zu bytes", len,
                         need);
    }
    size_t size = len ? len : MAX(need, DUMMY_FRAME_ETH_MIN);
    error = check_frame_size(size);
    if (error) {
        return error;
    }

    uint8_t *frame = xzalloc(size);
    memcpy(frame, f.dst, 6);
    memcpy(frame + 6, f.src, 6);
    uint8_t *p = frame + 12;
    for (size_t i = 0; i < f.n_tags; i++, p += 4) {
        put16(p, f.tpid[i]);
        put16(p + 2, f.tci[i]);
    }
    put16(p, (uint16_t) f.eth_type);
    /* With --len an IP packet takes the padding as payload (so the frame
     * stays consistent); without, it is Ethernet padding. */
    if (f.l3 == L3_IPV4 || f.l3 == L3_IPV6) {
        put_ip(&f, frame + l2, len ? size - l2 : l3);
    } else if (f.l3 == L3_ARP) {
        put_arp(&f, frame + l2);
    }
    *framep = frame;
    *sizep = size;
    return NULL;
}

