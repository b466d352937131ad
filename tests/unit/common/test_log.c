/* test_log.c: errors table, errmsg prefixing, log escaping and levels,
 * clocks. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>

#include <cmocka.h>

#include "clock.h"
#include "err.h"
#include "log.h"

static void test_err_table(void **state)
{
    (void)state;
    assert_string_equal(rf_err_name(RF_ETRUNC), "ETRUNC");
    assert_string_equal(rf_strerror(RF_ETRUNC), "input truncated");
    assert_string_equal(rf_strerror(0), "success");
    assert_string_equal(rf_err_name(-9999), "EUNKNOWN");
    assert_int_equal(rf_err_from_errno(-ENOENT), RF_ENOENT);
    assert_int_equal(rf_err_from_errno(ENOSPC), RF_ENOSPC);
    assert_int_equal(rf_err_from_errno(ECONNREFUSED), RF_ECONNECT);
    assert_int_equal(rf_err_from_errno(EIO), RF_EIO);
}

static void test_errmsg_prefix(void **state)
{
    char e[RF_ERRMSG_SIZE] = "";
    (void)state;
    rf_errmsg_prefix(e, "empty");
    assert_string_equal(e, "empty");
    rf_errmsg_set(e, "open %s: %s", "0042.log", "EACCES");
    rf_errmsg_prefix(e, "load partition %s", "t-3");
    assert_string_equal(e, "load partition t-3: open 0042.log: EACCES");
}

static void test_escape(void **state)
{
    char out[16];
    (void)state;
    rf_log_escape(out, sizeof out, "ab\n\x01", 4);
    assert_string_equal(out, "ab\\x0a\\x01");
    rf_log_escape(out, sizeof out, "\\", 1);
    assert_string_equal(out, "\\x5c");
    /* truncated with an ellipsis, always NUL-terminated inside dst */
    rf_log_escape(out, sizeof out, "0123456789abcdefghij", 20);
    assert_true(strlen(out) < sizeof out);
    assert_non_null(strstr(out, "..."));
    rf_log_escape(out, 1, "abc", 3);
    assert_string_equal(out, "");
}

static void test_ids(void **state)
{
    static const int32_t ids[] = {1, 22, 333, -1, 2147483647};
    static const struct {
        size_t n, dstsz;
        const char *want;
    } cases[] = {
        {0, 16, ""},
        {1, 16, "1"},
        {3, 16, "1,22,333"},
        {4, 16, "1,22,333,-1"},
        {5, 16, "1,22,333,-1..."}, /* cut to fit, with the ellipsis */
        {5, 32, "1,22,333,-1,2147483647"},
        {3, 5, "1..."},
        {3, 4, "..."},
        {2, 1, ""},
    };
    char out[32];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(out, 'x', sizeof out);
        rf_log_ids(out, cases[i].dstsz, ids, cases[i].n);
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("case %zu: got '%s', want '%s'", i, out, cases[i].want);
        assert_true(strlen(out) < cases[i].dstsz);
    }
}

/* Held stop signals stay pending, and are delivered once released. */
static volatile sig_atomic_t got_term;
static void on_term(int sig)
{
    (void)sig;
    got_term++;
}

static void test_hold_stop_signals(void **state)
{
    sigset_t pending;
    (void)state;
    signal(SIGTERM, on_term);
    got_term = 0;
    rf_log_hold_stop_signals(true);
    raise(SIGTERM);
    assert_int_equal(got_term, 0);
    sigpending(&pending);
    assert_true(sigismember(&pending, SIGTERM));
    rf_log_hold_stop_signals(false);
    assert_int_equal(got_term, 1);
    signal(SIGTERM, SIG_DFL);
}

static void test_levels(void **state)
{
    int level;
    (void)state;
    assert_int_equal(rf_log_level_parse("debug", &level), 0);
    assert_int_equal(level, RF_LOG_DEBUG);
    assert_int_equal(rf_log_level_parse("loud", &level), RF_EINVAL);
    rf_log_set_level(RF_LOG_ERROR);
    RF_INFO("not printed %d", 1);
    rf_log_set_level(RF_LOG_INFO);
    rf_log_set_proc("test");
    RF_INFO("printed key=%s", "value");
}

static void test_clock(void **state)
{
    char ts[40];
    uint64_t a = rf_clock_mono_ns(), b = rf_clock_mono_ns();
    (void)state;
    assert_true(b >= a);
    assert_true(rf_clock_wall_ms() > 1700000000000LL);
    rf_clock_format_iso(0, ts, sizeof ts);
    assert_string_equal(ts, "1970-01-01T00:00:00.000Z");
    rf_clock_format_iso(1795474811123LL, ts, sizeof ts);
    assert_string_equal(ts, "2026-11-23T23:00:11.123Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_table),
        cmocka_unit_test(test_errmsg_prefix),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_hold_stop_signals),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
