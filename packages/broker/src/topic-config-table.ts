/**
 * Every topic config Kafka defines (its LogConfig as of the start of 4.0's development, which
 * still carries every 3.9 config: `message.timestamp.difference.max.ms`, `message.format.version`),
 * with Kafka's type, default, validator and broker synonyms (ServerTopicConfigSynonyms: the broker
 * settings that supply the default, in Kafka's order of precedence, with the factor that turns
 * hours or minutes into milliseconds), our own one-line description, and what Gregor does with it.
 * Pure data; `config-entries.ts` resolves effective values and `config-types.ts` parses and
 * validates them.
 */
import { type ConfigType, type ConfigValidator, LONG_MAX } from './config-types.js';

/** A broker setting that supplies a topic config's default; `factor` converts its unit to the topic's. */
export interface BrokerSynonym {
  name: string;
  factor?: number;
}

export interface TopicConfigDefinition {
  name: string;
  type: ConfigType;
  /** Kafka's topic-level default (its LogConfig), used when no broker synonym applies. */
  default: string;
  validator?: ConfigValidator;
  /** The broker settings that supply the default, highest precedence first (empty: none). */
  brokerSynonyms: readonly BrokerSynonym[];
  doc: string;
  /** What Gregor does with it: `acts` (honoured as Kafka), or why it is accepted and stored but has no effect. */
  gregor: 'acts' | { ignored: string };
}

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** Kafka's MetadataVersion strings (`3.0-IV1`, or a release such as `2.8`), for the protocol and format versions. */
export const METADATA_VERSIONS: readonly string[] = (() => {
  const releases: [string, number][] = [
    ['0.8.0', 0], ['0.8.1', 0], ['0.8.2', 0], ['0.9.0', 0], ['0.10.0', 2], ['0.10.1', 3], ['0.10.2', 1], ['0.11.0', 3],
    ['1.0', 1], ['1.1', 1], ['2.0', 2], ['2.1', 3], ['2.2', 2], ['2.3', 2], ['2.4', 2], ['2.5', 1], ['2.6', 1], ['2.7', 3],
    ['2.8', 2], ['3.0', 2], ['3.1', 1], ['3.2', 1], ['3.3', 4], ['3.4', 1], ['3.5', 3], ['3.6', 3], ['3.7', 5], ['3.8', 1], ['3.9', 1], ['4.0', 4],
  ];
  const versions: string[] = [];
  for (const [release, internalVersions] of releases) {
    versions.push(release);
    for (let index = 0; index < internalVersions; index++) versions.push(`${release}-IV${index}`);
  }
  return versions;
})();

const compressionTypes = ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'] as const;
const noTieredStorage = 'Gregor has no tiered storage';

function topicConfig(
  name: string, type: ConfigType, defaultValue: string, brokerSynonyms: readonly (string | BrokerSynonym)[],
  gregor: TopicConfigDefinition['gregor'], doc: string, validator?: ConfigValidator,
): TopicConfigDefinition {
  return { name, type, default: defaultValue, validator, brokerSynonyms: brokerSynonyms.map((synonym) => (typeof synonym === 'string' ? { name: synonym } : synonym)), doc, gregor };
}

/** In Kafka's LogConfig order. */
export const topicConfigTable: readonly TopicConfigDefinition[] = [
  topicConfig('segment.bytes', 'int', '1073741824', ['log.segment.bytes'], 'acts',
    'Size at which the active segment is closed and a new one started; retention and compaction work on whole segments.', { atLeast: 14 }),
  topicConfig('segment.ms', 'long', '604800000', ['log.roll.ms', { name: 'log.roll.hours', factor: HOUR_MS }], 'acts',
    'Age after which the active segment is rolled even if not full, so retention and compaction can reach its records.', { atLeast: 1 }),
  topicConfig('segment.jitter.ms', 'long', '0', ['log.roll.jitter.ms', { name: 'log.roll.jitter.hours', factor: HOUR_MS }], 'acts',
    'Largest random amount taken off segment.ms for each new segment, so many partitions do not roll at the same moment.', { atLeast: 0 }),
  topicConfig('segment.index.bytes', 'int', '10485760', ['log.index.size.max.bytes'], 'acts',
    'Preallocated size of each segment\'s offset and time index; a full index rolls the segment.', { atLeast: 4 }),
  topicConfig('flush.messages', 'long', LONG_MAX, ['log.flush.interval.messages'], 'acts',
    'Number of appended records after which the log is fsynced; the default leaves flushing to the operating system.', { atLeast: 1 }),
  topicConfig('flush.ms', 'long', LONG_MAX, ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms'], 'acts',
    'Time after which unflushed appends are fsynced (Gregor checks once a second); the default never forces a flush.', { atLeast: 0 }),
  topicConfig('retention.bytes', 'long', '-1', ['log.retention.bytes'], 'acts',
    'Size per partition above which the oldest closed segments are deleted (cleanup.policy delete); -1 means no size limit.'),
  topicConfig('retention.ms', 'long', '604800000', ['log.retention.ms', { name: 'log.retention.minutes', factor: MINUTE_MS }, { name: 'log.retention.hours', factor: HOUR_MS }], 'acts',
    'Age after which closed segments are deleted (cleanup.policy delete), measured on a segment\'s newest record; -1 keeps them forever.', { atLeast: -1 }),
  topicConfig('max.message.bytes', 'int', '1048588', ['message.max.bytes'], 'acts',
    'Largest record batch a producer may append, after compression.', { atLeast: 0 }),
  topicConfig('index.interval.bytes', 'int', '4096', ['log.index.interval.bytes'], 'acts',
    'Bytes of log between two offset-index entries: smaller means faster lookups and bigger indexes.', { atLeast: 0 }),
  topicConfig('delete.retention.ms', 'long', '86400000', ['log.cleaner.delete.retention.ms'], 'acts',
    'How long compaction keeps a tombstone (a record with a null value), so slow readers still see the delete.', { atLeast: 0 }),
  topicConfig('min.compaction.lag.ms', 'long', '0', ['log.cleaner.min.compaction.lag.ms'], 'acts',
    'Minimum age of a record before compaction may remove it: segments holding younger records are not compacted.', { atLeast: 0 }),
  topicConfig('max.compaction.lag.ms', 'long', LONG_MAX, ['log.cleaner.max.compaction.lag.ms'], 'acts',
    'Maximum time a record may wait before compaction considers it, whatever the dirty ratio; also rolls the active segment of a compacted topic at that age.', { atLeast: 1 }),
  topicConfig('file.delete.delay.ms', 'long', '60000', ['log.segment.delete.delay.ms'], { ignored: 'Gregor deletes segment files at once (nothing reads them after they leave the log)' },
    'Delay before a deleted segment\'s files are removed from disk.', { atLeast: 0 }),
  topicConfig('min.cleanable.dirty.ratio', 'double', '0.5', ['log.cleaner.min.cleanable.ratio'], 'acts',
    'Share of a compacted log that must be uncompacted (dirty) before the cleaner compacts it again; lower means more frequent compaction.', { between: [0, 1] }),
  topicConfig('cleanup.policy', 'list', 'delete', ['log.cleanup.policy'], 'acts',
    'What happens to old segments: delete (retention by time and size), compact (keep the latest record per key), or both.', { eachOf: ['compact', 'delete'] }),
  topicConfig('unclean.leader.election.enable', 'boolean', 'false', ['unclean.leader.election.enable'], 'acts',
    'Whether a replica outside the ISR may become leader when no in-sync replica is left, at the risk of losing acknowledged records.'),
  topicConfig('min.insync.replicas', 'int', '1', ['min.insync.replicas'], 'acts',
    'Fewest in-sync replicas an acks=all write needs; with fewer the write fails with NOT_ENOUGH_REPLICAS.', { atLeast: 1 }),
  topicConfig('compression.type', 'string', 'producer', ['compression.type'], { ignored: 'Gregor stores batches as the producer compressed them' },
    'Codec the broker stores batches in: producer keeps the producer\'s, uncompressed or a codec name recompresses.', { oneOf: compressionTypes }),
  topicConfig('compression.gzip.level', 'int', '-1', ['compression.gzip.level'], { ignored: 'Gregor does not recompress' },
    'Gzip level used when compression.type is gzip.', { gzipLevel: true }),
  topicConfig('compression.lz4.level', 'int', '9', ['compression.lz4.level'], { ignored: 'Gregor does not recompress' },
    'LZ4 level used when compression.type is lz4.', { between: [1, 17] }),
  topicConfig('compression.zstd.level', 'int', '3', ['compression.zstd.level'], { ignored: 'Gregor does not recompress' },
    'Zstandard level used when compression.type is zstd.', { between: [-131072, 22] }),
  topicConfig('preallocate', 'boolean', 'false', ['log.preallocate'], { ignored: 'Gregor grows segment files as it writes them' },
    'Whether a new segment file is allocated at its full size up front.'),
  topicConfig('message.format.version', 'string', '3.0-IV1', ['log.message.format.version'], { ignored: 'deprecated in Kafka too: every batch is RecordBatch v2' },
    'Deprecated: the message format the broker writes; ignored from inter-broker protocol 3.0 on.', { metadataVersion: METADATA_VERSIONS }),
  topicConfig('message.timestamp.type', 'string', 'CreateTime', ['log.message.timestamp.type'], 'acts',
    'Whether a record keeps the producer\'s timestamp (CreateTime) or gets the broker\'s append time (LogAppendTime).', { oneOf: ['CreateTime', 'LogAppendTime'] }),
  topicConfig('message.timestamp.difference.max.ms', 'long', LONG_MAX, ['log.message.timestamp.difference.max.ms'], 'acts',
    'Deprecated: largest distance allowed between a CreateTime record\'s timestamp and the broker\'s clock, either way; used where message.timestamp.before.max.ms or .after.max.ms is not set.', { atLeast: 0 }),
  topicConfig('message.timestamp.before.max.ms', 'long', LONG_MAX, ['log.message.timestamp.before.max.ms'], 'acts',
    'How far a CreateTime record\'s timestamp may lie in the past of the broker\'s clock; older records are refused with INVALID_TIMESTAMP.', { atLeast: 0 }),
  topicConfig('message.timestamp.after.max.ms', 'long', LONG_MAX, ['log.message.timestamp.after.max.ms'], 'acts',
    'How far a CreateTime record\'s timestamp may lie in the future of the broker\'s clock; later records are refused with INVALID_TIMESTAMP.', { atLeast: 0 }),
  topicConfig('leader.replication.throttled.replicas', 'list', '', [], { ignored: 'replication is not throttled' },
    'Replicas (partition:broker pairs, or *) whose replication is throttled on the leader side.'),
  topicConfig('follower.replication.throttled.replicas', 'list', '', [], { ignored: 'replication is not throttled' },
    'Replicas (partition:broker pairs, or *) whose replication is throttled on the follower side.'),
  topicConfig('message.downconversion.enable', 'boolean', 'true', ['log.message.downconversion.enable'], { ignored: 'Gregor serves RecordBatch v2 only and never converts' },
    'Whether the broker converts batches to an older format for old consumers.'),
  topicConfig('remote.storage.enable', 'boolean', 'false', [], { ignored: noTieredStorage },
    'Whether closed segments are copied to remote (tiered) storage.'),
  topicConfig('local.retention.ms', 'long', '-2', ['log.local.retention.ms'], { ignored: noTieredStorage },
    'With tiered storage, how long segments stay on local disk; -2 means retention.ms.', { atLeast: -2 }),
  topicConfig('local.retention.bytes', 'long', '-2', ['log.local.retention.bytes'], { ignored: noTieredStorage },
    'With tiered storage, how much of a partition stays on local disk; -2 means retention.bytes.', { atLeast: -2 }),
  topicConfig('remote.log.copy.disable', 'boolean', 'false', [], { ignored: noTieredStorage },
    'With tiered storage, stops copying new segments to remote storage.'),
  topicConfig('remote.log.delete.on.disable', 'boolean', 'false', [], { ignored: noTieredStorage },
    'With tiered storage, whether turning it off deletes the remote copies.'),
];

export const topicConfigsByName: ReadonlyMap<string, TopicConfigDefinition> = new Map(topicConfigTable.map((definition) => [definition.name, definition]));

/** The description DescribeConfigs reports: ours, plus whether Gregor acts on the config. */
export function topicConfigDocumentation(definition: TopicConfigDefinition): string {
  return definition.gregor === 'acts' ? definition.doc : `${definition.doc} Gregor stores and reports it but does not act on it: ${definition.gregor.ignored}.`;
}
