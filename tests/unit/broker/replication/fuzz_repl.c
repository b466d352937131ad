/* fuzz_repl.c: the replication RPC's checks on peer bytes: a ReplicaFetch
 * Envelope as the leader unpacks and checks it, and records as a follower
 * checks them before appending. */
#include <stddef.h>
#include <stdint.h>

#include "repl_int.h"
#include "rpc.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t next;
    const char *why;
    if (size < 1)
        return 0;
    if (data[0] & 1) {
        (void)rf__repl_check_records(data + 1, size - 1, 0, &next);
        return 0;
    }
    Riffle__Envelope *env = riffle__envelope__unpack(NULL, size - 1, data + 1);
    if (env == NULL)
        return 0;
    if (env->body_case == RIFFLE__ENVELOPE__BODY_REPLICA_FETCH_REQ)
        (void)rf__repl_check_request(env->replica_fetch_req, &why);
    riffle__envelope__free_unpacked(env, NULL);
    return 0;
}
