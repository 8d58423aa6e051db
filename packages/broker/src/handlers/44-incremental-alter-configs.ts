/**
 * IncrementalAlterConfigs (API key 44), versions 0-1 (KIP-339).
 * Changes single configs of each resource: SET (0), DELETE (1, back to the default), APPEND (2)
 * and SUBTRACT (3) for list configs (starting from the config's default when not set; INVALID_CONFIG
 * for other types). Topic resources (type 2) and broker resources (type 4: this broker's id, or ''
 * for the cluster-wide defaults) are checked as AlterConfigs checks them (see 33-alter-configs.ts),
 * after the change is applied to the stored set. INVALID_REQUEST for a null value outside DELETE,
 * a config named twice, an unknown operation, or a resource named twice.
 * Deviations: BROKER_LOGGER (8) resources are refused (Gregor has no log4j loggers); throttleTimeMs is 0.
 */
import type { IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponseInput } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import { alterConfigs } from '../config-changes.js';
import type { Body } from '../context.js';

export function handleIncrementalAlterConfigs(broker: Broker, _apiVersion: number, body: Body): IncrementalAlterConfigsResponseInput {
  const request = body as IncrementalAlterConfigsRequest;
  return { throttleTimeMs: 0, responses: alterConfigs(broker, request.resources, true, request.validateOnly) };
}
