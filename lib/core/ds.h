/* ds: growable NUL-terminated string buffer ("dynamic string"). */
#ifndef LANYARD_DS_H
#define LANYARD_DS_H 1

#include <stdarg.h>
#include <stddef.h>

#include "util.h"

struct ds {
    char *string;               /* NULL until something is appended. */
    size_t length;              /* Bytes in use, excluding the NUL. */
    size_t allocated;           /* Bytes allocated, excluding the NUL. */
};

#define DS_EMPTY_INITIALIZER { NULL, 0, 0 }

void ds_init(struct ds *);
void ds_clear(struct ds *);
void ds_destroy(struct ds *);
void ds_reserve(struct ds *, size_t min_length);
void ds_put_char(struct ds *, char);
void ds_put_buffer(struct ds *, const char *, size_t n);
void ds_put_cstr(struct ds *, const char *);
void ds_put_format(struct ds *, const char *, ...) PRINTF_FORMAT(2, 3);
void ds_put_format_valist(struct ds *, const char *, va_list) PRINTF_FORMAT(2, 0);
void ds_put_char_multiple(struct ds *, char, size_t n);
const char *ds_cstr(struct ds *);      /* Never NULL. */
char *ds_steal_cstr(struct ds *);      /* Caller owns; DS becomes empty. */
void ds_truncate(struct ds *, size_t new_length);
void ds_chomp(struct ds *, char);      /* Drops one trailing CHAR if present. */

#endif
