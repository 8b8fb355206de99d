/* Fuzz target: bytes through the JSON-RPC framer in varying chunk sizes,
 * then message validation; every accepted message must survive a
 * serialize/parse round trip.  The same bytes also go to the fast JSON
 * parser and writer (jsonrpc-text) and to jansson: same verdict, same
 * error text, equal values, identical serialization. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ds.h"
#include "jsonrpc-text.h"
#include "jsonrpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    json_t *again = json_loads(text, 0, NULL);
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
