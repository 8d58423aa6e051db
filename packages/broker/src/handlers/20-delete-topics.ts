/**
 * DeleteTopics (API key 20), versions 0-6 (v6 names topics by name or by topic id).
 * The broker answers what its image already decides (UNKNOWN_TOPIC_OR_PARTITION /
 * UNKNOWN_TOPIC_ID for a topic it does not know, INVALID_TOPIC_EXCEPTION for internal topics) and
 * forwards the rest to the controller in the client's version (TOPIC_DELETION_DISABLED when
 * `delete.topic.enable` is false there). A deleted topic is answered once this broker's image no
 * longer has it (bounded by timeoutMs); every broker then deletes its replicas' logs, and group
 * coordinators forget the groups' committed offsets for it. No answer from the controller is
 * REQUEST_TIMED_OUT. Deviations: throttleTimeMs is 0.
 * Authorization: Delete on each topic, else TOPIC_AUTHORIZATION_FAILED for it.
 */
import assert from 'node:assert';
import { AclOperation, ApiKey, type DeleteTopicsRequest, type DeleteTopicsResponse, type DeleteTopicsResponseInput, ErrorCode, ResourceType } from '@gregor/protocol';
import { isAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import type { RequestContext } from '../context.js';
import { forwardToController } from '../controller-forwarding.js';
import { ZERO_UUID } from '../ids.js';
import { INTERNAL_TOPICS } from '../topics.js';

interface Deletion {
  /** As the request names the topic (by name, or null/'' with an id, v6+). */
  name: string | null;
  topicId: string;
  /** The topic's name in this broker's image. */
  topicName: string | null;
  answer: NonNullable<DeleteTopicsResponseInput['responses']>[number] | null;
}

export async function handleDeleteTopics(broker: Broker, apiVersion: number, body: DeleteTopicsRequest, context: RequestContext = {}): Promise<DeleteTopicsResponseInput> {
  const deletions: Deletion[] = (apiVersion >= 6
    ? (body.topics ?? []).map((topic) => ({ name: topic.name ?? null, topicId: topic.topicId ?? ZERO_UUID }))
    : (body.topicNames ?? []).map((name: string) => ({ name, topicId: ZERO_UUID }))).map((request: Pick<Deletion, 'name' | 'topicId'>) => ({ ...request, topicName: null, answer: null }));
  for (const deletion of deletions) {
    const byName = deletion.name !== null && deletion.name !== '';
    // Only v6+ may name a topic by id; before v6 the response's name is not nullable.
    const topic = byName ? broker.image.topic(deletion.name as string) : apiVersion >= 6 ? broker.image.topicsById.get(deletion.topicId) : undefined;
    const answer = (errorCode: number, errorMessage: string | null = null): NonNullable<Deletion['answer']> => ({ name: topic?.name ?? deletion.name, topicId: topic?.id ?? deletion.topicId, errorCode, errorMessage });
    const mayDelete = (name: string) => isAuthorized(broker, context, AclOperation.DELETE, ResourceType.TOPIC, name);
    if (byName && !mayDelete(deletion.name as string)) deletion.answer = answer(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    else if (topic !== undefined && !mayDelete(topic.name)) deletion.answer = answer(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    else if (topic === undefined) deletion.answer = answer(byName || apiVersion < 6 ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.UNKNOWN_TOPIC_ID);
    else if (INTERNAL_TOPICS.has(topic.name)) deletion.answer = answer(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic ${topic.name} is internal and cannot be deleted`);
    else deletion.topicName = topic.name;
  }
  const forwarded = deletions.filter((deletion) => deletion.answer === null);
  if (forwarded.length > 0) {
    const request = apiVersion >= 6
      ? { ...body, topics: forwarded.map((deletion) => ({ name: deletion.name, topicId: deletion.topicId })) }
      : {
        ...body,
        // Before v6 every topic is named, so each forwarded one was found by its name.
        topicNames: forwarded.map((deletion) => {
          assert(deletion.name !== null, 'DeleteTopics before v6 names every topic');
          return deletion.name;
        }),
      };
    const response = await forwardToController(broker, ApiKey.DeleteTopics, apiVersion, request);
    const answered: DeleteTopicsResponse['responses'] = response?.responses ?? [];
    const deletedIds: string[] = [];
    for (const deletion of forwarded) {
      const result = answered.find((entry) => (entry.name !== null && entry.name !== '' && entry.name === deletion.topicName) || (entry.topicId === deletion.topicId && deletion.topicId !== ZERO_UUID));
      deletion.answer = result === undefined
        ? { name: deletion.topicName ?? deletion.name, topicId: deletion.topicId, errorCode: ErrorCode.REQUEST_TIMED_OUT, errorMessage: 'The controller did not answer' }
        : { ...result, name: apiVersion >= 6 ? (result.name ?? deletion.topicName) : deletion.topicName };
      if (result?.errorCode === ErrorCode.NONE) deletedIds.push(result.topicId);
    }
    if (deletedIds.length > 0) await broker.waitForMetadata((image) => deletedIds.every((id) => !image.topicsById.has(id)), body.timeoutMs ?? broker.config.requestTimeoutMs);
  }
  return {
    throttleTimeMs: 0,
    responses: deletions.map((deletion) => {
      assert(deletion.answer !== null, `DeleteTopics left ${deletion.name ?? deletion.topicId} unanswered`);
      return deletion.answer;
    }),
  };
}
