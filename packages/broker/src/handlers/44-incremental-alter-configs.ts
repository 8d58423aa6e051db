/**
 * IncrementalAlterConfigs (API key 44), versions 0-1 (KIP-339).
 * Changes single configs of each resource: SET (0), DELETE (1, back to the default), APPEND (2)
 * and SUBTRACT (3) for list configs (starting from the config's default when not set; INVALID_CONFIG
 * for other types). Topic resources (type 2) and broker resources (type 4: this broker's id, or ''
 * for the cluster-wide defaults) are checked as AlterConfigs checks them (see 33-alter-configs.ts),
 * after the change is applied to the resource's set: the broker refuses what the request itself
 * gets wrong and forwards the rest to the controller (config-changes.ts). INVALID_REQUEST for a
 * null value outside DELETE, a config named twice, an unknown operation, or a resource named twice.
 * Deviations: BROKER_LOGGER (8) resources are refused (Gregor has no log4j loggers); throttleTimeMs is 0.
 * Authorization: AlterConfigs on the topic (else TOPIC_AUTHORIZATION_FAILED) or on the cluster for
 * a broker (else CLUSTER_AUTHORIZATION_FAILED).
 */
import { ApiKey, type IncrementalAlterConfigsRequest, type IncrementalAlterConfigsResponseInput } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import { alterAuthorizedConfigs } from '../config-changes.js';
import type { RequestContext } from '../context.js';

export async function handleIncrementalAlterConfigs(broker: Broker, apiVersion: number, request: IncrementalAlterConfigsRequest, context: RequestContext = {}): Promise<IncrementalAlterConfigsResponseInput> {
  const responses = await alterAuthorizedConfigs(broker, context, ApiKey.IncrementalAlterConfigs, apiVersion, request.resources, true, request.validateOnly);
  return { throttleTimeMs: 0, responses };
}
