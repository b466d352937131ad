/* test_deploy_examples.c: every example configuration shipped in
 * deploy/examples/ loads with riffle-controller's and riffle-broker's own
 * option tables and checks, and they agree with each other (brokers point
 * at the controllers' RPC listeners, controllers list the same voters). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "err.h"
#include "node_conf.h"

static void test_three_machines(void **state)
{
    char path[512], errmsg[RF_ERRMSG_SIZE];
    char rpc[3][64];
    (void)state;
    for (int i = 1; i <= 3; i++) {
        struct rf_node_conf c;
        snprintf(path, sizeof path, "%s/controller-%d.properties",
                 RF_EXAMPLES_DIR, i);
        if (rf_node_conf_load(&c, path, NULL, errmsg) != 0)
            fail_msg("%s", errmsg);
        assert_int_equal(c.node_id, i);
        assert_int_equal(c.n_voters, 3);
        snprintf(rpc[i - 1], sizeof rpc[0], "%s:%u", c.rpc.host, c.rpc.port);
        rf_node_conf_free(&c);
    }
    for (int i = 1; i <= 3; i++) {
        struct rf_broker_conf b;
        snprintf(path, sizeof path, "%s/broker-%d.properties", RF_EXAMPLES_DIR,
                 i);
        if (rf_broker_conf_load(&b, path, NULL, errmsg) != 0)
            fail_msg("%s", errmsg);
        assert_int_equal(b.node_id, i);
        assert_int_equal(b.n_controllers, 3);
        for (int k = 0; k < 3; k++) {
            char ep[64];
            snprintf(ep, sizeof ep, "%s:%u", b.controllers[k].host,
                     b.controllers[k].port);
            assert_string_equal(ep, rpc[k]);
        }
        assert_true(b.repl.port != 0);
        rf_broker_conf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_machines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
