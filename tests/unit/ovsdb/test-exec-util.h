/* Helpers shared by the executor and database tests. */
#ifndef TEST_EXEC_UTIL_H
#define TEST_EXEC_UTIL_H 1

#include <jansson.h>
#include <stdbool.h>

#include "ovsdb-txn.h"

/* A small schema exercising every commit-time rule:
 *   Root  root, maxRows 2: name, kids (strong set -> Kid), n, m (map),
 *         weak (weak set -> Kid), eph (ephemeral string), grands (strong
 *         map integer -> Grand)
 *   Kid   non-root, index (name): name (immutable), grand (optional strong
 *         -> Grand), tag (optional 0..4095), color (enum)
 *   Grand non-root: v
 *   Pair  root, index (a, b)
 *   WeakMin root: w (weak set -> Kid, min 1) */
extern const char test_schema_json[];

struct ovsdb *test_db_create(const char *schema_json);
struct ovsdb *test_db_create_vswitch(void);   /* NULL if no schema file. */

/* Executes OPS_JSON (an array of operations) at NOW with CTX (NULL: default
 * read-write context); commits a resulting txn (and records it as a file
 * record in *RECORDP if RECORDP).  Returns the result array. */
json_t *test_exec(struct ovsdb *, const char *ops_json,
                  const struct ovsdb_exec_ctx *, json_t **recordp);
/* Like test_exec() but returns the txn uncommitted in *TXNP. */
json_t *test_exec_txn(struct ovsdb *, const char *ops_json,
                      struct ovsdb_txn **txnp);

/* The error tag of result element IDX, or NULL if it is not an error. */
const char *test_result_error(const json_t *result, size_t idx);
const char *test_result_details(const json_t *result, size_t idx);
long long test_result_count(const json_t *result, size_t idx);
/* The uuid string of an insert result. */
const char *test_result_uuid(const json_t *result, size_t idx);

/* Snapshot of the whole database as canonical JSON text (caller frees). */
char *test_db_dump(const struct ovsdb *);

#endif
