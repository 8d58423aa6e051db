/**
 * One consumer group of Kafka's classic protocol: its members, generation, selected protocol and
 * state (Empty, PreparingRebalance, CompletingRebalance, Stable, Dead), with the transitions Kafka
 * allows. The GroupCoordinator is the only caller; nothing here touches timers or the log.
 */
import assert from 'node:assert/strict';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

/** Kafka's GroupMetadata.validPreviousStates: the states each state may be entered from. */
const validPreviousStates: Record<GroupState, readonly GroupState[]> = {
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  Empty: ['PreparingRebalance'],
};

export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  skipAssignment: boolean;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export interface GroupProtocol {
  name: string;
  metadata: Buffer;
}

export interface Member {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocolType: string;
  protocols: GroupProtocol[];
  assignment: Buffer;
  /** Set while the member waits in JoinGroup for the rebalance to complete. */
  awaitingJoin: ((result: JoinResult) => void) | null;
  /** Set while the member waits in SyncGroup for the leader's assignment. */
  awaitingSync: ((result: SyncResult) => void) | null;
  /** The session timer (heartbeat expiry) on the injected clock. */
  sessionTimer: unknown;
  /** True from joining until its first JoinGroup response (Kafka's isNew). */
  isNew: boolean;
}

export interface CommittedOffset {
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
}

export const EMPTY_BYTES = Buffer.alloc(0);

export class Group {
  state: GroupState = 'Empty';
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, Member>();
  /** groupInstanceId → memberId of the static members. */
  readonly staticMembers = new Map<string, string>();
  /** Members told MEMBER_ID_REQUIRED, who must rejoin with that id (value: their expiry timer). */
  readonly pendingMembers = new Map<string, unknown>();
  /** `topic\u0000partition` → committed offset. */
  readonly offsets = new Map<string, CommittedOffset>();
  /** The delayed join (rebalance timeout or initial delay) timer while PreparingRebalance. */
  joinTimer: unknown = null;
  /** True while the initial rebalance delay runs (it only completes at its deadline). */
  initialDelayRunning = false;
  /** Members that joined while the initial delay ran. */
  newMemberAdded = false;

  constructor(readonly groupId: string) {}

  is(state: GroupState): boolean {
    return this.state === state;
  }

  transitionTo(state: GroupState): GroupState {
    assert.ok(validPreviousStates[state].includes(this.state), `group ${this.groupId}: ${this.state} -> ${state}`);
    const previous = this.state;
    this.state = state;
    return previous;
  }

  add(member: Member): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    assert.equal(member.protocolType, this.protocolType);
    if (this.leaderId === null) this.leaderId = member.memberId;
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
  }

  remove(memberId: string): void {
    const member = this.members.get(memberId);
    if (member === undefined) return;
    this.members.delete(memberId);
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId) this.staticMembers.delete(member.groupInstanceId);
    if (this.leaderId === memberId) this.leaderId = this.members.keys().next().value ?? null;
  }

  /** Kafka's isStaticMemberFenced: the instance id is known but held by another member id. */
  isStaticMemberFenced(memberId: string, groupInstanceId: string | null): boolean {
    if (groupInstanceId === null) return false;
    const current = this.staticMembers.get(groupInstanceId);
    return current !== undefined && current !== memberId;
  }

  /** True when every protocol type matches and some protocol is supported by all members. */
  supportsProtocols(protocolType: string, protocols: readonly GroupProtocol[]): boolean {
    if (this.members.size === 0) return protocolType !== '' && protocols.length > 0;
    if (protocolType !== this.protocolType) return false;
    const names = new Set(protocols.map((protocol) => protocol.name));
    return this.candidateProtocols().some((name) => names.has(name));
  }

  /** The protocols every member supports, in the first member's order of preference. */
  candidateProtocols(): string[] {
    let candidates: string[] | null = null;
    for (const member of this.members.values()) {
      const names = member.protocols.map((protocol) => protocol.name);
      candidates = candidates === null ? names : candidates.filter((name) => names.includes(name));
    }
    return candidates ?? [];
  }

  /** Kafka's selectProtocol: each member votes for its most preferred candidate; most votes wins. */
  selectProtocol(): string {
    const candidates = this.candidateProtocols();
    assert.ok(candidates.length > 0, `group ${this.groupId} has no common protocol`);
    const votes = new Map<string, number>();
    for (const member of this.members.values()) {
      const vote = member.protocols.find((protocol) => candidates.includes(protocol.name));
      assert.ok(vote !== undefined);
      votes.set(vote.name, (votes.get(vote.name) ?? 0) + 1);
    }
    let best = candidates[0];
    for (const name of candidates) if ((votes.get(name) ?? 0) > (votes.get(best) ?? 0)) best = name;
    return best;
  }

  metadataFor(member: Member, protocolName: string): Buffer {
    const protocol = member.protocols.find((candidate) => candidate.name === protocolName);
    return protocol?.metadata ?? EMPTY_BYTES;
  }

  /** Kafka's hasAllMembersJoined: every member waits in JoinGroup and nobody is pending. */
  hasAllMembersJoined(): boolean {
    for (const member of this.members.values()) if (member.awaitingJoin === null) return false;
    return this.pendingMembers.size === 0;
  }

  /** The longest rebalance timeout of the members: how long the coordinator waits for rejoins. */
  rebalanceTimeoutMs(): number {
    let timeout = 0;
    for (const member of this.members.values()) timeout = Math.max(timeout, member.rebalanceTimeoutMs);
    return timeout;
  }

  currentMemberMetadata(): JoinResult['members'] {
    assert.ok(this.protocolName !== null);
    const protocolName = this.protocolName;
    return [...this.members.values()].map((member) => ({
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      metadata: this.metadataFor(member, protocolName),
    }));
  }
}

export function offsetKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export function splitOffsetKey(key: string): { topic: string; partition: number } {
  const separator = key.lastIndexOf('\u0000');
  return { topic: key.slice(0, separator), partition: Number(key.slice(separator + 1)) };
}
