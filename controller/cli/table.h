/* table.h: aligned text tables for the riffle CLI (kubectl style: header row,
 * columns padded to the widest cell, two spaces apart). */
#ifndef RF_TABLE_H
#define RF_TABLE_H

#include <stddef.h>

#include "buf.h"

struct rf_table {
    int ncols;
    size_t ncells;
    size_t cap;
    char **cells; /* row-major, owned */
};

/* The header row's cells are borrowed (copied). */
void rf_table_init(struct rf_table *t, int ncols, const char *const *header);
/* Append one cell (borrowed, copied); rows wrap every ncols cells. */
void rf_table_add(struct rf_table *t, const char *cell);
void rf_table_addf(struct rf_table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Render every complete row into wr, one line each, no trailing spaces. */
void rf_table_render(const struct rf_table *t, struct rf_wr *wr);
void rf_table_free(struct rf_table *t);

#endif
