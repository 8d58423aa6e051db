/**
 * AlterPartitionReassignments (API key 45), versions 0-1 (KIP-455, KIP-860).
 * Forwarded to the active controller in the client's version, as Kafka's broker forwards it: the
 * controller checks each partition (UNKNOWN_TOPIC_OR_PARTITION, INVALID_REPLICA_ASSIGNMENT,
 * NO_REASSIGNMENT_IN_PROGRESS for a cancel with nothing to cancel, INVALID_REPLICATION_FACTOR when
 * v1's allowReplicationFactorChange is false) and starts, replaces or cancels the moves; the move
 * itself goes on in the background (docs/replication.md). No answer from the controller is
 * REQUEST_TIMED_OUT at the top, which clients retry.
 * Needs ALTER on the CLUSTER resource when an authorizer is on (CLUSTER_AUTHORIZATION_FAILED at the top).
 * Deviations: throttleTimeMs is 0.
 */
import { AclOperation, type AlterPartitionReassignmentsRequest, type AlterPartitionReassignmentsResponseInput, ApiKey, ErrorCode } from '@gregor/protocol';
import { isClusterAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import type { RequestContext } from '../context.js';
import { forwardToController } from '../controller-forwarding.js';

export async function handleAlterPartitionReassignments(broker: Broker, apiVersion: number, body: AlterPartitionReassignmentsRequest, context: RequestContext = {}): Promise<AlterPartitionReassignmentsResponseInput> {
  if (!isClusterAuthorized(broker, context, AclOperation.ALTER)) {
    return {
      throttleTimeMs: 0, allowReplicationFactorChange: body.allowReplicationFactorChange ?? true, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
      errorMessage: null, responses: [],
    };
  }
  const response = await forwardToController(broker, ApiKey.AlterPartitionReassignments, apiVersion, body);
  return response ?? {
    throttleTimeMs: 0, allowReplicationFactorChange: body.allowReplicationFactorChange ?? true, errorCode: ErrorCode.REQUEST_TIMED_OUT,
    errorMessage: 'The controller did not answer', responses: [],
  };
}
