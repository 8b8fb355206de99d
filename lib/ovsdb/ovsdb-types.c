#include "ovsdb-types.h"

#include <float.h>
#include <string.h>

#include "ds.h"
#include "ovsdb-data.h"
#include "ovsdb-error.h"
#include "util.h"

static const char *const atomic_type_names[OVSDB_N_TYPES] = {
    [OVSDB_TYPE_VOID] = "void",
    [OVSDB_TYPE_INTEGER] = "integer",
    [OVSDB_TYPE_REAL] = "real",
    [OVSDB_TYPE_BOOLEAN] = "boolean",
    [OVSDB_TYPE_STRING] = "string",
    [OVSDB_TYPE_UUID] = "uuid",
};

const char *
ovsdb_atomic_type_to_string(enum ovsdb_atomic_type type)
{
    return type < OVSDB_N_TYPES ? atomic_type_names[type] : "<invalid>";
}

bool
ovsdb_atomic_type_from_string(const char *s, enum ovsdb_atomic_type *type)
{
    for (int i = 0; i < OVSDB_N_TYPES; i++) {
        if (!strcmp(s, atomic_type_names[i])) {
            *type = i;
            return true;
        }
    }
    return false;
}

/* --- Base types --- */

void
ovsdb_base_type_init(struct ovsdb_base_type *base, enum ovsdb_atomic_type type)
{
    memset(base, 0, sizeof *base);
    base->type = type;
    base->enum_ = NULL;
    ovsdb_base_type_clear_constraints(base);
}

void
ovsdb_base_type_clear_constraints(struct ovsdb_base_type *base)
{
    if (base->enum_) {
        struct ovsdb_type enum_type;

        ovsdb_base_type_enum_type(base, &enum_type);
        ovsdb_datum_destroy(base->enum_, &enum_type);
        free(base->enum_);
        base->enum_ = NULL;
    }
    switch (base->type) {
    case OVSDB_TYPE_INTEGER:
        base->u.integer.min = LLONG_MIN;
        base->u.integer.max = LLONG_MAX;
        break;
    case OVSDB_TYPE_REAL:
        base->u.real.min = -DBL_MAX;
        base->u.real.max = DBL_MAX;
        break;
    case OVSDB_TYPE_STRING:
        base->u.string.min_len = 0;
        base->u.string.max_len = UINT_MAX;
        break;
    case OVSDB_TYPE_UUID:
        free(base->u.uuid.ref_table_name);
        base->u.uuid.ref_table_name = NULL;
        base->u.uuid.ref_table = NULL;
        base->u.uuid.ref_type = OVSDB_REF_STRONG;
        break;
    case OVSDB_TYPE_VOID:
    case OVSDB_TYPE_BOOLEAN:
    case OVSDB_N_TYPES:
        break;
    }
}

void
ovsdb_base_type_enum_type(const struct ovsdb_base_type *base,
                          struct ovsdb_type *enum_type)
{
    /* The enum's own atoms carry no constraints, so a shallow copy of the
     * atomic type is all the datum functions need. */
    memset(enum_type, 0, sizeof *enum_type);
    enum_type->key.type = base->type;
    enum_type->value.type = OVSDB_TYPE_VOID;
    enum_type->n_min = 1;
    enum_type->n_max = OVSDB_UNLIMITED;
}

void
ovsdb_base_type_clone(struct ovsdb_base_type *dst,
                      const struct ovsdb_base_type *src)
{
    *dst = *src;
    if (src->enum_) {
        struct ovsdb_type enum_type;

        ovsdb_base_type_enum_type(src, &enum_type);
        dst->enum_ = xmalloc(sizeof *dst->enum_);
        ovsdb_datum_clone(dst->enum_, src->enum_, &enum_type);
    }
    if (src->type == OVSDB_TYPE_UUID && src->u.uuid.ref_table_name) {
        dst->u.uuid.ref_table_name = xstrdup(src->u.uuid.ref_table_name);
    }
}

void
ovsdb_base_type_destroy(struct ovsdb_base_type *base)
{
    if (base) {
        ovsdb_base_type_clear_constraints(base);
    }
}

bool
ovsdb_base_type_is_ref(const struct ovsdb_base_type *base)
{
    return base->type == OVSDB_TYPE_UUID && base->u.uuid.ref_table_name;
}

bool
ovsdb_base_type_is_strong_ref(const struct ovsdb_base_type *base)
{
    return ovsdb_base_type_is_ref(base)
           && base->u.uuid.ref_type == OVSDB_REF_STRONG;
}

bool
ovsdb_base_type_is_weak_ref(const struct ovsdb_base_type *base)
{
    return ovsdb_base_type_is_ref(base)
           && base->u.uuid.ref_type == OVSDB_REF_WEAK;
}

bool
ovsdb_base_type_has_constraints(const struct ovsdb_base_type *base)
{
    if (base->enum_) {
        return true;
    }
    switch (base->type) {
    case OVSDB_TYPE_INTEGER:
        return base->u.integer.min != LLONG_MIN
               || base->u.integer.max != LLONG_MAX;
    case OVSDB_TYPE_REAL:
        return base->u.real.min != -DBL_MAX || base->u.real.max != DBL_MAX;
    case OVSDB_TYPE_STRING:
        return base->u.string.min_len != 0
               || base->u.string.max_len != UINT_MAX;
    case OVSDB_TYPE_UUID:
        return base->u.uuid.ref_table_name != NULL;
    case OVSDB_TYPE_VOID:
    case OVSDB_TYPE_BOOLEAN:
    case OVSDB_N_TYPES:
        break;
    }
    return false;
}

/* Which optional members of a <base-type> object each atomic type accepts. */
static bool
member_allowed(enum ovsdb_atomic_type type, const char *name)
{
    static const struct {
        enum ovsdb_atomic_type type;
        const char *name;
    } members[] = {
        { OVSDB_TYPE_INTEGER, "minInteger" },
        { OVSDB_TYPE_INTEGER, "maxInteger" },
        { OVSDB_TYPE_REAL, "minReal" },
        { OVSDB_TYPE_REAL, "maxReal" },
        { OVSDB_TYPE_STRING, "minLength" },
        { OVSDB_TYPE_STRING, "maxLength" },
        { OVSDB_TYPE_UUID, "refTable" },
        { OVSDB_TYPE_UUID, "refType" },
    };

    if (!strcmp(name, "type") || !strcmp(name, "enum")) {
        return true;
    }
    for (size_t i = 0; i < ARRAY_SIZE(members); i++) {
        if (members[i].type == type && !strcmp(members[i].name, name)) {
            return true;
        }
    }
    return false;
}

static struct ovsdb_error *
parse_llong_member(const json_t *obj, const char *name, long long *out)
{
    const json_t *j = json_object_get(obj, name);

    if (!j) {
        return NULL;
    }
    if (!json_is_integer(j)) {
        return ovsdb_syntax_error(obj, NULL,
                                  "Type mismatch for member '%s'.", name);
    }
    *out = json_integer_value(j);
    return NULL;
}

static struct ovsdb_error *
parse_real_member(const json_t *obj, const char *name, double *out)
{
    const json_t *j = json_object_get(obj, name);

    if (!j) {
        return NULL;
    }
    if (!json_is_number(j)) {
        return ovsdb_syntax_error(obj, NULL,
                                  "Type mismatch for member '%s'.", name);
    }
    *out = json_number_value(j);
    return NULL;
}

static struct ovsdb_error *
parse_uint_member(const json_t *obj, const char *name, unsigned int *out)
{
    const json_t *j = json_object_get(obj, name);

    if (!j) {
        return NULL;
    }
    if (!json_is_integer(j)) {
        return ovsdb_syntax_error(obj, NULL,
                                  "Type mismatch for member '%s'.", name);
    }
    if (json_integer_value(j) < 0 || json_integer_value(j) > UINT_MAX) {
        return ovsdb_syntax_error(j, NULL, "%s out of valid range 0 to %u",
                                  name, UINT_MAX);
    }
    *out = (unsigned int) json_integer_value(j);
    return NULL;
}

static struct ovsdb_error *
parse_uuid_constraints(struct ovsdb_base_type *base, const json_t *json)
{
    const json_t *table = json_object_get(json, "refTable");
    const json_t *type = json_object_get(json, "refType");

    if (table) {
        if (!json_is_string(table) || !json_string_value(table)[0]) {
            return ovsdb_syntax_error(json, NULL,
                                      "refTable must be a table name");
        }
        base->u.uuid.ref_table_name = xstrdup(json_string_value(table));
    }
    if (type) {
        const char *s = json_is_string(type) ? json_string_value(type) : "";

        if (!table) {
            return ovsdb_syntax_error(json, NULL, "Member 'refType' is "
                                      "present but not allowed here.");
        }
        if (!strcmp(s, "strong")) {
            base->u.uuid.ref_type = OVSDB_REF_STRONG;
        } else if (!strcmp(s, "weak")) {
            base->u.uuid.ref_type = OVSDB_REF_WEAK;
        } else {
            return ovsdb_syntax_error(json, NULL, "refType must be "
                                      "\"strong\" or \"weak\" (not \"%s\")",
                                      s);
        }
    }
    return NULL;
}

static struct ovsdb_error *
parse_constraints(struct ovsdb_base_type *base, const json_t *json)
{
    struct ovsdb_error *error = NULL;

    switch (base->type) {
    case OVSDB_TYPE_INTEGER:
        if ((error = parse_llong_member(json, "minInteger",
                                        &base->u.integer.min))
            || (error = parse_llong_member(json, "maxInteger",
                                           &base->u.integer.max))) {
            return error;
        }
        if (base->u.integer.min > base->u.integer.max) {
            return ovsdb_syntax_error(json, NULL,
                                      "minInteger exceeds maxInteger");
        }
        break;
    case OVSDB_TYPE_REAL:
        if ((error = parse_real_member(json, "minReal", &base->u.real.min))
            || (error = parse_real_member(json, "maxReal",
                                          &base->u.real.max))) {
            return error;
        }
        if (base->u.real.min > base->u.real.max) {
            return ovsdb_syntax_error(json, NULL, "minReal exceeds maxReal");
        }
        break;
    case OVSDB_TYPE_STRING:
        if ((error = parse_uint_member(json, "minLength",
                                       &base->u.string.min_len))
            || (error = parse_uint_member(json, "maxLength",
                                          &base->u.string.max_len))) {
            return error;
        }
        if (base->u.string.min_len > base->u.string.max_len) {
            return ovsdb_syntax_error(json, NULL,
                                      "minLength exceeds maxLength");
        }
        break;
    case OVSDB_TYPE_UUID:
        return parse_uuid_constraints(base, json);
    case OVSDB_TYPE_VOID:
    case OVSDB_TYPE_BOOLEAN:
    case OVSDB_N_TYPES:
        break;
    }
    return NULL;
}

static struct ovsdb_error *
parse_enum(struct ovsdb_base_type *base, const json_t *json)
{
    const json_t *e = json_object_get(json, "enum");
    struct ovsdb_type enum_type;
    struct ovsdb_datum datum;
    struct ovsdb_error *error;

    if (!e) {
        return NULL;
    }
    ovsdb_base_type_enum_type(base, &enum_type);
    error = ovsdb_datum_from_json(&datum, &enum_type, e, NULL);
    if (error) {
        return error;
    }
    base->enum_ = xmemdup(&datum, sizeof datum);
    return NULL;
}

static struct ovsdb_error *
parse_atomic_type_name(const json_t *json, enum ovsdb_atomic_type *type)
{
    if (!json_is_string(json)
        || !ovsdb_atomic_type_from_string(json_string_value(json), type)
        || *type == OVSDB_TYPE_VOID) {
        if (!json_is_string(json)) {
            return ovsdb_syntax_error(json, NULL, "Type mismatch for member "
                                      "'type'.");
        }
        return ovsdb_syntax_error(json, NULL, "\"%s\" is not an atomic-type",
                                  json_string_value(json));
    }
    return NULL;
}

struct ovsdb_error *
ovsdb_base_type_from_json(struct ovsdb_base_type *base, const json_t *json)
{
    enum ovsdb_atomic_type type;
    struct ovsdb_error *error;
    const char *name;
    json_t *member;

    ovsdb_base_type_init(base, OVSDB_TYPE_VOID);
    if (json_is_string(json)) {
        error = parse_atomic_type_name(json, &type);
        if (!error) {
            ovsdb_base_type_init(base, type);
        }
        return error;
    }
    if (!json_is_object(json)) {
        return ovsdb_syntax_error(json, NULL, "base type must be a type "
                                  "name or an object");
    }
    if (!json_object_get(json, "type")) {
        return ovsdb_syntax_error(json, NULL,
                                  "Required 'type' member is missing.");
    }
    error = parse_atomic_type_name(json_object_get(json, "type"), &type);
    if (error) {
        return error;
    }
    json_object_foreach ((json_t *) json, name, member) {
        if (!member_allowed(type, name)) {
            return ovsdb_syntax_error(json, NULL, "Member '%s' is present "
                                      "but not allowed here.", name);
        }
    }
    ovsdb_base_type_init(base, type);
    error = parse_constraints(base, json);
    if (!error) {
        error = parse_enum(base, json);
    }
    if (error) {
        ovsdb_base_type_destroy(base);
        ovsdb_base_type_init(base, OVSDB_TYPE_VOID);
    }
    return error;
}

json_t *
ovsdb_base_type_to_json(const struct ovsdb_base_type *base)
{
    const char *name = ovsdb_atomic_type_to_string(base->type);
    json_t *j;

    if (!ovsdb_base_type_has_constraints(base)) {
        return json_string(name);
    }
    j = json_object();
    json_object_set_new(j, "type", json_string(name));
    if (base->enum_) {
        struct ovsdb_type enum_type;

        ovsdb_base_type_enum_type(base, &enum_type);
        json_object_set_new(j, "enum",
                            ovsdb_datum_to_json(base->enum_, &enum_type));
    }
    switch (base->type) {
    case OVSDB_TYPE_INTEGER:
        if (base->u.integer.min != LLONG_MIN) {
            json_object_set_new(j, "minInteger",
                                json_integer(base->u.integer.min));
        }
        if (base->u.integer.max != LLONG_MAX) {
            json_object_set_new(j, "maxInteger",
                                json_integer(base->u.integer.max));
        }
        break;
    case OVSDB_TYPE_REAL:
        if (base->u.real.min != -DBL_MAX) {
            json_object_set_new(j, "minReal", json_real(base->u.real.min));
        }
        if (base->u.real.max != DBL_MAX) {
            json_object_set_new(j, "maxReal", json_real(base->u.real.max));
        }
        break;
    case OVSDB_TYPE_STRING:
        if (base->u.string.min_len != 0) {
            json_object_set_new(j, "minLength",
                                json_integer(base->u.string.min_len));
        }
        if (base->u.string.max_len != UINT_MAX) {
            json_object_set_new(j, "maxLength",
                                json_integer(base->u.string.max_len));
        }
        break;
    case OVSDB_TYPE_UUID:
        if (base->u.uuid.ref_table_name) {
            json_object_set_new(j, "refTable",
                                json_string(base->u.uuid.ref_table_name));
            if (base->u.uuid.ref_type == OVSDB_REF_WEAK) {
                json_object_set_new(j, "refType", json_string("weak"));
            }
        }
        break;
    case OVSDB_TYPE_VOID:
    case OVSDB_TYPE_BOOLEAN:
    case OVSDB_N_TYPES:
        break;
    }
    return j;
}

/* --- Column types --- */

void
ovsdb_type_init(struct ovsdb_type *type)
{
    ovsdb_base_type_init(&type->key, OVSDB_TYPE_INTEGER);
    ovsdb_base_type_init(&type->value, OVSDB_TYPE_VOID);
    type->n_min = 1;
    type->n_max = 1;
}

void
ovsdb_type_clone(struct ovsdb_type *dst, const struct ovsdb_type *src)
{
    ovsdb_base_type_clone(&dst->key, &src->key);
    ovsdb_base_type_clone(&dst->value, &src->value);
    dst->n_min = src->n_min;
    dst->n_max = src->n_max;
}

void
ovsdb_type_destroy(struct ovsdb_type *type)
{
    if (type) {
        ovsdb_base_type_destroy(&type->key);
        ovsdb_base_type_destroy(&type->value);
    }
}

static struct ovsdb_error *
parse_min_max(struct ovsdb_type *type, const json_t *json)
{
    const json_t *min = json_object_get(json, "min");
    const json_t *max = json_object_get(json, "max");

    if (min) {
        if (!json_is_integer(min)) {
            return ovsdb_syntax_error(json, NULL,
                                      "Type mismatch for member 'min'.");
        }
        if (json_integer_value(min) < 0 || json_integer_value(min) > 1) {
            return ovsdb_syntax_error(json, NULL,
                                      "ovsdb type fails constraint checks");
        }
        type->n_min = (unsigned int) json_integer_value(min);
    }
    if (max) {
        if (json_is_string(max)
            && !strcmp(json_string_value(max), "unlimited")) {
            type->n_max = OVSDB_UNLIMITED;
        } else if (json_is_integer(max) && json_integer_value(max) >= 1
                   && json_integer_value(max) < OVSDB_UNLIMITED) {
            type->n_max = (unsigned int) json_integer_value(max);
        } else if (json_is_integer(max)) {
            return ovsdb_syntax_error(json, NULL,
                                      "ovsdb type fails constraint checks");
        } else {
            return ovsdb_syntax_error(json, NULL,
                                      "Type mismatch for member 'max'.");
        }
    }
    if (type->n_min > type->n_max) {
        return ovsdb_syntax_error(json, NULL,
                                  "ovsdb type fails constraint checks");
    }
    return NULL;
}

static struct ovsdb_error *
parse_type_object(struct ovsdb_type *type, const json_t *json)
{
    static const char *const allowed[] = { "key", "value", "min", "max" };
    const json_t *key = json_object_get(json, "key");
    const json_t *value = json_object_get(json, "value");
    struct ovsdb_error *error;
    const char *name;
    json_t *member;

    json_object_foreach ((json_t *) json, name, member) {
        size_t i;

        for (i = 0; i < ARRAY_SIZE(allowed); i++) {
            if (!strcmp(name, allowed[i])) {
                break;
            }
        }
        if (i == ARRAY_SIZE(allowed)) {
            return ovsdb_syntax_error(json, NULL, "Member '%s' is present "
                                      "but not allowed here.", name);
        }
    }
    if (!key) {
        return ovsdb_syntax_error(json, NULL,
                                  "Required 'key' member is missing.");
    }
    error = ovsdb_base_type_from_json(&type->key, key);
    if (!error && value) {
        error = ovsdb_base_type_from_json(&type->value, value);
    }
    if (!error) {
        error = parse_min_max(type, json);
    }
    return error;
}

struct ovsdb_error *
ovsdb_type_from_json(struct ovsdb_type *type, const json_t *json)
{
    struct ovsdb_error *error;

    ovsdb_type_init(type);
    if (json_is_string(json)) {
        error = ovsdb_base_type_from_json(&type->key, json);
    } else if (json_is_object(json)) {
        error = parse_type_object(type, json);
    } else {
        error = ovsdb_syntax_error(json, NULL, "ovsdb type expected");
    }
    if (error) {
        ovsdb_type_destroy(type);
        ovsdb_type_init(type);
    }
    return error;
}

json_t *
ovsdb_type_to_json(const struct ovsdb_type *type)
{
    json_t *j;

    if (ovsdb_type_is_scalar(type)
        && !ovsdb_base_type_has_constraints(&type->key)) {
        return ovsdb_base_type_to_json(&type->key);
    }
    j = json_object();
    json_object_set_new(j, "key", ovsdb_base_type_to_json(&type->key));
    if (ovsdb_type_is_map(type)) {
        json_object_set_new(j, "value",
                            ovsdb_base_type_to_json(&type->value));
    }
    if (type->n_min != 1) {
        json_object_set_new(j, "min", json_integer(type->n_min));
    }
    if (type->n_max == OVSDB_UNLIMITED) {
        json_object_set_new(j, "max", json_string("unlimited"));
    } else if (type->n_max != 1) {
        json_object_set_new(j, "max", json_integer(type->n_max));
    }
    return j;
}

char *
ovsdb_type_to_english(const struct ovsdb_type *type)
{
    const char *key = ovsdb_atomic_type_to_string(type->key.type);
    struct ds s = DS_EMPTY_INITIALIZER;

    if (ovsdb_type_is_scalar(type)) {
        return xstrdup(key);
    }
    ds_put_cstr(&s, ovsdb_type_is_map(type) ? "map" : "set");
    if (type->n_max == OVSDB_UNLIMITED) {
        if (type->n_min) {
            ds_put_format(&s, " of %u or more", type->n_min);
        } else {
            ds_put_cstr(&s, " of");
        }
    } else if (type->n_min) {
        ds_put_format(&s, " of %u to %u", type->n_min, type->n_max);
    } else {
        ds_put_format(&s, " of up to %u", type->n_max);
    }
    if (ovsdb_type_is_map(type)) {
        ds_put_format(&s, " (%s, %s) pairs", key,
                      ovsdb_atomic_type_to_string(type->value.type));
    } else {
        ds_put_format(&s, " %ss", key);
    }
    return ds_steal_cstr(&s);
}

bool
ovsdb_type_is_valid(const struct ovsdb_type *type)
{
    return type->key.type != OVSDB_TYPE_VOID
           && type->key.type < OVSDB_N_TYPES
           && type->value.type < OVSDB_N_TYPES
           && type->n_min <= 1 && type->n_max >= 1
           && type->n_min <= type->n_max;
}
