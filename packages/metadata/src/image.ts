/**
 * The metadata image: everything the cluster agreed on, as of one offset of `__cluster_metadata`
 * (Kafka's MetadataImage). Brokers with their registrations and fencing, topics with their ids and
 * partitions (replicas, ISR, leader, leader epoch, partition epoch), configs, the next producer id
 * block, ACLs, SCRAM credentials and client quotas. Every broker builds the same image by applying
 * the committed records in order (see delta.ts); the active controller builds one from every
 * record it has appended.
 *
 * Images are immutable: a MetadataDelta produces a new image sharing whatever did not change, so a
 * reader may hold an image while newer ones are built. Single-threaded like everything here.
 */
import { ConfigResourceType, type MetadataRecordInput } from './records.js';

export interface Endpoint {
  /** The listener name (`PLAINTEXT`, `CONTROLLER`, ...). */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Kafka's SecurityProtocol id: 0 PLAINTEXT, 1 SSL, 2 SASL_PLAINTEXT, 3 SASL_SSL. */
  readonly securityProtocol: number;
}

export interface BrokerRegistration {
  readonly id: number;
  /** The broker epoch: the offset of the RegisterBrokerRecord that registered this incarnation. */
  readonly epoch: number;
  readonly incarnationId: string;
  readonly endpoints: readonly Endpoint[];
  readonly rack: string | null;
  /** A fenced broker leads nothing and is in no ISR; it is unfenced once it has caught up. */
  readonly fenced: boolean;
  readonly inControlledShutdown: boolean;
}

export interface PartitionRegistration {
  /** Replica ids in preference order: the first is the preferred leader. */
  readonly replicas: readonly number[];
  /** Empty only when eligible leader replicas are on and no replica is known to be in sync. */
  readonly isr: readonly number[];
  /**
   * Eligible leader replicas (KIP-966): replicas that left the ISR while it was below
   * min.insync.replicas. The high watermark has not moved since (a leader does not advance it
   * under min ISR), so each still holds every committed record, and may lead once the ISR is empty.
   * A broker back from an unclean shutdown leaves it. Empty when the ISR is at min ISR.
   */
  readonly elr: readonly number[];
  /**
   * The last leader, kept while the ISR and ELR are both empty: elected (uncleanly, as a last
   * resort) when it returns and nobody eligible is left. Kafka's LastKnownElr, as it keeps it by default.
   */
  readonly lastKnownElr: readonly number[];
  readonly removingReplicas: readonly number[];
  readonly addingReplicas: readonly number[];
  /** The leader's id, or -1 when the partition has no leader (offline). */
  readonly leader: number;
  /** 0 when the leader came from the ISR; 1 while a leader elected uncleanly recovers. */
  readonly leaderRecoveryState: number;
  /** Grows by one at every leader election (and forced bumps); fences old leaders and followers. */
  readonly leaderEpoch: number;
  /** Grows by one at every change of this partition; AlterPartition must name the current one. */
  readonly partitionEpoch: number;
}

export interface TopicImage {
  readonly name: string;
  readonly id: string;
  readonly partitions: ReadonlyMap<number, PartitionRegistration>;
}

export interface ScramCredential {
  readonly mechanism: number;
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
  readonly iterations: number;
}

export interface AclEntry {
  readonly id: string;
  readonly resourceType: number;
  readonly resourceName: string;
  readonly patternType: number;
  readonly principal: string;
  readonly host: string;
  readonly operation: number;
  readonly permissionType: number;
}

export interface QuotaEntity {
  readonly entityType: string;
  /** null: the default entity of this type. */
  readonly entityName: string | null;
}

export interface ClientQuota {
  readonly entity: readonly QuotaEntity[];
  readonly values: ReadonlyMap<string, number>;
}

/** The key of one config resource in `MetadataImage.configs`: `2:orders` (topic), `4:1` (broker 1), `4:` (cluster default). */
export function configResourceKey(resourceType: number, resourceName: string): string {
  return `${resourceType}:${resourceName}`;
}

/** The key of one quota entity in `MetadataImage.clientQuotas` (entity parts sorted by type). */
export function quotaEntityKey(entity: readonly QuotaEntity[]): string {
  return [...entity]
    .sort((a, b) => (a.entityType < b.entityType ? -1 : a.entityType > b.entityType ? 1 : 0))
    .map((part) => `${part.entityType}=${part.entityName === null ? '<default>' : JSON.stringify(part.entityName)}`)
    .join(',');
}

export interface MetadataImageParts {
  offset: number;
  epoch: number;
  features: ReadonlyMap<string, number>;
  brokers: ReadonlyMap<number, BrokerRegistration>;
  topicsById: ReadonlyMap<string, TopicImage>;
  configs: ReadonlyMap<string, ReadonlyMap<string, string>>;
  nextProducerId: number;
  acls: ReadonlyMap<string, AclEntry>;
  scramCredentials: ReadonlyMap<string, ReadonlyMap<number, ScramCredential>>;
  clientQuotas: ReadonlyMap<string, ClientQuota>;
}

export class MetadataImage {
  static readonly EMPTY = new MetadataImage({
    offset: -1,
    epoch: -1,
    features: new Map(),
    brokers: new Map(),
    topicsById: new Map(),
    configs: new Map(),
    nextProducerId: 0,
    acls: new Map(),
    scramCredentials: new Map(),
    clientQuotas: new Map(),
  });

  /** The offset of the last record applied (-1: none). */
  readonly offset: number;
  /** The log epoch of the batch that record was in. */
  readonly epoch: number;
  readonly features: ReadonlyMap<string, number>;
  readonly brokers: ReadonlyMap<number, BrokerRegistration>;
  readonly topicsById: ReadonlyMap<string, TopicImage>;
  readonly topicsByName: ReadonlyMap<string, TopicImage>;
  readonly configs: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** The first producer id of the next block the controller hands out. */
  readonly nextProducerId: number;
  readonly acls: ReadonlyMap<string, AclEntry>;
  /** By user name, then by mechanism. */
  readonly scramCredentials: ReadonlyMap<string, ReadonlyMap<number, ScramCredential>>;
  readonly clientQuotas: ReadonlyMap<string, ClientQuota>;

  constructor(parts: MetadataImageParts) {
    this.offset = parts.offset;
    this.epoch = parts.epoch;
    this.features = parts.features;
    this.brokers = parts.brokers;
    this.topicsById = parts.topicsById;
    this.configs = parts.configs;
    this.nextProducerId = parts.nextProducerId;
    this.acls = parts.acls;
    this.scramCredentials = parts.scramCredentials;
    this.clientQuotas = parts.clientQuotas;
    const byName = new Map<string, TopicImage>();
    for (const topic of parts.topicsById.values()) byName.set(topic.name, topic);
    this.topicsByName = byName;
  }

  topic(name: string): TopicImage | undefined {
    return this.topicsByName.get(name);
  }

  partition(topicName: string, partitionIndex: number): PartitionRegistration | undefined {
    return this.topicsByName.get(topicName)?.partitions.get(partitionIndex);
  }

  /** The topic's own configs (not the broker defaults). */
  topicConfigs(topicName: string): ReadonlyMap<string, string> {
    return this.configs.get(configResourceKey(ConfigResourceType.TOPIC, topicName)) ?? EMPTY_CONFIGS;
  }

  /** Dynamic broker configs: of one broker (`brokerId`) or the cluster-wide default (`''`). */
  brokerConfigs(brokerId: number | ''): ReadonlyMap<string, string> {
    return this.configs.get(configResourceKey(ConfigResourceType.BROKER, String(brokerId))) ?? EMPTY_CONFIGS;
  }

  /** Registered brokers that are not fenced, ascending by id. */
  unfencedBrokerIds(): number[] {
    return [...this.brokers.values()].filter((broker) => !broker.fenced).map((broker) => broker.id).sort((a, b) => a - b);
  }

  isUnfenced(brokerId: number): boolean {
    const broker = this.brokers.get(brokerId);
    return broker !== undefined && !broker.fenced;
  }

  /**
   * The records that rebuild this image from nothing (a snapshot's content, Kafka's
   * MetadataImage.write): features, brokers, topics with partitions, configs, producer ids,
   * credentials, quotas and ACLs.
   */
  toRecords(): MetadataRecordInput[] {
    const records: MetadataRecordInput[] = [];
    for (const [name, featureLevel] of this.features) records.push({ type: 'FeatureLevel', name, featureLevel });
    for (const broker of this.brokers.values()) {
      records.push({
        type: 'RegisterBroker',
        brokerId: broker.id,
        incarnationId: broker.incarnationId,
        brokerEpoch: broker.epoch,
        endPoints: broker.endpoints.map((endpoint) => ({ ...endpoint })),
        features: [],
        rack: broker.rack,
        fenced: broker.fenced,
        inControlledShutdown: broker.inControlledShutdown,
      });
    }
    for (const topic of this.topicsById.values()) {
      records.push({ type: 'Topic', name: topic.name, topicId: topic.id });
      for (const [partitionId, partition] of topic.partitions) {
        records.push({
          type: 'Partition',
          partitionId,
          topicId: topic.id,
          replicas: [...partition.replicas],
          isr: [...partition.isr],
          removingReplicas: [...partition.removingReplicas],
          addingReplicas: [...partition.addingReplicas],
          leader: partition.leader,
          leaderRecoveryState: partition.leaderRecoveryState,
          leaderEpoch: partition.leaderEpoch,
          partitionEpoch: partition.partitionEpoch,
          eligibleLeaderReplicas: partition.elr.length > 0 ? [...partition.elr] : null,
          lastKnownElr: partition.lastKnownElr.length > 0 ? [...partition.lastKnownElr] : null,
        });
      }
    }
    for (const [key, values] of this.configs) {
      const colon = key.indexOf(':');
      const resourceType = Number(key.slice(0, colon));
      const resourceName = key.slice(colon + 1);
      for (const [name, value] of values) records.push({ type: 'Config', resourceType, resourceName, name, value });
    }
    if (this.nextProducerId > 0) records.push({ type: 'ProducerIds', brokerId: -1, brokerEpoch: -1, nextProducerId: this.nextProducerId });
    for (const [name, byMechanism] of this.scramCredentials) {
      for (const credential of byMechanism.values()) records.push({ type: 'UserScramCredential', name, ...credential });
    }
    for (const quota of this.clientQuotas.values()) {
      for (const [key, value] of quota.values) {
        records.push({ type: 'ClientQuota', entity: quota.entity.map((part) => ({ ...part })), key, value, remove: false });
      }
    }
    for (const acl of this.acls.values()) records.push({ type: 'AccessControlEntry', ...acl });
    return records;
  }
}

const EMPTY_CONFIGS: ReadonlyMap<string, string> = new Map();
