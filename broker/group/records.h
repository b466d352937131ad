/* records.h: offset commits as records of __consumer_offsets, in Kafka's
 * own layout: key version 1 (group, topic, partition), value version 3
 * (offset, leader epoch, metadata, commit timestamp); a null value is a
 * tombstone. Encoded as one uncompressed record batch (magic 2). */
#ifndef RF_GROUP_RECORDS_H
#define RF_GROUP_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* A string slice: points into the caller's data or, decoded, into the
 * batch bytes (not NUL-terminated). */
struct rf_group_str {
    const char *p;
    size_t n;
};

struct rf_group_rec {
    struct rf_group_str group, topic, metadata;
    int32_t partition;
    bool tombstone;      /* null value: the offset is deleted */
    int64_t offset;
    int32_t leader_epoch;
    int64_t commit_ts;
};

/* Append one batch holding recs[0..n) (n >= 1) to wr: base offset 0 (the
 * log assigns it), timestamps now_ms, CRC32C computed. Strings must fit
 * int16 lengths (callers bound them: group ids and topic names are short,
 * metadata <= 4096). */
void rf_group_rec_encode(struct rf_wr *wr, const struct rf_group_rec *recs,
                         size_t n, int64_t now_ms);

/* Called for each offset record; returns 0 to go on. rec points into the
 * batch. */
typedef int (*rf_group_rec_cb)(void *data, const struct rf_group_rec *rec);

/* Decode the batch at p[0..len) (len = the batch size, 12 + batchLength):
 * header, CRC, then every record, each bounded by its length. Records of
 * other kinds (group metadata, unknown versions) are skipped. Returns 0,
 * RF_ECORRUPT (malformed or bad CRC), RF_EUNSUPPORTED (compressed or
 * control batch: not ours, skipped by callers) or cb's non-zero result.
 * Reads p[0..len) only. */
int rf_group_rec_decode(const uint8_t *p, size_t len, rf_group_rec_cb cb,
                        void *data);

#endif
