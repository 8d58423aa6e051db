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
 * `unclean.leader.election.enable` for a topic: the topic's own config, else this controller
 * node's dynamic config, else the cluster-wide dynamic default, else the static setting.
 */
export function isUncleanLeaderElectionEnabled(image: MetadataImage, config: ControllerConfig, topicName: string): boolean {
  const value = image.topicConfigs(topicName).get(UNCLEAN_LEADER_ELECTION_ENABLE)
    ?? image.brokerConfigs(config.nodeId).get(UNCLEAN_LEADER_ELECTION_ENABLE)
    ?? image.brokerConfigs('').get(UNCLEAN_LEADER_ELECTION_ENABLE);
  // Java's Boolean.parseBoolean: "true" in any case is true, anything else false.
  return value === undefined ? config.uncleanLeaderElectionEnable : value.toLowerCase() === 'true';
}
