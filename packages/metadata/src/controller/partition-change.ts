/**
 * One partition's next state, as Kafka's PartitionChangeBuilder (without eligible leader
 * replicas, which Gregor does not have): given the registration, a target ISR, the kind of
 * election and, for a reassignment, target replicas with the ones being added and removed, it
 * decides the leader and writes the PartitionChangeRecord, or nothing when the partition would not
 * change.
 *
 * A reassignment (KIP-455) completes in the change that puts its last adding replica into the
 * ISR (Kafka's completeReassignmentIfNeeded): the removing replicas leave the replicas and the
 * ISR, adding and removing become empty, and a leader being removed gives way to the first
 * target replica in the ISR. It cannot complete while that would empty the ISR. Removing
 * replicas bumps the leader epoch even when the leader stays, so a removed replica's fetches
 * are fenced.
 *
 * How a leader is chosen (`online`): the current leader stays if it is still in the target ISR
 * and acceptable (unfenced, not shutting down); otherwise the first replica, in replica order,
 * that is in the target ISR and acceptable; otherwise no leader (-1). `preferred` tries the first
 * replica before keeping the current leader. `unclean` falls back, when no ISR member can lead,
 * to the first acceptable replica outside the ISR: the ISR becomes that replica alone and the
 * leader recovery state RECOVERING, and whatever only the lost ISR members had is gone.
 *
 * The ISR is never emptied: when the last member leaves (its broker is fenced) it stays listed
 * and the partition has no leader, so it can lead again when it comes back (KRaft without ELR).
 * An ISR shrink does not bump the leader epoch (Kafka since metadata.version 3.6-IV0). Pure.
 */
import type { PartitionRegistration } from '../image.js';
import { type MetadataRecordInput, NO_LEADER } from '../records.js';

export type Election = 'preferred' | 'online' | 'unclean';

/** Kafka's LeaderRecoveryState. */
export const LeaderRecoveryState = { RECOVERED: 0, RECOVERING: 1 } as const;

export interface PartitionChangeInput {
  topicId: string;
  partitionId: number;
  current: PartitionRegistration;
  /** Whether a broker may lead: registered, unfenced and not in controlled shutdown (Kafka's isActive). */
  isAcceptableLeader: (brokerId: number) => boolean;
  election?: Election;
  /** The ISR wanted (default: the current one); ignored when empty, see the header. */
  targetIsr?: readonly number[];
  /** The leader recovery state wanted (AlterPartition); default: unchanged. */
  targetLeaderRecoveryState?: number;
  /** A reassignment's replicas (target first, then the ones being removed); default: unchanged. */
  targetReplicas?: readonly number[];
  targetAdding?: readonly number[];
  targetRemoving?: readonly number[];
}

export type PartitionChange = MetadataRecordInput<'PartitionChange'>;

/** The change record, or null when the partition stays as it is. */
export function buildPartitionChange(input: PartitionChangeInput): PartitionChange | null {
  const { current } = input;
  let targetIsr = input.targetIsr ?? current.isr;
  let replicas = input.targetReplicas ?? current.replicas;
  let adding = input.targetAdding ?? current.addingReplicas;
  let removing = input.targetRemoving ?? current.removingReplicas;
  if ((adding.length > 0 || removing.length > 0) && adding.every((id) => targetIsr.includes(id))) {
    const isrAfter = targetIsr.filter((id) => !removing.includes(id));
    if (isrAfter.length > 0) {
      replicas = replicas.filter((id) => !removing.includes(id));
      targetIsr = isrAfter;
      adding = [];
      removing = [];
    }
  }
  const election = input.election ?? 'online';
  const record: PartitionChange = { type: 'PartitionChange', topicId: input.topicId, partitionId: input.partitionId };
  const isValidLeader = (id: number) => id !== NO_LEADER && targetIsr.includes(id) && replicas.includes(id) && input.isAcceptableLeader(id);

  const { leader, unclean } = electLeader(current, replicas, election, isValidLeader, input.isAcceptableLeader);
  if (!sameList(replicas, current.replicas)) record.replicas = [...replicas];
  if (!sameList(adding, current.addingReplicas)) record.addingReplicas = [...adding];
  if (!sameList(removing, current.removingReplicas)) record.removingReplicas = [...removing];
  if (leader !== current.leader || (leader !== NO_LEADER && current.replicas.some((id) => !replicas.includes(id)))) {
    record.leader = leader;
    if (unclean) {
      // The new leader was not in the ISR: it alone is in sync now, and it must recover.
      record.isr = [leader];
      if (current.leaderRecoveryState !== LeaderRecoveryState.RECOVERING) record.leaderRecoveryState = LeaderRecoveryState.RECOVERING;
    }
  }
  if (record.isr === undefined && targetIsr.length > 0 && !sameList(targetIsr, current.isr)) record.isr = [...targetIsr];
  if (input.targetLeaderRecoveryState !== undefined && input.targetLeaderRecoveryState !== current.leaderRecoveryState) {
    record.leaderRecoveryState = input.targetLeaderRecoveryState;
  }
  const changes =
    record.leader !== undefined || record.isr !== undefined || record.leaderRecoveryState !== undefined ||
    record.replicas !== undefined || record.addingReplicas !== undefined || record.removingReplicas !== undefined;
  return changes ? record : null;
}

function electLeader(
  current: PartitionRegistration,
  replicas: readonly number[],
  election: Election,
  isValidLeader: (id: number) => boolean,
  isAcceptableLeader: (id: number) => boolean,
): { leader: number; unclean: boolean } {
  if (election === 'preferred' && isValidLeader(replicas[0])) return { leader: replicas[0], unclean: false };
  if (isValidLeader(current.leader)) return { leader: current.leader, unclean: false };
  const fromIsr = replicas.find(isValidLeader);
  if (fromIsr !== undefined) return { leader: fromIsr, unclean: false };
  if (election === 'unclean') {
    const anyLive = replicas.find(isAcceptableLeader);
    // No ISR member can lead, so whoever is chosen here is outside the ISR.
    if (anyLive !== undefined) return { leader: anyLive, unclean: true };
  }
  return { leader: NO_LEADER, unclean: false };
}

export function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}
