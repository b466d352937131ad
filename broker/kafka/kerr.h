/* kerr.h: Kafka protocol error codes (int16 ErrorCode on the wire), their
 * names and retriability, and the one mapping from RF_E* codes. */
#ifndef RF_KAFKA_KERR_H
#define RF_KAFKA_KERR_H

#include <stdbool.h>
#include <stdint.h>

/* code, name, retriable (as Apache Kafka's Errors.java classifies them). */
#define RF_KERR_TABLE(X)                                                     \
    X(-1, UNKNOWN_SERVER_ERROR, false)                                       \
    X(0, NONE, false)                                                        \
    X(1, OFFSET_OUT_OF_RANGE, false)                                         \
    X(2, CORRUPT_MESSAGE, true)                                              \
    X(3, UNKNOWN_TOPIC_OR_PARTITION, true)                                   \
    X(4, INVALID_FETCH_SIZE, false)                                          \
    X(5, LEADER_NOT_AVAILABLE, true)                                         \
    X(6, NOT_LEADER_OR_FOLLOWER, true)                                       \
    X(7, REQUEST_TIMED_OUT, true)                                            \
    X(8, BROKER_NOT_AVAILABLE, false)                                        \
    X(9, REPLICA_NOT_AVAILABLE, true)                                        \
    X(10, MESSAGE_TOO_LARGE, false)                                          \
    X(11, STALE_CONTROLLER_EPOCH, false)                                     \
    X(12, OFFSET_METADATA_TOO_LARGE, false)                                  \
    X(13, NETWORK_EXCEPTION, true)                                           \
    X(14, COORDINATOR_LOAD_IN_PROGRESS, true)                                \
    X(15, COORDINATOR_NOT_AVAILABLE, true)                                   \
    X(16, NOT_COORDINATOR, true)                                             \
    X(17, INVALID_TOPIC_EXCEPTION, false)                                    \
    X(18, RECORD_LIST_TOO_LARGE, false)                                      \
    X(19, NOT_ENOUGH_REPLICAS, true)                                         \
    X(20, NOT_ENOUGH_REPLICAS_AFTER_APPEND, true)                            \
    X(21, INVALID_REQUIRED_ACKS, false)                                      \
    X(22, ILLEGAL_GENERATION, false)                                         \
    X(23, INCONSISTENT_GROUP_PROTOCOL, false)                                \
    X(24, INVALID_GROUP_ID, false)                                           \
    X(25, UNKNOWN_MEMBER_ID, false)                                          \
    X(26, INVALID_SESSION_TIMEOUT, false)                                    \
    X(27, REBALANCE_IN_PROGRESS, false)                                      \
    X(28, INVALID_COMMIT_OFFSET_SIZE, false)                                 \
    X(29, TOPIC_AUTHORIZATION_FAILED, false)                                 \
    X(30, GROUP_AUTHORIZATION_FAILED, false)                                 \
    X(31, CLUSTER_AUTHORIZATION_FAILED, false)                               \
    X(32, INVALID_TIMESTAMP, false)                                          \
    X(33, UNSUPPORTED_SASL_MECHANISM, false)                                 \
    X(34, ILLEGAL_SASL_STATE, false)                                         \
    X(35, UNSUPPORTED_VERSION, false)                                        \
    X(36, TOPIC_ALREADY_EXISTS, false)                                       \
    X(37, INVALID_PARTITIONS, false)                                         \
    X(38, INVALID_REPLICATION_FACTOR, false)                                 \
    X(39, INVALID_REPLICA_ASSIGNMENT, false)                                 \
    X(40, INVALID_CONFIG, false)                                             \
    X(41, NOT_CONTROLLER, true)                                              \
    X(42, INVALID_REQUEST, false)                                            \
    X(43, UNSUPPORTED_FOR_MESSAGE_FORMAT, false)                             \
    X(44, POLICY_VIOLATION, false)                                           \
    X(45, OUT_OF_ORDER_SEQUENCE_NUMBER, false)                               \
    X(46, DUPLICATE_SEQUENCE_NUMBER, false)                                  \
    X(47, INVALID_PRODUCER_EPOCH, false)                                     \
    X(48, INVALID_TXN_STATE, false)                                          \
    X(49, INVALID_PRODUCER_ID_MAPPING, false)                                \
    X(50, INVALID_TRANSACTION_TIMEOUT, false)                                \
    X(51, CONCURRENT_TRANSACTIONS, true)                                     \
    X(52, TRANSACTION_COORDINATOR_FENCED, false)                             \
    X(53, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, false)                      \
    X(54, SECURITY_DISABLED, false)                                          \
    X(55, OPERATION_NOT_ATTEMPTED, false)                                    \
    X(56, KAFKA_STORAGE_ERROR, true)                                         \
    X(57, LOG_DIR_NOT_FOUND, false)                                          \
    X(58, SASL_AUTHENTICATION_FAILED, false)                                 \
    X(59, UNKNOWN_PRODUCER_ID, false)                                        \
    X(60, REASSIGNMENT_IN_PROGRESS, false)                                   \
    X(61, DELEGATION_TOKEN_AUTH_DISABLED, false)                             \
    X(62, DELEGATION_TOKEN_NOT_FOUND, false)                                 \
    X(63, DELEGATION_TOKEN_OWNER_MISMATCH, false)                            \
    X(64, DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, false)                       \
    X(65, DELEGATION_TOKEN_AUTHORIZATION_FAILED, false)                      \
    X(66, DELEGATION_TOKEN_EXPIRED, false)                                   \
    X(67, INVALID_PRINCIPAL_TYPE, false)                                     \
    X(68, NON_EMPTY_GROUP, false)                                            \
    X(69, GROUP_ID_NOT_FOUND, false)                                         \
    X(70, FETCH_SESSION_ID_NOT_FOUND, true)                                  \
    X(71, INVALID_FETCH_SESSION_EPOCH, true)                                 \
    X(72, LISTENER_NOT_FOUND, true)                                          \
    X(73, TOPIC_DELETION_DISABLED, false)                                    \
    X(74, FENCED_LEADER_EPOCH, true)                                         \
    X(75, UNKNOWN_LEADER_EPOCH, true)                                        \
    X(76, UNSUPPORTED_COMPRESSION_TYPE, false)                               \
    X(77, STALE_BROKER_EPOCH, false)                                         \
    X(78, OFFSET_NOT_AVAILABLE, true)                                        \
    X(79, MEMBER_ID_REQUIRED, false)                                         \
    X(80, PREFERRED_LEADER_NOT_AVAILABLE, true)                              \
    X(81, GROUP_MAX_SIZE_REACHED, false)                                     \
    X(82, FENCED_INSTANCE_ID, false)                                         \
    X(83, ELIGIBLE_LEADERS_NOT_AVAILABLE, true)                              \
    X(84, ELECTION_NOT_NEEDED, true)                                         \
    X(85, NO_REASSIGNMENT_IN_PROGRESS, false)                                \
    X(86, GROUP_SUBSCRIBED_TO_TOPIC, false)                                  \
    X(87, INVALID_RECORD, false)                                             \
    X(88, UNSTABLE_OFFSET_COMMIT, true)                                      \
    X(89, THROTTLING_QUOTA_EXCEEDED, true)                                   \
    X(90, PRODUCER_FENCED, false)                                            \
    X(91, RESOURCE_NOT_FOUND, false)                                         \
    X(92, DUPLICATE_RESOURCE, false)                                         \
    X(93, UNACCEPTABLE_CREDENTIAL, false)                                    \
    X(94, INCONSISTENT_VOTER_SET, false)                                     \
    X(95, INVALID_UPDATE_VERSION, false)                                     \
    X(96, FEATURE_UPDATE_FAILED, false)                                      \
    X(97, PRINCIPAL_DESERIALIZATION_FAILURE, false)                          \
    X(98, SNAPSHOT_NOT_FOUND, false)                                         \
    X(99, POSITION_OUT_OF_RANGE, false)                                      \
    X(100, UNKNOWN_TOPIC_ID, true)                                           \
    X(101, DUPLICATE_BROKER_REGISTRATION, false)                             \
    X(102, BROKER_ID_NOT_REGISTERED, false)                                  \
    X(103, INCONSISTENT_TOPIC_ID, true)                                      \
    X(104, INCONSISTENT_CLUSTER_ID, false)                                   \
    X(105, TRANSACTIONAL_ID_NOT_FOUND, false)                                \
    X(106, FETCH_SESSION_TOPIC_ID_ERROR, true)                               \
    X(107, INELIGIBLE_REPLICA, false)                                        \
    X(108, NEW_LEADER_ELECTED, false)

enum rf_kerr {
#define RF_KERR_ENUM(code, name, retriable) RF_KERR_##name = (code),
    RF_KERR_TABLE(RF_KERR_ENUM)
#undef RF_KERR_ENUM
};

/* "NOT_LEADER_OR_FOLLOWER" for 6; "UNKNOWN" for a code not in the table. */
const char *rf_kerr_name(int16_t code);

/* Whether clients may retry the request as is; false for unknown codes. */
bool rf_kerr_retriable(int16_t code);

/* True when code is in the table. */
bool rf_kerr_known(int16_t code);

/* The only mapping from an internal RF_E* code (0 or negative) to a Kafka
 * ErrorCode. Handlers may pick a more specific code where the protocol asks
 * for one (e.g. LEADER_NOT_AVAILABLE in Metadata); unknown codes map to
 * UNKNOWN_SERVER_ERROR. */
int16_t rf_err_to_kafka(int err);

#endif
