/**
 * One replica fetcher per leader broker (Kafka's ReplicaFetcherThread over AbstractFetcherThread):
 * it pulls every partition this broker follows from that leader.
 *
 * Each partition goes through two phases:
 *   1. truncating: the follower asks the leader OffsetForLeaderEpoch with its latest local epoch
 *      and truncates a divergent tail (KIP-101, KIP-279). When the leader answers with an older
 *      epoch than the one asked for, the follower truncates to where that epoch ends in its own
 *      log and asks again, so several leader changes in a row are undone one epoch at a time.
 *      Truncation goes by epochs, never by the high watermark alone (only a log with no epoch at
 *      all, or a leader that knows no epoch at or below ours, falls back to the high watermark, as
 *      in Kafka).
 *   2. fetching: one Fetch (replicaId = this broker, currentLeaderEpoch, fetchOffset = the log end
 *      offset) for all fetching partitions, long-polling at the leader when caught up; the batches
 *      are appended as they are (offsets and leader epochs kept, CRC checked), the follower's high
 *      watermark becomes min(leader HW, own LEO), and the log start follows the leader's.
 *
 * Errors: FENCED_LEADER_EPOCH parks the partition until the next metadata image changes it (this
 * broker's view is older than the leader's); NOT_LEADER_OR_FOLLOWER, UNKNOWN_LEADER_EPOCH and the
 * other retriable errors retry after `replica.fetch.backoff.ms`; OFFSET_OUT_OF_RANGE asks the
 * leader for its end and start offsets and truncates as Kafka's fetchOffsetAndTruncate does; no
 * answer at all backs off every partition and tries again.
 *
 * Concurrency: one loop per fetcher, one request in flight at a time. Partitions are added and
 * removed at any time by the ReplicaManager (from metadata images); an answer is applied only if
 * the partition is still here with the same fetch state and log end offset it was sent with.
 */
import {
  ApiKey, ErrorCode, type FetchRequestInput, type FetchResponse, type ListOffsetsRequestInput, type ListOffsetsResponse,
  type OffsetForLeaderEpochRequestInput, type OffsetForLeaderEpochResponse,
} from '@gregor/protocol';
import type { Clock, TimerHandle } from '@gregor/log';
import type { BrokerNetwork } from './channels.js';
import type { Partition } from './partition.js';

export const FETCH_VERSION = 13;
export const OFFSET_FOR_LEADER_EPOCH_VERSION = 4;
export const LIST_OFFSETS_VERSION = 7;

type PartitionFetch = NonNullable<NonNullable<FetchRequestInput['topics']>[number]['partitions']>[number];
type EpochAsked = NonNullable<NonNullable<OffsetForLeaderEpochRequestInput['topics']>[number]['partitions']>[number];

export interface ReplicaFetcherSettings {
  /** `replica.fetch.wait.max.ms`. */
  replicaFetchWaitMaxMs: number;
  /** `replica.fetch.min.bytes`. */
  replicaFetchMinBytes: number;
  /** `replica.fetch.max.bytes`: per partition. */
  replicaFetchMaxBytes: number;
  /** `replica.fetch.response.max.bytes`: per response. */
  replicaFetchResponseMaxBytes: number;
  /** `replica.fetch.backoff.ms`. */
  replicaFetchBackoffMs: number;
}

export interface ReplicaFetcherOptions {
  leaderId: number;
  brokerId: number;
  network: BrokerNetwork;
  clock: Clock;
  settings: ReplicaFetcherSettings;
  /** A partition whose log failed (I/O error): the fetcher drops it; the broker reports it. */
  onPartitionFailed: (partition: Partition, error: unknown) => void;
}

type Phase = 'truncating' | 'fetching' | 'fenced';

/** Where one partition is; replaced (not mutated) when the ReplicaManager re-adds the partition. */
class FetchState {
  phase: Phase = 'truncating';
  /** No request for this partition before this time (a backoff after an error). */
  delayedUntilMs = 0;
  constructor(readonly partition: Partition, readonly leaderEpoch: number) {}
}

export class ReplicaFetcher {
  private readonly states = new Map<Partition, FetchState>();
  private closed = false;
  private running = false;
  private wake: (() => void) | null = null;
  private idleTimer: TimerHandle | null = null;

  constructor(private readonly options: ReplicaFetcherOptions) {}

  get leaderId(): number {
    return this.options.leaderId;
  }

  get partitionCount(): number {
    return this.states.size;
  }

  has(partition: Partition): boolean {
    return this.states.has(partition);
  }

  /** Starts (or restarts, for a new leader epoch) replication of `partition` from this leader. */
  addPartition(partition: Partition): void {
    this.states.set(partition, new FetchState(partition, partition.leaderEpoch));
    this.start();
    this.notify();
  }

  removePartition(partition: Partition): void {
    this.states.delete(partition);
  }

  close(): void {
    this.closed = true;
    this.states.clear();
    this.notify();
  }

  /** The phase of a partition, for tests and diagnostics. */
  phaseOf(partition: Partition): Phase | undefined {
    return this.states.get(partition)?.phase;
  }

  private start(): void {
    if (this.running || this.closed) return;
    this.running = true;
    void this.run().finally(() => {
      this.running = false;
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private async run(): Promise<void> {
    while (!this.closed && this.states.size > 0) {
      const now = this.options.clock.now();
      const ready = [...this.states.values()].filter((state) => state.phase !== 'fenced' && state.delayedUntilMs <= now);
      const truncating = ready.filter((state) => state.phase === 'truncating');
      if (truncating.length > 0) {
        await this.truncate(truncating);
        continue;
      }
      if (ready.length === 0) {
        await this.idle();
        continue;
      }
      await this.fetch(ready);
    }
  }

  /** Waits until a partition is added or the earliest backoff ends. */
  private idle(): Promise<void> {
    const delays = [...this.states.values()].filter((state) => state.phase !== 'fenced').map((state) => state.delayedUntilMs);
    return new Promise((resolve) => {
      const done = (): void => {
        if (this.idleTimer !== null) this.options.clock.clearTimeout(this.idleTimer);
        this.idleTimer = null;
        this.wake = null;
        resolve();
      };
      this.wake = done;
      if (delays.length > 0) this.idleTimer = this.options.clock.setTimeout(done, Math.max(0, Math.min(...delays) - this.options.clock.now()));
    });
  }

  private backOff(states: Iterable<FetchState>): void {
    const until = this.options.clock.now() + this.options.settings.replicaFetchBackoffMs;
    for (const state of states) if (this.states.get(state.partition) === state) state.delayedUntilMs = until;
  }

  private isCurrent(state: FetchState): boolean {
    return !this.closed && this.states.get(state.partition) === state;
  }

  private fail(state: FetchState, error: unknown): void {
    this.states.delete(state.partition);
    this.options.onPartitionFailed(state.partition, error);
  }

  // ---------------------------------------------------------------- truncation (KIP-101 / KIP-279)

  private async truncate(states: FetchState[]): Promise<void> {
    const withEpochs: FetchState[] = [];
    for (const state of states) {
      if (state.partition.latestEpoch >= 0) withEpochs.push(state);
      else this.completeTruncation(state, state.partition.highWatermark);
    }
    if (withEpochs.length === 0) return;
    const sent = new Map(withEpochs.map((state) => [state, state.partition.latestEpoch]));
    const request: OffsetForLeaderEpochRequestInput = {
      replicaId: this.options.brokerId,
      topics: groupByTopic(withEpochs, (state) => state.partition.topic, (state): EpochAsked => ({
        partition: state.partition.partitionIndex,
        currentLeaderEpoch: state.leaderEpoch,
        leaderEpoch: sent.get(state),
      })).map(([topic, partitions]) => ({ topic, partitions })),
    };
    let response: OffsetForLeaderEpochResponse;
    try {
      response = (await this.options.network.send(this.options.leaderId, ApiKey.OffsetForLeaderEpoch, OFFSET_FOR_LEADER_EPOCH_VERSION, request)) as OffsetForLeaderEpochResponse;
    } catch {
      this.backOff(withEpochs);
      return;
    }
    for (const state of withEpochs) {
      if (!this.isCurrent(state) || state.partition.latestEpoch !== sent.get(state)) continue;
      const answer = findPartition(response.topics, (topic) => topic.topic === state.partition.topic, (partition) => partition.partition === state.partition.partitionIndex);
      if (answer === undefined) this.backOff([state]);
      else if (answer.errorCode === ErrorCode.NONE) this.applyEpochEndOffset(state, answer.leaderEpoch, answer.endOffset);
      else this.onPartitionError(state, answer.errorCode);
    }
  }

  /** Kafka's getOffsetTruncationState: where to cut, and whether to ask again. */
  private applyEpochEndOffset(state: FetchState, leaderEpoch: number, leaderEndOffset: number): void {
    const partition = state.partition;
    if (leaderEndOffset < 0) {
      // The leader knows no epoch at or below ours: nothing to compare, so keep what is committed.
      this.completeTruncation(state, partition.highWatermark);
      return;
    }
    const local = partition.endOffsetForEpoch(leaderEpoch);
    if (local === null) {
      // Our log has no epoch at or below the leader's answer: everything past its offset goes.
      this.completeTruncation(state, Math.min(leaderEndOffset, partition.logEndOffset));
      return;
    }
    if (local.epoch !== leaderEpoch) {
      // We never saw the leader's epoch: cut back to where our older epoch ends and ask again.
      this.truncateOrFail(state, Math.min(local.endOffset, partition.logEndOffset));
      return;
    }
    this.completeTruncation(state, Math.min(local.endOffset, leaderEndOffset, partition.logEndOffset));
  }

  private completeTruncation(state: FetchState, offset: number): void {
    if (this.truncateOrFail(state, offset)) state.phase = 'fetching';
  }

  private truncateOrFail(state: FetchState, offset: number): boolean {
    try {
      state.partition.truncateTo(offset);
      return true;
    } catch (error) {
      this.fail(state, error);
      return false;
    }
  }

  // ---------------------------------------------------------------- fetching

  private async fetch(states: FetchState[]): Promise<void> {
    const { settings } = this.options;
    const sentOffsets = new Map(states.map((state) => [state, state.partition.logEndOffset]));
    const request: FetchRequestInput = {
      replicaId: this.options.brokerId,
      maxWaitMs: settings.replicaFetchWaitMaxMs,
      minBytes: settings.replicaFetchMinBytes,
      maxBytes: settings.replicaFetchResponseMaxBytes,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: groupByTopic(states, (state) => state.partition.topicId, (state): PartitionFetch => ({
        partition: state.partition.partitionIndex,
        currentLeaderEpoch: state.leaderEpoch,
        fetchOffset: sentOffsets.get(state),
        lastFetchedEpoch: -1,
        logStartOffset: state.partition.logStartOffset,
        partitionMaxBytes: settings.replicaFetchMaxBytes,
      })).map(([topicId, partitions]) => ({ topicId, partitions })),
      forgottenTopicsData: [],
      rackId: '',
    };
    let response: FetchResponse;
    try {
      response = (await this.options.network.send(this.options.leaderId, ApiKey.Fetch, FETCH_VERSION, request)) as FetchResponse;
    } catch {
      this.backOff(states);
      return;
    }
    try {
      if (response.errorCode !== ErrorCode.NONE) {
        this.backOff(states);
        return;
      }
      for (const state of states) {
        if (!this.isCurrent(state) || state.phase !== 'fetching' || state.partition.logEndOffset !== sentOffsets.get(state)) continue;
        const answer = findPartition(response.responses, (topic) => topic.topicId === state.partition.topicId, (partition) => partition.partitionIndex === state.partition.partitionIndex);
        if (answer === undefined) continue;
        if (answer.errorCode === ErrorCode.NONE) this.applyFetchedData(state, answer);
        else if (answer.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) await this.handleOutOfRange(state);
        else this.onPartitionError(state, answer.errorCode);
      }
    } finally {
      // The log has written every fetched batch (its appends are synchronous) and nothing here
      // keeps a view of them: the next response may be read into the same memory.
      this.options.network.release?.(response);
    }
  }

  private applyFetchedData(state: FetchState, answer: FetchResponse['responses'][number]['partitions'][number]): void {
    const partition = state.partition;
    try {
      const records = answer.records ?? null;
      if (records !== null && records.length > 0) partition.appendRecordsAsFollower(records);
      partition.updateFollowerHighWatermark(answer.highWatermark);
      if (answer.logStartOffset >= 0) partition.maybeIncrementLogStartOffset(answer.logStartOffset);
    } catch (error) {
      // A batch that fails its CRC came damaged over the network: fetch it again. An I/O error
      // on our log takes the partition out of replication.
      if ((error as { code?: string }).code === 'INVALID_RECORD') this.backOff([state]);
      else this.fail(state, error);
    }
  }

  /** Kafka's fetchOffsetAndTruncate, with the leader's offsets from ListOffsets. */
  private async handleOutOfRange(state: FetchState): Promise<void> {
    const partition = state.partition;
    const offsets = await this.leaderOffsets(state);
    if (offsets === null || !this.isCurrent(state)) {
      if (offsets === null) this.backOff([state]);
      return;
    }
    try {
      if (offsets.logEndOffset < partition.logEndOffset) partition.truncateTo(offsets.logEndOffset);
      else if (offsets.logStartOffset > partition.logEndOffset) partition.truncateFullyAndStartAt(offsets.logStartOffset);
    } catch (error) {
      this.fail(state, error);
    }
  }

  private async leaderOffsets(state: FetchState): Promise<{ logStartOffset: number; logEndOffset: number } | null> {
    const ask = (timestamp: number): ListOffsetsRequestInput => ({
      replicaId: this.options.brokerId,
      isolationLevel: 0,
      topics: [{ name: state.partition.topic, partitions: [{ partitionIndex: state.partition.partitionIndex, currentLeaderEpoch: state.leaderEpoch, timestamp }] }],
    });
    try {
      const [latest, earliest] = (await Promise.all([-1, -2].map((timestamp) => this.options.network.send(this.options.leaderId, ApiKey.ListOffsets, LIST_OFFSETS_VERSION, ask(timestamp))))) as ListOffsetsResponse[];
      const end = latest.topics?.[0]?.partitions?.[0];
      const start = earliest.topics?.[0]?.partitions?.[0];
      if (end?.errorCode !== ErrorCode.NONE || start?.errorCode !== ErrorCode.NONE) return null;
      return { logStartOffset: start.offset, logEndOffset: end.offset };
    } catch {
      return null;
    }
  }

  private onPartitionError(state: FetchState, errorCode: number): void {
    if (errorCode === ErrorCode.FENCED_LEADER_EPOCH) {
      // The leader is at a newer epoch than our image: wait for the image to catch up.
      state.phase = 'fenced';
      return;
    }
    this.backOff([state]);
  }
}

/** Groups per-partition request entries by their topic (name or id), as Fetch and OffsetForLeaderEpoch want them. */
function groupByTopic<E>(states: FetchState[], topicOf: (state: FetchState) => string, entry: (state: FetchState) => E): [string, E[]][] {
  const byTopic = new Map<string, E[]>();
  for (const state of states) {
    const key = topicOf(state);
    const list = byTopic.get(key) ?? [];
    list.push(entry(state));
    byTopic.set(key, list);
  }
  return [...byTopic];
}

/** The first partition entry of a response that `isPartition` picks under a topic entry `isTopic` picks. */
function findPartition<T extends { partitions: readonly unknown[] }>(
  topics: readonly T[] | undefined, isTopic: (topic: T) => boolean, isPartition: (partition: T['partitions'][number]) => boolean,
): T['partitions'][number] | undefined {
  for (const entry of topics ?? []) {
    if (!isTopic(entry)) continue;
    for (const partition of entry.partitions ?? []) if (isPartition(partition)) return partition;
  }
  return undefined;
}
