/**
 * DescribeConfigs (API key 32), versions 0-4.
 * Topic resources (type 2): every topic config Kafka defines, with its value (the topic's own
 * setting, else its broker default, as Kafka's strings), source (TOPIC_CONFIG, else the broker
 * synonym's: DYNAMIC_BROKER_CONFIG, DYNAMIC_DEFAULT_BROKER_CONFIG, STATIC_BROKER_CONFIG or
 * DEFAULT_CONFIG) and, when includeSynonyms (v1+), the synonyms Kafka reports: the topic's own
 * setting, then the broker synonym's settings starting at that synonym (a broker default is only
 * listed when it exists). Broker resources (type 4): this broker's id describes every broker
 * config Kafka defines (readOnly unless dynamic, passwords never returned); an empty name describes
 * the cluster-wide dynamic defaults. configurationKeys null or empty means all (Kafka treats empty
 * like null); named keys are answered in the order asked, unknown ones left out. configType (v3+)
 * is Kafka's; documentation (v3+, includeDocumentation) is ours and says whether Gregor acts on the
 * config. Errors: UNKNOWN_TOPIC_OR_PARTITION, INVALID_TOPIC_EXCEPTION, INVALID_REQUEST (another
 * broker's id, a name that is not an id, an unsupported resource type).
 * Deviations: BROKER_LOGGER (8) answers no loggers (Gregor has no log4j); GROUP and CLIENT_METRICS
 * resources are not supported (INVALID_REQUEST); throttleTimeMs is 0.
 * Authorization: DescribeConfigs on the topic (else TOPIC_AUTHORIZATION_FAILED) or on the cluster
 * for a broker (else CLUSTER_AUTHORIZATION_FAILED).
 */
import { AclOperation, ErrorCode, type DescribeConfigsRequest, type DescribeConfigsResponseInput, ResourceType as AclResourceType } from '@gregor/protocol';
import { isAuthorized, isClusterAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import { brokerConfigNames, describeBrokerConfig, describeTopicConfig, namesToDescribe, topicConfigNames, type DescribeOptions } from '../config-entries.js';
import type { RequestContext } from '../context.js';
import { topicConfigRecord } from '../replica-manager.js';
import { topicNameProblem } from '../topics.js';

/** Kafka's ConfigResource.Type ids. */
export const ResourceType = { topic: 2, broker: 4, brokerLogger: 8 } as const;

type Resource = DescribeConfigsRequest['resources'][number];
type Result = NonNullable<DescribeConfigsResponseInput['results']>[number];

export function handleDescribeConfigs(broker: Broker, _apiVersion: number, request: DescribeConfigsRequest, context: RequestContext = {}): DescribeConfigsResponseInput {
  const options: DescribeOptions = { includeSynonyms: request.includeSynonyms === true, includeDocumentation: request.includeDocumentation === true };
  const refused = (resource: Resource): number | null => {
    if (resource.resourceType === ResourceType.topic) {
      return isAuthorized(broker, context, AclOperation.DESCRIBE_CONFIGS, AclResourceType.TOPIC, resource.resourceName) ? null : ErrorCode.TOPIC_AUTHORIZATION_FAILED;
    }
    return isClusterAuthorized(broker, context, AclOperation.DESCRIBE_CONFIGS) ? null : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
  };
  return {
    throttleTimeMs: 0,
    results: request.resources.map((resource): Result => {
      const errorCode = refused(resource);
      if (errorCode === null) return describeResource(broker, resource, options);
      return { errorCode, errorMessage: null, resourceType: resource.resourceType, resourceName: resource.resourceName, configs: [] };
    }),
  };
}

function describeResource(broker: Broker, resource: Resource, options: DescribeOptions): Result {
  const keys = resource.configurationKeys;
  const answer = (errorCode: number, errorMessage: string | null, configs: Result['configs'] = []): Result => ({
    errorCode, errorMessage, resourceType: resource.resourceType, resourceName: resource.resourceName, configs,
  });
  if (resource.resourceType === ResourceType.topic) {
    const nameProblem = topicNameProblem(resource.resourceName);
    if (nameProblem !== null) return answer(ErrorCode.INVALID_TOPIC_EXCEPTION, nameProblem);
    if (broker.image.topic(resource.resourceName) === undefined) return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${resource.resourceName} does not exist`);
    const configs = topicConfigRecord(broker.image, resource.resourceName);
    return answer(ErrorCode.NONE, null, namesToDescribe(keys, topicConfigNames()).map((name) => describeTopicConfig(name, configs, broker.configView, options)));
  }
  if (resource.resourceType === ResourceType.broker || resource.resourceType === ResourceType.brokerLogger) {
    if (resource.resourceName === '') {
      if (resource.resourceType === ResourceType.brokerLogger) return answer(ErrorCode.INVALID_REQUEST, 'Broker id must not be empty');
      const names = namesToDescribe(keys, Object.keys(broker.configView.dynamicConfigs.clusterDefault).sort());
      return answer(ErrorCode.NONE, null, names.map((name) => describeBrokerConfig(name, broker.configView, false, options)));
    }
    if (!/^[+-]?\d+$/.test(resource.resourceName)) return answer(ErrorCode.INVALID_REQUEST, `Broker id must be an integer, but it is: ${resource.resourceName}`);
    if (Number(resource.resourceName) !== broker.nodeId) {
      return answer(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${broker.nodeId} or empty string, but received ${resource.resourceName}`);
    }
    if (resource.resourceType === ResourceType.brokerLogger) return answer(ErrorCode.NONE, null);
    const names = namesToDescribe(keys, brokerConfigNames(broker.configView));
    return answer(ErrorCode.NONE, null, names.map((name) => describeBrokerConfig(name, broker.configView, true, options)));
  }
  return answer(ErrorCode.INVALID_REQUEST, `Unsupported resource type: ${resource.resourceType}`);
}
