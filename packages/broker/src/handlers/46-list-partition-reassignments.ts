/**
 * ListPartitionReassignments (API key 46), version 0 (KIP-455).
 * Forwarded to the active controller, which lists the partitions with a move in progress (every
 * one for null topics, else among those named; unknown ones are left out) with their replicas and
 * the ones being added and removed. No answer from the controller is REQUEST_TIMED_OUT at the top.
 * Needs DESCRIBE on the CLUSTER resource when an authorizer is on (CLUSTER_AUTHORIZATION_FAILED at the top).
 * Deviations: throttleTimeMs is 0.
 */
import { AclOperation, ApiKey, ErrorCode, type ListPartitionReassignmentsRequest, type ListPartitionReassignmentsResponseInput } from '@gregor/protocol';
import { isClusterAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import type { RequestContext } from '../context.js';
import { forwardToController } from '../controller-forwarding.js';

export async function handleListPartitionReassignments(broker: Broker, apiVersion: number, body: ListPartitionReassignmentsRequest, context: RequestContext = {}): Promise<ListPartitionReassignmentsResponseInput> {
  if (!isClusterAuthorized(broker, context, AclOperation.DESCRIBE)) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, topics: [] };
  const response = await forwardToController(broker, ApiKey.ListPartitionReassignments, apiVersion, body);
  return response ?? { throttleTimeMs: 0, errorCode: ErrorCode.REQUEST_TIMED_OUT, errorMessage: 'The controller did not answer', topics: [] };
}
