/**
 * CreateTopics (API key 19), versions 0-7.
 * Validates each topic as Kafka does (INVALID_TOPIC_EXCEPTION for an illegal name,
 * TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR for anything but 1 (or -1,
 * the default), INVALID_CONFIG for an unknown topic config, a value Kafka's ConfigDef refuses, a
 * null value or min.compaction.lag.ms above max.compaction.lag.ms, INVALID_REQUEST for a name
 * given twice in one request) and creates it unless validateOnly (v1+). Manual assignments are
 * checked as Kafka's controller does (numPartitions and replicationFactor must be -1; partitions
 * 0..n-1; each replica list names registered brokers once, all of one length: else
 * INVALID_REPLICA_ASSIGNMENT); on one broker only this broker's id can be assigned. Configs are
 * stored as Kafka's strings. v5+ answers with the partition count, replication factor and every
 * topic config with its source; v7 with the topic id.
 * Deviations: timeoutMs is not needed, creation is synchronous; throttleTimeMs is 0.
 */
import { ErrorCode } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import { describeTopicConfig, topicConfigNames } from '../config-entries.js';
import type { Body } from '../context.js';
import { ZERO_UUID } from '../ids.js';

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
    if (result.errorCode !== ErrorCode.NONE || result.created === undefined) return fail(result.errorCode, result.errorMessage);
    const { numPartitions, replicationFactor, configs } = result.created;
    const options = { includeSynonyms: false, includeDocumentation: false };
    return {
      name: request.name,
      topicId: result.topic?.topicId ?? ZERO_UUID,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      topicConfigErrorCode: ErrorCode.NONE,
      numPartitions,
      replicationFactor,
      configs: topicConfigNames().map((name) => describeTopicConfig(name, configs, broker.configView, options)).map((config) => ({
        name: config.name, value: config.value, readOnly: config.readOnly, configSource: config.configSource, isSensitive: config.isSensitive,
      })),
    };
  });
  return { throttleTimeMs: 0, topics };
}
