/* checkpoint.h: small text checkpoint files (leader epochs, high watermark,
 * log start offset), written atomically and parsed with bounds. */
#ifndef RF_STORAGE_CHECKPOINT_H
#define RF_STORAGE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

/* File format (Kafka's checkpoint layout), all decimal, '\n' line ends:
 *   line 1: version, always 0
 *   line 2: number of entries n
 *   n lines: `width` signed 64-bit integers separated by one space
 * Example leader-epoch-checkpoint (width 2): "0\n2\n0 0\n3 1200\n". */
#define RF_CHECKPOINT_VERSION 0
#define RF_CHECKPOINT_MAX_BYTES (64 * 1024)
#define RF_CHECKPOINT_MAX_WIDTH 2

/* Parse buf[0..len) (borrowed, need not be NUL-terminated). At most
 * max_entries entries and RF_CHECKPOINT_MAX_BYTES bytes. On success *vals
 * is returned owned (free with rf_free(); NULL when n is 0) holding
 * n*width values. Errors: RF_EPARSE (bad syntax, version, count mismatch,
 * trailing garbage), RF_ETOOBIG (count or size over the limit). */
int rf_checkpoint_parse(const char *buf, size_t len, int width,
                        size_t max_entries, int64_t **vals, size_t *n);

/* Read and parse the file at path. RF_ENOENT when it does not exist; other
 * errors as rf_checkpoint_parse or RF_EIO, with errmsg set. */
int rf_checkpoint_read(const char *path, int width, size_t max_entries,
                       int64_t **vals, size_t *n, char *errmsg);

/* Write n entries atomically: path.tmp, fsync, rename over path, fsync the
 * directory. vals is borrowed. Errors RF_EIO/RF_ENOSPC with errmsg set. */
int rf_checkpoint_write(const char *path, int width, const int64_t *vals,
                        size_t n, char *errmsg);

/* fsync a directory (after creating, renaming or deleting in it). */
int rf_checkpoint_sync_dir(const char *dir, char *errmsg);

#endif
