/**
 * CreateTopics (API key 19), versions 0-7.
 * The broker checks what it owns the rules of: INVALID_REQUEST for a name given twice in one
 * request, INVALID_TOPIC_EXCEPTION for an illegal name, INVALID_CONFIG for an unknown or bad
 * config. The other topics are forwarded to the controller in the client's version; the controller
 * decides TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR (more replicas than
 * unfenced brokers), manual assignments, and places the replicas. Each created topic is answered
 * once this broker's image has it (bounded by timeoutMs). v5+ answers with the partition count,
 * replication factor and the topic's configs; v7 with the topic id. validateOnly (v1+) creates
 * nothing. No answer from the controller is REQUEST_TIMED_OUT. Deviations: throttleTimeMs is 0.
 */
import { ApiKey, ErrorCode } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import { checkTopicConfig } from '../config.js';
import type { Body } from '../context.js';
import { awaitTopicInImage, forwardToController } from '../controller-forwarding.js';
import { ZERO_UUID } from '../ids.js';
import { topicNameProblem } from '../topics.js';
import { describeTopicConfigs } from './32-describe-configs.js';

export async function handleCreateTopics(broker: Broker, apiVersion: number, body: Body): Promise<Body> {
  const requests: Body[] = body.topics ?? [];
  const counts = new Map<string, number>();
  for (const topic of requests) counts.set(topic.name, (counts.get(topic.name) ?? 0) + 1);
  const fail = (request: Body, errorCode: number, errorMessage: string | null): Body => ({
    name: request.name, topicId: ZERO_UUID, errorCode, errorMessage, topicConfigErrorCode: ErrorCode.NONE, numPartitions: -1, replicationFactor: -1, configs: [],
  });
  const answers = new Map<Body, Body>();
  for (const request of requests) {
    const problem = localProblem(request, counts);
    if (problem !== null) answers.set(request, fail(request, problem.errorCode, problem.errorMessage));
  }
  const forwarded = requests.filter((request) => !answers.has(request));
  if (forwarded.length > 0) {
    const response = await forwardToController(broker, ApiKey.CreateTopics, apiVersion, { ...body, topics: forwarded });
    const results = new Map<string, Body>((response?.topics ?? []).map((result: Body) => [result.name, result]));
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
      answers.set(request, created(broker, request, result));
    }));
  }
  return { throttleTimeMs: 0, topics: requests.map((request) => answers.get(request)) };
}

function localProblem(request: Body, counts: Map<string, number>): { errorCode: number; errorMessage: string } | null {
  if ((counts.get(request.name) ?? 0) > 1) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Create topics request from client contains duplicate topic name ${request.name}` };
  const nameProblem = topicNameProblem(request.name);
  if (nameProblem !== null) return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: nameProblem };
  for (const config of request.configs ?? []) {
    const problem = checkTopicConfig(config.name, config.value);
    if (problem !== null) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: problem };
  }
  return null;
}

function created(broker: Broker, request: Body, result: Body): Body {
  const configs: Record<string, string> = {};
  for (const config of request.configs ?? []) if (config.value !== null) configs[config.name] = config.value;
  return {
    name: request.name,
    topicId: result.topicId ?? ZERO_UUID,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    topicConfigErrorCode: ErrorCode.NONE,
    numPartitions: result.numPartitions,
    replicationFactor: result.replicationFactor,
    configs: describeTopicConfigs(broker, configs, null, false).map((config) => ({
      name: config.name, value: config.value, readOnly: config.readOnly, configSource: config.configSource, isSensitive: config.isSensitive,
    })),
  };
}
