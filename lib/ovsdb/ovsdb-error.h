/* ovsdb-error: structured OVSDB errors (RFC 7047 section 3.1 error objects).
 *
 * An error has a tag (the RFC's "error" string, e.g. "constraint violation"),
 * optional details (free text) and optionally the JSON that was at fault
 * (syntax errors).  Functions in the OVSDB layer return NULL on success or a
 * newly allocated error that the caller owns and must destroy or pass on.
 * Thread-safe: no shared state. */
#ifndef LANYARD_OVSDB_ERROR_H
#define LANYARD_OVSDB_ERROR_H 1

#include <jansson.h>

#include "util.h"

struct ovsdb_error;

/* Creates an error with TAG and printf-formatted DETAILS (may be NULL). */
struct ovsdb_error *ovsdb_error(const char *tag, const char *details_fmt, ...)
    PRINTF_FORMAT(2, 3) WARN_UNUSED;
/* Like ovsdb_error() with tag "syntax error" (or TAG if non-NULL) and a copy
 * of the offending JSON (may be NULL) kept for the "syntax" member. */
struct ovsdb_error *ovsdb_syntax_error(const json_t *, const char *tag,
                                       const char *details_fmt, ...)
    PRINTF_FORMAT(3, 4) WARN_UNUSED;
/* Adds context in front of the details: "CONTEXT: old details". */
struct ovsdb_error *ovsdb_error_wrap(struct ovsdb_error *, const char *fmt, ...)
    PRINTF_FORMAT(2, 3);

struct ovsdb_error *ovsdb_error_clone(const struct ovsdb_error *);
void ovsdb_error_destroy(struct ovsdb_error *);

const char *ovsdb_error_get_tag(const struct ovsdb_error *);
const char *ovsdb_error_get_details(const struct ovsdb_error *); /* or NULL */
/* The offending JSON as compact text with sorted keys (what the "syntax"
 * member carries), or NULL. */
const char *ovsdb_error_get_syntax(const struct ovsdb_error *);

/* {"error": TAG, "details": DETAILS [, "syntax": ...]}; caller owns. */
json_t *ovsdb_error_to_json(const struct ovsdb_error *);
/* "TAG: DETAILS" (or "TAG"); caller frees. */
char *ovsdb_error_to_string(const struct ovsdb_error *);

/* json_string() that never fails: if S is not valid UTF-8, every byte with
 * the high bit set becomes '?'.  Used wherever text that did not come from
 * parsed JSON (file names, strings set by daemons) is put into JSON. */
json_t *ovsdb_json_string(const char *s);

#endif
