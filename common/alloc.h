/* alloc.h: allocation wrappers that abort on OOM. Safe only because every
 * externally supplied size is bounded before it reaches an allocation. */
#ifndef RF_ALLOC_H
#define RF_ALLOC_H

#include <stddef.h>

void *rf_malloc(size_t size);
void *rf_calloc(size_t nmemb, size_t size);
void *rf_realloc(void *ptr, size_t size);
char *rf_strdup(const char *s);
char *rf_strndup(const char *s, size_t n);
/* printf into a fresh string; returns owned, free with rf_free(). */
char *rf_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rf_free(void *ptr);

#endif
