/**
 * InitProducerId (API key 22), versions 0-4, for idempotent (non-transactional) producers, as
 * Kafka's TransactionCoordinator answers them: without a transactional id the request's producer
 * id and epoch are ignored and every call gets a fresh producer id with epoch 0 (Kafka "blindly
 * accepts" such requests). An idempotent producer that must bump its epoch does it itself, as
 * Kafka's Java producer does, and the partitions accept the new epoch from sequence 0. As in
 * Kafka, v3+ with exactly one of producerId and producerEpoch set to -1 is INVALID_REQUEST. When
 * no id is ready (the block source is waiting or failed) the answer is COORDINATOR_LOAD_IN_PROGRESS,
 * which clients retry, as Kafka's RPCProducerIdManager answers.
 * Deviations: transactions are not supported yet, so a non-null transactionalId is answered with
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED (not retriable) rather than a coordinator; throttleTimeMs 0.
 * Authorization: IdempotentWrite on the cluster, else CLUSTER_AUTHORIZATION_FAILED.
 */
import { AclOperation, ErrorCode } from '@gregor/protocol';
import { isClusterAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import type { Body, RequestContext } from '../context.js';
import { BrokerError } from '../errors.js';

const NO_PRODUCER_ID = -1;
const NO_PRODUCER_EPOCH = -1;

export function handleInitProducerId(broker: Broker, _apiVersion: number, body: Body, context: RequestContext = {}): Body {
  const fail = (errorCode: number): Body => ({ throttleTimeMs: 0, errorCode, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH });
  if (body.transactionalId !== null && body.transactionalId !== undefined) return fail(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  // An idempotent producer needs IdempotentWrite on the cluster (Kafka 3 also accepts Write on any
  // topic; Gregor does not look for one).
  if (!isClusterAuthorized(broker, context, AclOperation.IDEMPOTENT_WRITE)) return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
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
