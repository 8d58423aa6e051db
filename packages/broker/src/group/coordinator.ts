/**
 * Kafka's classic group coordinator: JoinGroup / SyncGroup / Heartbeat / LeaveGroup, generations,
 * session and rebalance timeouts on the injected clock, static membership (KIP-345), the initial
 * rebalance delay, and the committed offsets of each group. Offsets are made durable through an
 * OffsetStore (the broker writes them to `__consumer_offsets` and waits for their replication)
 * before they become visible.
 *
 * A group lives in one `__consumer_offsets` partition (OffsetStore.partitionFor), and this
 * coordinator serves the groups of the partitions its broker leads, as Kafka's
 * GroupMetadataManager: `onElection` loads a partition's groups and offsets from its log before
 * any request for them is served, `onResignation` unloads them (parked JoinGroup and SyncGroup
 * requests are answered NOT_COORDINATOR, timers stop), and every request for a group of a
 * partition it does not own is answered NOT_COORDINATOR, so the client looks the coordinator up
 * again (FindCoordinator names the partition's current leader).
 *
 * A partition's load is a small state machine (Kafka's loadingPartitions / ownedPartitions):
 *
 *   not owned ──onElection──► loading ──load done──► owned ──onResignation──► not owned
 *                               │  └───load failed──► not owned
 *                               └──onResignation────► not owned (the load stops at its next chunk)
 *
 * While loading, requests for its groups are answered COORDINATOR_LOAD_IN_PROGRESS (retriable:
 * clients retry the same coordinator), as ListGroups is while any partition loads. A load that
 * fits in one chunk completes inside `onElection`; a longer one goes on in chunks between which
 * the event loop runs (the broker reads `offsets.load.buffer.size` bytes per chunk). The load
 * ends only once the partition's high watermark passed what it replayed: a tail a deposed
 * coordinator wrote and never replicated is served only once it is committed, since the next
 * election could cut it (a generation or an offset the group was told would go back).
 * Single-threaded: the broker's handlers call it from the event loop only.
 */
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { ErrorCode } from '@gregor/protocol';
import type { Clock, TimerHandle } from '@gregor/log';
import { uuidToString, randomUuidBytes, type Random } from '../ids.js';
import { deleteGroupError, deleteOffsetsGroupError, isSubscribedToTopic } from './group-deletion.js';
import type { StoredGroup } from './offsets-schema.js';
import {
  EMPTY_BYTES, Group, offsetKey, splitOffsetKey,
  type CommittedOffset, type GroupProtocol, type GroupState, type JoinResult, type Member, type SyncResult,
} from './group.js';

const groupChannel = diagnosticsChannel.channel('gregor:broker:group');

export interface GroupCoordinatorConfig {
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  groupInitialRebalanceDelayMs: number;
  groupMaxSize: number;
  offsetMetadataMaxBytes: number;
}

/** Where committed offsets become durable; the broker appends them to `__consumer_offsets`. */
export interface OffsetStore {
  /**
   * Makes the commits durable: resolves once they are replicated (the partition's high watermark
   * passed them), rejects with the error to map otherwise; called before they are applied in memory.
   */
  storeOffsets(groupId: string, commits: readonly OffsetCommit[]): Promise<void>;
  /**
   * Records the group's membership after a rebalance (Kafka's storeGroup); null deletes it. The
   * record is appended before this returns (so records keep the order of the calls); the promise
   * resolves once it is replicated, or rejects with the error to map.
   */
  storeGroup(groupId: string, group: StoredGroup | null): Promise<void>;
  /**
   * Tombstones for the group's offsets of `offsets` (and its GroupMetadata when `group`): appended
   * before this returns (a refused append throws), the promise resolves once they are replicated
   * or rejects with the error to map.
   */
  storeTombstones(groupId: string, offsets: readonly { topic: string; partition: number }[], group: boolean): Promise<void>;
  partitionExists(topic: string, partition: number): boolean;
  /** The `__consumer_offsets` partition that holds the group (abs(groupId.hashCode) % partitions). */
  partitionFor(groupId: string): number;
}

export interface OffsetCommit extends CommittedOffset {
  topic: string;
  partition: number;
}

export interface JoinGroupRequest {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  /** JoinGroup v4+: an unknown member first gets MEMBER_ID_REQUIRED and its id. */
  requireKnownMemberId: boolean;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocolType: string;
  protocols: GroupProtocol[];
}

export interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface LeaveResult {
  errorCode: number;
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

export interface GroupDescription {
  groupId: string;
  groupState: GroupState;
  protocolType: string;
  protocolData: string;
  members: { memberId: string; groupInstanceId: string | null; clientId: string; clientHost: string; memberMetadata: Buffer; memberAssignment: Buffer }[];
}

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  /** The `__consumer_offsets` partitions whose groups are loaded here (their leader is this broker). */
  private readonly ownedPartitions = new Set<number>();
  /** The partitions being loaded, each with the token of its load (a newer election replaces it). */
  private readonly loadingPartitions = new Map<number, object>();
  private closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly config: GroupCoordinatorConfig,
    private readonly offsetStore: OffsetStore,
  ) {}

  group(groupId: string): Group | undefined {
    return this.groups.get(groupId);
  }

  /**
   * Kafka's validateGroupStatus: NONE when this coordinator serves `groupId` now, else the error
   * to answer: COORDINATOR_NOT_AVAILABLE once closed, COORDINATOR_LOAD_IN_PROGRESS while its
   * `__consumer_offsets` partition is being loaded, NOT_COORDINATOR when it is not led here.
   */
  groupStatus(groupId: string): number {
    if (this.closed) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const partition = this.offsetStore.partitionFor(groupId);
    if (this.loadingPartitions.has(partition)) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    if (!this.ownedPartitions.has(partition)) return ErrorCode.NOT_COORDINATOR;
    return ErrorCode.NONE;
  }

  /** True while some `__consumer_offsets` partition is being loaded (ListGroups answers COORDINATOR_LOAD_IN_PROGRESS, as Kafka). */
  get isLoading(): boolean {
    return this.loadingPartitions.size > 0;
  }

  /** True while the groups of `__consumer_offsets` partition `partitionIndex` are being loaded here. */
  isLoadingPartition(partitionIndex: number): boolean {
    return this.loadingPartitions.has(partitionIndex);
  }

  /** True when the groups of `__consumer_offsets` partition `partitionIndex` are loaded here. */
  ownsPartition(partitionIndex: number): boolean {
    return this.ownedPartitions.has(partitionIndex);
  }

  /**
   * Kafka's onElection: this broker now leads `__consumer_offsets` partition `partitionIndex`.
   * `load` replays the partition's log into `loadGroup` / `loadOffset`: at once (it returns
   * nothing), or in chunks (it returns a promise, and stops early once `isCurrent()` is false:
   * the partition was resigned meanwhile). Until it is done the partition's groups answer
   * COORDINATOR_LOAD_IN_PROGRESS; then they are served and the session timers of their stored
   * members start (members that do not come back are removed). A load that fails leaves the
   * partition not owned (NOT_COORDINATOR) and rejects the returned promise. A partition already
   * owned or loading (a new leader epoch or ISR of the same leader) is not loaded again.
   */
  onElection(partitionIndex: number, load: (isCurrent: () => boolean) => Promise<void> | void): Promise<void> | void {
    if (this.closed || this.ownedPartitions.has(partitionIndex) || this.loadingPartitions.has(partitionIndex)) return;
    const token = {};
    this.loadingPartitions.set(partitionIndex, token);
    const isCurrent = () => !this.closed && this.loadingPartitions.get(partitionIndex) === token;
    const failed = (error: unknown): never => {
      if (isCurrent()) {
        this.loadingPartitions.delete(partitionIndex);
        this.dropGroupsOf(partitionIndex, ErrorCode.NOT_COORDINATOR);
      }
      throw error;
    };
    let loading: Promise<void> | void;
    try {
      loading = load(isCurrent);
    } catch (error) {
      return failed(error);
    }
    if (loading === undefined) return this.finishLoad(partitionIndex, token);
    return loading.then(() => this.finishLoad(partitionIndex, token), failed);
  }

  /** The load of `partitionIndex` with `token` is done: unless it was resigned meanwhile, the partition is owned and its groups served. */
  private finishLoad(partitionIndex: number, token: object): void {
    if (this.closed || this.loadingPartitions.get(partitionIndex) !== token) return;
    this.loadingPartitions.delete(partitionIndex);
    this.ownedPartitions.add(partitionIndex);
    for (const group of this.groups.values()) {
      if (this.offsetStore.partitionFor(group.groupId) !== partitionIndex) continue;
      for (const member of group.members.values()) if (member.sessionTimer === null) this.resetSessionTimer(group, member);
    }
  }

  /**
   * Kafka's onResignation / removeGroupsForPartition: another broker leads `partitionIndex` now
   * (or nobody does). Its groups are unloaded as Kafka's onGroupUnloaded does: members parked in
   * JoinGroup or SyncGroup are answered NOT_COORDINATOR (they find the new coordinator and join
   * there), timers stop, and the groups are forgotten here; their state is in the log the new
   * leader loads. A load in progress stops, and what it loaded so far is forgotten.
   */
  onResignation(partitionIndex: number): void {
    const wasLoading = this.loadingPartitions.delete(partitionIndex);
    if (!this.ownedPartitions.delete(partitionIndex) && !wasLoading) return;
    this.dropGroupsOf(partitionIndex, ErrorCode.NOT_COORDINATOR);
  }

  /** Unloads and forgets the groups of `partitionIndex`. */
  private dropGroupsOf(partitionIndex: number, errorCode: number): void {
    for (const group of [...this.groups.values()]) {
      if (this.offsetStore.partitionFor(group.groupId) !== partitionIndex) continue;
      this.unload(group, errorCode);
      this.groups.delete(group.groupId);
    }
  }

  /** Stops a group's timers and answers its parked requests with `errorCode`; the group is Dead. */
  private unload(group: Group, errorCode: number): void {
    this.cancel(group.joinTimer);
    for (const timer of group.pendingMembers.values()) this.cancel(timer);
    for (const member of group.members.values()) {
      this.cancel(member.sessionTimer);
      member.sessionTimer = null;
      member.awaitingJoin?.(joinError(errorCode, member.memberId));
      member.awaitingJoin = null;
      member.awaitingSync?.({ errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BYTES });
      member.awaitingSync = null;
    }
    if (!group.is('Dead')) this.transition(group, 'Dead');
  }

  /** Clears a timer handle that may be unset (null) or already fired. */
  private cancel(handle: unknown): void {
    if (handle !== null && handle !== undefined) this.clock.clearTimeout(handle as TimerHandle);
  }

  // ---------------------------------------------------------------- JoinGroup

  joinGroup(request: JoinGroupRequest): Promise<JoinResult> {
    const immediate = (errorCode: number, memberId = request.memberId): Promise<JoinResult> => Promise.resolve(joinError(errorCode, memberId));
    if (request.groupId === '') return immediate(ErrorCode.INVALID_GROUP_ID);
    const status = this.groupStatus(request.groupId);
    if (status !== ErrorCode.NONE) return immediate(status);
    if (request.sessionTimeoutMs < this.config.groupMinSessionTimeoutMs || request.sessionTimeoutMs > this.config.groupMaxSessionTimeoutMs) {
      return immediate(ErrorCode.INVALID_SESSION_TIMEOUT);
    }
    let group = this.groups.get(request.groupId);
    if (group === undefined) {
      if (request.memberId !== '') return immediate(ErrorCode.UNKNOWN_MEMBER_ID);
      group = new Group(request.groupId);
      this.groups.set(request.groupId, group);
    }
    if (group.is('Dead')) return immediate(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (!group.supportsProtocols(request.protocolType, request.protocols)) return immediate(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    return new Promise((resolve) => {
      if (request.memberId === '') this.joinUnknownMember(group, request, resolve);
      else this.joinKnownMember(group, request, resolve);
    });
  }

  private joinUnknownMember(group: Group, request: JoinGroupRequest, respond: (result: JoinResult) => void): void {
    const isRejoiningStatic = request.groupInstanceId !== null && group.staticMembers.has(request.groupInstanceId);
    if (!isRejoiningStatic && group.members.size + group.pendingMembers.size >= this.config.groupMaxSize) {
      respond(joinError(ErrorCode.GROUP_MAX_SIZE_REACHED, ''));
      return;
    }
    const memberId = `${request.clientId}-${uuidToString(randomUuidBytes(this.random))}`;
    if (request.groupInstanceId !== null) {
      this.joinStaticMember(group, request, memberId, respond);
    } else if (request.requireKnownMemberId) {
      // KIP-394: the member must come back with this id; it expires like a session if it does not.
      const timer = this.clock.setTimeout(() => this.expirePendingMember(group, memberId), request.sessionTimeoutMs);
      group.pendingMembers.set(memberId, timer);
      respond(joinError(ErrorCode.MEMBER_ID_REQUIRED, memberId));
    } else {
      this.addMemberAndRebalance(group, request, memberId, respond);
    }
  }

  private joinKnownMember(group: Group, request: JoinGroupRequest, respond: (result: JoinResult) => void): void {
    const memberId = request.memberId;
    if (group.isStaticMemberFenced(memberId, request.groupInstanceId)) {
      respond(joinError(ErrorCode.FENCED_INSTANCE_ID, memberId));
      return;
    }
    if (group.pendingMembers.has(memberId)) {
      this.cancel(group.pendingMembers.get(memberId));
      group.pendingMembers.delete(memberId);
      this.addMemberAndRebalance(group, request, memberId, respond);
      return;
    }
    const member = group.members.get(memberId);
    if (member === undefined) {
      respond(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
      return;
    }
    switch (group.state) {
      case 'PreparingRebalance':
        this.updateMemberAndRebalance(group, member, request, respond);
        return;
      case 'CompletingRebalance':
        // A member that lost its JoinGroup answer asks again: the same answer, with the members'
        // metadata for the leader, or it would assign nothing to anyone (Kafka's doJoinGroup;
        // seed 21000 of the whole-cluster simulation).
        if (sameProtocols(member.protocols, request.protocols)) respond(this.joinResponse(group, member, group.leaderId === member.memberId));
        else this.updateMemberAndRebalance(group, member, request, respond);
        return;
      case 'Stable':
        if (group.leaderId === memberId || !sameProtocols(member.protocols, request.protocols)) this.updateMemberAndRebalance(group, member, request, respond);
        else respond(this.joinResponse(group, member, false));
        return;
      default:
        respond(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
    }
  }

  /** KIP-345: a known instance id takes over its old member's place under a new member id. */
  private joinStaticMember(group: Group, request: JoinGroupRequest, memberId: string, respond: (result: JoinResult) => void): void {
    assert.ok(request.groupInstanceId !== null);
    const oldMemberId = group.staticMembers.get(request.groupInstanceId);
    const oldMember = oldMemberId === undefined ? undefined : group.members.get(oldMemberId);
    if (oldMember === undefined) {
      this.addMemberAndRebalance(group, request, memberId, respond);
      return;
    }
    this.replaceStaticMember(group, oldMember, memberId);
    const member = group.members.get(memberId);
    assert.ok(member !== undefined);
    const protocolsChanged = !sameProtocols(member.protocols, request.protocols);
    if (group.is('Stable') && !protocolsChanged) {
      this.resetSessionTimer(group, member);
      this.storeGroup(group);
      const isLeader = group.leaderId === memberId;
      respond({ ...this.joinResponse(group, member, isLeader), skipAssignment: isLeader });
      return;
    }
    this.updateMemberAndRebalance(group, member, request, respond);
  }

  private replaceStaticMember(group: Group, oldMember: Member, newMemberId: string): void {
    // The old incarnation is fenced: any call it still has waiting is answered FENCED_INSTANCE_ID.
    oldMember.awaitingJoin?.(joinError(ErrorCode.FENCED_INSTANCE_ID, oldMember.memberId));
    oldMember.awaitingJoin = null;
    oldMember.awaitingSync?.({ errorCode: ErrorCode.FENCED_INSTANCE_ID, protocolType: null, protocolName: null, assignment: EMPTY_BYTES });
    oldMember.awaitingSync = null;
    this.cancel(oldMember.sessionTimer);
    const wasLeader = group.leaderId === oldMember.memberId;
    group.members.delete(oldMember.memberId);
    const member: Member = { ...oldMember, memberId: newMemberId, sessionTimer: null };
    group.members.set(newMemberId, member);
    group.staticMembers.set(member.groupInstanceId as string, newMemberId);
    if (wasLeader) group.leaderId = newMemberId;
  }

  private addMemberAndRebalance(group: Group, request: JoinGroupRequest, memberId: string, respond: (result: JoinResult) => void): void {
    const member: Member = {
      memberId,
      groupInstanceId: request.groupInstanceId,
      clientId: request.clientId,
      clientHost: request.clientHost,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      sessionTimeoutMs: request.sessionTimeoutMs,
      protocolType: request.protocolType,
      protocols: request.protocols,
      assignment: EMPTY_BYTES,
      awaitingJoin: respond,
      awaitingSync: null,
      sessionTimer: null,
      isNew: true,
    };
    group.add(member);
    if (group.initialDelayRunning) group.newMemberAdded = true;
    // A new member gets a session timer now, so one that never rejoins is eventually removed.
    this.resetSessionTimer(group, member);
    this.maybePrepareRebalance(group);
    // As Kafka's joinPurgatory.checkAndComplete: this member may be the last one the rebalance
    // was waiting for (for example the last to rejoin after MEMBER_ID_REQUIRED).
    this.maybeCompleteJoin(group);
  }

  private updateMemberAndRebalance(group: Group, member: Member, request: JoinGroupRequest, respond: (result: JoinResult) => void): void {
    member.protocols = request.protocols;
    member.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
    member.sessionTimeoutMs = request.sessionTimeoutMs;
    member.awaitingJoin = respond;
    this.maybePrepareRebalance(group);
    this.maybeCompleteJoin(group);
  }

  private maybePrepareRebalance(group: Group): void {
    if (group.is('Stable') || group.is('CompletingRebalance') || group.is('Empty')) this.prepareRebalance(group);
  }

  private prepareRebalance(group: Group): void {
    if (group.is('CompletingRebalance')) {
      for (const member of group.members.values()) {
        member.assignment = EMPTY_BYTES;
        member.awaitingSync?.({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, protocolType: null, protocolName: null, assignment: EMPTY_BYTES });
        member.awaitingSync = null;
      }
    }
    const wasEmpty = group.is('Empty');
    this.transition(group, 'PreparingRebalance');
    this.cancel(group.joinTimer);
    if (wasEmpty && this.config.groupInitialRebalanceDelayMs > 0) {
      // Kafka's InitialDelayedJoin: wait for more members, restarting the delay while they keep
      // coming, but never longer than the rebalance timeout in all.
      group.initialDelayRunning = true;
      group.newMemberAdded = false;
      const delay = this.config.groupInitialRebalanceDelayMs;
      this.scheduleInitialDelay(group, delay, Math.max(group.rebalanceTimeoutMs() - delay, 0));
    } else {
      group.joinTimer = this.clock.setTimeout(() => this.completeJoin(group), group.rebalanceTimeoutMs());
      this.maybeCompleteJoin(group);
    }
  }

  private scheduleInitialDelay(group: Group, delayMs: number, remainingMs: number): void {
    group.joinTimer = this.clock.setTimeout(() => {
      if (group.newMemberAdded && remainingMs > 0) {
        group.newMemberAdded = false;
        const next = Math.min(this.config.groupInitialRebalanceDelayMs, remainingMs);
        this.scheduleInitialDelay(group, next, Math.max(remainingMs - next, 0));
        return;
      }
      group.initialDelayRunning = false;
      this.completeJoin(group);
    }, delayMs);
  }

  private maybeCompleteJoin(group: Group): void {
    if (group.is('PreparingRebalance') && !group.initialDelayRunning && group.hasAllMembersJoined()) this.completeJoin(group);
  }

  /** Kafka's onCompleteJoin: drop members that did not rejoin, start the next generation, answer. */
  private completeJoin(group: Group): void {
    if (!group.is('PreparingRebalance')) return;
    this.cancel(group.joinTimer);
    group.joinTimer = null;
    group.initialDelayRunning = false;
    for (const member of [...group.members.values()]) {
      if (member.awaitingJoin === null) this.removeMember(group, member);
    }
    group.generationId += 1;
    if (group.members.size === 0) {
      group.protocolName = null;
      this.transition(group, 'Empty');
      this.storeGroup(group);
      return;
    }
    group.protocolName = group.selectProtocol();
    this.transition(group, 'CompletingRebalance');
    for (const member of group.members.values()) {
      const respond = member.awaitingJoin;
      assert.ok(respond !== null);
      member.awaitingJoin = null;
      member.isNew = false;
      this.resetSessionTimer(group, member);
      respond(this.joinResponse(group, member, group.leaderId === member.memberId));
    }
  }

  private joinResponse(group: Group, member: Member, includeMembers: boolean): JoinResult {
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      skipAssignment: false,
      memberId: member.memberId,
      members: includeMembers ? group.currentMemberMetadata() : [],
    };
  }

  // ---------------------------------------------------------------- SyncGroup

  syncGroup(request: SyncGroupRequest): Promise<SyncResult> {
    const group = this.groups.get(request.groupId);
    const fail = (errorCode: number): Promise<SyncResult> => Promise.resolve({ errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BYTES });
    const status = this.groupStatus(request.groupId);
    if (status !== ErrorCode.NONE) return fail(status);
    if (group === undefined || group.is('Dead')) return fail(group === undefined ? ErrorCode.UNKNOWN_MEMBER_ID : ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (group.isStaticMemberFenced(request.memberId, request.groupInstanceId)) return fail(ErrorCode.FENCED_INSTANCE_ID);
    const member = group.members.get(request.memberId);
    if (member === undefined) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    if (request.generationId !== group.generationId) return fail(ErrorCode.ILLEGAL_GENERATION);
    if ((request.protocolType !== null && request.protocolType !== group.protocolType) || (request.protocolName !== null && request.protocolName !== group.protocolName)) {
      return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    switch (group.state) {
      case 'Empty':
        return fail(ErrorCode.UNKNOWN_MEMBER_ID);
      case 'PreparingRebalance':
        return fail(ErrorCode.REBALANCE_IN_PROGRESS);
      case 'Stable':
        this.resetSessionTimer(group, member);
        return Promise.resolve(this.syncResponse(group, member));
      default:
        return new Promise((resolve) => {
          member.awaitingSync = resolve;
          this.resetSessionTimer(group, member);
          if (group.leaderId === member.memberId) this.completeSync(group, request.assignments);
        });
    }
  }

  /**
   * Kafka's doSyncGroup for the leader: the assignment is stored, and handed out only once the
   * record is replicated; if the group moved on meanwhile (another rebalance, unloaded), whatever
   * moved it has answered the members.
   */
  private completeSync(group: Group, assignments: SyncGroupRequest['assignments']): void {
    const byMember = new Map(assignments.map((entry) => [entry.memberId, entry.assignment]));
    for (const member of group.members.values()) member.assignment = byMember.get(member.memberId) ?? EMPTY_BYTES;
    const generationId = group.generationId;
    void this.tryStoreGroup(group).then((stored) => {
      if (group.is('CompletingRebalance') && group.generationId === generationId && this.groups.get(group.groupId) === group) this.propagateAssignment(group, stored);
    });
  }

  private propagateAssignment(group: Group, stored: number): void {
    if (stored !== ErrorCode.NONE) {
      // Kafka's resetAndPropagateAssignmentError: an assignment that is not stored is not handed
      // out; every waiting member gets the error and the group rebalances.
      for (const member of group.members.values()) {
        member.assignment = EMPTY_BYTES;
        const respond = member.awaitingSync;
        member.awaitingSync = null;
        respond?.({ errorCode: stored, protocolType: null, protocolName: null, assignment: EMPTY_BYTES });
      }
      this.maybePrepareRebalance(group);
      return;
    }
    this.transition(group, 'Stable');
    for (const member of group.members.values()) {
      const respond = member.awaitingSync;
      member.awaitingSync = null;
      respond?.(this.syncResponse(group, member));
    }
  }

  private syncResponse(group: Group, member: Member): SyncResult {
    return { errorCode: ErrorCode.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment };
  }

  // ---------------------------------------------------------------- Heartbeat and LeaveGroup

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    const status = this.groupStatus(groupId);
    if (status !== ErrorCode.NONE) return status;
    const group = this.groups.get(groupId);
    if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (group.isStaticMemberFenced(memberId, groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
    const member = group.members.get(memberId);
    if (member === undefined || group.is('Empty')) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.resetSessionTimer(group, member);
    return group.is('PreparingRebalance') ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
  }

  leaveGroup(groupId: string, leaving: readonly { memberId: string; groupInstanceId: string | null }[]): LeaveResult {
    const status = this.groupStatus(groupId);
    if (status !== ErrorCode.NONE) return { errorCode: status, members: [] };
    const group = this.groups.get(groupId);
    if (group === undefined || group.is('Dead')) {
      const errorCode = group === undefined ? ErrorCode.UNKNOWN_MEMBER_ID : ErrorCode.COORDINATOR_NOT_AVAILABLE;
      return { errorCode, members: leaving.map((entry) => ({ ...entry, errorCode })) };
    }
    const members = leaving.map((entry) => ({ ...entry, errorCode: this.leaveMember(group, entry.memberId, entry.groupInstanceId) }));
    return { errorCode: ErrorCode.NONE, members };
  }

  private leaveMember(group: Group, memberId: string, groupInstanceId: string | null): number {
    let id = memberId;
    if (id === '' && groupInstanceId !== null) id = group.staticMembers.get(groupInstanceId) ?? '';
    else if (group.isStaticMemberFenced(memberId, groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
    if (group.pendingMembers.has(id)) {
      this.cancel(group.pendingMembers.get(id));
      group.pendingMembers.delete(id);
      this.maybeCompleteJoin(group);
      return ErrorCode.NONE;
    }
    const member = group.members.get(id);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    this.removeMemberAndUpdateGroup(group, member);
    return ErrorCode.NONE;
  }

  // ---------------------------------------------------------------- sessions and removal

  private resetSessionTimer(group: Group, member: Member): void {
    this.cancel(member.sessionTimer);
    member.sessionTimer = this.clock.setTimeout(() => this.onSessionExpired(group, member), member.sessionTimeoutMs);
  }

  private onSessionExpired(group: Group, member: Member): void {
    if (group.members.get(member.memberId) !== member) return;
    // Kafka's shouldKeepAlive: a member parked in JoinGroup or SyncGroup is alive by definition
    // while the rebalance runs; it is checked again after the next session timeout.
    if (member.awaitingJoin !== null || member.awaitingSync !== null) {
      this.resetSessionTimer(group, member);
      return;
    }
    this.removeMemberAndUpdateGroup(group, member);
  }

  private expirePendingMember(group: Group, memberId: string): void {
    if (!group.pendingMembers.delete(memberId)) return;
    this.maybeCompleteJoin(group);
  }

  private removeMember(group: Group, member: Member): void {
    this.cancel(member.sessionTimer);
    member.sessionTimer = null;
    group.remove(member.memberId);
  }

  private removeMemberAndUpdateGroup(group: Group, member: Member): void {
    member.awaitingJoin?.(joinError(ErrorCode.UNKNOWN_MEMBER_ID, member.memberId));
    member.awaitingJoin = null;
    member.awaitingSync?.({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID, protocolType: null, protocolName: null, assignment: EMPTY_BYTES });
    member.awaitingSync = null;
    this.removeMember(group, member);
    if (group.is('Stable') || group.is('CompletingRebalance')) this.prepareRebalance(group);
    else if (group.is('PreparingRebalance')) this.maybeCompleteJoin(group);
  }

  private transition(group: Group, state: GroupState): void {
    const previous = group.transitionTo(state);
    if (groupChannel.hasSubscribers) {
      groupChannel.publish({ groupId: group.groupId, previousState: previous, state, generationId: group.generationId, members: group.members.size });
    }
  }

  // ---------------------------------------------------------------- persistence of membership

  /**
   * Writes the group's GroupMetadata record. A failed write leaves the group working in memory
   * (it only matters for the next restart), as Kafka ignores a failed store of a group that
   * became empty; SyncGroup, whose assignment must be stored, uses `tryStoreGroup`.
   */
  private storeGroup(group: Group): void {
    void this.tryStoreGroup(group);
  }

  /**
   * Writes the group's GroupMetadata record (appended at once, with the group as it is now);
   * resolves to NONE once it is replicated, or to the error to answer.
   */
  private async tryStoreGroup(group: Group): Promise<number> {
    try {
      await this.offsetStore.storeGroup(group.groupId, {
        protocolType: group.protocolType ?? '',
        generation: group.generationId,
        protocol: group.protocolName,
        leader: group.leaderId,
        currentStateTimestamp: this.clock.now(),
        members: [...group.members.values()].map((member) => ({
          memberId: member.memberId,
          groupInstanceId: member.groupInstanceId,
          clientId: member.clientId,
          clientHost: member.clientHost,
          rebalanceTimeoutMs: member.rebalanceTimeoutMs,
          sessionTimeoutMs: member.sessionTimeoutMs,
          subscription: group.protocolName === null ? EMPTY_BYTES : group.metadataFor(member, group.protocolName),
          assignment: member.assignment,
        })),
      });
      return ErrorCode.NONE;
    } catch (error) {
      return storeErrorCode(error);
    }
  }

  /** Replays one GroupMetadata record at open: the group comes back Stable (or Empty). */
  loadGroup(groupId: string, stored: StoredGroup | null): void {
    let group = this.groups.get(groupId);
    if (group === undefined) {
      group = new Group(groupId);
      this.groups.set(groupId, group);
    }
    group.members.clear();
    group.staticMembers.clear();
    group.leaderId = null;
    if (stored === null) {
      // A tombstone: the group is gone unless offsets keep it (as Kafka's loading, which
      // creates an Empty group for offsets without group metadata).
      if (group.offsets.size === 0) this.groups.delete(groupId);
      group.state = 'Empty';
      group.protocolType = null;
      group.protocolName = null;
      return;
    }
    group.generationId = stored.generation;
    group.protocolType = stored.protocolType === '' ? null : stored.protocolType;
    group.protocolName = stored.protocol;
    for (const stored_ of stored.members) {
      group.add({
        memberId: stored_.memberId,
        groupInstanceId: stored_.groupInstanceId,
        clientId: stored_.clientId,
        clientHost: stored_.clientHost,
        rebalanceTimeoutMs: stored_.rebalanceTimeoutMs,
        sessionTimeoutMs: stored_.sessionTimeoutMs,
        protocolType: stored.protocolType,
        protocols: [{ name: stored.protocol ?? '', metadata: stored_.subscription }],
        assignment: stored_.assignment,
        awaitingJoin: null,
        awaitingSync: null,
        sessionTimer: null,
        isNew: false,
      });
    }
    group.leaderId = stored.leader !== null && group.members.has(stored.leader) ? stored.leader : group.leaderId;
    group.state = group.members.size > 0 && stored.protocol !== null ? 'Stable' : 'Empty';
  }

  // ---------------------------------------------------------------- offsets

  /**
   * Validates an OffsetCommit as Kafka's doCommitOffsets does and stores the accepted offsets;
   * resolves once they are replicated (then they are visible to OffsetFetch) with the error per
   * partition, in the order given.
   */
  async commitOffsets(
    groupId: string, memberId: string, groupInstanceId: string | null, generationId: number, commits: readonly OffsetCommit[],
  ): Promise<number[]> {
    const all = (errorCode: number): number[] => commits.map(() => errorCode);
    const status = this.groupStatus(groupId);
    if (status !== ErrorCode.NONE) return all(status);
    let group = this.groups.get(groupId);
    if (group === undefined) {
      if (generationId >= 0) return all(ErrorCode.ILLEGAL_GENERATION);
      group = new Group(groupId);
      this.groups.set(groupId, group);
    }
    const groupError = this.commitGroupError(group, memberId, groupInstanceId, generationId);
    if (groupError !== ErrorCode.NONE) return all(groupError);
    const member = group.members.get(memberId);
    if (member !== undefined) this.resetSessionTimer(group, member);
    const errors = commits.map((commit) => this.commitPartitionError(commit));
    const accepted = commits.filter((_, index) => errors[index] === ErrorCode.NONE);
    if (accepted.length === 0) return errors;
    try {
      await this.offsetStore.storeOffsets(groupId, accepted);
    } catch (error) {
      const failed = storeErrorCode(error);
      return commits.map((_, index) => (errors[index] === ErrorCode.NONE ? failed : errors[index]));
    }
    for (const commit of accepted) this.applyOffset(group, commit.topic, commit.partition, commit);
    return errors;
  }

  private commitGroupError(group: Group, memberId: string, groupInstanceId: string | null, generationId: number): number {
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (group.isStaticMemberFenced(memberId, groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
    if (generationId < 0 && group.is('Empty')) return ErrorCode.NONE;
    if (group.is('CompletingRebalance')) return ErrorCode.REBALANCE_IN_PROGRESS;
    if (!group.members.has(memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    return ErrorCode.NONE;
  }

  private commitPartitionError(commit: OffsetCommit): number {
    if (!this.offsetStore.partitionExists(commit.topic, commit.partition)) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    if (Buffer.byteLength(commit.metadata) > this.config.offsetMetadataMaxBytes) return ErrorCode.OFFSET_METADATA_TOO_LARGE;
    return ErrorCode.NONE;
  }

  private applyOffset(group: Group, topic: string, partition: number, value: CommittedOffset | null): void {
    const key = offsetKey(topic, partition);
    if (value === null) group.offsets.delete(key);
    else group.offsets.set(key, { offset: value.offset, leaderEpoch: value.leaderEpoch, metadata: value.metadata, commitTimestamp: value.commitTimestamp });
  }

  /** Replays one `__consumer_offsets` offset record at open; null is a tombstone. */
  loadOffset(groupId: string, topic: string, partition: number, value: CommittedOffset | null): void {
    let group = this.groups.get(groupId);
    if (group === undefined) {
      if (value === null) return;
      group = new Group(groupId);
      this.groups.set(groupId, group);
    }
    this.applyOffset(group, topic, partition, value);
  }

  /** The committed offsets of a group: the partitions asked for, or all of them for null. */
  fetchOffsets(groupId: string, topics: readonly { name: string; partitionIndexes: number[] }[] | null): Map<string, Map<number, CommittedOffset | null>> {
    const group = this.groups.get(groupId);
    const result = new Map<string, Map<number, CommittedOffset | null>>();
    const put = (topic: string, partition: number, value: CommittedOffset | null): void => {
      let partitions = result.get(topic);
      if (partitions === undefined) result.set(topic, (partitions = new Map()));
      partitions.set(partition, value);
    };
    if (topics === null) {
      for (const [key, value] of group?.offsets ?? []) {
        const { topic, partition } = splitOffsetKey(key);
        put(topic, partition, value);
      }
      return result;
    }
    for (const topic of topics) {
      for (const partition of topic.partitionIndexes) put(topic.name, partition, group?.offsets.get(offsetKey(topic.name, partition)) ?? null);
    }
    return result;
  }

  /**
   * Kafka's cleanupGroupMetadata: an Empty group's offsets committed before `cutoffTimestamp`
   * expire; a group left with neither members nor offsets is removed (Dead). Returns what was
   * removed so the broker can write tombstones.
   */
  expireOffsets(cutoffTimestamp: number): { groupId: string; offsets: { topic: string; partition: number }[]; groupRemoved: boolean }[] {
    const expired = [];
    for (const group of [...this.groups.values()]) {
      if (!group.is('Empty') || !this.isServed(group.groupId)) continue;
      const offsets = [];
      for (const [key, committed] of [...group.offsets]) {
        if (committed.commitTimestamp >= cutoffTimestamp) continue;
        group.offsets.delete(key);
        offsets.push(splitOffsetKey(key));
      }
      const groupRemoved = group.offsets.size === 0 && group.members.size === 0 && group.pendingMembers.size === 0;
      if (groupRemoved) {
        this.transition(group, 'Dead');
        this.groups.delete(group.groupId);
      }
      if (offsets.length > 0 || groupRemoved) expired.push({ groupId: group.groupId, offsets, groupRemoved });
    }
    return expired;
  }

  /**
   * Forgets the offsets of a deleted topic and returns them per group, so the broker can write
   * their tombstones (as Kafka does) and they do not come back at the next load.
   */
  removeOffsetsOfTopic(topic: string): Map<string, number[]> {
    const removed = new Map<string, number[]>();
    for (const group of this.groups.values()) {
      if (!this.isServed(group.groupId)) continue;
      for (const key of [...group.offsets.keys()]) {
        const { topic: offsetTopic, partition } = splitOffsetKey(key);
        if (offsetTopic !== topic) continue;
        group.offsets.delete(key);
        const partitions = removed.get(group.groupId) ?? [];
        partitions.push(partition);
        removed.set(group.groupId, partitions);
      }
    }
    return removed;
  }

  // ---------------------------------------------------------------- deletion (admin)

  /**
   * DeleteGroups for one group: an Empty group's offsets and membership record get tombstones,
   * then the group is Dead and forgotten. Resolves to Kafka's error code once the tombstones are
   * replicated (a replication that fails or times out is COORDINATOR_NOT_AVAILABLE, as Kafka maps
   * it; the group stays deleted here, as in the leader's log).
   */
  async deleteGroup(groupId: string): Promise<number> {
    const status = this.groupStatus(groupId);
    if (status !== ErrorCode.NONE) return status;
    const group = this.groups.get(groupId);
    const errorCode = deleteGroupError(groupId, group);
    if (errorCode !== ErrorCode.NONE || group === undefined) return errorCode;
    let replicated: Promise<void>;
    try {
      replicated = this.offsetStore.storeTombstones(groupId, [...group.offsets.keys()].map(splitOffsetKey), true);
    } catch (error) {
      return storeErrorCode(error);
    }
    group.offsets.clear();
    for (const timer of group.pendingMembers.values()) this.cancel(timer);
    this.cancel(group.joinTimer);
    this.transition(group, 'Dead');
    this.groups.delete(groupId);
    try {
      await replicated;
    } catch (error) {
      return storeErrorCode(error);
    }
    return ErrorCode.NONE;
  }

  /**
   * OffsetDelete: removes the group's committed offsets of topics no member is subscribed to
   * (GROUP_SUBSCRIBED_TO_TOPIC for the others). Partitions without an offset succeed unchanged.
   * Answered once the tombstones are replicated, as `deleteGroup`.
   */
  async deleteOffsets(groupId: string, topics: readonly { name: string; partitionIndexes: readonly number[] }[]): Promise<{ errorCode: number; topics: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[] }> {
    const status = this.groupStatus(groupId);
    if (status !== ErrorCode.NONE) return { errorCode: status, topics: [] };
    const group = this.groups.get(groupId);
    const groupError = deleteOffsetsGroupError(group);
    if (groupError !== ErrorCode.NONE || group === undefined) return { errorCode: groupError, topics: [] };
    const removed: { topic: string; partition: number }[] = [];
    const answer = topics.map(({ name, partitionIndexes }) => {
      const subscribed = isSubscribedToTopic(group, name);
      if (!subscribed) for (const partition of partitionIndexes) if (group.offsets.has(offsetKey(name, partition))) removed.push({ topic: name, partition });
      const errorCode = subscribed ? ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC : ErrorCode.NONE;
      return { name, partitions: partitionIndexes.map((partitionIndex) => ({ partitionIndex, errorCode })) };
    });
    if (removed.length === 0) return { errorCode: ErrorCode.NONE, topics: answer };
    let replicated: Promise<void>;
    try {
      replicated = this.offsetStore.storeTombstones(groupId, removed, false);
    } catch (error) {
      return { errorCode: storeErrorCode(error), topics: [] };
    }
    for (const { topic, partition } of removed) group.offsets.delete(offsetKey(topic, partition));
    try {
      await replicated;
    } catch (error) {
      return { errorCode: storeErrorCode(error), topics: [] };
    }
    return { errorCode: ErrorCode.NONE, topics: answer };
  }

  // ---------------------------------------------------------------- describe and list

  describeGroup(groupId: string): GroupDescription {
    const group = this.groups.get(groupId);
    if (group === undefined) return { groupId, groupState: 'Dead', protocolType: '', protocolData: '', members: [] };
    const isStable = group.is('Stable');
    const protocolName = group.protocolName ?? '';
    return {
      groupId,
      groupState: group.state,
      protocolType: group.protocolType ?? '',
      protocolData: isStable ? protocolName : '',
      members: [...group.members.values()].map((member) => ({
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId,
        clientId: member.clientId,
        clientHost: member.clientHost,
        memberMetadata: isStable ? group.metadataFor(member, protocolName) : EMPTY_BYTES,
        memberAssignment: isStable ? member.assignment : EMPTY_BYTES,
      })),
    };
  }

  /** The groups served here (those of partitions still loading are not listed; ListGroups says COORDINATOR_LOAD_IN_PROGRESS then). */
  listGroups(): { groupId: string; protocolType: string; groupState: GroupState }[] {
    return [...this.groups.values()]
      .filter((group) => !group.is('Dead') && this.isServed(group.groupId))
      .map((group) => ({ groupId: group.groupId, protocolType: group.protocolType ?? '', groupState: group.state }));
  }

  /** True when the group's partition is owned here (loaded, led). */
  private isServed(groupId: string): boolean {
    return this.ownedPartitions.has(this.offsetStore.partitionFor(groupId));
  }

  /** Stops every timer and answers parked requests with COORDINATOR_NOT_AVAILABLE (retriable). */
  close(): void {
    this.closed = true;
    this.loadingPartitions.clear();
    for (const group of this.groups.values()) this.unload(group, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  }
}

/**
 * What a group request answers when its records could not be appended to `__consumer_offsets`
 * or were not replicated, as Kafka's group coordinator maps write errors
 * (CoordinatorOperationExceptionHelper): a failing disk (KAFKA_STORAGE_ERROR, ENOSPC, EIO) or a
 * lost leadership (NOT_LEADER_OR_FOLLOWER) is NOT_COORDINATOR; any other refused or unfinished
 * write is COORDINATOR_NOT_AVAILABLE: no offsets topic, NOT_ENOUGH_REPLICAS(_AFTER_APPEND), and
 * REQUEST_TIMED_OUT (not replicated within `offsets.commit.timeout.ms`; the record may still be
 * replicated later, and is then loaded by the next coordinator).
 * Both are retriable: the client looks the coordinator up again and retries.
 */
export function storeErrorCode(error: unknown): number {
  const errorCode = (error as { errorCode?: unknown } | null)?.errorCode;
  const code = (error as { code?: unknown } | null)?.code;
  if (errorCode === ErrorCode.KAFKA_STORAGE_ERROR || errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER) return ErrorCode.NOT_COORDINATOR;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return ErrorCode.NOT_COORDINATOR;
  if (typeof errorCode === 'number') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  // Not an operating error of the store: a bug, reported rather than answered.
  throw error;
}

function joinError(errorCode: number, memberId: string): JoinResult {
  return { errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', skipAssignment: false, memberId, members: [] };
}

function sameProtocols(a: readonly GroupProtocol[], b: readonly GroupProtocol[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((protocol, index) => protocol.name === b[index].name && protocol.metadata.equals(b[index].metadata));
}
