/**
 * The consumer, kafkajs's API over Kafka's classic group protocol. `run` starts one loop that
 * (re)joins the group when needed (see group-member.ts), fetches from every assigned partition's
 * leader with long polls, decodes batches with @gregor/records (decompression bounded), hands
 * records to `eachMessage` or `eachBatch`, and commits resolved offsets to the coordinator. A
 * heartbeat timer runs beside the loop and asks for a rejoin when the group rebalances. With a
 * cooperative assignor only revoked partitions stop (KIP-429). A batch that fails its checks
 * (CORRUPT_MESSAGE from the broker, or bytes that do not decode) stops the loop with a
 * CorruptMessageError naming topic, partition and offset: the consumer commits what it processed,
 * leaves the group and emits `crash`, so a `seek` past the damage and another `run` go on. Every
 * path of the loop that does not wait for the broker sleeps before it turns again, so the loop
 * never holds the event loop (timers and signals keep running). One consumer per caller.
 */
import { EventEmitter } from 'node:events';
import { Api } from './api.js';
import { assignorsByName, type Assignor, rangeAssignor } from './assignors.js';
import type { Cluster } from './cluster.js';
import type { TopicPartitions } from './consumer-protocol.js';
import { CorruptMessageError, isRetriable, KafkaClientError, KafkaProtocolError, NotConnectedError } from './errors.js';
import { GroupMember, REJOIN_ERROR_CODES } from './group-member.js';
import { commitOffsets, EARLIEST_TIMESTAMP, fetchCommittedOffsets, LATEST_TIMESTAMP, listOffsets } from './offsets.js';
import { type Clock, sleep, type TimerHandle } from './clock.js';
import { RETRY_DEFAULTS, type RetryOptions, retryDelayMs } from './retry.js';
import { FetchedRecords, RecordSetCursor } from './fetched-records.js';
import type { FetchedMessage, KafkaMessage } from './message.js';

export interface ConsumerOptions {
  groupId: string;
  /** Static membership (KIP-345): the member keeps its assignment across restarts within the session timeout. */
  groupInstanceId?: string;
  sessionTimeout?: number;
  rebalanceTimeout?: number;
  heartbeatInterval?: number;
  minBytes?: number;
  maxBytes?: number;
  maxBytesPerPartition?: number;
  maxWaitTimeInMs?: number;
  /** Assignors in preference order, objects or names ('range', 'roundrobin', 'cooperative-sticky'). */
  partitionAssigners?: (Assignor | string)[];
  /** read_uncommitted when true; default false (read_committed), as kafkajs. */
  readUncommitted?: boolean;
  retry?: RetryOptions;
  /** Limit on one batch's decompressed records (default 64 MiB). */
  decompressedBytesMax?: number;
  /**
   * Check each fetched batch's CRC (Kafka's check.crcs). Default true, except over a transport
   * whose records never leave the process after the broker checked them (InProcessTransport).
   */
  checkCrcs?: boolean;
}

export interface ConsumerSubscribeTopics {
  topics?: (string | RegExp)[];
  topic?: string | RegExp;
  fromBeginning?: boolean;
}

export type { KafkaMessage } from './message.js';

export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: KafkaMessage;
  heartbeat(): Promise<void>;
  pause(): () => void;
}

export interface Batch {
  topic: string;
  partition: number;
  highWatermark: string;
  messages: KafkaMessage[];
  isEmpty(): boolean;
  firstOffset(): string | null;
  lastOffset(): string;
  /** highWatermark - 1 - lastOffset: records behind after this batch. */
  offsetLag(): string;
  /** highWatermark - 1 - firstOffset. */
  offsetLagLow(): string;
}

export interface EachBatchPayload {
  batch: Batch;
  resolveOffset(offset: string | number): void;
  heartbeat(): Promise<void>;
  commitOffsetsIfNecessary(): Promise<void>;
  uncommittedOffsets(): { topics: { topic: string; partitions: { partition: number; offset: string }[] }[] };
  isRunning(): boolean;
  isStale(): boolean;
  pause(): () => void;
}

export interface EachRecordsPayload {
  topic: string;
  partition: number;
  highWatermark: string;
  /** The records: `while (records.next()) { records.data, records.keyStart, records.keyLength, ... }`. */
  records: RecordSetCursor;
  heartbeat(): Promise<void>;
  commitOffsetsIfNecessary(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
  pause(): () => void;
}

export interface ConsumerRunConfig {
  /**
   * Called for each message, one at a time. An `async` handler (kafkajs's shape) costs a promise
   * and an `await` per message; a plain function that returns nothing is not awaited, which makes
   * a handler that does synchronous work about a fifth cheaper per message (see docs/benchmarks.md).
   * A returned promise is always awaited before the next message.
   */
  eachMessage?: (payload: EachMessagePayload) => Promise<void> | void;
  /** Called with the messages of a partition in groups; as eachMessage, only a returned promise is awaited. */
  eachBatch?: (payload: EachBatchPayload) => Promise<void> | void;
  /**
   * Gregor's faster shape beside eachBatch (not kafkajs's): called once per partition per fetch
   * with a cursor over the fetched records (RecordSetCursor) that gives each key and value as
   * positions into the fetched bytes, so reading a record allocates nothing (eachBatch makes a
   * message object and two Buffers per record). Every record the cursor reached counts as processed
   * once the handler returns (or its promise resolves): the next fetch starts after the last one,
   * or after the whole set when `next()` returned false; a handler that stops early has the rest
   * fetched again. A record that does not decode ends the cursor and then fails the partition as
   * eachBatch does (CorruptMessageError), after the records before it. No start/end batch events.
   * Use it for work that reads bytes (parsing, hashing, copying into another store); keep
   * eachBatch/eachMessage for kafkajs code. Only one of eachMessage, eachBatch, eachRecords.
   */
  eachRecords?: (payload: EachRecordsPayload) => Promise<void> | void;
  autoCommit?: boolean;
  autoCommitInterval?: number;
  /** Same as autoCommitInterval (our naming). */
  autoCommitIntervalMs?: number;
  autoCommitThreshold?: number;
  eachBatchAutoResolve?: boolean;
  /**
   * eachBatch gets a partition's fetched records in batches of about this many messages (whole
   * RecordBatches, default 2048), not the whole fetch at once: a few MiB of fetched records
   * decoded together outlive the young generation and make garbage collection the main cost.
   */
  eachBatchMessagesMax?: number;
  partitionsConsumedConcurrently?: number;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  /** The next offset the consumer will read. */
  offset: number;
  highWatermark: number;
  lag: number;
}

/** kafkajs consumer event names; `on` also accepts the short forms ('group.join', 'crash'...). */
export const ConsumerEvents = {
  HEARTBEAT: 'consumer.heartbeat',
  COMMIT_OFFSETS: 'consumer.commit_offsets',
  GROUP_JOIN: 'consumer.group_join',
  FETCH: 'consumer.fetch',
  START_BATCH_PROCESS: 'consumer.start_batch_process',
  END_BATCH_PROCESS: 'consumer.end_batch_process',
  CONNECT: 'consumer.connect',
  DISCONNECT: 'consumer.disconnect',
  STOP: 'consumer.stop',
  CRASH: 'consumer.crash',
  REBALANCING: 'consumer.rebalancing',
} as const;

class PartitionState {
  /** Next offset to fetch. */
  position = -1;
  /** Next offset to commit (last processed + 1); -1 before anything was processed. */
  resolved = -1;
  committed = -1;
  highWatermark = -1;
  paused = false;
  revoked = false;
  /** Bumped by seek(): records fetched before a seek are dropped, not resolved. */
  seeks = 0;
  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}
}

interface FetchedPartition {
  state: PartitionState;
  fetchOffset: number;
  records: Buffer;
  aborted: { producerId: number; firstOffset: number }[] | null;
}

const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** Kafka's CORRUPT_MESSAGE, answered for a partition whose batch at the fetch offset is damaged. */
const CORRUPT_MESSAGE = 2;

export class Consumer extends EventEmitter {
  readonly events = ConsumerEvents;
  private readonly member: GroupMember;
  private readonly settings: Required<Omit<ConsumerOptions, 'groupInstanceId' | 'partitionAssigners' | 'retry'>> & { groupInstanceId: string | null; retry: Required<RetryOptions> };
  private readonly assignors: Assignor[];
  private subscriptions: (string | RegExp)[] = [];
  private fromBeginning = false;
  private readonly assigned = new Map<string, PartitionState>();
  private readonly pausedTopics = new Map<string, Set<number> | 'all'>();
  private readonly pendingSeeks = new Map<string, number>();
  private needsJoin = true;
  private running = false;
  private connected = false;
  private loop: Promise<void> | null = null;
  /** Aborted by stop(): a long-poll Fetch in flight is abandoned, so stopping takes no maxWaitTimeInMs. */
  private fetchAbort = new AbortController();
  private heartbeatTimer: TimerHandle | null = null;
  /** The Cluster's clock: heartbeats, backoff, pauses, the auto-commit interval and event times run on it. */
  private readonly clock: Clock;
  private lastCommitMs: number;
  private uncommittedCount = 0;
  private runConfig: Required<Omit<ConsumerRunConfig, 'eachMessage' | 'eachBatch' | 'eachRecords' | 'autoCommitInterval'>> & Pick<ConsumerRunConfig, 'eachMessage' | 'eachBatch' | 'eachRecords'> = {
    autoCommit: true,
    autoCommitIntervalMs: 5000,
    autoCommitThreshold: 0,
    eachBatchAutoResolve: true,
    eachBatchMessagesMax: 2048,
    partitionsConsumedConcurrently: 1,
  };

  constructor(
    private readonly cluster: Cluster,
    options: ConsumerOptions,
    private readonly ownsCluster = false,
  ) {
    super();
    this.clock = cluster.clock;
    this.lastCommitMs = this.clock.now();
    // kafkajs refuses this too: without a group there is nowhere to commit and no one to join.
    if (typeof options?.groupId !== 'string' || options.groupId === '') throw new KafkaClientError('INVALID_CONFIG', 'a consumer needs a groupId (a non-empty string): consumer({ groupId: "my-group" })');
    this.settings = {
      groupId: options.groupId,
      groupInstanceId: options.groupInstanceId ?? null,
      sessionTimeout: options.sessionTimeout ?? 30_000,
      rebalanceTimeout: options.rebalanceTimeout ?? 60_000,
      heartbeatInterval: options.heartbeatInterval ?? 3000,
      minBytes: options.minBytes ?? 1,
      maxBytes: options.maxBytes ?? 10 * 1024 * 1024,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
      maxWaitTimeInMs: options.maxWaitTimeInMs ?? 5000,
      readUncommitted: options.readUncommitted ?? false,
      decompressedBytesMax: options.decompressedBytesMax ?? 64 * 1024 * 1024,
      checkCrcs: options.checkCrcs ?? cluster.transport.deliversCheckedRecords !== true,
      retry: { ...RETRY_DEFAULTS, ...options.retry },
    };
    this.assignors = (options.partitionAssigners ?? [rangeAssignor]).map((a) => {
      if (typeof a !== 'string') return a;
      const found = assignorsByName[a];
      if (found === undefined) throw new KafkaClientError('INVALID_CONFIG', `unknown assignor ${a}`);
      return found;
    });
    this.member = new GroupMember(cluster, {
      groupId: this.settings.groupId,
      groupInstanceId: this.settings.groupInstanceId,
      sessionTimeoutMs: this.settings.sessionTimeout,
      rebalanceTimeoutMs: this.settings.rebalanceTimeout,
      assignors: this.assignors,
      joinAttemptsMax: 20,
    });
  }

  /** Accepts kafkajs's full names and our short ones ('group.join' → 'consumer.group_join'). */
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.on(typeof event === 'string' ? eventName(event) : event, listener);
  }

  private emitEvent(type: string, payload: unknown): void {
    const now = this.clock.now();
    this.emit(type, { id: `${type}-${now}`, type, timestamp: now, payload });
  }

  async connect(): Promise<void> {
    await this.cluster.connect();
    this.connected = true;
    this.emitEvent(ConsumerEvents.CONNECT, null);
  }

  async subscribe(subscription: ConsumerSubscribeTopics): Promise<void> {
    const topics = subscription.topics ?? (subscription.topic === undefined ? [] : [subscription.topic]);
    this.subscriptions.push(...topics);
    this.fromBeginning = subscription.fromBeginning ?? this.fromBeginning;
    this.needsJoin = true;
  }

  async run(config: ConsumerRunConfig = {}): Promise<void> {
    if (!this.connected) throw new NotConnectedError('consumer is not connected; call connect() first');
    if (this.running) throw new KafkaClientError('ALREADY_RUNNING', 'consumer is already running');
    const handlers = [config.eachMessage, config.eachBatch, config.eachRecords].filter((handler) => handler !== undefined).length;
    if (handlers === 0) throw new KafkaClientError('INVALID_CONFIG', 'run() needs eachMessage, eachBatch or eachRecords');
    if (handlers > 1) throw new KafkaClientError('INVALID_CONFIG', 'run() takes one of eachMessage, eachBatch and eachRecords');
    this.runConfig = {
      eachMessage: config.eachMessage,
      eachBatch: config.eachBatch,
      eachRecords: config.eachRecords,
      autoCommit: config.autoCommit ?? true,
      autoCommitIntervalMs: config.autoCommitIntervalMs ?? config.autoCommitInterval ?? 5000,
      autoCommitThreshold: config.autoCommitThreshold ?? 0,
      eachBatchAutoResolve: config.eachBatchAutoResolve ?? true,
      eachBatchMessagesMax: Math.max(1, config.eachBatchMessagesMax ?? 2048),
      partitionsConsumedConcurrently: Math.max(1, config.partitionsConsumedConcurrently ?? 1),
    };
    this.running = true;
    this.fetchAbort = new AbortController();
    this.loop = this.runLoop();
  }

  // ---- the loop ------------------------------------------------------------------------------

  private async runLoop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        if (this.needsJoin) await this.rejoin();
        await this.fetchAndProcess();
        await this.maybeAutoCommit();
        failures = 0;
      } catch (error) {
        if (!this.running) break;
        if (error instanceof KafkaProtocolError && REJOIN_ERROR_CODES.has(error.errorCode)) {
          // Rejoin at once the first time; back off if the group keeps refusing, so it never spins.
          this.needsJoin = true;
          if (failures > 0) await sleep(this.clock, retryDelayMs(Math.min(failures, 5), this.settings.retry));
          failures++;
          continue;
        }
        if (!isRetriable(error) || failures >= this.settings.retry.retries) {
          this.running = false;
          this.stopHeartbeat();
          await this.leaveAfterCrash();
          this.emitEvent(ConsumerEvents.CRASH, { error, groupId: this.settings.groupId, restart: false });
          break;
        }
        this.needsJoin = this.needsJoin || (error instanceof KafkaProtocolError && (error.errorCode === 16 || error.errorCode === 15));
        await sleep(this.clock, retryDelayMs(failures++, this.settings.retry));
      }
    }
  }

  /**
   * After a crash, as kafkajs: commit what was processed and leave the group, so a later `run`
   * joins again and starts from the committed offsets, or from a `seek` made in between.
   */
  private async leaveAfterCrash(): Promise<void> {
    if (this.runConfig.autoCommit) await this.commitResolved([...this.assigned.values()]).catch(() => {});
    if (this.settings.groupInstanceId === null) await this.member.leave().catch(() => {});
    for (const state of this.assigned.values()) state.revoked = true;
    this.assigned.clear();
    this.needsJoin = true;
  }

  /** Subscribed topic names, resolving RegExps against the cluster's topics. */
  private async subscribedTopics(): Promise<string[]> {
    const names = new Set<string>();
    const patterns = this.subscriptions.filter((s): s is RegExp => s instanceof RegExp);
    for (const s of this.subscriptions) if (typeof s === 'string') names.add(s);
    if (patterns.length > 0) {
      const all = await this.cluster.refreshMetadata();
      for (const t of all) if (!t.isInternal && patterns.some((p) => p.test(t.name))) names.add(t.name);
    }
    return [...names].sort();
  }

  private ownedPartitions(): TopicPartitions[] {
    const byTopic = new Map<string, number[]>();
    for (const s of this.assigned.values()) {
      let list = byTopic.get(s.topic);
      if (list === undefined) byTopic.set(s.topic, (list = []));
      list.push(s.partition);
    }
    return [...byTopic].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
  }

  private async rejoin(): Promise<void> {
    this.stopHeartbeat();
    this.emitEvent(ConsumerEvents.REBALANCING, { groupId: this.settings.groupId, memberId: this.member.memberId });
    const cooperative = this.member.assignor?.rebalanceProtocol === 'COOPERATIVE' || (this.member.assignor === undefined && this.assignors[0].rebalanceProtocol === 'COOPERATIVE');
    if (!cooperative) await this.revoke([...this.assigned.values()]);
    const topics = await this.subscribedTopics();
    const startMs = this.clock.now();
    this.needsJoin = false;
    const result = await this.member.join(topics, this.ownedPartitions());
    const next = new Set<string>();
    for (const { topic, partitions } of result.assignment) for (const p of partitions) next.add(keyOf(topic, p));
    const revoked = [...this.assigned.values()].filter((s) => !next.has(keyOf(s.topic, s.partition)));
    if (revoked.length > 0) {
      await this.revoke(revoked);
      // KIP-429: a member that gave partitions up rejoins at once so they can go to their new owner.
      if (this.member.assignor?.rebalanceProtocol === 'COOPERATIVE') this.needsJoin = true;
    }
    const added: PartitionState[] = [];
    for (const key of next) {
      if (this.assigned.has(key)) continue;
      const [topic, partition] = [key.slice(0, key.lastIndexOf('\u0000')), Number(key.slice(key.lastIndexOf('\u0000') + 1))];
      const state = new PartitionState(topic, partition);
      this.assigned.set(key, state);
      added.push(state);
    }
    // Heartbeat from here on: the group has us, whatever happens to the lookups below.
    this.startHeartbeat();
    await this.initializePositions(added);
    const memberAssignment: Record<string, number[]> = {};
    for (const { topic, partitions } of result.assignment) memberAssignment[topic] = partitions;
    this.emitEvent(ConsumerEvents.GROUP_JOIN, {
      duration: this.clock.now() - startMs,
      groupId: this.settings.groupId,
      isLeader: result.isLeader,
      leaderId: result.leaderId,
      groupProtocol: result.protocolName,
      memberId: result.memberId,
      generationId: result.generationId,
      memberAssignment,
    });
  }

  /** Stops consuming `states`, committing what was processed first. */
  private async revoke(states: PartitionState[]): Promise<void> {
    if (states.length === 0) return;
    if (this.runConfig.autoCommit) await this.commitResolved(states).catch(() => {});
    for (const s of states) {
      s.revoked = true;
      this.assigned.delete(keyOf(s.topic, s.partition));
    }
  }

  /** Committed offset, else a pending seek, else earliest/latest as fromBeginning says. */
  private async initializePositions(states: PartitionState[]): Promise<void> {
    if (states.length === 0) return;
    const byTopic = new Map<string, number[]>();
    for (const s of states) byTopic.set(s.topic, [...(byTopic.get(s.topic) ?? []), s.partition]);
    const committed = await fetchCommittedOffsets(this.cluster, this.settings.groupId, [...byTopic].map(([topic, partitions]) => ({ topic, partitions })));
    const committedByKey = new Map(committed.map((c) => [keyOf(c.topic, c.partition), c.offset]));
    const needReset: PartitionState[] = [];
    for (const s of states) {
      const key = keyOf(s.topic, s.partition);
      const seek = this.pendingSeeks.get(key);
      const offset = committedByKey.get(key) ?? -1;
      s.committed = offset;
      if (seek !== undefined) {
        this.pendingSeeks.delete(key);
        s.position = seek;
        s.resolved = seek;
      } else if (offset >= 0) s.position = offset;
      else needReset.push(s);
      s.paused = this.isPausedByUser(s.topic, s.partition);
    }
    await this.resetPositions(needReset);
  }

  private async resetPositions(states: PartitionState[]): Promise<void> {
    if (states.length === 0) return;
    for (const s of states) await this.cluster.topicInfo(s.topic);
    const timestamp = this.fromBeginning ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP;
    const offsets = await listOffsets(this.cluster, states.map((s) => ({ topic: s.topic, partition: s.partition, timestamp })), this.isolationLevel);
    const byKey = new Map(offsets.map((o) => [keyOf(o.topic, o.partition), o.offset]));
    for (const s of states) s.position = byKey.get(keyOf(s.topic, s.partition)) ?? 0;
  }

  private get isolationLevel(): number {
    return this.settings.readUncommitted ? 0 : 1;
  }

  // ---- heartbeats ----------------------------------------------------------------------------

  private startHeartbeat(): void {
    this.stopHeartbeat();
    const beat = async () => {
      this.heartbeatTimer = null;
      if (!this.running || this.needsJoin) return;
      try {
        const code = await this.member.heartbeat();
        if (code === 0) this.emitEvent(ConsumerEvents.HEARTBEAT, { groupId: this.settings.groupId, memberId: this.member.memberId, groupGenerationId: this.member.generationId });
        else if (REJOIN_ERROR_CODES.has(code) || code === 16 || code === 15) this.needsJoin = true;
      } catch {
        // A failed heartbeat is retried at the next interval; the session timeout decides.
      }
      if (this.running && !this.needsJoin && this.heartbeatTimer === null) this.heartbeatTimer = this.clock.setTimeout(beat, this.settings.heartbeatInterval);
    };
    this.heartbeatTimer = this.clock.setTimeout(beat, this.settings.heartbeatInterval);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) this.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  // ---- fetching ------------------------------------------------------------------------------

  private fetchable(): PartitionState[] {
    const list: PartitionState[] = [];
    for (const s of this.assigned.values()) if (!s.paused && s.position >= 0) list.push(s);
    return list;
  }

  private async fetchAndProcess(): Promise<void> {
    // Assigned partitions whose start position is not known yet (its lookup after the join
    // failed, say a lost answer or a coordinator still loading) are looked up again here: until
    // then they cannot be fetched, and nothing else would retry them.
    const unresolved: PartitionState[] = [];
    for (const s of this.assigned.values()) if (s.position < 0) unresolved.push(s);
    if (unresolved.length > 0) await this.initializePositions(unresolved);
    const states = this.fetchable();
    if (states.length === 0) {
      await sleep(this.clock, Math.min(this.settings.maxWaitTimeInMs, 50));
      return;
    }
    const byNode = new Map<number, PartitionState[]>();
    for (const s of states) {
      await this.cluster.topicInfo(s.topic);
      const leader = this.cluster.leaderFor(s.topic, s.partition);
      byNode.set(leader, [...(byNode.get(leader) ?? []), s]);
    }
    const fetched = await Promise.all([...byNode].map(([nodeId, list]) => this.fetchFromNode(nodeId, list)));
    const work = fetched.flatMap((result) => result.data);
    await this.processConcurrently(work);
    // Data of the healthy partitions is handed out first; then the damage stops the consumer.
    const corrupt = fetched.flatMap((result) => result.corrupt);
    if (corrupt.length > 0 && this.running) throw corrupt[0];
    // Partitions that only answered retriable errors are fetched again after a pause, not at once.
    if (work.length === 0 && fetched.some((result) => result.retriableErrors > 0)) await sleep(this.clock, retryDelayMs(0, this.settings.retry));
  }

  private async fetchFromNode(nodeId: number, states: PartitionState[]): Promise<{ data: FetchedPartition[]; corrupt: CorruptMessageError[]; retriableErrors: number }> {
    const byTopic = new Map<string, PartitionState[]>();
    for (const s of states) byTopic.set(s.topic, [...(byTopic.get(s.topic) ?? []), s]);
    const requested = new Map(states.map((s) => [keyOf(s.topic, s.partition), s.position]));
    const response = await this.cluster.request(
      Api.Fetch,
      {
        replicaId: -1,
        maxWaitMs: this.settings.maxWaitTimeInMs,
        minBytes: this.settings.minBytes,
        maxBytes: this.settings.maxBytes,
        isolationLevel: this.isolationLevel,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [...byTopic].map(([topic, list]) => ({
          topic,
          topicId: this.cluster.topics.get(topic)?.topicId,
          partitions: list.map((s) => ({ partition: s.partition, currentLeaderEpoch: -1, fetchOffset: s.position, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: this.settings.maxBytesPerPartition })),
        })),
        forgottenTopicsData: [],
        rackId: '',
      },
      { nodeId, signal: this.fetchAbort.signal },
    );
    if (response.errorCode) throw new KafkaProtocolError(response.errorCode, 'Fetch');
    const out: FetchedPartition[] = [];
    const corrupt: CorruptMessageError[] = [];
    let retriableErrors = 0;
    for (const topicResponse of response.responses) {
      const topic: string | undefined = topicResponse.topic || this.cluster.topicNameById(topicResponse.topicId);
      if (topic === undefined) continue;
      for (const p of topicResponse.partitions) {
        const key = keyOf(topic, p.partitionIndex);
        const state = this.assigned.get(key);
        const fetchOffset = requested.get(key);
        // Drop data for partitions revoked or moved (seek) while the fetch was in flight.
        if (state === undefined || fetchOffset === undefined || state.position !== fetchOffset) continue;
        if (p.errorCode === CORRUPT_MESSAGE) {
          corrupt.push(new CorruptMessageError(topic, p.partitionIndex, String(fetchOffset), 'the broker answered CORRUPT_MESSAGE'));
          continue;
        }
        if (p.errorCode !== 0) {
          await this.handlePartitionError(state, p.errorCode);
          retriableErrors++;
          continue;
        }
        state.highWatermark = p.highWatermark;
        if (p.records !== null && p.records.length > 0) out.push({ state, fetchOffset, records: p.records, aborted: p.abortedTransactions ?? null });
      }
    }
    this.emitEvent(ConsumerEvents.FETCH, { numberOfBatches: out.length, duration: 0, nodeId });
    return { data: out, corrupt, retriableErrors };
  }

  private async handlePartitionError(state: PartitionState, errorCode: number): Promise<void> {
    if (errorCode === 1) {
      // OFFSET_OUT_OF_RANGE: start again where fromBeginning says, as auto.offset.reset.
      await this.resetPositions([state]);
      return;
    }
    const error = new KafkaProtocolError(errorCode, `${state.topic}-${state.partition}`);
    if (!error.retriable) throw error;
    await this.cluster.refreshMetadata([state.topic]).catch(() => {});
  }

  private async processConcurrently(work: FetchedPartition[]): Promise<void> {
    const limit = this.runConfig.partitionsConsumedConcurrently;
    let next = 0;
    const worker = async () => {
      while (next < work.length && this.running && !this.needsJoin) {
        const item = work[next++];
        await this.processPartition(item);
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, work.length) }, worker));
  }

  /**
   * Decodes the fetched record set of one partition and hands it to the user's handler. The
   * records before a batch that does not decode are handed out first; then the damage is thrown
   * as a CorruptMessageError at the partition's position, unless the handler moved or stopped it.
   */
  private async processPartition({ state, fetchOffset, records, aborted }: FetchedPartition): Promise<void> {
    const visibleAborts = this.isolationLevel === 1 ? aborted : null;
    const seeks = state.seeks;
    const set = new FetchedRecords(fetchOffset, records, visibleAborts, this.settings.decompressedBytesMax, this.settings.checkCrcs);
    if (this.runConfig.eachRecords !== undefined) {
      if (!(await this.processRecords(state, seeks, set))) return;
    } else if (this.runConfig.eachBatch !== undefined) {
      if (!(await this.processInBatches(state, seeks, set))) return;
    } else if (!(await this.processEachMessage(state, seeks, set))) return;
    if (set.damage !== null) throw new CorruptMessageError(state.topic, state.partition, String(state.position), set.damage.message, set.damage);
  }

  /** Hands the messages to eachMessage; false when the partition stopped (pause, seek, rebalance). */
  private async processEachMessage(state: PartitionState, seeks: number, set: FetchedRecords): Promise<boolean> {
    // One list for every batch: eachMessage gets the messages, never the list.
    const list: FetchedMessage[] = [];
    for (;;) {
      list.length = 0;
      const count = set.readBatch(list);
      if (count < 0) return true;
      if (count > 0) {
        if (!(await this.runEachMessage(state, list)) || state.seeks !== seeks) return false;
      } else if (!this.skipTo(state, seeks, set.nextPosition)) return false;
    }
  }

  /**
   * Hands the decoded RecordBatches to eachBatch in groups of at least eachBatchMessagesMax messages
   * (the last group may be smaller), each decoded straight into the list eachBatch gets. Stops after
   * a group that was not resolved to its end (the next fetch starts again at the first unresolved
   * offset, as kafkajs) or when the partition stopped; false then.
   */
  private async processInBatches(state: PartitionState, seeks: number, set: FetchedRecords): Promise<boolean> {
    const limit = this.runConfig.eachBatchMessagesMax;
    let pending: FetchedMessage[] = [];
    for (;;) {
      const count = set.readBatch(pending);
      if (count < 0) break;
      if (count === 0) {
        if (pending.length === 0 && !this.skipTo(state, seeks, set.nextPosition)) return false;
        continue;
      }
      if (pending.length < limit) continue;
      if (!(await this.runEachBatchGroup(state, seeks, pending))) return false;
      // A new list: the handler may keep batch.messages.
      pending = [];
    }
    if (pending.length > 0) return this.runEachBatchGroup(state, seeks, pending);
    return true;
  }

  /**
   * One eachRecords call with a cursor over the whole set; afterwards the records the cursor reached
   * are resolved, and the position passes the whole set when the cursor reached its end. True when
   * the set was read to its end (damage, if any, is then reported by the caller).
   */
  private async processRecords(state: PartitionState, seeks: number, set: FetchedRecords): Promise<boolean> {
    const handled = this.runConfig.eachRecords!({
      topic: state.topic,
      partition: state.partition,
      highWatermark: String(state.highWatermark),
      records: new RecordSetCursor(set),
      heartbeat: () => this.heartbeatNow(),
      commitOffsetsIfNecessary: () => this.maybeAutoCommit(),
      isRunning: () => this.running,
      isStale: () => this.isStale(state),
      pause: () => this.pauseOne(state),
    });
    if (handled !== undefined) await handled;
    if (state.seeks !== seeks || this.isStale(state)) return false;
    if (set.lastRecordOffset >= 0) this.resolve(state, set.lastRecordOffset);
    else if (!set.isComplete) {
      // The handler took nothing: the next fetch returns the same records at once (in-process,
      // without I/O), so give timers and I/O a turn rather than spin on promises.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (!set.isComplete) return set.damage !== null;
    return this.skipTo(state, seeks, set.nextPosition);
  }

  /** One eachBatch call; true when the next group may follow (resolved to its end, still running). */
  private async runEachBatchGroup(state: PartitionState, seeks: number, messages: FetchedMessage[]): Promise<boolean> {
    await this.runEachBatch(state, messages);
    const last = messages[messages.length - 1].offsetNumber;
    return state.seeks === seeks && !this.isStale(state) && !state.paused && state.position > last;
  }

  /** Moves past control or skipped records, unless the partition moved (seek) or stopped meanwhile. */
  private skipTo(state: PartitionState, seeks: number, nextPosition: number): boolean {
    if (state.seeks !== seeks || this.isStale(state)) return false;
    if (nextPosition > state.position) state.position = nextPosition;
    return true;
  }

  private isStale(state: PartitionState): boolean {
    return state.revoked || !this.running || this.needsJoin && this.member.assignor?.rebalanceProtocol !== 'COOPERATIVE';
  }

  private resolve(state: PartitionState, offset: number): void {
    if (offset + 1 > state.resolved) {
      state.resolved = offset + 1;
      this.uncommittedCount++;
    }
    if (offset + 1 > state.position) state.position = offset + 1;
  }

  /** Hands records to eachMessage one by one; false when the partition stopped (pause, seek, rebalance). */
  private async runEachMessage(state: PartitionState, messages: FetchedMessage[]): Promise<boolean> {
    const eachMessage = this.runConfig.eachMessage!;
    const heartbeat = () => this.heartbeatNow();
    const pause = () => this.pauseOne(state);
    const seeks = state.seeks;
    for (let i = 0; i < messages.length; i++) {
      if (this.isStale(state) || state.paused || state.seeks !== seeks) return false;
      const handled = eachMessage({ topic: state.topic, partition: state.partition, message: messages[i], heartbeat, pause });
      if (handled !== undefined) await handled;
      if (state.seeks !== seeks) return false;
      this.resolve(state, messages[i].offsetNumber);
      if (this.runConfig.autoCommitThreshold > 0 && this.uncommittedCount >= this.runConfig.autoCommitThreshold) await this.maybeAutoCommit();
    }
    return true;
  }

  private async runEachBatch(state: PartitionState, messages: FetchedMessage[]): Promise<void> {
    const hw = state.highWatermark;
    const first = messages[0].offsetNumber;
    const last = messages[messages.length - 1].offsetNumber;
    const batch: Batch = {
      topic: state.topic,
      partition: state.partition,
      highWatermark: String(hw),
      messages,
      isEmpty: () => messages.length === 0,
      firstOffset: () => messages[0]?.offset ?? null,
      lastOffset: () => String(last),
      offsetLag: () => String(Math.max(0, hw - 1 - last)),
      offsetLagLow: () => String(Math.max(0, hw - 1 - first)),
    };
    this.emitEvent(ConsumerEvents.START_BATCH_PROCESS, { topic: state.topic, partition: state.partition, highWatermark: batch.highWatermark, offsetLag: batch.offsetLag(), batchSize: messages.length, firstOffset: batch.firstOffset(), lastOffset: batch.lastOffset() });
    const seeks = state.seeks;
    const handled = this.runConfig.eachBatch!({
      batch,
      resolveOffset: (offset) => this.resolve(state, Number(offset)),
      heartbeat: () => this.heartbeatNow(),
      commitOffsetsIfNecessary: () => this.maybeAutoCommit(),
      uncommittedOffsets: () => this.uncommittedOffsets(),
      isRunning: () => this.running,
      isStale: () => this.isStale(state),
      pause: () => this.pauseOne(state),
    });
    if (handled !== undefined) await handled;
    if (state.seeks !== seeks) return;
    if (this.runConfig.eachBatchAutoResolve && !this.isStale(state)) this.resolve(state, last);
    else if (state.position < state.resolved) state.position = state.resolved;
    this.emitEvent(ConsumerEvents.END_BATCH_PROCESS, { topic: state.topic, partition: state.partition, batchSize: messages.length });
  }

  private pauseOne(state: PartitionState): () => void {
    this.pause([{ topic: state.topic, partitions: [state.partition] }]);
    return () => this.resume([{ topic: state.topic, partitions: [state.partition] }]);
  }

  private async heartbeatNow(): Promise<void> {
    if (this.needsJoin || this.member.generationId < 0) return;
    const code = await this.member.heartbeat();
    if (code !== 0 && (REJOIN_ERROR_CODES.has(code) || code === 16)) this.needsJoin = true;
  }

  // ---- commits -------------------------------------------------------------------------------

  private uncommittedOffsets() {
    const byTopic = new Map<string, { partition: number; offset: string }[]>();
    for (const s of this.assigned.values()) {
      if (s.resolved < 0 || s.resolved === s.committed) continue;
      byTopic.set(s.topic, [...(byTopic.get(s.topic) ?? []), { partition: s.partition, offset: String(s.resolved) }]);
    }
    return { topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) };
  }

  private async maybeAutoCommit(): Promise<void> {
    if (!this.runConfig.autoCommit) return;
    const due = this.clock.now() - this.lastCommitMs >= this.runConfig.autoCommitIntervalMs || (this.runConfig.autoCommitThreshold > 0 && this.uncommittedCount >= this.runConfig.autoCommitThreshold);
    if (due) await this.commitResolved([...this.assigned.values()]);
  }

  private async commitResolved(states: PartitionState[]): Promise<void> {
    const pending = states.filter((s) => s.resolved >= 0 && s.resolved !== s.committed);
    this.lastCommitMs = this.clock.now();
    this.uncommittedCount = 0;
    if (pending.length === 0 || this.member.generationId < 0) return;
    const offsets = pending.map((s) => ({ topic: s.topic, partition: s.partition, offset: s.resolved }));
    await this.commitWithContext(offsets);
    for (const s of pending) s.committed = offsets.find((o) => o.topic === s.topic && o.partition === s.partition)!.offset;
  }

  private async commitWithContext(offsets: { topic: string; partition: number; offset: number }[]): Promise<void> {
    try {
      await commitOffsets(this.cluster, { groupId: this.settings.groupId, generationId: this.member.generationId, memberId: this.member.memberId, groupInstanceId: this.settings.groupInstanceId }, offsets);
      this.emitEvent(ConsumerEvents.COMMIT_OFFSETS, { groupId: this.settings.groupId, memberId: this.member.memberId, groupGenerationId: this.member.generationId, topics: offsets });
    } catch (error) {
      if (error instanceof KafkaProtocolError && REJOIN_ERROR_CODES.has(error.errorCode)) this.needsJoin = true;
      throw error;
    }
  }

  /** Commits the given offsets (the next offset to read, as kafkajs). */
  async commitOffsets(offsets: { topic: string; partition: number; offset: string | number }[]): Promise<void> {
    const list = offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: Number(o.offset) }));
    await this.commitWithContext(list);
    for (const o of list) {
      const s = this.assigned.get(keyOf(o.topic, o.partition));
      if (s !== undefined) {
        s.committed = o.offset;
        if (s.resolved < o.offset) s.resolved = o.offset;
      }
    }
  }

  // ---- seek, pause, lag ------------------------------------------------------------------------

  /** Moves the next fetch of a partition to `offset`; applied when assigned if it is not yet. */
  seek({ topic, partition, offset }: { topic: string; partition: number; offset: string | number }): void {
    const target = Number(offset);
    const state = this.assigned.get(keyOf(topic, partition));
    if (state === undefined) {
      this.pendingSeeks.set(keyOf(topic, partition), target);
      return;
    }
    state.seeks++;
    if (target < 0) {
      // kafkajs accepts -2 / -1 for earliest / latest.
      void listOffsets(this.cluster, [{ topic, partition, timestamp: target === -2 ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP }]).then(([o]) => {
        state.position = o.offset;
        state.resolved = o.offset;
      }, (error) => this.emitEvent(ConsumerEvents.CRASH, { error, groupId: this.settings.groupId, restart: true }));
      return;
    }
    state.position = target;
    state.resolved = target;
    this.uncommittedCount++;
  }

  pause(topics: { topic: string; partitions?: number[] }[]): void {
    for (const { topic, partitions } of topics) {
      if (partitions === undefined) this.pausedTopics.set(topic, 'all');
      else {
        const current = this.pausedTopics.get(topic);
        if (current === 'all') continue;
        const set = current ?? new Set<number>();
        for (const p of partitions) set.add(p);
        this.pausedTopics.set(topic, set);
      }
    }
    for (const s of this.assigned.values()) s.paused = this.isPausedByUser(s.topic, s.partition);
  }

  resume(topics: { topic: string; partitions?: number[] }[]): void {
    for (const { topic, partitions } of topics) {
      const current = this.pausedTopics.get(topic);
      if (partitions === undefined || current === undefined) this.pausedTopics.delete(topic);
      else if (current === 'all') {
        // Resuming some partitions of a fully paused topic: keep the others paused.
        const info = this.cluster.topics.get(topic);
        const rest = new Set((info?.partitions ?? []).map((p) => p.partitionId).filter((p) => !partitions.includes(p)));
        this.pausedTopics.set(topic, rest);
      } else for (const p of partitions) current.delete(p);
    }
    for (const s of this.assigned.values()) s.paused = this.isPausedByUser(s.topic, s.partition);
  }

  paused(): { topic: string; partitions: number[] }[] {
    const byTopic = new Map<string, number[]>();
    for (const s of this.assigned.values()) if (s.paused) byTopic.set(s.topic, [...(byTopic.get(s.topic) ?? []), s.partition]);
    return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
  }

  private isPausedByUser(topic: string, partition: number): boolean {
    const p = this.pausedTopics.get(topic);
    return p === 'all' || (p?.has(partition) ?? false);
  }

  /** The partitions this member holds now. */
  assignment(): { topic: string; partition: number }[] {
    return [...this.assigned.values()].map((s) => ({ topic: s.topic, partition: s.partition })).sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  }

  /** Records behind per assigned partition, from the high watermark of the latest fetch. */
  lag(): PartitionLag[] {
    return [...this.assigned.values()].map((s) => ({
      topic: s.topic,
      partition: s.partition,
      offset: s.position,
      highWatermark: s.highWatermark,
      lag: s.highWatermark < 0 || s.position < 0 ? 0 : Math.max(0, s.highWatermark - s.position),
    }));
  }

  get memberId(): string {
    return this.member.memberId;
  }

  // ---- shutdown ------------------------------------------------------------------------------

  /** Stops the loop after the message in hand and commits what was processed. */
  async stop(): Promise<void> {
    this.running = false;
    this.fetchAbort.abort();
    this.stopHeartbeat();
    await this.loop?.catch(() => {});
    this.loop = null;
    if (this.runConfig.autoCommit) await this.commitResolved([...this.assigned.values()]).catch(() => {});
    this.emitEvent(ConsumerEvents.STOP, null);
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    await this.stop();
    // Static members keep their place in the group for the session timeout, as Kafka's consumer.
    if (this.settings.groupInstanceId === null) await this.member.leave().catch(() => {});
    this.assigned.clear();
    this.connected = false;
    if (this.ownsCluster) await this.cluster.close();
    this.emitEvent(ConsumerEvents.DISCONNECT, null);
  }
}

const SHORT_EVENT_NAMES: Record<string, string> = {
  'group.join': ConsumerEvents.GROUP_JOIN,
  rebalancing: ConsumerEvents.REBALANCING,
  crash: ConsumerEvents.CRASH,
  heartbeat: ConsumerEvents.HEARTBEAT,
  'commit.offsets': ConsumerEvents.COMMIT_OFFSETS,
  fetch: ConsumerEvents.FETCH,
  connect: ConsumerEvents.CONNECT,
  disconnect: ConsumerEvents.DISCONNECT,
  stop: ConsumerEvents.STOP,
};

function eventName(event: string): string {
  return SHORT_EVENT_NAMES[event] ?? event;
}

export interface DecodedRecords {
  /** The messages; each carries its numeric offset, so resolving one never parses the string back. */
  list: FetchedMessage[];
  /** The offset after the last batch seen (control and skipped batches included). */
  nextPosition: number;
}

/**
 * The records of a fetched record set at or after `fetchOffset`, one RecordBatch at a time (see
 * fetched-records.ts); a batch that does not decode is thrown as its RecordsError.
 */
export function* fetchedBatches(
  fetchOffset: number,
  records: Buffer,
  aborted: readonly { producerId: number; firstOffset: number }[] | null,
  decompressedBytesMax: number,
  verifyCrc = true,
): Generator<DecodedRecords> {
  const set = new FetchedRecords(fetchOffset, records, aborted, decompressedBytesMax, verifyCrc);
  for (;;) {
    const list: FetchedMessage[] = [];
    if (set.readBatch(list) < 0) break;
    yield { list, nextPosition: set.nextPosition };
  }
  if (set.damage !== null) throw set.damage;
}

/** All of `fetchedBatches` at once, with the numeric offsets beside the messages. */
export function decodeFetchedRecords(
  fetchOffset: number,
  records: Buffer,
  aborted: readonly { producerId: number; firstOffset: number }[] | null,
  decompressedBytesMax: number,
): DecodedRecords & { offsets: number[] } {
  const set = new FetchedRecords(fetchOffset, records, aborted, decompressedBytesMax);
  const list: FetchedMessage[] = [];
  while (set.readBatch(list) >= 0);
  if (set.damage !== null) throw set.damage;
  return { list, offsets: list.map((message) => message.offsetNumber), nextPosition: set.nextPosition };
}
