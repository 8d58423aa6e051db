/**
 * Brokers (Kafka's ClusterControlManager, the heartbeat half of its ReplicationControlManager and
 * its ProducerIdControlManager): registration, heartbeats with fencing, unfencing and controlled
 * shutdown, unregistration, session expiry, and producer-id blocks.
 *
 * Fencing, for a learner: a fenced broker is one the cluster does not trust to be current. It
 * leads no partition and joins no ISR. Every broker starts fenced when it registers; it is
 * unfenced once its heartbeats report that it has read the metadata log up to its own
 * registration (so it knows the partitions it must serve); it is fenced again when its heartbeats
 * stop for `broker.session.timeout.ms`, when it asks to be, or when it shuts down. Being fenced
 * is what lets the controller move leadership away from a broker it cannot reach, without
 * waiting for that broker to agree.
 */
import type {
  AllocateProducerIdsRequest, AllocateProducerIdsResponse, BrokerHeartbeatRequest, BrokerHeartbeatResponse, BrokerRegistrationRequest,
  BrokerRegistrationResponse, UnregisterBrokerRequest, UnregisterBrokerResponse,
} from '@gregor/protocol';
import { ErrorCode } from '@gregor/protocol';
import type { MetadataRecordInput } from '../records.js';
import type { BrokerState } from './broker-heartbeats.js';
import { type ControlContext, type ControllerResult, hasLeaderships, isElrEnabled } from './context.js';
import { ControllerError } from './errors.js';
import {
  brokerFencedRecords, brokerInControlledShutdownRecords, brokerUncleanShutdownRecords, brokerUnfencedRecords, brokerUnregisteredRecords,
  checkBrokerEpoch,
} from './replication-control.js';

/** The metadata.version this controller writes at bootstrap: Kafka's 3.3-IV3 (see METADATA_VERSION_LEVEL). */
export const METADATA_VERSION_FEATURE = 'metadata.version';
/**
 * 7, Kafka's IBP_3_3_IV3: the newest level whose records are exactly those Gregor writes
 * (RegisterBrokerRecord v1 with inControlledShutdown, BrokerRegistrationChangeRecord,
 * PartitionRecord and PartitionChangeRecord v0, NoOpRecord).
 */
export const METADATA_VERSION_LEVEL = 7;
/** Kafka's ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE. */
export const PRODUCER_ID_BLOCK_SIZE = 1000;

/** BrokerRegistration (KIP-631). A new incarnation's broker epoch is the offset of its RegisterBrokerRecord. */
export function registerBroker(context: ControlContext, request: BrokerRegistrationRequest): ControllerResult<BrokerRegistrationResponse> & { newIncarnation: boolean } {
  const { image, config } = context;
  if (request.clusterId !== config.clusterId) {
    throw new ControllerError('INCONSISTENT_CLUSTER_ID', `Expected cluster ID ${config.clusterId}, but got cluster ID ${request.clusterId}`);
  }
  const existing = image.brokers.get(request.brokerId);
  const newIncarnation = existing === undefined || existing.incarnationId !== request.incarnationId;
  if (existing !== undefined && newIncarnation && context.heartbeats.hasValidSession(image, request.brokerId, context.nowMs)) {
    throw new ControllerError('DUPLICATE_BROKER_REGISTRATION', 'Another broker is registered with that broker id.');
  }
  if (request.isMigratingZkBroker) throw new ControllerError('BROKER_ID_NOT_REGISTERED', 'Controller does not support registering ZK brokers.');
  checkMetadataVersionSupported(request);
  const listenerNames = new Set(request.listeners.map((listener) => listener.name));
  if (listenerNames.size !== request.listeners.length) throw new ControllerError('INVALID_REGISTRATION', 'Duplicate listener name in the registration.');

  const records: MetadataRecordInput[] = [];
  if (existing !== undefined && newIncarnation) {
    // Kafka's handleBrokerShutdown. A broker proves a clean shutdown by sending the epoch it had
    // (its log manager wrote it in the clean-shutdown marker). Without that proof, and with
    // eligible leader replicas on, it leaves every ISR and ELR: its unflushed tail may be gone.
    // Otherwise the old incarnation, if its session expired but it was not fenced yet, leaves
    // its ISRs and leaderships as a fenced broker does, so a fenced registration leads nothing.
    const cleanShutdown = request.previousBrokerEpoch === existing.epoch;
    if (isElrEnabled(image) && !cleanShutdown) records.push(...brokerUncleanShutdownRecords(context, request.brokerId));
    else if (!existing.fenced) records.push(...brokerFencedRecords(context, request.brokerId).filter((record) => record.type === 'PartitionChange'));
  }
  const brokerEpoch = newIncarnation ? context.nextOffset + records.length : (existing?.epoch ?? -1);
  records.push({
    type: 'RegisterBroker',
    brokerId: request.brokerId,
    incarnationId: request.incarnationId,
    brokerEpoch,
    endPoints: request.listeners.map((listener) => ({ name: listener.name, host: listener.host, port: listener.port, securityProtocol: listener.securityProtocol })),
    features: request.features.map((feature) => ({ ...feature })),
    rack: request.rack,
    // A new incarnation starts fenced; re-sending the same registration keeps the state it has.
    fenced: newIncarnation ? true : (existing?.fenced ?? true),
    inControlledShutdown: newIncarnation ? false : (existing?.inControlledShutdown ?? false),
  });
  return { records, response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, brokerEpoch }, newIncarnation };
}

/** UNSUPPORTED_VERSION unless the broker supports this cluster's metadata.version (a broker that sends no range supports only level 1, as in Kafka). */
function checkMetadataVersionSupported(request: BrokerRegistrationRequest): void {
  const range = request.features.find((feature) => feature.name === METADATA_VERSION_FEATURE) ?? { minSupportedVersion: 1, maxSupportedVersion: 1 };
  if (METADATA_VERSION_LEVEL < range.minSupportedVersion || METADATA_VERSION_LEVEL > range.maxSupportedVersion) {
    throw new ControllerError(
      'UNSUPPORTED_VERSION',
      `Unable to register because the broker does not support finalized version ${METADATA_VERSION_LEVEL} of ${METADATA_VERSION_FEATURE}. The broker wants a version between ${range.minSupportedVersion} and ${range.maxSupportedVersion}, inclusive.`,
    );
  }
}

export interface HeartbeatResult extends ControllerResult<BrokerHeartbeatResponse> {
  nextState: BrokerState;
}

/**
 * BrokerHeartbeat: refreshes the session (the caller touches it once the records are built), and
 * moves the broker between fenced, unfenced, controlled shutdown and shutdown.
 */
export function brokerHeartbeat(context: ControlContext, request: BrokerHeartbeatRequest): HeartbeatResult {
  const { image, heartbeats } = context;
  checkBrokerEpoch(image, request.brokerId, request.brokerEpoch);
  const broker = image.brokers.get(request.brokerId);
  if (broker === undefined) throw new Error('checkBrokerEpoch passed for an unregistered broker');
  const current = broker.fenced ? 'FENCED' : broker.inControlledShutdown ? 'CONTROLLED_SHUTDOWN' : 'UNFENCED';
  let nextState = heartbeats.nextState(
    broker.id,
    current,
    request,
    broker.epoch,
    hasLeaderships(image, broker.id),
    heartbeats.lowestActiveOffset(image),
  );
  // A broker that completed a controlled shutdown stays fenced until it registers again.
  if (current === 'FENCED' && nextState === 'UNFENCED' && broker.inControlledShutdown) nextState = 'FENCED';
  const records: MetadataRecordInput[] = [];
  if (nextState !== current) {
    switch (nextState) {
      case 'FENCED':
      case 'SHUTDOWN_NOW':
        records.push(...brokerFencedRecords(context, broker.id));
        break;
      case 'UNFENCED':
        records.push(...brokerUnfencedRecords(context, broker.id, broker.epoch));
        break;
      case 'CONTROLLED_SHUTDOWN':
        records.push(...brokerInControlledShutdownRecords(context, broker.id, broker.epoch));
        break;
    }
  }
  const fenced = nextState === 'FENCED' || nextState === 'SHUTDOWN_NOW';
  return {
    records,
    nextState,
    response: {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      isCaughtUp: request.currentMetadataOffset >= broker.epoch,
      isFenced: fenced,
      shouldShutDown: nextState === 'SHUTDOWN_NOW',
    },
  };
}

/** UnregisterBroker: BROKER_ID_NOT_REGISTERED for an unknown id. */
export function unregisterBroker(context: ControlContext, request: UnregisterBrokerRequest): ControllerResult<UnregisterBrokerResponse> {
  const broker = context.image.brokers.get(request.brokerId);
  if (broker === undefined) throw new ControllerError('BROKER_ID_NOT_REGISTERED', `Broker ID ${request.brokerId} is not currently registered`);
  return {
    records: brokerUnregisteredRecords(context, broker.id, broker.epoch),
    response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null },
  };
}

/** The session-expiry pass: fences the broker whose session expired longest ago, if any (one per pass, as Kafka). */
export function fenceStaleBroker(context: ControlContext): { brokerId: number; records: MetadataRecordInput[] } | null {
  const brokerId = context.heartbeats.findStaleBroker(context.image, context.nowMs);
  if (brokerId === undefined) return null;
  return { brokerId, records: brokerFencedRecords(context, brokerId) };
}

/** AllocateProducerIds (KIP-730): the next block of 1000 ids, recorded with a ProducerIdsRecord. */
export function allocateProducerIds(context: ControlContext, request: AllocateProducerIdsRequest): ControllerResult<AllocateProducerIdsResponse> {
  checkBrokerEpoch(context.image, request.brokerId, request.brokerEpoch);
  const start = context.image.nextProducerId;
  // Producer ids are int64 in Kafka; here they are JavaScript numbers, exact up to 2^53.
  if (start > Number.MAX_SAFE_INTEGER - PRODUCER_ID_BLOCK_SIZE) {
    throw new ControllerError('UNKNOWN_SERVER_ERROR', 'Exhausted all producerIds as the next block would pass the largest exact producer id');
  }
  return {
    records: [{ type: 'ProducerIds', brokerId: request.brokerId, brokerEpoch: request.brokerEpoch, nextProducerId: start + PRODUCER_ID_BLOCK_SIZE }],
    response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerIdStart: start, producerIdLen: PRODUCER_ID_BLOCK_SIZE },
  };
}
