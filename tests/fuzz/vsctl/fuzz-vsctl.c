/* Fuzz target 'vsctl': lanyard-vsctl's command-line value parser.
 *
 * The first input byte picks a column type (sets, maps, scalars with
 * constraints, UUID references); the rest is the value text.  Whatever
 * parses must print and parse back to an equal value (the printed syntax is
 * the documented input syntax), and its JSON form must convert back too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ds.h"
#include "util.h"
#include "vsctl-data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const types[] = {
    "{\"key\":{\"type\":\"integer\",\"minInteger\":0,\"maxInteger\":4095},"
    "\"min\":0,\"max\":4096}",
    "{\"key\":\"string\",\"value\":\"string\",\"min\":0,"
    "\"max\":\"unlimited\"}",
    "{\"key\":\"string\",\"min\":0,\"max\":\"unlimited\"}",
    "{\"key\":{\"type\":\"string\",\"enum\":[\"set\",[\"secure\","
    "\"standalone\"]]},\"min\":0,\"max\":1}",
    "{\"key\":{\"type\":\"uuid\",\"refTable\":\"Port\"},\"min\":1,"
    "\"max\":\"unlimited\"}",
    "{\"key\":\"integer\",\"value\":{\"type\":\"uuid\","
    "\"refTable\":\"Queue\"},\"min\":0,\"max\":\"unlimited\"}",
    "\"real\"",
    "\"boolean\"",
    "{\"key\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":3},"
    "\"min\":0,\"max\":2}",
};

static bool
symbol(const char *name, struct uuid *uuid, void *aux)
{
    (void) aux;
    memset(uuid, 0, sizeof *uuid);
    uuid->parts[0] = (uint32_t) strlen(name);
    return name[1] != '\0';
}

static void
must(bool ok)
{
    if (!ok) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size) {
        return 0;
    }
    json_t *tj = json_loads(types[data[0] % ARRAY_SIZE(types)],
                            JSON_DECODE_ANY, NULL);
    struct vsctl_type type;
    must(!vsctl_type_from_json(&type, tj));
    json_decref(tj);
    char *text = xmalloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';

    struct vsctl_datum d;
    char *error = vsctl_datum_from_string(&d, &type, text, symbol, NULL);
    if (error) {
        free(error);
    } else {
        struct ds printed = DS_EMPTY_INITIALIZER;
        vsctl_datum_to_string(&d, &type, &printed);
        struct vsctl_datum again;
        error = vsctl_datum_from_string(&again, &type, ds_cstr(&printed),
                                        symbol, NULL);
        must(!error);
        must(vsctl_datum_equals(&d, &again, &type));
        vsctl_datum_destroy(&again, &type);

        json_t *j = vsctl_datum_to_json(&d, &type, NULL, NULL);
        error = vsctl_datum_from_json(&again, &type, j);
        must(!error);
        must(vsctl_datum_equals(&d, &again, &type));
        vsctl_datum_destroy(&again, &type);
        json_decref(j);

        ds_clear(&printed);
        vsctl_datum_to_bare(&d, &type, &printed);
        ds_destroy(&printed);
        vsctl_datum_destroy(&d, &type);
    }

    const char *p = text;
    char *token;
    error = vsctl_token_parse(&p, &token);
    if (error) {
        free(error);
    } else {
        must(p >= text && p <= text + strlen(text));
        free(token);
    }
    free(text);
    vsctl_type_destroy(&type);
    return 0;
}
