/* test_flush.c: group commit: waiters share fdatasyncs, callbacks on the loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "storage_fixture.h"

struct waiter {
    int calls;
    int status;
    int64_t durable;
};

static void on_flush(void *data, int status, int64_t durable)
{
    struct waiter *w = data;
    w->calls++;
    w->status = status;
    w->durable = durable;
}

static int setup(void **state)
{
    struct fixture *f = fx_new();
    f->conf.segment_bytes = 64 * 1024;
    *state = f;
    assert_int_equal(fx_open(f), 0);
    return 0;
}

static int teardown(void **state)
{
    fx_free(*state);
    return 0;
}

static void test_group_commit(void **state)
{
    struct fixture *f = *state;
    struct waiter w[100];
    unsigned long before = rf_flusher_syncs(f->fl);

    memset(w, 0, sizeof(w));
    assert_int_equal(rf_log_durable_offset(f->log), 0);
    /* 100 appends in one loop turn, each waiting for its own offset. */
    for (int i = 0; i < 100; i++) {
        int64_t base = fx_append(f, 2, 100, 1000, 1, 1000);
        assert_int_equal(rf_log_flush(f->log, base + 2, on_flush, &w[i]), 0);
        assert_int_equal(w[i].calls, 0); /* never from inside the call */
    }
    assert_true(rf_log_durable_offset(f->log) < 200);
    while (w[99].calls == 0) {
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    for (int i = 0; i < 100; i++) {
        assert_int_equal(w[i].calls, 1);
        assert_int_equal(w[i].status, 0);
        assert_true(w[i].durable >= 2 * (i + 1));
    }
    assert_int_equal(rf_log_durable_offset(f->log), 200);
    /* The first waiter started a sync of what existed then; the other 99
     * arrived meanwhile and shared a second one. */
    assert_int_equal(rf_flusher_syncs(f->fl) - before, 2);
}

static void test_already_durable_and_range(void **state)
{
    struct fixture *f = *state;
    struct waiter w = {0, 0, 0};

    fx_append(f, 1, 10, 1000, 1, 1000);
    assert_int_equal(rf_log_flush(f->log, 5, on_flush, &w), RF_ERANGE);
    assert_int_equal(rf_log_flush(f->log, 0, on_flush, &w), 0);
    assert_int_equal(w.calls, 0);
    while (w.calls == 0) {
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    assert_int_equal(w.status, 0);
}

static void test_flush_across_roll(void **state)
{
    struct fixture *f = *state;
    struct waiter w = {0, 0, 0};

    /* 64 KiB segments: 100 batches of ~2 KiB roll a few times. */
    for (int i = 0; i < 100; i++) {
        fx_append(f, 1, 2000, 1000, 1, 1000);
    }
    assert_true(rf_log_segment_count(f->log) > 2);
    assert_int_equal(rf_log_flush(f->log, 100, on_flush, &w), 0);
    while (w.calls == 0) {
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    assert_int_equal(w.status, 0);
    assert_int_equal(rf_log_durable_offset(f->log), 100);
}

static void test_truncate_cancels_waiters(void **state)
{
    struct fixture *f = *state;
    struct waiter w1 = {0, 0, 0}, w2 = {0, 0, 0};

    for (int i = 0; i < 10; i++) {
        fx_append(f, 1, 10, 1000, 1, 1000);
    }
    assert_int_equal(rf_log_flush(f->log, 3, on_flush, &w1), 0);
    assert_int_equal(rf_log_flush(f->log, 10, on_flush, &w2), 0);
    assert_int_equal(rf_log_truncate(f->log, 5, f->errmsg), 0);
    assert_int_equal(w2.calls, 1);
    assert_int_equal(w2.status, RF_ECANCELED);
    while (w1.calls == 0) {
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    assert_int_equal(w1.status, 0);
    /* The sync that ran across the truncation claims no more than 5. */
    assert_true(rf_log_durable_offset(f->log) <= 5);
}

static void test_close_cancels(void **state)
{
    struct fixture *f = *state;
    struct waiter w = {0, 0, 0};

    fx_append(f, 1, 10, 1000, 1, 1000);
    fx_append(f, 1, 10, 1000, 1, 1000);
    assert_int_equal(rf_log_flush(f->log, 1, on_flush, &w), 0);
    fx_close_log(f);
    assert_int_equal(w.calls, 1);
    assert_int_equal(w.status, RF_ECANCELED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_already_durable_and_range, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_flush_across_roll, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_truncate_cancels_waiters, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_close_cancels, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
