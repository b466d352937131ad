/* main.c: riffle-controller entry point: parse args, load config, run. */
#include <stdio.h>
#include <string.h>

#include "node_conf.h"
#include "err.h"
#include "log.h"
#include "node.h"

static void usage(FILE *out)
{
    const struct rf_conf_opt *o;

    fprintf(out,
            "usage: riffle-controller --config FILE\n\n"
            "keys:\n");
    for (o = rf_node_conf_table; o->name != NULL; o++) {
        fprintf(out, "  %-42s %-8s %s\n", o->name,
                o->def != NULL ? o->def : "(req.)", o->doc);
    }
}

int main(int argc, char **argv)
{
    struct rf_node_conf conf;
    char errmsg[RF_ERRMSG_SIZE] = "";
    char proc[64];
    int code;

    const char *path = NULL;

    if (argc == 2 &&
        (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        return 0;
    }
    /* --config FILE; a lone FILE is accepted too. */
    if (argc == 3 && strcmp(argv[1], "--config") == 0)
        path = argv[2];
    else if (argc == 2 && argv[1][0] != '-')
        path = argv[1];
    if (path == NULL) {
        usage(stderr);
        return 64;
    }
    /* A stop requested while the node starts waits for its handlers
     * (start_services releases the signals). */
    rf_log_hold_stop_signals(true);
    if (rf_node_conf_load(&conf, path, NULL, errmsg) != 0) {
        fprintf(stderr, "riffle-controller: config: %s\n", errmsg);
        rf_node_conf_free(&conf);
        return 1;
    }
    snprintf(proc, sizeof(proc), "controller.%lld", (long long)conf.node_id);
    rf_log_set_proc(proc);
    rf_log_set_level(conf.log_level_num);
    RF_INFO("starting riffle-controller config=%s", path);
    rf_conf_log(rf_node_conf_table, &conf);
    code = rf_node_run(&conf, errmsg);
    if (code != 0) {
        RF_ERROR("riffle-controller: %s", errmsg); /* the one line */
    }
    rf_node_conf_free(&conf);
    return code;
}
