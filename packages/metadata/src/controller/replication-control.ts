/**
 * Leaders and ISRs (the election half of Kafka's ReplicationControlManager): what fencing,
 * unfencing, controlled shutdown and unregistration of a broker do to the partitions it is in,
 * AlterPartition (a leader's ISR change), ElectLeaders (preferred and unclean), and the two
 * periodic passes (preferred-leader balance, unclean elections of leaderless partitions). Every
 * function reads a ControlContext and returns records; nothing here keeps state.
 */
import { ErrorCode } from '@gregor/protocol';
import type { AlterPartitionRequest, AlterPartitionResponse, ElectLeadersRequest, ElectLeadersResponse } from '@gregor/protocol';
import { mergePartitionChange } from '../delta.js';
import type { MetadataImage, PartitionRegistration, TopicImage } from '../image.js';
import { type MetadataRecordInput, metadataRecord, NO_LEADER } from '../records.js';
import {
  allPartitions, type ControlContext, type ControllerResult, elrSettings, isActiveBroker, isUncleanLeaderElectionEnabled, type PartitionRef,
  partitionsWithBrokerInIsr, partitionsWithoutLeader,
} from './context.js';
import { apiErrorOf, ControllerError } from './errors.js';
import { buildPartitionChange, type Election, LeaderRecoveryState, type PartitionChange } from './partition-change.js';

/**
 * Kafka's generateLeaderAndIsrUpdates: each partition's change when `brokerToRemove` leaves its
 * ISR and leadership (it is never an acceptable leader), or `brokerToAdd` becomes acceptable
 * although the image still shows it fenced (it is being unfenced in the same batch), or
 * `uncleanShutdown` registered again after an unclean shutdown (it leaves the ISR and the ELR and
 * leads nothing). -1: none.
 */
export function leaderAndIsrUpdates(
  context: ControlContext,
  brokerToRemove: number,
  brokerToAdd: number,
  partitions: Iterable<PartitionRef>,
  uncleanShutdown = NO_LEADER,
): PartitionChange[] {
  const { image } = context;
  const isAcceptableLeader = (id: number) => id !== brokerToRemove && id !== uncleanShutdown && (id === brokerToAdd || isActiveBroker(image, id));
  const changes: PartitionChange[] = [];
  for (const { topic, partitionId, registration } of partitions) {
    const change = buildPartitionChange({
      topicId: topic.id,
      partitionId,
      current: registration,
      isAcceptableLeader,
      election: isUncleanLeaderElectionEnabled(image, context.config, topic.name) ? 'unclean' : 'online',
      targetIsr: registration.isr.filter((id) => id !== brokerToRemove),
      elr: elrSettings(image, context.config, topic.name, registration),
      uncleanShutdownReplicas: uncleanShutdown === NO_LEADER ? undefined : [uncleanShutdown],
    });
    if (change !== null) changes.push(change);
  }
  return changes;
}

/**
 * A broker registered again without proof of a clean shutdown (Kafka's handleBrokerUncleanShutdown,
 * KIP-966): its log may have lost what it had not flushed, so it leaves every ISR and ELR it is in
 * and cannot lead on the strength of what it held before. Only with eligible leader replicas on.
 */
export function brokerUncleanShutdownRecords(context: ControlContext, brokerId: number): PartitionChange[] {
  const { image } = context;
  const partitions = [...allPartitions(image)].filter((ref) => ref.registration.isr.includes(brokerId) || ref.registration.elr.includes(brokerId));
  return leaderAndIsrUpdates(context, NO_LEADER, NO_LEADER, partitions, brokerId);
}

/** The broker leaves every ISR it shares and every leadership, then is fenced (Kafka's handleBrokerFenced). */
export function brokerFencedRecords(context: ControlContext, brokerId: number): MetadataRecordInput[] {
  const broker = context.image.brokers.get(brokerId);
  if (broker === undefined) throw new Error(`cannot fence broker ${brokerId}: not registered`);
  const records: MetadataRecordInput[] = leaderAndIsrUpdates(context, brokerId, NO_LEADER, partitionsWithBrokerInIsr(context.image, brokerId));
  if (!broker.fenced) records.push({ type: 'BrokerRegistrationChange', brokerId, brokerEpoch: broker.epoch, fenced: 1 });
  return records;
}

/** The broker is unfenced, then leads the leaderless partitions it can lead (Kafka's handleBrokerUnfenced). */
export function brokerUnfencedRecords(context: ControlContext, brokerId: number, brokerEpoch: number): MetadataRecordInput[] {
  return [
    { type: 'BrokerRegistrationChange', brokerId, brokerEpoch, fenced: -1 },
    ...leaderAndIsrUpdates(context, NO_LEADER, brokerId, partitionsWithoutLeader(context.image)),
  ];
}

/** The broker enters controlled shutdown: its leaderships move, it leaves the ISRs it shares. */
export function brokerInControlledShutdownRecords(context: ControlContext, brokerId: number, brokerEpoch: number): MetadataRecordInput[] {
  const records: MetadataRecordInput[] = [];
  if (context.image.brokers.get(brokerId)?.inControlledShutdown !== true) {
    records.push({ type: 'BrokerRegistrationChange', brokerId, brokerEpoch, inControlledShutdown: 1 });
  }
  records.push(...leaderAndIsrUpdates(context, brokerId, NO_LEADER, partitionsWithBrokerInIsr(context.image, brokerId)));
  return records;
}

/** The broker leaves the ISRs and leaderships, then its registration is removed. */
export function brokerUnregisteredRecords(context: ControlContext, brokerId: number, brokerEpoch: number): MetadataRecordInput[] {
  return [
    ...leaderAndIsrUpdates(context, brokerId, NO_LEADER, partitionsWithBrokerInIsr(context.image, brokerId)),
    { type: 'UnregisterBroker', brokerId, brokerEpoch },
  ];
}

/** STALE_BROKER_EPOCH unless the broker is registered with this epoch (Kafka's checkBrokerEpoch). */
export function checkBrokerEpoch(image: MetadataImage, brokerId: number, brokerEpoch: number): void {
  const broker = image.brokers.get(brokerId);
  if (broker === undefined) throw new ControllerError('STALE_BROKER_EPOCH', `No broker registration found for broker id ${brokerId}`);
  if (broker.epoch !== brokerEpoch) throw new ControllerError('STALE_BROKER_EPOCH', `Expected broker epoch ${broker.epoch}, but got broker epoch ${brokerEpoch}`);
}

/** A partition's registration as the records of one request left it (later parts of a request see earlier changes). */
class WorkingPartitions {
  private readonly changed = new Map<string, PartitionRegistration>();

  constructor(private readonly image: MetadataImage) {}

  get(topic: TopicImage, partitionId: number): PartitionRegistration | undefined {
    return this.changed.get(`${topic.id}:${partitionId}`) ?? topic.partitions.get(partitionId);
  }

  apply(topic: TopicImage, partitionId: number, change: PartitionChange): PartitionRegistration {
    const current = this.get(topic, partitionId);
    if (current === undefined) throw new Error(`no partition ${topic.name}-${partitionId}`);
    const next = mergePartitionChange(current, metadataRecord(change));
    this.changed.set(`${topic.id}:${partitionId}`, next);
    return next;
  }

  topicById(id: string): TopicImage | undefined {
    return this.image.topicsById.get(id);
  }
}

type AlterPartitionTopicResponse = AlterPartitionResponse['topics'][number];
type AlterPartitionPartitionResponse = AlterPartitionTopicResponse['partitions'][number];
type AlterPartitionPartitionRequest = AlterPartitionRequest['topics'][number]['partitions'][number];

/** AlterPartition (KIP-497), checked as Kafka's ReplicationControlManager.alterPartition. */
export function alterPartition(context: ControlContext, version: number, request: AlterPartitionRequest): ControllerResult<AlterPartitionResponse> {
  const { image } = context;
  checkBrokerEpoch(image, request.brokerId, request.brokerEpoch);
  const records: MetadataRecordInput[] = [];
  const working = new WorkingPartitions(image);
  const topics: AlterPartitionTopicResponse[] = [];
  for (const topicData of request.topics) {
    const topic = version > 1 ? working.topicById(topicData.topicId) : image.topic(topicData.topicName);
    const partitions: AlterPartitionPartitionResponse[] = [];
    topics.push({ topicName: topicData.topicName, topicId: topicData.topicId, partitions });
    for (const partitionData of topicData.partitions) {
      if (topic === undefined) {
        partitions.push(alterPartitionError(partitionData.partitionIndex, version > 1 ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
        continue;
      }
      const current = working.get(topic, partitionData.partitionIndex);
      const newIsr = version >= 3 ? partitionData.newIsrWithEpochs : partitionData.newIsr.map((brokerId) => ({ brokerId, brokerEpoch: -1 }));
      const error = validateAlterPartition(image, request.brokerId, version, current, partitionData, newIsr);
      if (error !== ErrorCode.NONE || current === undefined) {
        partitions.push(alterPartitionError(partitionData.partitionIndex, error));
        continue;
      }
      const change = buildPartitionChange({
        topicId: topic.id,
        partitionId: partitionData.partitionIndex,
        current,
        isAcceptableLeader: (id) => isActiveBroker(image, id),
        election: isUncleanLeaderElectionEnabled(image, context.config, topic.name) ? 'unclean' : 'online',
        targetIsr: newIsr.map((state) => state.brokerId),
        targetLeaderRecoveryState: partitionData.leaderRecoveryState,
        elr: elrSettings(image, context.config, topic.name, current),
      });
      let registration = current;
      if (change !== null) {
        records.push(change);
        registration = working.apply(topic, partitionData.partitionIndex, change);
        if (change.leader !== undefined && change.leader !== request.brokerId) {
          // The change also moved leadership (the requester cannot lead any more): it must
          // fetch the new metadata before trying again. The record is still written.
          partitions.push(alterPartitionError(partitionData.partitionIndex, version > 1 ? ErrorCode.NEW_LEADER_ELECTED : ErrorCode.FENCED_LEADER_EPOCH));
          continue;
        }
      }
      partitions.push({
        partitionIndex: partitionData.partitionIndex,
        errorCode: ErrorCode.NONE,
        leaderId: registration.leader,
        leaderEpoch: registration.leaderEpoch,
        isr: [...registration.isr],
        leaderRecoveryState: registration.leaderRecoveryState,
        partitionEpoch: registration.partitionEpoch,
      });
    }
  }
  return { records, response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, topics } };
}

function alterPartitionError(partitionIndex: number, errorCode: number): AlterPartitionPartitionResponse {
  return { partitionIndex, errorCode, leaderId: NO_LEADER, leaderEpoch: -1, isr: [], leaderRecoveryState: 0, partitionEpoch: -1 };
}

/** Kafka's validateAlterPartitionData, in its order. */
function validateAlterPartition(
  image: MetadataImage,
  brokerId: number,
  version: number,
  partition: PartitionRegistration | undefined,
  request: AlterPartitionPartitionRequest,
  newIsr: readonly { brokerId: number; brokerEpoch: number }[],
): number {
  if (partition === undefined) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  // Epochs newer than ours: this controller is behind, so the leader should find the real one.
  if (request.leaderEpoch > partition.leaderEpoch || request.partitionEpoch > partition.partitionEpoch) return ErrorCode.NOT_CONTROLLER;
  if (request.leaderEpoch < partition.leaderEpoch) return ErrorCode.FENCED_LEADER_EPOCH;
  if (brokerId !== partition.leader) return ErrorCode.INVALID_REQUEST;
  if (request.partitionEpoch < partition.partitionEpoch) return ErrorCode.INVALID_UPDATE_VERSION;
  const ids = newIsr.map((state) => state.brokerId);
  if (new Set(ids).size !== ids.length || ids.some((id) => !partition.replicas.includes(id))) return ErrorCode.INVALID_REQUEST;
  if (!ids.includes(partition.leader)) return ErrorCode.INVALID_REQUEST;
  const recoveryState = request.leaderRecoveryState;
  if (recoveryState !== LeaderRecoveryState.RECOVERED && recoveryState !== LeaderRecoveryState.RECOVERING) return ErrorCode.INVALID_REQUEST;
  if (recoveryState === LeaderRecoveryState.RECOVERING && ids.length > 1) return ErrorCode.INVALID_REQUEST;
  if (partition.leaderRecoveryState === LeaderRecoveryState.RECOVERED && recoveryState === LeaderRecoveryState.RECOVERING) return ErrorCode.INVALID_REQUEST;
  const ineligible = newIsr.some((state) => {
    const member = image.brokers.get(state.brokerId);
    return member === undefined || member.inControlledShutdown || member.fenced || (state.brokerEpoch !== -1 && state.brokerEpoch !== member.epoch);
  });
  if (ineligible) return version > 1 ? ErrorCode.INELIGIBLE_REPLICA : ErrorCode.OPERATION_NOT_ATTEMPTED;
  return ErrorCode.NONE;
}

type ElectionResults = ElectLeadersResponse['replicaElectionResults'];

/** ElectLeaders (KIP-460): preferred (0) or unclean (1) elections of the given partitions, or of all (null). */
export function electLeaders(context: ControlContext, version: number, request: ElectLeadersRequest): ControllerResult<ElectLeadersResponse> {
  const electionType = version === 0 ? 0 : request.electionType;
  if (electionType !== 0 && electionType !== 1) {
    throw new ControllerError('INVALID_REQUEST', `Unknown election type ${electionType}`);
  }
  const election: Election = electionType === 0 ? 'preferred' : 'unclean';
  const working = new WorkingPartitions(context.image);
  const records: MetadataRecordInput[] = [];
  const results: ElectionResults = [];
  const elect = (topicName: string, partitionId: number) => {
    try {
      const change = electLeader(context, working, topicName, partitionId, election);
      records.push(change);
      return { partitionId, errorCode: ErrorCode.NONE, errorMessage: null };
    } catch (error) {
      const { errorCode, message } = apiErrorOf(error);
      return { partitionId, errorCode, errorMessage: message };
    }
  };
  if (request.topicPartitions === null) {
    for (const topic of context.image.topicsById.values()) {
      // When electing everywhere, partitions that already have the wanted leader are not listed.
      const partitionResult = [...topic.partitions.keys()].map((partitionId) => elect(topic.name, partitionId)).filter((result) => result.errorCode !== ErrorCode.ELECTION_NOT_NEEDED);
      results.push({ topic: topic.name, partitionResult });
    }
  } else {
    for (const topic of request.topicPartitions) {
      results.push({ topic: topic.topic, partitionResult: topic.partitions.map((partitionId) => elect(topic.topic, partitionId)) });
    }
  }
  return { records, response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults: results } };
}

function electLeader(context: ControlContext, working: WorkingPartitions, topicName: string, partitionId: number, election: Election): PartitionChange {
  const topic = context.image.topic(topicName);
  if (topic === undefined) throw new ControllerError('UNKNOWN_TOPIC_OR_PARTITION', `No such topic as ${topicName}`);
  const partition = working.get(topic, partitionId);
  if (partition === undefined) throw new ControllerError('UNKNOWN_TOPIC_OR_PARTITION', `No such partition as ${topicName}-${partitionId}`);
  if ((election === 'preferred' && partition.leader === partition.replicas[0]) || (election === 'unclean' && partition.leader !== NO_LEADER)) {
    throw new ControllerError('ELECTION_NOT_NEEDED');
  }
  const change = buildPartitionChange({
    topicId: topic.id,
    partitionId,
    current: partition,
    isAcceptableLeader: (id) => isActiveBroker(context.image, id),
    election,
    elr: elrSettings(context.image, context.config, topic.name, partition),
  });
  if (change === null) throw new ControllerError(election === 'preferred' ? 'PREFERRED_LEADER_NOT_AVAILABLE' : 'ELIGIBLE_LEADERS_NOT_AVAILABLE');
  working.apply(topic, partitionId, change);
  return change;
}

/**
 * The auto leader rebalance pass: for each broker, when more than
 * `leader.imbalance.per.broker.percentage` of the partitions it is the preferred leader of are led
 * by others, it takes back those where it is in the ISR and active. At most
 * `maxElectionsPerImbalance` elections per pass.
 */
export function balancePartitionLeaders(context: ControlContext): PartitionChange[] {
  const preferredTotals = new Map<number, number>();
  const imbalanced = new Map<number, PartitionRef[]>();
  for (const ref of allPartitions(context.image)) {
    const preferred = ref.registration.replicas[0];
    preferredTotals.set(preferred, (preferredTotals.get(preferred) ?? 0) + 1);
    if (ref.registration.leader !== preferred) imbalanced.set(preferred, [...(imbalanced.get(preferred) ?? []), ref]);
  }
  const changes: PartitionChange[] = [];
  const brokerIds = [...imbalanced.keys()].sort((a, b) => a - b);
  for (const brokerId of brokerIds) {
    const refs = imbalanced.get(brokerId) ?? [];
    const ratio = refs.length / (preferredTotals.get(brokerId) ?? 1);
    if (ratio <= context.config.leaderImbalancePerBrokerPercentage / 100 || !isActiveBroker(context.image, brokerId)) continue;
    for (const ref of refs) {
      if (changes.length >= context.config.maxElectionsPerImbalance) return changes;
      if (!ref.registration.isr.includes(brokerId)) continue;
      const change = buildPartitionChange({
        topicId: ref.topic.id,
        partitionId: ref.partitionId,
        current: ref.registration,
        isAcceptableLeader: (id) => isActiveBroker(context.image, id),
        election: 'preferred',
        elr: elrSettings(context.image, context.config, ref.topic.name, ref.registration),
      });
      if (change !== null) changes.push(change);
    }
  }
  return changes;
}

/** The periodic unclean pass: leaderless partitions of topics with unclean election enabled get any live replica. */
export function electUncleanLeaders(context: ControlContext): PartitionChange[] {
  const changes: PartitionChange[] = [];
  for (const ref of partitionsWithoutLeader(context.image)) {
    if (changes.length >= context.config.maxElectionsPerImbalance) break;
    if (!isUncleanLeaderElectionEnabled(context.image, context.config, ref.topic.name)) continue;
    const change = buildPartitionChange({
      topicId: ref.topic.id,
      partitionId: ref.partitionId,
      current: ref.registration,
      isAcceptableLeader: (id) => isActiveBroker(context.image, id),
      election: 'unclean',
      elr: elrSettings(context.image, context.config, ref.topic.name, ref.registration),
    });
    if (change !== null) changes.push(change);
  }
  return changes;
}
