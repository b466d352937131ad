/* test_net.c: host:port, listener and voters parsing tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "net.h"

static void test_hostport_table(void **state)
{
    static const struct {
        const char *s;
        int ok;
        const char *host;
        uint16_t port;
    } cases[] = {
        {"127.0.0.1:9092", 1, "127.0.0.1", 9092},
        {"localhost:1", 1, "localhost", 1},
        {"a.b-c_d:65535", 1, "a.b-c_d", 65535},
        {"127.0.0.1:0", 0, NULL, 0},
        {"127.0.0.1:65536", 0, NULL, 0},
        {"127.0.0.1:", 0, NULL, 0},
        {":9092", 0, NULL, 0},
        {"127.0.0.1", 0, NULL, 0},
        {"127.0.0.1:9x", 0, NULL, 0},
        {"127.0.0.1:-1", 0, NULL, 0},
        {"host name:1", 0, NULL, 0},
        {"", 0, NULL, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rf_hostport hp;
        int rv = rf_hostport_parse(cases[i].s, &hp);
        if (cases[i].ok) {
            assert_int_equal(rv, 0);
            assert_string_equal(hp.host, cases[i].host);
            assert_int_equal(hp.port, cases[i].port);
        } else if (rv == 0) {
            fail_msg("accepted '%s'", cases[i].s);
        }
    }
}

static void test_listener(void **state)
{
    char name[32];
    struct rf_hostport hp;
    (void)state;
    assert_int_equal(rf_listener_parse("CONTROLLER://127.0.0.1:9093", name, &hp), 0);
    assert_string_equal(name, "CONTROLLER");
    assert_int_equal(hp.port, 9093);
    assert_int_equal(rf_listener_parse("127.0.0.1:9092", name, &hp), 0);
    assert_string_equal(name, "PLAINTEXT");
    assert_true(rf_listener_parse("://127.0.0.1:1", name, &hp) < 0);
    assert_true(rf_listener_parse("A B://127.0.0.1:1", name, &hp) < 0);
}

static void test_lists(void **state)
{
    struct rf_hostport hps[3];
    struct rf_voter v[3];
    (void)state;
    assert_int_equal(rf_hostport_list_parse("a:1, b:2 ,c:3", hps, 3), 3);
    assert_string_equal(hps[1].host, "b");
    assert_int_equal(rf_hostport_list_parse("a:1,b:2,c:3,d:4", hps, 3), RF_ERANGE);
    assert_true(rf_hostport_list_parse("a:1,,b:2", hps, 3) < 0);
    assert_int_equal(rf_voters_parse("1@127.0.0.1:9093,2@127.0.0.1:9094", v, 3), 2);
    assert_int_equal(v[1].id, 2);
    assert_int_equal(v[1].hp.port, 9094);
    assert_int_equal(rf_voters_parse("1@localhost:9093", v, 3), RF_EPARSE);
    assert_int_equal(rf_voters_parse("1@127.0.0.1:1,1@127.0.0.1:2", v, 3), RF_EEXIST);
    assert_int_equal(rf_voters_parse("0@127.0.0.1:1", v, 3), RF_EPARSE);
    assert_int_equal(rf_voters_parse("x@127.0.0.1:1", v, 3), RF_EPARSE);
    assert_int_equal(rf_voters_parse("127.0.0.1:1", v, 3), RF_EPARSE);
    assert_int_equal(rf_voters_parse("", v, 3), RF_EPARSE);
    assert_true(rf_is_ipv4("10.0.0.1"));
    assert_false(rf_is_ipv4("10.0.0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostport_table),
        cmocka_unit_test(test_listener),
        cmocka_unit_test(test_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
