/* repl.c: the replication module's life cycle: the REPLICATION listener
 * (leader.c answers its calls) and the follower sessions (follower.c). */
#include "alloc.h"
#include "err.h"
#include "log.h"
#include "repl_int.h"

static void on_isr_timer(uv_timer_t *t)
{
    rf__repl_isr_check(t->data);
}

static void on_isr_timer_closed(uv_handle_t *h)
{
    rf_free(h);
}

int rf_repl_start(uv_loop_t *loop, struct rf_parts *ps, struct rf_bmeta *bm,
                  const struct rf_repl_opts *opts, struct rf_repl **out,
                  char *errmsg)
{
    struct rf_rpc_server_opts so = {0};
    struct rf_repl *repl = rf_calloc(1, sizeof(*repl));
    repl->loop = loop;
    repl->ps = ps;
    repl->bm = bm;
    repl->broker_id = opts->broker_id;
    repl->max_wait_ms = opts->max_wait_ms ? opts->max_wait_ms : 500;
    if (repl->max_wait_ms > RF_REPL_MAX_WAIT_MS)
        repl->max_wait_ms = RF_REPL_MAX_WAIT_MS;
    repl->max_bytes = opts->max_bytes ? opts->max_bytes : 1024u * 1024u;
    repl->lag_max_ms =
        opts->replica_lag_time_max_ms ? opts->replica_lag_time_max_ms : 30000;
    int rv = rf_rpc_server_start(loop, opts->host, opts->port, &so,
                                 rf__repl_on_call, repl, &repl->srv, errmsg);
    if (rv != 0) {
        rf_errmsg_prefix(errmsg, "replication listener");
        rf_free(repl);
        return rv;
    }
    RF_INFO("replication listener on %s:%u", opts->host,
            (unsigned)rf_rpc_server_port(repl->srv));
    /* Check the ISR four times per lag period (at least every 50 ms). */
    uint64_t every = repl->lag_max_ms / 4 > 50 ? repl->lag_max_ms / 4 : 50;
    repl->isr_timer = rf_malloc(sizeof(*repl->isr_timer));
    uv_timer_init(loop, repl->isr_timer);
    repl->isr_timer->data = repl;
    uv_timer_start(repl->isr_timer, on_isr_timer, every, every);
    *out = repl;
    return 0;
}

uint16_t rf_repl_port(const struct rf_repl *repl)
{
    return rf_rpc_server_port(repl->srv);
}

void rf_repl_sync(struct rf_repl *repl, const struct rf_meta_image *img)
{
    if (!repl->closing)
        rf__repl_sessions_sync(repl, img);
}

void rf_repl_close(struct rf_repl *repl)
{
    if (repl == NULL)
        return;
    repl->closing = true;
    rf__repl_holds_close(repl);
    rf__repl_isr_close(repl);
    uv_close((uv_handle_t *)repl->isr_timer, on_isr_timer_closed);
    rf_rpc_server_close(repl->srv, NULL, NULL);
    rf__repl_sessions_close(repl);
    rf_free(repl);
}
