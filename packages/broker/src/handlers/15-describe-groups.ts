/**
 * DescribeGroups (API key 15), versions 0-5.
 * State, protocol type, the selected protocol (when Stable) and the members; member metadata and
 * assignments are filled in when the group is Stable (as Kafka). An unknown group is described as
 * Dead with no error (as Kafka 3.x). authorizedOperations (v3+, when includeAuthorizedOperations):
 * the bit field of what the caller may do on a group answered without error, else Int.MinValue.
 * Deviations: throttleTimeMs is 0. A group this broker does not coordinate is NOT_COORDINATOR.
 * Authorization: Describe on each group, else GROUP_AUTHORIZATION_FAILED for it.
 */
import { AclOperation, type DescribeGroupsRequest, type DescribeGroupsResponseInput, ErrorCode, ResourceType } from '@gregor/protocol';
import { AUTHORIZED_OPERATIONS_OMITTED, authorizedOperations, isAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import type { RequestContext } from '../context.js';
import { ensureGroupCoordination } from '../controller-forwarding.js';
import type { Entry } from './types.js';

export async function handleDescribeGroups(broker: Broker, apiVersion: number, body: DescribeGroupsRequest, context: RequestContext = {}): Promise<DescribeGroupsResponseInput> {
  await ensureGroupCoordination(broker);
  const withOperations = apiVersion >= 3 && body.includeAuthorizedOperations === true;
  const groups = (body.groups ?? []).map((groupId): Entry<DescribeGroupsResponseInput['groups']> => {
    const errorCode = isAuthorized(broker, context, AclOperation.DESCRIBE, ResourceType.GROUP, groupId) ? broker.coordinator.groupStatus(groupId) : ErrorCode.GROUP_AUTHORIZATION_FAILED;
    if (errorCode !== ErrorCode.NONE) return { errorCode, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
    const operations = withOperations ? authorizedOperations(broker, context, ResourceType.GROUP, groupId) : AUTHORIZED_OPERATIONS_OMITTED;
    return { errorCode, ...broker.coordinator.describeGroup(groupId), authorizedOperations: operations };
  });
  return { throttleTimeMs: 0, groups };
}
