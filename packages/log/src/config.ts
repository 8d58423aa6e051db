/**
 * Every limit and policy of one partition log, with Kafka's topic-level defaults. Names are
 * Kafka's config names in camelCase (`segment.bytes` → `segmentBytes`).
 */

/** '' (Kafka's empty list) keeps every segment: neither retention nor compaction runs. */
export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete' | '';
export type TimestampType = 'CreateTime' | 'LogAppendTime';

export interface LogConfig {
  /** `segment.bytes`: roll the active segment before it grows past this size. Default 1 GiB. */
  segmentBytes: number;
  /** `segment.ms`: roll the active segment once it is this old (by its first batch's timestamp). Default 7 days. */
  segmentMs: number;
  /**
   * `segment.jitter.ms`: each new segment rolls up to this much earlier than segmentMs, by an
   * amount drawn from the log's `random` when it is created (Kafka's randomSegmentJitter). Default 0.
   */
  segmentJitterMs: number;
  /** `index.interval.bytes`: bytes of log between two offset-index entries. Default 4096. */
  indexIntervalBytes: number;
  /** `segment.index.bytes`: preallocated size of each index file; a full index rolls the segment. Default 10 MiB. */
  segmentIndexBytes: number;
  /** `retention.ms`: delete closed segments whose newest timestamp is older than this; -1 keeps forever. Default 7 days. */
  retentionMs: number;
  /** `retention.bytes`: delete oldest closed segments while the log is larger than this; -1 is unlimited. Default -1. */
  retentionBytes: number;
  /** `cleanup.policy`: 'delete' (retention) or 'compact' (latest value per key) or both. Default 'delete'. */
  cleanupPolicy: CleanupPolicy;
  /** `delete.retention.ms`: how long compaction keeps a tombstone after its batch's timestamp. Default 1 day. */
  deleteRetentionMs: number;
  /** `min.compaction.lag.ms`: a closed segment whose newest record is younger than this is not compacted yet. Default 0. */
  minCompactionLagMs: number;
  /**
   * `max.compaction.lag.ms`: once the oldest uncompacted record is this old the log is compacted
   * whatever its dirty ratio, and a compacted log's active segment rolls at this age. Default never.
   */
  maxCompactionLagMs: number;
  /**
   * `min.cleanable.dirty.ratio`: the scheduled compaction (LogManager) takes a log only when its
   * uncompacted bytes exceed this share of its compactable bytes (or max.compaction.lag.ms forces
   * it). Explicit `compact()` calls do not wait for it. Default 0.5.
   */
  minCleanableDirtyRatio: number;
  /** `flush.messages`: fsync after this many appended records; Kafka's default is never (MAX). */
  flushMessages: number;
  /** `flush.ms`: fsync when the oldest unflushed append is this old (checked by LogManager). Default never. */
  flushMs: number;
  /** `max.message.bytes`: largest batch accepted and the bound on any length field read from disk. Default 1 MiB + 12. */
  maxMessageBytes: number;
  /** `message.timestamp.type`: keep the producer's CreateTime or overwrite with LogAppendTime. */
  messageTimestampType: TimestampType;
  /** `file.delete.delay.ms` has no effect here: segments are unlinked synchronously. Kept for parity. */
  fileDeleteDelayMs: number;
  /**
   * Most distinct keys one compaction pass holds in memory (Kafka sizes this as
   * `log.cleaner.dedupe.buffer.size`, 128 MiB ≈ 5M entries); a pass cleans only the oldest
   * segments whose keys fit, the next pass continues. Default 5,000,000.
   */
  compactionKeysMax: number;
  /**
   * Bytes of segment one compaction step reads (and rewrites) before the pass yields, so appends
   * and reads interleave with a pass; a step takes at least one whole batch. Default 1 MiB.
   */
  compactionStepBytesMax: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export const defaultLogConfig: Readonly<LogConfig> = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * DAY_MS,
  segmentJitterMs: 0,
  indexIntervalBytes: 4096,
  segmentIndexBytes: 10 * 1024 * 1024,
  retentionMs: 7 * DAY_MS,
  retentionBytes: -1,
  cleanupPolicy: 'delete',
  deleteRetentionMs: DAY_MS,
  minCompactionLagMs: 0,
  maxCompactionLagMs: Number.MAX_SAFE_INTEGER,
  minCleanableDirtyRatio: 0.5,
  flushMessages: Number.MAX_SAFE_INTEGER,
  flushMs: Number.MAX_SAFE_INTEGER,
  maxMessageBytes: 1024 * 1024 + 12,
  messageTimestampType: 'CreateTime',
  fileDeleteDelayMs: 60_000,
  compactionKeysMax: 5_000_000,
  compactionStepBytesMax: 1024 * 1024,
});

export function resolveLogConfig(overrides: Partial<LogConfig> | undefined): LogConfig {
  const config = { ...defaultLogConfig, ...overrides };
  if (!(config.segmentBytes >= 14 && config.segmentBytes <= 2 ** 31 - 1)) throw new RangeError('segmentBytes must be in [14, 2^31-1]');
  if (!(config.indexIntervalBytes >= 0)) throw new RangeError('indexIntervalBytes must be >= 0');
  if (!(config.segmentIndexBytes >= 24)) throw new RangeError('segmentIndexBytes must be >= 24');
  if (!(config.compactionStepBytesMax >= 1)) throw new RangeError('compactionStepBytesMax must be >= 1');
  if (!(config.maxMessageBytes >= 61)) throw new RangeError('maxMessageBytes must be >= 61');
  if (!(config.segmentJitterMs >= 0)) throw new RangeError('segmentJitterMs must be >= 0');
  if (!(config.minCompactionLagMs >= 0 && config.maxCompactionLagMs >= 1)) throw new RangeError('minCompactionLagMs must be >= 0 and maxCompactionLagMs >= 1');
  if (!(config.minCleanableDirtyRatio >= 0 && config.minCleanableDirtyRatio <= 1)) throw new RangeError('minCleanableDirtyRatio must be in [0, 1]');
  return config;
}
