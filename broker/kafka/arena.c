/* arena.c: the per-request bump allocator (chunks, cap, in-place growth). */
#include "arena.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "alloc.h"

struct rf_arena_chunk {
    struct rf_arena_chunk *next;
    size_t size; /* usable bytes in data */
    size_t off;  /* bytes used */
    _Alignas(16) unsigned char data[];
};

#define ARENA_ALIGN 8u

static size_t align_up(size_t n)
{
    return (n + (ARENA_ALIGN - 1)) & ~(size_t)(ARENA_ALIGN - 1);
}

void rf_arena_init(struct rf_arena *arena, size_t chunk_size, size_t max_bytes)
{
    memset(arena, 0, sizeof(*arena));
    arena->chunk_size = chunk_size < 256 ? 256 : align_up(chunk_size);
    arena->max_bytes = max_bytes;
}

static void free_chunks(struct rf_arena_chunk *chunk)
{
    while (chunk != NULL) {
        struct rf_arena_chunk *next = chunk->next;
        rf_free(chunk);
        chunk = next;
    }
}

void rf_arena_close(struct rf_arena *arena)
{
    free_chunks(arena->head);
    arena->head = NULL;
    arena->used = 0;
    arena->last = NULL;
    arena->last_size = 0;
}

void rf_arena_reset(struct rf_arena *arena)
{
    struct rf_arena_chunk *first = arena->head;
    if (first == NULL) {
        return;
    }
    /* Keep the oldest chunk (the tail of the list): it has the default
     * size, while later ones may be oversized one-offs. */
    while (first->next != NULL) {
        struct rf_arena_chunk *next = first->next;
        rf_free(first);
        first = next;
    }
    first->off = 0;
    arena->head = first;
    arena->used = 0;
    arena->last = NULL;
    arena->last_size = 0;
}

static struct rf_arena_chunk *new_chunk(struct rf_arena *arena, size_t need)
{
    size_t size = need > arena->chunk_size ? need : arena->chunk_size;
    struct rf_arena_chunk *chunk = rf_malloc(sizeof(*chunk) + size);
    chunk->size = size;
    chunk->off = 0;
    chunk->next = arena->head;
    arena->head = chunk;
    return chunk;
}

static bool over_cap(const struct rf_arena *arena, size_t n)
{
    return arena->max_bytes != 0 &&
           (n > arena->max_bytes || arena->used > arena->max_bytes - n);
}

void *rf_arena_alloc(struct rf_arena *arena, size_t n)
{
    size_t need = align_up(n == 0 ? 1 : n);
    if (need < n || over_cap(arena, need)) {
        return NULL;
    }
    struct rf_arena_chunk *chunk = arena->head;
    if (chunk == NULL || chunk->size - chunk->off < need) {
        chunk = new_chunk(arena, need);
    }
    void *p = chunk->data + chunk->off;
    chunk->off += need;
    arena->used += need;
    memset(p, 0, need);
    arena->last = p;
    arena->last_size = need;
    return p;
}

void *rf_arena_realloc(struct rf_arena *arena, void *ptr, size_t old_n,
                       size_t new_n)
{
    if (ptr == NULL) {
        return rf_arena_alloc(arena, new_n);
    }
    if (new_n <= old_n) {
        return ptr;
    }
    struct rf_arena_chunk *chunk = arena->head;
    size_t need = align_up(new_n);
    if (need < new_n) {
        return NULL;
    }
    /* The latest allocation can grow in place when its chunk has room. */
    if (ptr == arena->last && chunk != NULL &&
        need - arena->last_size <= chunk->size - chunk->off) {
        size_t grow = need - arena->last_size;
        if (over_cap(arena, grow)) {
            return NULL;
        }
        memset(chunk->data + chunk->off, 0, grow);
        chunk->off += grow;
        arena->used += grow;
        arena->last_size = need;
        return ptr;
    }
    void *p = rf_arena_alloc(arena, new_n);
    if (p != NULL) {
        memcpy(p, ptr, old_n);
    }
    return p;
}
