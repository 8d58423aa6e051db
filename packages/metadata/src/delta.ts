/**
 * A MetadataDelta replays metadata records, in log order, on top of a base image and produces the
 * next image (Kafka's MetadataDelta). It also remembers what changed (brokers, topics created or
 * removed, partitions changed, config resources), so a broker reacts to exactly the partitions
 * whose registration moved (see local-changes.ts) instead of diffing whole images.
 *
 * Every record is checked against the image it applies to: a record that cannot apply (a
 * partition of an unknown topic, a leader outside the replicas, a broker epoch that does not
 * match) is a MetadataError, because the controller never writes one and a log that holds one is
 * damaged. Not safe for concurrent use; a delta is used once (`apply`) and dropped.
 */
import assert from 'node:assert/strict';
import { MetadataError } from './errors.js';
import {
  type AclEntry, type BrokerRegistration, type ClientQuota, configResourceKey, MetadataImage, type PartitionRegistration,
  quotaEntityKey, type ScramCredential, type TopicImage,
} from './image.js';
import { ConfigResourceType, type MetadataRecord, type MetadataRecordOf, NO_LEADER, NO_LEADER_CHANGE } from './records.js';

interface MutableTopic {
  name: string;
  id: string;
  partitions: Map<number, PartitionRegistration>;
}

export class MetadataDelta {
  readonly changedBrokerIds = new Set<number>();
  readonly createdTopicIds = new Set<string>();
  /** Topics removed by this delta that existed in the base image, by id, as they were. */
  readonly removedTopics = new Map<string, TopicImage>();
  /** Partitions created or changed, by topic id (a created topic's partitions are listed too). */
  readonly changedPartitions = new Map<string, Set<number>>();
  readonly changedConfigKeys = new Set<string>();
  private offset: number;
  private epoch: number;
  private features: Map<string, number> | null = null;
  private brokers: Map<number, BrokerRegistration> | null = null;
  private readonly touchedTopics = new Map<string, MutableTopic>();
  private readonly removedTopicIds = new Set<string>();
  private configs: Map<string, ReadonlyMap<string, string>> | null = null;
  private nextProducerId: number;
  private acls: Map<string, AclEntry> | null = null;
  private scramCredentials: Map<string, ReadonlyMap<number, ScramCredential>> | null = null;
  private clientQuotas: Map<string, ClientQuota> | null = null;

  constructor(readonly base: MetadataImage) {
    this.offset = base.offset;
    this.epoch = base.epoch;
    this.nextProducerId = base.nextProducerId;
  }

  /** True when nothing was replayed that changes the image (only NoOp records, or nothing). */
  get isEmpty(): boolean {
    return this.features === null && this.brokers === null && this.touchedTopics.size === 0 && this.removedTopicIds.size === 0
      && this.configs === null && this.nextProducerId === this.base.nextProducerId && this.acls === null
      && this.scramCredentials === null && this.clientQuotas === null;
  }

  /** Applies one record found at `offset` in a batch of log epoch `epoch`. */
  replay(record: MetadataRecord, offset = this.offset + 1, epoch = this.epoch): void {
    assert.ok(offset > this.offset, `metadata offsets must grow: ${offset} after ${this.offset}`);
    this.offset = offset;
    this.epoch = epoch;
    switch (record.type) {
      case 'RegisterBroker': return this.replayRegisterBroker(record);
      case 'UnregisterBroker': return this.replayUnregisterBroker(record);
      case 'FenceBroker': return this.replayBrokerChange(record.id, record.epoch, { fenced: true });
      case 'UnfenceBroker': return this.replayBrokerChange(record.id, record.epoch, { fenced: false });
      case 'BrokerRegistrationChange': return this.replayBrokerRegistrationChange(record);
      case 'Topic': return this.replayTopic(record);
      case 'Partition': return this.replayPartition(record);
      case 'PartitionChange': return this.replayPartitionChange(record);
      case 'RemoveTopic': return this.replayRemoveTopic(record);
      case 'Config': return this.replayConfig(record);
      case 'ProducerIds': return this.replayProducerIds(record);
      case 'FeatureLevel': return this.replayFeatureLevel(record);
      case 'UserScramCredential': return this.replayScramCredential(record);
      case 'RemoveUserScramCredential': return this.replayRemoveScramCredential(record);
      case 'ClientQuota': return this.replayClientQuota(record);
      case 'AccessControlEntry': return this.replayAcl(record);
      case 'RemoveAccessControlEntry': return this.replayRemoveAcl(record);
      case 'NoOp': return;
    }
  }

  /** The image after every replayed record. */
  apply(): MetadataImage {
    let topicsById: ReadonlyMap<string, TopicImage> = this.base.topicsById;
    if (this.touchedTopics.size > 0 || this.removedTopicIds.size > 0) {
      const next = new Map(this.base.topicsById);
      for (const id of this.removedTopicIds) next.delete(id);
      for (const [id, topic] of this.touchedTopics) next.set(id, { name: topic.name, id, partitions: topic.partitions });
      topicsById = next;
    }
    return new MetadataImage({
      offset: this.offset,
      epoch: this.epoch,
      features: this.features ?? this.base.features,
      brokers: this.brokers ?? this.base.brokers,
      topicsById,
      configs: this.configs ?? this.base.configs,
      nextProducerId: this.nextProducerId,
      acls: this.acls ?? this.base.acls,
      scramCredentials: this.scramCredentials ?? this.base.scramCredentials,
      clientQuotas: this.clientQuotas ?? this.base.clientQuotas,
    });
  }

  /** The topic as it is now in this delta (undefined when unknown or removed). */
  topicById(id: string): TopicImage | undefined {
    if (this.removedTopicIds.has(id)) return undefined;
    return this.touchedTopics.get(id) ?? this.base.topicsById.get(id);
  }

  // ---------------------------------------------------------------- brokers

  private mutableBrokers(): Map<number, BrokerRegistration> {
    this.brokers ??= new Map(this.base.brokers);
    return this.brokers;
  }

  private replayRegisterBroker(record: MetadataRecordOf<'RegisterBroker'>): void {
    this.mutableBrokers().set(record.brokerId, {
      id: record.brokerId,
      epoch: record.brokerEpoch,
      incarnationId: record.incarnationId,
      endpoints: record.endPoints.map((endpoint) => ({ name: endpoint.name, host: endpoint.host, port: endpoint.port, securityProtocol: endpoint.securityProtocol })),
      rack: record.rack,
      fenced: record.fenced,
      inControlledShutdown: record.inControlledShutdown,
    });
    this.changedBrokerIds.add(record.brokerId);
  }

  private registeredBroker(id: number, epoch: number, what: string): BrokerRegistration {
    const broker = (this.brokers ?? this.base.brokers).get(id);
    if (broker === undefined) throw invalid(`${what}: broker ${id} is not registered`);
    if (broker.epoch !== epoch) throw invalid(`${what}: broker ${id} has epoch ${broker.epoch}, not ${epoch}`);
    return broker;
  }

  private replayUnregisterBroker(record: MetadataRecordOf<'UnregisterBroker'>): void {
    this.registeredBroker(record.brokerId, record.brokerEpoch, 'UnregisterBrokerRecord');
    this.mutableBrokers().delete(record.brokerId);
    this.changedBrokerIds.add(record.brokerId);
  }

  private replayBrokerChange(id: number, epoch: number, change: { fenced?: boolean; inControlledShutdown?: boolean }): void {
    const broker = this.registeredBroker(id, epoch, 'broker registration change');
    this.mutableBrokers().set(id, { ...broker, ...change });
    this.changedBrokerIds.add(id);
  }

  private replayBrokerRegistrationChange(record: MetadataRecordOf<'BrokerRegistrationChange'>): void {
    const change: { fenced?: boolean; inControlledShutdown?: boolean } = {};
    if (record.fenced === 1) change.fenced = true;
    else if (record.fenced === -1) change.fenced = false;
    if (record.inControlledShutdown === 1) change.inControlledShutdown = true;
    this.replayBrokerChange(record.brokerId, record.brokerEpoch, change);
  }

  // ---------------------------------------------------------------- topics and partitions

  private mutableTopic(id: string, what: string): MutableTopic {
    let topic = this.touchedTopics.get(id);
    if (topic !== undefined) return topic;
    const base = this.removedTopicIds.has(id) ? undefined : this.base.topicsById.get(id);
    if (base === undefined) throw invalid(`${what}: topic id ${id} does not exist`);
    topic = { name: base.name, id, partitions: new Map(base.partitions) };
    this.touchedTopics.set(id, topic);
    return topic;
  }

  private markPartition(topicId: string, partitionId: number): void {
    let partitions = this.changedPartitions.get(topicId);
    if (partitions === undefined) {
      partitions = new Set();
      this.changedPartitions.set(topicId, partitions);
    }
    partitions.add(partitionId);
  }

  private replayTopic(record: MetadataRecordOf<'Topic'>): void {
    if (this.topicById(record.topicId) !== undefined) throw invalid(`TopicRecord: topic id ${record.topicId} already exists`);
    for (const topic of this.currentTopics()) {
      if (topic.name === record.name) throw invalid(`TopicRecord: topic ${record.name} already exists`);
    }
    this.touchedTopics.set(record.topicId, { name: record.name, id: record.topicId, partitions: new Map() });
    this.createdTopicIds.add(record.topicId);
  }

  private *currentTopics(): Generator<TopicImage> {
    for (const [id, topic] of this.base.topicsById) if (!this.removedTopicIds.has(id) && !this.touchedTopics.has(id)) yield topic;
    yield* this.touchedTopics.values();
  }

  private replayPartition(record: MetadataRecordOf<'Partition'>): void {
    const topic = this.mutableTopic(record.topicId, 'PartitionRecord');
    const registration: PartitionRegistration = {
      replicas: record.replicas,
      isr: record.isr,
      elr: record.eligibleLeaderReplicas ?? [],
      lastKnownElr: record.lastKnownElr ?? [],
      removingReplicas: record.removingReplicas,
      addingReplicas: record.addingReplicas,
      leader: record.leader,
      leaderRecoveryState: record.leaderRecoveryState,
      leaderEpoch: record.leaderEpoch,
      partitionEpoch: record.partitionEpoch,
    };
    checkRegistration(registration, `${topic.name}-${record.partitionId}`);
    topic.partitions.set(record.partitionId, registration);
    this.markPartition(record.topicId, record.partitionId);
  }

  private replayPartitionChange(record: MetadataRecordOf<'PartitionChange'>): void {
    const topic = this.mutableTopic(record.topicId, 'PartitionChangeRecord');
    const current = topic.partitions.get(record.partitionId);
    if (current === undefined) throw invalid(`PartitionChangeRecord: ${topic.name}-${record.partitionId} does not exist`);
    const next = mergePartitionChange(current, record);
    checkRegistration(next, `${topic.name}-${record.partitionId}`);
    topic.partitions.set(record.partitionId, next);
    this.markPartition(record.topicId, record.partitionId);
  }

  private replayRemoveTopic(record: MetadataRecordOf<'RemoveTopic'>): void {
    const topic = this.topicById(record.topicId);
    if (topic === undefined) throw invalid(`RemoveTopicRecord: topic id ${record.topicId} does not exist`);
    this.touchedTopics.delete(record.topicId);
    this.changedPartitions.delete(record.topicId);
    if (this.createdTopicIds.delete(record.topicId)) {
      // Created and removed within this delta: the base image never had it.
    } else {
      this.removedTopicIds.add(record.topicId);
      const base = this.base.topicsById.get(record.topicId);
      if (base !== undefined) this.removedTopics.set(record.topicId, base);
    }
    this.deleteConfigResource(configResourceKey(ConfigResourceType.TOPIC, topic.name));
  }

  // ---------------------------------------------------------------- configs, producer ids, features

  private mutableConfigs(): Map<string, ReadonlyMap<string, string>> {
    this.configs ??= new Map(this.base.configs);
    return this.configs;
  }

  private deleteConfigResource(key: string): void {
    if (!(this.configs ?? this.base.configs).has(key)) return;
    this.mutableConfigs().delete(key);
    this.changedConfigKeys.add(key);
  }

  private replayConfig(record: MetadataRecordOf<'Config'>): void {
    const key = configResourceKey(record.resourceType, record.resourceName);
    const configs = this.mutableConfigs();
    const values = new Map(configs.get(key) ?? []);
    if (record.value === null) values.delete(record.name);
    else values.set(record.name, record.value);
    if (values.size === 0) configs.delete(key);
    else configs.set(key, values);
    this.changedConfigKeys.add(key);
  }

  private replayProducerIds(record: MetadataRecordOf<'ProducerIds'>): void {
    if (record.nextProducerId <= this.nextProducerId) {
      throw invalid(`ProducerIdsRecord: next producer id ${record.nextProducerId} does not grow from ${this.nextProducerId}`);
    }
    this.nextProducerId = record.nextProducerId;
  }

  private replayFeatureLevel(record: MetadataRecordOf<'FeatureLevel'>): void {
    this.features ??= new Map(this.base.features);
    if (record.featureLevel === 0) this.features.delete(record.name);
    else this.features.set(record.name, record.featureLevel);
  }

  // ---------------------------------------------------------------- security and quotas

  private mutableScram(): Map<string, ReadonlyMap<number, ScramCredential>> {
    this.scramCredentials ??= new Map(this.base.scramCredentials);
    return this.scramCredentials;
  }

  private replayScramCredential(record: MetadataRecordOf<'UserScramCredential'>): void {
    const credentials = this.mutableScram();
    const byMechanism = new Map(credentials.get(record.name) ?? []);
    byMechanism.set(record.mechanism, { mechanism: record.mechanism, salt: record.salt, storedKey: record.storedKey, serverKey: record.serverKey, iterations: record.iterations });
    credentials.set(record.name, byMechanism);
  }

  private replayRemoveScramCredential(record: MetadataRecordOf<'RemoveUserScramCredential'>): void {
    const credentials = this.mutableScram();
    const byMechanism = new Map(credentials.get(record.name) ?? []);
    byMechanism.delete(record.mechanism);
    if (byMechanism.size === 0) credentials.delete(record.name);
    else credentials.set(record.name, byMechanism);
  }

  private replayClientQuota(record: MetadataRecordOf<'ClientQuota'>): void {
    this.clientQuotas ??= new Map(this.base.clientQuotas);
    const key = quotaEntityKey(record.entity);
    const values = new Map(this.clientQuotas.get(key)?.values ?? []);
    if (record.remove) values.delete(record.key);
    else values.set(record.key, record.value);
    if (values.size === 0) this.clientQuotas.delete(key);
    else this.clientQuotas.set(key, { entity: record.entity.map((part) => ({ entityType: part.entityType, entityName: part.entityName })), values });
  }

  private replayAcl(record: MetadataRecordOf<'AccessControlEntry'>): void {
    this.acls ??= new Map(this.base.acls);
    const { type: _type, ...entry } = record;
    this.acls.set(record.id, entry);
  }

  private replayRemoveAcl(record: MetadataRecordOf<'RemoveAccessControlEntry'>): void {
    this.acls ??= new Map(this.base.acls);
    if (!this.acls.delete(record.id)) throw invalid(`RemoveAccessControlEntryRecord: ACL ${record.id} does not exist`);
  }
}

/**
 * Kafka's PartitionRegistration.merge: fields left null (or -2 for the leader, -1 for the recovery
 * state) keep their value; naming a leader, even the same one, starts a new leader epoch; every
 * change starts a new partition epoch.
 */
export function mergePartitionChange(current: PartitionRegistration, change: MetadataRecordOf<'PartitionChange'>): PartitionRegistration {
  const leaderChanged = change.leader !== NO_LEADER_CHANGE;
  return {
    replicas: change.replicas ?? current.replicas,
    isr: change.isr ?? current.isr,
    elr: change.eligibleLeaderReplicas ?? current.elr,
    lastKnownElr: change.lastKnownElr ?? current.lastKnownElr,
    removingReplicas: change.removingReplicas ?? current.removingReplicas,
    addingReplicas: change.addingReplicas ?? current.addingReplicas,
    leader: leaderChanged ? change.leader : current.leader,
    leaderRecoveryState: change.leaderRecoveryState === -1 ? current.leaderRecoveryState : change.leaderRecoveryState,
    leaderEpoch: leaderChanged ? current.leaderEpoch + 1 : current.leaderEpoch,
    partitionEpoch: current.partitionEpoch + 1,
  };
}

/** The invariants every registration keeps: a leader among the replicas, an ISR within them. */
function checkRegistration(registration: PartitionRegistration, name: string): void {
  if (registration.replicas.length === 0) throw invalid(`${name}: no replicas`);
  if (new Set(registration.replicas).size !== registration.replicas.length) throw invalid(`${name}: duplicate replicas ${registration.replicas}`);
  if (registration.leader !== NO_LEADER && !registration.replicas.includes(registration.leader)) {
    throw invalid(`${name}: leader ${registration.leader} is not a replica (${registration.replicas})`);
  }
  for (const id of registration.isr) if (!registration.replicas.includes(id)) throw invalid(`${name}: ISR member ${id} is not a replica`);
  for (const id of registration.elr) {
    if (!registration.replicas.includes(id)) throw invalid(`${name}: eligible leader replica ${id} is not a replica`);
    if (registration.isr.includes(id)) throw invalid(`${name}: eligible leader replica ${id} is also in the ISR ${registration.isr}`);
  }
  if (registration.leader !== NO_LEADER && registration.leaderRecoveryState === 0 && !registration.isr.includes(registration.leader)) {
    throw invalid(`${name}: leader ${registration.leader} is not in the ISR ${registration.isr}`);
  }
}

function invalid(message: string): MetadataError {
  return new MetadataError('INVALID_METADATA_RECORD', message);
}
