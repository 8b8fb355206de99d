#include "uuid.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "hash.h"

/* xoshiro128** state, seeded lazily; per-thread so no lock is needed. */
static _Thread_local uint32_t prng[4];
static _Thread_local bool prng_seeded;

static uint32_t
prng_next(void)
{
    uint32_t *s = prng;
    uint32_t result = hash_rot(s[1] * 5, 7) * 9;
    uint32_t t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = hash_rot(s[3], 11);
    return result;
}

void
uuid_generate(struct uuid *uuid)
{
    if (!prng_seeded) {
        while (getrandom(prng, sizeof prng, 0) != sizeof prng) {
            continue;
        }
        if (!(prng[0] | prng[1] | prng[2] | prng[3])) {
            prng[0] = 1;
        }
        prng_seeded = true;
    }
    for (int i = 0; i < 4; i++) {
        uuid->parts[i] = prng_next();
    }
    /* Version 4, variant 10xx. */
    uuid->parts[1] = (uuid->parts[1] & ~0xf000u) | 0x4000u;
    uuid->parts[2] = (uuid->parts[2] & ~0xc0000000u) | 0x80000000u;
}

void
uuid_zero(struct uuid *uuid)
{
    memset(uuid, 0, sizeof *uuid);
}

bool
uuid_is_zero(const struct uuid *uuid)
{
    return !(uuid->parts[0] | uuid->parts[1] | uuid->parts[2] | uuid->parts[3]);
}

bool
uuid_equals(const struct uuid *a, const struct uuid *b)
{
    return !memcmp(a, b, sizeof *a);
}

int
uuid_compare_3way(const struct uuid *a, const struct uuid *b)
{
    for (int i = 0; i < 4; i++) {
        if (a->parts[i] != b->parts[i]) {
            return a->parts[i] < b->parts[i] ? -1 : 1;
        }
    }
    return 0;
}

uint32_t
uuid_hash(const struct uuid *uuid)
{
    return uuid->parts[0];      /* Already random. */
}

static int
hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
         : -1;
}

/* Parses the N hex digits at S into *VALUE (unrolled: the server parses
 * every uuid of a 10,000-member set per transaction). */
static bool
hex_run(const char *s, int n, uint32_t *value)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++) {
        int h = hexval((unsigned char) s[i]);
        if (h < 0) {
            return false;
        }
        v = (v << 4) | (uint32_t) h;
    }
    *value = v;
    return true;
}

bool
uuid_from_string(struct uuid *uuid, const char *s)
{
    uint32_t a, b, c, d, e, f;
    /* Each check stops at the first mismatch, so a short string is never
     * read past its NUL. */
    if (!hex_run(s, 8, &a) || s[8] != '-' || !hex_run(s + 9, 4, &b)
        || s[13] != '-' || !hex_run(s + 14, 4, &c) || s[18] != '-'
        || !hex_run(s + 19, 4, &d) || s[23] != '-' || !hex_run(s + 24, 4, &e)
        || !hex_run(s + 28, 8, &f) || s[UUID_LEN] != '\0') {
        return false;
    }
    uuid->parts[0] = a;
    uuid->parts[1] = (b << 16) | c;
    uuid->parts[2] = (d << 16) | e;
    uuid->parts[3] = f;
    return true;
}

bool
uuid_is_partial_string(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        if (n == 8 || n == 13 || n == 18 || n == 23) {
            if (s[n] != '-') {
                return false;
            }
        } else if (hexval((unsigned char) s[n]) < 0) {
            return false;
        }
    }
    return n >= 4 && n <= UUID_LEN;
}

void
uuid_to_string(const struct uuid *uuid, char buf[UUID_LEN + 1])
{
    /* "%08x-%04x-%04x-%04x-%04x%08x" without printf: uuids are formatted
     * for every row of every log record and reply. */
    static const char digits[] = "0123456789abcdef";
    char *out = buf;
    for (int i = 0; i < 4; i++) {
        uint32_t v = uuid->parts[i];
        for (int shift = 28; shift >= 0; shift -= 4) {
            *out++ = digits[(v >> shift) & 15];
            if ((i == 1 || i == 2) && shift == 16) {
                *out++ = '-';
            }
        }
        if (i < 2) {
            *out++ = '-';
        }
    }
    *out = '\0';
}
