/**
 * @gregor/client: Producer, Consumer and Admin with kafkajs's API, over a Transport that is
 * in-process (a broker's `handle`) or TCP (Kafka's wire protocol). Depends on @gregor/protocol
 * and @gregor/records only.
 */
export { murmur2, partitionForKey } from './murmur2.js';
export * from './partitioners.js';
export * from './assignors.js';
export * from './consumer-protocol.js';
export * from './errors.js';
export * from './values.js';
export * from './transport.js';
export { InProcessTransport, type InProcessTransportOptions } from './in-process-transport.js';
export { Cluster, type ClusterOptions, coordinatorBrokerId, type PartitionInfo, type TopicInfo } from './cluster.js';
export { type RetryOptions, RETRY_DEFAULTS } from './retry.js';
export { type Clock, type TimerHandle, systemClock } from './clock.js';
export { BufferMemory } from './buffer-memory.js';
export * from './producer.js';
export * from './consumer.js';
export { RecordSetCursor } from './fetched-records.js';
export { Admin, AlterConfigOpTypes, ConfigResourceTypes, ConfigSource, type ITopicConfig } from './admin.js';
export type { AlterableConfigResource, ConfigEntryDescription, ConfigResourceQuery, IncrementalConfigResource } from './admin-configs.js';
export type { AclEntry, AclFilter, ScramUpsertion } from './admin-security.js';
export { Client, type ClientOptions, createClient } from './client.js';
export { releaseResponse, TcpTransport, type TcpTransportOptions, type SaslCredentials } from './tcp-transport.js';
export { negotiateVersions, CLIENT_MAX_VERSION } from './api.js';
export { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP } from './offsets.js';
