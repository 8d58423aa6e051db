/**
 * CreatePartitions (API key 37), versions 0-3.
 * Raises a topic's partition count (INVALID_PARTITIONS when the count does not grow), honouring
 * validateOnly. Deviations: manual assignments are refused with INVALID_REQUEST (one broker);
 * creation is synchronous (timeoutMs unused); throttleTimeMs is 0.
 */
import { ErrorCode } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import type { Body } from '../context.js';

export function handleCreatePartitions(broker: Broker, _apiVersion: number, body: Body): Body {
  const counts = new Map<string, number>();
  for (const topic of body.topics ?? []) counts.set(topic.name, (counts.get(topic.name) ?? 0) + 1);
  const results = (body.topics ?? []).map((request: Body) => {
    if ((counts.get(request.name) ?? 0) > 1) return { name: request.name, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic in request' };
    const hasAssignments = Array.isArray(request.assignments) && request.assignments.length > 0;
    const result = broker.createPartitions(request.name, request.count, hasAssignments, body.validateOnly === true);
    return { name: request.name, errorCode: result.errorCode, errorMessage: result.errorMessage };
  });
  return { throttleTimeMs: 0, results };
}
