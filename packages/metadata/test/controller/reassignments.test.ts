/**
 * Partition reassignment in the controller (KIP-455): a move adds the target's new replicas
 * beside the old ones, completes when the last new one joins the ISR (the removed ones dropped,
 * the leader moved off a removed broker, its epoch bumped), can be replaced or cancelled while in
 * progress, and is listed until it completes; errors as Kafka's.
 */
import { ErrorCode } from '@gregor/protocol';
import { describe, expect, it } from 'vitest';
import { alterPartitionRequest, createTopicsRequest, harness, startBrokers } from './harness.js';

async function setup() {
  const h = harness();
  h.elect();
  const epochs = await startBrokers(h, [1, 2, 3, 4]);
  const created = await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 't', assignments: [[1, 2]] }])));
  const topicId = created.topics[0].topicId;
  const epochOf = (id: number) => epochs.get(id) ?? -1;
  const reassign = (replicas: number[] | null, partitionIndex = 0, name = 't', version = 0, allowReplicationFactorChange = true) =>
    h.call(() => h.controller.alterPartitionReassignments(version, { timeoutMs: 1000, allowReplicationFactorChange, topics: [{ name, partitions: [{ partitionIndex, replicas }] }] }));
  const list = (topics: { name: string; partitionIndexes: number[] }[] | null = null) => h.call(() => h.controller.listPartitionReassignments(0, { timeoutMs: 1000, topics }));
  const partition = () => h.controller.committedImage.partition('t', 0);
  /** The leader's AlterPartition adding `isr` (the current leader and epochs). */
  const expandIsr = (isr: number[]) => {
    const current = partition();
    if (current === undefined) throw new Error('no partition');
    const epochsOf = Object.fromEntries(isr.map((id) => [id, epochOf(id)]));
    return h.call(() => h.controller.alterPartition(3, alterPartitionRequest(current.leader, epochOf(current.leader), topicId, {
      partitionIndex: 0, leaderEpoch: current.leaderEpoch, partitionEpoch: current.partitionEpoch, newIsr: isr, epochs: epochsOf,
    })));
  };
  return { h, reassign, list, partition, expandIsr };
}

const errorOf = (response: { errorCode: number; responses: { partitions: { errorCode: number }[] }[] }) =>
  response.errorCode !== ErrorCode.NONE ? response.errorCode : response.responses[0].partitions[0].errorCode;

describe('AlterPartitionReassignments and ListPartitionReassignments', () => {
  it('moves [1,2] to [2,3]: 3 is added outside the ISR, and once it joins the ISR 1 is dropped and leadership leaves it in a higher epoch', async () => {
    const { reassign, list, partition, expandIsr } = await setup();
    expect(partition()).toMatchObject({ replicas: [1, 2], isr: [1, 2], leader: 1, leaderEpoch: 0 });
    expect(errorOf(await reassign([2, 3]))).toBe(ErrorCode.NONE);
    expect(partition()).toMatchObject({ replicas: [2, 3, 1], isr: [1, 2], addingReplicas: [3], removingReplicas: [1], leader: 1, leaderEpoch: 0 });
    expect((await list()).topics).toEqual([{ name: 't', partitions: [{ partitionIndex: 0, replicas: [2, 3, 1], addingReplicas: [3], removingReplicas: [1] }] }]);
    expect((await list([{ name: 't', partitionIndexes: [0, 5] }, { name: 'nope', partitionIndexes: [0] }])).topics).toHaveLength(1);

    const answer = await expandIsr([1, 2, 3]);
    // The requester (1) no longer leads: NEW_LEADER_ELECTED, with the change written anyway.
    expect(answer.topics[0].partitions[0].errorCode).toBe(ErrorCode.NEW_LEADER_ELECTED);
    expect(partition()).toMatchObject({ replicas: [2, 3], isr: [2, 3], addingReplicas: [], removingReplicas: [], leader: 2, leaderEpoch: 1 });
    expect((await list()).topics).toEqual([]);
  });

  it('completes a move that only removes replicas at once, bumping the leader epoch of a leader that stays', async () => {
    const { reassign, partition } = await setup();
    expect(errorOf(await reassign([1]))).toBe(ErrorCode.NONE);
    expect(partition()).toMatchObject({ replicas: [1], isr: [1], addingReplicas: [], removingReplicas: [], leader: 1, leaderEpoch: 1 });
  });

  it('waits for every added replica, and a new target replaces the move in progress', async () => {
    const { reassign, partition, expandIsr } = await setup();
    await reassign([3, 4]);
    expect(partition()).toMatchObject({ replicas: [3, 4, 1, 2], addingReplicas: [3, 4], removingReplicas: [1, 2] });
    // Replaced by [2, 4] before anything caught up: 3 (never a full replica) goes at once, 1 is
    // being removed, and 4 is still waited for.
    await reassign([2, 4]);
    // 3 left the replicas: the leader epoch is bumped so its fetches are fenced.
    expect(partition()).toMatchObject({ replicas: [2, 4, 1], isr: [1, 2], addingReplicas: [4], removingReplicas: [1], leader: 1, leaderEpoch: 1 });
    await reassign([3, 4]);
    expect(partition()).toMatchObject({ replicas: [3, 4, 2, 1], addingReplicas: [3, 4], removingReplicas: [2, 1] });
    await expandIsr([1, 2, 3]);
    expect(partition()).toMatchObject({ replicas: [3, 4, 2, 1], isr: [1, 2, 3], addingReplicas: [3, 4], leader: 1 });
    // Replaced by [2, 3]: 4 (still being added) goes, 1 is removed, 2 stays. 3 is in the ISR
    // already, so nothing remains to add and the new move completes at once.
    await reassign([2, 3]);
    expect(partition()).toMatchObject({ replicas: [2, 3], isr: [2, 3], addingReplicas: [], removingReplicas: [], leader: 2, leaderEpoch: 2 });
  });

  it('cancels a move in progress (null replicas): back to the original replicas, the added ones out of the ISR', async () => {
    const { reassign, list, partition, expandIsr } = await setup();
    await reassign([3, 4]);
    await expandIsr([1, 2, 3]);
    expect(errorOf(await reassign(null))).toBe(ErrorCode.NONE);
    expect(partition()).toMatchObject({ replicas: [1, 2], isr: [1, 2], addingReplicas: [], removingReplicas: [], leader: 1 });
    expect((await list()).topics).toEqual([]);
  });

  it("refuses with Kafka's codes: nothing to cancel, an invalid assignment, an unknown topic or partition, a replication factor change v1 does not allow", async () => {
    const { h, reassign, partition } = await setup();
    const before = h.log.committed.length;
    expect(errorOf(await reassign(null))).toBe(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS);
    expect(errorOf(await reassign([2, 9]))).toBe(ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    expect(errorOf(await reassign([2, 2]))).toBe(ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    expect(errorOf(await reassign([]))).toBe(ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    expect(errorOf(await reassign([2, 3], 7))).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(errorOf(await reassign([2, 3], 0, 'nope'))).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(errorOf(await reassign([2, 3, 4], 0, 't', 1, false))).toBe(ErrorCode.INVALID_REPLICATION_FACTOR);
    expect(h.log.committed.length).toBe(before);
    expect(partition()).toMatchObject({ replicas: [1, 2], addingReplicas: [], removingReplicas: [] });
    // The same replicas again is no move and writes nothing.
    expect(errorOf(await reassign([1, 2]))).toBe(ErrorCode.NONE);
    expect(h.log.committed.length).toBe(before);
  });
});
