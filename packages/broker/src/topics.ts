/**
 * Topic-level rules Kafka applies before any change: legal names (`[a-zA-Z0-9._-]`, at most 249
 * characters, not `.` or `..`), names that collide, and the internal topic names. Pure data and
 * checks; topics themselves live in the metadata image.
 */
export const TOPIC_NAME_LENGTH_MAX = 249;
export const OFFSETS_TOPIC = '__consumer_offsets';
export const INTERNAL_TOPICS: ReadonlySet<string> = new Set([OFFSETS_TOPIC, '__transaction_state']);
/** The controller quorum's log (`__cluster_metadata-0`), which may share the data dir: never a broker topic. */
export const METADATA_TOPIC = '__cluster_metadata';

/** Kafka's Topic.validate: returns why a name is illegal, or null. */
export function topicNameProblem(name: string | null | undefined): string | null {
  if (name === null || name === undefined || name.length === 0) return 'Topic name is illegal, it can\'t be empty';
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."';
  if (name.length > TOPIC_NAME_LENGTH_MAX) return `Topic name is illegal, it can't be longer than ${TOPIC_NAME_LENGTH_MAX} characters, topic name: ${name}`;
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  return null;
}

/** Kafka refuses names that differ only by '.' versus '_' (they clash in metric names): the existing name that clashes, if any. */
export function collidingTopicName(name: string, existing: Iterable<string>): string | undefined {
  const normalized = name.replaceAll('.', '_');
  for (const other of existing) if (other !== name && other.replaceAll('.', '_') === normalized) return other;
  return undefined;
}
