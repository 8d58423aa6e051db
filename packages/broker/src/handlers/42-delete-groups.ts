/**
 * DeleteGroups (API key 42), versions 0-2.
 * Deletes each named group that has no members: tombstones for its committed offsets and its
 * GroupMetadata go to `__consumer_offsets`, then the group is gone (Kafka's deleteGroups).
 * Errors per group: INVALID_GROUP_ID (empty id), GROUP_ID_NOT_FOUND (unknown or Dead),
 * NON_EMPTY_GROUP (members remain), COORDINATOR_NOT_AVAILABLE (the tombstones could not be written),
 * NOT_COORDINATOR (the group's `__consumer_offsets` partition is led by another broker).
 * Deviations: throttleTimeMs is 0.
 * Authorization: Delete on each group, else GROUP_AUTHORIZATION_FAILED for it.
 */
import type { DeleteGroupsRequest, DeleteGroupsResponseInput } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import type { RequestContext } from '../context.js';
import { AclOperation, ErrorCode, ResourceType } from '@gregor/protocol';
import { isAuthorized } from '../authorization.js';
import { ensureGroupCoordination } from '../controller-forwarding.js';
import type { Entry } from './types.js';

export async function handleDeleteGroups(broker: Broker, _apiVersion: number, request: DeleteGroupsRequest, context: RequestContext = {}): Promise<DeleteGroupsResponseInput> {
  await ensureGroupCoordination(broker);
  const results = await Promise.all(request.groupsNames.map(async (groupId): Promise<Entry<DeleteGroupsResponseInput['results']>> => ({
    groupId,
    errorCode: isAuthorized(broker, context, AclOperation.DELETE, ResourceType.GROUP, groupId) ? await broker.coordinator.deleteGroup(groupId) : ErrorCode.GROUP_AUTHORIZATION_FAILED,
  })));
  return { throttleTimeMs: 0, results };
}
