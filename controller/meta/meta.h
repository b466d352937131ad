/* meta.h: the metadata image (the controller state machine) and the pure
 * controller logic that turns requests into metadata commands.
 *
 * Everything here is deterministic, in-memory and single-threaded: no raft,
 * no libuv, no clock reads (callers pass now_ms). The node (controller/node)
 * builds a command with one of the rf_meta_build_* functions against the
 * current image, submits the packed MetadataCommand through Raft, and every
 * controller applies the committed bytes with rf_meta_apply().
 *
 * Apply re-validates every record against the image at apply time (two
 * commands may have been built against the same state); a command with any
 * invalid record is rejected whole and leaves only its dedup entry. */
#ifndef RF_META_H
#define RF_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controller.pb-c.h"
#include "metadata.pb-c.h"
#include "uuid.h"

struct rf_meta_image; /* opaque */

/* Defaults the builders need (from the controller's config). */
struct rf_meta_defaults {
    int32_t num_partitions;          /* num.partitions */
    int32_t default_replication;     /* default.replication.factor */
    int32_t max_partitions_per_topic; /* bound on requests, e.g. 10000 */
    bool unclean_leader_election;    /* unclean.leader.election.enable */
};

struct rf_meta_image *rf_meta_image_new(void);
void rf_meta_image_free(struct rf_meta_image *img);

/* Last applied Raft index (the metadata offset); 0 for a new image. */
int64_t rf_meta_offset(const struct rf_meta_image *img);

/* Apply one committed Raft entry payload (a packed MetadataCommand; the
 * caller has already removed the 8-byte-padding framing). Never fails the
 * Raft apply: malformed bytes or invalid records reject the command and
 * return the riffle ErrorCode it got (RIFFLE__ERROR_CODE__NONE on success).
 * A request_id seen before returns its earlier result without applying
 * again. offset is the Raft index; it becomes rf_meta_offset(). */
int rf_meta_apply(struct rf_meta_image *img, int64_t offset,
                  const uint8_t *cmd, size_t len);
/* Advance the offset for a Raft entry that carries no command (barrier,
 * configuration change) so offsets stay equal to the Raft index. */
void rf_meta_advance(struct rf_meta_image *img, int64_t offset);

/* Result of an earlier request id, if it is still remembered (the dedup
 * table keeps at least the last 100,000 request ids). */
bool rf_meta_request_result(const struct rf_meta_image *img,
                            const uint8_t request_id[16], int *result,
                            int64_t *offset);

/* ---- snapshot ---- */

/* Pack the whole image (MetadataImage). returns owned bytes in *out
 * (free with rf_free). */
int rf_meta_snapshot(const struct rf_meta_image *img, uint8_t **out,
                     size_t *len);
/* Replace img's whole state with a packed MetadataImage; on failure img is
 * unchanged and a negative RF_E* is returned. */
int rf_meta_restore(struct rf_meta_image *img, const uint8_t *buf,
                    size_t len);
/* Stable hash of the image state (for tests comparing replicas). */
uint64_t rf_meta_hash(const struct rf_meta_image *img);

/* ---- history for FetchMetadata deltas ---- */

/* The image keeps the packed commands applied after the last restore, up to
 * a bounded amount (at least 8 MiB or 20,000 commands). Collect the deltas
 * after since_offset into resp (appending Riffle__MetadataDelta entries that
 * the caller frees with rf_meta_deltas_free). Returns 0, or RF_ERANGE when
 * since_offset is older than the history (send the full image instead). */
int rf_meta_deltas_since(const struct rf_meta_image *img, int64_t since_offset,
                         size_t max_bytes, Riffle__FetchMetadataResponse *resp);
void rf_meta_deltas_free(Riffle__FetchMetadataResponse *resp);
/* Fill resp->image with a full image (owned; rf_meta_deltas_free frees). */
int rf_meta_image_export(const struct rf_meta_image *img,
                         Riffle__FetchMetadataResponse *resp);

/* ---- queries (the node's RPC handlers and the broker's local image) ---- */

struct rf_meta_broker {
    int32_t id;
    int64_t epoch;
    Riffle__BrokerState state;
    struct rf_uuid incarnation;
    const char *rack; /* points into the image */
    size_t n_endpoints;
    Riffle__Endpoint **endpoints; /* point into the image */
};
struct rf_meta_partition {
    int32_t partition;
    int32_t leader;
    int32_t leader_epoch;
    int32_t partition_epoch;
    size_t n_replicas;
    const int32_t *replicas; /* point into the image */
    size_t n_isr;
    const int32_t *isr;
    size_t n_target; /* > 0 while reassigning (docs/reassign.md) */
    const int32_t *target;
};

size_t rf_meta_broker_count(const struct rf_meta_image *img);
/* i-th broker in id order; false past the end. */
bool rf_meta_broker_at(const struct rf_meta_image *img, size_t i,
                       struct rf_meta_broker *out);
bool rf_meta_broker_get(const struct rf_meta_image *img, int32_t id,
                        struct rf_meta_broker *out);
/* Controllers that registered their RPC endpoint. */
const Riffle__RegisterControllerRecord *
rf_meta_controller_get(const struct rf_meta_image *img, int32_t node_id);
size_t rf_meta_controller_count(const struct rf_meta_image *img);
const Riffle__RegisterControllerRecord *
rf_meta_controller_at(const struct rf_meta_image *img, size_t i);
/* Cluster id (zero until the first active controller wrote one). */
void rf_meta_cluster_id(const struct rf_meta_image *img, struct rf_uuid *out);

/* Fill the admin responses straight from the image (names: empty = all).
 * The response's own fields are owned by the caller afterwards: free with
 * rf_meta_response_free(&resp->base). */
void rf_meta_list_topics(const struct rf_meta_image *img,
                         bool include_internal,
                         Riffle__ListTopicsResponse *resp);
void rf_meta_describe_topics(const struct rf_meta_image *img,
                             const Riffle__DescribeTopicsRequest *req,
                             Riffle__DescribeTopicsResponse *resp);
/* Frees everything a rf_meta_* filler allocated inside a response message
 * (works for any message built by this module). */
void rf_meta_response_free(ProtobufCMessage *msg);

/* Number of partitions whose leader is broker_id. */
int32_t rf_meta_leaderships(const struct rf_meta_image *img, int32_t broker_id);
/* Of those, the ones that could move: another ISR member is unfenced (and
 * not in controlled shutdown). A broker in controlled shutdown may stop once
 * this is 0; partitions it alone can lead go offline, as in Kafka. */
int32_t rf_meta_movable_leaderships(const struct rf_meta_image *img,
                                    int32_t broker_id);

/* ---- builders: request -> command (pure; nothing applied) ----
 * Builders copy request_id from the request when it has one; the node
 * sets cmd->request_id / timestamp_ms for the others. validate_only
 * requests fill the results and return RF_ENOENT. Apply re-validates: a
 * command rejected because a concurrent change won (INVALID_UPDATE_VERSION,
 * INELIGIBLE_REPLICA) should be rebuilt and resubmitted with a new id.
 * Each fills *cmd (a MetadataCommand the caller packs, submits, then frees
 * with rf_meta_command_free) and per-item results into the response. A
 * builder that produces no records (everything failed validation) returns
 * RF_ENOENT so the caller answers at once without a Raft round trip. */

int rf_meta_build_create_topics(const struct rf_meta_image *img,
                                const struct rf_meta_defaults *defs,
                                const Riffle__CreateTopicsRequest *req,
                                Riffle__MetadataCommand *cmd,
                                Riffle__CreateTopicsResponse *resp);
int rf_meta_build_delete_topics(const struct rf_meta_image *img,
                                const Riffle__DeleteTopicsRequest *req,
                                Riffle__MetadataCommand *cmd,
                                Riffle__DeleteTopicsResponse *resp);
int rf_meta_build_create_partitions(const struct rf_meta_image *img,
                                    const struct rf_meta_defaults *defs,
                                    const Riffle__CreatePartitionsRequest *req,
                                    Riffle__MetadataCommand *cmd,
                                    Riffle__CreatePartitionsResponse *resp);
/* Registration: a new epoch; refused with DUPLICATE_BROKER while another
 * incarnation of the same id is unfenced and alive (alive_other says so).
 * Refusals set resp->status and return RF_ENOENT. The record carries epoch
 * 0: apply sets the epoch to the entry's Raft index, so the node fills
 * resp->broker_epoch after the apply (rf_meta_broker_get). If the previous
 * registration was not fenced, the command also moves its leaderships and
 * ISR memberships away, exactly as rf_meta_build_fence does. */
int rf_meta_build_register_broker(const struct rf_meta_image *img,
                                  const Riffle__RegisterBrokerRequest *req,
                                  bool alive_other,
                                  Riffle__MetadataCommand *cmd,
                                  Riffle__RegisterBrokerResponse *resp);
/* Fence a broker: BrokerRegistrationChange(FENCED) plus one
 * PartitionChange per partition it leads (new leader from the rest of the
 * ISR, never a fenced broker; no leader (-1) if none is eligible and
 * unclean election is off) and removal from every ISR it is in (keeping
 * the ISR non-empty, as Kafka does). RF_ENOENT if already fenced. */
int rf_meta_build_fence(const struct rf_meta_image *img,
                        const struct rf_meta_defaults *defs, int32_t broker_id,
                        Riffle__MetadataCommand *cmd);
/* Unfence a caught-up broker, and elect it leader for partitions that have
 * no leader and have it in their ISR. RF_ENOENT if nothing to do. */
int rf_meta_build_unfence(const struct rf_meta_image *img, int32_t broker_id,
                          Riffle__MetadataCommand *cmd);
/* Controlled shutdown: state CONTROLLED_SHUTDOWN and move every leadership
 * away to another unfenced ISR member. */
int rf_meta_build_controlled_shutdown(const struct rf_meta_image *img,
                                      int32_t broker_id,
                                      Riffle__MetadataCommand *cmd);
/* AlterPartition from a leader: reject (per partition) a non-leader,
 * a stale leader epoch (FENCED_LEADER_EPOCH), a stale partition epoch
 * (INVALID_UPDATE_VERSION), an ISR with non-replicas or fenced brokers
 * (INELIGIBLE_REPLICA). */
int rf_meta_build_alter_partition(const struct rf_meta_image *img,
                                  const Riffle__AlterPartitionRequest *req,
                                  Riffle__MetadataCommand *cmd,
                                  Riffle__AlterPartitionResponse *resp);
/* Preferred leader election: move leadership back to the first replica
 * where it is unfenced, in the ISR and not the leader. */
int rf_meta_build_preferred_leaders(const struct rf_meta_image *img,
                                    Riffle__MetadataCommand *cmd);
int rf_meta_build_register_controller(const struct rf_meta_image *img,
                                      const Riffle__RegisterControllerRequest *req,
                                      Riffle__MetadataCommand *cmd);
/* The cluster id record, if the image has none yet. */
int rf_meta_build_cluster_id(const struct rf_meta_image *img,
                             Riffle__MetadataCommand *cmd);
/* AlterReassignments (KIP-455): per item, the topic and partition exist
 * (UNKNOWN_TOPIC, UNKNOWN_PARTITION), the replica list is 1..64 distinct
 * registered broker ids and the partition is named once
 * (INVALID_REPLICA_ASSIGNMENT, INVALID_REQUEST). A valid item starts the
 * move: one PartitionChange with replicas = current followed by the new
 * target members, the target recorded, partition epoch + 1. A target equal
 * to the replicas of a partition that is not reassigning is a no-op
 * success; a partition already reassigning gets the new target (its
 * replicas keep everyone of the old move until completion). RF_ENOENT when
 * no record results. */
int rf_meta_build_reassign(const struct rf_meta_image *img,
                           const Riffle__AlterReassignmentsRequest *req,
                           Riffle__MetadataCommand *cmd,
                           Riffle__AlterReassignmentsResponse *resp);
/* Completion (active controller, periodically): every reassigning
 * partition whose target is a subset of its ISR gets replicas = target,
 * ISR = ISR restricted to the target, the current leader if it is in the
 * target else the first unfenced target member (leader epoch + 1), the
 * target cleared, partition epoch + 1. RF_ENOENT if none is ready. */
int rf_meta_build_reassign_complete(const struct rf_meta_image *img,
                                    Riffle__MetadataCommand *cmd);
/* Number of partitions with a reassignment in flight. */
size_t rf_meta_reassigning_count(const struct rf_meta_image *img);

/* Free what a builder allocated inside cmd (not cmd itself). */
void rf_meta_command_free(Riffle__MetadataCommand *cmd);

/* Kafka topic name rules: [a-zA-Z0-9._-]{1,249}, not "." or "..". */
bool rf_meta_topic_name_valid(const char *name);

/* ---- additions (controller/meta engineer) ---- */

struct rf_meta_topic {
    const char *name; /* points into the image */
    struct rf_uuid id;
    int32_t n_partitions;
    bool internal; /* name starts with "__" */
};
size_t rf_meta_topic_count(const struct rf_meta_image *img);
/* i-th topic in name order; false past the end. */
bool rf_meta_topic_at(const struct rf_meta_image *img, size_t i,
                      struct rf_meta_topic *out);
bool rf_meta_topic_get(const struct rf_meta_image *img, const char *name,
                       struct rf_meta_topic *out);
bool rf_meta_topic_get_by_id(const struct rf_meta_image *img,
                             const struct rf_uuid *id,
                             struct rf_meta_topic *out);
bool rf_meta_partition_get(const struct rf_meta_image *img,
                           const struct rf_uuid *topic_id, int32_t partition,
                           struct rf_meta_partition *out);
/* A topic config override, or NULL when unset; points into the image. */
const char *rf_meta_topic_config(const struct rf_meta_image *img,
                                 const char *topic, const char *name);
/* First producer id not yet handed out. */
int64_t rf_meta_next_producer_id(const struct rf_meta_image *img);
/* A block of block_size producer ids for a broker: *first_id is the first
 * id of the block once the command applies (ids [first, first+block)).
 * RF_ENOENT unknown broker, RF_ESTALE wrong epoch, RF_ERANGE overflow. */
int rf_meta_build_producer_ids(const struct rf_meta_image *img,
                               int32_t broker_id, int64_t broker_epoch,
                               int64_t block_size, Riffle__MetadataCommand *cmd,
                               int64_t *first_id);

#endif
