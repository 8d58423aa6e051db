/**
 * What every piece of the controller's logic reads (the image it decides from, settings, time,
 * randomness, sessions) and what it returns (records plus a response), and the questions about an
 * image that several pieces ask. Kafka splits the same logic over its *ControlManager classes;
 * here each is a set of functions from a context to a result, with no state of their own.
 */
import type { MetadataImage, PartitionRegistration, TopicImage } from '../image.js';
import type { MetadataRecordInput } from '../records.js';
import type { BrokerHeartbeats } from './broker-heartbeats.js';
import type { ControllerConfig } from './config.js';
import type { ConfigValidator, Random } from './interfaces.js';

export interface ControlContext {
  /** The image with every record this controller appended applied, committed or not. */
  readonly image: MetadataImage;
  readonly config: ControllerConfig;
  readonly nowMs: number;
  readonly random: Random;
  readonly heartbeats: BrokerHeartbeats;
  readonly validator: ConfigValidator;
  /** The offset the first record of the batch being built will get. */
  readonly nextOffset: number;
}

/** Records to append as one atomic batch, and the response to send once they are committed. */
export interface ControllerResult<T> {
  records: MetadataRecordInput[];
  response: T;
}

export interface PartitionRef {
  topic: TopicImage;
  partitionId: number;
  registration: PartitionRegistration;
}

/** Kafka's ClusterControlManager.isActive: registered, unfenced and not in controlled shutdown. */
export function isActiveBroker(image: MetadataImage, brokerId: number): boolean {
  const broker = image.brokers.get(brokerId);
  return broker !== undefined && !broker.fenced && !broker.inControlledShutdown;
}

export function* allPartitions(image: MetadataImage): Generator<PartitionRef> {
  for (const topic of image.topicsById.values()) {
    for (const [partitionId, registration] of topic.partitions) yield { topic, partitionId, registration };
  }
}

export function* partitionsWithBrokerInIsr(image: MetadataImage, brokerId: number): Generator<PartitionRef> {
  for (const ref of allPartitions(image)) if (ref.registration.isr.includes(brokerId)) yield ref;
}

export function* partitionsWithoutLeader(image: MetadataImage): Generator<PartitionRef> {
  for (const ref of allPartitions(image)) if (ref.registration.leader < 0) yield ref;
}

export function hasLeaderships(image: MetadataImage, brokerId: number): boolean {
  for (const ref of allPartitions(image)) if (ref.registration.leader === brokerId) return true;
  return false;
}

const UNCLEAN_LEADER_ELECTION_ENABLE = 'unclean.leader.election.enable';

/**
 * A config the controller reads for a topic: the topic's own, else this controller node's dynamic
 * broker config, else the cluster-wide dynamic default; undefined leaves the static setting.
 */
function topicConfigValue(image: MetadataImage, config: ControllerConfig, topicName: string, name: string): string | undefined {
  return image.topicConfigs(topicName).get(name) ?? image.brokerConfigs(config.nodeId).get(name) ?? image.brokerConfigs('').get(name);
}

/**
 * `unclean.leader.election.enable` for a topic: the topic's own config, else this controller
 * node's dynamic config, else the cluster-wide dynamic default, else the static setting.
 */
export function isUncleanLeaderElectionEnabled(image: MetadataImage, config: ControllerConfig, topicName: string): boolean {
  const value = topicConfigValue(image, config, topicName, UNCLEAN_LEADER_ELECTION_ENABLE);
  // Java's Boolean.parseBoolean: "true" in any case is true, anything else false.
  return value === undefined ? config.uncleanLeaderElectionEnable : value.toLowerCase() === 'true';
}

/** The feature that turns eligible leader replicas on (KIP-966); its level is 1 when on. */
export const ELIGIBLE_LEADER_REPLICAS_FEATURE = 'eligible.leader.replicas.version';

export function isElrEnabled(image: MetadataImage): boolean {
  return (image.features.get(ELIGIBLE_LEADER_REPLICAS_FEATURE) ?? 0) >= 1;
}

const MIN_INSYNC_REPLICAS = 'min.insync.replicas';

/**
 * The ELR setting a partition change needs for a topic, or undefined when the cluster has no
 * ELR: `min.insync.replicas` (the topic's own config, else this controller node's dynamic
 * config, else the cluster-wide dynamic default, else the static setting), capped at the
 * partition's replication factor as Kafka's effective min ISR is.
 */
export function elrSettings(image: MetadataImage, config: ControllerConfig, topicName: string, registration: PartitionRegistration): { minIsr: number } | undefined {
  if (!isElrEnabled(image)) return undefined;
  const value = topicConfigValue(image, config, topicName, MIN_INSYNC_REPLICAS);
  const parsed = value === undefined ? Number.NaN : Number.parseInt(value, 10);
  const minIsr = Number.isInteger(parsed) && parsed >= 1 ? parsed : config.minInsyncReplicas;
  const replicationFactor = registration.replicas.length - registration.removingReplicas.length;
  return { minIsr: Math.max(1, Math.min(minIsr, replicationFactor)) };
}
