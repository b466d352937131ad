/* test_log.c: the partition log: append/read/index across rolls, timestamps,
 * truncation, retention, checkpoints and recovery from damaged files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "storage_fixture.h"

#define TS0 1700000000000LL

static int setup(void **state)
{
    struct fixture *f = fx_new();
    f->conf.segment_bytes = 4096;
    f->conf.index_interval_bytes = 256;
    f->conf.segment_ms = -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_free(*state);
    return 0;
}

/* Batch i has 1 + i%3 records, record timestamps TS0 + 10*i + r. */
static void append_many(struct fixture *f, int n)
{
    for (int i = 0; i < n; i++) {
        fx_append(f, 1 + i % 3, 40, TS0 + 10 * i, 1 + i / 50, TS0);
    }
}

/* Every offset reads back as the batch that contains it; budgets hold. */
static void check_reads(struct fixture *f)
{
    struct rf_batch_info info;
    struct rf_wr wr;
    int64_t start = rf_log_start_offset(f->log), end = rf_log_end_offset(f->log);

    rf_wr_init(&wr, 1024);
    for (int64_t o = start; o < end; o++) {
        rf_wr_reset(&wr);
        assert_int_equal(rf_log_read(f->log, o, 1, &wr, f->errmsg), 0);
        assert_int_equal(rf_batch_validate(wr.base, wr.len, 7, 1 << 20,
                                           RF_BATCH_F_FOLLOWER, &info),
                         RF_BATCH_OK);
        assert_int_equal(info.size, wr.len); /* budget 1: one whole batch */
        assert_true(info.base_offset <= o);
        assert_true(info.base_offset + info.last_offset_delta >= o);
        /* A larger budget: whole, contiguous batches within it. */
        rf_wr_reset(&wr);
        assert_int_equal(rf_log_read(f->log, o, 1000, &wr, f->errmsg), 0);
        assert_true(wr.len <= 1000 || wr.len == info.size);
        int64_t expect = info.base_offset;
        for (size_t off = 0; off < wr.len; off += info.size) {
            assert_int_equal(rf_batch_validate(wr.base + off, wr.len - off, 7,
                                               1 << 20, RF_BATCH_F_FOLLOWER,
                                               &info), RF_BATCH_OK);
            assert_int_equal(info.base_offset, expect);
            expect = info.base_offset + info.last_offset_delta + 1;
        }
    }
    rf_wr_reset(&wr);
    assert_int_equal(rf_log_read(f->log, end, 1000, &wr, f->errmsg), 0);
    assert_int_equal(wr.len, 0);
    assert_int_equal(rf_log_read(f->log, end + 1, 1000, &wr, f->errmsg),
                     RF_EOFFSET);
    if (start > 0) {
        assert_int_equal(rf_log_read(f->log, start - 1, 1000, &wr, f->errmsg),
                         RF_EOFFSET);
    }
    rf_wr_free(&wr);
}

static void test_append_read_roll(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(fx_open(f), 0);
    assert_int_equal(rf_log_end_offset(f->log), 0);
    append_many(f, 150);
    assert_int_equal(rf_log_end_offset(f->log), 300); /* 50 * (1+2+3) */
    assert_true(rf_log_segment_count(f->log) > 5);
    check_reads(f);
    /* Clean reopen: same log, no scan. */
    size_t nsegs = rf_log_segment_count(f->log);
    fx_close_log(f);
    assert_int_equal(fx_open(f), 0);
    assert_int_equal(rf_log_end_offset(f->log), 300);
    assert_int_equal(rf_log_segment_count(f->log), nsegs);
    check_reads(f);
    /* Appends continue after a reopen. */
    assert_int_equal(fx_append(f, 2, 10, TS0 + 5000, 9, TS0), 300);
    check_reads(f);
}

static void test_offsets_for_time(void **state)
{
    struct fixture *f = *state;
    int64_t off, ts;

    assert_int_equal(fx_open(f), 0);
    append_many(f, 150);
    for (int round = 0; round < 2; round++) {
        /* Batch i: offsets 2*i + (i%3 ...) are awkward; check by reading. */
        for (int i = 0; i < 150; i += 7) {
            int64_t want = TS0 + 10 * i + 1; /* second record, if any */
            assert_int_equal(rf_log_offset_for_time(f->log, want, &off, &ts,
                                                    f->errmsg), 0);
            /* Batches before i contribute (j%3)+1 records each. */
            int64_t base = 0;
            for (int j = 0; j < i; j++) {
                base += 1 + j % 3;
            }
            if (i % 3 == 0) { /* one record: next batch's first record */
                assert_int_equal(off, base + 1);
                assert_int_equal(ts, TS0 + 10 * (i + 1));
            } else {
                assert_int_equal(off, base + 1);
                assert_int_equal(ts, want);
            }
        }
        assert_int_equal(rf_log_offset_for_time(f->log, 0, &off, &ts,
                                                f->errmsg), 0);
        assert_int_equal(off, 0);
        assert_int_equal(rf_log_offset_for_time(f->log, TS0 + 99999, &off, &ts,
                                                f->errmsg), RF_ENOENT);
        fx_close_log(f); /* second round: older segments from files */
        assert_int_equal(fx_open(f), 0);
    }
}

static void test_truncate(void **state)
{
    struct fixture *f = *state;
    struct rf_wr wr;

    assert_int_equal(fx_open(f), 0);
    append_many(f, 150);
    assert_int_equal(rf_log_latest_epoch(f->log), 3);
    size_t nsegs = rf_log_segment_count(f->log);
    /* Offset 250 is inside batch 125 (offsets 250..251? batch 125 has
     * 1+125%3=3 records starting at 249): the whole batch goes. */
    assert_int_equal(rf_log_truncate(f->log, 250, f->errmsg), 0);
    assert_int_equal(rf_log_end_offset(f->log), 249);
    check_reads(f);
    /* Into an older segment: later segments are deleted. */
    assert_int_equal(rf_log_truncate(f->log, 40, f->errmsg), 0);
    assert_true(rf_log_end_offset(f->log) <= 40);
    assert_true(rf_log_end_offset(f->log) >= 37);
    assert_true(rf_log_segment_count(f->log) < nsegs);
    assert_int_equal(rf_log_latest_epoch(f->log), 1);
    check_reads(f);
    int64_t end = rf_log_end_offset(f->log);
    assert_int_equal(fx_append(f, 2, 10, TS0, 7, TS0), end);
    check_reads(f);
    fx_close_log(f);
    assert_int_equal(fx_open(f), 0);
    assert_int_equal(rf_log_end_offset(f->log), end + 2);
    assert_int_equal(rf_log_latest_epoch(f->log), 7);
    int32_t e;
    int64_t eo;
    assert_int_equal(rf_log_epoch_end_offset(f->log, 5, &e, &eo), 0);
    assert_int_equal(e, 1);
    assert_int_equal(eo, end);
    check_reads(f);
    /* Below the log start: emptied and restarted there. */
    assert_int_equal(rf_log_advance_start(f->log, 10, f->errmsg), 0);
    assert_int_equal(rf_log_truncate(f->log, 5, f->errmsg), 0);
    assert_int_equal(rf_log_end_offset(f->log), 5);
    assert_int_equal(rf_log_start_offset(f->log), 5);
    rf_wr_init(&wr, 64);
    assert_int_equal(rf_log_read(f->log, 5, 100, &wr, f->errmsg), 0);
    assert_int_equal(wr.len, 0);
    rf_wr_free(&wr);
    assert_int_equal(fx_append(f, 1, 10, TS0, 8, TS0), 5);
    check_reads(f);
}

static void test_retention_and_start(void **state)
{
    struct fixture *f = *state;

    f->conf.retention_bytes = 8000;
    f->conf.retention_ms = -1;
    assert_int_equal(fx_open(f), 0);
    append_many(f, 150);
    size_t nsegs = rf_log_segment_count(f->log);
    int deleted = rf_log_retain(f->log, TS0, f->errmsg);
    assert_true(deleted > 0);
    assert_int_equal(rf_log_segment_count(f->log), nsegs - (size_t)deleted);
    assert_true(rf_log_start_offset(f->log) > 0);
    check_reads(f);
    /* DeleteRecords inside a segment. */
    int64_t start = rf_log_start_offset(f->log) + 3;
    assert_int_equal(rf_log_advance_start(f->log, start, f->errmsg), 0);
    check_reads(f);
    assert_int_equal(rf_log_advance_start(f->log, 100000, f->errmsg),
                     RF_EOFFSET);
    fx_close_log(f);
    /* Time retention: everything but the active segment is old. */
    f->conf.retention_bytes = -1;
    f->conf.retention_ms = 1000;
    assert_int_equal(fx_open(f), 0);
    assert_int_equal(rf_log_start_offset(f->log), start);
    assert_int_equal(rf_log_retain(f->log, TS0, f->errmsg), 0);
    deleted = rf_log_retain(f->log, TS0 + 100000, f->errmsg);
    assert_true(deleted > 0);
    assert_int_equal(rf_log_segment_count(f->log), 1);
    check_reads(f);
}

/* Age is the incoming batch's timestamp minus the segment's first one (as
 * Kafka), not the wall clock: old CreateTime timestamps do not make a
 * segment per batch. */
static void test_roll_by_time(void **state)
{
    struct fixture *f = *state;

    f->conf.segment_ms = 1000;
    f->conf.segment_bytes = 1 << 20;
    assert_int_equal(fx_open(f), 0);
    fx_append(f, 1, 10, TS0, 0, TS0);
    fx_append(f, 1, 10, TS0 + 999, 0, TS0 + 999);
    assert_int_equal(rf_log_segment_count(f->log), 1);
    fx_append(f, 1, 10, TS0 + 1000, 0, TS0 + 1000);
    assert_int_equal(rf_log_segment_count(f->log), 2);
    check_reads(f);
    /* Old timestamps while the wall clock runs far ahead: no roll. */
    for (int i = 0; i < 10; i++) {
        fx_append(f, 1, 40, TS0 + 1500, 0, TS0 + 3600 * 1000);
    }
    assert_int_equal(rf_log_segment_count(f->log), 2);
    /* The age comes from the segment's first batch, also after a clean
     * reopen that starts from a later index entry. */
    fx_close_log(f);
    assert_int_equal(fx_open(f), 0);
    fx_append(f, 1, 10, TS0 + 1999, 0, TS0 + 1999);
    assert_int_equal(rf_log_segment_count(f->log), 2);
    fx_append(f, 1, 10, TS0 + 2000, 0, TS0 + 2000);
    assert_int_equal(rf_log_segment_count(f->log), 3);
    check_reads(f);
}

static void test_hwm_checkpoint(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(fx_open(f), 0);
    append_many(f, 10);
    assert_int_equal(rf_log_checkpoint_high_watermark(f->log, 7, f->errmsg), 0);
    assert_int_equal(rf_log_checkpoint_high_watermark(f->log, 1000, f->errmsg),
                     RF_ERANGE);
    fx_close_log(f);
    assert_int_equal(fx_open(f), 0);
    assert_int_equal(rf_log_high_watermark(f->log), 7);
}

static void test_log_append_time(void **state)
{
    struct fixture *f = *state;
    struct rf_test_batch_spec spec = {3, 10, TS0, 1, 0};
    struct rf_log_append_opts opts = {4, true, TS0 + 777};
    struct rf_log_append_result res;
    struct rf_batch_info info;
    struct rf_wr wr, out;

    assert_int_equal(fx_open(f), 0);
    rf_wr_init(&wr, 256);
    rf_wr_init(&out, 256);
    rf_test_build_batch(&wr, &spec);
    assert_int_equal(rf_log_append(f->log, wr.base, wr.len, &opts, &res,
                                   f->errmsg), 0);
    assert_int_equal(res.log_append_time, TS0 + 777);
    assert_int_equal(rf_log_read(f->log, 0, 100, &out, f->errmsg), 0);
    assert_int_equal(rf_batch_validate(out.base, out.len, 7, 1 << 20, 0,
                                       &info), RF_BATCH_OK);
    assert_int_equal(info.max_timestamp, TS0 + 777);
    assert_int_equal(info.leader_epoch, 4);
    /* Not one whole batch. */
    assert_int_equal(rf_log_append(f->log, wr.base, wr.len - 1, &opts, &res,
                                   f->errmsg), RF_EINVAL);
    rf_wr_free(&wr);
    rf_wr_free(&out);
}

static void test_replica_append(void **state)
{
    struct fixture *f = *state;
    struct rf_test_batch_spec spec = {2, 10, TS0, 1, 0};
    struct rf_wr wr;

    assert_int_equal(fx_open(f), 0);
    rf_wr_init(&wr, 256);
    size_t one = rf_test_build_batch(&wr, &spec);
    rf_test_build_batch(&wr, &spec);
    rf_batch_set_base_offset(wr.base + one, 2);
    rf_batch_set_leader_epoch(wr.base + one, 3);
    assert_int_equal(rf_log_append_replica(f->log, wr.base, wr.len,
                                           f->errmsg), 0);
    assert_int_equal(rf_log_end_offset(f->log), 4);
    assert_int_equal(rf_log_latest_epoch(f->log), 3);
    /* Not at the log end: refused. */
    assert_int_equal(rf_log_append_replica(f->log, wr.base, one,
                                           f->errmsg), RF_EOFFSET);
    wr.base[30] ^= 1; /* CRC no longer matches */
    rf_batch_set_base_offset(wr.base, 4);
    assert_int_equal(rf_log_append_replica(f->log, wr.base, one,
                                           f->errmsg), RF_EINVAL);
    rf_wr_free(&wr);
    check_reads(f);
}

/* A follower whose log ends below the leader's log start restarts empty at
 * that offset (above its own end) and appends from there, also after a
 * reopen. */
static void test_reset_above_end(void **state)
{
    struct fixture *f = *state;
    struct rf_test_batch_spec spec = {2, 10, TS0, 1, 0};
    struct rf_wr wr;

    assert_int_equal(fx_open(f), 0);
    fx_append(f, 3, 10, TS0, 0, TS0);
    assert_int_equal(rf_log_end_offset(f->log), 3);
    assert_int_equal(rf_log_reset(f->log, -1, f->errmsg), RF_EINVAL);
    assert_int_equal(rf_log_reset(f->log, 1000, f->errmsg), 0);
    assert_int_equal(rf_log_end_offset(f->log), 1000);
    assert_int_equal(rf_log_start_offset(f->log), 1000);
    rf_wr_init(&wr, 256);
    rf_test_build_batch(&wr, &spec);
    rf_batch_set_base_offset(wr.base, 1000);
    assert_int_equal(rf_log_append_replica(f->log, wr.base, wr.len,
                                           f->errmsg), 0);
    assert_int_equal(rf_log_end_offset(f->log), 1002);
    rf_wr_free(&wr);
    fx_close_log(f);
    assert_int_equal(fx_open(f), 0);
    assert_int_equal(rf_log_start_offset(f->log), 1000);
    assert_int_equal(rf_log_end_offset(f->log), 1002);
    check_reads(f);
}

/* --- recovery ------------------------------------------------------------ */

static void remove_marker(struct fixture *f)
{
    char path[256];
    fx_path(f, path, sizeof(path), ".clean_shutdown");
    assert_int_equal(unlink(path), 0);
}

static off_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

static void write_file(struct fixture *f, const char *name, const char *text)
{
    char path[256];
    fx_path(f, path, sizeof(path), name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* Damaged or hand-edited checkpoint files never carry a value outside the
 * log into it: offsets are clamped, bad epoch entries and what follows them
 * are dropped. Log of 12 records, offsets 0..11. */
static void test_bad_checkpoints(void **state)
{
    static const struct {
        const char *hwm, *start, *epochs;
        int64_t want_hwm, want_start;
        int32_t want_epoch; /* latest epoch kept, -1: none */
    } cases[] = {
        {"0\n1\n-5\n", "0\n1\n-7\n", "0\n1\n0 0\n", 0, 0, 0},
        {"0\n1\n99\n", "0\n1\n3\n", "0\n1\n-3 0\n", 12, 3, -1},
        {"0\n1\n2\n", "0\n1\n5\n", "0\n2\n1 0\n2 -4\n", 5, 5, 1},
        {"0\n1\n4\n", "0\n1\n50\n", "0\n2\n1 0\n3 13\n", 12, 12, 1},
        {"junk", "0\n1\n9223372036854775807\n", "0\n2\n2 0\n1 4\n", 12,
         12, 2},
        {"0\n1\n3\n", "0\n1\n-9223372036854775808\n", "0\n1\n4 -5\n", 3,
         0, -1},
    };
    struct fixture *f = *state;

    assert_int_equal(fx_open(f), 0);
    append_many(f, 6); /* 1 + 2 + 3 + 1 + 2 + 3 records */
    assert_int_equal(rf_log_end_offset(f->log), 12);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fx_close_log(f);
        remove_marker(f);
        write_file(f, "high-watermark", cases[i].hwm);
        write_file(f, "log-start-offset", cases[i].start);
        write_file(f, "leader-epoch-checkpoint", cases[i].epochs);
        assert_int_equal(fx_open(f), 0);
        if (rf_log_high_watermark(f->log) != cases[i].want_hwm ||
            rf_log_start_offset(f->log) != cases[i].want_start ||
            rf_log_latest_epoch(f->log) != cases[i].want_epoch)
            fail_msg("case %zu: hwm %lld start %lld epoch %d", i,
                     (long long)rf_log_high_watermark(f->log),
                     (long long)rf_log_start_offset(f->log),
                     (int)rf_log_latest_epoch(f->log));
        assert_int_equal(rf_log_end_offset(f->log), 12);
    }
}

static void test_recover_torn_tail(void **state)
{
    struct fixture *f = *state;
    char path[256];

    f->conf.segment_bytes = 1 << 20; /* one segment */
    assert_int_equal(fx_open(f), 0);
    append_many(f, 20);
    int64_t end = rf_log_end_offset(f->log);
    fx_close_log(f);
    remove_marker(f);
    fx_path(f, path, sizeof(path), "00000000000000000000.log");
    off_t size = file_size(path);
    /* Cut the last batch (3 records for i=19: 19%3=1 -> 2 records). */
    assert_int_equal(truncate(path, size - 10), 0);
    assert_int_equal(fx_open(f), 0);
    assert_int_equal(rf_log_end_offset(f->log), end - 2);
    check_reads(f);
    /* Random bytes over the tail. */
    fx_close_log(f);
    remove_marker(f);
    size = file_size(path);
    int fd = open(path, O_WRONLY);
    uint8_t junk[100];
    srand(7);
    for (size_t i = 0; i < sizeof(junk); i++) {
        junk[i] = (uint8_t)rand();
    }
    assert_int_equal(pwrite(fd, junk, sizeof(junk), size - 50), 100);
    close(fd);
    assert_int_equal(fx_open(f), 0);
    assert_true(rf_log_end_offset(f->log) < end - 2);
    assert_true(file_size(path) < size);
    check_reads(f);
}

static void test_recover_zeroed_index(void **state)
{
    struct fixture *f = *state;
    char path[256];

    assert_int_equal(fx_open(f), 0);
    append_many(f, 150);
    fx_close_log(f);
    /* Zero the offset index of the first (older) segment, keep its size. */
    fx_path(f, path, sizeof(path), "00000000000000000000.index");
    off_t size = file_size(path);
    assert_true(size > 0);
    int fd = open(path, O_WRONLY);
    uint8_t *zeros = rf_calloc(1, (size_t)size);
    assert_int_equal(pwrite(fd, zeros, (size_t)size, 0), size);
    close(fd);
    rf_free(zeros);
    assert_int_equal(fx_open(f), 0);
    check_reads(f);
    fx_close_log(f);
    /* Rebuilt at open: no zero entries remain. */
    fd = open(path, O_RDONLY);
    uint8_t e[8];
    assert_int_equal(pread(fd, e, 8, 0), 8);
    close(fd);
    assert_true(e[4] | e[5] | e[6] | e[7]);
    /* Garbage inside the index of the active segment after a crash. */
    assert_int_equal(fx_open(f), 0);
    check_reads(f);
}

/* A segment file over 4 GiB (never written by Riffle, which rolls at
 * 2 GiB) is refused at open, naming the file, and left as it is. */
static void test_oversized_segment(void **state)
{
    struct fixture *f = *state;
    char path[256];

    assert_int_equal(fx_open(f), 0);
    append_many(f, 3);
    fx_close_log(f);
    fx_path(f, path, sizeof(path), "00000000000000000000.log");
    off_t big = (off_t)5 << 30; /* sparse */
    assert_int_equal(truncate(path, big), 0);
    assert_int_equal(fx_open(f), RF_ECORRUPT);
    assert_null(f->log);
    assert_non_null(strstr(f->errmsg, "00000000000000000000.log"));
    assert_non_null(strstr(f->errmsg, "over the 4 GiB"));
    assert_true(file_size(path) == big);
}

static void test_corrupt_older_segment(void **state)
{
    struct fixture *f = *state;
    char path[256];
    struct rf_wr wr;
    const char *msg;

    assert_int_equal(fx_open(f), 0);
    append_many(f, 150);
    fx_close_log(f);
    /* Flip a byte in the middle of the first segment's data. */
    fx_path(f, path, sizeof(path), "00000000000000000000.log");
    int fd = open(path, O_RDWR);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, 2000), 1);
    b ^= 0x40;
    assert_int_equal(pwrite(fd, &b, 1, 2000), 1);
    close(fd);
    assert_int_equal(fx_open(f), 0);
    assert_int_equal(rf_log_state(f->log, &msg), 0);
    rf_wr_init(&wr, 1024);
    int rv = 0;
    for (int64_t o = 0; o < 100 && rv == 0; o++) {
        rv = rf_log_read(f->log, o, 1 << 20, &wr, f->errmsg);
    }
    assert_int_equal(rv, RF_ECORRUPT);
    assert_int_equal(rf_log_state(f->log, &msg), RF_ECORRUPT);
    assert_non_null(strstr(msg, "00000000000000000000.log"));
    /* Refuses everything from now on, with the reason. */
    assert_int_equal(rf_log_read(f->log, 200, 100, &wr, f->errmsg),
                     RF_ECORRUPT);
    assert_non_null(strstr(f->errmsg, "refuses"));
    rf_wr_free(&wr);
    fx_close_log(f);
    /* Without its index the damage is found at open. */
    fx_path(f, path, sizeof(path), "00000000000000000000.index");
    unlink(path);
    assert_int_equal(fx_open(f), 0);
    assert_int_equal(rf_log_state(f->log, &msg), RF_ECORRUPT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_read_roll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offsets_for_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_and_start, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_roll_by_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hwm_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_checkpoints, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_oversized_segment, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_log_append_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replica_append, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_above_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recover_torn_tail, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_recover_zeroed_index, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_older_segment, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
