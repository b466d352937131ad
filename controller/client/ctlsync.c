/* ctlsync.c: blocking wrapper over rf_ctlclient for tools: a private uv loop
 * run until a batch of calls completes. */
#include "ctlclient.h"

#include <string.h>

#include "alloc.h"
#include "err.h"

struct rf_ctlsync {
    uv_loop_t loop;
    struct rf_ctlclient *cc;
};

struct sync_ctx {
    struct rf_ctlsync_op *op;
    int *pending;
};

int rf_ctlsync_open(const struct rf_hostport *eps,
                    int n,
                    const struct rf_ctlclient_opts *opts,
                    struct rf_ctlsync **out)
{
    struct rf_ctlsync *s = rf_calloc(1, sizeof(*s));
    int rv;

    if (uv_loop_init(&s->loop) != 0) {
        rf_free(s);
        return RF_EIO;
    }
    rv = rf_ctlclient_new(&s->loop, eps, n, opts, &s->cc);
    if (rv != 0) {
        uv_loop_close(&s->loop);
        rf_free(s);
        return rv;
    }
    *out = s;
    return 0;
}

struct rf_ctlclient *rf_ctlsync_client(struct rf_ctlsync *s)
{
    return s->cc;
}

/* Deep copy of a borrowed envelope: pack, then unpack into owned memory. */
static Riffle__Envelope *copy_envelope(const Riffle__Envelope *env)
{
    size_t len = riffle__envelope__get_packed_size(env);
    uint8_t *buf = rf_malloc(len ? len : 1);
    Riffle__Envelope *copy;

    riffle__envelope__pack(env, buf);
    copy = riffle__envelope__unpack(NULL, len, buf);
    rf_free(buf);
    return copy;
}

static void on_done(void *data, int status, const Riffle__Envelope *resp)
{
    struct sync_ctx *ctx = data;

    ctx->op->status = status;
    if (status == 0) {
        ctx->op->resp = copy_envelope(resp);
        if (ctx->op->resp == NULL)
            ctx->op->status = RF_ENOMEM;
    }
    (*ctx->pending)--;
}

int rf_ctlsync_run(struct rf_ctlsync *s,
                   struct rf_ctlsync_op *ops,
                   int n,
                   uint32_t deadline_ms)
{
    struct sync_ctx *ctx;
    int pending = 0;
    int i, rv;

    if (n < 1)
        return RF_EINVAL;
    ctx = rf_calloc((size_t)n, sizeof(*ctx));
    for (i = 0; i < n; i++) {
        ops[i].resp = NULL;
        ctx[i].op = &ops[i];
        ctx[i].pending = &pending;
        rv = rf_ctlclient_call(s->cc, ops[i].req, ops[i].target, deadline_ms,
                               on_done, &ctx[i]);
        ops[i].status = rv;
        if (rv == 0)
            pending++;
    }
    while (pending > 0)
        uv_run(&s->loop, UV_RUN_ONCE);
    rf_free(ctx);
    return 0;
}

int rf_ctlsync_call(struct rf_ctlsync *s,
                    const Riffle__Envelope *req,
                    uint32_t deadline_ms,
                    Riffle__Envelope **resp)
{
    struct rf_ctlsync_op op;

    memset(&op, 0, sizeof(op));
    op.req = req;
    op.target = -1;
    rf_ctlsync_run(s, &op, 1, deadline_ms);
    *resp = op.resp;
    return op.status;
}

void rf_ctlsync_close(struct rf_ctlsync *s)
{
    rf_ctlclient_close(s->cc, NULL, NULL);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    uv_loop_close(&s->loop);
    rf_free(s);
}
