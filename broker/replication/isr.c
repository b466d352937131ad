/* isr.c: the leader's ISR maintenance: a periodic check removes followers
 * that have not caught up for replica.lag.time.max.ms and adds back
 * replicas whose durable offset reached the high watermark, with one
 * AlterPartition (every changed partition in one request) to the
 * controller. The new ISR takes effect when the metadata brings it back.
 *
 * Failure modes: a refused or failed AlterPartition is logged and the next
 * check tries again (the controller rejects stale epochs, so a retry after
 * a leadership change is harmless). At most one change per partition is in
 * flight. */
#include <inttypes.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "err.h"
#include "log.h"
#include "repl_int.h"
#include "uuid.h"

/* An AlterPartition in flight; repl is NULL once the module closed. */
struct rf__alter {
    struct rf__alter *next;
    struct rf_repl *repl;
    size_t n;
    struct {
        char *topic; /* owned */
        int32_t index;
    } parts[];
};

static bool in_isr(const struct rf_part *p, int32_t id)
{
    for (size_t i = 0; i < p->n_isr; i++)
        if (p->isr[i] == id)
            return true;
    return false;
}

static bool alter_pending(const struct rf_repl *repl, const struct rf_part *p)
{
    for (const struct rf__alter *a = repl->alters; a != NULL; a = a->next)
        for (size_t i = 0; i < a->n; i++)
            if (a->parts[i].index == p->index &&
                strcmp(a->parts[i].topic, p->topic) == 0)
                return true;
    return false;
}

/* Whether replica i of p belongs in the ISR now. */
static bool keep_or_add(const struct rf_repl *repl, const struct rf_part *p,
                        size_t i, uint64_t now)
{
    const struct rf_replica_state *rs = &p->rstate[i];
    bool fresh = now - rs->caught_up_ms <= repl->lag_max_ms;
    if (p->replicas[i] == repl->broker_id)
        return true;
    if (in_isr(p, p->replicas[i]))
        return fresh;
    /* Rejoin: caught up and everything below the HWM on its disk. */
    return fresh && rs->log_end >= 0 && rs->durable >= p->high_watermark;
}

/* The ISR p should have; returns its size in out (room for n_replicas). */
static size_t wanted_isr(const struct rf_repl *repl, const struct rf_part *p,
                         uint64_t now, int32_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n_replicas; i++)
        if (keep_or_add(repl, p, i, now))
            out[n++] = p->replicas[i];
    return n;
}

static bool same_set(const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        bool found = false;
        for (size_t j = 0; j < nb; j++)
            found |= a[i] == b[j];
        if (!found)
            return false;
    }
    return true;
}

struct batch {
    Riffle__AlterPartitionItem *items;
    Riffle__AlterPartitionItem **itemv;
    int32_t *isr; /* n_items * stride */
    size_t n, cap, stride;
};

static void batch_add(struct batch *b, const struct rf_part *p,
                      const int32_t *isr, size_t n_isr)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 16;
        b->items = rf_realloc(b->items, b->cap * sizeof(*b->items));
        b->itemv = rf_realloc(b->itemv, b->cap * sizeof(*b->itemv));
    }
    Riffle__AlterPartitionItem *it = &b->items[b->n];
    riffle__alter_partition_item__init(it);
    it->topic_id.data = (uint8_t *)p->topic_id.b;
    it->topic_id.len = sizeof(p->topic_id.b);
    it->partition = p->index;
    it->leader_epoch = p->leader_epoch;
    it->partition_epoch = p->partition_epoch;
    it->new_isr = rf_malloc((n_isr + 1) * sizeof(*isr));
    memcpy(it->new_isr, isr, n_isr * sizeof(*isr));
    it->n_new_isr = n_isr;
    b->n++;
}

static void on_altered(void *data, int status, const Riffle__Envelope *resp)
{
    struct rf__alter *a = data;
    struct rf_repl *repl = a->repl;
    if (repl != NULL) {
        const Riffle__Status *st = resp ? rf_ctlclient_status(resp) : NULL;
        if (status != 0 || (st != NULL && st->code != 0))
            RF_WARN("AlterPartition failed: %s",
                    status != 0 ? rf_strerror(status)
                                : (st->message ? st->message : "refused"));
        struct rf__alter **link = &repl->alters;
        while (*link != a)
            link = &(*link)->next;
        *link = a->next;
    }
    for (size_t i = 0; i < a->n; i++)
        rf_free(a->parts[i].topic);
    rf_free(a);
}

static void send_batch(struct rf_repl *repl, struct batch *b,
                       const struct rf_part *const *parts)
{
    Riffle__AlterPartitionRequest req = RIFFLE__ALTER_PARTITION_REQUEST__INIT;
    Riffle__Envelope env = RIFFLE__ENVELOPE__INIT;
    struct rf_uuid rid;
    struct rf__alter *a =
        rf_calloc(1, sizeof(*a) + b->n * sizeof(a->parts[0]));
    rf_uuid_generate(&rid);
    req.request_id.data = rid.b;
    req.request_id.len = sizeof(rid.b);
    req.broker_id = repl->broker_id;
    req.broker_epoch = rf_bmeta_epoch(repl->bm);
    req.n_partitions = b->n;
    for (size_t i = 0; i < b->n; i++) {
        b->itemv[i] = &b->items[i];
        a->parts[i].topic = rf_strdup(parts[i]->topic);
        a->parts[i].index = parts[i]->index;
    }
    req.partitions = b->itemv;
    a->n = b->n;
    a->repl = repl;
    env.body_case = RIFFLE__ENVELOPE__BODY_ALTER_PARTITION_REQ;
    env.alter_partition_req = &req;
    if (rf_ctlclient_call(rf_bmeta_client(repl->bm), &env, -1, 5000,
                          on_altered, a) != 0) {
        a->repl = NULL;
        on_altered(a, RF_ESHUTDOWN, NULL);
        return;
    }
    a->next = repl->alters;
    repl->alters = a;
}

static void check_part(struct rf_repl *repl, struct rf_part *p, uint64_t now,
                       struct batch *b, const struct rf_part ***parts)
{
    int32_t *isr;
    if (!p->is_leader || p->log == NULL || p->rstate == NULL ||
        p->n_replicas < 2 || alter_pending(repl, p))
        return;
    isr = rf_malloc(p->n_replicas * sizeof(*isr));
    size_t n = wanted_isr(repl, p, now, isr);
    if (!same_set(isr, n, p->isr, p->n_isr)) {
        RF_INFO("tp=%s-%" PRId32 ": ISR %zu -> %zu members (epoch %" PRId32
                ")",
                p->topic, p->index, p->n_isr, n, p->leader_epoch);
        batch_add(b, p, isr, n);
        *parts = rf_realloc(*parts, b->cap * sizeof(**parts));
        (*parts)[b->n - 1] = p;
    }
    rf_free(isr);
}

void rf__repl_isr_check(struct rf_repl *repl)
{
    struct batch b = {0};
    const struct rf_part **parts = NULL;
    const char *name;
    struct rf_part *const *v;
    size_t n;
    uint64_t now = rf_clock_mono_ms();
    if (rf_bmeta_epoch(repl->bm) <= 0 || repl->closing)
        return;
    for (size_t i = 0; rf_parts_topic_at(repl->ps, i, &name, &v, &n); i++)
        for (size_t j = 0; j < n; j++)
            check_part(repl, v[j], now, &b, &parts);
    if (b.n > 0)
        send_batch(repl, &b, parts);
    for (size_t i = 0; i < b.n; i++)
        rf_free(b.items[i].new_isr);
    rf_free(b.items);
    rf_free(b.itemv);
    rf_free(parts);
}

void rf__repl_isr_close(struct rf_repl *repl)
{
    for (struct rf__alter *a = repl->alters; a != NULL; a = a->next)
        a->repl = NULL;
    repl->alters = NULL;
}
