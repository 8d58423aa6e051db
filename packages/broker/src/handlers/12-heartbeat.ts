/**
 * Heartbeat (API key 12), versions 0-4.
 * Keeps the member's session alive; REBALANCE_IN_PROGRESS tells it to rejoin, ILLEGAL_GENERATION,
 * UNKNOWN_MEMBER_ID and FENCED_INSTANCE_ID (v3+) as Kafka; NOT_COORDINATOR when this broker does
 * not lead the group's `__consumer_offsets` partition. Deviations: throttleTimeMs is 0.
 * Authorization: Read on the group, else GROUP_AUTHORIZATION_FAILED.
 */
import { AclOperation, ErrorCode, type HeartbeatRequest, type HeartbeatResponseInput, ResourceType } from '@gregor/protocol';
import { isAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import type { RequestContext } from '../context.js';
import { ensureGroupCoordination } from '../controller-forwarding.js';

export async function handleHeartbeat(broker: Broker, apiVersion: number, body: HeartbeatRequest, context: RequestContext = {}): Promise<HeartbeatResponseInput> {
  if (!isAuthorized(broker, context, AclOperation.READ, ResourceType.GROUP, body.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
  await ensureGroupCoordination(broker);
  const errorCode = broker.coordinator.heartbeat(body.groupId, body.memberId, apiVersion >= 3 ? (body.groupInstanceId ?? null) : null, body.generationId);
  return { throttleTimeMs: 0, errorCode };
}
