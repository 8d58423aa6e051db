/**
 * DescribeCluster (API key 60), versions 0-1 (KIP-700).
 * The cluster id, this broker as the only broker and as the controller. endpointType (v1) 1
 * (brokers) is answered; 2 (controllers) is refused with UNSUPPORTED_ENDPOINT_TYPE as Kafka does on
 * a broker listener. Deviations: clusterAuthorizedOperations is not computed; throttleTimeMs 0.
 */
import { ErrorCode } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import type { Body } from '../context.js';

const ENDPOINT_TYPE_BROKER = 1;

export function handleDescribeCluster(broker: Broker, _apiVersion: number, body: Body): Body {
  const endpointType: number = body.endpointType ?? ENDPOINT_TYPE_BROKER;
  const base = { throttleTimeMs: 0, endpointType, clusterId: broker.clusterId, controllerId: broker.nodeId, clusterAuthorizedOperations: -2147483648 };
  if (endpointType !== ENDPOINT_TYPE_BROKER) {
    return { ...base, errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, errorMessage: 'Only broker endpoints are served', brokers: [] };
  }
  return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, brokers: [{ brokerId: broker.nodeId, host: broker.advertisedHost, port: broker.advertisedPort, rack: null }] };
}
