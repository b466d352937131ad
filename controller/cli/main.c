/* main.c: the riffle admin CLI: parse arguments, run the command, map the
 * outcome to an exit code and one "riffle: <reason>" line on stderr. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "err.h"
#include "log.h"

/* Controller answers end up in errmsg: keep the one line one line. */
static void sanitize_line(char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            *s = '?';
    }
}

static int fail(char *errmsg, int code)
{
    sanitize_line(errmsg);
    fprintf(stderr, "riffle: %s\n", errmsg);
    return code;
}

int main(int argc, char **argv)
{
    static struct rf_cli_args args;
    char errmsg[RF_ERRMSG_SIZE] = "";
    int rv;

    signal(SIGPIPE, SIG_IGN);
    rf_log_set_proc("riffle");
    rv = rf_cli_parse(argc, argv, getenv("RIFFLE_CONTROLLERS"), &args, errmsg);
    if (args.help) {
        fputs(rf_cli_usage(args.help_for ? args.help_for : ""), stdout);
        return RF_CLI_EXIT_OK;
    }
    if (rv != 0)
        return fail(errmsg, RF_CLI_EXIT_USAGE);
    /* The RPC layer logs reconnects; a tool's stderr is for its one error
     * line unless --verbose. Below RF_LOG_ERROR silences everything. */
    if (args.verbose)
        rf_log_set_level(RF_LOG_DEBUG);
    else
        rf_log_set_level(RF_LOG_OFF);
    rv = rf_cli_run(&args, errmsg);
    if (rv != RF_CLI_EXIT_OK)
        return fail(errmsg, rv);
    return RF_CLI_EXIT_OK;
}
