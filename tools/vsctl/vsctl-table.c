/* vsctl-table: the list/table/html/csv/json output of "list" and "find". */
#include "vsctl.h"

#include <ctype.h>
#include <string.h>

#include "util.h"

struct cell {
    struct vsctl_datum datum;
    const struct vsctl_type *type;
};

struct vsctl_out_table {
    char **headings;
    size_t n_columns;
    struct cell *cells;         /* n_rows * n_columns. */
    size_t n_rows;
    size_t n_cells, allocated;
};

struct vsctl_out_table *
vsctl_out_table_create(void)
{
    return xzalloc(sizeof(struct vsctl_out_table));
}

void
vsctl_out_table_destroy(struct vsctl_out_table *t)
{
    if (!t) {
        return;
    }
    for (size_t i = 0; i < t->n_columns; i++) {
        free(t->headings[i]);
    }
    for (size_t i = 0; i < t->n_cells; i++) {
        vsctl_datum_destroy(&t->cells[i].datum, t->cells[i].type);
    }
    free(t->headings);
    free(t->cells);
    free(t);
}

void
vsctl_out_table_add_column(struct vsctl_out_table *t, const char *heading)
{
    t->headings = xrealloc(t->headings,
                           (t->n_columns + 1) * sizeof *t->headings);
    t->headings[t->n_columns++] = xstrdup(heading);
}

void
vsctl_out_table_add_row(struct vsctl_out_table *t)
{
    t->n_rows++;
}

void
vsctl_out_table_add_cell(struct vsctl_out_table *t,
                         const struct vsctl_datum *d,
                         const struct vsctl_type *type)
{
    if (t->n_cells >= t->allocated) {
        t->cells = x2nrealloc(t->cells, &t->allocated, sizeof *t->cells);
    }
    struct cell *c = &t->cells[t->n_cells++];
    vsctl_datum_clone(&c->datum, d, type);
    c->type = type;
}

static char *
cell_text(const struct cell *c, const struct vsctl_table_style *s)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    if (s->cell_format == VC_BARE) {
        vsctl_datum_to_bare(&c->datum, c->type, &ds);
    } else if (s->cell_format == VC_JSON) {
        json_t *j = vsctl_datum_to_json(&c->datum, c->type, NULL, NULL);
        vsctl_json_to_ds(j, false, &ds);
        json_decref(j);
    } else {
        vsctl_datum_to_string(&c->datum, c->type, &ds);
    }
    char *txt = ds_steal_cstr(&ds);
    return txt ? txt : xstrdup("");
}

static const struct cell *
cell_at(const struct vsctl_out_table *t, size_t r, size_t c)
{
    return &t->cells[r * t->n_columns + c];
}

static void
print_list(const struct vsctl_out_table *t, const struct vsctl_table_style *s,
           struct ds *out)
{
    for (size_t r = 0; r < t->n_rows; r++) {
        if (r) {
            ds_put_char(out, '\n');
        }
        for (size_t c = 0; c < t->n_columns; c++) {
            char *txt = cell_text(cell_at(t, r, c), s);
            if (s->headings) {
                ds_put_format(out, "%-20s: ", t->headings[c]);
            }
            ds_put_format(out, "%s\n", txt);
            free(txt);
        }
    }
}

static void
put_padded_line(struct ds *out, char **cells, const size_t *widths, size_t n)
{
    size_t start = out->length;
    for (size_t c = 0; c < n; c++) {
        if (c) {
            ds_put_char(out, ' ');
        }
        ds_put_format(out, "%-*s", (int) widths[c], cells[c]);
    }
    while (out->length > start && out->string[out->length - 1] == ' ') {
        out->length--;
    }
    ds_truncate(out, out->length);
    ds_put_char(out, '\n');
}

static void
print_table(const struct vsctl_out_table *t, const struct vsctl_table_style *s,
            struct ds *out)
{
    size_t nc = t->n_columns;
    char **texts = xcalloc(t->n_rows * nc + 1, sizeof *texts);
    size_t *widths = xcalloc(nc + 1, sizeof *widths);
    for (size_t c = 0; c < nc; c++) {
        widths[c] = s->headings ? strlen(t->headings[c]) : 0;
    }
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t c = 0; c < nc; c++) {
            char *txt = cell_text(cell_at(t, r, c), s);
            /* Cells are cut to the maximum width, but never narrower than
             * the column's heading. */
            size_t limit = MAX((size_t) s->max_column_width, widths[c]);
            if (s->max_column_width > 0 && strlen(txt) > limit) {
                txt[limit] = '\0';
            }
            texts[r * nc + c] = txt;
            widths[c] = MAX(widths[c], strlen(txt));
        }
    }
    if (s->headings) {
        put_padded_line(out, t->headings, widths, nc);
        char **dashes = xcalloc(nc + 1, sizeof *dashes);
        for (size_t c = 0; c < nc; c++) {
            dashes[c] = xmalloc(widths[c] + 1);
            memset(dashes[c], '-', widths[c]);
            dashes[c][widths[c]] = '\0';
        }
        put_padded_line(out, dashes, widths, nc);
        for (size_t c = 0; c < nc; c++) {
            free(dashes[c]);
        }
        free(dashes);
    }
    for (size_t r = 0; r < t->n_rows; r++) {
        put_padded_line(out, &texts[r * nc], widths, nc);
    }
    for (size_t i = 0; i < t->n_rows * nc; i++) {
        free(texts[i]);
    }
    free(texts);
    free(widths);
}

static void
put_html_escaped(struct ds *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': ds_put_cstr(out, "&amp;"); break;
        case '<': ds_put_cstr(out, "&lt;"); break;
        case '>': ds_put_cstr(out, "&gt;"); break;
        case '"': ds_put_cstr(out, "&quot;"); break;
        default: ds_put_char(out, *s); break;
        }
    }
}

/* True if S begins with text shaped like a UUID. */
static bool
starts_with_uuid(const char *s)
{
    for (size_t i = 0; i < UUID_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char) s[i])) {
            return false;
        }
    }
    return true;
}

/* A cell's text with every UUID in it made a link to its row's anchor,
 * shown as its first 8 characters. */
static void
put_html_cell(struct ds *out, const char *s)
{
    while (*s) {
        if (starts_with_uuid(s)) {
            ds_put_format(out, "<a href=\"#%.*s\">%.8s</a>", UUID_LEN, s, s);
            s += UUID_LEN;
        } else {
            char c[2] = { *s++, '\0' };
            put_html_escaped(out, c);
        }
    }
}

static void
print_html(const struct vsctl_out_table *t, const struct vsctl_table_style *s,
           struct ds *out)
{
    ds_put_cstr(out, "<table border=1>\n");
    if (s->headings) {
        ds_put_cstr(out, "  <tr>\n");
        for (size_t c = 0; c < t->n_columns; c++) {
            ds_put_cstr(out, "    <th>");
            put_html_escaped(out, t->headings[c]);
            ds_put_cstr(out, "</th>\n");
        }
        ds_put_cstr(out, "  </tr>\n");
    }
    for (size_t r = 0; r < t->n_rows; r++) {
        ds_put_cstr(out, "  <tr>\n");
        for (size_t c = 0; c < t->n_columns; c++) {
            char *txt = cell_text(cell_at(t, r, c), s);
            if (!strcmp(t->headings[c], "_uuid")) {
                /* A row's own UUID is the anchor the links point to. */
                ds_put_cstr(out, "    <td><a name=\"");
                put_html_escaped(out, txt);
                ds_put_cstr(out, "\">");
                char *shown = xstrndup(txt, 8);
                put_html_escaped(out, shown);
                free(shown);
                ds_put_cstr(out, "</a></td>\n");
            } else {
                ds_put_cstr(out, "    <td>");
                put_html_cell(out, txt);
                ds_put_cstr(out, "</td>\n");
            }
            free(txt);
        }
        ds_put_cstr(out, "  </tr>\n");
    }
    ds_put_cstr(out, "</table>\n");
}

static void
put_csv_cell(struct ds *out, const char *s)
{
    if (!strpbrk(s, "\n\",")) {
        ds_put_cstr(out, s);
        return;
    }
    ds_put_char(out, '"');
    for (; *s; s++) {
        if (*s == '"') {
            ds_put_char(out, '"');
        }
        ds_put_char(out, *s);
    }
    ds_put_char(out, '"');
}

static void
print_csv(const struct vsctl_out_table *t, const struct vsctl_table_style *s,
          struct ds *out)
{
    if (s->headings) {
        for (size_t c = 0; c < t->n_columns; c++) {
            if (c) {
                ds_put_char(out, ',');
            }
            put_csv_cell(out, t->headings[c]);
        }
        ds_put_char(out, '\n');
    }
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t c = 0; c < t->n_columns; c++) {
            char *txt = cell_text(cell_at(t, r, c), s);
            if (c) {
                ds_put_char(out, ',');
            }
            put_csv_cell(out, txt);
            free(txt);
        }
        ds_put_char(out, '\n');
    }
}

static void
print_json(const struct vsctl_out_table *t, const struct vsctl_table_style *s,
           struct ds *out)
{
    json_t *top = json_object();
    json_t *data = json_array();
    for (size_t r = 0; r < t->n_rows; r++) {
        json_t *row = json_array();
        for (size_t c = 0; c < t->n_columns; c++) {
            const struct cell *cl = cell_at(t, r, c);
            if (s->cell_format == VC_JSON) {
                json_array_append_new(row, vsctl_datum_to_json(
                                          &cl->datum, cl->type, NULL, NULL));
            } else {
                char *txt = cell_text(cl, s);
                json_array_append_new(row, json_string(txt));
                free(txt);
            }
        }
        json_array_append_new(data, row);
    }
    json_object_set_new(top, "data", data);
    json_t *headings = json_array();
    for (size_t c = 0; c < t->n_columns; c++) {
        json_array_append_new(headings, json_string(t->headings[c]));
    }
    json_object_set_new(top, "headings", headings);
    vsctl_json_to_ds(top, s->pretty, out);
    ds_put_char(out, '\n');
    json_decref(top);
}

void
vsctl_out_table_print(const struct vsctl_out_table *t,
                      const struct vsctl_table_style *s, struct ds *out)
{
    switch (s->format) {
    case VF_LIST: print_list(t, s, out); break;
    case VF_TABLE: print_table(t, s, out); break;
    case VF_HTML: print_html(t, s, out); break;
    case VF_CSV: print_csv(t, s, out); break;
    case VF_JSON: print_json(t, s, out); break;
    }
}
