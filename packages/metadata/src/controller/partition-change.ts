/**
 * One partition's next state, as Kafka's PartitionChangeBuilder (without eligible leader replicas
 * and reassignments, which Gregor does not have): given the registration, a target ISR and the
 * kind of election, it decides the leader and writes the PartitionChangeRecord, or nothing when
 * the partition would not change.
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
}

export type PartitionChange = MetadataRecordInput<'PartitionChange'>;

/** The change record, or null when the partition stays as it is. */
export function buildPartitionChange(input: PartitionChangeInput): PartitionChange | null {
  const { current } = input;
  const targetIsr = input.targetIsr ?? current.isr;
  const election = input.election ?? 'online';
  const record: PartitionChange = { type: 'PartitionChange', topicId: input.topicId, partitionId: input.partitionId };
  const isValidLeader = (id: number) => id !== NO_LEADER && targetIsr.includes(id) && input.isAcceptableLeader(id);

  const { leader, unclean } = electLeader(current, election, isValidLeader, input.isAcceptableLeader);
  if (leader !== current.leader) {
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
  const changes = record.leader !== undefined || record.isr !== undefined || record.leaderRecoveryState !== undefined;
  return changes ? record : null;
}

function electLeader(
  current: PartitionRegistration,
  election: Election,
  isValidLeader: (id: number) => boolean,
  isAcceptableLeader: (id: number) => boolean,
): { leader: number; unclean: boolean } {
  const replicas = current.replicas;
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
