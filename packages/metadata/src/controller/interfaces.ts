/**
 * What the controller is given from outside: the metadata log it writes through (the Raft
 * quorum's leader-side append), time, randomness, and the validator of config values (the config
 * table lives in @gregor/broker). Structural types only, so the quorum, @gregor/log's Clock and
 * FakeClock, and the broker's tables fit without this package depending on them.
 */

/**
 * The leader side of the `__cluster_metadata` log (KRaft's RaftClient as the active controller
 * uses it). Only the active controller appends, so the offsets are known before the append.
 */
export interface ControllerLog {
  /** The offset the next appended record will get: the leader's log end offset. */
  nextOffset(): number;
  /**
   * Appends `records` (metadata record values, in order) as one atomic batch in leader epoch
   * `epoch`. Returns at once with the offset of the first record. `committed` resolves when the
   * batch is committed (a majority of voters has it), and rejects if leadership is lost first.
   * Throws when this node is not the leader of `epoch`.
   */
  append(epoch: number, records: readonly Buffer[]): { baseOffset: number; committed: Promise<void> };
}

/** One committed batch of the metadata log, as the quorum hands it to every listener in log order. */
export interface CommittedBatch {
  /** Offset of the first record; record `i` is at `baseOffset + i`. */
  baseOffset: number;
  /** The leader epoch the batch was written in. */
  epoch: number;
  /** Metadata record values (control records are not passed). */
  records: readonly Buffer[];
}

/** Who leads the quorum now (KRaft's LeaderAndEpoch); leaderId -1 while unknown. */
export interface LeaderAndEpoch {
  leaderId: number;
  epoch: number;
}

export type TimerHandle = unknown;

/** Time, as @gregor/log's Clock and FakeClock provide it. */
export interface ControllerClock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Uniform in [0, 1), as Math.random; injected so a seeded run places replicas the same way. */
export type Random = () => number;

/** Kafka's ConfigResource.Type ids the controller stores: TOPIC 2, BROKER 4. */
export interface ConfigResource {
  resourceType: number;
  /** A topic name; a broker id in decimal, or '' for the cluster-wide broker default. */
  resourceName: string;
}

/** An error to answer with: a Kafka error code and a message. */
export interface ApiError {
  errorCode: number;
  message: string;
}

/**
 * Validates config values against the broker's config table (Kafka's ConfigurationValidator and
 * the config schema the controller reads list defaults from).
 */
export interface ConfigValidator {
  /**
   * Checks the configs a resource would have after a change: all of them, not only the changed
   * ones. Returns null when they are acceptable, else the error (INVALID_CONFIG for a bad value
   * or an unknown name).
   */
  validate(resource: ConfigResource, configs: ReadonlyMap<string, string>): ApiError | null;
  /** Whether the config is a list (comma-separated), the only kind APPEND and SUBTRACT apply to. */
  isList(resourceType: number, name: string): boolean;
  /** The value APPEND and SUBTRACT start from when the resource does not set the config. */
  defaultValue(resourceType: number, name: string): string | null;
}
