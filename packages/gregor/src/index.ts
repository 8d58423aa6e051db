/**
 * `gregor`: Kafka's core as a TypeScript library. `Gregor.open({ dir })` for an embedded broker
 * with in-process clients, `gregor.listen({ port })` to serve Kafka's wire protocol, and
 * `new Gregor.Client({ brokers })` for the same client API over TCP.
 *
 * Every error Gregor throws is one of the classes exported here: each has a stable string `code`
 * (Kafka's error name where Kafka has one: `UNKNOWN_TOPIC_OR_PARTITION`, `NOT_COORDINATOR`...)
 * and `retriable` (whether trying again may succeed).
 */
export { EMBEDDED_BROKER_DEFAULTS, Gregor, type GregorOptions, type GregorListenOptions } from './gregor.js';
export { GregorCluster, type GregorClusterOptions, type ClusterNodeConfig, type ControllerSettings, CLUSTER_NODE_DEFAULTS, CLUSTER_QUORUM_DEFAULTS } from './cluster.js';
export type { GregorNode } from './node/node.js';
export { DataDirLockedError, DataDirLockUnavailableError } from './data-dir-lock.js';
export {
  Client,
  CompressionTypes,
  type Producer,
  type Consumer,
  type Admin,
  type ProducerOptions,
  type ConsumerOptions,
  type Message,
  type RecordMetadata,
  msgpackSerializer,
  // The client's errors (kafkajs's names where kafkajs has one: KafkaJSError is KafkaClientError).
  KafkaClientError,
  KafkaJSError,
  KafkaProtocolError,
  KafkaConnectionError,
  RequestTimeoutError,
  RequestAbortedError,
  BufferFullError,
  RecordTooLargeError,
  NotConnectedError,
  RetriesExhaustedError,
  DeliveryTimeoutError,
  MetadataTimeoutError,
  UnsupportedApiError,
  MalformedPayloadError,
  DeleteGroupsError,
  isRetriable,
} from '@gregor/client';
export { BrokerError, BrokerConfigError } from '@gregor/broker';
export { ServerError, ServerStateError } from '@gregor/server';
export {
  LogError, LogCorruptionError, OffsetOutOfRangeError, InvalidRecordError, LogClosedError, CheckpointFormatError, FileSystemError,
} from '@gregor/log';
export { RecordsError, CorruptRecordError, DecompressedTooLargeError, UnsupportedCompressionError } from '@gregor/records';
export { ProtocolError, ProtocolDecodeError, FrameTooLargeError, UnsupportedVersionError } from '@gregor/protocol';
export { MemoryFileSystem, FakeClock, nodeFileSystem, systemClock } from '@gregor/log';
