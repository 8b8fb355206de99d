/* util: allocation that never returns NULL, string helpers, fatal errors.
 *
 * x*alloc abort the process on out-of-memory: recovery paths for that case
 * would be untested fiction.  Every function here is thread-safe. */
#ifndef LANYARD_UTIL_H
#define LANYARD_UTIL_H 1

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Pointer to the struct of type STRUCT that contains MEMBER at address PTR. */
#define CONTAINER_OF(PTR, STRUCT, MEMBER)                                      \
    ((STRUCT *) (void *) ((char *) (PTR) - offsetof(STRUCT, MEMBER)))

/* Like CONTAINER_OF but typed by an object; works for NULL-safe iteration
 * because it never dereferences OBJ. */
#define OBJECT_CONTAINING(PTR, OBJ, MEMBER)                                    \
    ((__typeof__(OBJ)) (void *) ((char *) (PTR) - offsetof(__typeof__(*(OBJ)), MEMBER)))

#define PRINTF_FORMAT(FMT, ARG0) __attribute__((format(printf, FMT, ARG0)))
#define NO_RETURN __attribute__((noreturn))
#define WARN_UNUSED __attribute__((warn_unused_result))

void *xmalloc(size_t size);
void *xzalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
void *xmemdup(const void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF_FORMAT(1, 2);
char *xvasprintf(const char *fmt, va_list) PRINTF_FORMAT(1, 0);

/* Grows *ARRAY (of *N_ALLOCATED elements of ELEM_SIZE bytes) so that it holds
 * at least N_NEEDED elements, doubling as it goes. */
void *x2nrealloc(void *array, size_t *n_allocated, size_t elem_size);

/* Prints "PROGRAM: message" to stderr and exits with status 1. */
void fatal(const char *fmt, ...) PRINTF_FORMAT(1, 2) NO_RETURN;
/* Like fatal() but appends ": strerror(errnum)". */
void fatal_errno(int errnum, const char *fmt, ...) PRINTF_FORMAT(2, 3) NO_RETURN;

/* The program name used in messages; set once from main(). */
void set_program_name(const char *argv0);
const char *program_name(void);

bool str_to_int(const char *s, int base, int *out);
bool str_to_llong(const char *s, int base, long long *out);
bool str_to_uint(const char *s, int base, unsigned int *out);
bool str_to_double(const char *s, double *out);
bool str_starts_with(const char *s, const char *prefix);
bool str_ends_with(const char *s, const char *suffix);

/* Monotonic and wall-clock time in milliseconds. */
long long time_msec(void);
long long time_wall_msec(void);

#endif
