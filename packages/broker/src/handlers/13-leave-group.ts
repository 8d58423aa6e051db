/**
 * LeaveGroup (API key 13), versions 0-5 (v3+ batches members, by member id or group instance id).
 * Removes the members and starts a rebalance for the rest. v0-2 answer the single member's error at
 * the top level; v3+ per member. Deviations: throttleTimeMs is 0; reasons (v5) are not logged.
 * Authorization: Read on the group, else GROUP_AUTHORIZATION_FAILED.
 */
import { AclOperation, ErrorCode, type LeaveGroupRequest, type LeaveGroupResponseInput, ResourceType } from '@gregor/protocol';
import { isAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import type { RequestContext } from '../context.js';
import { ensureGroupCoordination } from '../controller-forwarding.js';

export async function handleLeaveGroup(broker: Broker, apiVersion: number, body: LeaveGroupRequest, context: RequestContext = {}): Promise<LeaveGroupResponseInput> {
  if (!isAuthorized(broker, context, AclOperation.READ, ResourceType.GROUP, body.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] };
  await ensureGroupCoordination(broker);
  const leaving = apiVersion >= 3
    ? (body.members ?? []).map((member) => ({ memberId: member.memberId ?? '', groupInstanceId: member.groupInstanceId ?? null }))
    : [{ memberId: body.memberId ?? '', groupInstanceId: null }];
  const result = broker.coordinator.leaveGroup(body.groupId, leaving);
  if (apiVersion >= 3) return { throttleTimeMs: 0, errorCode: result.errorCode, members: result.members };
  return { throttleTimeMs: 0, errorCode: result.errorCode !== ErrorCode.NONE ? result.errorCode : (result.members[0]?.errorCode ?? ErrorCode.NONE) };
}
