/**
 * InitProducerId (API key 22), versions 0-4, for idempotent (non-transactional) producers, as
 * Kafka's TransactionCoordinator answers them: without a transactional id the request's producer
 * id and epoch are ignored and every call gets a fresh producer id with epoch 0 (Kafka "blindly
 * accepts" such requests). An idempotent producer that must bump its epoch does it itself, as
 * Kafka's Java producer does, and the partitions accept the new epoch from sequence 0. As in
 * Kafka, v3+ with exactly one of producerId and producerEpoch set to -1 is INVALID_REQUEST. When
 * no id is ready (the block source is waiting or failed) the answer is COORDINATOR_LOAD_IN_PROGRESS,
 * which clients retry, as Kafka's RPCProducerIdManager answers.
 * Authorization, as Kafka 3 (KIP-679): with a transactionalId, Write on that TRANSACTIONAL_ID, else
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED; without one, IdempotentWrite on the cluster or Write on
 * any topic (`authorizeByResourceType`), else CLUSTER_AUTHORIZATION_FAILED.
 * Deviations: transactions are not supported yet, so an authorized transactionalId is answered
 * COORDINATOR_NOT_AVAILABLE, as FindCoordinator answers for transactions; throttleTimeMs 0.
 */
import { AclOperation, ErrorCode, type InitProducerIdRequest, type InitProducerIdResponseInput, ResourceType } from '@gregor/protocol';
import { isAuthorized, isAuthorizedByResourceType, isClusterAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import type { RequestContext } from '../context.js';
import { BrokerError } from '../errors.js';

const NO_PRODUCER_ID = -1;
const NO_PRODUCER_EPOCH = -1;

export function handleInitProducerId(broker: Broker, _apiVersion: number, body: InitProducerIdRequest, context: RequestContext = {}): InitProducerIdResponseInput {
  const fail = (errorCode: number): InitProducerIdResponseInput => ({ throttleTimeMs: 0, errorCode, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH });
  const transactionalId: string | null = body.transactionalId ?? null;
  if (transactionalId !== null) {
    if (!isAuthorized(broker, context, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, transactionalId)) return fail(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  }
  const mayWriteIdempotently = isClusterAuthorized(broker, context, AclOperation.IDEMPOTENT_WRITE) || isAuthorizedByResourceType(broker, context, AclOperation.WRITE, ResourceType.TOPIC);
  if (!mayWriteIdempotently) return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  // Versions before 3 carry neither field: they read as -1.
  const producerId: number = body.producerId ?? NO_PRODUCER_ID;
  const producerEpoch: number = body.producerEpoch ?? NO_PRODUCER_EPOCH;
  if ((producerId === NO_PRODUCER_ID) !== (producerEpoch === NO_PRODUCER_EPOCH)) return fail(ErrorCode.INVALID_REQUEST);
  try {
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: broker.producerIds.allocate(), producerEpoch: 0 };
  } catch (error) {
    if (error instanceof BrokerError && error.errorCode >= 0) return fail(error.errorCode);
    throw error;
  }
}
