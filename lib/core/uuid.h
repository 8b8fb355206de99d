/* uuid: RFC 4122 version 4 UUIDs as used for OVSDB row identities. */
#ifndef LANYARD_UUID_H
#define LANYARD_UUID_H 1

#include <stdbool.h>
#include <stdint.h>

struct uuid {
    uint32_t parts[4];
};

#define UUID_LEN 36             /* Characters in "xxxxxxxx-xxxx-...". */

/* Fills *UUID with a fresh random version-4 UUID (fast PRNG seeded from
 * getrandom(), not a cryptographic source). */
void uuid_generate(struct uuid *);
void uuid_zero(struct uuid *);
bool uuid_is_zero(const struct uuid *);
bool uuid_equals(const struct uuid *, const struct uuid *);
int uuid_compare_3way(const struct uuid *, const struct uuid *);
uint32_t uuid_hash(const struct uuid *);

/* Parses exactly 36 characters of canonical form; returns false if S is not
 * a UUID. */
bool uuid_from_string(struct uuid *, const char *s);
bool uuid_is_partial_string(const char *s);   /* 4+ hex digits prefix. */
/* Writes 36 characters plus a NUL into BUF. */
void uuid_to_string(const struct uuid *, char buf[UUID_LEN + 1]);

#endif
