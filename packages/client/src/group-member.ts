/**
 * One consumer's membership in a classic consumer group: JoinGroup (handling MEMBER_ID_REQUIRED),
 * the leader's assignment over the members' ConsumerProtocolSubscriptions, SyncGroup, Heartbeat
 * and LeaveGroup, all against the group's coordinator. It owns the member id and generation and
 * knows nothing of fetching; the consumer drives it. Not safe for concurrent joins: the consumer
 * runs one at a time.
 */
import { Api } from './api.js';
import type { Assignor, AssignorMember } from './assignors.js';
import type { Cluster } from './cluster.js';
import { decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription, type TopicPartitions } from './consumer-protocol.js';
import { KafkaProtocolError } from './errors.js';
import type { Body } from './transport.js';

export interface GroupMemberOptions {
  groupId: string;
  groupInstanceId: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  assignors: Assignor[];
  /** Bounds the JoinGroup retries of one rebalance (MEMBER_ID_REQUIRED, REBALANCE_IN_PROGRESS...). */
  joinAttemptsMax: number;
}

export interface JoinResult {
  generationId: number;
  memberId: string;
  leaderId: string;
  isLeader: boolean;
  protocolName: string;
  assignment: TopicPartitions[];
}

/** Codes after which the member must rejoin (its generation is over). */
export const REJOIN_ERROR_CODES = new Set([22, 25, 27, 79]); // ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS, MEMBER_ID_REQUIRED

export class GroupMember {
  memberId = '';
  generationId = -1;
  protocolName: string | null = null;

  constructor(
    private readonly cluster: Cluster,
    private readonly options: GroupMemberOptions,
  ) {}

  get assignor(): Assignor | undefined {
    return this.options.assignors.find((a) => a.name === this.protocolName);
  }

  /** Joins (or rejoins) and syncs; `owned` goes in the subscription for cooperative assignors. */
  async join(topics: string[], owned: TopicPartitions[]): Promise<JoinResult> {
    const { groupId, groupInstanceId } = this.options;
    for (let attempt = 0; ; attempt++) {
      const response = await this.cluster.coordinatorRequest(groupId, Api.JoinGroup, {
        groupId,
        sessionTimeoutMs: this.options.sessionTimeoutMs,
        rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
        memberId: this.memberId,
        groupInstanceId,
        protocolType: 'consumer',
        protocols: this.options.assignors.map((assignor) => ({
          name: assignor.name,
          metadata: encodeSubscription({ topics, userData: null, ownedPartitions: assignor.rebalanceProtocol === 'COOPERATIVE' ? owned : [], generationId: this.generationId, rackId: null }),
        })),
        reason: null,
      });
      const code: number = response.errorCode;
      if (code === 79) this.memberId = response.memberId; // MEMBER_ID_REQUIRED: rejoin with the id given
      if (code === 25) this.memberId = ''; // UNKNOWN_MEMBER_ID: start over as a new member
      if ((code === 79 || code === 25 || code === 27 || code === 16 || code === 15 || code === 14) && attempt < this.options.joinAttemptsMax) continue;
      if (code !== 0) throw new KafkaProtocolError(code, `JoinGroup ${groupId}`);
      this.memberId = response.memberId;
      this.generationId = response.generationId;
      this.protocolName = response.protocolName;
      const isLeader = response.leader === response.memberId;
      const assignments = isLeader ? await this.assign(response.members) : [];
      const assignment = await this.sync(assignments);
      return { generationId: this.generationId, memberId: this.memberId, leaderId: response.leader, isLeader, protocolName: response.protocolName, assignment };
    }
  }

  /** The leader's work: decode every member's subscription, look up partition counts, assign. */
  private async assign(members: Body[]): Promise<{ memberId: string; assignment: Buffer }[]> {
    const assignor = this.assignor;
    if (assignor === undefined) throw new KafkaProtocolError(23, `no local assignor named ${this.protocolName}`);
    const assignorMembers: AssignorMember[] = members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId ?? null, subscription: decodeSubscription(m.metadata) }));
    const topics = [...new Set(assignorMembers.flatMap((m) => m.subscription.topics))];
    const infos = topics.length === 0 ? [] : await this.cluster.refreshMetadata(topics);
    const partitionsPerTopic = new Map(infos.map((t) => [t.name, t.partitions.length]));
    const result = assignor.assign({ members: assignorMembers, partitionsPerTopic });
    return assignorMembers.map((m) => ({ memberId: m.memberId, assignment: encodeAssignment({ assignedPartitions: result.get(m.memberId) ?? [], userData: null }) }));
  }

  private async sync(assignments: { memberId: string; assignment: Buffer }[]): Promise<TopicPartitions[]> {
    const { groupId, groupInstanceId } = this.options;
    const response = await this.cluster.coordinatorRequest(groupId, Api.SyncGroup, {
      groupId,
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId,
      protocolType: 'consumer',
      protocolName: this.protocolName,
      assignments,
    });
    if (response.errorCode !== 0) throw new KafkaProtocolError(response.errorCode, `SyncGroup ${groupId}`);
    return decodeAssignment(response.assignment).assignedPartitions;
  }

  /** One heartbeat; returns Kafka's error code (0, or a code from REJOIN_ERROR_CODES...). */
  async heartbeat(): Promise<number> {
    const { groupId, groupInstanceId } = this.options;
    const response = await this.cluster.coordinatorRequest(groupId, Api.Heartbeat, { groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId });
    if (response.errorCode === 25) this.memberId = '';
    return response.errorCode;
  }

  /** LeaveGroup, so the group rebalances now rather than after the session timeout. */
  async leave(): Promise<void> {
    if (this.memberId === '') return;
    const { groupId, groupInstanceId } = this.options;
    await this.cluster.coordinatorRequest(groupId, Api.LeaveGroup, {
      groupId,
      memberId: this.memberId,
      members: [{ memberId: this.memberId, groupInstanceId, reason: 'the consumer is leaving the group' }],
    });
    this.memberId = '';
    this.generationId = -1;
  }
}
