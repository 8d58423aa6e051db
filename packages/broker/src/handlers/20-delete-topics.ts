/**
 * DeleteTopics (API key 20), versions 0-6 (v6 names topics by name or by topic id).
 * Deletes the topic's metadata and its partition directories at once, and forgets the groups'
 * committed offsets for it. UNKNOWN_TOPIC_OR_PARTITION / UNKNOWN_TOPIC_ID for a topic we do not
 * have, TOPIC_DELETION_DISABLED when `delete.topic.enable` is false, INVALID_TOPIC_EXCEPTION for
 * internal topics. Deviations: deletion is synchronous (timeoutMs unused); throttleTimeMs is 0.
 */
import { ErrorCode } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import type { Body } from '../context.js';
import { ZERO_UUID } from '../ids.js';

export function handleDeleteTopics(broker: Broker, apiVersion: number, body: Body): Body {
  const requests: { name: string | null; topicId: string }[] = apiVersion >= 6
    ? (body.topics ?? []).map((topic: Body) => ({ name: topic.name ?? null, topicId: topic.topicId ?? ZERO_UUID }))
    : (body.topicNames ?? []).map((name: string) => ({ name, topicId: ZERO_UUID }));
  const responses = requests.map((request) => {
    let name = request.name;
    // Only v6+ may name a topic by id; before v6 the response's name is not nullable.
    if (apiVersion >= 6 && (name === null || name === '')) {
      const topic = broker.topicsById.get(request.topicId);
      if (topic === undefined) return { name: null, topicId: request.topicId, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, errorMessage: null };
      name = topic.name;
    }
    const result = broker.deleteTopic(name ?? '');
    return { name, topicId: result.topic?.topicId ?? request.topicId, errorCode: result.errorCode, errorMessage: result.errorMessage };
  });
  return { throttleTimeMs: 0, responses };
}
