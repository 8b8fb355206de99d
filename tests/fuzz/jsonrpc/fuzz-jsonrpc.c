/* Fuzz target: bytes through the JSON-RPC framer in varying chunk sizes,
 * then message validation; every accepted message must survive a
 * serialize/parse round trip.  The same bytes also go to the fast JSON
 * parser and writer (jsonrpc-text) and to jansson: same verdict, same
 * error text, equal values, identical serialization.  In "OVS strings"
 * mode (what the framer uses: strings that are not UTF-8 are taken, as
 * ovsdb-server takes them) the parser must accept a superset of jansson,
 * equal values where jansson accepts, exactly jansson's verdict once every
 * byte above 0x7f is made an 'x', and its verbatim text must parse back to
 * the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ds.h"
#include "jsonrpc-text.h"
#include "jsonrpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *
parse_ovs(const char *text, size_t size)
{
    struct jsonrpc_text_parser *p = jsonrpc_text_parser_create();
    jsonrpc_text_parser_set_ovs_strings(p, true);
    char *error;
    json_t *value = jsonrpc_text_parse(p, text, size, &error);
    free(error);
    jsonrpc_text_parser_destroy(p);
    return value;
}

static void
check_value(json_t *json)
{
    struct jsonrpc_msg *msg;
    char *error = jsonrpc_msg_from_json(json, &msg);
    if (error) {
        free(error);
        return;
    }
    char *text = jsonrpc_msg_to_string(msg);
    json_t *again = parse_ovs(text, strlen(text));
    struct jsonrpc_msg *msg2;
    if (!again || (error = jsonrpc_msg_from_json(again, &msg2))) {
        abort();                /* What we emit must parse back. */
    }
    if (msg2->type != msg->type) {
        abort();
    }
    jsonrpc_msg_destroy(msg2);
    jsonrpc_msg_destroy(msg);
    free(text);
}

static void
check_text_codec(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *ref = json_loadb((const char *) data, size, JSON_DECODE_ANY, &jerr);
    struct jsonrpc_text_parser *p = jsonrpc_text_parser_create();
    char *error;
    json_t *ours = jsonrpc_text_parse(p, (const char *) data, size, &error);
    jsonrpc_text_parser_destroy(p);
    if (!ref != !ours) {
        abort();                /* Different verdicts. */
    }
    if (!ref) {
        char expected[256];
        snprintf(expected, sizeof expected, "line %d, column %d, byte %d: %s",
                 jerr.line, jerr.column, jerr.position, jerr.text);
        if (strcmp(error, expected)) {
            abort();
        }
        free(error);
        return;
    }
    char *ref_text = json_dumps(ref, JSON_COMPACT | JSON_ENCODE_ANY);
    struct ds text = DS_EMPTY_INITIALIZER;
    if (!json_equal(ref, ours) || !ref_text || !jsonrpc_text_put(&text, ours)
        || strcmp(ref_text, ds_cstr(&text))) {
        abort();
    }
    free(ref_text);
    ds_destroy(&text);
    json_decref(ref);
    json_decref(ours);
}

/* Whether DATA has a \uDC00-\uDFFF escape (maybe: a "\\u" pair fools it,
 * which only skips a check). */
static bool
has_low_surrogate_escape(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i + 2 < size; i++) {
        if (data[i] == '\\' && data[i + 1] == 'u'
            && (data[i + 2] == 'd' || data[i + 2] == 'D') && i + 3 < size
            && strchr("cdefCDEF", data[i + 3]) && data[i + 3]) {
            return true;
        }
    }
    return false;
}

/* Whether every string and member name in V is UTF-8, by jansson's check
 * (json_dumps() itself cannot say: it writes a member name that is not
 * UTF-8 as garbage instead of failing). */
static bool
all_utf8(const json_t *v)
{
    json_t *probe;
    switch (json_typeof(v)) {
    case JSON_STRING:
        probe = json_stringn(json_string_value(v), json_string_length(v));
        json_decref(probe);
        return probe != NULL;
    case JSON_ARRAY:
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (!all_utf8(json_array_get(v, i))) {
                return false;
            }
        }
        return true;
    case JSON_OBJECT:
        for (void *it = json_object_iter((json_t *) v); it;
             it = json_object_iter_next((json_t *) v, it)) {
            probe = json_stringn(json_object_iter_key(it),
                                 json_object_iter_key_len(it));
            json_decref(probe);
            if (!probe || !all_utf8(json_object_iter_value(it))) {
                return false;
            }
        }
        return true;
    default:
        return true;
    }
}

static void
check_ovs_strings(const uint8_t *data, size_t size)
{
    json_t *ref = json_loadb((const char *) data, size, JSON_DECODE_ANY, NULL);
    json_t *ours = parse_ovs((const char *) data, size);
    if (ref && (!ours || !json_equal(ref, ours))) {
        abort();                /* Not a superset of jansson. */
    }
    if (!has_low_surrogate_escape(data, size) && !memchr(data, 0, size)) {
        /* Bytes above 0x7f are the only other difference.  (Not with NUL
         * bytes: jansson takes some outside strings, as "[7\0]", which
         * ovsdb-server refuses, and so does this mode: its fallback to
         * jansson stumbles on the other bytes first.) */
        uint8_t *ascii = malloc(size ? size : 1);
        for (size_t i = 0; i < size; i++) {
            ascii[i] = data[i] >= 0x80 ? 'x' : data[i];
        }
        json_t *ref2 = json_loadb((const char *) ascii, size, JSON_DECODE_ANY,
                                  NULL);
        free(ascii);
        if (!ref2 != !ours) {
            abort();
        }
        json_decref(ref2);
    }
    if (ours) {
        /* The verbatim text reads back as the same bytes; the strict
         * writer refuses exactly the values jansson's would. */
        struct ds text = DS_EMPTY_INITIALIZER;
        if (!jsonrpc_text_put_flags(&text, ours, JSONRPC_TEXT_VERBATIM)) {
            abort();
        }
        json_t *back = parse_ovs(text.string, text.length);
        if (!back || !json_equal(back, ours)) {
            abort();
        }
        struct ds strict = DS_EMPTY_INITIALIZER;
        if (all_utf8(ours) != jsonrpc_text_put(&strict, ours)) {
            abort();
        }
        ds_destroy(&strict);
        json_decref(back);
        ds_destroy(&text);
    }
    json_decref(ref);
    json_decref(ours);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The first byte picks the chunking pattern; the rest is the stream. */
    unsigned int seed = size ? data[0] : 0;
    if (size) {
        data++;
        size--;
    }
    check_text_codec(data, size);
    check_ovs_strings(data, size);
    struct jsonrpc_framer *f = jsonrpc_framer_create(1 << 20);
    size_t pos = 0;
    while (pos < size) {
        size_t chunk = 1 + (seed % 17);
        seed = seed * 1103515245u + 12345u;
        if (chunk > size - pos) {
            chunk = size - pos;
        }
        size_t end = pos + chunk;
        while (pos < end) {
            pos += jsonrpc_framer_feed(f, data + pos, end - pos);
            if (jsonrpc_framer_is_done(f)) {
                char *error;
                json_t *json = jsonrpc_framer_take(f, &error);
                if (!json) {
                    free(error);
                    goto out;   /* A real connection closes here. */
                }
                check_value(json);
            }
        }
    }
out:
    jsonrpc_framer_destroy(f);
    return 0;
}
