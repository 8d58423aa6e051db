/**
 * A member of the simulation's consumer group `sim-group`: what a Kafka consumer does with the
 * classic group protocol, against the real brokers through the SimNetwork, on the simulated clock
 * and the seeded random (so a seed replays exactly). One main loop, one request at a time:
 * - FindCoordinator; JoinGroup (memberId '' first, then again with the id MEMBER_ID_REQUIRED
 *   hands out, KIP-394); the leader member computes a range assignment (`Assignor`) from the
 *   members' subscriptions and sends it in SyncGroup, in Kafka's ConsumerProtocol format;
 * - OffsetFetch of its partitions, then Fetch from each partition's leader up to the high
 *   watermark, and OffsetCommit of its positions (every 300 ms, and before it rejoins or leaves)
 *   with its generation and member id;
 * - rejoins on REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID (a new member id);
 *   looks the coordinator up again on NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE; retries on
 *   COORDINATOR_LOAD_IN_PROGRESS.
 * A second loop heartbeats every `heartbeatIntervalMs` while the member is in a generation (not
 * while a JoinGroup or SyncGroup is in flight: the coordinator does not expire a member waiting in
 * one). Now and then, while the run is in its fault phase, a member leaves the group (LeaveGroup,
 * after a last commit), crashes (stops everything; the coordinator expels it after its session
 * timeout; it restarts with a new member id), or pauses longer than its session timeout (a zombie:
 * it resumes believing it is in its old generation and commits with it first, which must be
 * refused).
 * Everything it sees goes to the GroupChecker (and the ClusterChecker for records and high
 * watermarks). Single-threaded; `incarnation` fences a crashed member's leftover continuations.
 */
import type { SeededRandom } from '@gregor/cluster';
import {
  type AnyBody, ApiKey, decodeConsumerProtocolAssignment, encodeConsumerProtocolAssignment, encodeConsumerProtocolSubscription, ErrorCode,
} from '@gregor/protocol';
import { decodeBatch, forEachBatch } from '@gregor/records';
import { partitionKey } from './cluster-checker.js';
import { errorName, type SimClientContext, SimClient, VERSIONS } from './sim-clients.js';

/** The leader's assignment: member id → partitions, for every member id given. */
export type Assignor = (memberIds: readonly string[], partitions: number) => Map<string, number[]>;

/** Kafka's RangeAssignor for one topic: members in id order, each a contiguous range, the first ones one more. */
export const rangeAssignor: Assignor = (memberIds, partitions) => {
  const members = [...memberIds].sort();
  const result = new Map<string, number[]>();
  const each = Math.floor(partitions / members.length);
  const extra = partitions % members.length;
  let next = 0;
  for (const [index, memberId] of members.entries()) {
    const count = each + (index < extra ? 1 : 0);
    result.set(memberId, Array.from({ length: count }, (_, offset) => next + offset));
    next += count;
  }
  return result;
};

export interface GroupMemberSettings {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** How often the member commits its positions. */
  commitIntervalMs: number;
  assignor: Assignor;
}

export interface GroupMemberStats {
  joins: number;
  syncs: number;
  commits: number;
  crashes: number;
  pauses: number;
  leaves: number;
}

/** Errors that send a member back to FindCoordinator. */
const COORDINATOR_MOVED = new Set<number>([ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE]);

export class SimGroupMember {
  private readonly client: SimClient;
  private coordinator: number | undefined;
  private memberId = '';
  private generation = -1;
  private needsRejoin = true;
  private joining = false;
  /** The partitions of the current generation; undefined while (re)joining. */
  private owned: number[] | undefined;
  /** Next offset per owned partition; undefined until OffsetFetch answered. */
  private positions: Map<number, number> | undefined;
  private lastCommitMs = 0;
  /** The offsets last acknowledged (or fetched) per owned partition: after healing, unchanged positions are not committed again. */
  private committed = new Map<number, number>();
  private pausedUntilMs = 0;
  private commitOnResume = false;
  private incarnation = 0;
  private crashed = false;
  /** False once the run stops for good. */
  running = true;
  /** False once the run heals: no more leaves, crashes or pauses. */
  chaos = true;
  readonly stats: GroupMemberStats = { joins: 0, syncs: 0, commits: 0, crashes: 0, pauses: 0, leaves: 0 };

  constructor(clientId: number, name: string, context: SimClientContext, random: SeededRandom, private readonly settings: GroupMemberSettings) {
    this.client = new SimClient(clientId, name, context, random);
  }

  get name(): string {
    return this.client.name;
  }

  /** The partitions it reads now with its positions (empty while it is not in a generation). */
  get assignment(): ReadonlyMap<number, number> {
    return this.positions ?? new Map();
  }

  start(): void {
    const incarnation = this.incarnation;
    void this.run(incarnation);
    void this.heartbeats(incarnation);
  }

  private alive(incarnation: number): boolean {
    return this.running && incarnation === this.incarnation;
  }

  private paused(): boolean {
    return this.client.context.clock.now() < this.pausedUntilMs;
  }

  private trace(line: string): void {
    this.client.context.trace(`${this.name} (${this.memberId || 'no id'} generation ${this.generation}) ${line}`);
  }

  private async run(incarnation: number): Promise<void> {
    const { context, random } = this.client;
    let turn = 0;
    while (this.alive(incarnation)) {
      await this.client.sleep(random.int(5, 60));
      if (!this.alive(incarnation) || this.paused()) continue;
      try {
        if (this.coordinator === undefined) await this.findCoordinator(incarnation);
        else if (this.commitOnResume) {
          // A zombie back from its pause commits with the generation it believes it is in.
          this.commitOnResume = false;
          await this.commit(incarnation);
        } else if (this.needsRejoin) await this.join(incarnation);
        else if (this.positions === undefined) await this.fetchCommitted(incarnation);
        else {
          const owned = [...this.positions.keys()];
          if (owned.length > 0) await this.fetch(incarnation, owned[turn++ % owned.length]);
          if (this.alive(incarnation) && !this.needsRejoin && context.clock.now() - this.lastCommitMs >= this.settings.commitIntervalMs) await this.commit(incarnation);
          if (this.alive(incarnation) && this.chaos) await this.maybeFault(incarnation);
        }
      } catch (error) {
        if (!this.alive(incarnation)) return;
        // Lost or timed out: find the coordinator and the leaders again.
        this.trace(`${(error as { code?: string }).code ?? (error as Error).message}`);
        this.coordinator = undefined;
        this.client.forgetLeaders();
      }
    }
  }

  private async maybeFault(incarnation: number): Promise<void> {
    const { random, context } = this.client;
    const draw = random.next();
    if (draw < 0.003) {
      this.stats.leaves++;
      await this.commit(incarnation);
      if (!this.alive(incarnation) || this.coordinator === undefined) return;
      const coordinator = this.coordinator;
      const memberId = this.memberId;
      this.resetMembership(true);
      this.trace(`leaves the group (was ${memberId})`);
      const response = await this.client.send(coordinator, ApiKey.LeaveGroup, VERSIONS.leaveGroup, {
        groupId: this.settings.groupId, members: [{ memberId, groupInstanceId: null }],
      });
      this.trace(`LeaveGroup: ${errorName(response.errorCode)}`);
      await this.client.sleep(random.int(100, 1000));
    } else if (draw < 0.005) {
      this.stats.crashes++;
      this.incarnation++;
      this.crashed = true;
      const downMs = random.int(this.settings.sessionTimeoutMs / 2, this.settings.sessionTimeoutMs * 2);
      this.trace(`crashes for ${downMs} ms`);
      context.clock.setTimeout(() => {
        if (!this.running) return;
        this.crashed = false;
        this.coordinator = undefined;
        this.resetMembership(true);
        this.client.forgetLeaders();
        this.trace('restarts');
        this.start();
      }, downMs);
    } else if (draw < 0.007) {
      this.stats.pauses++;
      const pauseMs = random.int(this.settings.sessionTimeoutMs, this.settings.sessionTimeoutMs * 2);
      this.pausedUntilMs = context.clock.now() + pauseMs;
      this.commitOnResume = true;
      this.trace(`pauses for ${pauseMs} ms`);
    }
  }

  /** Gives up the partitions (and with `memberId`, the member id too): it must join again. */
  private resetMembership(memberId: boolean): void {
    if (memberId) this.memberId = '';
    this.generation = -1;
    this.needsRejoin = true;
    this.owned = undefined;
    this.positions = undefined;
  }

  /** What an error answer of the coordinator means for the member (Kafka's AbstractCoordinator). */
  private onGroupError(errorCode: number, what: string): void {
    if (errorCode === ErrorCode.NONE) return;
    this.trace(`${what}: ${errorName(errorCode)}`);
    if (COORDINATOR_MOVED.has(errorCode)) this.coordinator = undefined;
    else if (errorCode === ErrorCode.REBALANCE_IN_PROGRESS) this.needsRejoin = true;
    else if (errorCode === ErrorCode.ILLEGAL_GENERATION) this.resetMembership(false);
    else if (errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.resetMembership(true);
  }

  private async findCoordinator(incarnation: number): Promise<void> {
    const response = await this.client.send(this.client.anyBroker(), ApiKey.FindCoordinator, VERSIONS.findCoordinator, { key: this.settings.groupId, keyType: 0 });
    if (!this.alive(incarnation)) return;
    if (response.errorCode === ErrorCode.NONE) {
      this.coordinator = response.nodeId;
      this.trace(`coordinator ${response.nodeId}`);
    }
  }

  private async join(incarnation: number): Promise<void> {
    const { context } = this.client;
    // Kafka's onJoinPrepare: commit what was read before giving the partitions up.
    if (this.positions !== undefined && this.positions.size > 0 && this.generation >= 0) await this.commit(incarnation);
    if (!this.alive(incarnation) || this.coordinator === undefined) return;
    this.owned = undefined;
    this.positions = undefined;
    const coordinator = this.coordinator;
    const { groupId } = this.settings;
    this.joining = true;
    try {
      this.stats.joins++;
      const metadata = encodeConsumerProtocolSubscription({ topics: [context.topic], userData: null, ownedPartitions: [], generationId: -1, rackId: null });
      const joined = await this.client.send(coordinator, ApiKey.JoinGroup, VERSIONS.joinGroup, {
        groupId, sessionTimeoutMs: this.settings.sessionTimeoutMs, rebalanceTimeoutMs: this.settings.rebalanceTimeoutMs, memberId: this.memberId,
        groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata }],
      }, this.settings.rebalanceTimeoutMs + context.requestTimeoutMs);
      if (!this.alive(incarnation)) return;
      if (joined.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        this.memberId = joined.memberId;
        this.trace('JoinGroup: MEMBER_ID_REQUIRED, joins again with its id');
        return;
      }
      if (joined.errorCode !== ErrorCode.NONE) {
        this.onGroupError(joined.errorCode, 'JoinGroup');
        return;
      }
      this.memberId = joined.memberId;
      this.generation = joined.generationId;
      const assignments: AnyBody[] = [];
      if (joined.leader === joined.memberId) {
        const plan = this.settings.assignor(joined.members.map((member: AnyBody) => member.memberId as string), context.partitions);
        for (const [memberId, partitions] of plan) {
          assignments.push({ memberId, assignment: encodeConsumerProtocolAssignment({ assignedPartitions: [{ topic: context.topic, partitions }], userData: null }) });
        }
      }
      this.trace(`joined generation ${joined.generationId}${assignments.length > 0 ? ` as leader of ${joined.members.length}` : ''}`);
      const synced = await this.client.send(coordinator, ApiKey.SyncGroup, VERSIONS.syncGroup, {
        groupId, generationId: this.generation, memberId: this.memberId, groupInstanceId: null,
        protocolType: 'consumer', protocolName: joined.protocolName, assignments,
      }, this.settings.rebalanceTimeoutMs + context.requestTimeoutMs);
      if (!this.alive(incarnation)) return;
      if (synced.errorCode !== ErrorCode.NONE) {
        this.onGroupError(synced.errorCode, 'SyncGroup');
        return;
      }
      const bytes: Buffer = synced.assignment;
      const assigned = bytes.length === 0 ? [] : decodeConsumerProtocolAssignment(bytes).assignment.assignedPartitions;
      const owned = assigned.filter((entry) => entry.topic === context.topic).flatMap((entry) => entry.partitions).sort((a, b) => a - b);
      context.checker.group.synced(this.name, this.memberId, this.generation, owned.map((partition) => partitionKey(context.topic, partition)));
      this.stats.syncs++;
      this.owned = owned;
      this.needsRejoin = false;
      this.lastCommitMs = context.clock.now();
      this.trace(`owns ${owned.join(',') || 'nothing'}`);
    } finally {
      this.joining = false;
    }
  }

  private async heartbeats(incarnation: number): Promise<void> {
    while (this.alive(incarnation)) {
      await this.client.sleep(this.settings.heartbeatIntervalMs);
      if (!this.alive(incarnation) || this.paused() || this.joining || this.needsRejoin || this.generation < 0 || this.coordinator === undefined) continue;
      const generation = this.generation;
      try {
        const response = await this.client.send(this.coordinator, ApiKey.Heartbeat, VERSIONS.heartbeat, {
          groupId: this.settings.groupId, generationId: generation, memberId: this.memberId, groupInstanceId: null,
        });
        // An answer about a generation the member has left since says nothing about its new one.
        if (!this.alive(incarnation) || this.generation !== generation) continue;
        if (response.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) this.onGroupError(response.errorCode, 'Heartbeat');
      } catch {
        // Lost: the next one goes out on time; the session is longer than a few intervals.
      }
    }
  }

  private async fetchCommitted(incarnation: number): Promise<void> {
    const { context } = this.client;
    const owned = this.owned ?? [];
    const coordinator = this.coordinator as number;
    const generation = this.generation;
    const sentSeq = context.checker.group.mark();
    const response = await this.client.send(coordinator, ApiKey.OffsetFetch, VERSIONS.offsetFetch, {
      groupId: this.settings.groupId, topics: [{ name: context.topic, partitionIndexes: owned }], requireStable: false,
    });
    if (!this.alive(incarnation) || this.owned !== owned) return;
    if (response.errorCode !== ErrorCode.NONE) {
      this.onGroupError(response.errorCode, 'OffsetFetch');
      return;
    }
    const current = context.isLeader(coordinator, '__consumer_offsets', context.offsetsPartitionFor(this.settings.groupId));
    const positions = new Map<number, number>();
    for (const partition of owned) {
      const answer = response.topics.find((topic: AnyBody) => topic.name === context.topic)?.partitions.find((candidate: AnyBody) => candidate.partitionIndex === partition);
      if (answer === undefined || answer.errorCode !== ErrorCode.NONE) {
        if (answer !== undefined) this.onGroupError(answer.errorCode, 'OffsetFetch');
        return;
      }
      context.checker.group.offsetFetched(this.name, generation, partitionKey(context.topic, partition), answer.committedOffset, sentSeq, current);
      positions.set(partition, Math.max(0, answer.committedOffset));
    }
    this.positions = positions;
    this.committed = new Map(positions);
    this.trace(`starts at ${[...positions].map(([partition, offset]) => `${partition}:${offset}`).join(' ') || 'nothing'}${current ? '' : ' (from a deposed coordinator)'}`);
  }

  private async fetch(incarnation: number, partition: number): Promise<void> {
    const { context } = this.client;
    const positions = this.positions as Map<number, number>;
    const leader = await this.client.leaderOf(partition, () => !this.alive(incarnation));
    if (leader === undefined || !this.alive(incarnation) || this.positions !== positions) return;
    const fetchOffset = positions.get(partition) as number;
    const response = await this.client.send(leader.leaderId, ApiKey.Fetch, VERSIONS.fetch, {
      replicaId: -1, maxWaitMs: 100, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: context.topic, partitions: [{ partition, currentLeaderEpoch: leader.leaderEpoch, fetchOffset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 64 << 10 }] }],
      forgottenTopicsData: [], rackId: '',
    });
    if (!this.alive(incarnation) || this.positions !== positions) return;
    const answer = response.responses[0]?.partitions[0];
    const key = partitionKey(context.topic, partition);
    if (answer === undefined || response.errorCode !== ErrorCode.NONE) return;
    if (answer.errorCode !== ErrorCode.NONE) {
      this.trace(`fetch ${key} at ${fetchOffset}: ${errorName(answer.errorCode)} from ${leader.leaderId}`);
      // A deposed leader's log may end before records committed after it was replaced.
      if (answer.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE && context.isLeader(leader.leaderId, context.topic, partition)) {
        context.checker.violation(`${this.name} generation ${this.generation}: its position ${fetchOffset} in ${key} is out of range on leader ${leader.leaderId}`);
      }
      this.client.forgetLeader(partition);
      return;
    }
    // A deposed leader cut off from the controller answers its own, older HW (as Kafka's does).
    if (context.isLeader(leader.leaderId, context.topic, partition)) context.checker.observeConsumerHighWatermark(this.name, key, answer.highWatermark);
    else this.trace(`fetch ${key}: HW ${answer.highWatermark} from deposed leader ${leader.leaderId}`);
    const records: Buffer | null = answer.records;
    if (records === null || records.length === 0) return;
    let next = fetchOffset;
    forEachBatch(records, (position) => {
      for (const record of decodeBatch(records, position).records()) {
        if (record.offset < next) continue;
        const value = record.value?.toString() ?? '';
        if (record.offset !== next) context.checker.violation(`${this.name} generation ${this.generation} read ${key} offset ${record.offset} after ${next - 1}: offsets skipped`);
        if (record.offset >= answer.highWatermark) context.checker.violation(`${this.name} was given ${key} offset ${record.offset}, at or past the high watermark ${answer.highWatermark}`);
        context.checker.observeCommitted(this.name, key, record.offset, value);
        context.checker.group.consumedRecord(key, record.offset, value);
        next = record.offset + 1;
      }
    });
    positions.set(partition, next);
  }

  /**
   * Commits the positions of its partitions with its generation and member id. Once the run heals
   * (`chaos` false) positions already committed are not committed again, so `__consumer_offsets`
   * goes quiet and its replicas can be seen converged (during the faults every commit goes out, as
   * Kafka's auto-commit sends them, which keeps each seed's run as it was).
   */
  private async commit(incarnation: number): Promise<void> {
    const { context } = this.client;
    const positions = this.positions;
    if (positions === undefined || positions.size === 0 || this.coordinator === undefined) return;
    const offsets = [...positions];
    if (!this.chaos && offsets.every(([partition, offset]) => this.committed.get(partition) === offset)) {
      this.lastCommitMs = context.clock.now();
      return;
    }
    const generation = this.generation;
    this.lastCommitMs = context.clock.now();
    const group = context.checker.group;
    const observations = offsets.map(([partition, offset]) => group.commitSent(this.name, generation, partitionKey(context.topic, partition), offset));
    let response: AnyBody;
    try {
      response = await this.client.send(this.coordinator, ApiKey.OffsetCommit, VERSIONS.offsetCommit, {
        groupId: this.settings.groupId, generationIdOrMemberEpoch: generation, memberId: this.memberId, groupInstanceId: null,
        topics: [{ name: context.topic, partitions: offsets.map(([partitionIndex, committedOffset]) => ({ partitionIndex, committedOffset, committedLeaderEpoch: -1, committedMetadata: null })) }],
      });
    } catch (error) {
      for (const [index, [partition]] of offsets.entries()) group.commitAnswered(observations[index], partitionKey(context.topic, partition), undefined);
      throw error;
    }
    const answers: AnyBody[] = response.topics[0]?.partitions ?? [];
    for (const [index, [partition, offset]] of offsets.entries()) {
      const answer = answers.find((candidate) => candidate.partitionIndex === partition);
      group.commitAnswered(observations[index], partitionKey(context.topic, partition), answer?.errorCode);
      if (answer?.errorCode === ErrorCode.NONE && this.positions === positions) this.committed.set(partition, offset);
    }
    this.stats.commits++;
    if (!this.alive(incarnation)) return;
    this.trace(`OffsetCommit ${offsets.map(([partition, offset]) => `${partition}:${offset}`).join(' ')}: ${answers.map((answer) => errorName(answer.errorCode)).join(',')}`);
    const errorCode = answers.find((answer) => answer.errorCode !== ErrorCode.NONE)?.errorCode;
    if (errorCode !== undefined && errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS && generation === this.generation) this.onGroupError(errorCode, 'OffsetCommit');
  }

  /** Whether it is crashed now (its restart is scheduled). */
  get isCrashed(): boolean {
    return this.crashed;
  }
}
