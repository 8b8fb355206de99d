/* list: intrusive circular doubly linked list.
 *
 * Embed a 'struct ovs_list'-like 'struct list_node' in each element; the
 * list head is a node of its own.  Nothing here allocates. */
#ifndef LANYARD_LIST_H
#define LANYARD_LIST_H 1

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct list_node {
    struct list_node *prev, *next;
};

#define LIST_INITIALIZER(LIST) { LIST, LIST }

static inline void
list_init(struct list_node *list)
{
    list->prev = list->next = list;
}

/* Inserts ELEM just before BEFORE. */
static inline void
list_insert(struct list_node *before, struct list_node *elem)
{
    elem->prev = before->prev;
    elem->next = before;
    before->prev->next = elem;
    before->prev = elem;
}

static inline void
list_push_back(struct list_node *list, struct list_node *elem)
{
    list_insert(list, elem);
}

static inline void
list_push_front(struct list_node *list, struct list_node *elem)
{
    list_insert(list->next, elem);
}

/* Removes ELEM from its list and returns the element that followed it. */
static inline struct list_node *
list_remove(struct list_node *elem)
{
    elem->prev->next = elem->next;
    elem->next->prev = elem->prev;
    return elem->next;
}

static inline bool
list_is_empty(const struct list_node *list)
{
    return list->next == list;
}

static inline struct list_node *
list_pop_front(struct list_node *list)
{
    struct list_node *front = list->next;
    list_remove(front);
    return front;
}

static inline size_t
list_size(const struct list_node *list)
{
    size_t n = 0;
    for (const struct list_node *e = list->next; e != list; e = e->next) {
        n++;
    }
    return n;
}

/* Moves all of SRC's elements to the end of DST; SRC ends up empty. */
static inline void
list_splice_back(struct list_node *dst, struct list_node *src)
{
    if (!list_is_empty(src)) {
        src->next->prev = dst->prev;
        dst->prev->next = src->next;
        src->prev->next = dst;
        dst->prev = src->prev;
        list_init(src);
    }
}

#define LIST_FOR_EACH(ITER, MEMBER, LIST)                                      \
    for (ITER = OBJECT_CONTAINING((LIST)->next, ITER, MEMBER);                 \
         &(ITER)->MEMBER != (LIST);                                            \
         ITER = OBJECT_CONTAINING((ITER)->MEMBER.next, ITER, MEMBER))

/* Safe against removal of ITER. */
#define LIST_FOR_EACH_SAFE(ITER, NEXT, MEMBER, LIST)                           \
    for (ITER = OBJECT_CONTAINING((LIST)->next, ITER, MEMBER);                 \
         &(ITER)->MEMBER != (LIST) &&                                          \
         (NEXT = OBJECT_CONTAINING((ITER)->MEMBER.next, ITER, MEMBER), 1);     \
         ITER = NEXT)

#endif
