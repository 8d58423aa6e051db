/**
 * What must hold for the consumer group of the whole-cluster simulation (issue 8), checked as the
 * members' answers arrive (not only at the end):
 * - committed group offsets never go back: an OffsetFetch the group's current coordinator answers
 *   is never below the offset of the last OffsetCommit acknowledged before the fetch was sent,
 *   unless a commit of exactly the answered offset may have been applied after that one (one sent
 *   before the answer arrived, not refused for its generation, and not answered before the
 *   acknowledged one was sent: two members' commits of a partition across a rebalance may land in
 *   either order, as in Kafka). A deposed coordinator's answers are stale by nature (see
 *   sim-clients.ts) and are not compared; they still may not skip records (below).
 * - an OffsetCommit is acknowledged only for the group's current generation: once a member was
 *   handed its assignment of generation G (SyncGroup answered, so G is stored in
 *   `__consumer_offsets`), a commit sent afterwards with an older generation must be refused;
 * - within one generation no partition is assigned to two members;
 * - nothing is skipped: an OffsetFetch answer (from any coordinator) never lies past what the
 *   group has consumed of the partition; together with the first rule, a member that takes a
 *   partition over starts at or after the last acknowledged commit and at or before the group's
 *   consumed end, so re-deliveries start at the last committed offset. At the end, the group must
 *   have read every acknowledged record (ClusterChecker.checkFinal with `consumed`).
 *
 * Order is the order events happen in the one-threaded run (`seq`): an answer a client received
 * before another client sent a request was produced by the broker before it saw that request.
 * Violations go to `violation`, each naming the member, its generation and the partition.
 */
import { ErrorCode } from '@gregor/protocol';
import type { PartitionKey } from './cluster-checker.js';

interface CommitObservation {
  member: string;
  generation: number;
  offset: number;
  sentSeq: number;
  /** When the answer arrived; undefined while in flight or when lost. */
  answeredSeq?: number;
  /** The answer's error code; undefined while in flight or when lost (then it may have been applied). */
  errorCode?: number;
}

/** Errors a coordinator answers before writing anything: such a commit was never applied. */
const REFUSED_BEFORE_WRITE = new Set<number>([ErrorCode.ILLEGAL_GENERATION, ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.REBALANCE_IN_PROGRESS, ErrorCode.FENCED_INSTANCE_ID]);

export class GroupChecker {
  private seq = 0;
  private readonly commits = new Map<PartitionKey, CommitObservation[]>();
  /** Per partition, the acknowledged commit with the latest answer. */
  private readonly lastAcknowledged = new Map<PartitionKey, CommitObservation>();
  /** Generations handed out by SyncGroup, in the order first seen: the generation and when. */
  private readonly handedOut: { generation: number; seq: number; member: string }[] = [];
  private highestSynced = -1;
  /** Per generation, per partition: the member id it was assigned to. */
  private readonly owners = new Map<number, Map<PartitionKey, { member: string; memberId: string }>>();
  /** Per partition, one past the highest offset any member consumed. */
  private readonly consumedEnd = new Map<PartitionKey, number>();
  /** Per partition, every value any member consumed. */
  readonly consumed = new Map<PartitionKey, Set<string>>();
  acknowledgedCommits = 0;
  refusedCommits = 0;

  constructor(private readonly violation: (message: string) => void) {}

  /** A marker for "now" in the run's order of events (for a request about to be sent). */
  mark(): number {
    return ++this.seq;
  }

  /** A member sends an OffsetCommit of `offset` for `key` with its generation; returns the handle for its answer. */
  commitSent(member: string, generation: number, key: PartitionKey, offset: number): CommitObservation {
    const commit: CommitObservation = { member, generation, offset, sentSeq: this.mark() };
    let list = this.commits.get(key);
    if (list === undefined) {
      list = [];
      this.commits.set(key, list);
    }
    list.push(commit);
    return commit;
  }

  /** The commit's answer arrived (`errorCode`), or it was lost (undefined: it may have been applied). */
  commitAnswered(commit: CommitObservation, key: PartitionKey, errorCode: number | undefined): void {
    commit.answeredSeq = this.mark();
    commit.errorCode = errorCode;
    if (errorCode === undefined) return;
    if (errorCode !== ErrorCode.NONE) {
      if (REFUSED_BEFORE_WRITE.has(errorCode)) this.refusedCommits++;
      return;
    }
    this.acknowledgedCommits++;
    // The newest generation handed out before this commit was sent.
    let fencedBy: { generation: number; seq: number; member: string } | undefined;
    for (const synced of this.handedOut) if (synced.seq < commit.sentSeq && synced.generation > commit.generation && (fencedBy === undefined || synced.generation > fencedBy.generation)) fencedBy = synced;
    if (fencedBy !== undefined) {
      this.violation(`${commit.member} generation ${commit.generation}: OffsetCommit of ${key} offset ${commit.offset} was acknowledged, but generation ${fencedBy.generation} had already been handed out (to ${fencedBy.member}) before it was sent: a fenced generation's commit must be refused`);
    }
    this.lastAcknowledged.set(key, commit);
  }

  /** A member was handed its assignment of `generation` by SyncGroup: `partitions` are its own in it. */
  synced(member: string, memberId: string, generation: number, partitions: readonly PartitionKey[]): void {
    if (generation > this.highestSynced) {
      this.highestSynced = generation;
      this.handedOut.push({ generation, seq: this.mark(), member });
    }
    let owners = this.owners.get(generation);
    if (owners === undefined) {
      owners = new Map();
      this.owners.set(generation, owners);
    }
    for (const key of partitions) {
      const owner = owners.get(key);
      if (owner !== undefined && owner.memberId !== memberId) {
        this.violation(`generation ${generation}: ${key} is assigned to ${member} (${memberId}) and to ${owner.member} (${owner.memberId})`);
      }
      owners.set(key, { member, memberId });
    }
  }

  /**
   * An OffsetFetch sent at `sentSeq` was answered `offset` (-1: none) for `key`; `current`: by the
   * group's current coordinator (per the newest committed metadata).
   */
  offsetFetched(member: string, generation: number, key: PartitionKey, offset: number, sentSeq: number, current: boolean): void {
    const answeredSeq = this.mark();
    const end = this.consumedEnd.get(key) ?? 0;
    if (offset > end) {
      this.violation(`${member} generation ${generation}: OffsetFetch answered ${offset} for ${key}, but the group has consumed it only up to ${end}: offsets ${end}..${offset - 1} would be skipped`);
    }
    if (!current) return;
    const last = this.lastAcknowledged.get(key);
    if (last === undefined || last.answeredSeq === undefined || last.answeredSeq > sentSeq || offset >= last.offset) return;
    const appliedLater = (this.commits.get(key) ?? []).some((other) =>
      other !== last && other.offset === offset && other.sentSeq < answeredSeq &&
      !(other.errorCode !== undefined && REFUSED_BEFORE_WRITE.has(other.errorCode)) &&
      (other.answeredSeq === undefined || other.errorCode === undefined || other.answeredSeq > last.sentSeq));
    if (!appliedLater) {
      this.violation(`${member} generation ${generation}: OffsetFetch answered ${offset} for ${key}, after ${last.member}'s commit of ${last.offset} (generation ${last.generation}) was acknowledged: committed offsets went back`);
    }
  }

  /** A member read `value` at (`key`, `offset`). */
  consumedRecord(key: PartitionKey, offset: number, value: string): void {
    this.consumedEnd.set(key, Math.max(this.consumedEnd.get(key) ?? 0, offset + 1));
    let values = this.consumed.get(key);
    if (values === undefined) {
      values = new Set();
      this.consumed.set(key, values);
    }
    values.add(value);
  }

  /** One past the highest offset any member read of the partition. */
  consumedUpTo(key: PartitionKey): number {
    return this.consumedEnd.get(key) ?? 0;
  }
}
