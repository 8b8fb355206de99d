/* jsonrpc-text: JSON text <-> jansson values, the fast paths of the
 * JSON-RPC connection and of the database log.
 *
 * jsonrpc_text_put() appends the compact serialization of a value, byte for
 * byte what json_dumps(JSON_COMPACT | JSON_ENCODE_ANY) produces (object
 * members in insertion order, reals as "%.17g" with a '.' or exponent,
 * control characters as \uXXXX), without jansson's per-token callbacks and
 * printf calls.
 *
 * jsonrpc_text_parse() parses one JSON text (any value at top level, as
 * json_loadb(JSON_DECODE_ANY)).  It accepts exactly what jansson accepts
 * (plus, in "OVS strings" mode, the strings described below) and
 * builds an equal value; on malformed input it lets jansson produce the
 * error, so the message ("line L, column C, byte B: <jansson text>") is
 * jansson's.  Short strings that OVSDB repeats in every element of large
 * sets ("uuid", "named-uuid", "set", "map") are shared by reference among
 * the values one parser returns, which saves two allocations per element;
 * callers must therefore never modify a parsed string in place
 * (json_string_set*), which no code in the tree does.
 *
 * Strings that are not UTF-8.  RFC 8259 requires JSON text to be UTF-8 and
 * jansson refuses anything else, but Open vSwitch's JSON-RPC peers neither
 * check what they receive nor what they send: ovsdb-server takes such a
 * string and answers with an OVSDB error (quoting the bytes back where its
 * message names them).  A parser in "OVS strings" mode
 * (jsonrpc_text_parser_set_ovs_strings()) therefore also accepts strings
 * holding any bytes other than control characters, and a lone \uDC00-\uDFFF
 * escape (as OVS, its three-byte encoding); everything else is decided as by
 * jansson.  Such strings become jansson values through the "nocheck"
 * constructors, so the layer that interprets them must check them
 * (ovsdb-data does, before anything reaches a database).  The writer refuses
 * them unless told to copy them verbatim (JSONRPC_TEXT_VERBATIM, what
 * replies to a peer use), so the database log can never hold one.
 *
 * Pure functions, no I/O.  A parser is not thread-safe; values it returned
 * may outlive it. */
#ifndef LANYARD_JSONRPC_TEXT_H
#define LANYARD_JSONRPC_TEXT_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct ds;

/* Appends VALUE's compact text to OUT.  Returns false, with OUT unchanged,
 * if VALUE cannot be serialized (a string that is not valid UTF-8, a
 * nesting deeper than JSONRPC_TEXT_MAX_DEPTH). */
#define JSONRPC_TEXT_MAX_DEPTH 2048
bool jsonrpc_text_put(struct ds *out, const json_t *value);
/* Appends the LEN bytes at S as a JSON string; false (OUT unchanged) if
 * they are not valid UTF-8. */
bool jsonrpc_text_put_string(struct ds *out, const char *s, size_t len);

/* Options of the two functions below. */
enum {
    /* Bytes of strings that are not UTF-8 are copied as they are, as
     * ovsdb-server echoes what a peer sent (never used for the log). */
    JSONRPC_TEXT_VERBATIM = 1 << 0,
    /* Object members sorted by name (bytewise), as json_dumps() with
     * JSON_SORT_KEYS and as ovsdb-server writes an error's "syntax". */
    JSONRPC_TEXT_SORT_KEYS = 1 << 1,
};
bool jsonrpc_text_put_flags(struct ds *out, const json_t *value,
                            unsigned int flags);
bool jsonrpc_text_put_string_flags(struct ds *out, const char *s, size_t len,
                                   unsigned int flags);

/* Append a number exactly as jsonrpc_text_put() writes json_integer() and
 * json_real() values.  VALUE must be finite (jansson has no other reals). */
void jsonrpc_text_put_integer(struct ds *out, json_int_t value);
void jsonrpc_text_put_real(struct ds *out, double value);

struct jsonrpc_text_parser;
struct jsonrpc_text_parser *jsonrpc_text_parser_create(void);
void jsonrpc_text_parser_destroy(struct jsonrpc_text_parser *);
/* Switches "OVS strings" mode (see above) on or off; off by default. */
void jsonrpc_text_parser_set_ovs_strings(struct jsonrpc_text_parser *,
                                         bool on);

/* Parses the SIZE bytes at TEXT (no NUL needed).  Returns the value (caller
 * owns) or NULL with *ERRORP set to a malloc'd message. */
json_t *jsonrpc_text_parse(struct jsonrpc_text_parser *, const char *text,
                           size_t size, char **errorp);
/* How many parses this parser left to jansson (malformed input, or nesting
 * deeper than its own limit of 1,024): for tests and statistics. */
unsigned long long jsonrpc_text_parser_n_fallbacks(
    const struct jsonrpc_text_parser *);

#endif
