/**
 * DescribeCluster (API key 60), versions 0-1 (KIP-700).
 * The cluster id, every unfenced broker with an endpoint on the request's listener, and as
 * controllerId the active controller when it is also a live broker, else a live broker (as KRaft
 * brokers answer). endpointType (v1) 1 (brokers) is answered; 2 (controllers) is refused with
 * UNSUPPORTED_ENDPOINT_TYPE as Kafka does on a broker listener. clusterAuthorizedOperations, when
 * includeClusterAuthorizedOperations: the bit field of what the caller may do on the cluster, 0
 * without Describe on it; otherwise Int.MinValue. Deviations: throttleTimeMs 0.
 */
import { AclOperation, CLUSTER_RESOURCE_NAME, type DescribeClusterRequest, type DescribeClusterResponseInput, ErrorCode, ResourceType } from '@gregor/protocol';
import { AUTHORIZED_OPERATIONS_OMITTED, authorizedOperations, isClusterAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import type { RequestContext } from '../context.js';
import type { Entry } from './types.js';

const ENDPOINT_TYPE_BROKER = 1;

export function handleDescribeCluster(broker: Broker, _apiVersion: number, body: DescribeClusterRequest, context: RequestContext): DescribeClusterResponseInput {
  const endpointType: number = body.endpointType ?? ENDPOINT_TYPE_BROKER;
  const listenerName = broker.listenerName(context);
  let clusterAuthorizedOperations = AUTHORIZED_OPERATIONS_OMITTED;
  if (body.includeClusterAuthorizedOperations === true) {
    clusterAuthorizedOperations = isClusterAuthorized(broker, context, AclOperation.DESCRIBE) ? authorizedOperations(broker, context, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME) : 0;
  }
  const base = { throttleTimeMs: 0, endpointType, clusterId: broker.clusterId, controllerId: broker.controllerIdFor(listenerName), clusterAuthorizedOperations };
  if (endpointType !== ENDPOINT_TYPE_BROKER) {
    return { ...base, errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, errorMessage: 'Only broker endpoints are served', brokers: [] };
  }
  const brokers = broker.liveBrokers(listenerName).map((entry): Entry<DescribeClusterResponseInput['brokers']> => ({ brokerId: entry.nodeId, host: entry.host, port: entry.port, rack: entry.rack }));
  return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, brokers };
}
