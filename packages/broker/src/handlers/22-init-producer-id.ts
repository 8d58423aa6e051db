/**
 * InitProducerId (API key 22), versions 0-4, for idempotent (non-transactional) producers.
 * A call without a producer id allocates a new id with epoch 0; v3+ with the producer's current id
 * and epoch bumps the epoch (KIP-360), or allocates a new id when the epoch would overflow.
 * Deviations: transactions are not supported yet, so a non-null transactionalId is answered with
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED (not retriable) rather than a coordinator; throttleTimeMs 0.
 */
import { ErrorCode } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import type { Body } from '../context.js';

const PRODUCER_EPOCH_MAX = 32_767;

export function handleInitProducerId(broker: Broker, _apiVersion: number, body: Body): Body {
  if (body.transactionalId !== null && body.transactionalId !== undefined) {
    return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 };
  }
  const producerId: number = body.producerId ?? -1;
  const producerEpoch: number = body.producerEpoch ?? -1;
  if (producerId >= 0 && producerEpoch >= 0 && producerEpoch < PRODUCER_EPOCH_MAX - 1) {
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId, producerEpoch: producerEpoch + 1 };
  }
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: broker.allocateProducerId(), producerEpoch: 0 };
}
