/**
 * SyncGroup (API key 14), versions 0-5.
 * Members park until the leader sends the assignments of the generation; then each gets its own.
 * A stale generation is ILLEGAL_GENERATION, a sync during a new rebalance REBALANCE_IN_PROGRESS,
 * a protocol type or name (v5) other than the group's INCONSISTENT_GROUP_PROTOCOL.
 * Deviations: throttleTimeMs is 0.
 * Authorization: Read on the group, else GROUP_AUTHORIZATION_FAILED.
 */
import { AclOperation, ErrorCode, ResourceType, type SyncGroupRequest, type SyncGroupResponseInput } from '@gregor/protocol';
import { isAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import { ensureGroupCoordination } from '../controller-forwarding.js';
import type { RequestContext } from '../context.js';

export async function handleSyncGroup(broker: Broker, apiVersion: number, body: SyncGroupRequest, context: RequestContext = {}): Promise<SyncGroupResponseInput> {
  if (!isAuthorized(broker, context, AclOperation.READ, ResourceType.GROUP, body.groupId)) {
    return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
  }
  await ensureGroupCoordination(broker);
  const result = await broker.coordinator.syncGroup({
    groupId: body.groupId,
    generationId: body.generationId,
    memberId: body.memberId,
    groupInstanceId: apiVersion >= 3 ? (body.groupInstanceId ?? null) : null,
    protocolType: apiVersion >= 5 ? (body.protocolType ?? null) : null,
    protocolName: apiVersion >= 5 ? (body.protocolName ?? null) : null,
    assignments: (body.assignments ?? []).map((entry) => ({ memberId: entry.memberId, assignment: entry.assignment ?? Buffer.alloc(0) })),
  });
  return { throttleTimeMs: 0, errorCode: result.errorCode, protocolType: result.protocolType, protocolName: result.protocolName, assignment: result.assignment };
}
