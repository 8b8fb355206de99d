#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hash.h"
#include "hmap.h"
#include "util.h"

struct elem {
    struct hmap_node node;
    int value;
};

static void
test_insert_find_remove(void **state)
{
    (void) state;
    struct hmap map = HMAP_INITIALIZER(&map);
    hmap_init(&map);
    struct elem *elems = xcalloc(1000, sizeof *elems);
    for (int i = 0; i < 1000; i++) {
        elems[i].value = i;
        hmap_insert(&map, &elems[i].node, hash_int(i, 0));
    }
    assert_int_equal(hmap_count(&map), 1000);
    for (int i = 0; i < 1000; i += 7) {
        struct elem *e;
        int found = 0;
        HMAP_FOR_EACH_WITH_HASH (e, node, hash_int(i, 0), &map) {
            found += e->value == i;
        }
        assert_int_equal(found, 1);
    }
    /* Removal during safe iteration leaves exactly the rest. */
    struct elem *e, *next;
    HMAP_FOR_EACH_SAFE (e, next, node, &map) {
        if (e->value % 2) {
            hmap_remove(&map, &e->node);
        }
    }
    assert_int_equal(hmap_count(&map), 500);
    hmap_shrink(&map);
    int sum = 0;
    HMAP_FOR_EACH (e, node, &map) {
        sum += e->value;
    }
    assert_int_equal(sum, 249500);      /* 0 + 2 + ... + 998 */
    hmap_destroy(&map);
    free(elems);
}

static void
test_pop_visits_every_node_once(void **state)
{
    (void) state;
    struct hmap map;
    hmap_init(&map);
    struct elem *elems = xcalloc(5000, sizeof *elems);
    for (int i = 0; i < 5000; i++) {
        elems[i].value = i;
        hmap_insert(&map, &elems[i].node, hash_int(i, 0));
    }
    char *seen = xzalloc(5000);
    struct elem *e;
    int n = 0;
    HMAP_FOR_EACH_POP (e, node, &map) {
        assert_false(seen[e->value]);
        seen[e->value] = 1;
        n++;
    }
    assert_int_equal(n, 5000);
    assert_true(hmap_is_empty(&map));
    /* Popping an empty map does nothing. */
    HMAP_FOR_EACH_POP (e, node, &map) {
        fail();
    }
    hmap_destroy(&map);
    free(seen);
    free(elems);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_find_remove),
        cmocka_unit_test(test_pop_visits_every_node_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
