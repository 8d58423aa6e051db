/**
 * CreateTopics (API key 19), versions 0-7.
 * The broker checks what it owns the rules of: INVALID_REQUEST for a name given twice in one
 * request, INVALID_TOPIC_EXCEPTION for an illegal name, INVALID_CONFIG for an unknown topic
 * config, a value Kafka's ConfigDef refuses, a null value or min.compaction.lag.ms above
 * max.compaction.lag.ms. The other topics are forwarded to the controller in the client's
 * version, with their configs as Kafka's strings; the controller decides TOPIC_ALREADY_EXISTS,
 * INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR (more replicas than unfenced brokers), manual
 * assignments (INVALID_REPLICA_ASSIGNMENT) and places the replicas. A created topic is answered
 * once this broker's image has it (bounded by timeoutMs). v5+ answers with the partition count,
 * replication factor and every topic config with its source; v7 with the topic id. validateOnly
 * (v1+) creates nothing. No answer from the controller is REQUEST_TIMED_OUT.
 * Deviations: throttleTimeMs is 0.
 * Authorization: Create on the cluster or on the topic, else TOPIC_AUTHORIZATION_FAILED.
 */
import assert from 'node:assert';
import { AclOperation, ApiKey, type CreateTopicsRequest, type CreateTopicsResponse, type CreateTopicsResponseInput, ErrorCode, ResourceType } from '@gregor/protocol';
import { isAuthorized, isClusterAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import { describeTopicConfig, topicConfigNames } from '../config-entries.js';
import { isProblem, validateTopicConfigs } from '../config-validation.js';
import type { RequestContext } from '../context.js';
import { awaitTopicInImage, forwardToController } from '../controller-forwarding.js';
import { ZERO_UUID } from '../ids.js';
import { topicNameProblem } from '../topics.js';
import type { Entry } from './types.js';

type TopicRequest = CreateTopicsRequest['topics'][number];
type TopicAnswer = NonNullable<CreateTopicsResponseInput['topics']>[number];
/** The controller's answer for one topic (CreateTopicsResponse, as forwardToController resolves it). */
type ControllerResult = CreateTopicsResponse['topics'][number];

export async function handleCreateTopics(broker: Broker, apiVersion: number, body: CreateTopicsRequest, context: RequestContext = {}): Promise<CreateTopicsResponseInput> {
  const clusterCreate = isClusterAuthorized(broker, context, AclOperation.CREATE);
  const requests = body.topics ?? [];
  const counts = new Map<string, number>();
  for (const topic of requests) counts.set(topic.name, (counts.get(topic.name) ?? 0) + 1);
  const fail = (request: TopicRequest, errorCode: number, errorMessage: string | null): TopicAnswer => ({
    name: request.name, topicId: ZERO_UUID, errorCode, errorMessage, topicConfigErrorCode: ErrorCode.NONE, numPartitions: -1, replicationFactor: -1, configs: [],
  });
  const answers = new Map<TopicRequest, TopicAnswer>();
  const normalized = new Map<TopicRequest, Record<string, string>>();
  for (const request of requests) {
    const mayCreate = clusterCreate || isAuthorized(broker, context, AclOperation.CREATE, ResourceType.TOPIC, request.name);
    const checked = mayCreate ? localCheck(broker, request, counts) : { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Authorization failed.' };
    if ('errorCode' in checked) answers.set(request, fail(request, checked.errorCode, checked.errorMessage));
    else normalized.set(request, checked.configs);
  }
  const forwarded = requests.filter((request) => !answers.has(request));
  if (forwarded.length > 0) {
    const topics = forwarded.map((request) => ({ ...request, configs: Object.entries(normalized.get(request) ?? {}).map(([name, value]) => ({ name, value })) }));
    const response = await forwardToController(broker, ApiKey.CreateTopics, apiVersion, { ...body, topics });
    const results = new Map<string, ControllerResult>((response?.topics ?? []).map((result) => [result.name, result]));
    await Promise.all(forwarded.map(async (request) => {
      const result = results.get(request.name);
      if (result === undefined) {
        answers.set(request, fail(request, ErrorCode.REQUEST_TIMED_OUT, 'The controller did not answer'));
        return;
      }
      if (result.errorCode !== ErrorCode.NONE) {
        answers.set(request, fail(request, result.errorCode, result.errorMessage ?? null));
        return;
      }
      if (body.validateOnly !== true) await awaitTopicInImage(broker, result.topicId, result.numPartitions, body.timeoutMs ?? broker.config.requestTimeoutMs);
      answers.set(request, created(broker, request, result, normalized.get(request) ?? {}));
    }));
  }
  return {
    throttleTimeMs: 0,
    topics: requests.map((request) => {
      const answer = answers.get(request);
      assert(answer !== undefined, `CreateTopics left ${request.name} unanswered`);
      return answer;
    }),
  };
}

/** The broker's own checks; the topic's configs as Kafka's strings when they pass. */
function localCheck(broker: Broker, request: TopicRequest, counts: Map<string, number>): { configs: Record<string, string> } | { errorCode: number; errorMessage: string } {
  if ((counts.get(request.name) ?? 0) > 1) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Create topics request from client contains duplicate topic name ${request.name}` };
  const nameProblem = topicNameProblem(request.name);
  if (nameProblem !== null) return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: nameProblem };
  const configs: { name: string; value: string | null }[] = request.configs ?? [];
  const nulls = configs.filter((config) => config.value === null).map((config) => config.name);
  if (nulls.length > 0) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: `Null value not supported for topic configs: ${nulls.join(',')}` };
  const given: Record<string, string> = {};
  for (const config of configs) given[config.name] = config.value as string;
  const checked = validateTopicConfigs(given, broker.configView);
  if (isProblem(checked)) return { errorCode: checked.errorCode, errorMessage: checked.message };
  return { configs: checked.configs };
}

function created(broker: Broker, request: TopicRequest, result: ControllerResult, configs: Record<string, string>): TopicAnswer {
  const options = { includeSynonyms: false, includeDocumentation: false };
  return {
    name: request.name,
    topicId: result.topicId ?? ZERO_UUID,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    topicConfigErrorCode: ErrorCode.NONE,
    numPartitions: result.numPartitions,
    replicationFactor: result.replicationFactor,
    configs: topicConfigNames().map((name) => describeTopicConfig(name, configs, broker.configView, options)).map((config): Entry<TopicAnswer['configs']> => ({
      name: config.name, value: config.value, readOnly: config.readOnly, configSource: config.configSource, isSensitive: config.isSensitive,
    })),
  };
}
