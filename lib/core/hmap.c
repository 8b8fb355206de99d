#include "hmap.h"

#include <stdlib.h>
#include <string.h>

void
hmap_init(struct hmap *h)
{
    h->buckets = &h->one;
    h->one = NULL;
    h->mask = 0;
    h->n = 0;
}

void
hmap_destroy(struct hmap *h)
{
    if (h && h->buckets != &h->one) {
        free(h->buckets);
    }
}

void
hmap_clear(struct hmap *h)
{
    if (h->n) {
        h->n = 0;
        memset(h->buckets, 0, (h->mask + 1) * sizeof *h->buckets);
    }
}

void
hmap_moved(struct hmap *h)
{
    if (!h->mask) {
        h->buckets = &h->one;
    }
}

void
hmap_swap(struct hmap *a, struct hmap *b)
{
    struct hmap tmp = *a;
    *a = *b;
    *b = tmp;
    hmap_moved(a);
    hmap_moved(b);
}

static void
resize(struct hmap *h, size_t new_mask)
{
    struct hmap_node **buckets = xcalloc(new_mask + 1, sizeof *buckets);
    for (size_t i = 0; i <= h->mask; i++) {
        struct hmap_node *node, *next;
        for (node = h->buckets[i]; node; node = next) {
            next = node->next;
            struct hmap_node **b = &buckets[node->hash & new_mask];
            node->next = *b;
            *b = node;
        }
    }
    if (h->buckets != &h->one) {
        free(h->buckets);
    }
    h->buckets = buckets;
    h->mask = new_mask;
    if (!new_mask) {
        /* A one-bucket table lives inline. */
        h->one = buckets[0];
        free(buckets);
        h->buckets = &h->one;
    }
}

static size_t
mask_for(size_t n)
{
    size_t mask = 0;
    while (mask + 1 < n) {
        mask = mask * 2 + 1;
    }
    return mask;
}

void
hmap_reserve(struct hmap *h, size_t n)
{
    size_t mask = mask_for(n);
    if (mask > h->mask) {
        resize(h, mask);
    }
}

void
hmap_insert(struct hmap *h, struct hmap_node *node, uint32_t hash)
{
    struct hmap_node **b = &h->buckets[hash & h->mask];
    node->hash = hash;
    node->next = *b;
    *b = node;
    h->n++;
    if (h->n > (h->mask + 1) * 2) {
        resize(h, h->mask * 2 + 1);
    }
}

void
hmap_remove(struct hmap *h, struct hmap_node *node)
{
    struct hmap_node **b = &h->buckets[node->hash & h->mask];
    while (*b != node) {
        b = &(*b)->next;
    }
    *b = node->next;
    h->n--;
}

void
hmap_shrink(struct hmap *h)
{
    size_t mask = mask_for(h->n / 2 ? h->n / 2 : 1);
    if (mask < h->mask) {
        resize(h, mask);
    }
}

struct hmap_node *
hmap_first_with_hash(const struct hmap *h, uint32_t hash)
{
    struct hmap_node *node = h->buckets[hash & h->mask];
    while (node && node->hash != hash) {
        node = node->next;
    }
    return node;
}

struct hmap_node *
hmap_next_with_hash(const struct hmap_node *prev)
{
    struct hmap_node *node = prev->next;
    while (node && node->hash != prev->hash) {
        node = node->next;
    }
    return node;
}

static struct hmap_node *
first_from(const struct hmap *h, size_t start)
{
    for (size_t i = start; i <= h->mask; i++) {
        if (h->buckets[i]) {
            return h->buckets[i];
        }
    }
    return NULL;
}

struct hmap_node *
hmap_first(const struct hmap *h)
{
    return first_from(h, 0);
}

struct hmap_node *
hmap_next(const struct hmap *h, const struct hmap_node *node)
{
    return node->next ? node->next : first_from(h, (node->hash & h->mask) + 1);
}

struct hmap_node *
hmap_pop_ahead(struct hmap *h, size_t *bucket)
{
    for (; *bucket <= h->mask; ++*bucket) {
        struct hmap_node *node = h->buckets[*bucket];
        if (node) {
            h->buckets[*bucket] = node->next;
            h->n--;
            return node;
        }
    }
    return NULL;
}
