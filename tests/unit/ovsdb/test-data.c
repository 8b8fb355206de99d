#include "ovsdb-test-util.h"

#include <limits.h>
#include <stdio.h>

#include "ds.h"
#include "ovsdb-data.h"
#include "ovsdb-types.h"
#include "uuid.h"

static struct ovsdb_type
make_type(const char *text)
{
    struct ovsdb_type t;
    json_t *j = J(text);

    expect_ok(ovsdb_type_from_json(&t, j));
    json_decref(j);
    return t;
}

static void
parse_datum(struct ovsdb_datum *d, const struct ovsdb_type *t,
            const char *text)
{
    json_t *j = J(text);

    expect_ok(ovsdb_datum_from_json(d, t, j, NULL));
    json_decref(j);
}

/* Parses TEXT for TYPE_TEXT and checks its serialisation. */
static void
datum_roundtrip(const char *type_text, const char *text, const char *expected)
{
    struct ovsdb_type t = make_type(type_text);
    struct ovsdb_datum d, c;
    json_t *out;

    parse_datum(&d, &t, text);
    out = ovsdb_datum_to_json(&d, &t);
    expect_json_eq(out, expected);
    json_decref(out);
    ovsdb_datum_clone(&c, &d, &t);
    assert_true(ovsdb_datum_equals(&c, &d, &t));
    assert_int_equal(ovsdb_datum_hash(&c, &t, 7), ovsdb_datum_hash(&d, &t, 7));
    ovsdb_datum_destroy(&c, &t);
    ovsdb_datum_destroy(&d, &t);
    ovsdb_type_destroy(&t);
}

static void
datum_error(const char *type_text, const char *text, const char *tag,
            const char *details)
{
    struct ovsdb_type t = make_type(type_text);
    struct ovsdb_datum d;
    json_t *j = J(text);

    expect_error(ovsdb_datum_from_json(&d, &t, j, NULL), tag, details);
    assert_int_equal(d.n, 0);
    json_decref(j);
    ovsdb_type_destroy(&t);
}

static void
test_atoms(void **state)
{
    (void) state;
    datum_roundtrip("\"integer\"", "-42", "-42");
    datum_roundtrip("\"real\"", "3", "3.0");     /* Integers accepted. */
    datum_roundtrip("\"real\"", "2.5", "2.5");
    datum_roundtrip("\"boolean\"", "true", "true");
    datum_roundtrip("\"string\"", "\"h\\u00e9\"", "\"h\\u00e9\"");
    datum_roundtrip("\"uuid\"",
                    "[\"uuid\",\"01234567-89ab-cdef-0123-456789abcdef\"]",
                    "[\"uuid\",\"01234567-89ab-cdef-0123-456789abcdef\"]");

    datum_error("\"integer\"", "1.5", "syntax error", "expected integer");
    datum_error("\"integer\"", "\"ten\"", "syntax error", "expected integer");
    datum_error("\"string\"", "5", "syntax error", "expected string");
    datum_error("\"boolean\"", "0", "syntax error", "expected boolean");
    datum_error("\"real\"", "\"x\"", "syntax error", "expected real");
    datum_error("\"uuid\"", "\"01234567-89ab-cdef-0123-456789abcdef\"",
                "syntax error", "expected [\"uuid\", <string>]");
    datum_error("\"uuid\"", "[\"uuid\",\"nope\"]", "syntax error",
                "\"nope\" is not a valid UUID");
    datum_error("\"uuid\"", "[\"named-uuid\",\"x\"]", "syntax error",
                "named-uuid is not allowed here");
}

static void
test_utf8(void **state)
{
    (void) state;
    static const struct {
        const char *bytes;
        size_t len;
        bool ok;
    } cases[] = {
        { "abc", 3, true },
        { "h\xc3\xa9", 3, true },
        { "\xe2\x82\xac", 3, true },
        { "\xf0\x9f\x98\x80", 4, true },
        { "\xc3", 1, false },              /* Truncated. */
        { "\xc0\xaf", 2, false },          /* Overlong. */
        { "\xed\xa0\x80", 3, false },      /* Surrogate. */
        { "\xf4\x90\x80\x80", 4, false },  /* Above U+10FFFF. */
        { "\xff", 1, false },
        { "a\0b", 3, false },              /* Embedded NUL. */
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(ovsdb_string_is_valid_utf8(cases[i].bytes,
                                                    cases[i].len),
                         cases[i].ok);
    }

    /* A string set by a daemon that is not UTF-8 still serialises. */
    union ovsdb_atom bad = { .string = (char *) "eth\xff" };
    json_t *bj = ovsdb_atom_to_json(&bad, OVSDB_TYPE_STRING);
    assert_string_equal(json_string_value(bj), "eth?");
    json_decref(bj);

    /* A JSON string with an embedded NUL is rejected as a string atom. */
    struct ovsdb_base_type b;
    union ovsdb_atom a;
    json_t *j = json_stringn("a\0b", 3);

    ovsdb_base_type_init(&b, OVSDB_TYPE_STRING);
    expect_error(ovsdb_atom_from_json(&a, &b, j, NULL), "syntax error", NULL);
    json_decref(j);
}

/* A peer's string that is not UTF-8: ovsdb-server's error, word for word
 * (messages observed on ovsdb-server 3.1), and never an atom. */
static void
test_utf8_errors_like_ovsdb_server(void **state)
{
    (void) state;
    static const struct {
        const char *bytes;
        const char *error;      /* NULL: valid. */
    } cases[] = {
        { "br\xc3\xa9 \xf0\x9f\x98\x80", NULL },
        { "br\xff", "invalid UTF-8 sequence 0xff" },
        { "\xc0\x80", "invalid UTF-8 sequence 0xc0" },
        { "\xe0\x80\x80", "invalid UTF-8 sequence 0xe0 0x80" },
        { "\xf0\x80\x80\x80", "invalid UTF-8 sequence 0xf0 0x80" },
        { "\xed\xa0\x80", "invalid UTF-8 sequence 0xed 0xa0" },
        { "\xed\xb0\x80", "invalid UTF-8 sequence 0xed 0xb0" },
        { "\xf4\x90\x80\x80", "invalid UTF-8 sequence 0xf4 0x90" },
        { "\xf5", "invalid UTF-8 sequence 0xf5" },
        { "a\x80", "invalid UTF-8 sequence 0x80" },
        { "br\xe2\x82", "invalid UTF-8 sequence 0xe2 0x82 0x00" },
        { "br\xe2\x82x", "invalid UTF-8 sequence 0xe2 0x82 0x78" },
        { "\xc3", "invalid UTF-8 sequence 0xc3 0x00" },
    };
    struct ovsdb_base_type b;
    ovsdb_base_type_init(&b, OVSDB_TYPE_STRING);
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *msg = ovsdb_utf8_error(cases[i].bytes, strlen(cases[i].bytes));
        json_t *j = json_string_nocheck(cases[i].bytes);
        union ovsdb_atom a;
        struct ovsdb_error *e = ovsdb_atom_from_json(&a, &b, j, NULL);
        if (!cases[i].error) {
            assert_null(msg);
            assert_null(e);
            ovsdb_atom_destroy(&a, OVSDB_TYPE_STRING);
        } else {
            assert_string_equal(msg, cases[i].error);
            char *details = xasprintf("not a valid UTF-8 string: %s",
                                      cases[i].error);
            expect_error(e, "constraint violation", details);
            free(details);
        }
        free(msg);
        json_decref(j);
    }

    /* An enum column reports its enum first, quoting the bytes as they
     * are. */
    json_t *type = json_loads("{\"type\":\"string\",\"enum\":[\"set\","
                              "[\"secure\",\"standalone\"]]}", 0, NULL);
    struct ovsdb_base_type eb;
    assert_null(ovsdb_base_type_from_json(&eb, type));
    json_t *j = json_string_nocheck("\xff");
    union ovsdb_atom a;
    expect_error(ovsdb_atom_from_json(&a, &eb, j, NULL),
                 "constraint violation", "\"\xff\" is not one of the allowed "
                 "values ([secure, standalone])");
    json_decref(j);
    json_decref(type);
    ovsdb_base_type_destroy(&eb);

    /* Comments keep their text, bad sequences as U+FFFD. */
    char *clean = ovsdb_utf8_sanitize("c\xff\xe2\x82x\xc3\xa9\xed\xa0\x80");
    assert_string_equal(clean, "c\xef\xbf\xbd\xef\xbf\xbdx\xc3\xa9"
                               "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    free(clean);
    clean = ovsdb_utf8_sanitize("plain \xc3\xa9");
    assert_string_equal(clean, "plain \xc3\xa9");
    free(clean);

    assert_true(ovsdb_string_is_id("_a1"));
    assert_true(ovsdb_string_is_id("Bridge"));
    assert_false(ovsdb_string_is_id(""));
    assert_false(ovsdb_string_is_id("1a"));
    assert_false(ovsdb_string_is_id("a-b"));
    assert_false(ovsdb_string_is_id("r\xc3\xa9"));
}

static void
test_sets_and_maps(void **state)
{
    (void) state;
    const char *set_t = "{\"key\":\"integer\",\"min\":0,\"max\":\"unlimited\"}";
    const char *map_t = "{\"key\":\"string\",\"value\":\"integer\","
                        "\"min\":0,\"max\":\"unlimited\"}";

    datum_roundtrip(set_t, "[\"set\",[3,1,2]]", "[\"set\",[1,2,3]]");
    datum_roundtrip(set_t, "[\"set\",[]]", "[\"set\",[]]");
    datum_roundtrip(set_t, "[\"set\",[7]]", "7");   /* One element: bare. */
    datum_roundtrip(set_t, "7", "7");
    datum_roundtrip(map_t, "[\"map\",[[\"b\",2],[\"a\",1]]]",
                    "[\"map\",[[\"a\",1],[\"b\",2]]]");
    datum_roundtrip(map_t, "[\"map\",[[\"a\",1]]]", "[\"map\",[[\"a\",1]]]");
    datum_roundtrip(map_t, "[\"map\",[]]", "[\"map\",[]]");
    /* A scalar also accepts a one-element set. */
    datum_roundtrip("\"integer\"", "[\"set\",[5]]", "5");

    /* Reference §4.5 wording. */
    datum_error("{\"key\":\"integer\",\"min\":0,\"max\":1}",
                "[\"set\",[1,2]]", "syntax error",
                "set must have 0 to 1 members but 2 are present");
    datum_error("{\"key\":\"uuid\",\"min\":1,\"max\":\"unlimited\"}",
                "[\"set\",[]]", "syntax error",
                "set must have 1 to 4294967295 members but 0 are present");
    datum_error(set_t, "[\"set\",[1,1]]", "ovsdb error",
                "set contains duplicate");
    datum_error(map_t, "[\"map\",[[\"a\",1],[\"a\",2]]]", "ovsdb error",
                "map contains duplicate key");
    /* Wording observed from ovsdb-server 3.1. */
    datum_error(map_t, "[\"set\",[]]", "syntax error",
                "expected [\"map\", <array>]");
    datum_error(map_t, "\"a\"", "syntax error",
                "expected [\"map\", <array>]");
    datum_error(map_t, "[\"map\",[[\"a\"]]]", "syntax error",
                "expected 2-element array");
    datum_error(map_t, "[\"map\",[[\"a\",\"x\"]]]", "syntax error",
                "expected integer");
    datum_error(set_t, "[\"set\",[1,\"x\"]]", "syntax error",
                "expected integer");
    datum_error(set_t, "[\"set\",5]", "syntax error",
                "expected [\"set\", <array>]");
    datum_error("\"integer\"", "[\"set\",[1,2]]", "syntax error",
                "set must have exactly one member but 2 are present");
}

static void
check_constraint(const char *type_text, const char *value, const char *details)
{
    struct ovsdb_type t = make_type(type_text);
    struct ovsdb_datum d;

    parse_datum(&d, &t, value);
    if (details) {
        expect_error(ovsdb_datum_check_constraints(&d, &t),
                     "constraint violation", details);
    } else {
        expect_ok(ovsdb_datum_check_constraints(&d, &t));
    }
    ovsdb_datum_destroy(&d, &t);
    ovsdb_type_destroy(&t);
}

static void
test_constraints(void **state)
{
    (void) state;
    const char *tag = "{\"key\":{\"type\":\"integer\",\"minInteger\":0,"
                      "\"maxInteger\":4095},\"min\":0,\"max\":1}";
    const char *mode = "{\"key\":{\"type\":\"string\",\"enum\":[\"set\","
                       "[\"trunk\",\"access\",\"native-tagged\","
                       "\"native-untagged\",\"dot1q-tunnel\"]]},"
                       "\"min\":0,\"max\":1}";

    check_constraint(tag, "4095", NULL);
    check_constraint(tag, "5000",
                     "5000 is not in the valid range 0 to 4095 (inclusive)");
    check_constraint(mode, "\"trunk\"", NULL);
    check_constraint(mode, "\"bogus\"",
                     "bogus is not one of the allowed values ([access, "
                     "dot1q-tunnel, native-tagged, native-untagged, trunk])");
    check_constraint("{\"key\":{\"type\":\"string\",\"enum\":[\"set\","
                     "[\"standalone\",\"clustered\",\"relay\"]]}}", "\"\"",
                     "\"\" is not one of the allowed values ([clustered, "
                     "relay, standalone])");
    check_constraint("{\"key\":{\"type\":\"integer\",\"minInteger\":1}}", "0",
                     "0 is less than minimum allowed value 1");
    check_constraint("{\"key\":{\"type\":\"integer\",\"maxInteger\":9}}",
                     "10", "10 is greater than maximum allowed value 9");
    check_constraint("{\"key\":{\"type\":\"real\",\"minReal\":0,"
                     "\"maxReal\":1}}", "1.5",
                     "1.5 is not in the valid range 0.0 to 1.0 (inclusive)");
    check_constraint("{\"key\":{\"type\":\"real\",\"minReal\":0}}", "-2",
                     "-2.0 is less than minimum allowed value 0.0");
    /* Lengths count UTF-8 characters, not bytes. */
    check_constraint("{\"key\":{\"type\":\"string\",\"maxLength\":2}}",
                     "\"\\u00e9\\u00e9\"", NULL);
    check_constraint("{\"key\":{\"type\":\"string\",\"maxLength\":2}}",
                     "\"abc\"", "\"abc\" length 3 is greater than maximum "
                     "allowed length 2");
    check_constraint("{\"key\":{\"type\":\"string\",\"minLength\":2}}",
                     "\"a\"", "\"a\" length 1 is less than minimum allowed "
                     "length 2");
    /* Map values are checked too. */
    check_constraint("{\"key\":\"string\",\"value\":{\"type\":\"integer\","
                     "\"maxInteger\":3},\"min\":0,\"max\":\"unlimited\"}",
                     "[\"map\",[[\"a\",4]]]",
                     "4 is greater than maximum allowed value 3");
    /* Element counts. */
    check_constraint("{\"key\":\"integer\",\"min\":0,\"max\":2}",
                     "[\"set\",[1,2]]", NULL);
}

static void
test_count_constraint(void **state)
{
    (void) state;
    struct ovsdb_type t = make_type("{\"key\":\"integer\",\"min\":0,"
                                    "\"max\":1}");
    struct ovsdb_type big = make_type("{\"key\":\"integer\",\"min\":0,"
                                      "\"max\":\"unlimited\"}");
    struct ovsdb_datum d;

    parse_datum(&d, &big, "[\"set\",[1,2]]");
    expect_error(ovsdb_datum_check_constraints(&d, &t), "constraint violation",
                 "Attempted to store 2 elements in set of up to 1 integers.");
    ovsdb_datum_destroy(&d, &big);
    ovsdb_type_destroy(&t);
    ovsdb_type_destroy(&big);
}

static void
test_defaults(void **state)
{
    (void) state;
    static const char *const types[] = {
        "\"integer\"", "\"real\"", "\"boolean\"", "\"string\"", "\"uuid\"",
        ("{\"key\":\"string\",\"value\":\"string\",\"min\":0,"
         "\"max\":\"unlimited\"}"),
        "{\"key\":\"string\",\"value\":\"integer\"}",
    };
    static const char *const expected[] = {
        "0", "0.0", "false", "\"\"",
        "[\"uuid\",\"00000000-0000-0000-0000-000000000000\"]",
        "[\"map\",[]]", "[\"map\",[[\"\",0]]]",
    };

    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        struct ovsdb_type t = make_type(types[i]);
        struct ovsdb_datum d;
        json_t *j;

        ovsdb_datum_init_default(&d, &t);
        assert_true(ovsdb_datum_is_default(&d, &t));
        j = ovsdb_datum_to_json(&d, &t);
        expect_json_eq(j, expected[i]);
        json_decref(j);
        ovsdb_datum_destroy(&d, &t);
        ovsdb_type_destroy(&t);
    }

    struct ovsdb_type t = make_type("\"integer\"");
    struct ovsdb_datum d;
    parse_datum(&d, &t, "1");
    assert_false(ovsdb_datum_is_default(&d, &t));
    ovsdb_datum_destroy(&d, &t);
    ovsdb_type_destroy(&t);
}

static void
test_compare(void **state)
{
    (void) state;
    struct ovsdb_type t = make_type("{\"key\":\"string\",\"min\":0,"
                                    "\"max\":\"unlimited\"}");
    struct ovsdb_datum a, b, c;

    parse_datum(&a, &t, "[\"set\",[\"x\",\"y\"]]");
    parse_datum(&b, &t, "[\"set\",[\"y\",\"x\"]]");
    parse_datum(&c, &t, "[\"set\",[\"x\"]]");
    assert_true(ovsdb_datum_equals(&a, &b, &t));
    assert_int_equal(ovsdb_datum_compare_3way(&a, &b, &t), 0);
    assert_int_equal(ovsdb_datum_hash(&a, &t, 0), ovsdb_datum_hash(&b, &t, 0));
    /* Fewer elements sort first. */
    assert_true(ovsdb_datum_compare_3way(&c, &a, &t) < 0);
    assert_true(ovsdb_datum_compare_3way(&a, &c, &t) > 0);
    assert_false(ovsdb_datum_equals(&a, &c, &t));
    assert_int_equal(ovsdb_datum_find_key(&a, &c.keys[0], OVSDB_TYPE_STRING),
                     0);

    union ovsdb_atom z = { .string = (char *) "z" };
    assert_int_equal(ovsdb_datum_find_key(&a, &z, OVSDB_TYPE_STRING),
                     UINT_MAX);
    ovsdb_datum_destroy(&a, &t);
    ovsdb_datum_destroy(&b, &t);
    ovsdb_datum_destroy(&c, &t);
    ovsdb_type_destroy(&t);

    union ovsdb_atom x = { .integer = -1 }, y = { .integer = 1 };
    assert_true(ovsdb_atom_compare_3way(&x, &y, OVSDB_TYPE_INTEGER) < 0);
    assert_false(ovsdb_atom_equals(&x, &y, OVSDB_TYPE_INTEGER));
    x.real = 1.5;
    y.real = 1.5;
    assert_true(ovsdb_atom_equals(&x, &y, OVSDB_TYPE_REAL));
    assert_int_equal(ovsdb_atom_hash(&x, OVSDB_TYPE_REAL, 3),
                     ovsdb_atom_hash(&y, OVSDB_TYPE_REAL, 3));
}

static void
test_set_algebra(void **state)
{
    (void) state;
    struct ovsdb_type t = make_type("{\"key\":\"integer\",\"min\":0,"
                                    "\"max\":\"unlimited\"}");
    struct ovsdb_datum a, b, c;
    json_t *j;

    parse_datum(&a, &t, "[\"set\",[1,3,5]]");
    parse_datum(&b, &t, "[\"set\",[2,3,6]]");
    ovsdb_datum_union(&a, &b, &t);
    j = ovsdb_datum_to_json(&a, &t);
    expect_json_eq(j, "[\"set\",[1,2,3,5,6]]");
    json_decref(j);
    assert_true(ovsdb_datum_includes_all(&b, &a, &t));
    assert_false(ovsdb_datum_includes_all(&a, &b, &t));
    assert_false(ovsdb_datum_excludes_all(&b, &a, &t));

    ovsdb_datum_subtract(&a, &t, &b, &t);
    j = ovsdb_datum_to_json(&a, &t);
    expect_json_eq(j, "[\"set\",[1,5]]");
    json_decref(j);
    assert_true(ovsdb_datum_excludes_all(&b, &a, &t));

    parse_datum(&c, &t, "[\"set\",[1,5]]");
    ovsdb_datum_subtract(&a, &t, &c, &t);
    assert_int_equal(a.n, 0);
    assert_true(ovsdb_datum_includes_all(&a, &b, &t));   /* Empty ⊆ any. */
    assert_true(ovsdb_datum_excludes_all(&a, &b, &t));
    ovsdb_datum_destroy(&a, &t);
    ovsdb_datum_destroy(&b, &t);
    ovsdb_datum_destroy(&c, &t);
    ovsdb_type_destroy(&t);
}

static void
test_map_algebra(void **state)
{
    (void) state;
    struct ovsdb_type t = make_type("{\"key\":\"string\",\"value\":\"string\","
                                    "\"min\":0,\"max\":\"unlimited\"}");
    struct ovsdb_type keys = make_type("{\"key\":\"string\",\"min\":0,"
                                       "\"max\":\"unlimited\"}");
    struct ovsdb_datum a, b, k;
    json_t *j;

    parse_datum(&a, &t, "[\"map\",[[\"a\",\"1\"],[\"c\",\"3\"]]]");
    parse_datum(&b, &t, "[\"map\",[[\"a\",\"X\"],[\"b\",\"2\"]]]");
    /* Union keeps A's value for a shared key (RFC 7047 insert). */
    ovsdb_datum_union(&a, &b, &t);
    j = ovsdb_datum_to_json(&a, &t);
    expect_json_eq(j, "[\"map\",[[\"a\",\"1\"],[\"b\",\"2\"],[\"c\",\"3\"]]]");
    json_decref(j);
    /* Pairs must match exactly for includes. */
    assert_false(ovsdb_datum_includes_all(&b, &a, &t));

    /* Delete by pairs: only exact pairs go ("a"->"X" does not match). */
    ovsdb_datum_subtract(&a, &t, &b, &t);
    j = ovsdb_datum_to_json(&a, &t);
    expect_json_eq(j, "[\"map\",[[\"a\",\"1\"],[\"c\",\"3\"]]]");
    json_decref(j);

    /* Delete by keys. */
    parse_datum(&k, &keys, "[\"set\",[\"a\",\"zz\"]]");
    ovsdb_datum_subtract(&a, &t, &k, &keys);
    j = ovsdb_datum_to_json(&a, &t);
    expect_json_eq(j, "[\"map\",[[\"c\",\"3\"]]]");
    json_decref(j);

    /* add_unsafe: insert in order, replace or keep. */
    union ovsdb_atom key = { .string = xstrdup("b") };
    union ovsdb_atom val = { .string = xstrdup("B") };
    ovsdb_datum_add_unsafe(&a, &key, &val, &t, false);
    key.string = xstrdup("c");
    val.string = xstrdup("C");
    ovsdb_datum_add_unsafe(&a, &key, &val, &t, false);   /* Kept. */
    j = ovsdb_datum_to_json(&a, &t);
    expect_json_eq(j, "[\"map\",[[\"b\",\"B\"],[\"c\",\"3\"]]]");
    json_decref(j);
    key.string = xstrdup("c");
    val.string = xstrdup("C");
    ovsdb_datum_add_unsafe(&a, &key, &val, &t, true);    /* Replaced. */
    j = ovsdb_datum_to_json(&a, &t);
    expect_json_eq(j, "[\"map\",[[\"b\",\"B\"],[\"c\",\"C\"]]]");
    json_decref(j);

    /* Aliased operands. */
    ovsdb_datum_union(&a, &a, &t);
    assert_int_equal(a.n, 2);
    ovsdb_datum_subtract(&a, &t, &a, &t);
    assert_int_equal(a.n, 0);

    ovsdb_datum_destroy(&a, &t);
    ovsdb_datum_destroy(&b, &t);
    ovsdb_datum_destroy(&k, &keys);
    ovsdb_type_destroy(&t);
    ovsdb_type_destroy(&keys);
}

static void
test_large_sets(void **state)
{
    (void) state;
    /* Bridge.ports-sized sets: union, includes and add stay linear. */
    enum { N = 10000 };
    struct ovsdb_type t = make_type("{\"key\":\"uuid\",\"min\":0,"
                                    "\"max\":\"unlimited\"}");
    struct ovsdb_datum a, b, one;

    ovsdb_datum_init_empty(&a);
    ovsdb_datum_init_empty(&b);
    a.keys = xmalloc(N * sizeof *a.keys);
    b.keys = xmalloc(N * sizeof *b.keys);
    for (unsigned int i = 0; i < N; i++) {
        uuid_generate(&a.keys[i].uuid);
        uuid_generate(&b.keys[i].uuid);
    }
    a.n = b.n = N;
    expect_ok(ovsdb_datum_sort(&a, &t));
    expect_ok(ovsdb_datum_sort(&b, &t));

    ovsdb_datum_clone(&one, &b, &t);
    ovsdb_datum_union(&a, &b, &t);
    assert_int_equal(a.n, 2 * N);
    for (unsigned int i = 1; i < a.n; i++) {
        assert_true(ovsdb_atom_compare_3way(&a.keys[i - 1], &a.keys[i],
                                            OVSDB_TYPE_UUID) < 0);
    }
    assert_true(ovsdb_datum_includes_all(&b, &a, &t));
    ovsdb_datum_union(&a, &b, &t);          /* Idempotent. */
    assert_int_equal(a.n, 2 * N);

    /* Adding elements one by one keeps the order. */
    for (unsigned int i = 0; i < 100; i++) {
        union ovsdb_atom k;

        uuid_generate(&k.uuid);
        ovsdb_datum_add_unsafe(&a, &k, NULL, &t, false);
        assert_int_not_equal(ovsdb_datum_find_key(&a, &k, OVSDB_TYPE_UUID),
                             UINT_MAX);
    }
    assert_int_equal(a.n, 2 * N + 100);

    ovsdb_datum_subtract(&a, &t, &one, &t);
    assert_int_equal(a.n, N + 100);
    assert_true(ovsdb_datum_excludes_all(&one, &a, &t));

    /* Duplicate detection in sort. */
    b.keys[1] = b.keys[0];
    expect_error(ovsdb_datum_sort(&b, &t), "ovsdb error",
                 "set contains duplicate");

    ovsdb_datum_destroy(&a, &t);
    ovsdb_datum_destroy(&b, &t);
    ovsdb_datum_destroy(&one, &t);
    ovsdb_type_destroy(&t);
}

/* A: N sorted random uuids. */
static void
random_sorted_set(struct ovsdb_datum *a, const struct ovsdb_type *t,
                  unsigned int n)
{
    ovsdb_datum_init_empty(a);
    a->keys = xmalloc(n * sizeof *a->keys);
    for (unsigned int i = 0; i < n; i++) {
        uuid_generate(&a->keys[i].uuid);
    }
    a->n = n;
    expect_ok(ovsdb_datum_sort(a, t));
}

static void
assert_strictly_sorted(const struct ovsdb_datum *a)
{
    for (unsigned int i = 1; i < a->n; i++) {
        assert_true(ovsdb_atom_compare_3way(&a->keys[i - 1], &a->keys[i],
                                            OVSDB_TYPE_UUID) < 0);
    }
}

static void
test_big_set_fast_paths(void **state)
{
    (void) state;
    /* What a client rewriting Bridge.ports sends: the set it read, in our
     * order, plus new members at the end. */
    enum { N = 2000 };
    struct ovsdb_type t = make_type("{\"key\":\"uuid\",\"min\":0,"
                                    "\"max\":\"unlimited\"}");
    struct ovsdb_datum a, b;
    random_sorted_set(&a, &t, N);

    /* Sorted prefix + unsorted tail: sorted and merged. */
    ovsdb_datum_clone(&b, &a, &t);
    b.keys = xrealloc(b.keys, (N + 3) * sizeof *b.keys);
    for (unsigned int i = 0; i < 3; i++) {
        uuid_generate(&b.keys[N + i].uuid);
    }
    b.n = N + 3;
    expect_ok(ovsdb_datum_sort(&b, &t));
    assert_int_equal(b.n, N + 3);
    assert_strictly_sorted(&b);
    assert_true(ovsdb_datum_includes_all(&a, &b, &t));
    assert_false(ovsdb_datum_equals(&a, &b, &t));

    /* A duplicate between the prefix and the tail is still found. */
    b.keys = xrealloc(b.keys, (N + 4) * sizeof *b.keys);
    b.keys[N + 3] = a.keys[N / 2];
    b.n = N + 4;
    expect_error(ovsdb_datum_sort(&b, &t), "ovsdb error",
                 "set contains duplicate");
    b.n = N + 3;

    /* Equality of byte-equal big sets, and of sets differing at the end. */
    struct ovsdb_datum c;
    ovsdb_datum_clone(&c, &a, &t);
    assert_true(ovsdb_datum_equals(&a, &c, &t));
    assert_int_equal(ovsdb_datum_common_run(&a, 0, &c, 0, &t), N);
    c.keys[N - 1].uuid.parts[3] ^= 1;
    assert_false(ovsdb_datum_equals(&a, &c, &t));
    assert_int_equal(ovsdb_datum_common_run(&a, 0, &c, 0, &t), N - 1);
    assert_int_equal(ovsdb_datum_common_run(&a, 5, &c, 5, &t), N - 6);
    ovsdb_datum_destroy(&c, &t);

    /* A few members into a big set (mutate "insert"): in order, no
     * duplicates, existing members kept once. */
    struct ovsdb_datum few;
    random_sorted_set(&few, &t, 3);
    few.keys = xrealloc(few.keys, 4 * sizeof *few.keys);
    few.keys[3] = a.keys[7];
    few.n = 4;
    expect_ok(ovsdb_datum_sort(&few, &t));
    ovsdb_datum_union(&a, &few, &t);
    assert_int_equal(a.n, N + 3);
    assert_strictly_sorted(&a);
    assert_true(ovsdb_datum_includes_all(&few, &a, &t));

    ovsdb_datum_destroy(&few, &t);
    ovsdb_datum_destroy(&a, &t);
    ovsdb_datum_destroy(&b, &t);
    ovsdb_type_destroy(&t);

    /* Maps keep A's value for an existing key on the small-insert path. */
    struct ovsdb_type mt = make_type("{\"key\":\"integer\",\"value\":\"string\","
                                     "\"min\":0,\"max\":\"unlimited\"}");
    struct ovsdb_datum m, add;
    struct ds text = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&text, "[\"map\",[");
    for (int i = 0; i < 100; i++) {
        ds_put_format(&text, "%s[%d,\"v%d\"]", i ? "," : "", 2 * i, i);
    }
    ds_put_cstr(&text, "]]");
    parse_datum(&m, &mt, ds_cstr(&text));
    parse_datum(&add, &mt, "[\"map\",[[4,\"new\"],[5,\"five\"]]]");
    ovsdb_datum_union(&m, &add, &mt);
    assert_int_equal(m.n, 101);
    union ovsdb_atom k = { .integer = 4 };
    unsigned int idx = ovsdb_datum_find_key(&m, &k, OVSDB_TYPE_INTEGER);
    assert_string_equal(m.values[idx].string, "v2");
    k.integer = 5;
    idx = ovsdb_datum_find_key(&m, &k, OVSDB_TYPE_INTEGER);
    assert_string_equal(m.values[idx].string, "five");
    ds_destroy(&text);
    ovsdb_datum_destroy(&m, &mt);
    ovsdb_datum_destroy(&add, &mt);
    ovsdb_type_destroy(&mt);
}

static void
test_uuid_text(void **state)
{
    (void) state;
    for (int i = 0; i < 1000; i++) {
        struct uuid u, back;
        uuid_generate(&u);
        if (i == 0) {
            memset(&u, 0, sizeof u);
        } else if (i == 1) {
            memset(&u, 0xff, sizeof u);
        }
        char buf[UUID_LEN + 1], want[UUID_LEN + 1];
        uuid_to_string(&u, buf);
        snprintf(want, sizeof want, "%08x-%04x-%04x-%04x-%04x%08x",
                 u.parts[0], u.parts[1] >> 16, u.parts[1] & 0xffff,
                 u.parts[2] >> 16, u.parts[2] & 0xffff, u.parts[3]);
        assert_string_equal(buf, want);
        assert_true(uuid_from_string(&back, buf));
        assert_true(uuid_equals(&u, &back));
    }
    struct uuid u;
    assert_true(uuid_from_string(&u, "0123ABCD-4567-89ab-CDEF-0123456789aB"));
    assert_false(uuid_from_string(&u, "0123abcd-4567-89ab-cdef-0123456789a"));
    assert_false(uuid_from_string(&u, "0123abcd-4567-89ab-cdef-0123456789abc"));
    assert_false(uuid_from_string(&u, "0123abcd_4567-89ab-cdef-0123456789ab"));
    assert_false(uuid_from_string(&u, "0123abcg-4567-89ab-cdef-0123456789ab"));
    assert_false(uuid_from_string(&u, ""));
}

static void
test_symbols(void **state)
{
    (void) state;
    struct ovsdb_symbol_table *st = ovsdb_symbol_table_create();
    struct ovsdb_type t = make_type("{\"key\":{\"type\":\"uuid\","
                                    "\"refTable\":\"T\"},\"min\":0,"
                                    "\"max\":\"unlimited\"}");
    struct ovsdb_datum d;
    json_t *j = J("[\"set\",[[\"named-uuid\",\"a\"],[\"named-uuid\",\"b\"],"
                  "[\"named-uuid\",\"a\"]]]");
    struct ovsdb_symbol *a, *b;

    /* The same name twice is the same uuid: a duplicate. */
    expect_error(ovsdb_datum_from_json(&d, &t, j, st), "ovsdb error", NULL);
    json_decref(j);
    a = ovsdb_symbol_table_get(st, "a");
    b = ovsdb_symbol_table_get(st, "b");
    assert_non_null(a);
    assert_non_null(b);
    assert_true(a->strong_ref);
    assert_false(a->weak_ref);
    assert_false(uuid_equals(&a->uuid, &b->uuid));
    assert_ptr_equal(ovsdb_symbol_table_insert(st, "a"), a);
    assert_null(ovsdb_symbol_table_get(st, "c"));

    j = J("[\"set\",[[\"named-uuid\",\"a\"],[\"named-uuid\",\"b\"]]]");
    expect_ok(ovsdb_datum_from_json(&d, &t, j, st));
    assert_int_equal(d.n, 2);
    assert_int_not_equal(ovsdb_datum_find_key(
                             &d, &(union ovsdb_atom) { .uuid = a->uuid },
                             OVSDB_TYPE_UUID), UINT_MAX);
    json_decref(j);

    a->created = true;
    assert_ptr_equal(ovsdb_symbol_table_find_uncreated(st), b);
    b->created = true;
    assert_null(ovsdb_symbol_table_find_uncreated(st));

    ovsdb_datum_destroy(&d, &t);
    ovsdb_type_destroy(&t);
    ovsdb_symbol_table_destroy(st);
    ovsdb_symbol_table_destroy(NULL);
}

static void
test_to_string(void **state)
{
    (void) state;
    /* Reference §2.7 quoting rule. */
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "eth0.100", "eth0.100" }, { "tap-1", "tap-1" }, { "_x", "_x" },
        { "123", "\"123\"" }, { "1abc", "\"1abc\"" }, { "-x", "\"-x\"" },
        { "vlan:10", "\"vlan:10\"" }, { "x/y", "\"x/y\"" },
        { "a b", "\"a b\"" }, { "\xc3\xa9", "\"\xc3\xa9\"" },
        { "true", "\"true\"" }, { "", "\"\"" },
        { "01234567-89ab-cdef-0123-456789abcdef",
          "\"01234567-89ab-cdef-0123-456789abcdef\"" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ds s = DS_EMPTY_INITIALIZER;
        union ovsdb_atom a = { .string = (char *) cases[i].in };

        ovsdb_atom_to_string(&a, OVSDB_TYPE_STRING, &s);
        assert_string_equal(ds_cstr(&s), cases[i].out);
        ds_destroy(&s);
    }

    struct ovsdb_type t = make_type("{\"key\":\"string\",\"value\":\"string\","
                                    "\"min\":0,\"max\":\"unlimited\"}");
    struct ovsdb_datum d;
    struct ds s = DS_EMPTY_INITIALIZER;

    parse_datum(&d, &t, "[\"map\",[[\"foo\",\"bar\"],[\"a\",\"1\"],"
                        "[\"b\",\"x y\"]]]");
    ovsdb_datum_to_string(&d, &t, &s);
    assert_string_equal(ds_cstr(&s), "{a=\"1\", b=\"x y\", foo=bar}");
    ds_destroy(&s);
    ovsdb_datum_destroy(&d, &t);
    ovsdb_type_destroy(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_atoms),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_utf8_errors_like_ovsdb_server),
        cmocka_unit_test(test_sets_and_maps),
        cmocka_unit_test(test_constraints),
        cmocka_unit_test(test_count_constraint),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_set_algebra),
        cmocka_unit_test(test_map_algebra),
        cmocka_unit_test(test_large_sets),
        cmocka_unit_test(test_big_set_fast_paths),
        cmocka_unit_test(test_uuid_text),
        cmocka_unit_test(test_symbols),
        cmocka_unit_test(test_to_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
