#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *prog_name = "lanyard";

static NO_RETURN void
out_of_memory(void)
{
    fprintf(stderr, "%s: virtual memory exhausted\n", prog_name);
    abort();
}

void *
xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) {
        out_of_memory();
    }
    return p;
}

void *
xzalloc(size_t size)
{
    return xcalloc(1, size);
}

void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        out_of_memory();
    }
    return p;
}

void *
xrealloc(void *p, size_t size)
{
    p = realloc(p, size ? size : 1);
    if (!p) {
        out_of_memory();
    }
    return p;
}

void *
xmemdup(const void *p, size_t size)
{
    void *q = xmalloc(size);
    if (size) {
        memcpy(q, p, size);
    }
    return q;
}

char *
xstrdup(const char *s)
{
    return xmemdup(s, strlen(s) + 1);
}

char *
xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *q = xmalloc(len + 1);
    memcpy(q, s, len);
    q[len] = '\0';
    return q;
}

char *
xvasprintf(const char *fmt, va_list args)
{
    va_list copy;
    va_copy(copy, args);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0) {
        out_of_memory();
    }
    char *s = xmalloc((size_t) n + 1);
    vsnprintf(s, (size_t) n + 1, fmt, args);
    return s;
}

char *
xasprintf(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    char *s = xvasprintf(fmt, args);
    va_end(args);
    return s;
}

void *
x2nrealloc(void *array, size_t *n_allocated, size_t elem_size)
{
    size_t n = *n_allocated ? *n_allocated * 2 : 8;
    *n_allocated = n;
    return xrealloc(array, n * elem_size);
}

void
set_program_name(const char *argv0)
{
    const char *slash = strrchr(argv0, '/');
    prog_name = slash ? slash + 1 : argv0;
}

const char *
program_name(void)
{
    return prog_name;
}

void
fatal(const char *fmt, ...)
{
    va_list args;
    fprintf(stderr, "%s: ", prog_name);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
    exit(1);
}

void
fatal_errno(int errnum, const char *fmt, ...)
{
    va_list args;
    fprintf(stderr, "%s: ", prog_name);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fprintf(stderr, ": %s\n", strerror(errnum));
    exit(1);
}

bool
str_to_llong(const char *s, int base, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, base);
    if (errno || end == s || *end) {
        return false;
    }
    *out = v;
    return true;
}

bool
str_to_int(const char *s, int base, int *out)
{
    long long v;
    if (!str_to_llong(s, base, &v) || v < INT_MIN || v > INT_MAX) {
        return false;
    }
    *out = (int) v;
    return true;
}

bool
str_to_uint(const char *s, int base, unsigned int *out)
{
    long long v;
    if (!str_to_llong(s, base, &v) || v < 0 || v > UINT_MAX) {
        return false;
    }
    *out = (unsigned int) v;
    return true;
}

bool
str_to_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end) {
        return false;
    }
    *out = v;
    return true;
}

bool
str_starts_with(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

bool
str_ends_with(const char *s, const char *suffix)
{
    size_t s_len = strlen(s), x_len = strlen(suffix);
    return s_len >= x_len && !strcmp(s + s_len - x_len, suffix);
}

static long long
clock_msec(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long
time_msec(void)
{
    return clock_msec(CLOCK_MONOTONIC);
}

long long
time_wall_msec(void)
{
    return clock_msec(CLOCK_REALTIME);
}
