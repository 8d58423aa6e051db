/**
 * The partitions of one data directory, as Kafka's LogManager: every `<topic>-<partition>`
 * directory is a `PartitionLog`; `recovery-point-offset-checkpoint` and
 * `log-start-offset-checkpoint` (Kafka's text format: `0`, count, `topic partition offset` lines)
 * record per partition the fsynced prefix and the first readable offset; `.kafka_cleanshutdown`
 * marks a clean close, so the next open skips re-checking batches, and holds (as Kafka's,
 * `{"version":0,"brokerEpoch":N}`) the broker epoch the node had, which it sends when it
 * registers again to prove the close was clean. Flush by `flushMs`, retention,
 * compaction and checkpoints are scheduled on the injected Clock. Scheduled compaction runs each
 * log's pass step by step (`compactInSteps`), yielding to the event loop between steps so appends
 * are not held up by a pass; one run (so one pass per log) at a time.
 * Not safe for concurrent use: one owner (the broker).
 */
import path from 'node:path';
import { readOffsetCheckpoint, type TopicPartitionOffset, writeOffsetCheckpoint } from './checkpoint.js';
import { type Clock, systemClock, type TimerHandle } from './clock.js';
import type { LogConfig } from './config.js';
import { moveCheckpointAside, reportDamage, stderrWarningSink, type WarningSink } from './damage.js';
import { CheckpointFormatError, LogError } from './errors.js';
import type { FileSystem } from './fs.js';
import { PartitionLog } from './partition-log.js';

export const RECOVERY_POINT_CHECKPOINT_FILE = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT_FILE = 'log-start-offset-checkpoint';
export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';

export interface LogManagerConfig {
  /** `log.flush.scheduler.interval.ms`: how often logs are checked against their `flushMs`. Default 1 s (Kafka: never). */
  flushCheckIntervalMs: number;
  /** `log.retention.check.interval.ms`: how often retention runs. Default 5 min. */
  retentionCheckIntervalMs: number;
  /** `log.flush.offset.checkpoint.interval.ms`: how often recovery points are checkpointed. Default 1 min. */
  recoveryPointCheckpointIntervalMs: number;
  /** `log.cleaner.backoff.ms`: pause between compaction passes over compacted logs. Default 15 s. */
  cleanerBackoffMs: number;
}

export const defaultLogManagerConfig: Readonly<LogManagerConfig> = Object.freeze({
  flushCheckIntervalMs: 1000,
  retentionCheckIntervalMs: 5 * 60 * 1000,
  recoveryPointCheckpointIntervalMs: 60 * 1000,
  cleanerBackoffMs: 15 * 1000,
});

export interface LogManagerOptions {
  fs: FileSystem;
  /** The data directory. */
  dir: string;
  clock?: Clock;
  /** Config of every log, unless `configFor` overrides it. */
  config?: Partial<LogConfig>;
  /** Per-topic overrides (the broker's topic configs), applied at open and create. */
  configFor?: (topic: string, partition: number) => Partial<LogConfig> | undefined;
  managerConfig?: Partial<LogManagerConfig>;
  /** Start the background schedule (default true). */
  schedule?: boolean;
  /** Uniform in [0, 1): each log's segment roll jitter (segmentJitterMs). Default: no jitter. */
  random?: () => number;
  /** Where damage found on disk is reported (default: stderr); also published on `gregor:log:damage`. */
  logger?: WarningSink;
  /**
   * Partition directories of these topics are someone else's (the controller quorum's
   * `__cluster_metadata-0`, which Kafka keeps in the first data dir too): not loaded, never touched.
   */
  foreignTopics?: ReadonlySet<string>;
}

export interface TopicPartitionLog {
  topic: string;
  partition: number;
  log: PartitionLog;
}

/** A name that is not a valid `<topic>-<partition>` directory. */
export class InvalidPartitionNameError extends LogError {
  constructor(topic: string, partition: number) {
    super('INVALID_TOPIC', `invalid topic-partition ${JSON.stringify(topic)}-${partition}`, 17);
  }
}

/**
 * The broker epoch in a data directory's clean-shutdown marker, or -1 when there is no marker or
 * it holds no epoch (a crash, or a marker written without one). Read before the logs open, which
 * removes the marker.
 */
export function readCleanShutdownBrokerEpoch(fs: FileSystem, dir: string): number {
  const marker = path.join(dir, CLEAN_SHUTDOWN_FILE);
  if (!fs.exists(marker)) return -1;
  try {
    const parsed: unknown = JSON.parse(fs.readFile(marker).toString('utf8'));
    const epoch = typeof parsed === 'object' && parsed !== null ? (parsed as { brokerEpoch?: unknown }).brokerEpoch : undefined;
    return typeof epoch === 'number' && Number.isSafeInteger(epoch) && epoch >= 0 ? epoch : -1;
  } catch {
    return -1;
  }
}

export class LogManager {
  readonly dir: string;
  /** Whether the previous run closed cleanly (marker found at open). */
  readonly hadCleanShutdown: boolean;
  private readonly fs: FileSystem;
  private readonly clock: Clock;
  private readonly logger: WarningSink;
  private readonly managerConfig: LogManagerConfig;
  private readonly logs = new Map<string, TopicPartitionLog>();
  private readonly timers = new Map<string, TimerHandle>();
  private closed = false;
  /** The running `compactInSteps`, and how to stop it at close. */
  private compactionRun: Promise<number> | undefined;
  private stopCompactionRun: (() => void) | undefined;

  private constructor(private readonly options: LogManagerOptions) {
    this.fs = options.fs;
    this.dir = options.dir;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? stderrWarningSink;
    this.managerConfig = { ...defaultLogManagerConfig, ...options.managerConfig };
    this.fs.mkdir(this.dir);
    this.hadCleanShutdown = this.fs.exists(path.join(this.dir, CLEAN_SHUTDOWN_FILE));
  }

  static open(options: LogManagerOptions): LogManager {
    const manager = new LogManager(options);
    manager.loadLogs();
    // From now on a crash must be detected: the marker goes until the next clean close.
    const marker = path.join(manager.dir, CLEAN_SHUTDOWN_FILE);
    if (manager.fs.exists(marker)) manager.fs.unlink(marker);
    if (options.schedule !== false) manager.startSchedule();
    return manager;
  }

  private loadLogs(): void {
    const recoveryPoints = this.readCheckpoint(RECOVERY_POINT_CHECKPOINT_FILE, 'recovering every partition from offset 0 if the shutdown was not clean');
    const startOffsets = this.readCheckpoint(LOG_START_OFFSET_CHECKPOINT_FILE, "each partition starts at its first segment's base offset");
    for (const name of this.fs.readdir(this.dir)) {
      const match = /^(.+)-(\d+)$/.exec(name);
      if (!match || !this.fs.isDirectory(path.join(this.dir, name))) continue;
      const topic = match[1];
      const partition = Number(match[2]);
      if (this.options.foreignTopics?.has(topic) === true) continue;
      const log = PartitionLog.open({
        fs: this.fs,
        dir: path.join(this.dir, name),
        clock: this.clock,
        config: this.configFor(topic, partition),
        hadCleanShutdown: this.hadCleanShutdown,
        recoveryPoint: recoveryPoints.get(name)?.offset ?? 0,
        logStartOffset: startOffsets.get(name)?.offset,
        random: this.options.random,
        logger: this.logger,
        onRecoveryPointMoved: this.checkpointSoon,
      });
      this.logs.set(name, { topic, partition, log });
    }
  }

  /**
   * A checkpoint of the data dir; one that does not parse (garbage, empty, wrong count) is moved
   * aside with a warning and read as empty, as Kafka does ("resetting the recovery checkpoint to 0").
   */
  private readCheckpoint(name: string, consequence: string): Map<string, TopicPartitionOffset> {
    const file = path.join(this.dir, name);
    try {
      return readOffsetCheckpoint(this.fs, file);
    } catch (error) {
      if (!(error instanceof CheckpointFormatError)) throw error;
      const movedTo = moveCheckpointAside(this.fs, file);
      reportDamage(this.logger, 'CHECKPOINT_UNREADABLE', `${error.message}; moved it to ${movedTo}, ${consequence}`, { path: file, movedTo });
      return new Map();
    }
  }

  /**
   * A roll fsyncs the closed segment and advances the log's recovery point; checkpointing it now
   * (not only every `recoveryPointCheckpointIntervalMs`) keeps what a crash makes us re-read to the
   * active segments, however fast the logs grow. A truncation moves it back, and the checkpoint
   * must not claim offsets that are gone. A failure is reported; the next checkpoint retries.
   */
  private readonly checkpointSoon = (): void => {
    if (this.closed) return;
    try {
      this.checkpoint();
    } catch (error) {
      reportDamage(this.logger, 'CHECKPOINT_FAILED', `could not checkpoint the recovery points: ${(error as Error).message}`, { dir: this.dir });
    }
  };

  private configFor(topic: string, partition: number, overrides?: Partial<LogConfig>): Partial<LogConfig> {
    return { ...this.options.config, ...this.options.configFor?.(topic, partition), ...overrides };
  }

  get(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(`${topic}-${partition}`)?.log;
  }

  /** The log of `topic`-`partition`, created empty if missing. */
  getOrCreate(topic: string, partition: number, config?: Partial<LogConfig>): PartitionLog {
    const existing = this.get(topic, partition);
    if (existing) return existing;
    if (topic.length === 0 || topic.includes('/') || topic === '.' || topic === '..' || !Number.isSafeInteger(partition) || partition < 0) {
      throw new InvalidPartitionNameError(topic, partition);
    }
    const name = `${topic}-${partition}`;
    const log = PartitionLog.open({
      fs: this.fs,
      dir: path.join(this.dir, name),
      clock: this.clock,
      config: this.configFor(topic, partition, config),
      hadCleanShutdown: true,
      random: this.options.random,
      logger: this.logger,
      onRecoveryPointMoved: this.checkpointSoon,
    });
    this.logs.set(name, { topic, partition, log });
    return log;
  }

  /** Closes the log and removes its directory. */
  delete(topic: string, partition: number): boolean {
    const name = `${topic}-${partition}`;
    const entry = this.logs.get(name);
    if (!entry) return false;
    entry.log.delete();
    this.logs.delete(name);
    return true;
  }

  all(): TopicPartitionLog[] {
    return [...this.logs.values()];
  }

  /** Writes the recovery-point and log-start-offset checkpoints. */
  checkpoint(): void {
    const entries = (pick: (log: PartitionLog) => number): TopicPartitionOffset[] =>
      this.all().map(({ topic, partition, log }) => ({ topic, partition, offset: pick(log) }));
    writeOffsetCheckpoint(this.fs, path.join(this.dir, RECOVERY_POINT_CHECKPOINT_FILE), entries((log) => log.recoveryPoint));
    writeOffsetCheckpoint(this.fs, path.join(this.dir, LOG_START_OFFSET_CHECKPOINT_FILE), entries((log) => log.logStartOffset));
  }

  flushAll(): void {
    for (const { log } of this.logs.values()) log.flush();
  }

  /** Flushes logs whose oldest unflushed append has waited `flushMs`. */
  flushDue(): number {
    let flushed = 0;
    for (const { log } of this.logs.values()) if (log.maybeFlushByTime()) flushed++;
    return flushed;
  }

  /** Retention on every log; returns segments deleted. Checkpoints start offsets if any moved. */
  runRetention(): number {
    let deleted = 0;
    for (const { log } of this.logs.values()) deleted += log.applyRetention();
    if (deleted > 0) this.checkpoint();
    return deleted;
  }

  /**
   * One whole compaction pass over logs with cleanup policy 'compact', synchronously (finishing
   * any pass `compactInSteps` has under way); returns records removed.
   */
  runCompaction(): number {
    let removed = 0;
    for (const { log } of this.logs.values()) removed += log.compact().recordsRemoved;
    return removed;
  }

  /**
   * One compaction pass over every log, one bounded step at a time (`PartitionLog.compactionStep`),
   * yielding to the event loop between steps (setImmediate on the system clock, a 0 ms timer on an
   * injected one), so appends and fetches run while a pass is under way. Resolves to records
   * removed; a call while a run is under way returns that run. Close stops the run (resolving with
   * what it removed so far); an I/O error rejects it after aborting the pass of that log.
   */
  compactInSteps(): Promise<number> {
    if (this.compactionRun) return this.compactionRun;
    const run = new Promise<number>((resolve, reject) => {
      // Only logs whose dirty ratio or compaction lag call for a pass (Kafka's cleaner choice).
      const queue = this.all().map(({ log }) => log).filter((log) => log.isCompactionDue());
      let removed = 0;
      let cancelYield: (() => void) | undefined;
      const settle = (error?: unknown) => {
        cancelYield?.();
        this.compactionRun = undefined;
        this.stopCompactionRun = undefined;
        if (error === undefined) resolve(removed);
        else reject(error);
      };
      const next = () => {
        cancelYield = undefined;
        try {
          while (queue.length > 0 && queue[0].isClosed) queue.shift();
          if (this.closed || queue.length === 0) return settle();
          const stats = queue[0].compactionStep();
          if (stats) {
            removed += stats.recordsRemoved;
            queue.shift();
          }
          cancelYield = this.yieldThen(next);
        } catch (error) {
          settle(error);
        }
      };
      this.stopCompactionRun = () => settle();
      cancelYield = this.yieldThen(next);
    });
    this.compactionRun = run;
    return run;
  }

  /** Runs `fn` after pending I/O callbacks; returns a cancel function. */
  private yieldThen(fn: () => void): () => void {
    if (this.clock === systemClock) {
      const immediate = setImmediate(fn);
      return () => clearImmediate(immediate);
    }
    const timer = this.clock.setTimeout(fn, 0);
    return () => this.clock.clearTimeout(timer);
  }

  private startSchedule(): void {
    // One pending timer per task; each run schedules the next, so the map never grows.
    const every = (name: string, intervalMs: number, task: () => void) => {
      const run = () => {
        if (this.closed) return;
        task();
        this.timers.set(name, this.clock.setTimeout(run, intervalMs));
      };
      this.timers.set(name, this.clock.setTimeout(run, intervalMs));
    };
    const { flushCheckIntervalMs, retentionCheckIntervalMs, recoveryPointCheckpointIntervalMs, cleanerBackoffMs } = this.managerConfig;
    every('flush', flushCheckIntervalMs, () => this.flushDue());
    every('retention', retentionCheckIntervalMs, () => this.runRetention());
    every('checkpoint', recoveryPointCheckpointIntervalMs, () => this.checkpoint());
    // Compaction waits `cleanerBackoffMs` after each run ends, however many steps the run took.
    const compactLater = () => {
      if (this.closed) return;
      this.timers.set('compaction', this.clock.setTimeout(() => {
        if (this.closed) return;
        this.compactInSteps().then(compactLater, (error: unknown) => {
          compactLater();
          // As an error in any scheduled task: surfaced, not swallowed.
          throw error;
        });
      }, cleanerBackoffMs));
    };
    compactLater();
  }

  /**
   * Stops as a crash would, for fault tests and simulations: scheduled work is cancelled and file
   * handles are closed, but nothing is flushed, checkpointed or marked clean, so the next open
   * recovers from the last recovery-point checkpoint. (With MemoryFileSystem, call `crash()` too
   * to lose the unsynced writes.)
   */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopCompactionRun?.();
    for (const timer of this.timers.values()) this.clock.clearTimeout(timer);
    this.timers.clear();
    for (const { log } of this.logs.values()) log.closeWithoutFlush();
  }

  /**
   * Clean close: flush and close every log, write checkpoints, then the clean-shutdown marker
   * with `brokerEpoch` (the node's registration; -1 when it has none).
   * Every log is closed even if one fails. If anything fails (a full disk refuses the checkpoints)
   * the marker is not written, so the next open recovers, and the first error is thrown at the end.
   */
  close(options: { brokerEpoch?: number } = {}): void {
    if (this.closed) return;
    this.closed = true;
    this.stopCompactionRun?.();
    for (const timer of this.timers.values()) this.clock.clearTimeout(timer);
    this.timers.clear();
    let failure: { error: unknown } | undefined;
    for (const { log } of this.logs.values()) {
      try {
        log.close();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined) throw failure.error;
    this.checkpoint();
    const marker = JSON.stringify({ version: 0, brokerEpoch: options.brokerEpoch ?? -1 });
    this.fs.writeFileAtomic(path.join(this.dir, CLEAN_SHUTDOWN_FILE), Buffer.from(marker, 'utf8'));
  }
}
