/* jsonrpc-text, the JSON parser and writer on lanyard-dbd's hot path:
 * checked against jansson, whose behaviour it must reproduce exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ds.h"
#include "jsonrpc-text.h"
#include "util.h"

/* Parses TEXT with both parsers: same verdict, equal values, same error
 * text.  Returns whether it parsed. */
static bool
parse_like_jansson(struct jsonrpc_text_parser *p, const char *text, size_t len)
{
    json_error_t jerr;
    json_t *ref = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
    char *error;
    json_t *ours = jsonrpc_text_parse(p, text, len, &error);
    if (!ref) {
        char *expected = xasprintf("line %d, column %d, byte %d: %s",
                                   jerr.line, jerr.column, jerr.position,
                                   jerr.text);
        if (ours) {
            print_error("accepted what jansson rejects: %.*s\n", (int) len, text);
        }
        assert_null(ours);
        assert_string_equal(error, expected);
        free(expected);
        free(error);
        return false;
    }
    assert_non_null(ours);
    assert_null(error);
    assert_true(json_equal(ref, ours));
    json_decref(ref);
    json_decref(ours);
    return true;
}

static void
test_parse_valid_uses_fast_path(void **state)
{
    (void) state;
    static const char *const valid[] = {
        "{\"method\":\"transact\",\"params\":[\"Open_vSwitch\",{\"op\":\"insert\","
        "\"table\":\"Queue\",\"row\":{\"dscp\":7}}],\"id\":12}",
        "[\"set\",[[\"uuid\",\"2f4e1b8c-0d7e-4bb9-9a2b-0123456789ab\"],"
        "[\"named-uuid\",\"np\"]]]",
        "[\"map\",[[\"k\",\"v\"],[\"a b\",\"\\u00e9\\n\\t\\\"\\\\\\/\"]]]",
        " 0 ", "-0", "123456789012345678", "-123456789012345678",
        "9223372036854775807", "-9223372036854775808", "1.5", "-0.0",
        "1e3", "1E+3", "2.5e-3", "1e-400", "true", "false", "null",
        "\"\"", "\"\\ud83d\\ude00 \xf0\x9f\x98\x80 \xc3\xa9 \xe2\x82\xac\"",
        "{\"a\":1,\"a\":2,\"b\":[],\"c\":{}}", "[[[[[]]]]]",
        "{\"\\u0041\":\"x\"}", "\t\r\n[1 , 2\n]\n",
    };
    struct jsonrpc_text_parser *p = jsonrpc_text_parser_create();
    for (size_t i = 0; i < ARRAY_SIZE(valid); i++) {
        assert_true(parse_like_jansson(p, valid[i], strlen(valid[i])));
    }
    /* All of those are the fast path's: none needed jansson. */
    assert_int_equal(jsonrpc_text_parser_n_fallbacks(p), 0);
    jsonrpc_text_parser_destroy(p);
}

static void
test_parse_rejects_like_jansson(void **state)
{
    (void) state;
    static const char *const invalid[] = {
        "", " ", "[", "]", "{", "[1,]", "[,1]", "{\"a\":1,}", "{\"a\" 1}",
        "{1:2}", "[1 2]", "01", "-", "-a", "1.", ".5", "+1", "1e", "1e+",
        "0x10", "1.5.2", "9223372036854775808", "-9223372036854775809",
        "1e400", "-1e400", "tru", "truex", "nul", "True", "NaN", "Infinity",
        "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u0000\"", "\"\\ud800\"",
        "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\ud800x\"", "\"a\tb\"",
        "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\x80\"",
        "\"\xe2\x82\"", "[1] [2]", "{\"a\":1}x", "'a'", "[true1]",
        "{\"\\u0000\":1}",
    };
    struct jsonrpc_text_parser *p = jsonrpc_text_parser_create();
    for (size_t i = 0; i < ARRAY_SIZE(invalid); i++) {
        assert_false(parse_like_jansson(p, invalid[i], strlen(invalid[i])));
    }
    /* A NUL byte inside the text. */
    assert_false(parse_like_jansson(p, "[\"a\0b\"]", 7));
    jsonrpc_text_parser_destroy(p);
}

static void
test_parse_shares_ovsdb_tags(void **state)
{
    (void) state;
    struct jsonrpc_text_parser *p = jsonrpc_text_parser_create();
    const char *text = "[[\"uuid\",\"x\"],[\"uuid\",\"y\"]]";
    char *error;
    json_t *v = jsonrpc_text_parse(p, text, strlen(text), &error);
    assert_non_null(v);
    json_t *a = json_array_get(json_array_get(v, 0), 0);
    json_t *b = json_array_get(json_array_get(v, 1), 0);
    assert_ptr_equal(a, b);
    assert_string_equal(json_string_value(a), "uuid");
    /* Values outlive their parser. */
    jsonrpc_text_parser_destroy(p);
    assert_string_equal(json_string_value(b), "uuid");
    json_decref(v);
}

/* Serializes V both ways; the bytes must be identical. */
static void
assert_dumps_like_jansson(const json_t *v)
{
    char *ref = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_non_null(ref);
    struct ds out = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&out, "prefix:");
    assert_true(jsonrpc_text_put(&out, v));
    assert_string_equal(ds_cstr(&out) + 7, ref);
    free(ref);
    ds_destroy(&out);
}

static void
test_put_matches_json_dumps(void **state)
{
    (void) state;
    static const double reals[] = {
        0.0, -0.0, 1.0, -2.5, 0.1, 1e20, 1e21, 1e-5, 1.5e-7, 123456789.125,
        1e300, -1e-300, 3.141592653589793, 5e-324, 1.7976931348623157e308,
    };
    for (size_t i = 0; i < ARRAY_SIZE(reals); i++) {
        json_t *r = json_real(reals[i]);
        assert_dumps_like_jansson(r);
        json_decref(r);
    }
    static const json_int_t ints[] = {
        0, 1, -1, 10, 99, -100, 1234567890123LL, INT64_MAX, INT64_MIN,
    };
    for (size_t i = 0; i < ARRAY_SIZE(ints); i++) {
        json_t *n = json_integer(ints[i]);
        assert_dumps_like_jansson(n);
        json_decref(n);
    }
    json_t *v = json_pack("{s:[s,s,s,s],s:{s:b,s:b,s:n},s:[],s:{}}",
                          "strings", "plain", "quote\" back\\ slash/",
                          "\b\f\n\r\t\x01\x1f\x7f", "caf\xc3\xa9 \xf0\x9f\x98\x80",
                          "k\"ey\n", "t", 1, "f", 0, "nil", "empty", "obj");
    assert_non_null(v);
    assert_dumps_like_jansson(v);
    json_decref(v);
    json_t *nul = json_stringn("a\0b", 3);
    assert_dumps_like_jansson(nul);
    json_decref(nul);
}

static void
test_put_refuses_invalid_utf8(void **state)
{
    (void) state;
    json_t *bad = json_stringn_nocheck("\xff", 1);
    json_t *arr = json_pack("[i,o]", 1, bad);
    struct ds out = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&out, "kept");
    assert_false(jsonrpc_text_put(&out, arr));
    assert_string_equal(ds_cstr(&out), "kept");
    assert_null(json_dumps(arr, JSON_COMPACT));
    json_decref(arr);
    ds_destroy(&out);
}

/* "OVS strings" mode: what ovsdb-server's parser takes, no more. */
static void
test_parse_ovs_strings(void **state)
{
    (void) state;
    struct jsonrpc_text_parser *p = jsonrpc_text_parser_create();
    jsonrpc_text_parser_set_ovs_strings(p, true);
    static const struct {
        const char *text;
        const char *bytes;      /* The string's bytes; NULL: rejected. */
    } cases[] = {
        { "\"a\xff" "b\"", "a\xff" "b" },
        { "\"\xc0\x80\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82\"",
          "\xc0\x80\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82" },
        { "\"br\\udc00\"", "br\xed\xb0\x80" },
        { "\"\\udfff\\udc00\"", "\xed\xbf\xbf\xed\xb0\x80" },
        { "\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80" },
        { "\"\xff\\n\"", "\xff\n" },
        { "\"\\ud800\"", NULL },
        { "\"\\ud800\\u0041\"", NULL },
        { "\"\\u0000\xff\"", NULL },
        { "\"\x01\xff\"", NULL },
        { "\xff", NULL },
        { "[\"\xff\"", NULL },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *error;
        json_t *v = jsonrpc_text_parse(p, cases[i].text,
                                       strlen(cases[i].text), &error);
        if (!cases[i].bytes) {
            assert_null(v);
            assert_non_null(error);
            free(error);
            continue;
        }
        assert_non_null(v);
        assert_int_equal(json_string_length(v), strlen(cases[i].bytes));
        assert_memory_equal(json_string_value(v), cases[i].bytes,
                            strlen(cases[i].bytes));
        json_decref(v);
    }
    /* Object keys too; the strict mode still refuses all of it. */
    const char *obj = "{\"k\xff\":[\"v\xfe\"]}";
    char *error;
    json_t *v = jsonrpc_text_parse(p, obj, strlen(obj), &error);
    assert_non_null(v);
    assert_non_null(json_object_get(v, "k\xff"));
    json_decref(v);
    jsonrpc_text_parser_set_ovs_strings(p, false);
    assert_false(parse_like_jansson(p, obj, strlen(obj)));
    assert_false(parse_like_jansson(p, "\"br\\udc00\"", 10));
    jsonrpc_text_parser_destroy(p);
}

/* Verbatim: a peer's bytes go back as they came; sorted keys as
 * json_dumps(JSON_SORT_KEYS); neither changes valid UTF-8 output. */
static void
test_put_verbatim_and_sorted(void **state)
{
    (void) state;
    json_t *v = json_object();
    json_object_set_new_nocheck(v, "zz", json_stringn_nocheck("a\xff\"", 3));
    json_object_set_new_nocheck(v, "b\xfe", json_integer(1));
    json_object_set_new(v, "ab", json_pack("[s,{s:i,s:i}]", "\xc3\xa9\n",
                                           "y", 2, "x", 1));
    struct ds out = DS_EMPTY_INITIALIZER;
    assert_false(jsonrpc_text_put(&out, v));
    assert_true(jsonrpc_text_put_flags(&out, v, JSONRPC_TEXT_VERBATIM));
    assert_string_equal(ds_cstr(&out), "{\"zz\":\"a\xff\\\"\",\"b\xfe\":1,"
                        "\"ab\":[\"\xc3\xa9\\n\",{\"y\":2,\"x\":1}]}");
    ds_clear(&out);
    assert_true(jsonrpc_text_put_flags(&out, v, JSONRPC_TEXT_VERBATIM
                                                | JSONRPC_TEXT_SORT_KEYS));
    assert_string_equal(ds_cstr(&out), "{\"ab\":[\"\xc3\xa9\\n\",{\"x\":1,"
                        "\"y\":2}],\"b\xfe\":1,\"zz\":\"a\xff\\\"\"}");
    json_decref(v);

    /* Sorted, valid: exactly json_dumps(JSON_SORT_KEYS). */
    v = json_pack("{s:i,s:i,s:{s:n,s:[]},s:i}", "b", 1, "a", 2, "c", "z",
                  "y", "ba", 3);
    char *ref = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    ds_clear(&out);
    assert_true(jsonrpc_text_put_flags(&out, v, JSONRPC_TEXT_SORT_KEYS));
    assert_string_equal(ds_cstr(&out), ref);
    free(ref);
    json_decref(v);
    ds_destroy(&out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid_uses_fast_path),
        cmocka_unit_test(test_parse_rejects_like_jansson),
        cmocka_unit_test(test_parse_shares_ovsdb_tags),
        cmocka_unit_test(test_put_matches_json_dumps),
        cmocka_unit_test(test_put_refuses_invalid_utf8),
        cmocka_unit_test(test_parse_ovs_strings),
        cmocka_unit_test(test_put_verbatim_and_sorted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
