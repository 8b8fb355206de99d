#include "tunnel.h"

#include <stdio.h>
#include <string.h>

#include "ovsdb-data.h"
#include "ovsdb.h"
#include "util.h"

bool
tunnel_is_type(const char *type)
{
    return !strcmp(type, "vxlan");
}

/* Port other_config:split-horizon: "true" or "false" (the default). */
static char *
parse_split_horizon(const struct ovsdb_row *port, bool *on)
{
    const struct ovsdb_datum *d = ovsdb_row_find_column(port, "other_config",
                                                        NULL);
    *on = false;
    for (unsigned int i = 0; d && i < d->n; i++) {
        if (strcmp(d->keys[i].string, "split-horizon")) {
            continue;
        }
        const char *v = d->values[i].string;
        if (!strcmp(v, "true")) {
            *on = true;
        } else if (strcmp(v, "false")) {
            return xasprintf("other_config:split-horizon: \"%s\" is not true "
                             "or false", v);
        }
    }
    return NULL;
}

char *
tunnel_want_init(struct tunnel_want *w, const char *name,
                 const struct ovsdb_row *iface, const struct ovsdb_row *port)
{
    memset(w, 0, sizeof *w);
    const struct ovsdb_datum *opts = ovsdb_row_find_column(iface, "options",
                                                           NULL);
    unsigned int n = opts ? opts->n : 0;
    const char **keys = xcalloc(n + 1, sizeof *keys);
    const char **values = xcalloc(n + 1, sizeof *values);
    for (unsigned int i = 0; i < n; i++) {
        keys[i] = opts->keys[i].string;
        values[i] = opts->values[i].string;
    }
    char *error = vxlan_config_parse(keys, values, n, &w->vxlan);
    free(keys);
    free(values);
    if (!error) {
        error = parse_split_horizon(port, &w->split_horizon);
    }
    if (error) {
        char *msg = xasprintf("%s: bad vxlan configuration: %s", name, error);
        free(error);
        return msg;
    }
    char cfg[sizeof w->text - 8];
    vxlan_config_format(&w->vxlan, cfg, sizeof cfg);
    snprintf(w->text, sizeof w->text, "%s sh=%d", cfg, w->split_horizon);
    return NULL;
}
