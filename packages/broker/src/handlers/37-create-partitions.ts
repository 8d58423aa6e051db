/**
 * CreatePartitions (API key 37), versions 0-3.
 * Raises a topic's partition count (INVALID_PARTITIONS when the count does not grow), honouring
 * validateOnly. Manual assignments are checked as Kafka's controller does: one replica list per
 * added partition, naming registered brokers once each, as many as the topic's replication factor
 * (else INVALID_REPLICA_ASSIGNMENT); on one broker only this broker's id can be assigned.
 * Deviations: creation is synchronous (timeoutMs unused); throttleTimeMs is 0.
 */
import { ErrorCode, type CreatePartitionsRequest, type CreatePartitionsResponseInput } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import type { Body } from '../context.js';

export function handleCreatePartitions(broker: Broker, _apiVersion: number, body: Body): CreatePartitionsResponseInput {
  const request = body as CreatePartitionsRequest;
  const counts = new Map<string, number>();
  for (const topic of request.topics) counts.set(topic.name, (counts.get(topic.name) ?? 0) + 1);
  const results = request.topics.map((topic) => {
    if ((counts.get(topic.name) ?? 0) > 1) return { name: topic.name, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic in request' };
    const assignments = topic.assignments === null ? null : topic.assignments.map((assignment) => assignment.brokerIds);
    const result = broker.createPartitions(topic.name, topic.count, assignments, request.validateOnly);
    return { name: topic.name, errorCode: result.errorCode, errorMessage: result.errorMessage };
  });
  return { throttleTimeMs: 0, results };
}
