/* Unit tests for vsctl-data: OVSDB types from schema JSON, the ovs-vsctl
 * value syntax (with its exact error messages) and value formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ds.h"
#include "util.h"
#include "vsctl-data.h"

/* Builds a type from schema JSON text. */
static struct vsctl_type
type_of(const char *json_text)
{
    json_error_t jerr;
    json_t *j = json_loads(json_text, JSON_DECODE_ANY, &jerr);
    assert_non_null(j);
    struct vsctl_type t;
    char *error = vsctl_type_from_json(&t, j);
    assert_null(error);
    json_decref(j);
    return t;
}

/* Parses S as TYPE and returns its string form (caller frees), or the error
 * message prefixed with "error: ". */
static char *
roundtrip(const char *type_json, const char *s)
{
    struct vsctl_type t = type_of(type_json);
    struct vsctl_datum d;
    char *error = vsctl_datum_from_string(&d, &t, s, NULL, NULL);
    char *out;
    if (error) {
        out = xasprintf("error: %s", error);
        free(error);
    } else {
        struct ds ds = DS_EMPTY_INITIALIZER;
        vsctl_datum_to_string(&d, &t, &ds);
        out = xstrdup(ds_cstr(&ds));
        ds_destroy(&ds);
        vsctl_datum_destroy(&d, &t);
    }
    vsctl_type_destroy(&t);
    return out;
}

static void
check(const char *type_json, const char *input, const char *expected)
{
    char *got = roundtrip(type_json, input);
    assert_string_equal(got, expected);
    free(got);
}

#define INT_SET "{\"key\":{\"type\":\"integer\",\"minInteger\":0," \
                "\"maxInteger\":4095},\"min\":0,\"max\":4096}"
#define OPT_INT "{\"key\":{\"type\":\"integer\",\"minInteger\":0," \
                "\"maxInteger\":4095},\"min\":0,\"max\":1}"
#define SMAP "{\"key\":\"string\",\"value\":\"string\",\"min\":0," \
             "\"max\":\"unlimited\"}"
#define STR_SET "{\"key\":\"string\",\"min\":0,\"max\":\"unlimited\"}"
#define ENUM "{\"key\":{\"type\":\"string\",\"enum\":[\"set\"," \
             "[\"secure\",\"standalone\"]]},\"min\":0,\"max\":1}"
#define UUID_SET "{\"key\":{\"type\":\"uuid\",\"refTable\":\"Port\"}," \
                 "\"min\":1,\"max\":\"unlimited\"}"

static void
test_sets(void **state)
{
    (void) state;
    check(INT_SET, "1,2,3", "[1, 2, 3]");
    check(INT_SET, "1 2 3", "[1, 2, 3]");
    check(INT_SET, "[3, 1,2]", "[1, 2, 3]");
    check(INT_SET, "1-3,7", "[1, 2, 3, 7]");
    check(INT_SET, "[]", "[]");
    check(INT_SET, "", "error: use \"[]\" to specify the empty set");
    check(INT_SET, "5-1", "error: \"5-1\" is not a valid range. Range end "
          "cannot be before start.");
    check(INT_SET, "abc", "error: \"abc\" is not a valid integer or range");
    check(INT_SET, "1,1", "error: 1,1: set contains duplicate value");
    check(INT_SET, "[1,2", "error: [1,2: missing \"]\" at end of data");
    check(INT_SET, "[1] x", "error: [1] x: trailing garbage after \"]\"");
    check(INT_SET, "5000", "error: constraint violation: 5000 is not in the "
          "valid range 0 to 4095 (inclusive)");
}

static void
test_scalars(void **state)
{
    (void) state;
    check(OPT_INT, "10", "10");
    check(OPT_INT, "[]", "[]");
    check(OPT_INT, "1,2", "error: 1,2: 2 value(s) specified but the maximum "
          "number is 1");
    check("\"boolean\"", "yes", "true");
    check("\"boolean\"", "True", "error: \"True\" is not a valid boolean "
          "(use \"true\" or \"false\")");
    check("\"real\"", "x", "error: \"x\" is not a valid real number");
    check(ENUM, "secure", "secure");
    check(ENUM, "bogus", "error: constraint violation: bogus is not one of "
          "the allowed values ([secure, standalone])");
    check(UUID_SET, "x", "error: \"x\" is not a valid UUID");
}

static void
test_strings(void **state)
{
    (void) state;
    /* Output quoting: bare only for identifier-like text. */
    check(STR_SET, "eth0.100", "[eth0.100]");
    check(STR_SET, "\"a b\"", "[\"a b\"]");
    check(STR_SET, "123", "[\"123\"]");
    check(STR_SET, "true", "[\"true\"]");
    check(STR_SET, "\"\\u00e9\"", "[\"\xc3\xa9\"]");
    check(STR_SET, "\"unterminated",
          "error: \"unterminated: quoted string extends past end of "
          "argument");
    check(STR_SET, "a\"b c\"d", "[\"a\\\"b c\\\"d\"]");
    check(STR_SET, "\"a\\qb\"", "error: \"a\\qb\": bad escape \\q");
    check(STR_SET, "\"\\ud800x\"",
          "error: \"\\ud800x\": malformed escaped surrogate pair");
    check(STR_SET, "\"\\u0000\"", "error: \"\\u0000\": null bytes not "
          "supported in quoted strings");
    check(STR_SET, "\"\\ud83d\\ude00\"", "[\"\xf0\x9f\x98\x80\"]");
    check(STR_SET, "\"\\udc00\"", "error: constraint violation: not a valid "
          "UTF-8 string: invalid UTF-8 sequence 0xed 0xb0");
    check(STR_SET, "x=y", "error: x=y: unexpected \"=\" parsing set of "
          "strings");
    check("\"string\"", "\"\"", "\"\"");
}

static void
test_maps(void **state)
{
    (void) state;
    check(SMAP, "{b=2, a=1}", "{a=\"1\", b=\"2\"}");
    check(SMAP, "k1=v1 k2=v2", "{k1=v1, k2=v2}");
    check(SMAP, "{}", "{}");
    check(SMAP, "", "error: use \"{}\" to specify the empty map");
    check(SMAP, "a", "error: a: syntax error at \"");
    check(SMAP, "a b=c", "error: a b=c: syntax error at \"b\" expecting \"=\"");
    check(SMAP, "a=1,a=2", "error: a=1,a=2: map contains duplicate key");
    check(SMAP, "\"a:b\"=c", "{\"a:b\"=c}");
}

static void
test_token_parse(void **state)
{
    (void) state;
    const char *p = "external_ids:\"a:b\"=c";
    char *tok;
    assert_null(vsctl_token_parse(&p, &tok));
    assert_string_equal(tok, "external_ids");
    free(tok);
    assert_int_equal(*p, ':');
    p++;
    assert_null(vsctl_token_parse(&p, &tok));
    assert_string_equal(tok, "\"a:b\"");
    free(tok);
    assert_string_equal(p, "=c");

    p = "a\\:b=c";
    assert_null(vsctl_token_parse(&p, &tok));
    assert_string_equal(tok, "a:b");
    free(tok);

    p = "x\\";
    char *error = vsctl_token_parse(&p, &tok);
    assert_non_null(error);
    free(error);
}

static void
test_bare_and_json(void **state)
{
    (void) state;
    struct vsctl_type t = type_of(SMAP);
    struct vsctl_datum d;
    assert_null(vsctl_datum_from_string(&d, &t, "{k=\"x y\", a=1}", NULL,
                                        NULL));
    struct ds ds = DS_EMPTY_INITIALIZER;
    vsctl_datum_to_bare(&d, &t, &ds);
    assert_string_equal(ds_cstr(&ds), "a=1 k=x y");
    ds_clear(&ds);
    json_t *j = vsctl_datum_to_json(&d, &t, NULL, NULL);
    vsctl_json_to_ds(j, false, &ds);
    assert_string_equal(ds_cstr(&ds), "[\"map\",[[\"a\",\"1\"],[\"k\",\"x y\"]]]");

    /* JSON back to a datum gives the same value. */
    struct vsctl_datum back;
    assert_null(vsctl_datum_from_json(&back, &t, j));
    assert_true(vsctl_datum_equals(&d, &back, &t));
    json_decref(j);
    vsctl_datum_destroy(&back, &t);
    vsctl_datum_destroy(&d, &t);
    ds_destroy(&ds);
    vsctl_type_destroy(&t);
}

static bool
resolve_symbol(const char *name, struct uuid *uuid, void *aux)
{
    int *calls = aux;
    (*calls)++;
    if (strcmp(name, "@p")) {
        return false;
    }
    return uuid_from_string(uuid, "01234567-89ab-cdef-0123-456789abcdef");
}

static void
test_symbols(void **state)
{
    (void) state;
    struct vsctl_type t = type_of(UUID_SET);
    struct vsctl_datum d;
    int calls = 0;
    assert_null(vsctl_datum_from_string(&d, &t, "@p", resolve_symbol,
                                        &calls));
    assert_int_equal(calls, 1);
    struct ds ds = DS_EMPTY_INITIALIZER;
    vsctl_datum_to_string(&d, &t, &ds);
    assert_string_equal(ds_cstr(&ds),
                        "[01234567-89ab-cdef-0123-456789abcdef]");
    vsctl_datum_destroy(&d, &t);
    char *error = vsctl_datum_from_string(&d, &t, "@q", resolve_symbol,
                                          &calls);
    assert_non_null(error);
    free(error);
    ds_destroy(&ds);
    vsctl_type_destroy(&t);
}

static void
test_set_algebra(void **state)
{
    (void) state;
    struct vsctl_type t = type_of(INT_SET);
    struct vsctl_datum a, b;
    assert_null(vsctl_datum_from_string(&a, &t, "1,2,3", NULL, NULL));
    assert_null(vsctl_datum_from_string(&b, &t, "2,5", NULL, NULL));
    assert_false(vsctl_datum_includes_all(&a, &b, &t));
    vsctl_datum_union(&a, &b, &t, false);
    assert_int_equal(a.n, 4);
    assert_true(vsctl_datum_includes_all(&a, &b, &t));
    vsctl_datum_subtract(&a, &t, &b, &t);
    struct ds ds = DS_EMPTY_INITIALIZER;
    vsctl_datum_to_string(&a, &t, &ds);
    assert_string_equal(ds_cstr(&ds), "[1, 3]");
    ds_destroy(&ds);
    vsctl_datum_destroy(&a, &t);
    vsctl_datum_destroy(&b, &t);
    vsctl_type_destroy(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sets),
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_maps),
        cmocka_unit_test(test_token_parse),
        cmocka_unit_test(test_bare_and_json),
        cmocka_unit_test(test_symbols),
        cmocka_unit_test(test_set_algebra),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
