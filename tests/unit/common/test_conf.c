/* test_conf.c: properties loader, option table validation, file:line errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "err.h"

struct cfg {
    int64_t node_id;
    int64_t timeout_ms;
    bool enable;
    char *dir;
    char *voters;
};

static int validate_no_spaces(const char *value, char *errmsg)
{
    if (strchr(value, ' ') != NULL) {
        rf_errmsg_set(errmsg, "must not contain spaces");
        return RF_ECONFIG;
    }
    return 0;
}

static const struct rf_conf_opt opts[] = {
    {"node.id", RF_CONF_INT, NULL, 1, 1000, offsetof(struct cfg, node_id),
     NULL, "required"},
    {"timeout.ms", RF_CONF_INT, "1000", 10, 60000,
     offsetof(struct cfg, timeout_ms), NULL, "a timeout"},
    {"feature.enable", RF_CONF_BOOL, "true", 0, 0,
     offsetof(struct cfg, enable), NULL, "a flag"},
    {"log.dir", RF_CONF_STRING, "/tmp/x", 0, 0, offsetof(struct cfg, dir),
     validate_no_spaces, "a dir"},
    {"voters", RF_CONF_STRING, "", 0, 0, offsetof(struct cfg, voters), NULL,
     "a list"},
    RF_CONF_END,
};

struct conf_case {
    const char *text;
    int rv;
    const char *errsub; /* substring expected in errmsg */
};

static const struct conf_case cases[] = {
    {"node.id=3\n", 0, NULL},
    {"# comment\n! other\n\n  node.id = 3  \n", 0, NULL},
    {"node.id: 3\n", 0, NULL},
    {"node.id 3\n", 0, NULL},
    {"node.id=3\ntimeout.ms=\\\n  2000\n", 0, NULL},
    {"timeout.ms=100\n", RF_ECONFIG, "required key 'node.id' is missing"},
    {"node.id=3\nbogus.key=1\n", RF_ECONFIG, "t.properties:2: unknown key 'bogus.key'"},
    {"node.id=abc\n", RF_ECONFIG, "t.properties:1: node.id: 'abc' is not an integer"},
    {"node.id=3x\n", RF_ECONFIG, "is not an integer"},
    {"node.id=\n", RF_ECONFIG, "empty value"},
    {"node.id=0\n", RF_ECONFIG, "out of range [1, 1000]"},
    {"node.id=99999999999999999999\n", RF_ECONFIG, "is not an integer"},
    {"node.id=1\nfeature.enable=yes\n", RF_ECONFIG, "t.properties:2: feature.enable: 'yes' is not true or false"},
    {"node.id=1\n\n\nlog.dir=/a b\n", RF_ECONFIG, "t.properties:4: log.dir: must not contain spaces"},
    {"node.id=1\njunkline\n", RF_ECONFIG, "t.properties:2: expected key=value"},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cfg c;
        char errmsg[RF_ERRMSG_SIZE] = "";
        int rv;
        memset(&c, 0x5a, sizeof c); /* garbage: the loader must set it all */
        rv = rf_conf_load_string(opts, &c, cases[i].text, "t.properties",
                                 errmsg);
        if (rv != cases[i].rv || (cases[i].errsub &&
                                  strstr(errmsg, cases[i].errsub) == NULL)) {
            fail_msg("case %zu: rv=%d errmsg='%s'", i, rv, errmsg);
        }
        rf_conf_free(opts, &c);
    }
}

static void test_values_and_defaults(void **state)
{
    struct cfg c;
    char errmsg[RF_ERRMSG_SIZE];
    (void)state;
    assert_int_equal(rf_conf_load_string(opts, &c,
                                         "node.id=7\nfeature.enable=false\n"
                                         "log.dir=/var/lib/x\nvoters=1@a:1,\\\n"
                                         "   2@b:2\n",
                                         "t", errmsg),
                     0);
    assert_int_equal(c.node_id, 7);
    assert_int_equal(c.timeout_ms, 1000);
    assert_false(c.enable);
    assert_string_equal(c.dir, "/var/lib/x");
    assert_string_equal(c.voters, "1@a:1,2@b:2");
    /* a later key overrides */
    assert_int_equal(rf_conf_set(opts, &c, "log.dir", "/y", errmsg), 0);
    assert_string_equal(c.dir, "/y");
    assert_int_equal(rf_conf_set(opts, &c, "nope", "1", errmsg), RF_ENOENT);
    rf_conf_free(opts, &c);
    assert_null(c.dir);
}

static void test_file(void **state)
{
    char path[] = "/tmp/rf_conf_test_XXXXXX";
    int fd = mkstemp(path);
    struct cfg c;
    char errmsg[RF_ERRMSG_SIZE];
    FILE *f;
    (void)state;
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fputs("node.id=2\ntimeout.ms=70000\n", f);
    fclose(f);
    assert_int_equal(rf_conf_load(opts, &c, path, errmsg), RF_ECONFIG);
    assert_non_null(strstr(errmsg, ":2: timeout.ms: 70000 is out of range"));
    assert_non_null(strstr(errmsg, path));
    rf_conf_free(opts, &c);
    unlink(path);
    assert_int_equal(rf_conf_load(opts, &c, "/nonexistent/x.properties",
                                  errmsg),
                     RF_ECONFIG);
    assert_non_null(strstr(errmsg, "cannot open"));
    rf_conf_free(opts, &c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_values_and_defaults),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
