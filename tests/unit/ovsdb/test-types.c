#include "ovsdb-test-util.h"

#include <float.h>
#include <limits.h>

#include "ovsdb-data.h"
#include "ovsdb-types.h"

/* Parses TEXT as a <type>, serialises it and compares with EXPECTED. */
static void
roundtrip(const char *text, const char *expected)
{
    struct ovsdb_type type, copy;
    json_t *j = J(text);
    json_t *out;

    expect_ok(ovsdb_type_from_json(&type, j));
    out = ovsdb_type_to_json(&type);
    expect_json_eq(out, expected);
    json_decref(out);

    ovsdb_type_clone(&copy, &type);
    ovsdb_type_destroy(&type);
    out = ovsdb_type_to_json(&copy);
    expect_json_eq(out, expected);
    json_decref(out);
    ovsdb_type_destroy(&copy);
    json_decref(j);
}

static void
bad_type(const char *text, const char *details)
{
    struct ovsdb_type type;
    json_t *j = J(text);

    expect_error(ovsdb_type_from_json(&type, j), "syntax error", details);
    ovsdb_type_destroy(&type);   /* Left destroyable after an error. */
    json_decref(j);
}

static void
test_atomic_names(void **state)
{
    (void) state;
    enum ovsdb_atomic_type t;

    assert_true(ovsdb_atomic_type_from_string("real", &t));
    assert_int_equal(t, OVSDB_TYPE_REAL);
    assert_string_equal(ovsdb_atomic_type_to_string(OVSDB_TYPE_UUID), "uuid");
    assert_false(ovsdb_atomic_type_from_string("float", &t));
}

static void
test_type_roundtrips(void **state)
{
    (void) state;
    /* Compact forms, as get_schema returns them. */
    roundtrip("\"integer\"", "\"integer\"");
    roundtrip("{\"key\":\"string\"}", "\"string\"");
    roundtrip("{\"key\":\"string\",\"min\":1,\"max\":1}", "\"string\"");
    roundtrip("{\"key\":\"integer\",\"min\":0,\"max\":1}",
              "{\"key\":\"integer\",\"min\":0}");
    roundtrip("{\"key\":\"uuid\",\"min\":0,\"max\":\"unlimited\"}",
              "{\"key\":\"uuid\",\"min\":0,\"max\":\"unlimited\"}");
    roundtrip("{\"key\":\"string\",\"value\":\"string\",\"min\":0,"
              "\"max\":\"unlimited\"}",
              "{\"key\":\"string\",\"value\":\"string\",\"min\":0,"
              "\"max\":\"unlimited\"}");
    roundtrip("{\"key\":{\"type\":\"integer\",\"minInteger\":0,"
              "\"maxInteger\":4095},\"min\":0,\"max\":4096}",
              "{\"key\":{\"type\":\"integer\",\"minInteger\":0,"
              "\"maxInteger\":4095},\"min\":0,\"max\":4096}");
    /* A constrained scalar keeps the object form. */
    roundtrip("{\"key\":{\"type\":\"integer\",\"minInteger\":1}}",
              "{\"key\":{\"type\":\"integer\",\"minInteger\":1}}");
    roundtrip("{\"key\":{\"type\":\"real\",\"minReal\":0,\"maxReal\":1.5}}",
              "{\"key\":{\"type\":\"real\",\"minReal\":0.0,\"maxReal\":1.5}}");
    roundtrip("{\"key\":{\"type\":\"string\",\"minLength\":1,"
              "\"maxLength\":8}}",
              "{\"key\":{\"type\":\"string\",\"minLength\":1,"
              "\"maxLength\":8}}");
    /* Strong is the default and is not written back; weak is. */
    roundtrip("{\"key\":{\"type\":\"uuid\",\"refTable\":\"Port\","
              "\"refType\":\"strong\"},\"min\":1,\"max\":\"unlimited\"}",
              "{\"key\":{\"type\":\"uuid\",\"refTable\":\"Port\"},"
              "\"max\":\"unlimited\"}");
    roundtrip("{\"key\":{\"type\":\"uuid\",\"refTable\":\"Port\","
              "\"refType\":\"weak\"},\"min\":0,\"max\":\"unlimited\"}",
              "{\"key\":{\"type\":\"uuid\",\"refTable\":\"Port\","
              "\"refType\":\"weak\"},\"min\":0,\"max\":\"unlimited\"}");
    /* Enums: sorted; a single value is written bare. */
    roundtrip("{\"key\":{\"type\":\"string\",\"enum\":[\"set\","
              "[\"trunk\",\"access\"]]}}",
              "{\"key\":{\"type\":\"string\",\"enum\":[\"set\","
              "[\"access\",\"trunk\"]]}}");
    roundtrip("{\"key\":{\"type\":\"string\",\"enum\":[\"set\",[\"x\"]]},"
              "\"min\":0}",
              "{\"key\":{\"type\":\"string\",\"enum\":\"x\"},\"min\":0}");
    roundtrip("{\"key\":{\"type\":\"integer\",\"enum\":7}}",
              "{\"key\":{\"type\":\"integer\",\"enum\":7}}");
}

static void
test_type_accessors(void **state)
{
    (void) state;
    struct ovsdb_type t;
    json_t *j = J("{\"key\":{\"type\":\"uuid\",\"refTable\":\"Q\","
                  "\"refType\":\"weak\"},\"value\":\"integer\",\"min\":0,"
                  "\"max\":\"unlimited\"}");
    char *s;

    expect_ok(ovsdb_type_from_json(&t, j));
    assert_true(ovsdb_type_is_map(&t));
    assert_false(ovsdb_type_is_set(&t));
    assert_true(ovsdb_type_is_optional(&t));
    assert_true(ovsdb_base_type_is_ref(&t.key));
    assert_true(ovsdb_base_type_is_weak_ref(&t.key));
    assert_false(ovsdb_base_type_is_strong_ref(&t.key));
    assert_string_equal(t.key.u.uuid.ref_table_name, "Q");
    assert_int_equal(t.n_max, OVSDB_UNLIMITED);
    assert_true(ovsdb_type_is_valid(&t));
    s = ovsdb_type_to_english(&t);
    assert_string_equal(s, "map of (uuid, integer) pairs");
    free(s);
    ovsdb_type_destroy(&t);
    json_decref(j);

    j = J("{\"key\":\"integer\",\"min\":0,\"max\":1}");
    expect_ok(ovsdb_type_from_json(&t, j));
    s = ovsdb_type_to_english(&t);
    assert_string_equal(s, "set of up to 1 integers");
    free(s);
    assert_true(ovsdb_type_is_set(&t));
    ovsdb_type_destroy(&t);
    json_decref(j);

    j = J("{\"key\":\"uuid\",\"min\":1,\"max\":\"unlimited\"}");
    expect_ok(ovsdb_type_from_json(&t, j));
    s = ovsdb_type_to_english(&t);
    assert_string_equal(s, "set of 1 or more uuids");
    free(s);
    ovsdb_type_destroy(&t);
    json_decref(j);

    ovsdb_type_init(&t);
    assert_true(ovsdb_type_is_scalar(&t));
    assert_int_equal(t.key.type, OVSDB_TYPE_INTEGER);
    assert_int_equal(t.key.u.integer.min, LLONG_MIN);
    assert_false(ovsdb_base_type_has_constraints(&t.key));
    s = ovsdb_type_to_english(&t);
    assert_string_equal(s, "integer");
    free(s);
    ovsdb_type_destroy(&t);
}

static void
test_type_errors(void **state)
{
    (void) state;
    /* Wording observed from ovsdb-tool 3.1 where it exists. */
    bad_type("\"frob\"", "\"frob\" is not an atomic-type");
    bad_type("\"void\"", "\"void\" is not an atomic-type");
    bad_type("{\"key\":\"void\"}", "\"void\" is not an atomic-type");
    bad_type("{\"key\":\"integer\",\"value\":\"void\"}",
             "\"void\" is not an atomic-type");
    bad_type("{\"key\":\"integer\",\"min\":2}",
             "ovsdb type fails constraint checks");
    bad_type("{\"key\":\"integer\",\"max\":0}",
             "ovsdb type fails constraint checks");
    bad_type("{\"key\":\"string\",\"min\":\"x\"}",
             "Type mismatch for member 'min'.");
    bad_type("{\"key\":\"string\",\"max\":true}",
             "Type mismatch for member 'max'.");
    bad_type("{\"value\":\"string\"}", "Required 'key' member is missing.");
    bad_type("{\"key\":\"string\",\"bogus\":1}",
             "Member 'bogus' is present but not allowed here.");
    bad_type("{\"key\":{\"type\":\"string\",\"minInteger\":3}}",
             "Member 'minInteger' is present but not allowed here.");
    bad_type("{\"key\":{\"type\":\"uuid\",\"refType\":\"weak\"}}",
             "Member 'refType' is present but not allowed here.");
    bad_type("{\"key\":{\"type\":\"uuid\",\"refTable\":\"A\","
             "\"refType\":\"soft\"}}",
             "refType must be \"strong\" or \"weak\" (not \"soft\")");
    bad_type("{\"key\":{\"type\":\"integer\",\"minInteger\":3,"
             "\"maxInteger\":1}}", "minInteger exceeds maxInteger");
    bad_type("{\"key\":{\"type\":\"real\",\"minReal\":3,\"maxReal\":1}}",
             "minReal exceeds maxReal");
    bad_type("{\"key\":{\"type\":\"string\",\"minLength\":3,"
             "\"maxLength\":1}}", "minLength exceeds maxLength");
    bad_type("{\"key\":{\"type\":\"string\",\"minLength\":-1}}",
             "minLength out of valid range 0 to 4294967295");
    bad_type("{\"key\":{\"type\":\"integer\",\"maxInteger\":\"x\"}}",
             "Type mismatch for member 'maxInteger'.");
    bad_type("{\"key\":{\"type\":\"integer\",\"enum\":[\"set\",[\"x\"]]}}",
             "expected integer");
    bad_type("{\"key\":{\"type\":\"string\",\"enum\":[\"set\",[]]}}",
             "set must have 1 to 4294967295 members but 0 are present");
    bad_type("{\"key\":{}}", "Required 'type' member is missing.");
    bad_type("42", "ovsdb type expected");

    /* Duplicate enum members: "ovsdb error" like ovsdb-server. */
    struct ovsdb_type t;
    json_t *j = J("{\"key\":{\"type\":\"string\",\"enum\":[\"set\","
                  "[\"a\",\"a\"]]}}");
    expect_error(ovsdb_type_from_json(&t, j), "ovsdb error",
                 "set contains duplicate");
    json_decref(j);
}

static void
test_base_type_clear(void **state)
{
    (void) state;
    struct ovsdb_base_type b;
    json_t *j = J("{\"type\":\"string\",\"enum\":[\"set\",[\"a\",\"b\"]],"
                  "\"maxLength\":3}");

    expect_ok(ovsdb_base_type_from_json(&b, j));
    assert_true(ovsdb_base_type_has_constraints(&b));
    assert_non_null(b.enum_);
    assert_int_equal(b.enum_->n, 2);
    ovsdb_base_type_clear_constraints(&b);
    assert_false(ovsdb_base_type_has_constraints(&b));
    assert_null(b.enum_);
    assert_int_equal(b.type, OVSDB_TYPE_STRING);
    ovsdb_base_type_destroy(&b);
    json_decref(j);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_atomic_names),
        cmocka_unit_test(test_type_roundtrips),
        cmocka_unit_test(test_type_accessors),
        cmocka_unit_test(test_type_errors),
        cmocka_unit_test(test_base_type_clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
