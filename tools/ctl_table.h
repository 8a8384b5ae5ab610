/*
 * ctl_table: the plain-text tables of hookpipectl (lag, replay, dlq list):
 * columns padded to their widest cell, numbers right-aligned. --json output
 * is built with jansson by each command instead.
 */
#ifndef CTL_TABLE_H
#define CTL_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CTL_TABLE_MAX_COLS 12

typedef struct ctl_table {
    size_t ncols;
    const char *titles[CTL_TABLE_MAX_COLS];
    bool right[CTL_TABLE_MAX_COLS]; /* right-aligned (numbers) */
    char **cells;                   /* nrows * ncols, owned */
    size_t nrows, cap;
} ctl_table;

/* Starts a table with the titles (NULL-terminated); a title starting with '>' is
 * right-aligned (the '>' is not printed). The strings are borrowed. */
void ctl_table_init(ctl_table *t, const char *const *titles);

/* Adds a row of t->ncols cells, each formatted with printf rules from one
 * string: pass already-formatted text. */
void ctl_table_row(ctl_table *t, const char *const *cells);

/* Prints the table to out. */
void ctl_table_print(const ctl_table *t, FILE *out);

void ctl_table_deinit(ctl_table *t);

#endif /* CTL_TABLE_H */
