/**
 * Every timeout and limit of the controller quorum and of its metadata log, with Kafka's setting
 * names (camelCased: `controller.quorum.election.timeout.ms` → `controllerQuorumElectionTimeoutMs`)
 * and Kafka's defaults. The few limits Kafka keeps as constants in `KafkaRaftClient` are named
 * settings here, documented with the constant they mirror. Pure data and validation.
 */

export interface QuorumConfig {
  /**
   * `controller.quorum.election.timeout.ms`: how long a voter without a leader waits before it
   * starts an election; each wait is randomized in [timeout, 2 × timeout). Default 1000.
   */
  controllerQuorumElectionTimeoutMs: number;
  /**
   * `controller.quorum.fetch.timeout.ms`: a follower that has not fetched successfully from the
   * leader for this long starts an election (a voter) or looks for the leader again (an observer);
   * a leader that has not heard from a majority for 1.5 × this long resigns (check quorum). Default 2000.
   */
  controllerQuorumFetchTimeoutMs: number;
  /** `controller.quorum.election.backoff.max.ms`: most a lost election backs off (binary exponential, randomized). Default 1000. */
  controllerQuorumElectionBackoffMaxMs: number;
  /** `controller.quorum.request.timeout.ms`: how long a request to a peer may go unanswered before it counts as failed. Default 2000. */
  controllerQuorumRequestTimeoutMs: number;
  /** `controller.quorum.retry.backoff.ms`: wait before retrying a request to a peer that failed. Default 20. */
  controllerQuorumRetryBackoffMs: number;
  /** `controller.quorum.append.linger.ms`: how long the leader gathers appends into one batch before writing it. Default 25. */
  controllerQuorumAppendLingerMs: number;
  /** Longest a leader parks a Fetch that has nothing new to return (Kafka's `MAX_FETCH_WAIT_MS` constant, 500). */
  controllerQuorumFetchMaxWaitMs: number;
  /** Most bytes of records (or snapshot) one Fetch or FetchSnapshot returns (Kafka's `MAX_FETCH_SIZE_BYTES`, 8 MiB). */
  controllerQuorumFetchMaxBytes: number;
  /** Largest batch the leader writes; one `append` must fit in one batch (Kafka's `MAX_BATCH_SIZE_BYTES`, 8 MiB). */
  controllerQuorumBatchMaxBytes: number;
  /** `metadata.log.segment.bytes`: roll a metadata log segment at this size. Default 1 GiB. */
  metadataLogSegmentBytes: number;
  /** `metadata.log.segment.ms`: roll a metadata log segment this old. Default 7 days. */
  metadataLogSegmentMs: number;
  /**
   * `metadata.max.retention.bytes`: once the log is larger than this, segments wholly below the
   * newest snapshot are deleted (followers behind them fetch the snapshot instead). Default 100 MiB.
   */
  metadataMaxRetentionBytes: number;
  /** `metadata.max.retention.ms`: segments wholly below the newest snapshot and older than this are deleted. Default 7 days. */
  metadataMaxRetentionMs: number;
  /**
   * `metadata.log.max.record.bytes.between.snapshots`: the state machine above should write a new
   * snapshot once this many bytes were committed after the newest one (`SnapshotPolicy`).
   * Default 20 MiB.
   */
  metadataLogMaxRecordBytesBetweenSnapshots: number;
  /** `metadata.log.max.snapshot.interval.ms`: ... or once the newest snapshot is this old and records were committed since; 0 disables. Default 1 hour. */
  metadataLogMaxSnapshotIntervalMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const MIB = 1024 * 1024;

export const defaultQuorumConfig: Readonly<QuorumConfig> = Object.freeze({
  controllerQuorumElectionTimeoutMs: 1000,
  controllerQuorumFetchTimeoutMs: 2000,
  controllerQuorumElectionBackoffMaxMs: 1000,
  controllerQuorumRequestTimeoutMs: 2000,
  controllerQuorumRetryBackoffMs: 20,
  controllerQuorumAppendLingerMs: 25,
  controllerQuorumFetchMaxWaitMs: 500,
  controllerQuorumFetchMaxBytes: 8 * MIB,
  controllerQuorumBatchMaxBytes: 8 * MIB,
  metadataLogSegmentBytes: 1024 * MIB,
  metadataLogSegmentMs: 7 * DAY_MS,
  metadataMaxRetentionBytes: 100 * MIB,
  metadataMaxRetentionMs: 7 * DAY_MS,
  metadataLogMaxRecordBytesBetweenSnapshots: 20 * MIB,
  metadataLogMaxSnapshotIntervalMs: 60 * 60 * 1000,
});

/** Kafka's setting name of each field, for error messages and for reading server.properties. */
export const quorumConfigKeys: Readonly<Record<keyof QuorumConfig, string>> = Object.freeze({
  controllerQuorumElectionTimeoutMs: 'controller.quorum.election.timeout.ms',
  controllerQuorumFetchTimeoutMs: 'controller.quorum.fetch.timeout.ms',
  controllerQuorumElectionBackoffMaxMs: 'controller.quorum.election.backoff.max.ms',
  controllerQuorumRequestTimeoutMs: 'controller.quorum.request.timeout.ms',
  controllerQuorumRetryBackoffMs: 'controller.quorum.retry.backoff.ms',
  controllerQuorumAppendLingerMs: 'controller.quorum.append.linger.ms',
  controllerQuorumFetchMaxWaitMs: '(KafkaRaftClient.MAX_FETCH_WAIT_MS)',
  controllerQuorumFetchMaxBytes: '(KafkaRaftClient.MAX_FETCH_SIZE_BYTES)',
  controllerQuorumBatchMaxBytes: '(KafkaRaftClient.MAX_BATCH_SIZE_BYTES)',
  metadataLogSegmentBytes: 'metadata.log.segment.bytes',
  metadataLogSegmentMs: 'metadata.log.segment.ms',
  metadataMaxRetentionBytes: 'metadata.max.retention.bytes',
  metadataMaxRetentionMs: 'metadata.max.retention.ms',
  metadataLogMaxRecordBytesBetweenSnapshots: 'metadata.log.max.record.bytes.between.snapshots',
  metadataLogMaxSnapshotIntervalMs: 'metadata.log.max.snapshot.interval.ms',
});

/** Lowest accepted value of each setting (the batch limit must hold a batch header and one record). */
const minimums: Readonly<Record<keyof QuorumConfig, number>> = Object.freeze({
  controllerQuorumElectionTimeoutMs: 1,
  controllerQuorumFetchTimeoutMs: 1,
  controllerQuorumElectionBackoffMaxMs: 1,
  controllerQuorumRequestTimeoutMs: 1,
  controllerQuorumRetryBackoffMs: 0,
  controllerQuorumAppendLingerMs: 0,
  controllerQuorumFetchMaxWaitMs: 0,
  controllerQuorumFetchMaxBytes: 1,
  controllerQuorumBatchMaxBytes: 128,
  metadataLogSegmentBytes: 14,
  metadataLogSegmentMs: 1,
  metadataMaxRetentionBytes: -1,
  metadataMaxRetentionMs: -1,
  metadataLogMaxRecordBytesBetweenSnapshots: 1,
  metadataLogMaxSnapshotIntervalMs: 0,
});

/** A setting outside its range; names Kafka's key. Thrown by `resolveQuorumConfig`. */
export class QuorumConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
  readonly retriable = false;
  readonly key: string;
  constructor(key: string, message: string) {
    super(message);
    this.name = 'QuorumConfigError';
    this.key = key;
  }
}

/** Defaults overlaid with `overrides`, each checked to be an integer at or above its minimum. */
export function resolveQuorumConfig(overrides: Partial<QuorumConfig> = {}): QuorumConfig {
  const config = { ...defaultQuorumConfig, ...overrides };
  for (const field of Object.keys(minimums) as (keyof QuorumConfig)[]) {
    const value = config[field];
    if (!Number.isSafeInteger(value) || value < minimums[field]) {
      throw new QuorumConfigError(quorumConfigKeys[field], `${quorumConfigKeys[field]} must be an integer >= ${minimums[field]}, got ${value}`);
    }
  }
  if (config.controllerQuorumBatchMaxBytes > config.controllerQuorumFetchMaxBytes) {
    throw new QuorumConfigError(quorumConfigKeys.controllerQuorumBatchMaxBytes, 'the largest batch must fit in one fetch');
  }
  return config;
}
