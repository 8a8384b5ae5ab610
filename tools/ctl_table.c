/*
 * ctl_table: plain-text tables. See ctl_table.h.
 */
#include "ctl_table.h"

#include "hp_alloc.h"

#include <stdlib.h>
#include <string.h>

void ctl_table_init(ctl_table *t, const char *const *titles)
{
    memset(t, 0, sizeof *t);
    for (; titles[t->ncols] && t->ncols < CTL_TABLE_MAX_COLS; t->ncols++) {
        const char *s = titles[t->ncols];
        t->right[t->ncols] = s[0] == '>';
        t->titles[t->ncols] = s[0] == '>' ? s + 1 : s;
    }
}

void ctl_table_row(ctl_table *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->cells = hp_xrealloc(t->cells, t->cap * t->ncols * sizeof *t->cells);
    }
    for (size_t c = 0; c < t->ncols; c++)
        t->cells[t->nrows * t->ncols + c] = hp_xstrdup(cells[c] ? cells[c] : "");
    t->nrows++;
}

static void print_row(const ctl_table *t, const char *const *cells, const size_t *width, FILE *out)
{
    for (size_t c = 0; c < t->ncols; c++) {
        int w = (int)width[c];
        if (c + 1 == t->ncols && !t->right[c])
            fprintf(out, "%s\n", cells[c]); /* no trailing blanks */
        else
            fprintf(out, t->right[c] ? "%*s%s" : "%-*s%s", w, cells[c],
                    c + 1 == t->ncols ? "\n" : "  ");
    }
}

void ctl_table_print(const ctl_table *t, FILE *out)
{
    size_t width[CTL_TABLE_MAX_COLS];
    for (size_t c = 0; c < t->ncols; c++) {
        width[c] = strlen(t->titles[c]);
        for (size_t r = 0; r < t->nrows; r++) {
            size_t l = strlen(t->cells[r * t->ncols + c]);
            if (l > width[c])
                width[c] = l;
        }
    }
    print_row(t, t->titles, width, out);
    for (size_t r = 0; r < t->nrows; r++)
        print_row(t, (const char *const *)&t->cells[r * t->ncols], width, out);
}

void ctl_table_deinit(ctl_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}
