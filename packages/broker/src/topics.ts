/**
 * Topic-level rules Kafka applies before any change: legal names (`[a-zA-Z0-9._-]`, at most 249
 * characters, not `.` or `..`), internal topic names, and a topic's runtime shape (its id, configs
 * and Partition objects). Pure data and checks; the Broker owns the Topic objects.
 */
import type { Partition } from './partition.js';

export const TOPIC_NAME_LENGTH_MAX = 249;
export const OFFSETS_TOPIC = '__consumer_offsets';
export const INTERNAL_TOPICS: ReadonlySet<string> = new Set([OFFSETS_TOPIC, '__transaction_state']);

export interface Topic {
  name: string;
  topicId: string;
  replicationFactor: number;
  configs: Record<string, string>;
  partitions: Partition[];
}

/** Kafka's Topic.validate: returns why a name is illegal, or null. */
export function topicNameProblem(name: string | null | undefined): string | null {
  if (name === null || name === undefined || name.length === 0) return 'Topic name is illegal, it can\'t be empty';
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."';
  if (name.length > TOPIC_NAME_LENGTH_MAX) return `Topic name is illegal, it can't be longer than ${TOPIC_NAME_LENGTH_MAX} characters, topic name: ${name}`;
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  return null;
}
