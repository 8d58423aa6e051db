/**
 * AlterConfigs (API key 33), versions 0-2.
 * Replaces the dynamic configs of each resource with the ones given (configs not named are
 * removed), as Kafka's legacy AlterConfigs: topics (type 2) after the checks CreateTopics applies
 * (INVALID_CONFIG for an unknown name, a bad value, min.compaction.lag.ms above
 * max.compaction.lag.ms; UNKNOWN_TOPIC_OR_PARTITION), brokers (type 4, this broker's id or '' for
 * the cluster-wide defaults) with Kafka's dynamic-config rules (INVALID_REQUEST for a read-only
 * config, a per-broker config at cluster level, a bad value). validateOnly checks without
 * changing anything. The broker refuses what the request itself gets wrong and forwards the rest
 * to the controller (config-changes.ts), which commits the change to the metadata; it takes effect
 * when the broker's image brings it: topic configs on the topic's logs, broker configs on the
 * settings Gregor acts on and every topic's defaults.
 * Deviations: a broker config name Kafka does not define is INVALID_CONFIG (Kafka stores unknown
 * names); throttleTimeMs is 0.
 * Authorization: AlterConfigs on the topic (else TOPIC_AUTHORIZATION_FAILED) or on the cluster for
 * a broker (else CLUSTER_AUTHORIZATION_FAILED).
 */
import { type AlterConfigsRequest, type AlterConfigsResponseInput, ApiKey } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import { alterAuthorizedConfigs } from '../config-changes.js';
import type { RequestContext } from '../context.js';

export async function handleAlterConfigs(broker: Broker, apiVersion: number, request: AlterConfigsRequest, context: RequestContext = {}): Promise<AlterConfigsResponseInput> {
  const responses = await alterAuthorizedConfigs(broker, context, ApiKey.AlterConfigs, apiVersion, request.resources, false, request.validateOnly);
  return { throttleTimeMs: 0, responses };
}
