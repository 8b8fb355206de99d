#include "ofport.h"

#include <stdlib.h>
#include <string.h>

#include "dp.h"
#include "hash.h"
#include "hmap.h"
#include "util.h"

struct ofport_entry {
    struct hmap_node node;
    char *key;                  /* "BRIDGE\nNAME". */
    uint32_t no;
};

struct ofport_memory {
    struct hmap entries;
};

struct ofport_memory *
ofport_memory_create(void)
{
    struct ofport_memory *m = xzalloc(sizeof *m);
    hmap_init(&m->entries);
    return m;
}

void
ofport_memory_destroy(struct ofport_memory *m)
{
    if (!m) {
        return;
    }
    struct ofport_entry *e;
    HMAP_FOR_EACH_POP (e, node, &m->entries) {
        free(e->key);
        free(e);
    }
    hmap_destroy(&m->entries);
    free(m);
}

static struct ofport_entry *
find(const struct ofport_memory *m, const char *key)
{
    struct ofport_entry *e;
    HMAP_FOR_EACH_WITH_HASH (e, node, hash_string(key, 0), &m->entries) {
        if (!strcmp(e->key, key)) {
            return e;
        }
    }
    return NULL;
}

void
ofport_memory_set(struct ofport_memory *m, const char *bridge,
                  const char *name, uint32_t no)
{
    char *key = xasprintf("%s\n%s", bridge, name);
    struct ofport_entry *e = find(m, key);
    if (e) {
        free(key);
    } else {
        e = xzalloc(sizeof *e);
        e->key = key;
        hmap_insert(&m->entries, &e->node, hash_string(key, 0));
    }
    e->no = no;
}

uint32_t
ofport_memory_get(const struct ofport_memory *m, const char *bridge,
                  const char *name)
{
    char *key = xasprintf("%s\n%s", bridge, name);
    const struct ofport_entry *e = find(m, key);
    free(key);
    return e ? e->no : 0;
}

uint32_t
ofport_pick(long long ofport_request, long long db_ofport, uint32_t remembered)
{
    if (ofport_request >= 1 && ofport_request <= DP_MAX_PORT_NO) {
        return (uint32_t) ofport_request;
    }
    if (db_ofport >= 1 && db_ofport <= DP_MAX_PORT_NO) {
        return (uint32_t) db_ofport;
    }
    return remembered;
}
