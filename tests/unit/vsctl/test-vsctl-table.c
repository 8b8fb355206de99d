/* Unit tests for vsctl-table: the list/table/csv/json/html/bare output of
 * "list" and "find".  The expected texts were produced by ovs-vsctl 3.1 for
 * the same row (Bridge br9 with these columns). */
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
#include "vsctl.h"

struct fixture {
    struct vsctl_type types[4];
    struct vsctl_out_table *table;
};

static const char *const type_json[4] = {
    "\"string\"",
    "{\"key\":\"string\",\"value\":\"string\",\"min\":0,"
    "\"max\":\"unlimited\"}",
    "{\"key\":{\"type\":\"integer\",\"minInteger\":0,\"maxInteger\":4095},"
    "\"min\":0,\"max\":4096}",
    "{\"key\":{\"type\":\"string\",\"enum\":[\"set\",[\"secure\","
    "\"standalone\"]]},\"min\":0,\"max\":1}",
};
static const char *const headings[4] = {
    "name", "external_ids", "flood_vlans", "fail_mode"
};
static const char *const values[4] = {
    "br9", "{k=\"x y\", a=\"1\", c=\"q\\\"z,w\"}", "1,2", "[]"
};

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof *f);
    f->table = vsctl_out_table_create();
    for (size_t i = 0; i < 4; i++) {
        json_t *j = json_loads(type_json[i], JSON_DECODE_ANY, NULL);
        assert_null(vsctl_type_from_json(&f->types[i], j));
        json_decref(j);
        vsctl_out_table_add_column(f->table, headings[i]);
    }
    vsctl_out_table_add_row(f->table);
    for (size_t i = 0; i < 4; i++) {
        struct vsctl_datum d;
        assert_null(vsctl_datum_from_string(&d, &f->types[i], values[i],
                                            NULL, NULL));
        vsctl_out_table_add_cell(f->table, &d, &f->types[i]);
        vsctl_datum_destroy(&d, &f->types[i]);
    }
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    vsctl_out_table_destroy(f->table);
    for (size_t i = 0; i < 4; i++) {
        vsctl_type_destroy(&f->types[i]);
    }
    free(f);
    return 0;
}

static void
expect(void **state, enum vsctl_format format, enum vsctl_cell_format cells,
       bool headings_on, bool pretty, const char *expected)
{
    struct fixture *f = *state;
    struct vsctl_table_style style = {
        .format = format, .cell_format = cells, .headings = headings_on,
        .pretty = pretty,
    };
    struct ds out = DS_EMPTY_INITIALIZER;
    vsctl_out_table_print(f->table, &style, &out);
    assert_string_equal(ds_cstr(&out), expected);
    ds_destroy(&out);
}

static void
test_list(void **state)
{
    expect(state, VF_LIST, VC_STRING, true, false,
           "name                : br9\n"
           "external_ids        : {a=\"1\", c=\"q\\\"z,w\", k=\"x y\"}\n"
           "flood_vlans         : [1, 2]\n"
           "fail_mode           : []\n");
    expect(state, VF_LIST, VC_BARE, false, false,
           "br9\na=1 c=q\"z,w k=x y\n1 2\n\n");
    expect(state, VF_LIST, VC_JSON, true, false,
           "name                : \"br9\"\n"
           "external_ids        : [\"map\",[[\"a\",\"1\"],[\"c\",\"q\\\"z,w\"],"
           "[\"k\",\"x y\"]]]\n"
           "flood_vlans         : [\"set\",[1,2]]\n"
           "fail_mode           : [\"set\",[]]\n");
}

static void
test_table(void **state)
{
    expect(state, VF_TABLE, VC_STRING, true, false,
           "name external_ids                 flood_vlans fail_mode\n"
           "---- ---------------------------- ----------- ---------\n"
           "br9  {a=\"1\", c=\"q\\\"z,w\", k=\"x y\"} [1, 2]      []\n");
    expect(state, VF_TABLE, VC_STRING, false, false,
           "br9 {a=\"1\", c=\"q\\\"z,w\", k=\"x y\"} [1, 2] []\n");
}

static void
test_csv(void **state)
{
    expect(state, VF_CSV, VC_STRING, true, false,
           "name,external_ids,flood_vlans,fail_mode\n"
           "br9,\"{a=\"\"1\"\", c=\"\"q\\\"\"z,w\"\", k=\"\"x y\"\"}\","
           "\"[1, 2]\",[]\n");
    expect(state, VF_CSV, VC_BARE, true, false,
           "name,external_ids,flood_vlans,fail_mode\n"
           "br9,\"a=1 c=q\"\"z,w k=x y\",1 2,\n");
}

static void
test_json(void **state)
{
    expect(state, VF_JSON, VC_JSON, true, false,
           "{\"data\":[[\"br9\",[\"map\",[[\"a\",\"1\"],[\"c\",\"q\\\"z,w\"],"
           "[\"k\",\"x y\"]]],[\"set\",[1,2]],[\"set\",[]]]],"
           "\"headings\":[\"name\",\"external_ids\",\"flood_vlans\","
           "\"fail_mode\"]}\n");
}

static void
test_html(void **state)
{
    expect(state, VF_HTML, VC_STRING, true, false,
           "<table border=1>\n"
           "  <tr>\n"
           "    <th>name</th>\n"
           "    <th>external_ids</th>\n"
           "    <th>flood_vlans</th>\n"
           "    <th>fail_mode</th>\n"
           "  </tr>\n"
           "  <tr>\n"
           "    <td>br9</td>\n"
           "    <td>{a=&quot;1&quot;, c=&quot;q\\&quot;z,w&quot;, "
           "k=&quot;x y&quot;}</td>\n"
           "    <td>[1, 2]</td>\n"
           "    <td>[]</td>\n"
           "  </tr>\n"
           "</table>\n");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_html, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
