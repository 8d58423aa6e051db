/**
 * FindCoordinator (API key 10), versions 0-4 (v4 batches coordinatorKeys).
 * A group's coordinator is the leader of its `__consumer_offsets` partition
 * (abs(groupId.hashCode) % partitions), with that broker's endpoint on the request's listener.
 * The first lookup creates `__consumer_offsets` through the controller (as Kafka does) and waits
 * for it; a partition without a leader (or one this broker cannot name) answers
 * COORDINATOR_NOT_AVAILABLE, which clients retry. Deviations: transactions are not supported yet,
 * so key type 1 (transaction) is answered COORDINATOR_NOT_AVAILABLE; throttleTimeMs is 0.
 * Authorization: Describe on the group, else GROUP_AUTHORIZATION_FAILED.
 */
import { AclOperation, ErrorCode, type FindCoordinatorRequest, type FindCoordinatorResponseInput, ResourceType } from '@gregor/protocol';
import { isAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import type { RequestContext } from '../context.js';
import { ensureOffsetsTopic } from '../controller-forwarding.js';
import { partitionForGroup } from '../ids.js';
import { OFFSETS_TOPIC } from '../topics.js';
import type { Entry } from './types.js';

const KEY_TYPE_GROUP = 0;

/** One key's answer (v4+ lists them; v0-3 answer the single key's fields at the top level). */
type Coordinator = Required<Pick<Entry<FindCoordinatorResponseInput['coordinators']>, 'key' | 'nodeId' | 'host' | 'port' | 'errorCode' | 'errorMessage'>>;

export async function handleFindCoordinator(broker: Broker, apiVersion: number, body: FindCoordinatorRequest, context: RequestContext): Promise<FindCoordinatorResponseInput> {
  const keyType = body.keyType ?? KEY_TYPE_GROUP;
  const keys = apiVersion >= 4 ? (body.coordinatorKeys ?? []) : [body.key ?? ''];
  const listenerName = broker.listenerName(context);
  const needsOffsetsTopic = keyType === KEY_TYPE_GROUP && keys.some((key) => key !== '');
  const offsets = needsOffsetsTopic ? await ensureOffsetsTopic(broker, broker.config.requestTimeoutMs) : null;
  const coordinators = keys.map((key): Coordinator => {
    const fail = (errorCode: number, errorMessage: string | null): Coordinator => ({ key, nodeId: -1, host: '', port: -1, errorCode, errorMessage });
    if (keyType !== KEY_TYPE_GROUP) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'Transactions are not supported by this broker');
    if (key === '') return fail(ErrorCode.INVALID_REQUEST, 'Group id is empty');
    if (!isAuthorized(broker, context, AclOperation.DESCRIBE, ResourceType.GROUP, key)) return fail(ErrorCode.GROUP_AUTHORIZATION_FAILED, null);
    if (offsets !== null && offsets.errorCode !== ErrorCode.NONE) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, offsets.errorMessage);
    const topic = broker.image.topic(OFFSETS_TOPIC);
    const leader = topic?.partitions.get(partitionForGroup(key, topic.partitions.size))?.leader ?? -1;
    const endpoint = broker.liveBrokers(listenerName).find((candidate) => candidate.nodeId === leader);
    if (endpoint === undefined) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
    return { key, nodeId: endpoint.nodeId, host: endpoint.host, port: endpoint.port, errorCode: ErrorCode.NONE, errorMessage: null };
  });
  if (apiVersion >= 4) return { throttleTimeMs: 0, coordinators };
  const [single] = coordinators;
  return { throttleTimeMs: 0, errorCode: single.errorCode, errorMessage: single.errorMessage, nodeId: single.nodeId, host: single.host, port: single.port };
}
