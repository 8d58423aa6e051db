/**
 * ListGroups (API key 16), versions 0-4 (v4 filters by state).
 * Every group this coordinator serves (those of the `__consumer_offsets` partitions this broker
 * leads) that is not Dead, with its protocol type and state; a client lists every broker's.
 * While a `__consumer_offsets` partition is being loaded the answer is COORDINATOR_LOAD_IN_PROGRESS
 * with no groups, as Kafka's (the client retries).
 * Deviations: typesFilter (v5) is not served; throttleTimeMs is 0.
 * Authorization: Describe on the cluster lists every group; else only the groups the principal may
 * Describe.
 */
import { AclOperation, ErrorCode, type ListGroupsRequest, type ListGroupsResponseInput, ResourceType } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import type { RequestContext } from '../context.js';
import { isAuthorized, isClusterAuthorized } from '../authorization.js';

export function handleListGroups(broker: Broker, apiVersion: number, body: ListGroupsRequest, context: RequestContext = {}): ListGroupsResponseInput {
  if (broker.coordinator.isLoading) return { throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, groups: [] };
  const states = apiVersion >= 4 ? (body.statesFilter ?? []) : [];
  const allVisible = isClusterAuthorized(broker, context, AclOperation.DESCRIBE);
  const groups = broker.coordinator.listGroups()
    .filter((group) => allVisible || isAuthorized(broker, context, AclOperation.DESCRIBE, ResourceType.GROUP, group.groupId))
    .filter((group) => states.length === 0 || states.some((state) => state.toLowerCase() === group.groupState.toLowerCase()));
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, groups };
}
