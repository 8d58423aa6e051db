/**
 * FindCoordinator (API key 10), versions 0-4 (v4 batches coordinatorKeys).
 * Every group's coordinator is this broker; the first lookup creates `__consumer_offsets` (as
 * Kafka does). Deviations: transactions are not supported yet, so key type 1 (transaction) is
 * answered COORDINATOR_NOT_AVAILABLE; throttleTimeMs is 0.
 */
import { ErrorCode } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import type { Body } from '../context.js';

const KEY_TYPE_GROUP = 0;

export function handleFindCoordinator(broker: Broker, apiVersion: number, body: Body): Body {
  const keyType: number = body.keyType ?? KEY_TYPE_GROUP;
  const keys: string[] = apiVersion >= 4 ? (body.coordinatorKeys ?? []) : [body.key ?? ''];
  const coordinators = keys.map((key) => {
    const answer = (errorCode: number, errorMessage: string | null): Body => ({
      key, nodeId: errorCode === ErrorCode.NONE ? broker.nodeId : -1, host: errorCode === ErrorCode.NONE ? broker.advertisedHost : '',
      port: errorCode === ErrorCode.NONE ? broker.advertisedPort : -1, errorCode, errorMessage,
    });
    if (keyType !== KEY_TYPE_GROUP) return answer(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'Transactions are not supported by this broker');
    if (key === '') return answer(ErrorCode.INVALID_REQUEST, 'Group id is empty');
    const offsets = broker.ensureOffsetsTopic();
    if (offsets.errorCode !== ErrorCode.NONE) return answer(ErrorCode.COORDINATOR_NOT_AVAILABLE, offsets.errorMessage);
    return answer(ErrorCode.NONE, null);
  });
  if (apiVersion >= 4) return { throttleTimeMs: 0, coordinators };
  const [single] = coordinators;
  return { throttleTimeMs: 0, errorCode: single.errorCode, errorMessage: single.errorMessage, nodeId: single.nodeId, host: single.host, port: single.port };
}
