/**
 * AlterPartition: a partition leader's ISR shrink or expansion, checked as Kafka checks it
 * (broker epoch, leader epoch, partition epoch, the ISR's members), and the new registration in
 * the answer.
 */
import { ErrorCode } from '@gregor/protocol';
import { describe, expect, it } from 'vitest';
import { alterPartitionRequest, createTopicsRequest, harness, heartbeat, startBrokers } from './harness.js';

async function setup() {
  const h = harness();
  h.elect();
  const epochs = await startBrokers(h, [1, 2, 3]);
  const created = await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 't', assignments: [[1, 2, 3]] }])));
  const topicId = created.topics[0].topicId;
  const epochOf = (id: number) => epochs.get(id) ?? -1;
  return { h, epochs, topicId, epochOf };
}

describe('AlterPartition', () => {
  it('shrinks and expands the ISR of the leader, bumping the partition epoch but not the leader epoch', async () => {
    const { h, topicId, epochOf } = await setup();
    const shrink = await h.call(() => h.controller.alterPartition(3, alterPartitionRequest(1, epochOf(1), topicId, { partitionIndex: 0, leaderEpoch: 0, partitionEpoch: 0, newIsr: [1, 2] })));
    expect(shrink.errorCode).toBe(0);
    expect(shrink.topics[0].partitions[0]).toEqual({ partitionIndex: 0, errorCode: 0, leaderId: 1, leaderEpoch: 0, isr: [1, 2], leaderRecoveryState: 0, partitionEpoch: 1 });
    expect(h.controller.committedImage.partition('t', 0)).toMatchObject({ isr: [1, 2], leader: 1, leaderEpoch: 0, partitionEpoch: 1 });
    const expand = await h.call(() => h.controller.alterPartition(3, alterPartitionRequest(1, epochOf(1), topicId, {
      partitionIndex: 0, leaderEpoch: 0, partitionEpoch: 1, newIsr: [1, 2, 3], epochs: { 3: epochOf(3) },
    })));
    expect(expand.topics[0].partitions[0]).toMatchObject({ errorCode: 0, isr: [1, 2, 3], partitionEpoch: 2 });
  });

  it('answers with the current state and writes nothing when the ISR is unchanged', async () => {
    const { h, topicId, epochOf } = await setup();
    const before = h.log.committed.length;
    const same = await h.call(() => h.controller.alterPartition(3, alterPartitionRequest(1, epochOf(1), topicId, { partitionIndex: 0, leaderEpoch: 0, partitionEpoch: 0, newIsr: [1, 2, 3] })));
    expect(same.topics[0].partitions[0]).toMatchObject({ errorCode: 0, isr: [1, 2, 3], partitionEpoch: 0 });
    expect(h.log.committed.length).toBe(before);
  });

  it('refuses stale or foreign requests with Kafka\'s codes', async () => {
    const { h, topicId, epochOf } = await setup();
    const partitionError = async (version: number, brokerId: number, brokerEpoch: number, change: Parameters<typeof alterPartitionRequest>[3], id = topicId) => {
      const response = await h.call(() => h.controller.alterPartition(version, alterPartitionRequest(brokerId, brokerEpoch, id, change)));
      return response.errorCode !== 0 ? response.errorCode : response.topics[0].partitions[0].errorCode;
    };
    const base = { partitionIndex: 0, leaderEpoch: 0, partitionEpoch: 0, newIsr: [1, 2] };
    expect(await partitionError(3, 1, epochOf(1) - 1, base)).toBe(ErrorCode.STALE_BROKER_EPOCH);
    expect(await partitionError(3, 2, epochOf(2), base)).toBe(ErrorCode.INVALID_REQUEST);
    expect(await partitionError(3, 1, epochOf(1), { ...base, leaderEpoch: 1 })).toBe(ErrorCode.NOT_CONTROLLER);
    expect(await partitionError(3, 1, epochOf(1), { ...base, partitionEpoch: 5 })).toBe(ErrorCode.NOT_CONTROLLER);
    expect(await partitionError(3, 1, epochOf(1), { ...base, newIsr: [2, 3] })).toBe(ErrorCode.INVALID_REQUEST);
    expect(await partitionError(3, 1, epochOf(1), { ...base, newIsr: [1, 7] })).toBe(ErrorCode.INVALID_REQUEST);
    expect(await partitionError(3, 1, epochOf(1), { ...base, newIsr: [1, 2], leaderRecoveryState: 1 })).toBe(ErrorCode.INVALID_REQUEST);
    expect(await partitionError(3, 1, epochOf(1), { ...base, partitionIndex: 9 })).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(await partitionError(3, 1, epochOf(1), base, '00000000-0000-4000-8000-000000000777')).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
    // A broker with a wrong epoch in the new ISR is not eligible (v3 carries the epochs).
    expect(await partitionError(3, 1, epochOf(1), { ...base, newIsr: [1, 2], epochs: { 2: epochOf(2) + 1 } })).toBe(ErrorCode.INELIGIBLE_REPLICA);
    // Apply one change; a request naming the old partition epoch is then INVALID_UPDATE_VERSION.
    expect(await partitionError(3, 1, epochOf(1), base)).toBe(ErrorCode.NONE);
    expect(await partitionError(3, 1, epochOf(1), { ...base, newIsr: [1] })).toBe(ErrorCode.INVALID_UPDATE_VERSION);
    // After a leader change, the old leader's epoch is fenced.
    await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(1, epochOf(1), 100, { wantFence: true })));
    expect(await partitionError(3, 1, epochOf(1), { ...base, partitionEpoch: 1 })).toBe(ErrorCode.FENCED_LEADER_EPOCH);
  });

  it('refuses a fenced broker in the new ISR: INELIGIBLE_REPLICA from v2, OPERATION_NOT_ATTEMPTED before', async () => {
    const { h, topicId, epochOf } = await setup();
    await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(3, epochOf(3), 100, { wantFence: true })));
    const partition = h.controller.committedImage.partition('t', 0);
    expect(partition?.isr).toEqual([1, 2]);
    const change = { partitionIndex: 0, leaderEpoch: partition?.leaderEpoch ?? 0, partitionEpoch: partition?.partitionEpoch ?? 0, newIsr: [1, 2, 3] };
    const v2 = await h.call(() => h.controller.alterPartition(2, alterPartitionRequest(1, epochOf(1), topicId, change)));
    expect(v2.topics[0].partitions[0].errorCode).toBe(ErrorCode.INELIGIBLE_REPLICA);
    const request = alterPartitionRequest(1, epochOf(1), topicId, change);
    request.topics[0].topicName = 't';
    const v1 = await h.call(() => h.controller.alterPartition(1, request));
    expect(v1.topics[0].partitions[0].errorCode).toBe(ErrorCode.OPERATION_NOT_ATTEMPTED);
  });

  it('lets a leader elected uncleanly report that it recovered', async () => {
    const h = harness({ uncleanLeaderElectionEnable: true });
    h.elect();
    const epochs = await startBrokers(h, [1, 2]);
    const created = await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 'u', assignments: [[1, 2]] }])));
    const topicId = created.topics[0].topicId;
    // Broker 2 falls out of the ISR, then broker 1 is fenced: 2 is elected uncleanly.
    await h.call(() => h.controller.alterPartition(3, alterPartitionRequest(1, epochs.get(1) ?? -1, topicId, { partitionIndex: 0, leaderEpoch: 0, partitionEpoch: 0, newIsr: [1] })));
    await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(1, epochs.get(1) ?? -1, 100, { wantFence: true })));
    const unclean = h.controller.committedImage.partition('u', 0);
    expect(unclean).toMatchObject({ leader: 2, isr: [2], leaderRecoveryState: 1, leaderEpoch: 1 });
    const recovered = await h.call(() => h.controller.alterPartition(3, alterPartitionRequest(2, epochs.get(2) ?? -1, topicId, {
      partitionIndex: 0, leaderEpoch: 1, partitionEpoch: unclean?.partitionEpoch ?? 0, newIsr: [2], leaderRecoveryState: 0,
    })));
    expect(recovered.topics[0].partitions[0]).toMatchObject({ errorCode: 0, leaderRecoveryState: 0 });
    expect(h.controller.committedImage.partition('u', 0)?.leaderRecoveryState).toBe(0);
  });
});
