/* Tests for the database file records (round trip, records written by real
 * ovsdb-server) and for scale (a 10,000-port bridge). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ds.h"
#include "ovsdb-error.h"
#include "ovsdb-file.h"
#include "ovsdb-schema.h"
#include "ovsdb-txn.h"
#include "ovsdb.h"
#include "test-exec-util.h"
#include "util.h"

static void
replay_ok(struct ovsdb *db, const json_t *record)
{
    struct ovsdb_error *error = ovsdb_file_replay(db, record);
    if (error) {
        fail_msg("replay: %s", ovsdb_error_to_string(error));
    }
}

static void
test_round_trip(void **state)
{
    struct ovsdb *db = test_db_create(test_schema_json);
    static const char *txns[] = {
        "[{\"op\":\"insert\",\"table\":\"Grand\",\"row\":{\"v\":7},"
        " \"uuid-name\":\"g\"},"
        "{\"op\":\"insert\",\"table\":\"Kid\",\"row\":{\"name\":\"a\","
        " \"tag\":4, \"color\":\"red\"}, \"uuid-name\":\"ka\"},"
        "{\"op\":\"insert\",\"table\":\"Kid\",\"row\":{\"name\":\"b\","
        " \"grand\":[\"named-uuid\",\"g\"]}, \"uuid-name\":\"kb\"},"
        "{\"op\":\"insert\",\"table\":\"Root\",\"row\":{\"name\":\"r\","
        " \"eph\":\"gone\", \"m\":[\"map\",[[\"x\",\"1\"],[\"y\",\"2\"]]],"
        " \"kids\":[\"set\",[[\"named-uuid\",\"ka\"],[\"named-uuid\",\"kb\"]]],"
        " \"weak\":[\"named-uuid\",\"kb\"]}},"
        "{\"op\":\"comment\",\"comment\":\"first\"}]",
        "[{\"op\":\"mutate\",\"table\":\"Root\",\"where\":[],\"mutations\":"
        " [[\"m\",\"delete\",[\"set\",[\"x\"]]],"
        "  [\"m\",\"insert\",[\"map\",[[\"z\",\"3\"]]]], [\"n\",\"+=\",4]]},"
        "{\"op\":\"update\",\"table\":\"Kid\",\"where\":[[\"name\",\"==\",\"a\"]],"
        " \"row\":{\"tag\":[\"set\",[]]}}]",
        "[{\"op\":\"update\",\"table\":\"Root\",\"where\":[],"
        " \"row\":{\"m\":[\"map\",[[\"y\",\"changed\"],[\"z\",\"3\"]]]}}]",
        "[{\"op\":\"update\",\"table\":\"Root\",\"where\":[],"
        " \"row\":{\"eph\":\"only ephemeral\"}}]",
        "[{\"op\":\"insert\",\"table\":\"Pair\",\"row\":{\"a\":1}},"
        " {\"op\":\"insert\",\"table\":\"Pair\",\"row\":{\"a\":2}}]",
        "[{\"op\":\"delete\",\"table\":\"Pair\",\"where\":[[\"a\",\"==\",1]]},"
        " {\"op\":\"mutate\",\"table\":\"Root\",\"where\":[],\"mutations\":"
        " [[\"kids\",\"delete\",[\"set\",[]]]]}]",
    };
    json_t *records[ARRAY_SIZE(txns)];
    for (size_t i = 0; i < ARRAY_SIZE(txns); i++) {
        json_t *r = test_exec(db, txns[i], NULL, &records[i]);
        for (size_t j = 0; j < json_array_size(r); j++) {
            assert_null(test_result_error(r, j));
        }
        json_decref(r);
    }
    /* The ephemeral-only change writes nothing. */
    assert_null(records[3]);
    assert_string_equal(json_string_value(json_object_get(records[0],
                                                          "_comment")),
                        "first");
    assert_int_equal(json_integer_value(json_object_get(records[0],
                                                        "_date")), 12345);
    assert_true(json_is_true(json_object_get(records[1], "_is_diff")));

    struct ovsdb *copy = test_db_create(test_schema_json);
    for (size_t i = 0; i < ARRAY_SIZE(txns); i++) {
        if (records[i]) {
            replay_ok(copy, records[i]);
            json_decref(records[i]);
        }
    }
    char *a = test_db_dump(db), *b = test_db_dump(copy);
    assert_string_equal(a, b);
    assert_non_null(strstr(a, "changed"));
    assert_null(strstr(a, "gone"));

    /* A snapshot replays to the same contents. */
    struct ovsdb *snap = test_db_create(test_schema_json);
    json_t *s = ovsdb_to_file_json(db, 5);
    replay_ok(snap, s);
    json_decref(s);
    char *c = test_db_dump(snap);
    assert_string_equal(a, c);
    free(a);
    free(b);
    free(c);

    /* Reference counts were rebuilt by replay: deleting Kid a must fail. */
    json_t *r = test_exec(snap, "[{\"op\":\"delete\",\"table\":\"Kid\","
                          "\"where\":[[\"name\",\"==\",\"a\"]]}]", NULL, NULL);
    assert_string_equal(test_result_error(r, 1),
                        "referential integrity violation");
    json_decref(r);

    ovsdb_destroy(snap);
    ovsdb_destroy(copy);
    ovsdb_destroy(db);
}

static void
test_replay_errors(void **state)
{
    struct ovsdb *db = test_db_create(test_schema_json);
    static const char *bad[] = {
        "{\"Nope\":{}}",
        "{\"Root\":{\"not-a-uuid\":{}}}",
        "{\"Root\":{\"01234567-89ab-cdef-0123-456789abcdef\":null}}",
        "{\"Root\":{\"01234567-89ab-cdef-0123-456789abcdef\":{\"nocol\":1}}}",
        "{\"Root\":{\"01234567-89ab-cdef-0123-456789abcdef\":{\"n\":\"x\"}}}",
        ("{\"Root\":{\"01234567-89ab-cdef-0123-456789abcdef\":{\"kids\":"
         "[\"uuid\",\"01234567-89ab-cdef-0123-456789abcdee\"]}}}"),
        "[1]",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        json_t *j = json_loads(bad[i], 0, NULL);
        assert_non_null(j);
        struct ovsdb_error *error = ovsdb_file_replay(db, j);
        assert_non_null(error);
        ovsdb_error_destroy(error);
        json_decref(j);
        assert_int_equal(ovsdb_table_n_rows(ovsdb_find_table(db, "Root")), 0);
    }
    ovsdb_destroy(db);
}

/* Records written by ovsdb-server 3.1 for: init; add-br br0; two "set
 * bridge" commands (map diff, scalar change); add-port p1 with tag 5; set
 * tag 7; clear tag; del-port p1; create a mirror. */
static const char *ovs_records[] = {
    "{\"_date\":1795222342560,\"_is_diff\":true,\"Open_vSwitch\":{\"48cce9c4-"
    "8ed9-458f-b7e2-442658d9bbd3\":{}},\"_comment\":\"ovs-vsctl: init\"}",
    "{\"Interface\":{\"46f1408c-514c-4ab6-b113-e8f5f12b2f75\":{\"name\":\"br0\","
    "\"type\":\"internal\"}},\"Port\":{\"58ac7ab5-a94e-4d3d-a661-e8e0bc9d614d\":"
    "{\"name\":\"br0\",\"interfaces\":[\"uuid\",\"46f1408c-514c-4ab6-b113-"
    "e8f5f12b2f75\"]}},\"_date\":1795222342568,\"Bridge\":{\"b6fb7b63-a96b-"
    "47c0-95f1-50d280786076\":{\"name\":\"br0\",\"ports\":[\"uuid\",\"58ac7ab5-"
    "a94e-4d3d-a661-e8e0bc9d614d\"]}},\"_is_diff\":true,\"Open_vSwitch\":{"
    "\"48cce9c4-8ed9-458f-b7e2-442658d9bbd3\":{\"bridges\":[\"uuid\","
    "\"b6fb7b63-a96b-47c0-95f1-50d280786076\"]}}}",
    "{\"_date\":1795222342573,\"Bridge\":{\"b6fb7b63-a96b-47c0-95f1-"
    "50d280786076\":{\"stp_enable\":true,\"other_config\":[\"map\",[[\"a\","
    "\"1\"]]]}},\"_is_diff\":true}",
    "{\"_date\":1795222342578,\"Bridge\":{\"b6fb7b63-a96b-47c0-95f1-"
    "50d280786076\":{\"datapath_type\":\"netdev\",\"other_config\":[\"map\","
    "[[\"a\",\"2\"],[\"b\",\"3\"]]]}},\"_is_diff\":true}",
    "{\"_date\":1795222342583,\"Bridge\":{\"b6fb7b63-a96b-47c0-95f1-"
    "50d280786076\":{\"datapath_type\":\"system\"}},\"_is_diff\":true}",
    "{\"Interface\":{\"199c7b1a-c579-4be3-9f90-4f239d94d4f1\":{\"name\":\"p1\"}},"
    "\"Port\":{\"600a933a-51d9-468b-abbd-3a5ab7c661cb\":{\"name\":\"p1\","
    "\"interfaces\":[\"uuid\",\"199c7b1a-c579-4be3-9f90-4f239d94d4f1\"],"
    "\"tag\":5}},\"_date\":1795222342590,\"Bridge\":{\"b6fb7b63-a96b-47c0-"
    "95f1-50d280786076\":{\"ports\":[\"uuid\",\"600a933a-51d9-468b-abbd-"
    "3a5ab7c661cb\"]}},\"_is_diff\":true}",
    "{\"Port\":{\"600a933a-51d9-468b-abbd-3a5ab7c661cb\":{\"tag\":7}},"
    "\"_date\":1795222342595,\"_is_diff\":true}",
    "{\"Port\":{\"600a933a-51d9-468b-abbd-3a5ab7c661cb\":{\"tag\":[\"set\",[]]}},"
    "\"_date\":1795222342597,\"_is_diff\":true}",
    "{\"Interface\":{\"199c7b1a-c579-4be3-9f90-4f239d94d4f1\":null},\"Port\":"
    "{\"600a933a-51d9-468b-abbd-3a5ab7c661cb\":null},\"_date\":1795222342600,"
    "\"Bridge\":{\"b6fb7b63-a96b-47c0-95f1-50d280786076\":{\"ports\":[\"uuid\","
    "\"600a933a-51d9-468b-abbd-3a5ab7c661cb\"]}},\"_is_diff\":true}",
    "{\"_date\":1795222342606,\"Bridge\":{\"b6fb7b63-a96b-47c0-95f1-"
    "50d280786076\":{\"mirrors\":[\"uuid\",\"27c7ba2e-76e3-4882-8922-"
    "a93c4bfbbcae\"]}},\"Mirror\":{\"27c7ba2e-76e3-4882-8922-a93c4bfbbcae\":"
    "{\"name\":\"m1\"}},\"_is_diff\":true}",
};

static void
test_replay_ovs_records(void **state)
{
    struct ovsdb *db = test_db_create_vswitch();
    if (!db) {
        skip();
    }
    for (size_t i = 0; i < ARRAY_SIZE(ovs_records); i++) {
        json_t *j = json_loads(ovs_records[i], 0, NULL);
        assert_non_null(j);
        replay_ok(db, j);
        json_decref(j);
        if (i == 6 || i == 7) {
            /* tag 7, then cleared: optional columns are new values. */
            json_t *r = test_exec(db, "[{\"op\":\"select\",\"table\":\"Port\","
                                  "\"where\":[[\"name\",\"==\",\"p1\"]],"
                                  "\"columns\":[\"tag\"]}]", NULL, NULL);
            json_t *row = json_array_get(json_object_get(json_array_get(r, 0),
                                                         "rows"), 0);
            json_t *tag = json_object_get(row, "tag");
            if (i == 6) {
                assert_int_equal(json_integer_value(tag), 7);
            } else {
                assert_true(json_is_array(tag));
                assert_int_equal(json_array_size(json_array_get(tag, 1)), 0);
            }
            json_decref(r);
        }
    }
    assert_int_equal(ovsdb_table_n_rows(ovsdb_find_table(db, "Port")), 1);
    assert_int_equal(ovsdb_table_n_rows(ovsdb_find_table(db, "Interface")), 1);
    assert_int_equal(ovsdb_table_n_rows(ovsdb_find_table(db, "Mirror")), 1);
    json_t *r = test_exec(db, "[{\"op\":\"select\",\"table\":\"Bridge\","
                          "\"where\":[],\"columns\":[\"other_config\","
                          "\"datapath_type\",\"stp_enable\",\"ports\"]}]",
                          NULL, NULL);
    json_t *row = json_array_get(json_object_get(json_array_get(r, 0),
                                                 "rows"), 0);
    char *text = json_dumps(row, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal(text, "{\"datapath_type\":\"system\","
                        "\"other_config\":[\"map\",[[\"a\",\"2\"],[\"b\","
                        "\"3\"]]],\"ports\":[\"uuid\",\"58ac7ab5-a94e-4d3d-"
                        "a661-e8e0bc9d614d\"],\"stp_enable\":true}");
    free(text);
    json_decref(r);
    ovsdb_destroy(db);
}

static void
test_ten_thousand_ports(void **state)
{
    struct ovsdb *db = test_db_create_vswitch();
    if (!db) {
        skip();
    }
    json_t *r = test_exec(db, "[{\"op\":\"insert\",\"table\":\"Open_vSwitch\","
                          "\"row\":{\"bridges\":[\"named-uuid\",\"b\"]}},"
                          "{\"op\":\"insert\",\"table\":\"Bridge\",\"row\":"
                          "{\"name\":\"br0\"},\"uuid-name\":\"b\"}]",
                          NULL, NULL);
    assert_null(test_result_error(r, 0));
    json_decref(r);

    enum { N = 10000 };
    struct ds ops = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&ops, "[");
    for (int i = 0; i < N; i++) {
        ds_put_format(&ops, "{\"op\":\"insert\",\"table\":\"Interface\","
                      "\"row\":{\"name\":\"p%d\"},\"uuid-name\":\"i%d\"},"
                      "{\"op\":\"insert\",\"table\":\"Port\",\"row\":"
                      "{\"name\":\"p%d\",\"interfaces\":[\"named-uuid\","
                      "\"i%d\"]},\"uuid-name\":\"p%d\"},", i, i, i, i, i);
    }
    ds_put_cstr(&ops, "{\"op\":\"mutate\",\"table\":\"Bridge\",\"where\":"
                "[[\"name\",\"==\",\"br0\"]],\"mutations\":[[\"ports\","
                "\"insert\",[\"set\",[");
    for (int i = 0; i < N; i++) {
        ds_put_format(&ops, "%s[\"named-uuid\",\"p%d\"]", i ? "," : "", i);
    }
    ds_put_cstr(&ops, "]]]]}]");
    r = test_exec(db, ds_cstr(&ops), NULL, NULL);
    ds_destroy(&ops);
    assert_int_equal(test_result_count(r, 2 * N), 1);
    json_decref(r);
    assert_int_equal(ovsdb_table_n_rows(ovsdb_find_table(db, "Port")), N);

    /* Adding port 10,001 touches three rows and writes a one-element diff. */
    long long start = time_msec();
    json_t *record;
    r = test_exec(db, "[{\"op\":\"insert\",\"table\":\"Interface\",\"row\":"
                  "{\"name\":\"px\"},\"uuid-name\":\"i\"},"
                  "{\"op\":\"insert\",\"table\":\"Port\",\"row\":{\"name\":"
                  "\"px\",\"interfaces\":[\"named-uuid\",\"i\"]},"
                  "\"uuid-name\":\"p\"},{\"op\":\"mutate\",\"table\":"
                  "\"Bridge\",\"where\":[[\"name\",\"==\",\"br0\"]],"
                  "\"mutations\":[[\"ports\",\"insert\",[\"named-uuid\","
                  "\"p\"]]]}]", NULL, &record);
    assert_int_equal(test_result_count(r, 2), 1);
    long long elapsed = time_msec() - start;
    assert_true(elapsed < 2000);
    json_t *bridge = json_object_get(record, "Bridge");
    assert_int_equal(json_object_size(bridge), 1);
    const char *key;
    json_t *brow;
    json_object_foreach (bridge, key, brow) {
        json_t *ports = json_object_get(brow, "ports");
        assert_true(json_is_array(ports));
        assert_string_equal(json_string_value(json_array_get(ports, 0)),
                            "uuid");
    }
    json_decref(record);
    json_decref(r);

    /* Removing a port collects the port and its interface. */
    r = test_exec(db, "[{\"op\":\"select\",\"table\":\"Port\",\"where\":"
                  "[[\"name\",\"==\",\"p17\"]],\"columns\":[\"_uuid\"]}]",
                  NULL, NULL);
    json_t *u = json_object_get(json_array_get(json_object_get(
        json_array_get(r, 0), "rows"), 0), "_uuid");
    char *ops2 = xasprintf("[{\"op\":\"mutate\",\"table\":\"Bridge\","
                           "\"where\":[],\"mutations\":[[\"ports\",\"delete\","
                           "[\"uuid\",\"%s\"]]]}]",
                           json_string_value(json_array_get(u, 1)));
    json_decref(r);
    r = test_exec(db, ops2, NULL, NULL);
    free(ops2);
    assert_int_equal(test_result_count(r, 0), 1);
    json_decref(r);
    assert_int_equal(ovsdb_table_n_rows(ovsdb_find_table(db, "Port")), N);
    assert_int_equal(ovsdb_table_n_rows(ovsdb_find_table(db, "Interface")), N);
    ovsdb_destroy(db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_replay_errors),
        cmocka_unit_test(test_replay_ovs_records),
        cmocka_unit_test(test_ten_thousand_ports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
