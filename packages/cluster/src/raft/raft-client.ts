/**
 * One member of the controller quorum (Kafka's `KafkaRaftClient`, KIP-595 with KIP-996 pre-vote):
 * Raft over the metadata log `__cluster_metadata-0`, pull-based as KRaft. Voters elect a leader per
 * epoch; followers and observers replicate the leader's log with Fetch and, when too far behind,
 * its snapshot with FetchSnapshot; the leader commits what a majority of voters hold and the state
 * machines above receive committed batches through listeners.
 *
 * Durability: the election state (`quorum-state`) is written and fsynced before a vote is granted,
 * a candidacy starts, or a leader or follower role is taken; a follower flushes what it appended
 * before its next Fetch (so the offset it fetches at is durable), and the leader flushes before it
 * counts its own log end offset toward the high watermark.
 *
 * Concurrency: single-threaded and event-driven. Every event (a timer of the injected clock, a
 * peer's request through `handle`, a response to our request, an `append`) runs its state changes
 * synchronously, then `poll()` sends what the new state calls for and arms one timer for the next
 * deadline. No real timers, no wall clock, no Math.random: a seeded simulation replays exactly.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Clock, FileSystem } from '@gregor/log';
import { ErrorCode, type RequestBody, type ResponseBody, type ResponseInput } from '@gregor/protocol';
import { type QuorumConfig, resolveQuorumConfig } from './config.js';
import { InvalidAppendError, InvalidSnapshotError, type LeaderAndEpoch, NotLeaderError, RaftClosedError, RaftError, RaftStorageError } from './errors.js';
import { LeaderState } from './leader-state.js';
import { ListenerDelivery, type RaftListener, type RaftLogger, silentRaftLogger } from './listeners.js';
import { QUORUM_API_KEYS, QUORUM_REQUEST_VERSIONS, type QuorumApiKey, type QuorumNetwork } from './network.js';
import { QUORUM_STATE_FILE, QuorumStateStore } from './quorum-state.js';
import { RaftLog } from './raft-log.js';
import { dataBatch, leaderChangeBatch } from './records.js';
import {
  beginQuorumEpochRequest,
  describeQuorumResponse,
  endQuorumEpochRequest,
  type FetchAnswer,
  fetchRequest,
  fetchResponse,
  fetchSnapshotRequest,
  fetchSnapshotResponse,
  quorumEpochResponse,
  singlePartition,
  voteRequest,
  voteResponse,
} from './requests.js';
import { RequestTracker } from './request-tracker.js';
import type { SnapshotId, SnapshotWriter } from './snapshots.js';
import {
  CandidateState,
  type EpochState,
  FollowerState,
  knownLeaderId,
  LeaderRoleState,
  ProspectiveState,
  ResignedState,
  UnattachedState,
  type VoteTally,
} from './states.js';

export interface RaftClientOptions {
  nodeId: number;
  /** The voter ids (`controller.quorum.voters`); a node not among them is an observer. */
  voters: readonly number[];
  /** The metadata log directory (`metadata.log.dir`); the log lives in `<dir>/__cluster_metadata-0`. */
  dir: string;
  fs: FileSystem;
  clock: Clock;
  /** Uniform in [0, 1): election timeouts and backoffs are randomized with it. */
  random: () => number;
  network: QuorumNetwork;
  config?: Partial<QuorumConfig>;
  /** Requests naming another cluster id are refused (INCONSISTENT_CLUSTER_ID). */
  clusterId: string;
  logger?: RaftLogger;
  /**
   * Called when an invariant breaks while handling a response (a programmer error: the client is
   * killed first). By default the error is rethrown, as an unhandled rejection: fail loudly. The
   * simulation records it against the seed instead.
   */
  onFatalError?: (error: Error) => void;
}

/** Estimated bytes a value takes in a batch beyond its own length (record varints). */
const RECORD_OVERHEAD_BYTES = 24;
const BATCH_HEADER_BYTES = 61;
/** Kafka's RETRY_BACKOFF_BASE_MS for lost elections. */
const ELECTION_BACKOFF_BASE_MS = 100;

interface PendingAppend {
  values: Buffer[];
  bytes: number;
  /** Offset given to the first value when the append was scheduled. */
  baseOffset: number;
  resolve: (offset: number) => void;
  reject: (error: Error) => void;
}

/** What `scheduleAtomicAppend` hands back at once. */
export interface ScheduledAppend {
  /** Offset of the first value: known before the batch is written (only the leader appends). */
  baseOffset: number;
  lastOffset: number;
  /** Resolves once the batch is committed; rejects (NotLeaderError, ...) if it cannot be. */
  committed: Promise<void>;
}

interface UncommittedAppend {
  lastOffset: number;
  resolve: (offset: number) => void;
  reject: (error: Error) => void;
}

interface ParkedFetch {
  apiVersion: number;
  body: RequestBody<1>;
  deadlineMs: number;
  resolve: (response: ResponseInput<1>) => void;
}

type Handled = { [K in QuorumApiKey]: (apiVersion: number, body: RequestBody<K>) => ResponseInput<K> | Promise<ResponseInput<K>> };

export class RaftClient {
  readonly nodeId: number;
  readonly voters: readonly number[];
  readonly config: QuorumConfig;
  readonly clusterId: string;
  private readonly fs: FileSystem;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly network: QuorumNetwork;
  private readonly logger: RaftLogger;
  private readonly onFatalError: (error: Error) => void;
  private readonly log: RaftLog;
  private readonly store: QuorumStateStore;
  private readonly requests = new RequestTracker();
  private readonly delivery: ListenerDelivery;
  private state: EpochState;
  private highWatermarkOffset: number;
  /** The quorum's high watermark as a leader made it known in this lifetime (undefined: not yet). */
  private learnedHighWatermark: number | undefined;
  private pendingAppends: PendingAppend[] = [];
  private pendingAppendBytes = 0;
  private pendingAppendValues = 0;
  private lingerDeadlineMs = Number.POSITIVE_INFINITY;
  private uncommitted: UncommittedAppend[] = [];
  private parkedFetches: ParkedFetch[] = [];
  private timer: ReturnType<Clock['setTimeout']> | undefined;
  private timerDueMs = Number.POSITIVE_INFINITY;
  private closed = false;
  private polling = false;
  private pollAgain = false;
  private closing: Promise<void> | undefined;
  private closingDone: (() => void) | undefined;

  private constructor(options: RaftClientOptions) {
    assert.ok(Number.isInteger(options.nodeId) && options.nodeId >= 0, 'nodeId is a non-negative integer');
    assert.ok(options.voters.length > 0 && options.voters.every((id) => Number.isInteger(id) && id >= 0), 'voters are non-negative integers');
    assert.equal(new Set(options.voters).size, options.voters.length, 'voters are distinct');
    this.nodeId = options.nodeId;
    this.voters = [...options.voters].sort((a, b) => a - b);
    this.config = resolveQuorumConfig(options.config);
    this.clusterId = options.clusterId;
    this.fs = options.fs;
    this.clock = options.clock;
    this.random = options.random;
    this.network = options.network;
    this.logger = options.logger ?? silentRaftLogger;
    this.onFatalError =
      options.onFatalError ??
      ((error) => {
        throw error;
      });
    this.log = RaftLog.open({ fs: this.fs, dir: options.dir, clock: this.clock, config: this.config });
    this.store = new QuorumStateStore(this.fs, path.join(this.log.partitionDir, QUORUM_STATE_FILE));
    this.highWatermarkOffset = this.log.latestSnapshotId?.endOffset ?? 0;
    const client = this;
    this.delivery = new ListenerDelivery({
      log: this.log,
      get highWatermark() {
        return client.highWatermarkOffset;
      },
      get knownQuorumHighWatermark() {
        return client.learnedHighWatermark;
      },
      get leaderAndEpoch() {
        return client.leaderAndEpoch;
      },
      get localLeaderEpochStartOffset() {
        return client.state.role === 'leader' ? client.state.leader.epochStartOffset : undefined;
      },
      readMaxBytes: this.config.controllerQuorumFetchMaxBytes,
      logger: this.logger,
    });
    this.state = this.initialState();
  }

  /**
   * Opens the metadata log (recovering it, loading the snapshots) and the election state, and
   * joins the quorum. A sole voter elects itself at once: when this resolves it is the leader and
   * everything in its log is committed.
   */
  static async open(options: RaftClientOptions): Promise<RaftClient> {
    const client = new RaftClient(options);
    if (client.isVoter && client.voters.length === 1) client.transitionToCandidate();
    client.poll();
    return client;
  }

  // --- what the state machine above sees ---------------------------------------------------------

  get isVoter(): boolean {
    return this.voters.includes(this.nodeId);
  }

  /** The leader of the current epoch as this node knows it (leaderId -1 when unknown). */
  get leaderAndEpoch(): LeaderAndEpoch {
    return { leaderId: knownLeaderId(this.state), epoch: this.state.epoch };
  }

  get role(): EpochState['role'] {
    return this.state.role;
  }

  get isLeader(): boolean {
    return this.state.role === 'leader';
  }

  /** Offsets below this are committed. Never goes back while the client is open. */
  get highWatermark(): number {
    return this.highWatermarkOffset;
  }

  /**
   * The quorum's high watermark as this client learned it in this lifetime: from a leader's Fetch
   * answer (possibly past this log's end), or its own commits as the leader; undefined until then
   * (Kafka's empty high watermark). A restarted node's log and snapshot may be far behind the
   * quorum: what it has committed locally is not what the cluster has.
   */
  get knownQuorumHighWatermark(): number | undefined {
    return this.learnedHighWatermark;
  }

  get logEndOffset(): number {
    return this.log.logEndOffset;
  }

  get logStartOffset(): number {
    return this.log.logStartOffset;
  }

  get latestSnapshotId(): SnapshotId | undefined {
    return this.log.latestSnapshotId;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Registers a state machine: it gets the newest snapshot and every committed batch after it, in
   * order, then each new commit and leader change (see listeners.ts). Delivery of what is already
   * committed happens before this returns.
   */
  register(listener: RaftListener): void {
    this.ensureOpen();
    this.delivery.register(listener);
  }

  unregister(listener: RaftListener): void {
    this.delivery.unregister(listener);
  }

  /**
   * Appends `values` as one batch on the leader and resolves with the offset of the last one once
   * committed (a majority of voters hold it). Rejects with NotLeaderError (retriable) when this
   * node is not the leader, or stops being the leader before the batch is committed: the batch may
   * then still be committed by the next leader, so the state machine learns the outcome from
   * `handleCommit`, as with Kafka's RaftClient.
   */
  append(values: readonly Buffer[]): Promise<number> {
    if (this.closed) return Promise.reject(new RaftClosedError());
    if (this.state.role !== 'leader') return Promise.reject(new NotLeaderError(this.leaderAndEpoch));
    try {
      const scheduled = this.scheduleAtomicAppend(this.state.epoch, values);
      return scheduled.committed.then(() => scheduled.lastOffset);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Kafka's `scheduleAtomicAppend`: on the leader of `epoch`, gives `values` their offsets at once
   * (the next offsets of the log, counting the appends still lingering) and writes them as one
   * batch within `controller.quorum.append.linger.ms`. Throws NotLeaderError when this node is not
   * the leader of `epoch`, InvalidAppendError for an empty or oversized append, RaftClosedError.
   * `committed` rejects with NotLeaderError when leadership ends first (it may still be committed
   * by the next leader: `handleCommit` tells).
   */
  scheduleAtomicAppend(epoch: number, values: readonly Buffer[]): ScheduledAppend {
    this.ensureOpen();
    const state = this.state;
    if (state.role !== 'leader' || state.epoch !== epoch) throw new NotLeaderError(this.leaderAndEpoch, `not the leader of epoch ${epoch} (leader ${this.leaderAndEpoch.leaderId}, epoch ${state.epoch})`);
    if (values.length === 0) throw new InvalidAppendError('an append needs at least one value');
    const bytes = values.reduce((sum, value) => sum + value.length + RECORD_OVERHEAD_BYTES, 0);
    if (bytes + BATCH_HEADER_BYTES > this.config.controllerQuorumBatchMaxBytes) {
      throw new InvalidAppendError(`an append of about ${bytes} bytes exceeds the batch limit ${this.config.controllerQuorumBatchMaxBytes}`, ErrorCode.MESSAGE_TOO_LARGE);
    }
    const baseOffset = this.nextAppendOffset;
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const committed = new Promise<void>((resolveCommitted, rejectCommitted) => {
      resolve = resolveCommitted;
      reject = rejectCommitted;
    });
    // The commit is also announced by handleCommit: a caller may ignore this promise.
    committed.catch(() => {});
    this.pendingAppends.push({ values: [...values], bytes, baseOffset, resolve: () => resolve(), reject });
    this.pendingAppendBytes += bytes;
    this.pendingAppendValues += values.length;
    if (this.pendingAppends.length === 1) this.lingerDeadlineMs = this.clock.now() + this.config.controllerQuorumAppendLingerMs;
    if (this.config.controllerQuorumAppendLingerMs === 0 || this.pendingAppendBytes + BATCH_HEADER_BYTES >= this.config.controllerQuorumBatchMaxBytes) {
      this.guard(() => this.runEvent(() => this.writePendingAppends()));
    } else {
      this.guard(() => this.poll());
    }
    return { baseOffset, lastOffset: baseOffset + values.length - 1, committed };
  }

  /** The offset the next scheduled append gets on the leader: the log end offset plus the values still lingering. */
  get nextAppendOffset(): number {
    return this.log.logEndOffset + this.pendingAppendValues;
  }

  /**
   * A writer for a snapshot of the state after the committed record at `lastContainedOffset`,
   * written in `epoch` (the batch's epoch): the snapshot's id is `(lastContainedOffset + 1, epoch)`
   * and its file `<id>.checkpoint`, as Kafka names them. Returns null when that snapshot exists.
   * Throws InvalidSnapshotError when the offset is not committed or the epoch does not match the log.
   */
  createSnapshot(lastContainedOffset: number, epoch: number, lastContainedLogTimestamp = this.clock.now()): SnapshotWriter | null {
    this.ensureOpen();
    if (!Number.isSafeInteger(lastContainedOffset) || lastContainedOffset < 0) throw new InvalidSnapshotError(`a snapshot contains at least one record (offset ${lastContainedOffset})`);
    const id = { endOffset: lastContainedOffset + 1, epoch };
    if (id.endOffset > this.highWatermarkOffset) throw new InvalidSnapshotError(`offset ${lastContainedOffset} is not committed (high watermark ${this.highWatermarkOffset})`);
    const check = this.log.validateOffsetAndEpoch(id.endOffset, epoch);
    if (check.kind !== 'valid' && !(check.kind === 'snapshot' && this.log.hasSnapshot(id))) {
      throw new InvalidSnapshotError(`snapshot ${id.endOffset}-${epoch} does not match the log (${check.kind})`);
    }
    return this.log.createSnapshot(id, lastContainedLogTimestamp, () => this.runEvent(() => this.maybeCleanLog()));
  }

  /**
   * Gives up the leadership of `epoch` (Kafka's `RaftClient.resign`, for a controller that must
   * stop leading): EndQuorumEpoch asks the voters to elect another at once; appends not yet
   * committed are rejected with NotLeaderError. Nothing happens when this node does not lead `epoch`.
   */
  resign(epoch: number): void {
    this.ensureOpen();
    if (this.state.role !== 'leader' || this.state.epoch !== epoch) return;
    this.guard(() => this.runEvent(() => this.transitionToResigned()));
  }

  /**
   * Leaves the quorum gracefully: a leader resigns first and tells the other voters with
   * EndQuorumEpoch (so they elect a successor at once, not after a timeout), waiting at most an
   * election timeout for their answers; then the log is flushed and closed. Pending appends are
   * rejected with NotLeaderError.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    if (this.closed) return Promise.resolve();
    this.closing = new Promise<void>((resolve) => {
      this.closingDone = resolve;
    });
    this.runEvent(() => {
      if (this.state.role === 'leader') this.transitionToResigned();
      if (this.state.role !== 'resigned' || this.state.unacknowledged.size === 0) this.shutdown(false);
    });
    return this.closing;
  }

  /** Stops at once as a crash would: nothing is flushed, no peer is told; pending work is rejected with RaftClosedError. */
  kill(): void {
    if (this.closed) return;
    this.shutdown(true, new RaftClosedError('the raft client was killed'));
  }

  // --- requests from peers -----------------------------------------------------------------------

  /** Whether `apiKey` is one the quorum answers (Fetch of the metadata log and the quorum APIs). */
  static handles(apiKey: number): apiKey is QuorumApiKey {
    return QUORUM_API_KEYS.has(apiKey);
  }

  /**
   * Answers a peer's request: Vote, BeginQuorumEpoch, EndQuorumEpoch, DescribeQuorum, FetchSnapshot
   * and Fetch of `__cluster_metadata-0` (parked up to its maxWaitMs when there is nothing new).
   * The body is `@gregor/protocol`'s decoded request; errors are answered in the response, as Kafka.
   */
  handle<K extends QuorumApiKey>(apiKey: K, apiVersion: number, body: RequestBody<K>): Promise<ResponseInput<K>> {
    if (this.closed) return Promise.reject(new RaftClosedError());
    const handler = (this.handlers as unknown as Record<number, (version: number, request: unknown) => ResponseInput<K> | Promise<ResponseInput<K>>>)[apiKey];
    if (!handler) return Promise.reject(new RaftError('UNSUPPORTED_API', `api key ${apiKey} is not a quorum API`, { retriable: false, errorCode: ErrorCode.UNSUPPORTED_VERSION }));
    let result: ResponseInput<K> | Promise<ResponseInput<K>> | undefined;
    this.guard(() =>
      this.runEvent(() => {
        result = handler(apiVersion, body);
      }),
    );
    if (result === undefined) return Promise.reject(new RaftClosedError());
    return Promise.resolve(result as ResponseInput<K>);
  }

  private readonly handlers: Handled = {
    1: (version, body) => this.handleFetch(version, body),
    52: (_version, body) => this.handleVote(body),
    53: (_version, body) => this.handleBeginQuorumEpoch(body),
    54: (version, body) => this.handleEndQuorumEpoch(version, body),
    55: (_version, body) => this.handleDescribeQuorum(body),
    59: (_version, body) => this.handleFetchSnapshot(body),
  };

  // --- event plumbing ----------------------------------------------------------------------------

  /**
   * Runs one event's state changes, then polls. A storage failure stops the client (Kafka treats a
   * failed metadata log write as fatal): everything pending is rejected with RaftStorageError.
   */
  private runEvent(run: () => void): void {
    if (this.closed) return;
    try {
      run();
    } catch (error) {
      if (error instanceof RaftError && !(error instanceof RaftStorageError)) throw error;
      if (error instanceof assert.AssertionError) throw error;
      this.logger.error('metadata log I/O failed; the raft client stops', { nodeId: this.nodeId, error: String(error) });
      this.shutdown(true, new RaftStorageError('metadata log I/O failed', error));
      return;
    }
    this.poll();
  }

  /**
   * Runs one entry point (a timer, a request, a response, an append). A broken invariant (an
   * AssertionError, or any error escaping the event's own handling) kills the client and goes to
   * `onFatalError`: fail loudly, never carry on with a state that may be wrong.
   */
  private guard(run: () => void): void {
    try {
      run();
    } catch (error) {
      if (error instanceof RaftError && !(error instanceof RaftStorageError)) throw error;
      this.logger.error('invariant violated; the raft client stops', { nodeId: this.nodeId, error: String(error) });
      this.shutdown(true, error as Error);
      this.onFatalError(error as Error);
    }
  }

  private ensureOpen(): void {
    if (this.closed) throw new RaftClosedError();
  }

  /** Sends a request to a peer; the response (or failure) is handled as an event if still expected. */
  private send<K extends QuorumApiKey>(destinationId: number, apiKey: K, apiVersion: number, body: Parameters<QuorumNetwork['send']>[3], onResponse: (response: ResponseBody<K>) => void): void {
    const nowMs = this.clock.now();
    const id = this.requests.start(destinationId, nowMs, this.config.controllerQuorumRequestTimeoutMs);
    let sent: Promise<ResponseBody<K>>;
    try {
      sent = this.network.send(destinationId, apiKey, apiVersion, body as never) as Promise<ResponseBody<K>>;
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      (response) => {
        if (this.closed || !this.requests.complete(destinationId, id)) return;
        this.guard(() => this.runEvent(() => onResponse(response)));
      },
      (error) => {
        if (this.closed) return;
        if (!this.requests.fail(destinationId, id, this.clock.now(), this.config.controllerQuorumRetryBackoffMs)) return;
        this.logger.info('request to a peer failed', { nodeId: this.nodeId, destinationId, apiKey, error: String(error) });
        this.guard(() => this.poll());
      },
    );
  }

  // --- the poll loop -----------------------------------------------------------------------------

  /** Does what the current state calls for now, then arms the timer for the next deadline. */
  private poll(): void {
    if (this.closed) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    try {
      let deadline: number;
      do {
        this.pollAgain = false;
        deadline = this.pollOnce();
      } while (this.pollAgain && !this.closed);
      if (!this.closed) this.armTimer(deadline);
    } catch (error) {
      this.polling = false;
      if (error instanceof assert.AssertionError) throw error;
      this.logger.error('metadata log I/O failed; the raft client stops', { nodeId: this.nodeId, error: String(error) });
      this.shutdown(true, new RaftStorageError('metadata log I/O failed', error));
      return;
    }
    this.polling = false;
  }

  private armTimer(deadlineMs: number): void {
    if (deadlineMs === this.timerDueMs && this.timer !== undefined) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDueMs = deadlineMs;
    if (deadlineMs === Number.POSITIVE_INFINITY) return;
    const delayMs = Math.max(0, deadlineMs - this.clock.now());
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerDueMs = Number.POSITIVE_INFINITY;
      this.guard(() => this.poll());
    }, delayMs);
  }

  /** One pass; returns the next time something is due. */
  private pollOnce(): number {
    const nowMs = this.clock.now();
    if (this.closing && this.state.role !== 'resigned') {
      this.shutdown(false);
      return Number.POSITIVE_INFINITY;
    }
    this.requests.expire(nowMs, this.config.controllerQuorumRetryBackoffMs);
    let deadline = Number.POSITIVE_INFINITY;
    switch (this.state.role) {
      case 'leader':
        deadline = Math.min(deadline, this.pollLeader(this.state, nowMs));
        break;
      case 'candidate':
      case 'prospective':
        deadline = Math.min(deadline, this.pollElection(this.state, nowMs));
        break;
      case 'follower':
        deadline = Math.min(deadline, this.pollFollower(this.state, nowMs));
        break;
      case 'unattached':
        deadline = Math.min(deadline, this.pollUnattached(this.state, nowMs));
        break;
      case 'resigned':
        deadline = Math.min(deadline, this.pollResigned(this.state, nowMs));
        break;
    }
    // After the role's work: the requests it just sent time out too.
    return Math.min(deadline, this.requests.nextDeadline(nowMs));
  }

  private pollLeader(state: LeaderRoleState, nowMs: number): number {
    const leader = state.leader;
    if (nowMs >= leader.checkQuorumDeadline) {
      this.logger.warn('no fetch from a majority of voters within the check-quorum timeout; resigning', { nodeId: this.nodeId, epoch: state.epoch });
      this.transitionToResigned();
      this.pollAgain = true;
      return nowMs;
    }
    if (this.pendingAppends.length > 0 && nowMs >= this.lingerDeadlineMs) this.writePendingAppends();
    let deadline = Math.min(leader.checkQuorumDeadline, this.pendingAppends.length > 0 ? this.lingerDeadlineMs : Number.POSITIVE_INFINITY);
    for (const voterId of leader.unacknowledgedVoters) {
      if (!this.requests.canSend(voterId, nowMs)) continue;
      this.send(voterId, 53, QUORUM_REQUEST_VERSIONS.beginQuorumEpoch, beginQuorumEpochRequest({ clusterId: this.clusterId, voterId, leaderId: this.nodeId, epoch: state.epoch }), (response) =>
        this.onBeginQuorumEpochResponse(voterId, response),
      );
    }
    const expired = this.parkedFetches.filter((parked) => parked.deadlineMs <= nowMs);
    if (expired.length > 0) {
      this.parkedFetches = this.parkedFetches.filter((parked) => parked.deadlineMs > nowMs);
      for (const parked of expired) parked.resolve(this.answerFetch(parked.apiVersion, parked.body, false));
    }
    for (const parked of this.parkedFetches) deadline = Math.min(deadline, parked.deadlineMs);
    return deadline;
  }

  private pollElection(state: ProspectiveState | CandidateState, nowMs: number): number {
    const tally = state.tally;
    if (tally.backoffUntilMs !== undefined) {
      if (nowMs < tally.backoffUntilMs) return tally.backoffUntilMs;
      // The backoff after a lost round is over: ask again, from a pre-vote (KIP-996: a lost
      // candidacy goes back to Prospective rather than bumping the epoch again).
      this.transitionToProspective(tally.retries);
      this.pollAgain = true;
      return nowMs;
    }
    if (nowMs >= tally.electionDeadlineMs) {
      this.startBackoff(tally, nowMs);
      this.pollAgain = true;
      return nowMs;
    }
    const preVote = state.role === 'prospective';
    const { offset: lastOffset, epoch: lastEpoch } = this.log.endOffsetAndEpoch;
    for (const voterId of this.voters) {
      if (voterId === this.nodeId || tally.granted.has(voterId) || tally.rejected.has(voterId) || !this.requests.canSend(voterId, nowMs)) continue;
      const body = voteRequest({ clusterId: this.clusterId, voterId, epoch: state.epoch, candidateId: this.nodeId, lastEpoch, lastOffset, preVote });
      this.send(voterId, 52, QUORUM_REQUEST_VERSIONS.vote, body, (response) => this.onVoteResponse(voterId, state, response));
    }
    // A prospective keeps trying the leader it lost (once its pre-vote is answered): if it answers, this node follows it again.
    if (state.role === 'prospective' && state.leaderId >= 0 && this.requests.canSend(state.leaderId, nowMs)) this.sendFetch(state, state.leaderId);
    return tally.electionDeadlineMs;
  }

  private pollFollower(state: FollowerState, nowMs: number): number {
    if (nowMs >= state.fetchDeadlineMs) {
      this.logger.info('no successful fetch from the leader within the fetch timeout', { nodeId: this.nodeId, leaderId: state.leaderId, epoch: state.epoch });
      if (this.isVoter) this.transitionToProspective(0);
      else this.transitionToUnattached(state.epoch, -1);
      this.pollAgain = true;
      return nowMs;
    }
    if (this.requests.canSend(state.leaderId, nowMs)) this.sendFetch(state, state.leaderId);
    return state.fetchDeadlineMs;
  }

  private pollUnattached(state: UnattachedState, nowMs: number): number {
    if (this.isVoter) {
      if (nowMs >= state.electionDeadlineMs) {
        this.transitionToProspective(0);
        this.pollAgain = true;
        return nowMs;
      }
      return state.electionDeadlineMs;
    }
    // An observer finds the leader by fetching from any voter: a non-leader answers with the leader it knows.
    const anyFree = this.voters.filter((voterId) => this.requests.canSend(voterId, nowMs));
    if (anyFree.length === this.voters.length) {
      const voterId = this.voters[Math.floor(this.random() * this.voters.length)];
      this.sendFetch(state, voterId);
    }
    return Number.POSITIVE_INFINITY;
  }

  private pollResigned(state: ResignedState, nowMs: number): number {
    if (this.closing && state.unacknowledged.size === 0) {
      this.shutdown(false);
      return Number.POSITIVE_INFINITY;
    }
    if (nowMs >= state.electionDeadlineMs) {
      if (this.closing) {
        this.shutdown(false);
        return Number.POSITIVE_INFINITY;
      }
      this.transitionToProspective(0);
      this.pollAgain = true;
      return nowMs;
    }
    for (const voterId of state.unacknowledged) {
      if (!this.requests.canSend(voterId, nowMs)) continue;
      const body = endQuorumEpochRequest({ clusterId: this.clusterId, leaderId: this.nodeId, epoch: state.epoch, preferredSuccessors: state.preferredSuccessors });
      this.send(voterId, 54, QUORUM_REQUEST_VERSIONS.endQuorumEpoch, body, (response) => this.onEndQuorumEpochResponse(voterId, state, response));
    }
    return state.electionDeadlineMs;
  }

  // --- transitions -------------------------------------------------------------------------------

  private initialState(): EpochState {
    const stored = this.store.read();
    if (stored && stored.voters.length > 0 && stored.voters.join(',') !== this.voters.join(',')) {
      throw new RaftError('INCONSISTENT_VOTER_SET', `${this.store.path} names voters ${stored.voters.join(',')}, configured ${this.voters.join(',')}`, {
        retriable: false,
        errorCode: ErrorCode.INCONSISTENT_VOTER_SET,
      });
    }
    const nowMs = this.clock.now();
    const logEpoch = this.log.lastFetchedEpoch;
    const epoch = stored?.epoch ?? 0;
    if (!stored || logEpoch > epoch) {
      // A new node, or an election state older than the log (the file was lost): start from the
      // log's epoch, and name the voters in the file from now on.
      return this.persistAndEnter(new UnattachedState(Math.max(epoch, logEpoch), -1, nowMs + this.randomElectionTimeout()), -1);
    }
    if (stored.leaderId === this.nodeId) {
      // We led this epoch before the restart; a leader cannot resume (its uncommitted state is
      // gone), so it resigns and lets the others elect quickly.
      const others = this.voters.filter((id) => id !== this.nodeId);
      return new ResignedState(epoch, this.nodeId, new Set(others), others, nowMs + this.randomElectionTimeout());
    }
    if (stored.votedId === this.nodeId && this.isVoter) {
      return new ProspectiveState(epoch, this.nodeId, -1, this.newTally(nowMs, 0));
    }
    if (stored.leaderId >= 0) return new FollowerState(epoch, stored.leaderId, stored.votedId, nowMs + this.config.controllerQuorumFetchTimeoutMs);
    return new UnattachedState(epoch, stored.votedId, nowMs + this.randomElectionTimeout());
  }

  /** Writes the election state of `state` durably, then makes it current. */
  private persistAndEnter<S extends EpochState>(state: S, votedId: number): S {
    this.store.write({ epoch: state.epoch, leaderId: knownLeaderId(state), votedId, voters: [...this.voters] });
    return state;
  }

  private get votedIdInEpoch(): number {
    const state = this.state;
    switch (state.role) {
      case 'unattached':
      case 'prospective':
        return state.votedId;
      case 'candidate':
      case 'leader':
        return this.nodeId;
      case 'follower':
        return state.votedId;
      default:
        return -1;
    }
  }

  private enter(next: EpochState): void {
    const previous = this.state;
    const wasLeader = previous.role === 'leader';
    const leaderBefore = this.leaderAndEpoch;
    this.state = next;
    this.requests.reset();
    if (wasLeader && next.role !== 'leader') this.onLeadershipEnded(previous);
    if (previous.role === 'follower' && previous.snapshotFetch && previous !== next) previous.snapshotFetch.writer.close();
    const leaderAfter = this.leaderAndEpoch;
    if (leaderBefore.leaderId !== leaderAfter.leaderId || leaderBefore.epoch !== leaderAfter.epoch) {
      this.logger.info('leader and epoch changed', { nodeId: this.nodeId, role: next.role, ...leaderAfter });
      this.delivery.deliver();
    }
  }

  private transitionToUnattached(epoch: number, votedId: number): void {
    assert.ok(epoch >= this.state.epoch, 'epochs never go back');
    const next = new UnattachedState(epoch, votedId, this.clock.now() + this.randomElectionTimeout());
    this.enter(this.persistAndEnter(next, votedId));
  }

  private transitionToFollower(epoch: number, leaderId: number): void {
    assert.ok(epoch >= this.state.epoch, 'epochs never go back');
    assert.notEqual(leaderId, this.nodeId, 'a node never follows itself');
    const votedId = epoch === this.state.epoch ? this.votedIdInEpoch : -1;
    const next = new FollowerState(epoch, leaderId, votedId, this.clock.now() + this.config.controllerQuorumFetchTimeoutMs);
    this.enter(this.persistAndEnter(next, votedId));
  }

  private newTally(nowMs: number, retries: number): VoteTally {
    return { granted: new Set([this.nodeId]), rejected: new Set(), retries, backoffUntilMs: undefined, electionDeadlineMs: nowMs + this.randomElectionTimeout() };
  }

  /** Starts (or restarts, after a lost round) asking for pre-votes, in the current epoch. */
  private transitionToProspective(retries: number): void {
    assert.ok(this.isVoter, 'only voters run for leader');
    if (this.voters.length === 1) {
      this.transitionToCandidate();
      return;
    }
    const state = this.state;
    const leaderId = state.role === 'follower' ? state.leaderId : state.role === 'prospective' ? state.leaderId : -1;
    const next = new ProspectiveState(state.epoch, this.votedIdInEpoch, leaderId, this.newTally(this.clock.now(), retries));
    this.enter(next);
  }

  /** Bumps the epoch and votes for itself, durably, before asking anyone. */
  private transitionToCandidate(): void {
    assert.ok(this.isVoter, 'only voters run for leader');
    const retries = this.state.role === 'prospective' ? this.state.tally.retries : 0;
    const next = new CandidateState(this.state.epoch + 1, this.nodeId, this.newTally(this.clock.now(), retries));
    if (this.voters.length === 1) {
      // A sole voter asks nobody: its candidacy and its leadership are one durable write (the
      // leader's), one quorum-state fsync less when a single node opens.
      this.enter(next);
      this.transitionToLeader(next);
      return;
    }
    this.enter(this.persistAndEnter(next, this.nodeId));
    this.maybeBecomeLeader(next);
  }

  private maybeBecomeLeader(state: CandidateState): void {
    if (this.state !== state || state.tally.granted.size < this.majority) return;
    this.transitionToLeader(state);
  }

  private get majority(): number {
    return Math.floor(this.voters.length / 2) + 1;
  }

  /**
   * Takes the lead: the election state names this node, then the LeaderChange record opens the
   * epoch at the log end offset; it is flushed and counted, so a sole voter commits it at once.
   */
  private transitionToLeader(candidate: CandidateState): void {
    const nowMs = this.clock.now();
    const epochStartOffset = this.log.logEndOffset;
    const leader = new LeaderState({
      localId: this.nodeId,
      epoch: candidate.epoch,
      epochStartOffset,
      voters: this.voters,
      grantingVoters: [...candidate.tally.granted].sort((a, b) => a - b),
      nowMs,
      fetchTimeoutMs: this.config.controllerQuorumFetchTimeoutMs,
    });
    const next = this.persistAndEnter(new LeaderRoleState(candidate.epoch, leader), this.nodeId);
    // The LeaderChange record goes in before the listeners hear of the leadership (entering the
    // state tells them), so what a listener appends from handleLeaderChange follows it.
    const batch = leaderChangeBatch(this.nodeId, this.voters, leader.grantingVoters, { baseOffset: epochStartOffset, epoch: candidate.epoch, timestampMs: nowMs });
    this.log.appendAsLeader(batch, candidate.epoch);
    this.enter(next);
    this.logger.info('became leader', { nodeId: this.nodeId, epoch: candidate.epoch, epochStartOffset });
    this.flushLeaderLog(leader);
  }

  /** Gives up the lead (shutdown, check quorum): EndQuorumEpoch tells the others to elect now. */
  private transitionToResigned(): void {
    const state = this.state;
    assert.equal(state.role, 'leader', 'only a leader resigns');
    if (state.role !== 'leader') return;
    const successors = state.leader.otherVotersByEndOffset();
    this.enter(new ResignedState(state.epoch, this.nodeId, new Set(successors), successors, this.clock.now() + this.randomElectionTimeout()));
  }

  /** Leadership ended: waiting appends and parked fetches are answered (NotLeaderError / NOT_LEADER_OR_FOLLOWER). */
  private onLeadershipEnded(previous: EpochState): void {
    const error = new NotLeaderError(this.leaderAndEpoch, `leadership of epoch ${previous.epoch} ended before the append was committed`);
    const pending = this.pendingAppends;
    const uncommitted = this.uncommitted;
    this.pendingAppends = [];
    this.pendingAppendBytes = 0;
    this.pendingAppendValues = 0;
    this.uncommitted = [];
    for (const append of pending) append.reject(error);
    for (const append of uncommitted) append.reject(error);
    const parked = this.parkedFetches;
    this.parkedFetches = [];
    for (const fetch of parked) fetch.resolve(this.answerFetch(fetch.apiVersion, fetch.body, false));
  }

  /**
   * A request or response names `leaderId` as the leader of `epoch`: move to a newer epoch, or
   * follow a leader newly learned in ours. Returns whether the state changed.
   */
  private maybeTransition(leaderId: number, epoch: number): boolean {
    const state = this.state;
    if (epoch > state.epoch) {
      if (leaderId >= 0 && leaderId !== this.nodeId) this.transitionToFollower(epoch, leaderId);
      else this.transitionToUnattached(epoch, -1);
      return true;
    }
    if (epoch < state.epoch || leaderId < 0 || leaderId === this.nodeId) return false;
    // A prospective lost touch with this epoch's leader: it follows again only when a fetch from it
    // succeeds (onFetchResponse), not because a peer still names it (two peers that both lost it
    // would send each other back to a dead leader).
    if (state.role === 'prospective' && state.leaderId === leaderId) return false;
    const known = knownLeaderId(state);
    if (known === leaderId) return false;
    if (known >= 0) {
      this.logger.error('two leaders named for one epoch', { nodeId: this.nodeId, epoch, known, named: leaderId });
      return false;
    }
    this.transitionToFollower(epoch, leaderId);
    return true;
  }

  /** A lost round: wait a random binary-exponential backoff (Kafka's, base 100 ms, capped by election.backoff.max.ms). */
  private startBackoff(tally: VoteTally, nowMs: number): void {
    tally.retries += 1;
    const slots = 2 << Math.min(20, tally.retries - 1);
    const backoffMs = Math.min(ELECTION_BACKOFF_BASE_MS * Math.floor(this.random() * slots), this.config.controllerQuorumElectionBackoffMaxMs);
    tally.backoffUntilMs = nowMs + backoffMs;
  }

  private randomElectionTimeout(): number {
    const timeout = this.config.controllerQuorumElectionTimeoutMs;
    return timeout + Math.floor(this.random() * timeout);
  }

  // --- leader: appends and the high watermark ----------------------------------------------------

  /** Writes the lingering appends as batches (at most batchMaxBytes each), flushes, counts. */
  private writePendingAppends(): void {
    const state = this.state;
    if (state.role !== 'leader' || this.pendingAppends.length === 0) return;
    const appends = this.pendingAppends;
    this.pendingAppends = [];
    this.pendingAppendBytes = 0;
    this.pendingAppendValues = 0;
    this.lingerDeadlineMs = Number.POSITIVE_INFINITY;
    let index = 0;
    while (index < appends.length) {
      const group: PendingAppend[] = [];
      let bytes = BATCH_HEADER_BYTES;
      while (index < appends.length && (group.length === 0 || bytes + appends[index].bytes <= this.config.controllerQuorumBatchMaxBytes)) {
        bytes += appends[index].bytes;
        group.push(appends[index++]);
      }
      const values = group.flatMap((append) => append.values);
      const baseOffset = this.log.logEndOffset;
      assert.equal(baseOffset, group[0].baseOffset, 'a scheduled append is written at the offset it was given');
      this.log.appendAsLeader(dataBatch(values, { baseOffset, epoch: state.epoch, timestampMs: this.clock.now() }), state.epoch);
      let lastOffset = baseOffset - 1;
      for (const append of group) {
        lastOffset += append.values.length;
        this.uncommitted.push({ lastOffset, resolve: append.resolve, reject: append.reject });
      }
    }
    this.flushLeaderLog(state.leader);
  }

  private flushLeaderLog(leader: LeaderState): void {
    this.log.flush();
    leader.updateLocalEndOffset(this.log.logEndOffset, this.clock.now());
    this.maybeAdvanceLeaderHighWatermark(leader);
    this.completeParkedFetches();
  }

  private maybeAdvanceLeaderHighWatermark(leader: LeaderState): boolean {
    const majorityOffset = leader.majorityEndOffset();
    if (majorityOffset === undefined || majorityOffset <= this.highWatermarkOffset) return false;
    // Known before the listeners are handed the commits: a loader waiting for the quorum's high
    // watermark decides as they arrive, and may hear nothing more for a long time after.
    this.learnedHighWatermark = Math.max(this.learnedHighWatermark ?? 0, majorityOffset);
    this.advanceHighWatermark(majorityOffset);
    return true;
  }

  /**
   * The high watermark a leader tells its followers as the quorum's: none (-1) until it has
   * committed in its epoch, as Kafka's LeaderState. Before that its own may lag the quorum's (a
   * node reopened starts from its newest snapshot's end), and a follower would take it for the
   * quorum's (`knownQuorumHighWatermark`).
   */
  private get highWatermarkToTell(): number {
    const state = this.state;
    return state.role === 'leader' && this.highWatermarkOffset > state.leader.epochStartOffset ? this.highWatermarkOffset : -1;
  }

  /** The high watermark moves forward only; commits are announced to appends and listeners. */
  private advanceHighWatermark(offset: number): void {
    if (offset <= this.highWatermarkOffset) return;
    assert.ok(offset <= this.log.logEndOffset, 'the high watermark never passes the log end offset');
    this.highWatermarkOffset = offset;
    // Followers waiting on the leader learn the new high watermark now, not at their fetch deadline.
    if (this.state.role === 'leader') this.completeParkedFetches();
    if (this.uncommitted.length > 0) {
      const committed = this.uncommitted.filter((append) => append.lastOffset < offset);
      this.uncommitted = this.uncommitted.filter((append) => append.lastOffset >= offset);
      for (const append of committed) append.resolve(append.lastOffset);
    }
    this.delivery.deliver();
  }

  private completeParkedFetches(): void {
    if (this.parkedFetches.length === 0) return;
    const parked = this.parkedFetches;
    this.parkedFetches = [];
    for (const fetch of parked) fetch.resolve(this.answerFetch(fetch.apiVersion, fetch.body, false));
  }

  private maybeCleanLog(): void {
    if (this.log.maybeClean()) this.logger.info('metadata log start moved to the newest snapshot', { nodeId: this.nodeId, logStartOffset: this.log.logStartOffset });
  }

  // --- handlers: Vote ----------------------------------------------------------------------------

  private handleVote(body: RequestBody<52>): ResponseInput<52> {
    if (!this.hasValidClusterId(body.clusterId)) return voteResponse({ errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID, epoch: this.state.epoch, leaderId: -1, voteGranted: false });
    const partition = singlePartition(body.topics);
    if (!partition) return voteResponse({ errorCode: ErrorCode.INVALID_REQUEST, epoch: this.state.epoch, leaderId: -1, voteGranted: false });
    const { replicaId: candidateId, replicaEpoch: candidateEpoch, lastOffsetEpoch: lastEpoch, lastOffset, preVote } = partition;
    const answer = (partitionErrorCode: number, voteGranted: boolean) =>
      voteResponse({ errorCode: 0, partitionErrorCode, epoch: this.state.epoch, leaderId: knownLeaderId(this.state), voteGranted });
    // A pre-vote carries the prospective's current epoch (its last record may be from it); a vote the bumped one.
    const illegalEpoch = preVote ? lastEpoch > candidateEpoch : lastEpoch >= candidateEpoch;
    if (lastOffset < 0 || lastEpoch < 0 || illegalEpoch) return answer(ErrorCode.INVALID_REQUEST, false);
    const invalid = this.validateVoterOnlyRequest(candidateId, candidateEpoch);
    if (invalid !== undefined) return answer(invalid, false);
    if (candidateEpoch > this.state.epoch) this.transitionToUnattached(candidateEpoch, -1);
    const ours = this.log.endOffsetAndEpoch;
    const isLogUpToDate = lastEpoch > ours.epoch || (lastEpoch === ours.epoch && lastOffset >= ours.offset);
    const granted = this.state.canGrantVote(candidateId, isLogUpToDate, preVote);
    if (granted && !preVote && this.votedIdInEpoch !== candidateId) {
      // The vote is durable before the candidate hears of it.
      this.transitionToUnattached(this.state.epoch, candidateId);
    }
    this.logger.info(`${preVote ? 'pre-vote' : 'vote'} ${granted ? 'granted' : 'rejected'}`, { nodeId: this.nodeId, candidateId, epoch: candidateEpoch, isLogUpToDate });
    return answer(ErrorCode.NONE, granted);
  }

  private onVoteResponse(voterId: number, asked: ProspectiveState | CandidateState, response: ResponseBody<52>): void {
    if (response.errorCode !== ErrorCode.NONE) {
      this.onTopLevelError(voterId, response.errorCode);
      return;
    }
    const partition = singlePartition(response.topics);
    if (!partition) return;
    if (this.handleCommonResponse(voterId, partition.errorCode, partition.leaderId, partition.leaderEpoch)) return;
    const state = this.state;
    if (state !== asked) return;
    const tally = state.tally;
    if (partition.voteGranted) tally.granted.add(voterId);
    else tally.rejected.add(voterId);
    if (tally.granted.size >= this.majority) {
      if (state.role === 'prospective') this.transitionToCandidate();
      else this.maybeBecomeLeader(state);
    } else if (this.voters.length - tally.rejected.size < this.majority && tally.backoffUntilMs === undefined) {
      // The round is lost: back off at once instead of waiting out the election timeout.
      this.startBackoff(tally, this.clock.now());
    }
  }

  // --- handlers: BeginQuorumEpoch and EndQuorumEpoch ----------------------------------------------

  private handleBeginQuorumEpoch(body: RequestBody<53>): ResponseInput<53> {
    if (!this.hasValidClusterId(body.clusterId)) return quorumEpochResponse({ errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID, epoch: this.state.epoch, leaderId: -1 });
    const partition = singlePartition(body.topics);
    if (!partition) return quorumEpochResponse({ errorCode: ErrorCode.INVALID_REQUEST, epoch: this.state.epoch, leaderId: -1 });
    const invalid = this.validateVoterOnlyRequest(partition.leaderId, partition.leaderEpoch);
    if (invalid === undefined) this.maybeTransition(partition.leaderId, partition.leaderEpoch);
    return quorumEpochResponse({ errorCode: 0, partitionErrorCode: invalid ?? 0, epoch: this.state.epoch, leaderId: knownLeaderId(this.state) });
  }

  private onBeginQuorumEpochResponse(voterId: number, response: ResponseBody<53>): void {
    if (response.errorCode !== ErrorCode.NONE) {
      this.onTopLevelError(voterId, response.errorCode);
      return;
    }
    const partition = singlePartition(response.topics);
    if (!partition) return;
    if (this.handleCommonResponse(voterId, partition.errorCode, partition.leaderId, partition.leaderEpoch)) return;
    const state = this.state;
    if (state.role === 'leader' && partition.leaderEpoch === state.epoch) state.leader.acknowledge(voterId, this.clock.now());
  }

  private handleEndQuorumEpoch(apiVersion: number, body: RequestBody<54>): ResponseInput<54> {
    if (!this.hasValidClusterId(body.clusterId)) return quorumEpochResponse({ errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID, epoch: this.state.epoch, leaderId: -1 });
    const partition = singlePartition(body.topics);
    if (!partition) return quorumEpochResponse({ errorCode: ErrorCode.INVALID_REQUEST, epoch: this.state.epoch, leaderId: -1 });
    const invalid = this.validateVoterOnlyRequest(partition.leaderId, partition.leaderEpoch);
    if (invalid === undefined) {
      this.maybeTransition(partition.leaderId, partition.leaderEpoch);
      const state = this.state;
      if (state.role === 'follower' && state.leaderId === partition.leaderId) {
        const successors = apiVersion >= 1 ? partition.preferredCandidates.map((candidate) => candidate.candidateId) : partition.preferredSuccessors;
        // The leader is going: run soon, the most caught-up successors first (Kafka's strict
        // exponential backoff), and no longer refuse pre-votes in its name.
        state.fetchDeadlineMs = this.clock.now() + this.endEpochElectionBackoff(successors);
        state.hasFetchedFromLeader = false;
      }
    }
    return quorumEpochResponse({ errorCode: 0, partitionErrorCode: invalid ?? 0, epoch: this.state.epoch, leaderId: knownLeaderId(this.state) });
  }

  private endEpochElectionBackoff(successors: readonly number[]): number {
    const position = successors.indexOf(this.nodeId);
    const maxMs = this.config.controllerQuorumElectionBackoffMaxMs;
    if (position === 0) return 0;
    if (position < 0) return maxMs;
    return Math.min(maxMs, (maxMs >> (successors.length - 1)) << (position - 1));
  }

  private onEndQuorumEpochResponse(voterId: number, asked: ResignedState, response: ResponseBody<54>): void {
    if (response.errorCode !== ErrorCode.NONE) {
      this.onTopLevelError(voterId, response.errorCode);
      return;
    }
    const partition = singlePartition(response.topics);
    if (!partition) return;
    if (this.handleCommonResponse(voterId, partition.errorCode, partition.leaderId, partition.leaderEpoch)) return;
    if (this.state === asked) asked.unacknowledged.delete(voterId);
  }

  // --- handlers: Fetch ---------------------------------------------------------------------------

  private handleFetch(apiVersion: number, body: RequestBody<1>): ResponseInput<1> | Promise<ResponseInput<1>> {
    const highWatermarkBefore = this.highWatermarkOffset;
    const answer = this.answerFetch(apiVersion, body, true);
    if (answer !== 'park') return answer;
    if (this.highWatermarkOffset !== highWatermarkBefore) return this.answerFetch(apiVersion, body, false);
    return new Promise<ResponseInput<1>>((resolve) => {
      this.parkedFetches.push({ apiVersion, body, deadlineMs: this.clock.now() + Math.min(body.maxWaitMs, this.config.controllerQuorumFetchMaxWaitMs), resolve });
    });
  }

  /**
   * The answer to a Fetch now; with `mayPark`, 'park' when the leader has nothing new for a valid
   * fetch that is willing to wait (the caller parks it until an append, a commit or its deadline).
   */
  private answerFetch(apiVersion: number, body: RequestBody<1>, mayPark: true): ResponseInput<1> | 'park';
  private answerFetch(apiVersion: number, body: RequestBody<1>, mayPark: false): ResponseInput<1>;
  private answerFetch(apiVersion: number, body: RequestBody<1>, mayPark: boolean): ResponseInput<1> | 'park' {
    const base: FetchAnswer = {
      errorCode: 0,
      partitionErrorCode: 0,
      leaderId: knownLeaderId(this.state),
      epoch: this.state.epoch,
      highWatermark: this.highWatermarkToTell,
      logStartOffset: this.log.logStartOffset,
      records: null,
    };
    if (apiVersion < 12) return fetchResponse({ ...base, errorCode: ErrorCode.UNSUPPORTED_VERSION });
    if (!this.hasValidClusterId(body.clusterId)) return fetchResponse({ ...base, errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID });
    const partition = singlePartition(body.topics);
    if (!partition) return fetchResponse({ ...base, errorCode: ErrorCode.INVALID_REQUEST });
    const { fetchOffset, lastFetchedEpoch, currentLeaderEpoch } = partition;
    if (fetchOffset < 0 || lastFetchedEpoch < 0 || lastFetchedEpoch > currentLeaderEpoch) return fetchResponse({ ...base, partitionErrorCode: ErrorCode.INVALID_REQUEST });
    const leaderError = this.validateLeaderOnlyRequest(currentLeaderEpoch);
    if (leaderError !== undefined) return fetchResponse({ ...base, partitionErrorCode: leaderError });
    const state = this.state as LeaderRoleState;
    const check = this.log.validateOffsetAndEpoch(fetchOffset, lastFetchedEpoch);
    if (check.kind === 'diverging') return fetchResponse({ ...base, divergingEpoch: { epoch: check.epoch, endOffset: check.endOffset } });
    if (check.kind === 'snapshot') return fetchResponse({ ...base, snapshotId: check.snapshotId });
    const nowMs = this.clock.now();
    const logEndOffset = this.log.logEndOffset;
    if (body.replicaId >= 0 && state.leader.updateReplicaEndOffset(body.replicaId, Math.min(fetchOffset, logEndOffset), logEndOffset, nowMs)) {
      this.maybeAdvanceLeaderHighWatermark(state.leader);
      base.highWatermark = this.highWatermarkToTell;
    }
    if (fetchOffset < logEndOffset) {
      const maxBytes = Math.max(1, Math.min(body.maxBytes, partition.partitionMaxBytes > 0 ? partition.partitionMaxBytes : body.maxBytes, this.config.controllerQuorumFetchMaxBytes));
      const read = this.log.read(fetchOffset, logEndOffset, maxBytes);
      return fetchResponse({ ...base, records: read.records });
    }
    if (mayPark && body.maxWaitMs > 0) return 'park';
    return fetchResponse({ ...base, records: Buffer.alloc(0) });
  }

  private sendFetch(state: FollowerState | UnattachedState | ProspectiveState, destinationId: number): void {
    if (state.role === 'follower' && state.snapshotFetch) {
      const { snapshotId, writer } = state.snapshotFetch;
      const body = fetchSnapshotRequest({ clusterId: this.clusterId, replicaId: this.nodeId, epoch: state.epoch, snapshotId, position: writer.size, maxBytes: this.config.controllerQuorumFetchMaxBytes });
      this.send(destinationId, 59, QUORUM_REQUEST_VERSIONS.fetchSnapshot, body, (response) => this.onFetchSnapshotResponse(state, destinationId, response));
      return;
    }
    const { offset, epoch } = this.log.endOffsetAndEpoch;
    assert.ok(this.log.flushedOffset >= offset, 'a follower fetches only from a durable log end offset');
    const body = fetchRequest({
      clusterId: this.clusterId,
      replicaId: this.nodeId,
      epoch: state.epoch,
      fetchOffset: offset,
      lastFetchedEpoch: epoch,
      maxWaitMs: this.config.controllerQuorumFetchMaxWaitMs,
      maxBytes: this.config.controllerQuorumFetchMaxBytes,
    });
    this.send(destinationId, 1, QUORUM_REQUEST_VERSIONS.fetch, body, (response) => this.onFetchResponse(state, destinationId, offset, response));
  }

  private onFetchResponse(asked: FollowerState | UnattachedState | ProspectiveState, peerId: number, fetchOffset: number, response: ResponseBody<1>): void {
    const partition = singlePartition(response.responses);
    if (response.errorCode !== ErrorCode.NONE || !partition) {
      this.onTopLevelError(peerId, response.errorCode);
      return;
    }
    const { leaderId, leaderEpoch } = partition.currentLeader;
    if (this.handleCommonResponse(peerId, partition.errorCode, leaderId, leaderEpoch)) return;
    if (asked.role === 'prospective' && this.state === asked && leaderId === asked.leaderId && leaderEpoch === asked.epoch) {
      // The leader we lost answers again: follow it (the next fetch carries on from here).
      this.transitionToFollower(leaderEpoch, leaderId);
      return;
    }
    const state = this.state;
    if (state !== asked || state.role !== 'follower') {
      // An observer still looking for the leader: ask again after the backoff.
      this.requests.backoff(peerId, this.clock.now(), this.config.controllerQuorumRetryBackoffMs);
      return;
    }
    if (this.log.logEndOffset !== fetchOffset) return;
    state.hasFetchedFromLeader = true;
    state.fetchDeadlineMs = this.clock.now() + this.config.controllerQuorumFetchTimeoutMs;
    if (partition.divergingEpoch.epoch >= 0) {
      const { epoch, endOffset } = partition.divergingEpoch;
      assert.ok(endOffset >= this.highWatermarkOffset || this.log.endOffsetForEpoch(epoch).offset >= this.highWatermarkOffset, 'the leader never asks to truncate committed records');
      const truncatedTo = this.log.truncateToEndOffset({ offset: endOffset, epoch });
      assert.ok(truncatedTo >= this.highWatermarkOffset, 'truncation never removes committed records');
      this.logger.info('truncated a divergent tail', { nodeId: this.nodeId, leaderId: state.leaderId, epoch, endOffset, truncatedTo });
      return;
    }
    if (partition.snapshotId.epoch >= 0 && partition.snapshotId.endOffset >= 0) {
      const snapshotId = { endOffset: partition.snapshotId.endOffset, epoch: partition.snapshotId.epoch };
      this.logger.info('fetching the leader snapshot', { nodeId: this.nodeId, leaderId: state.leaderId, ...snapshotId });
      state.snapshotFetch = { snapshotId, writer: this.log.createFetchedSnapshot(snapshotId) };
      return;
    }
    const records = partition.records;
    if (records && records.length > 0) {
      this.log.appendAsFollower(records);
      // Durable before the next Fetch: the offset we fetch at is what the leader counts.
      this.log.flush();
    }
    if (partition.highWatermark >= 0) {
      const learned = this.learnedHighWatermark;
      const highWatermarkBefore = this.highWatermarkOffset;
      this.learnedHighWatermark = Math.max(learned ?? 0, partition.highWatermark);
      this.advanceHighWatermark(Math.min(partition.highWatermark, this.log.logEndOffset));
      // A moved high watermark delivered the news with the commits; else it goes alone (a
      // snapshot fetched up to it).
      if (this.learnedHighWatermark !== learned && this.highWatermarkOffset === highWatermarkBefore) this.delivery.deliver();
    }
  }

  private onFetchSnapshotResponse(asked: FollowerState, peerId: number, response: ResponseBody<59>): void {
    const partition = response.errorCode === ErrorCode.NONE ? singlePartition(response.topics) : undefined;
    if (!partition) {
      this.onTopLevelError(peerId, response.errorCode);
      return;
    }
    const { leaderId, leaderEpoch } = partition.currentLeader;
    const fetch = asked.snapshotFetch;
    if (partition.errorCode === ErrorCode.SNAPSHOT_NOT_FOUND || partition.errorCode === ErrorCode.POSITION_OUT_OF_RANGE) {
      // The leader no longer has it (a newer snapshot replaced it) or the position is off: fetch again from the log.
      if (this.state === asked && fetch) this.abandonSnapshotFetch(asked, `error ${partition.errorCode}`);
      return;
    }
    if (this.handleCommonResponse(peerId, partition.errorCode, leaderId, leaderEpoch)) return;
    const state = this.state;
    if (state !== asked || !fetch) return;
    if (partition.snapshotId.endOffset !== fetch.snapshotId.endOffset || partition.snapshotId.epoch !== fetch.snapshotId.epoch) {
      this.abandonSnapshotFetch(asked, 'the leader answered for another snapshot');
      return;
    }
    state.hasFetchedFromLeader = true;
    state.fetchDeadlineMs = this.clock.now() + this.config.controllerQuorumFetchTimeoutMs;
    if (partition.position !== fetch.writer.size) return;
    fetch.writer.write(partition.position, partition.unalignedRecords ?? Buffer.alloc(0));
    if (fetch.writer.size < partition.size) return;
    asked.snapshotFetch = undefined;
    try {
      fetch.writer.freeze();
    } catch (error) {
      if (!(error instanceof InvalidSnapshotError)) throw error;
      fetch.writer.close();
      this.logger.error('the snapshot fetched from the leader is not well formed; fetching again', { nodeId: this.nodeId, error: error.message });
      return;
    }
    this.log.truncateToLatestSnapshot();
    this.logger.info('loaded the leader snapshot', { nodeId: this.nodeId, ...fetch.snapshotId, logStartOffset: this.log.logStartOffset });
    this.advanceHighWatermark(fetch.snapshotId.endOffset);
    this.delivery.deliver();
  }

  private abandonSnapshotFetch(state: FollowerState, reason: string): void {
    this.logger.info('snapshot fetch abandoned', { nodeId: this.nodeId, reason });
    state.snapshotFetch?.writer.close();
    state.snapshotFetch = undefined;
  }

  private handleFetchSnapshot(body: RequestBody<59>): ResponseInput<59> {
    const answer = (errorCode: number, partitionErrorCode: number, snapshotId: SnapshotId, fields: { size?: number; position?: number; bytes?: Buffer } = {}) =>
      fetchSnapshotResponse({
        errorCode,
        partitionErrorCode,
        leaderId: knownLeaderId(this.state),
        epoch: this.state.epoch,
        snapshotId,
        size: fields.size ?? -1,
        position: fields.position ?? -1,
        bytes: fields.bytes ?? Buffer.alloc(0),
      });
    const none = { endOffset: -1, epoch: -1 };
    if (!this.hasValidClusterId(body.clusterId)) return answer(ErrorCode.INCONSISTENT_CLUSTER_ID, 0, none);
    const partition = singlePartition(body.topics);
    if (!partition) return answer(ErrorCode.INVALID_REQUEST, 0, none);
    const snapshotId = { endOffset: partition.snapshotId.endOffset, epoch: partition.snapshotId.epoch };
    const leaderError = this.validateLeaderOnlyRequest(partition.currentLeaderEpoch);
    if (leaderError !== undefined) return answer(0, leaderError, snapshotId);
    if (!this.log.hasSnapshot(snapshotId)) return answer(0, ErrorCode.SNAPSHOT_NOT_FOUND, snapshotId);
    const maxBytes = Math.max(1, Math.min(body.maxBytes, this.config.controllerQuorumFetchMaxBytes));
    const { size, bytes } = this.log.readSnapshotRange(snapshotId, Math.max(0, partition.position), maxBytes);
    if (partition.position < 0 || partition.position >= size) return answer(0, ErrorCode.POSITION_OUT_OF_RANGE, snapshotId);
    if (body.replicaId >= 0 && this.state.role === 'leader' && this.state.leader.isVoter(body.replicaId)) this.state.leader.acknowledge(body.replicaId, this.clock.now());
    return answer(0, 0, snapshotId, { size, position: partition.position, bytes });
  }

  // --- handlers: DescribeQuorum ------------------------------------------------------------------

  private handleDescribeQuorum(body: RequestBody<55>): ResponseInput<55> {
    const state = this.state;
    const answer = (errorCode: number, partitionErrorCode: number) =>
      describeQuorumResponse({
        errorCode,
        partitionErrorCode,
        leaderId: knownLeaderId(state),
        epoch: state.epoch,
        highWatermark: this.highWatermarkOffset,
        voters: state.role === 'leader' ? state.leader.voterProgress() : [],
        observers: state.role === 'leader' ? state.leader.observerProgress() : [],
      });
    if (!singlePartition(body.topics)) return answer(ErrorCode.INVALID_REQUEST, 0);
    if (state.role !== 'leader') return answer(0, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    return answer(0, 0);
  }

  /** What DescribeQuorum answers, for tools in the same process. */
  describeQuorum(): ResponseInput<55> {
    return this.handleDescribeQuorum({ topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] } as RequestBody<55>);
  }

  // --- validation and common response handling ---------------------------------------------------

  private hasValidClusterId(clusterId: string | null | undefined): boolean {
    return clusterId === null || clusterId === undefined || clusterId === this.clusterId;
  }

  /** Kafka's `validateVoterOnlyRequest`: stale epochs are fenced; only voters may send, and only to voters. */
  private validateVoterOnlyRequest(remoteId: number, requestEpoch: number): number | undefined {
    if (requestEpoch < this.state.epoch) return ErrorCode.FENCED_LEADER_EPOCH;
    if (remoteId < 0) return ErrorCode.INVALID_REQUEST;
    if (!this.isVoter || !this.voters.includes(remoteId)) return ErrorCode.INCONSISTENT_VOTER_SET;
    return undefined;
  }

  /** Kafka's `validateLeaderOnlyRequest`: the requester's epoch must be ours and we must lead it. */
  private validateLeaderOnlyRequest(requestEpoch: number): number | undefined {
    if (requestEpoch < this.state.epoch) return ErrorCode.FENCED_LEADER_EPOCH;
    if (requestEpoch > this.state.epoch) return ErrorCode.UNKNOWN_LEADER_EPOCH;
    if (this.state.role !== 'leader') return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    return undefined;
  }

  /**
   * What every response may say (Kafka's `maybeHandleCommonResponse`): a newer epoch or a leader of
   * ours moves this node; a stale epoch is ignored. Returns true when the response needs no more handling.
   */
  private handleCommonResponse(peerId: number, errorCode: number, leaderId: number, epoch: number): boolean {
    if (epoch < this.state.epoch) {
      this.requests.backoff(peerId, this.clock.now(), this.config.controllerQuorumRetryBackoffMs);
      return true;
    }
    if (this.maybeTransition(leaderId, epoch)) return true;
    if (errorCode !== ErrorCode.NONE) {
      // The peer knows no newer epoch than ours (it is behind, or not the leader it was): ask again after the backoff.
      this.requests.backoff(peerId, this.clock.now(), this.config.controllerQuorumRetryBackoffMs);
      return true;
    }
    return false;
  }

  private onTopLevelError(peerId: number, errorCode: number): void {
    this.logger.warn('a peer answered with an error', { nodeId: this.nodeId, peerId, errorCode });
    if (peerId >= 0) this.requests.backoff(peerId, this.clock.now(), this.config.controllerQuorumRetryBackoffMs);
  }

  // --- shutdown ----------------------------------------------------------------------------------

  private shutdown(crash: boolean, error: Error = new NotLeaderError(this.leaderAndEpoch, 'the raft client closed')): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const state = this.state;
    if (state.role === 'follower' && state.snapshotFetch) {
      state.snapshotFetch.writer.close();
      state.snapshotFetch = undefined;
    }
    for (const append of [...this.pendingAppends, ...this.uncommitted]) append.reject(error);
    this.pendingAppends = [];
    this.uncommitted = [];
    // Parked fetches are left unanswered: the peers time out, as they would with a dead node.
    this.parkedFetches = [];
    try {
      if (crash) this.log.closeWithoutFlush();
      else this.log.close();
    } catch (closeError) {
      this.logger.error('closing the metadata log failed', { nodeId: this.nodeId, error: String(closeError) });
    }
    this.closingDone?.();
  }
}
