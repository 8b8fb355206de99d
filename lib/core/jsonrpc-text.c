/* jsonrpc-text: fast JSON text <-> jansson values (see the header). */
#include "jsonrpc-text.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds.h"
#include "util.h"

/* ---- UTF-8, with jansson's rules: no overlong forms, no surrogates,
 * nothing above U+10FFFF. ---- */

/* Length of the well-formed sequence at S (at most N bytes), or 0. */
static size_t
utf8_sequence_length(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
        return 1;
    } else if (c < 0xc2) {
        return 0;               /* Continuation byte or overlong 2-byte. */
    } else if (c < 0xe0) {
        len = 2;
        cp = c & 0x1f;
    } else if (c < 0xf0) {
        len = 3;
        cp = c & 0x0f;
    } else if (c < 0xf5) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)
        || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return len;
}

/* ---- Writing. ---- */

static inline char *
out_room(struct ds *out, size_t n)
{
    if (out->length + n > out->allocated || !out->string) {
        ds_reserve(out, out->length + n);
    }
    return out->string + out->length;
}

static inline void
out_raw(struct ds *out, const char *s, size_t n)
{
    memcpy(out_room(out, n), s, n);
    out->length += n;
}

static inline void
out_char(struct ds *out, char c)
{
    *out_room(out, 1) = c;
    out->length++;
}

static bool
put_string(struct ds *out, const char *text, size_t len, unsigned int flags)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s = (const unsigned char *) text;
    size_t run = 0;

    out_char(out, '"');
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0x80) {
            /* Verbatim: copied as it is, whatever the sequence. */
            size_t n = flags & JSONRPC_TEXT_VERBATIM
                       ? 1 : utf8_sequence_length(s + i, len - i);
            if (!n) {
                return false;
            }
            i += n;
            continue;
        }
        out_raw(out, text + run, i - run);
        char *p = out_room(out, 6);
        p[0] = '\\';
        switch (c) {
        case '"': p[1] = '"'; out->length += 2; break;
        case '\\': p[1] = '\\'; out->length += 2; break;
        case '\b': p[1] = 'b'; out->length += 2; break;
        case '\f': p[1] = 'f'; out->length += 2; break;
        case '\n': p[1] = 'n'; out->length += 2; break;
        case '\r': p[1] = 'r'; out->length += 2; break;
        case '\t': p[1] = 't'; out->length += 2; break;
        default:
            memcpy(p + 1, "u00", 3);
            p[4] = hex[c >> 4];
            p[5] = hex[c & 15];
            out->length += 6;
            break;
        }
        run = ++i;
    }
    out_raw(out, text + run, len - run);
    out_char(out, '"');
    return true;
}

static void
put_integer(struct ds *out, json_int_t value)
{
    char buf[24];
    char *p = buf + sizeof buf;
    unsigned long long u = value < 0 ? 0ULL - (unsigned long long) value
                                     : (unsigned long long) value;
    do {
        *--p = (char) ('0' + u % 10);
        u /= 10;
    } while (u);
    if (value < 0) {
        *--p = '-';
    }
    out_raw(out, p, (size_t) (buf + sizeof buf - p));
}

/* As jansson: "%.17g", a ".0" when that reads like an integer, and the
 * exponent without '+' or leading zeros. */
static void
put_real(struct ds *out, double value)
{
    char buf[48];
    int n = snprintf(buf, sizeof buf - 2, "%.17g", value);
    if (n < 0 || (size_t) n >= sizeof buf - 2) {
        n = snprintf(buf, sizeof buf, "%g", value);
    }
    size_t len = (size_t) n;
    if (!memchr(buf, '.', len) && !memchr(buf, 'e', len)) {
        memcpy(buf + len, ".0", 3);
        len += 2;
    }
    char *e = memchr(buf, 'e', len);
    if (e) {
        char *start = e + 1;
        char *end = start + 1;
        if (*start == '-') {
            start++;
        }
        while (*end == '0') {
            end++;
        }
        if (end != start) {
            memmove(start, end, (size_t) (buf + len - end) + 1);
            len -= (size_t) (end - start);
        }
    }
    out_raw(out, buf, len);
}

static bool put_value(struct ds *, const json_t *, int depth,
                      unsigned int flags);

struct member {
    const char *key;
    size_t key_len;
    const json_t *value;
};

static inline bool
put_member(struct ds *out, const struct member *m, int depth,
           unsigned int flags)
{
    if (!put_string(out, m->key, m->key_len, flags)) {
        return false;
    }
    out_char(out, ':');
    return put_value(out, m->value, depth + 1, flags);
}

static int
compare_members(const void *a_, const void *b_)
{
    const struct member *a = a_, *b = b_;
    int cmp = memcmp(a->key, b->key, MIN(a->key_len, b->key_len));
    return cmp ? cmp : (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

/* The members of OBJECT sorted by name (keys are unique, so the order is
 * total). */
static bool
put_sorted_members(struct ds *out, const json_t *object, int depth,
                   unsigned int flags)
{
    size_t n = json_object_size(object);
    struct member *members = xmalloc(MAX(n, 1) * sizeof *members);
    size_t i = 0;
    for (void *it = json_object_iter((json_t *) object); it;
         it = json_object_iter_next((json_t *) object, it)) {
        members[i++] = (struct member) {
            json_object_iter_key(it), json_object_iter_key_len(it),
            json_object_iter_value(it) };
    }
    qsort(members, i, sizeof *members, compare_members);
    bool ok = true;
    for (size_t k = 0; ok && k < i; k++) {
        if (k) {
            out_char(out, ',');
        }
        ok = put_member(out, &members[k], depth, flags);
    }
    free(members);
    return ok;
}

/* The members of OBJECT in their (insertion) order. */
static bool
put_members(struct ds *out, const json_t *object, int depth,
            unsigned int flags)
{
    bool first = true;
    for (void *it = json_object_iter((json_t *) object); it;
         it = json_object_iter_next((json_t *) object, it)) {
        if (!first) {
            out_char(out, ',');
        }
        first = false;
        struct member m = { json_object_iter_key(it),
                            json_object_iter_key_len(it),
                            json_object_iter_value(it) };
        if (!put_member(out, &m, depth, flags)) {
            return false;
        }
    }
    return true;
}

/* Out of line: keeps put_value(), called for every string of a reply,
 * small. */
static __attribute__((noinline)) bool
put_object(struct ds *out, const json_t *v, int depth, unsigned int flags)
{
    if (depth >= JSONRPC_TEXT_MAX_DEPTH) {
        return false;
    }
    out_char(out, '{');
    bool ok = flags & JSONRPC_TEXT_SORT_KEYS
              ? put_sorted_members(out, v, depth, flags)
              : put_members(out, v, depth, flags);
    out_char(out, '}');
    return ok;
}

static bool
put_value(struct ds *out, const json_t *v, int depth, unsigned int flags)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return put_object(out, v, depth, flags);
    case JSON_ARRAY: {
        if (depth >= JSONRPC_TEXT_MAX_DEPTH) {
            return false;
        }
        size_t n = json_array_size(v);
        out_char(out, '[');
        for (size_t i = 0; i < n; i++) {
            if (i) {
                out_char(out, ',');
            }
            if (!put_value(out, json_array_get(v, i), depth + 1, flags)) {
                return false;
            }
        }
        out_char(out, ']');
        return true;
    }
    case JSON_STRING:
        return put_string(out, json_string_value(v), json_string_length(v),
                          flags);
    case JSON_INTEGER:
        put_integer(out, json_integer_value(v));
        return true;
    case JSON_REAL:
        put_real(out, json_real_value(v));
        return true;
    case JSON_TRUE:
        out_raw(out, "true", 4);
        return true;
    case JSON_FALSE:
        out_raw(out, "false", 5);
        return true;
    case JSON_NULL:
        out_raw(out, "null", 4);
        return true;
    }
    return false;
}

bool
jsonrpc_text_put(struct ds *out, const json_t *value)
{
    return jsonrpc_text_put_flags(out, value, 0);
}

bool
jsonrpc_text_put_flags(struct ds *out, const json_t *value,
                       unsigned int flags)
{
    size_t start = out->length;
    bool ok = value && put_value(out, value, 0, flags);
    if (!ok) {
        out->length = start;
    }
    if (out->string) {
        out->string[out->length] = '\0';
    }
    return ok;
}

void
jsonrpc_text_put_integer(struct ds *out, json_int_t value)
{
    put_integer(out, value);
    out->string[out->length] = '\0';
}

void
jsonrpc_text_put_real(struct ds *out, double value)
{
    put_real(out, value);
    out->string[out->length] = '\0';
}

bool
jsonrpc_text_put_string(struct ds *out, const char *s, size_t len)
{
    return jsonrpc_text_put_string_flags(out, s, len, 0);
}

bool
jsonrpc_text_put_string_flags(struct ds *out, const char *s, size_t len,
                              unsigned int flags)
{
    size_t start = out->length;
    bool ok = put_string(out, s, len, flags);
    if (!ok) {
        out->length = start;
    }
    if (out->string) {
        out->string[out->length] = '\0';
    }
    return ok;
}

/* ---- Parsing. ---- */

/* Strings shared by reference (see the header). */
static const char *const interned_names[] = { "uuid", "named-uuid", "set",
                                              "map" };
#define N_INTERNED ARRAY_SIZE(interned_names)

struct jsonrpc_text_parser {
    json_t *interned[N_INTERNED];
    struct ds scratch;          /* Decoded text of escaped strings. */
    unsigned long long n_fallbacks;
    bool ovs_strings;           /* See the header. */
};

struct jsonrpc_text_parser *
jsonrpc_text_parser_create(void)
{
    struct jsonrpc_text_parser *p = xzalloc(sizeof *p);
    for (size_t i = 0; i < N_INTERNED; i++) {
        p->interned[i] = json_string(interned_names[i]);
    }
    ds_init(&p->scratch);
    return p;
}

void
jsonrpc_text_parser_destroy(struct jsonrpc_text_parser *p)
{
    if (p) {
        for (size_t i = 0; i < N_INTERNED; i++) {
            json_decref(p->interned[i]);
        }
        ds_destroy(&p->scratch);
        free(p);
    }
}

void
jsonrpc_text_parser_set_ovs_strings(struct jsonrpc_text_parser *p, bool on)
{
    p->ovs_strings = on;
}

unsigned long long
jsonrpc_text_parser_n_fallbacks(const struct jsonrpc_text_parser *p)
{
    return p->n_fallbacks;
}

struct parse {
    const unsigned char *p, *end;
    struct jsonrpc_text_parser *parser;
    int depth;
};

static json_t *parse_value(struct parse *);

static inline void
skip_space(struct parse *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n'
                               || *ps->p == '\r' || *ps->p == '\t')) {
        ps->p++;
    }
}

static int
hex_value(unsigned char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Reads the 4 hex digits after "\u" at P; -1 if malformed. */
static long
read_u4(const unsigned char *p, const unsigned char *end)
{
    if (end - p < 4) {
        return -1;
    }
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_value(p[i]);
        if (h < 0) {
            return -1;
        }
        v = (v << 4) | h;
    }
    return v;
}

static void
put_utf8(struct ds *out, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char) cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char) (0xc0 | (cp >> 6));
        b[1] = (char) (0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char) (0xe0 | (cp >> 12));
        b[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char) (0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (char) (0xf0 | (cp >> 18));
        b[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char) (0x80 | (cp & 0x3f));
        n = 4;
    }
    out_raw(out, b, n);
}

/* Decodes one escape sequence at *PP (just after the backslash) into OUT;
 * false if jansson would reject it (unknown escape, bad or lone surrogate,
 * \u0000).  With OVS_STRINGS a lone trailing surrogate is accepted, as
 * ovsdb-server accepts it. */
static bool
decode_escape(const unsigned char **pp, const unsigned char *end,
              struct ds *out, bool ovs_strings)
{
    const unsigned char *p = *pp;
    if (p >= end) {
        return false;
    }
    unsigned char c = *p++;
    switch (c) {
    case '"': case '\\': case '/': out_char(out, (char) c); break;
    case 'b': out_char(out, '\b'); break;
    case 'f': out_char(out, '\f'); break;
    case 'n': out_char(out, '\n'); break;
    case 'r': out_char(out, '\r'); break;
    case 't': out_char(out, '\t'); break;
    case 'u': {
        long v = read_u4(p, end);
        if (v <= 0 || (v >= 0xdc00 && v <= 0xdfff && !ovs_strings)) {
            return false;
        }
        p += 4;
        if (v >= 0xd800 && v <= 0xdbff) {
            if (end - p < 2 || p[0] != '\\' || p[1] != 'u') {
                return false;
            }
            long lo = read_u4(p + 2, end);
            if (lo < 0xdc00 || lo > 0xdfff) {
                return false;
            }
            p += 6;
            v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
        }
        put_utf8(out, (uint32_t) v);
        break;
    }
    default:
        return false;
    }
    *pp = p;
    return true;
}

/* Scans the string whose opening quote PS->p is at.  On success *TEXTP and
 * *LENP give its decoded bytes (pointing into the input when it has no
 * escapes, else into the parser's scratch buffer). */
static bool
scan_string(struct parse *ps, const char **textp, size_t *lenp)
{
    const unsigned char *p = ps->p + 1;
    const unsigned char *start = p;
    struct ds *scratch = NULL;

    for (;;) {
        if (p >= ps->end) {
            return false;
        }
        unsigned char c = *p;
        if (c == '"') {
            break;
        } else if (c < 0x20) {
            return false;
        } else if (c == '\\') {
            if (!scratch) {
                scratch = &ps->parser->scratch;
                ds_clear(scratch);
            }
            out_raw(scratch, (const char *) start, (size_t) (p - start));
            p++;
            if (!decode_escape(&p, ps->end, scratch,
                               ps->parser->ovs_strings)) {
                return false;
            }
            start = p;
        } else if (c >= 0x80) {
            size_t n = utf8_sequence_length(p, (size_t) (ps->end - p));
            if (!n) {
                if (!ps->parser->ovs_strings) {
                    return false;
                }
                n = 1;
            }
            p += n;
        } else {
            p++;
        }
    }
    if (scratch) {
        out_raw(scratch, (const char *) start, (size_t) (p - start));
        *textp = scratch->string;
        *lenp = scratch->length;
    } else {
        *textp = (const char *) start;
        *lenp = (size_t) (p - start);
    }
    ps->p = p + 1;
    return true;
}

static json_t *
parse_string(struct parse *ps)
{
    const char *text;
    size_t len;
    if (!scan_string(ps, &text, &len)) {
        return NULL;
    }
    if (len >= 3 && len <= 10) {
        for (size_t i = 0; i < N_INTERNED; i++) {
            const char *name = interned_names[i];
            if (!strncmp(text, name, len) && name[len] == '\0') {
                return json_incref(ps->parser->interned[i]);
            }
        }
    }
    /* Checked above: valid UTF-8 (unless in OVS strings mode, see the
     * header).  A decoded \u0000 was refused, so the text has no NUL
     * either, as jansson requires without JSON_ALLOW_NUL. */
    return json_stringn_nocheck(text, len);
}

static inline bool
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static json_t *
parse_number(struct parse *ps)
{
    const unsigned char *start = ps->p, *p = start, *end = ps->end;
    bool real = false;

    if (p < end && *p == '-') {
        p++;
    }
    if (p >= end || !is_digit(*p)) {
        return NULL;
    }
    if (*p == '0') {
        p++;
        if (p < end && is_digit(*p)) {
            return NULL;        /* Leading zero. */
        }
    } else {
        while (p < end && is_digit(*p)) {
            p++;
        }
    }
    if (p < end && *p == '.') {
        real = true;
        p++;
        if (p >= end || !is_digit(*p)) {
            return NULL;
        }
        while (p < end && is_digit(*p)) {
            p++;
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        real = true;
        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            p++;
        }
        if (p >= end || !is_digit(*p)) {
            return NULL;
        }
        while (p < end && is_digit(*p)) {
            p++;
        }
    }
    ps->p = p;

    size_t len = (size_t) (p - start);
    if (!real && len <= 18) {
        /* Cannot overflow: at most 18 digits. */
        bool neg = *start == '-';
        long long v = 0;
        for (const unsigned char *q = start + neg; q < p; q++) {
            v = v * 10 + (*q - '0');
        }
        return json_integer(neg ? -v : v);
    }

    char buf[64];
    char *text = len < sizeof buf ? buf : xmalloc(len + 1);
    memcpy(text, start, len);
    text[len] = '\0';
    json_t *value = NULL;
    errno = 0;
    if (real) {
        double d = strtod(text, NULL);
        if (!((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE)) {
            value = json_real(d);
        }
    } else {
        long long v = strtoll(text, NULL, 10);
        if (errno != ERANGE) {
            value = json_integer(v);
        }
    }
    if (text != buf) {
        free(text);
    }
    return value;
}

static bool
match_literal(struct parse *ps, const char *word, size_t len)
{
    if ((size_t) (ps->end - ps->p) < len || memcmp(ps->p, word, len)) {
        return false;
    }
    ps->p += len;
    /* jansson reads a whole run of letters as one token. */
    return ps->p >= ps->end || !((*ps->p >= 'a' && *ps->p <= 'z')
                                 || (*ps->p >= 'A' && *ps->p <= 'Z'));
}

static json_t *
parse_array(struct parse *ps)
{
    json_t *array = json_array();
    ps->p++;
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return array;
    }
    for (;;) {
        json_t *elem = parse_value(ps);
        if (!elem || json_array_append_new(array, elem)) {
            break;
        }
        skip_space(ps);
        if (ps->p >= ps->end) {
            break;
        } else if (*ps->p == ']') {
            ps->p++;
            return array;
        } else if (*ps->p != ',') {
            break;
        }
        ps->p++;
        skip_space(ps);
    }
    json_decref(array);
    return NULL;
}

static json_t *
parse_object(struct parse *ps)
{
    json_t *object = json_object();
    ps->p++;
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        return object;
    }
    for (;;) {
        const char *key;
        size_t key_len;
        if (ps->p >= ps->end || *ps->p != '"'
            || !scan_string(ps, &key, &key_len)) {
            break;
        }
        /* KEY may point into the scratch buffer, which the value's strings
         * reuse: keep a copy while parsing the value. */
        char small[64];
        char *copy = key_len < sizeof small ? small : xmalloc(key_len + 1);
        memcpy(copy, key, key_len);
        skip_space(ps);
        if (ps->p >= ps->end || *ps->p != ':') {
            if (copy != small) {
                free(copy);
            }
            break;
        }
        ps->p++;
        skip_space(ps);
        json_t *value = parse_value(ps);
        int error = value ? json_object_setn_new_nocheck(object, copy, key_len,
                                                         value) : -1;
        if (copy != small) {
            free(copy);
        }
        if (error) {
            break;
        }
        skip_space(ps);
        if (ps->p >= ps->end) {
            break;
        } else if (*ps->p == '}') {
            ps->p++;
            return object;
        } else if (*ps->p != ',') {
            break;
        }
        ps->p++;
        skip_space(ps);
    }
    json_decref(object);
    return NULL;
}

static json_t *
parse_value(struct parse *ps)
{
    if (ps->p >= ps->end) {
        return NULL;
    }
    switch (*ps->p) {
    case '{':
    case '[': {
        /* Deeper than jansson allows is possible only past this limit;
         * beyond it jansson decides (see jsonrpc_text_parse()). */
        if (++ps->depth > 1024) {
            return NULL;
        }
        json_t *v = *ps->p == '{' ? parse_object(ps) : parse_array(ps);
        ps->depth--;
        return v;
    }
    case '"':
        return parse_string(ps);
    case 't':
        return match_literal(ps, "true", 4) ? json_true() : NULL;
    case 'f':
        return match_literal(ps, "false", 5) ? json_false() : NULL;
    case 'n':
        return match_literal(ps, "null", 4) ? json_null() : NULL;
    default:
        return parse_number(ps);
    }
}

json_t *
jsonrpc_text_parse(struct jsonrpc_text_parser *parser, const char *text,
                   size_t size, char **errorp)
{
    struct parse ps = {
        .p = (const unsigned char *) text,
        .end = (const unsigned char *) text + size,
        .parser = parser,
    };
    *errorp = NULL;
    skip_space(&ps);
    json_t *value = parse_value(&ps);
    if (value) {
        skip_space(&ps);
        if (ps.p == ps.end) {
            return value;
        }
        json_decref(value);
    }

    /* Malformed (or beyond what this parser handles): jansson decides and
     * words the error. */
    parser->n_fallbacks++;
    json_error_t jerr;
    value = json_loadb(text, size, JSON_DECODE_ANY, &jerr);
    if (!value) {
        *errorp = xasprintf("line %d, column %d, byte %d: %s", jerr.line,
                            jerr.column, jerr.position, jerr.text);
    }
    return value;
}
