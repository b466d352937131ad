/* table.c: column widths and padding for the CLI's text tables. */
#include "table.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"

void rf_table_init(struct rf_table *t, int ncols, const char *const *header)
{
    int i;

    memset(t, 0, sizeof(*t));
    t->ncols = ncols;
    for (i = 0; i < ncols; i++)
        rf_table_add(t, header[i]);
}

void rf_table_add(struct rf_table *t, const char *cell)
{
    if (t->ncells == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->cells = rf_realloc(t->cells, t->cap * sizeof(*t->cells));
    }
    t->cells[t->ncells++] = rf_strdup(cell ? cell : "");
}

void rf_table_addf(struct rf_table *t, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    rf_table_add(t, tmp);
}

void rf_table_render(const struct rf_table *t, struct rf_wr *wr)
{
    size_t ncols = (size_t)t->ncols;
    size_t rows = t->ncells / ncols;
    size_t *width = rf_calloc(ncols, sizeof(*width));
    size_t r, c, len, pad;

    for (r = 0; r < rows * ncols; r++) {
        len = strlen(t->cells[r]);
        if (len > width[r % ncols])
            width[r % ncols] = len;
    }
    for (r = 0; r < rows; r++) {
        size_t start = wr->len;
        for (c = 0; c < ncols; c++) {
            const char *cell = t->cells[r * ncols + c];
            len = strlen(cell);
            rf_wr_bytes(wr, cell, len);
            if (c + 1 == ncols)
                break;
            for (pad = len; pad < width[c] + 2; pad++)
                rf_wr_u8(wr, ' ');
        }
        while (wr->len > start && wr->base[wr->len - 1] == ' ')
            wr->len--; /* an empty last cell leaves padding behind */
        rf_wr_u8(wr, '\n');
    }
    rf_free(width);
}

void rf_table_free(struct rf_table *t)
{
    size_t i;

    for (i = 0; i < t->ncells; i++)
        rf_free(t->cells[i]);
    rf_free(t->cells);
    memset(t, 0, sizeof(*t));
}
