/* arena.h: per-request bump allocator for decoded Kafka messages. */
#ifndef RF_KAFKA_ARENA_H
#define RF_KAFKA_ARENA_H

#include <stddef.h>

struct rf_arena_chunk;

/* All allocations of one request live here and die together at
 * rf_arena_reset(). max_bytes caps the total handed out, so a peer's
 * request can never make the arena grow past it. */
struct rf_arena {
    struct rf_arena_chunk *head; /* newest chunk first */
    size_t chunk_size;           /* default size of a fresh chunk */
    size_t used;                 /* bytes handed out since the last reset */
    size_t max_bytes;            /* 0 = no cap */
    void *last;                  /* latest allocation (grows in place) */
    size_t last_size;
};

/* chunk_size: size of the first chunk (rounded up to 256 bytes). max_bytes:
 * cap on the total handed out between resets; 0 means no cap. */
void rf_arena_init(struct rf_arena *arena, size_t chunk_size, size_t max_bytes);

/* Releases every chunk; tolerates a zeroed or already-closed arena. */
void rf_arena_close(struct rf_arena *arena);

/* Forgets every allocation; keeps the first chunk for the next request. */
void rf_arena_reset(struct rf_arena *arena);

/* Returns 8-byte aligned zeroed memory that points into the arena and lives
 * until the next reset, or NULL when the cap would be exceeded (never NULL
 * for OOM: that aborts). n == 0 returns a valid non-NULL pointer. */
void *rf_arena_alloc(struct rf_arena *arena, size_t n);

/* Grows ptr (an arena allocation of old_n bytes, or NULL) to new_n bytes,
 * in place when it is the latest allocation, else by copying. The new tail
 * is zeroed. NULL when the cap would be exceeded (ptr stays valid). */
void *rf_arena_realloc(struct rf_arena *arena, void *ptr, size_t old_n,
                       size_t new_n);

#endif
