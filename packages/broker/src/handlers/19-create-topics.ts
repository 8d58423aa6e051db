/**
 * CreateTopics (API key 19), versions 0-7.
 * Validates each topic as Kafka does (INVALID_TOPIC_EXCEPTION for an illegal name,
 * TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR for anything but 1 (or -1,
 * the default), INVALID_CONFIG for an unknown or bad config, INVALID_REQUEST for a name given twice
 * in one request) and creates it unless validateOnly (v1+). v5+ answers with the partition count,
 * replication factor and the topic's configs; v7 with the topic id.
 * Deviations: manual replica assignments are refused with INVALID_REQUEST (one broker: there is
 * nothing to assign); timeoutMs is not needed, creation is synchronous; throttleTimeMs is 0.
 */
import { ErrorCode } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import type { Body } from '../context.js';
import { ZERO_UUID } from '../ids.js';
import { describeTopicConfigs } from './32-describe-configs.js';

export function handleCreateTopics(broker: Broker, _apiVersion: number, body: Body): Body {
  const counts = new Map<string, number>();
  for (const topic of body.topics ?? []) counts.set(topic.name, (counts.get(topic.name) ?? 0) + 1);
  const topics = (body.topics ?? []).map((request: Body) => {
    const fail = (errorCode: number, errorMessage: string | null): Body => ({
      name: request.name, topicId: ZERO_UUID, errorCode, errorMessage, topicConfigErrorCode: ErrorCode.NONE,
      numPartitions: -1, replicationFactor: -1, configs: [],
    });
    if ((counts.get(request.name) ?? 0) > 1) return fail(ErrorCode.INVALID_REQUEST, `Create topics request from client contains duplicate topic name ${request.name}`);
    const result = broker.createTopic({
      name: request.name,
      numPartitions: request.numPartitions,
      replicationFactor: request.replicationFactor,
      assignments: request.assignments ?? [],
      configs: request.configs ?? [],
      validateOnly: body.validateOnly === true,
    });
    if (result.errorCode !== ErrorCode.NONE) return fail(result.errorCode, result.errorMessage);
    const numPartitions = request.numPartitions === -1 ? broker.config.numPartitions : request.numPartitions;
    const configs: Record<string, string> = {};
    for (const config of request.configs ?? []) if (config.value !== null) configs[config.name] = config.value;
    return {
      name: request.name,
      topicId: result.topic?.topicId ?? ZERO_UUID,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      topicConfigErrorCode: ErrorCode.NONE,
      numPartitions,
      replicationFactor: 1,
      configs: describeTopicConfigs(broker, configs, null, false).map((config) => ({
        name: config.name, value: config.value, readOnly: config.readOnly, configSource: config.configSource, isSensitive: config.isSensitive,
      })),
    };
  });
  return { throttleTimeMs: 0, topics };
}
