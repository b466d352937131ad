/* batch.h: record-batch (magic v2) validator and in-place header rewrites. */
#ifndef RF_STORAGE_BATCH_H
#define RF_STORAGE_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fixed layout of a v2 batch header (shared/notes/kafka-protocol.md §6.1). */
#define RF_BATCH_HEADER_SIZE 61
#define RF_BATCH_LOG_OVERHEAD 12   /* baseOffset + batchLength */
#define RF_BATCH_MIN_LENGTH 49     /* batchLength of an empty batch */
#define RF_BATCH_OFF_LENGTH 8
#define RF_BATCH_OFF_EPOCH 12
#define RF_BATCH_OFF_MAGIC 16
#define RF_BATCH_OFF_CRC 17
#define RF_BATCH_OFF_ATTRIBUTES 21
#define RF_BATCH_OFF_LAST_DELTA 23
#define RF_BATCH_OFF_BASE_TS 27
#define RF_BATCH_OFF_MAX_TS 35
#define RF_BATCH_OFF_COUNT 57

#define RF_BATCH_ATTR_CODEC_MASK 0x07
#define RF_BATCH_ATTR_LOG_APPEND_TIME 0x08
#define RF_BATCH_ATTR_TRANSACTIONAL 0x10
#define RF_BATCH_ATTR_CONTROL 0x20

/* Validation result. The values ARE the Kafka ErrorCodes they map to, so
 * rf_batch_kafka_error() is the identity; keep it that way. */
enum rf_batch_result {
    RF_BATCH_OK = 0,
    RF_BATCH_CORRUPT_MESSAGE = 2,
    RF_BATCH_MESSAGE_TOO_LARGE = 10,
    RF_BATCH_UNSUPPORTED_COMPRESSION_TYPE = 76,
    RF_BATCH_INVALID_RECORD = 87,
};

/* Flags for rf_batch_validate(). */
#define RF_BATCH_F_FOLLOWER 0x1 /* replicated batch: offsets already assigned,
                                 * control bit allowed, trailing bytes allowed
                                 * (the caller walks the next batch at
                                 * info->size) */

/* What the front-end and replication need from a validated batch. */
struct rf_batch_info {
    size_t size;                /* 12 + batchLength: bytes of this batch */
    int64_t base_offset;        /* as stored in the batch */
    int32_t leader_epoch;       /* partitionLeaderEpoch */
    int16_t attributes;
    int codec;                  /* 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd */
    int32_t last_offset_delta;
    int32_t record_count;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    bool transactional;
    bool control;
};

/* Validate the record-batch bytes of one Produce partition entry (exactly
 * one batch, unless RF_BATCH_F_FOLLOWER). Pure: reads p[0..len) only, never
 * more. produce_version: the Produce request version (zstd needs >= 7).
 * max_message_bytes: the topic's max.message.bytes (batch size limit).
 * info: filled when the header could be read (always on RF_BATCH_OK).
 * Checks, in order: magic, header bounds, batchLength bounds, size limit,
 * trailing bytes, CRC32C, codec, control bit, offset delta vs record count,
 * producer fields, and a bounded walk of uncompressed records. */
enum rf_batch_result rf_batch_validate(const uint8_t *p, size_t len,
                                       int produce_version,
                                       int64_t max_message_bytes,
                                       unsigned flags,
                                       struct rf_batch_info *info);

/* The Kafka ErrorCode for a result (CORRUPT_MESSAGE=2 ...). */
int16_t rf_batch_kafka_error(enum rf_batch_result res);
/* "CORRUPT_MESSAGE" etc.; never NULL. */
const char *rf_batch_result_name(enum rf_batch_result res);

/* Header-only view used by the log and recovery: reads the fixed fields of
 * the batch at p (len >= RF_BATCH_HEADER_SIZE, else RF_ETRUNC) and checks
 * magic and that batchLength >= 49 and lastOffsetDelta >= 0 (RF_ECORRUPT).
 * It does not check that the whole batch fits; the caller bounds
 * info->size against what it has. */
int rf_batch_header(const uint8_t *p, size_t len, struct rf_batch_info *info);

/* CRC32C of bytes [21, size) compared with the stored crc: 0 or RF_ECORRUPT.
 * size must be the batch size and <= the bytes available at p. */
int rf_batch_check_crc(const uint8_t *p, size_t size);

/* In-place rewrites (no re-encoding). size is the validated batch size. */
void rf_batch_set_base_offset(uint8_t *p, int64_t base_offset);
void rf_batch_set_leader_epoch(uint8_t *p, int32_t epoch);
/* Set the LogAppendTime bit and maxTimestamp = ts, then recompute the CRC. */
void rf_batch_set_log_append_time(uint8_t *p, size_t size, int64_t ts);

/* Timestamp of the first record with timestamp >= ts in an uncompressed,
 * validated batch: *offset and *timestamp get it; RF_ENOENT when none;
 * RF_EUNSUPPORTED for compressed batches (the caller falls back to the batch
 * base offset and maxTimestamp). */
int rf_batch_find_timestamp(const uint8_t *p, size_t size, int64_t ts,
                            int64_t *offset, int64_t *timestamp);

#endif
