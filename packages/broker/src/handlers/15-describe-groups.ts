/**
 * DescribeGroups (API key 15), versions 0-5.
 * State, protocol type, the selected protocol (when Stable) and the members; member metadata and
 * assignments are filled in when the group is Stable (as Kafka). An unknown group is described as
 * Dead with no error (as Kafka 3.x). Deviations: authorizedOperations is Int.MinValue (not
 * computed); throttleTimeMs is 0.
 */
import { ErrorCode } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import type { Body } from '../context.js';

export function handleDescribeGroups(broker: Broker, _apiVersion: number, body: Body): Body {
  const groups = (body.groups ?? []).map((groupId: string) => ({
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    ...broker.coordinator.describeGroup(groupId),
    authorizedOperations: -2147483648,
  }));
  return { throttleTimeMs: 0, groups };
}
