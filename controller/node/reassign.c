/* reassign.c: the active controller's side of partition reassignment:
 * completing every move whose target replicas have all joined the ISR.
 *
 * Happy path: the tick finds ready partitions (rf_meta_build_reassign_
 * complete), submits one command for all of them, and looks again once it
 * applied. The moves live in the metadata image, so a new active controller
 * picks them up on its first tick after a failover.
 *
 * Failure modes: a completion rejected at apply (a concurrent ISR or leader
 * change won: stale partition epoch) is simply rebuilt on a later tick
 * against the newer image; leadership lost mid-commit leaves the outcome to
 * the next active controller, which sees the move still pending or done. */
#include "err.h"
#include "log.h"
#include "node_int.h"

static void complete_done(struct rf_node *node,
                          void *data,
                          int status,
                          int result)
{
    (void)data;
    node->reassign_inflight = false;
    RF_INFO("reassignment completion status=%s result=%d",
            rf_err_name(status), result);
}

void rf__node_reassign_check(struct rf_node *node)
{
    Riffle__MetadataCommand cmd = RIFFLE__METADATA_COMMAND__INIT;
    int64_t off = rf_meta_offset(node->img);
    int rv;

    if (node->reassign_inflight || node->reassign_seen == off) {
        return; /* the image has not changed since the last empty check */
    }
    rv = rf_meta_build_reassign_complete(node->img, &cmd);
    if (rv == RF_ENOENT) {
        node->reassign_seen = off;
    } else if (rv == 0) {
        rf__node_log_partition_changes(node, &cmd, "reassignment complete");
        rv = rf__node_submit(node, &cmd, NULL, complete_done, NULL);
        if (rv == 0) {
            node->reassign_inflight = true;
        } else {
            RF_WARN("submit reassignment completion failed: %s",
                    rf_err_name(rv));
        }
    }
    rf_meta_command_free(&cmd);
}
