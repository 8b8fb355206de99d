/* hmap: intrusive hash map keyed by a caller-computed 32-bit hash.
 *
 * Embed a 'struct hmap_node' in each element.  The map never allocates
 * elements and never compares keys: callers walk the nodes with a given hash
 * (HMAP_FOR_EACH_WITH_HASH) and compare keys themselves.  Insertion and
 * removal are O(1) amortised; the bucket array doubles and halves.
 * Not thread-safe. */
#ifndef LANYARD_HMAP_H
#define LANYARD_HMAP_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct hmap_node {
    uint32_t hash;
    struct hmap_node *next;
};

struct hmap {
    struct hmap_node **buckets;
    struct hmap_node *one;      /* Storage for 'buckets' when mask == 0. */
    size_t mask;
    size_t n;
};

#define HMAP_INITIALIZER(HMAP) { &(HMAP)->one, NULL, 0, 0 }

void hmap_init(struct hmap *);
void hmap_destroy(struct hmap *);  /* Frees buckets only, not elements. */
void hmap_clear(struct hmap *);    /* Forgets all nodes (not freed). */
void hmap_swap(struct hmap *, struct hmap *);
void hmap_moved(struct hmap *);    /* Call after memcpy'ing an hmap. */

static inline size_t hmap_count(const struct hmap *h) { return h->n; }
static inline bool hmap_is_empty(const struct hmap *h) { return h->n == 0; }

void hmap_insert(struct hmap *, struct hmap_node *, uint32_t hash);
void hmap_remove(struct hmap *, struct hmap_node *);
void hmap_reserve(struct hmap *, size_t n);
/* Removal never shrinks (so iteration stays valid); call this to give
 * memory back after many removals. */
void hmap_shrink(struct hmap *);

/* Iteration helpers (use the macros below). */
struct hmap_node *hmap_first_with_hash(const struct hmap *, uint32_t hash);
struct hmap_node *hmap_next_with_hash(const struct hmap_node *);
struct hmap_node *hmap_first(const struct hmap *);
struct hmap_node *hmap_next(const struct hmap *, const struct hmap_node *);

#define HMAP_NODE_TO(NODE, ITER, MEMBER)                                       \
    ((NODE) ? OBJECT_CONTAINING(NODE, ITER, MEMBER) : NULL)

#define HMAP_FOR_EACH_WITH_HASH(ITER, MEMBER, HASH, HMAP)                      \
    for (ITER = HMAP_NODE_TO(hmap_first_with_hash(HMAP, HASH), ITER, MEMBER); \
         ITER != NULL;                                                         \
         ITER = HMAP_NODE_TO(hmap_next_with_hash(&(ITER)->MEMBER), ITER, MEMBER))

#define HMAP_FOR_EACH(ITER, MEMBER, HMAP)                                      \
    for (ITER = HMAP_NODE_TO(hmap_first(HMAP), ITER, MEMBER);                  \
         ITER != NULL;                                                         \
         ITER = HMAP_NODE_TO(hmap_next(HMAP, &(ITER)->MEMBER), ITER, MEMBER))

/* Safe against removal of ITER (not of other nodes). */
#define HMAP_FOR_EACH_SAFE(ITER, NEXT, MEMBER, HMAP)                           \
    for (ITER = HMAP_NODE_TO(hmap_first(HMAP), ITER, MEMBER);                  \
         ITER != NULL &&                                                       \
         (NEXT = HMAP_NODE_TO(hmap_next(HMAP, &(ITER)->MEMBER), ITER, MEMBER), 1); \
         ITER = NEXT)

/* Removes and returns a node at or after bucket *BUCKET, advancing
 * *BUCKET, or NULL when the map is empty: popping every node this way is
 * linear in the map's size. */
struct hmap_node *hmap_pop_ahead(struct hmap *, size_t *bucket);

/* Pops one node into *ITERP (the containing object, at OFFSET from its
 * node); false when the map is empty.  Evaluates everything once. */
static inline bool
hmap_pop_into__(struct hmap *h, size_t *bucket, void **iterp, size_t offset)
{
    struct hmap_node *node = hmap_pop_ahead(h, bucket);
    if (!node) {
        return false;
    }
    *iterp = (char *) node - offset;
    return true;
}

#define HMAP_POP_CAT2(A, B) A##B
#define HMAP_POP_CAT(A, B) HMAP_POP_CAT2(A, B)
/* Removes every node, binding each to ITER in turn (for destroy loops). */
#define HMAP_FOR_EACH_POP(ITER, MEMBER, HMAP)                                  \
    for (size_t HMAP_POP_CAT(hmap_pop_bucket_, __LINE__) = 0;                  \
         hmap_pop_into__(HMAP, &HMAP_POP_CAT(hmap_pop_bucket_, __LINE__),      \
                         (void **) &(ITER),                                    \
                         offsetof(__typeof__(*(ITER)), MEMBER)); )

#endif
