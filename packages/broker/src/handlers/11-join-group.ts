/**
 * JoinGroup (API key 11), versions 0-9, Kafka's classic protocol.
 * The request parks until the rebalance completes (every member rejoined, or the rebalance
 * timeout, or the initial rebalance delay for a new group), then each member learns the
 * generation, the selected protocol and the leader; the leader also gets every member's metadata.
 * v4+ first answers an unknown member MEMBER_ID_REQUIRED with its new member id (KIP-394); v5+
 * static members (groupInstanceId, KIP-345); v7+ protocolType in the answer; v9 skipAssignment
 * for a static leader rejoining a stable group. v0 has no rebalance timeout: it is the session timeout.
 * Deviations: throttleTimeMs is 0; the reason field (v8+) is accepted and not logged.
 * Authorization: Read on the group, else GROUP_AUTHORIZATION_FAILED.
 */
import { AclOperation, ErrorCode, type JoinGroupRequest, type JoinGroupResponseInput, ResourceType } from '@gregor/protocol';
import { isAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import { ensureGroupCoordination } from '../controller-forwarding.js';
import type { RequestContext } from '../context.js';

export async function handleJoinGroup(broker: Broker, apiVersion: number, body: JoinGroupRequest, context: RequestContext): Promise<JoinGroupResponseInput> {
  if (!isAuthorized(broker, context, AclOperation.READ, ResourceType.GROUP, body.groupId)) {
    return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, generationId: -1, protocolType: null, protocolName: apiVersion >= 7 ? null : '', leader: '', skipAssignment: false, memberId: body.memberId ?? '', members: [] };
  }
  await ensureGroupCoordination(broker);
  const result = await broker.coordinator.joinGroup({
    groupId: body.groupId,
    memberId: body.memberId ?? '',
    groupInstanceId: apiVersion >= 5 ? (body.groupInstanceId ?? null) : null,
    requireKnownMemberId: apiVersion >= 4,
    clientId: context.clientId ?? '',
    clientHost: context.clientHost ?? '',
    rebalanceTimeoutMs: apiVersion >= 1 ? body.rebalanceTimeoutMs : body.sessionTimeoutMs,
    sessionTimeoutMs: body.sessionTimeoutMs,
    protocolType: body.protocolType,
    protocols: (body.protocols ?? []).map((protocol) => ({ name: protocol.name, metadata: protocol.metadata ?? Buffer.alloc(0) })),
  });
  return {
    throttleTimeMs: 0,
    errorCode: result.errorCode,
    generationId: result.generationId,
    protocolType: result.protocolType,
    protocolName: result.protocolName ?? (apiVersion >= 7 ? null : ''),
    leader: result.leader,
    skipAssignment: result.skipAssignment,
    memberId: result.memberId,
    members: result.members,
  };
}
