#include "lock.h"

#include <string.h>

#include "hash.h"
#include "hmap.h"
#include "list.h"
#include "util.h"

struct dbd_lock {
    struct hmap_node node;      /* In dbd_lock_table.locks. */
    struct dbd_lock_table *table;
    char *name;
    struct list_node waiters;   /* dbd_lock_waiter.node; front = owner. */
};

struct dbd_lock_waiter {
    struct list_node node;      /* In dbd_lock.waiters. */
    struct dbd_lock *lock;
    void *session;
};

struct dbd_lock_table {
    struct hmap locks;
};

struct dbd_lock_table *
dbd_lock_table_create(void)
{
    struct dbd_lock_table *table = xzalloc(sizeof *table);
    hmap_init(&table->locks);
    return table;
}

void
dbd_lock_table_destroy(struct dbd_lock_table *table)
{
    if (table) {
        hmap_destroy(&table->locks);
        free(table);
    }
}

static struct dbd_lock *
lock_find(const struct dbd_lock_table *table, const char *name)
{
    struct dbd_lock *lock;
    HMAP_FOR_EACH_WITH_HASH (lock, node, hash_string(name, 0), &table->locks) {
        if (!strcmp(lock->name, name)) {
            return lock;
        }
    }
    return NULL;
}

static struct dbd_lock_waiter *
lock_owner(const struct dbd_lock *lock)
{
    return list_is_empty(&lock->waiters)
           ? NULL
           : CONTAINER_OF(lock->waiters.next, struct dbd_lock_waiter, node);
}

struct dbd_lock_waiter *
dbd_lock_acquire(struct dbd_lock_table *table, const char *name,
                 void *session, enum dbd_lock_mode mode, void **stolen_from)
{
    struct dbd_lock *lock = lock_find(table, name);
    if (!lock) {
        lock = xzalloc(sizeof *lock);
        lock->table = table;
        lock->name = xstrdup(name);
        list_init(&lock->waiters);
        hmap_insert(&table->locks, &lock->node, hash_string(name, 0));
    }

    struct dbd_lock_waiter *waiter = xzalloc(sizeof *waiter);
    waiter->lock = lock;
    waiter->session = session;

    if (stolen_from) {
        *stolen_from = NULL;
    }
    if (mode == DBD_LOCK_STEAL) {
        struct dbd_lock_waiter *owner = lock_owner(lock);
        if (owner && stolen_from) {
            *stolen_from = owner->session;
        }
        list_push_front(&lock->waiters, &waiter->node);
    } else {
        list_push_back(&lock->waiters, &waiter->node);
    }
    return waiter;
}

bool
dbd_lock_waiter_is_owner(const struct dbd_lock_waiter *waiter)
{
    return lock_owner(waiter->lock) == waiter;
}

const char *
dbd_lock_waiter_name(const struct dbd_lock_waiter *waiter)
{
    return waiter->lock->name;
}

void *
dbd_lock_release(struct dbd_lock_waiter *waiter)
{
    if (!waiter) {
        return NULL;
    }
    struct dbd_lock *lock = waiter->lock;
    bool was_owner = dbd_lock_waiter_is_owner(waiter);
    list_remove(&waiter->node);
    free(waiter);

    if (list_is_empty(&lock->waiters)) {
        hmap_remove(&lock->table->locks, &lock->node);
        free(lock->name);
        free(lock);
        return NULL;
    }
    return was_owner ? lock_owner(lock)->session : NULL;
}

unsigned int
dbd_lock_table_count(const struct dbd_lock_table *table)
{
    return (unsigned int) hmap_count(&table->locks);
}
