/**
 * What the leader of one epoch tracks (Kafka's `LeaderState`): each voter's and observer's end
 * offset as its fetches reveal it, the high watermark it derives from the voters, which voters have
 * acknowledged the epoch, and the check-quorum timer.
 *
 * Commit rule: an offset is committed when a majority of the voters (the leader counts, with its
 * flushed log end offset) hold it, and only once that offset is past the epoch's start offset: the
 * leader must commit a record of its own epoch (the LeaderChange record at `epochStartOffset`) before
 * anything, so it never commits an earlier epoch's entry by counting replicas alone (Raft §5.4.2).
 * Observers never count. Owned by the RaftClient of the leader; single-threaded.
 */
import assert from 'node:assert/strict';

export interface ReplicaProgress {
  replicaId: number;
  /** Offset below which the replica holds the leader's log (its last valid fetch offset), or -1. */
  endOffset: number;
  lastFetchTimestamp: number;
  /** When the replica last fetched at or past the leader's end offset of that moment, or -1. */
  lastCaughtUpTimestamp: number;
}

/** The check-quorum timeout is this factor of the fetch timeout (Kafka's CHECK_QUORUM_TIMEOUT_FACTOR). */
export const CHECK_QUORUM_TIMEOUT_FACTOR = 1.5;

export class LeaderState {
  readonly localId: number;
  readonly epoch: number;
  /** Offset of the LeaderChange record that opens this epoch. */
  readonly epochStartOffset: number;
  readonly grantingVoters: readonly number[];
  private readonly voters: Map<number, ReplicaProgress>;
  private readonly observers = new Map<number, ReplicaProgress>();
  /** Voters that still need a BeginQuorumEpoch (they have neither fetched nor answered one). */
  readonly unacknowledgedVoters: Set<number>;
  private readonly checkQuorumTimeoutMs: number;
  /** Voters that fetched since the check-quorum timer last restarted. */
  private fetchedVoters = new Set<number>();
  private checkQuorumDeadlineMs: number;

  constructor(options: { localId: number; epoch: number; epochStartOffset: number; voters: readonly number[]; grantingVoters: readonly number[]; nowMs: number; fetchTimeoutMs: number }) {
    assert.ok(options.voters.includes(options.localId), 'the leader is a voter');
    this.localId = options.localId;
    this.epoch = options.epoch;
    this.epochStartOffset = options.epochStartOffset;
    this.grantingVoters = [...options.grantingVoters];
    this.voters = new Map(options.voters.map((id) => [id, { replicaId: id, endOffset: -1, lastFetchTimestamp: -1, lastCaughtUpTimestamp: -1 }]));
    this.unacknowledgedVoters = new Set(options.voters.filter((id) => id !== options.localId));
    this.checkQuorumTimeoutMs = Math.floor(options.fetchTimeoutMs * CHECK_QUORUM_TIMEOUT_FACTOR);
    this.checkQuorumDeadlineMs = options.nowMs + this.checkQuorumTimeoutMs;
  }

  isVoter(replicaId: number): boolean {
    return this.voters.has(replicaId);
  }

  /** The leader's own durable end offset (after its flush). */
  updateLocalEndOffset(endOffset: number, nowMs: number): void {
    const local = this.voters.get(this.localId) as ReplicaProgress;
    assert.ok(endOffset >= local.endOffset, 'the leader log end offset only grows within its epoch');
    local.endOffset = endOffset;
    local.lastFetchTimestamp = nowMs;
    local.lastCaughtUpTimestamp = nowMs;
  }

  /**
   * A valid fetch from `replicaId` at `fetchOffset`: it holds the leader's log below that offset
   * (a follower flushes before it fetches again). Returns whether the replica is a voter.
   */
  updateReplicaEndOffset(replicaId: number, fetchOffset: number, leaderEndOffset: number, nowMs: number): boolean {
    if (replicaId === this.localId) return false;
    const voter = this.voters.get(replicaId);
    let progress = voter ?? this.observers.get(replicaId);
    if (!progress) {
      progress = { replicaId, endOffset: -1, lastFetchTimestamp: -1, lastCaughtUpTimestamp: -1 };
      this.observers.set(replicaId, progress);
    }
    progress.endOffset = fetchOffset;
    progress.lastFetchTimestamp = nowMs;
    if (fetchOffset >= leaderEndOffset) progress.lastCaughtUpTimestamp = nowMs;
    if (voter) {
      this.unacknowledgedVoters.delete(replicaId);
      this.recordVoterContact(replicaId, nowMs);
    }
    return voter !== undefined;
  }

  /** A BeginQuorumEpoch answered by `voterId` in this epoch. */
  acknowledge(voterId: number, nowMs: number): void {
    this.unacknowledgedVoters.delete(voterId);
    if (this.voters.has(voterId)) this.recordVoterContact(voterId, nowMs);
  }

  /**
   * Check quorum (Kafka 3.6+): a majority (the leader counts) must fetch within each
   * `1.5 × fetch timeout` window, or the leader resigns; a leader cut off from the majority then
   * stops accepting appends instead of waiting forever.
   */
  private recordVoterContact(voterId: number, nowMs: number): void {
    this.fetchedVoters.add(voterId);
    if (this.fetchedVoters.size + 1 >= this.majority) {
      this.fetchedVoters = new Set();
      this.checkQuorumDeadlineMs = nowMs + this.checkQuorumTimeoutMs;
    }
  }

  get majority(): number {
    return Math.floor(this.voters.size / 2) + 1;
  }

  /** When the leader must resign for lack of a majority; never for a single voter. */
  get checkQuorumDeadline(): number {
    return this.voters.size === 1 ? Number.POSITIVE_INFINITY : this.checkQuorumDeadlineMs;
  }

  /**
   * The offset a majority of voters hold (the ⌊n/2⌋-th largest end offset), if it is past the
   * epoch start offset; else undefined (nothing of this epoch is committed yet).
   */
  majorityEndOffset(): number | undefined {
    const offsets = [...this.voters.values()].map((progress) => progress.endOffset).sort((a, b) => b - a);
    const candidate = offsets[Math.floor(offsets.length / 2)];
    return candidate > this.epochStartOffset ? candidate : undefined;
  }

  /** Other voters, most caught up first (the preferred successors when resigning). */
  otherVotersByEndOffset(): number[] {
    return [...this.voters.values()]
      .filter((progress) => progress.replicaId !== this.localId)
      .sort((a, b) => b.endOffset - a.endOffset || a.replicaId - b.replicaId)
      .map((progress) => progress.replicaId);
  }

  voterProgress(): ReplicaProgress[] {
    return [...this.voters.values()].map((progress) => ({ ...progress }));
  }

  observerProgress(): ReplicaProgress[] {
    return [...this.observers.values()].map((progress) => ({ ...progress }));
  }
}
