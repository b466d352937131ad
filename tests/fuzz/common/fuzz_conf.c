/* fuzz_conf.c: the properties loader on arbitrary text never crashes, and a
 * successful load leaves every field inside its declared range. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "conf.h"
#include "err.h"

struct cfg {
    int64_t id;
    int64_t ms;
    bool flag;
    char *s;
};

static const struct rf_conf_opt opts[] = {
    {"node.id", RF_CONF_INT, "1", 1, 100, offsetof(struct cfg, id), NULL, ""},
    {"timeout.ms", RF_CONF_INT, "5", -5, 1000000, offsetof(struct cfg, ms), NULL, ""},
    {"flag", RF_CONF_BOOL, "false", 0, 0, offsetof(struct cfg, flag), NULL, ""},
    {"dir", RF_CONF_STRING, "/x", 0, 0, offsetof(struct cfg, s), NULL, ""},
    RF_CONF_END,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char errmsg[RF_ERRMSG_SIZE];
    struct cfg c;
    char *text = rf_strndup((const char *)data, size);
    memset(&c, 0, sizeof c);
    if (rf_conf_load_string(opts, &c, text, "fuzz", errmsg) == 0) {
        if (c.id < 1 || c.id > 100 || c.ms < -5 || c.ms > 1000000 ||
            c.s == NULL)
            abort();
    }
    rf_conf_free(opts, &c);
    rf_free(text);
    return 0;
}
