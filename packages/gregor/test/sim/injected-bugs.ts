/**
 * Bugs the cluster simulation's tests inject (through `ClusterSimOptions.inject`) to see its
 * checker catch them: each breaks one property of the consumer group the way a real defect of the
 * group coordinator or of a client's assignor would.
 */
import type { Broker } from '@gregor/broker';
import type { Assignor } from '../../src/sim/index.js';

/** A coordinator that takes any OffsetCommit of a group with members as its current generation's. */
export function acceptStaleGenerations(broker: Broker): void {
  const coordinator = broker.coordinator;
  const commitOffsets = coordinator.commitOffsets.bind(coordinator);
  coordinator.commitOffsets = (groupId, memberId, groupInstanceId, generationId, commits) => {
    const group = coordinator.group(groupId);
    const current = group === undefined ? undefined : [...group.members.keys()][0];
    if (group === undefined || current === undefined || generationId < 0) return commitOffsets(groupId, memberId, groupInstanceId, generationId, commits);
    return commitOffsets(groupId, current, groupInstanceId, group.generationId, commits);
  };
}

/** A coordinator whose OffsetFetch answers `shift` more (or, negative, less) than was committed. */
export function shiftFetchedOffsets(shift: number): (broker: Broker) => void {
  return (broker) => {
    const coordinator = broker.coordinator;
    const fetchOffsets = coordinator.fetchOffsets.bind(coordinator);
    coordinator.fetchOffsets = (groupId, topics) => {
      const answer = fetchOffsets(groupId, topics);
      for (const partitions of answer.values()) {
        for (const [partition, committed] of partitions) if (committed !== null && committed.offset + shift >= 0) partitions.set(partition, { ...committed, offset: committed.offset + shift });
      }
      return answer;
    };
  };
}

/** A leader's assignor that gives every partition to every member. */
export const everythingToEveryone: Assignor = (memberIds, partitions) =>
  new Map(memberIds.map((memberId) => [memberId, Array.from({ length: partitions }, (_, partition) => partition)]));
