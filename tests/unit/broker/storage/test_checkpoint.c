/* test_checkpoint.c: checkpoint parser tables and atomic writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "alloc.h"
#include "checkpoint.h"
#include "err.h"

struct row {
    const char *text;
    int width;
    size_t max;
    int rv;
    size_t n;
    int64_t v0, vlast;
};

static const struct row rows[] = {
    {"0\n0\n", 2, 10, 0, 0, 0, 0},
    {"0\n1\n42\n", 1, 10, 0, 1, 42, 42},
    {"0\n2\n0 0\n3 1200\n", 2, 10, 0, 2, 0, 1200},
    {"0\n1\n-9223372036854775808\n", 1, 10, 0, 1, INT64_MIN, INT64_MIN},
    {"0\n1\n9223372036854775807\n", 1, 10, 0, 1, INT64_MAX, INT64_MAX},
    {"0\n1\n9223372036854775808\n", 1, 10, RF_EPARSE, 0, 0, 0},
    {"0\n1\n00000000000000000000001\n", 1, 10, RF_EPARSE, 0, 0, 0},
    {"1\n0\n", 1, 10, RF_EPARSE, 0, 0, 0},           /* version */
    {"0\n-1\n", 1, 10, RF_EPARSE, 0, 0, 0},          /* count -1 */
    {"0\n11\n", 1, 10, RF_ETOOBIG, 0, 0, 0},         /* count > max */
    {"0\n5\n1\n", 1, 10, RF_EPARSE, 0, 0, 0},        /* count > lines */
    {"0\n2\n1\n", 1, 10, RF_EPARSE, 0, 0, 0},        /* missing line */
    {"0\n1\n1\n2\n", 1, 10, RF_EPARSE, 0, 0, 0},     /* trailing line */
    {"0\n1\n1 2\n", 1, 10, RF_EPARSE, 0, 0, 0},      /* too wide */
    {"0\n1\n1\n", 2, 10, RF_EPARSE, 0, 0, 0},        /* too narrow */
    {"0\n1\n1  2\n", 2, 10, RF_EPARSE, 0, 0, 0},     /* double space */
    {"0\n1\n1 x\n", 2, 10, RF_EPARSE, 0, 0, 0},
    {"0\n1\n-\n", 1, 10, RF_EPARSE, 0, 0, 0},
    {"0\n1\n5", 1, 10, RF_EPARSE, 0, 0, 0},          /* no newline */
    {"", 1, 10, RF_EPARSE, 0, 0, 0},
    {"0", 1, 10, RF_EPARSE, 0, 0, 0},
    {"0\n99999999999999999999999\n", 1, 10, RF_EPARSE, 0, 0, 0},
    {"0\n1000000\n", 1, 2000000, RF_EPARSE, 0, 0, 0}, /* count > bytes */
};

static void test_parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *r = &rows[i];
        int64_t *vals = NULL;
        size_t n = 99, len = strlen(r->text);
        /* Exact-size copy so ASan catches any read past the end. */
        char *buf = rf_malloc(len + 1);
        memcpy(buf, r->text, len);
        int rv = rf_checkpoint_parse(buf, len, r->width, r->max, &vals, &n);
        if (rv != r->rv) {
            rf_free(buf);
            rf_free(vals);
            fail_msg("row %zu: rv %d want %d", i, rv, r->rv);
        }
        if (rv == 0) {
            assert_int_equal(n, r->n);
            if (n > 0) {
                assert_true(vals[0] == r->v0);
                assert_true(vals[n * (size_t)r->width - 1] == r->vlast);
            }
        } else {
            assert_null(vals);
        }
        /* Every truncation of a valid text is rejected. */
        for (size_t cut = 0; rv == 0 && cut < len; cut++) {
            int64_t *v2 = NULL;
            size_t n2;
            assert_int_not_equal(rf_checkpoint_parse(buf, cut, r->width,
                                                     r->max, &v2, &n2), 0);
            assert_null(v2);
        }
        rf_free(vals);
        rf_free(buf);
    }
}

static void test_write_read(void **state)
{
    char dir[] = "/tmp/rf-ckpt-XXXXXX", path[64], errmsg[RF_ERRMSG_SIZE];
    int64_t in[6] = {0, 0, 3, 1200, 7, 99999999999LL}, *out = NULL;
    size_t n = 0;
    (void)state;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/leader-epoch-checkpoint", dir);
    assert_int_equal(rf_checkpoint_read(path, 2, 10, &out, &n, errmsg),
                     RF_ENOENT);
    assert_int_equal(rf_checkpoint_write(path, 2, in, 3, errmsg), 0);
    assert_int_equal(rf_checkpoint_read(path, 2, 10, &out, &n, errmsg), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(in, out, sizeof(in));
    rf_free(out);
    assert_int_equal(rf_checkpoint_read(path, 2, 2, &out, &n, errmsg),
                     RF_ETOOBIG);
    /* Overwrite: atomic replace, no .tmp left behind. */
    assert_int_equal(rf_checkpoint_write(path, 2, in, 1, errmsg), 0);
    assert_int_equal(rf_checkpoint_read(path, 2, 10, &out, &n, errmsg), 0);
    assert_int_equal(n, 1);
    rf_free(out);
    char tmp[80];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    assert_int_not_equal(access(tmp, F_OK), 0);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_write_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
