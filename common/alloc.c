/* alloc.c: allocation wrappers that abort on OOM. */
#include "alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t size)
{
    fprintf(stderr, "riffle: out of memory allocating %zu bytes\n", size);
    abort();
}

void *rf_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        oom(size);
    return p;
}

void *rf_calloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (p == NULL)
        oom(nmemb * size);
    return p;
}

void *rf_realloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (p == NULL)
        oom(size);
    return p;
}

char *rf_strdup(const char *s)
{
    return rf_strndup(s, strlen(s));
}

char *rf_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = rf_malloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *rf_asprintf(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    p = rf_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void rf_free(void *ptr)
{
    free(ptr);
}
