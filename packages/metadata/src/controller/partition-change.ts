/**
 * One partition's next state, as Kafka's PartitionChangeBuilder: given the registration, a target
 * ISR, the kind of election and, for a reassignment, target replicas with the ones being added
 * and removed, it decides the leader, the ISR and the eligible leader replicas, and writes the
 * PartitionChangeRecord, or nothing when the partition would not change.
 *
 * A reassignment (KIP-455) completes in the change that puts its last adding replica into the
 * ISR (Kafka's completeReassignmentIfNeeded): the removing replicas leave the replicas and the
 * ISR, adding and removing become empty, and a leader being removed gives way to the first
 * target replica in the ISR. It cannot complete while that would empty the ISR. Removing
 * replicas bumps the leader epoch even when the leader stays, so a removed replica's fetches
 * are fenced.
 *
 * Eligible leader replicas (KIP-966, `elr` given): while the target ISR is smaller than the
 * topic's min.insync.replicas, every replica that was in the ISR or the ELR and is not in the
 * target ISR is in the ELR, except brokers back from an unclean shutdown (their unflushed tail may
 * be gone). At min ISR or above the ELR is empty. A leader does not advance the high watermark
 * while its ISR is under min ISR, so an ELR member still holds every committed record. The ISR
 * may then become empty; the last leader is kept as the last known leader.
 *
 * How a leader is chosen (`online`): the current leader stays if it is still in the target ISR
 * and acceptable (unfenced, not shutting down); otherwise the first replica, in replica order,
 * that is in the target ISR and acceptable, or, when the target ISR is empty, in the ELR (it
 * becomes the ISR alone and leaves the ELR); otherwise, when the ISR and the ELR are both empty,
 * the last known leader if it is acceptable (an unclean election: whatever it lost in an unclean
 * shutdown is lost); otherwise no leader (-1). `preferred` tries the first replica before keeping
 * the current leader. `unclean` falls back, when no ISR member can lead, to the first acceptable
 * replica outside the ISR. An unclean election makes the ISR that replica alone, the leader
 * recovery state RECOVERING, and empties the ELR: whatever only the lost members had is gone.
 *
 * Without `elr` (a cluster without eligible.leader.replicas.version) the ISR is never emptied:
 * when the last member leaves (its broker is fenced) it stays listed and the partition has no
 * leader, so it can lead again when it comes back. An ISR shrink does not bump the leader epoch
 * (Kafka since metadata.version 3.6-IV0). Pure.
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
  /** The ISR wanted (default: the current one); without `elr`, an empty one is ignored (see the header). */
  targetIsr?: readonly number[];
  /** The leader recovery state wanted (AlterPartition); default: unchanged. */
  targetLeaderRecoveryState?: number;
  /** A reassignment's replicas (target first, then the ones being removed); default: unchanged. */
  targetReplicas?: readonly number[];
  targetAdding?: readonly number[];
  targetRemoving?: readonly number[];
  /** Eligible leader replicas are kept (KIP-966), with the topic's min.insync.replicas (capped at its replication factor). */
  elr?: { minIsr: number };
  /** Brokers that registered again after an unclean shutdown: they leave the ISR and the ELR. */
  uncleanShutdownReplicas?: readonly number[];
}

export type PartitionChange = MetadataRecordInput<'PartitionChange'>;

/** The change record, or null when the partition stays as it is. */
export function buildPartitionChange(input: PartitionChangeInput): PartitionChange | null {
  const { current, elr } = input;
  const unclean = input.uncleanShutdownReplicas ?? [];
  let targetIsr = (input.targetIsr ?? current.isr).filter((id) => !unclean.includes(id));
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
  // Kafka's maybePopulateTargetElr, in replica order.
  let targetElr: readonly number[] = [];
  if (elr !== undefined && targetIsr.length < elr.minIsr) {
    targetElr = replicas.filter((id) => (current.isr.includes(id) || current.elr.includes(id)) && !targetIsr.includes(id) && !unclean.includes(id));
  }
  const election = input.election ?? 'online';
  const record: PartitionChange = { type: 'PartitionChange', topicId: input.topicId, partitionId: input.partitionId };
  const isCandidate = (id: number) => targetIsr.includes(id) || (targetIsr.length === 0 && targetElr.includes(id));
  const isValidLeader = (id: number) => id !== NO_LEADER && isCandidate(id) && replicas.includes(id) && input.isAcceptableLeader(id);
  const lastKnownLeader = elr !== undefined && targetIsr.length === 0 && targetElr.length === 0 && current.lastKnownElr.length === 1
    && replicas.includes(current.lastKnownElr[0]) && input.isAcceptableLeader(current.lastKnownElr[0]) ? current.lastKnownElr[0] : NO_LEADER;

  const { leader, unclean: uncleanElection } = electLeader(current, replicas, election, isValidLeader, input.isAcceptableLeader, lastKnownLeader);
  if (!sameList(replicas, current.replicas)) record.replicas = [...replicas];
  if (!sameList(adding, current.addingReplicas)) record.addingReplicas = [...adding];
  if (!sameList(removing, current.removingReplicas)) record.removingReplicas = [...removing];
  if (leader !== current.leader || uncleanElection || (leader !== NO_LEADER && current.replicas.some((id) => !replicas.includes(id)))) {
    record.leader = leader;
  }
  if (uncleanElection) {
    // The new leader was not in the ISR: it alone is in sync now, and it must recover.
    record.isr = [leader];
    targetElr = [];
    if (current.leaderRecoveryState !== LeaderRecoveryState.RECOVERING) record.leaderRecoveryState = LeaderRecoveryState.RECOVERING;
  } else if (leader !== NO_LEADER && targetElr.includes(leader)) {
    // Elected from the ELR: it holds every committed record, so it is the ISR now.
    targetIsr = [leader];
    targetElr = targetElr.filter((id) => id !== leader);
  }
  if (!sameList(targetElr, current.elr)) record.eligibleLeaderReplicas = [...targetElr];
  if (record.isr === undefined && (targetIsr.length > 0 || elr !== undefined) && !sameList(targetIsr, current.isr)) record.isr = [...targetIsr];
  const lastKnownElr = nextLastKnownElr(current, record, elr !== undefined);
  if (lastKnownElr !== undefined) record.lastKnownElr = lastKnownElr;
  if (input.targetLeaderRecoveryState !== undefined && input.targetLeaderRecoveryState !== current.leaderRecoveryState) {
    record.leaderRecoveryState = input.targetLeaderRecoveryState;
  }
  const changes =
    record.leader !== undefined || record.isr !== undefined || record.leaderRecoveryState !== undefined || record.replicas !== undefined
    || record.addingReplicas !== undefined || record.removingReplicas !== undefined || record.eligibleLeaderReplicas !== undefined
    || record.lastKnownElr !== undefined;
  return changes ? record : null;
}

/**
 * Kafka's maybeUpdateLastKnownLeader: the ISR becoming empty remembers the leader it had (or
 * its last member); a partition that has a leader again forgets it. Undefined: unchanged.
 */
function nextLastKnownElr(current: PartitionRegistration, record: PartitionChange, elrEnabled: boolean): number[] | undefined {
  if (!elrEnabled) return current.lastKnownElr.length > 0 ? [] : undefined;
  if (record.isr !== undefined && record.isr !== null && record.isr.length === 0) {
    const last = current.leader !== NO_LEADER ? current.leader : current.isr.length === 1 ? current.isr[0] : NO_LEADER;
    if (last === NO_LEADER || sameList(current.lastKnownElr, [last])) return undefined;
    return [last];
  }
  const leaderAfter = record.leader ?? current.leader;
  return leaderAfter !== NO_LEADER && current.lastKnownElr.length > 0 ? [] : undefined;
}

function electLeader(
  current: PartitionRegistration,
  replicas: readonly number[],
  election: Election,
  isValidLeader: (id: number) => boolean,
  isAcceptableLeader: (id: number) => boolean,
  lastKnownLeader: number,
): { leader: number; unclean: boolean } {
  if (election === 'preferred' && isValidLeader(replicas[0])) return { leader: replicas[0], unclean: false };
  if (isValidLeader(current.leader)) return { leader: current.leader, unclean: false };
  const fromIsr = replicas.find(isValidLeader);
  if (fromIsr !== undefined) return { leader: fromIsr, unclean: false };
  // Nobody in the ISR or the ELR: the last leader is the best guess left (Kafka's balanced recovery).
  if (lastKnownLeader !== NO_LEADER) return { leader: lastKnownLeader, unclean: true };
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
