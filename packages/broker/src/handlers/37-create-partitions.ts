/**
 * CreatePartitions (API key 37), versions 0-3.
 * INVALID_REQUEST for a topic named twice; the rest is forwarded to the controller in the
 * client's version, which raises the partition count (INVALID_PARTITIONS when it does not grow,
 * UNKNOWN_TOPIC_OR_PARTITION for an unknown topic), checks manual assignments as Kafka does (one
 * replica list per added partition, registered brokers once each, as many as the topic's
 * replication factor: else INVALID_REPLICA_ASSIGNMENT) or places the new replicas, honouring
 * validateOnly. A grown topic is answered once this broker's image has every new partition
 * (bounded by timeoutMs). No answer from the controller is REQUEST_TIMED_OUT.
 * Deviations: throttleTimeMs is 0.
 * Authorization: Alter on the topic, else TOPIC_AUTHORIZATION_FAILED.
 */
import { AclOperation, ApiKey, type CreatePartitionsRequest, type CreatePartitionsResponse, type CreatePartitionsResponseInput, ErrorCode, ResourceType } from '@gregor/protocol';
import { isAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import type { RequestContext } from '../context.js';
import { forwardToController } from '../controller-forwarding.js';
import type { Entry } from './types.js';

export async function handleCreatePartitions(broker: Broker, apiVersion: number, body: CreatePartitionsRequest, context: RequestContext = {}): Promise<CreatePartitionsResponseInput> {
  const requests = body.topics ?? [];
  const counts = new Map<string, number>();
  for (const topic of requests) counts.set(topic.name, (counts.get(topic.name) ?? 0) + 1);
  const mayAlter = (name: string) => isAuthorized(broker, context, AclOperation.ALTER, ResourceType.TOPIC, name);
  const forwarded = requests.filter((request) => (counts.get(request.name) ?? 0) === 1 && mayAlter(request.name));
  const results = new Map<string, CreatePartitionsResponse['results'][number]>();
  if (forwarded.length > 0) {
    const response = await forwardToController(broker, ApiKey.CreatePartitions, apiVersion, { ...body, topics: forwarded });
    for (const result of response?.results ?? []) results.set(result.name, result);
    const grown = forwarded.filter((request) => results.get(request.name)?.errorCode === ErrorCode.NONE && body.validateOnly !== true);
    if (grown.length > 0) {
      await broker.waitForMetadata((image) => grown.every((request) => (image.topic(request.name)?.partitions.size ?? 0) >= request.count), body.timeoutMs ?? broker.config.requestTimeoutMs);
    }
  }
  return {
    throttleTimeMs: 0,
    results: requests.map((request): Entry<CreatePartitionsResponseInput['results']> => {
      if ((counts.get(request.name) ?? 0) > 1) return { name: request.name, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic in request' };
      if (!mayAlter(request.name)) return { name: request.name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null };
      const result = results.get(request.name);
      return result ?? { name: request.name, errorCode: ErrorCode.REQUEST_TIMED_OUT, errorMessage: 'The controller did not answer' };
    }),
  };
}
