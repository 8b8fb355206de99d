#include "ovsdb-error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ds.h"
#include "jsonrpc-text.h"

struct ovsdb_error {
    char *tag;
    char *details;              /* Or NULL. */
    char *syntax;               /* Compact JSON text of the culprit, or NULL. */
};

static struct ovsdb_error *
error_create_valist(const char *tag, const char *fmt, va_list args)
    PRINTF_FORMAT(2, 0);

static struct ovsdb_error *
error_create_valist(const char *tag, const char *fmt, va_list args)
{
    struct ovsdb_error *e = xzalloc(sizeof *e);

    e->tag = xstrdup(tag);
    e->details = fmt ? xvasprintf(fmt, args) : NULL;
    return e;
}

struct ovsdb_error *
ovsdb_error(const char *tag, const char *details_fmt, ...)
{
    struct ovsdb_error *e;
    va_list args;

    va_start(args, details_fmt);
    e = error_create_valist(tag, details_fmt, args);
    va_end(args);
    return e;
}

/* The "syntax" member is the offending JSON as compact text with sorted keys,
 * which is how ovsdb-server writes it, strings that are not UTF-8 included
 * (a peer's bytes, see jsonrpc-text.h). */
static char *
syntax_text(const json_t *json)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    unsigned int flags = JSONRPC_TEXT_VERBATIM | JSONRPC_TEXT_SORT_KEYS;
    if (!json || !jsonrpc_text_put_flags(&text, json, flags)) {
        ds_destroy(&text);
        return NULL;
    }
    return ds_steal_cstr(&text);
}

struct ovsdb_error *
ovsdb_syntax_error(const json_t *json, const char *tag,
                   const char *details_fmt, ...)
{
    struct ovsdb_error *e;
    va_list args;

    va_start(args, details_fmt);
    e = error_create_valist(tag ? tag : "syntax error", details_fmt, args);
    va_end(args);
    e->syntax = syntax_text(json);
    return e;
}

struct ovsdb_error *
ovsdb_error_wrap(struct ovsdb_error *e, const char *fmt, ...)
{
    char *context;
    va_list args;

    va_start(args, fmt);
    context = xvasprintf(fmt, args);
    va_end(args);

    if (e->details) {
        char *d = xasprintf("%s: %s", context, e->details);

        free(context);
        free(e->details);
        e->details = d;
    } else {
        e->details = context;
    }
    return e;
}

struct ovsdb_error *
ovsdb_error_clone(const struct ovsdb_error *old)
{
    struct ovsdb_error *e = xzalloc(sizeof *e);

    e->tag = xstrdup(old->tag);
    e->details = old->details ? xstrdup(old->details) : NULL;
    e->syntax = old->syntax ? xstrdup(old->syntax) : NULL;
    return e;
}

void
ovsdb_error_destroy(struct ovsdb_error *e)
{
    if (e) {
        free(e->tag);
        free(e->details);
        free(e->syntax);
        free(e);
    }
}

const char *
ovsdb_error_get_tag(const struct ovsdb_error *e)
{
    return e->tag;
}

const char *
ovsdb_error_get_details(const struct ovsdb_error *e)
{
    return e->details;
}

const char *
ovsdb_error_get_syntax(const struct ovsdb_error *e)
{
    return e->syntax;
}

json_t *
ovsdb_error_to_json(const struct ovsdb_error *e)
{
    json_t *j = json_object();

    /* Details and syntax may quote a peer's bytes that are not UTF-8; they
     * go back to it as they came, as from ovsdb-server. */
    json_object_set_new(j, "error", ovsdb_json_string(e->tag));
    if (e->details) {
        json_object_set_new(j, "details", json_string_nocheck(e->details));
    }
    if (e->syntax) {
        json_object_set_new(j, "syntax", json_string_nocheck(e->syntax));
    }
    return j;
}

char *
ovsdb_error_to_string(const struct ovsdb_error *e)
{
    return e->details ? xasprintf("%s: %s", e->tag, e->details)
                      : xstrdup(e->tag);
}

json_t *
ovsdb_json_string(const char *s)
{
    json_t *j = json_string(s);

    if (!j) {
        char *copy = xstrdup(s);

        for (char *p = copy; *p; p++) {
            if ((unsigned char) *p >= 0x80) {
                *p = '?';
            }
        }
        j = json_string(copy);
        free(copy);
    }
    return j;
}
