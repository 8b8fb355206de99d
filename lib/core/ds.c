#include "ds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
ds_init(struct ds *ds)
{
    ds->string = NULL;
    ds->length = 0;
    ds->allocated = 0;
}

void
ds_clear(struct ds *ds)
{
    ds->length = 0;
    if (ds->string) {
        ds->string[0] = '\0';
    }
}

void
ds_destroy(struct ds *ds)
{
    free(ds->string);
    ds_init(ds);
}

void
ds_reserve(struct ds *ds, size_t min_length)
{
    if (min_length > ds->allocated || !ds->string) {
        size_t n = MAX(min_length, ds->allocated * 2);
        n = MAX(n, 15);
        ds->string = xrealloc(ds->string, n + 1);
        ds->allocated = n;
        ds->string[ds->length] = '\0';
    }
}

void
ds_put_buffer(struct ds *ds, const char *s, size_t n)
{
    ds_reserve(ds, ds->length + n);
    memcpy(ds->string + ds->length, s, n);
    ds->length += n;
    ds->string[ds->length] = '\0';
}

void
ds_put_char(struct ds *ds, char c)
{
    ds_put_buffer(ds, &c, 1);
}

void
ds_put_char_multiple(struct ds *ds, char c, size_t n)
{
    ds_reserve(ds, ds->length + n);
    memset(ds->string + ds->length, c, n);
    ds->length += n;
    ds->string[ds->length] = '\0';
}

void
ds_put_cstr(struct ds *ds, const char *s)
{
    ds_put_buffer(ds, s, strlen(s));
}

void
ds_put_format_valist(struct ds *ds, const char *fmt, va_list args)
{
    va_list copy;
    va_copy(copy, args);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n <= 0) {
        return;
    }
    ds_reserve(ds, ds->length + (size_t) n);
    vsnprintf(ds->string + ds->length, (size_t) n + 1, fmt, args);
    ds->length += (size_t) n;
}

void
ds_put_format(struct ds *ds, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    ds_put_format_valist(ds, fmt, args);
    va_end(args);
}

const char *
ds_cstr(struct ds *ds)
{
    ds_reserve(ds, 0);
    return ds->string;
}

char *
ds_steal_cstr(struct ds *ds)
{
    ds_reserve(ds, 0);
    char *s = ds->string;
    ds_init(ds);
    return s;
}

void
ds_truncate(struct ds *ds, size_t new_length)
{
    if (new_length < ds->length) {
        ds->length = new_length;
        ds->string[new_length] = '\0';
    }
}

void
ds_chomp(struct ds *ds, char c)
{
    if (ds->length && ds->string[ds->length - 1] == c) {
        ds_truncate(ds, ds->length - 1);
    }
}
